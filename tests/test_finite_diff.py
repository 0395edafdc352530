"""``tinygrad_mvc.finite_diff`` (API.md section 4) against analytic derivatives.

The error bounds below come from Taylor's theorem plus round-off. With step ``h``, machine epsilon
``eps``, ``M_k`` a bound on the k-th derivative and ``M0`` on ``|f|``:

- forward / backward:  |error| <= h M2 / 2 + 2 eps M0 / h           (optimal h ~ eps^(1/2))
- central:             |error| <= h^2 M3 / 6 + eps M0 / h            (optimal h ~ eps^(1/3))
- complex step:        |error| <= h^2 M3 / 6 + eps |f'|              (no cancellation: h can be tiny)

The test function is ``f(x) = sum_i sin(x_i) exp(x_i / 2)`` on ``|x_i| <= 1``; per term
``|g| <= e^0.5``, ``g'' = e^{x/2}(cos x - 3/4 sin x)`` so ``|g''| <= 1.25 e^0.5``, and
``g''' = -e^{x/2}(cos x / 4 + 11/8 sin x)`` so ``|g'''| <= 1.4 e^0.5``.
"""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_mvc import finite_diff as fd

METHODS = ["forward", "backward", "central", "complex"]
X = np.array([-0.9, -0.2, 0.35, 0.8])
E = np.exp(0.5)
M0, M2, M3 = len(X) * E, 1.25 * E, 1.4 * E


def f(x):
    return np.sum(np.sin(x) * np.exp(x / 2))


def df(x):
    return np.exp(x / 2) * (np.cos(x) + np.sin(x) / 2)


def d2f(x):
    return np.exp(x / 2) * (np.cos(x) - 0.75 * np.sin(x))


def d3f(x):
    return -np.exp(x / 2) * (np.cos(x) / 4 + 11 / 8 * np.sin(x))


def bound(method: str, eps: float, h: float) -> float:
    if method in ("forward", "backward"):
        return h * M2 / 2 + 2 * eps * M0 / h
    if method == "central":
        return h ** 2 * M3 / 6 + eps * M0 / h
    return h ** 2 * M3 / 6 + 4 * eps * float(np.max(np.abs(df(X))))


# =============================================================================== gradients

class TestNumericalGrad:
    @pytest.mark.parametrize("method", METHODS)
    def test_within_the_taylor_bound_at_the_default_step(self, method):
        eps = np.finfo(np.float64).eps
        g = fd.numerical_grad(f, X, method=method)
        assert g.shape == X.shape
        err = np.max(np.abs(g - df(X)))
        # the default step is scaled by max(1, |x|) = 1 here
        assert err <= bound(method, eps, fd.default_step(method, np.float64)), err

    def test_central_beats_one_sided_and_complex_is_near_machine_precision(self):
        for fun, dfun, x in [(f, df, X),
                             (lambda v: np.sum(np.exp(v) * v ** 2), lambda v: np.exp(v) * (v ** 2 + 2 * v),
                              np.array([0.3, 1.2, -0.7])),
                             (lambda v: np.sum(np.log(1 + v ** 2)), lambda v: 2 * v / (1 + v ** 2),
                              np.array([0.5, -2.0, 3.0]))]:
            errs = {m: np.max(np.abs(fd.numerical_grad(fun, x, method=m) - dfun(x))) for m in METHODS}
            assert errs["central"] < errs["forward"] and errs["central"] < errs["backward"], errs
            assert errs["complex"] <= 8 * np.finfo(float).eps * np.max(np.abs(dfun(x))), errs

    @pytest.mark.parametrize("method, order", [("forward", 1), ("backward", 1), ("central", 2)])
    def test_truncation_order_and_sign(self, method, order):
        # at h = 1e-2 truncation dominates round-off by ~10 orders of magnitude:
        # forward - f' ~ +h f''/2, backward - f' ~ -h f''/2, central - f' ~ h^2 f'''/6
        x = np.array([0.5])
        errs = []
        for h in (1e-2, 5e-3):
            err = fd.numerical_grad(f, x, h=h, method=method)[0] - df(x)[0]
            lead = {"forward": h * d2f(x)[0] / 2, "backward": -h * d2f(x)[0] / 2,
                    "central": h ** 2 * d3f(x)[0] / 6}[method]
            np.testing.assert_allclose(err, lead, rtol=0.05)
            errs.append(err)
        np.testing.assert_allclose(errs[0] / errs[1], 2.0 ** order, rtol=0.05)

    def test_complex_step_has_no_cancellation(self):
        # Im f(x + ih)/h = f'(x) - h^2 f'''(x)/6 + ...: exact to round-off even for h = 1e-100
        for h in (1e-8, 1e-30, 1e-100):
            g = fd.numerical_grad(f, X, h=h, method="complex")
            np.testing.assert_allclose(g, df(X), rtol=4 * np.finfo(float).eps, atol=0)

    def test_integer_input_is_differenced_as_float(self):
        g = fd.numerical_grad(lambda v: np.sum(v ** 2), np.array([1, 2, -3]))
        np.testing.assert_allclose(g, [2.0, 4.0, -6.0], rtol=1e-9)

    def test_matrix_input(self):
        x = np.array([[0.1, 0.2], [-0.3, 0.4]])
        g = fd.numerical_grad(lambda v: np.sum(v ** 3), x)
        assert g.shape == (2, 2)
        np.testing.assert_allclose(g, 3 * x ** 2, rtol=1e-8, atol=1e-10)

    def test_non_scalar_f_is_a_value_error(self):
        with pytest.raises(ValueError):
            fd.numerical_grad(lambda v: v ** 2, X)


class TestDefaultStep:
    @pytest.mark.parametrize("method, power", [("forward", 1 / 2), ("backward", 1 / 2), ("central", 1 / 3)])
    def test_near_the_optimal_step(self, method, power):
        # minimising the bounds above gives h ~ eps^(1/2) one-sided and ~ eps^(1/3) central
        for dtype in (np.float32, np.float64):
            h = fd.default_step(method, np.dtype(dtype))
            opt = np.finfo(dtype).eps ** power
            assert opt / 10 <= h <= opt * 10, (dtype, h)

    def test_depends_on_method_and_dtype(self):
        for method in ("forward", "central", "complex"):
            assert fd.default_step(method, np.dtype(np.float32)) > fd.default_step(method, np.dtype(np.float64))
        assert fd.default_step("central", np.dtype(np.float64)) > fd.default_step("forward", np.dtype(np.float64))
        assert fd.default_step("complex", np.dtype(np.float64)) < fd.default_step("forward", np.dtype(np.float64))

    @pytest.mark.parametrize("method", ["forward", "central"])
    def test_float32_input_gets_a_float32_step(self, method):
        # f evaluated in float32: the float64 step is below float32 resolution and gives nonsense, the
        # default for float32 input stays within the bound with eps = eps32
        x32 = X.astype(np.float32)
        exact = df(x32.astype(np.float64))
        eps32 = float(np.finfo(np.float32).eps)
        g = fd.numerical_grad(f, x32, method=method)
        err = np.max(np.abs(g - exact))
        assert err <= bound(method, eps32, fd.default_step(method, np.dtype(np.float32))), err
        with np.errstate(all="ignore"):
            bad = fd.numerical_grad(f, x32, method=method, h=fd.default_step(method, np.dtype(np.float64)))
        assert not np.all(np.abs(bad - exact) <= 10 * err)

    def test_bad_method(self):
        with pytest.raises(ValueError):
            fd.default_step("sideways")


# =============================================================================== Jacobians

def vec_f(v):
    # R^3 -> R^2
    return np.array([v[0] * v[1] ** 2, np.sin(v[2]) * v[0]])


def vec_jac(v):
    a, b, c = v
    return np.array([[b ** 2, 2 * a * b, 0.0], [np.sin(c), 0.0, a * np.cos(c)]])


class TestNumericalJacobian:
    @pytest.mark.parametrize("method", METHODS)
    def test_values_and_shape_for_n_not_m(self, method):
        v = np.array([0.4, -0.7, 0.9])
        J = fd.numerical_jacobian(vec_f, v, method=method)
        assert J.shape == (2, 3)
        tol = {"forward": 1e-6, "backward": 1e-6, "central": 1e-9, "complex": 1e-15}[method]
        np.testing.assert_allclose(J, vec_jac(v), atol=tol, rtol=0)

    @pytest.mark.parametrize("method", METHODS)
    def test_shape_is_out_shape_plus_in_shape(self, method):
        # f: (2, 3) -> (3,), column sums of squares: d out_j / d x_ik = 2 x_ij [k == j]
        x = np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]])
        J = fd.numerical_jacobian(lambda v: np.sum(v ** 2, axis=0), x, method=method)
        assert J.shape == (3, 2, 3)
        exact = np.zeros((3, 2, 3))
        for j in range(3):
            exact[j, :, j] = 2 * x[:, j]
        np.testing.assert_allclose(J, exact, atol=1e-6)

    def test_scalar_output_matches_grad(self):
        J = fd.numerical_jacobian(f, X)
        assert J.shape == X.shape
        np.testing.assert_allclose(J, fd.numerical_grad(f, X), rtol=0, atol=0)

    def test_directional_is_jacobian_times_vector(self):
        v = np.array([0.4, -0.7, 0.9])
        d = np.array([1.0, -2.0, 0.5])
        np.testing.assert_allclose(fd.directional(vec_f, v, d), vec_jac(v) @ d, atol=1e-9)


# =============================================================================== Hessians

def hess_f(v):
    # f = a^2 b + sin(c) e^a
    return v[0] ** 2 * v[1] + np.sin(v[2]) * np.exp(v[0])


def hess_exact(v):
    a, b, c = v
    ea = np.exp(a)
    return np.array([[2 * b + np.sin(c) * ea, 2 * a, np.cos(c) * ea],
                     [2 * a, 0.0, 0.0],
                     [np.cos(c) * ea, 0.0, -np.sin(c) * ea]])


class TestNumericalHessian:
    # |f| <= 1 + e^0.5 near v; bounds: central h^2 M4 + eps M0 / h^2 (h ~ eps^(1/4)) ~ 1e-7,
    # one-sided h M3 + 4 eps M0 / h^2 (h ~ eps^(1/3)) ~ 2e-4, complex-and-central h^2 M4 + eps M0 / h ~ 1e-9
    TOL = {"forward": 3e-4, "backward": 3e-4, "central": 1e-6, "complex": 1e-9}

    @pytest.mark.parametrize("method", METHODS)
    def test_values(self, method):
        v = np.array([0.4, -0.9, 0.7])
        H = fd.numerical_hessian(hess_f, v, method=method)
        assert H.shape == (3, 3)
        np.testing.assert_allclose(H, hess_exact(v), atol=self.TOL[method], rtol=0)
        np.testing.assert_allclose(H, H.T, atol=self.TOL[method])

    def test_central_beats_one_sided(self):
        v = np.array([0.4, -0.9, 0.7])
        errs = {m: np.max(np.abs(fd.numerical_hessian(hess_f, v, method=m) - hess_exact(v))) for m in METHODS}
        assert errs["central"] < errs["forward"] and errs["central"] < errs["backward"], errs
        assert errs["complex"] < errs["central"], errs

    def test_shape_is_in_shape_twice(self):
        # f = sum x^3: H = diag(6 x) in the (2, 3, 2, 3) layout
        x = np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]])
        H = fd.numerical_hessian(lambda v: np.sum(v ** 3), x)
        assert H.shape == (2, 3, 2, 3)
        exact = np.diag(6 * x.reshape(-1)).reshape(2, 3, 2, 3)
        np.testing.assert_allclose(H, exact, atol=1e-6)


@pytest.mark.parametrize("fn", [fd.numerical_grad, fd.numerical_jacobian, fd.numerical_hessian],
                         ids=["grad", "jacobian", "hessian"])
def test_bad_method_is_a_value_error(fn):
    with pytest.raises(ValueError) as info:
        fn(f, X, method="sideways")
    assert "sideways" in str(info.value)


# =============================================================================== the step rule (issue 13)

def test_the_step_rule_is_documented_where_users_look():
    for text in (fd.numerical_grad.__doc__, fd.__doc__):
        assert "h·max(1, |x_i|)" in text and "1e8" in text


@pytest.mark.parametrize("method", ["forward", "backward", "central"])
def test_the_steps_are_the_ones_the_differences_use(method):
    # for f = (v - x)² a forward difference at x is s, a backward one -s, a central one 0: the step can be read back
    x = np.array([0.25, -3.0, 1e8])
    s = fd.steps(x, method=method)
    np.testing.assert_allclose(s, fd.default_step(method) * np.maximum(1.0, np.abs(x)), rtol=1e-9)
    sign = {"forward": 1.0, "backward": -1.0, "central": 0.0}[method]
    for xi, si in zip(x, s, strict=True):
        g = fd.numerical_grad(lambda v, xi=xi: np.sum((v - xi) ** 2), np.array([xi]), method=method)[0]
        assert g == pytest.approx(sign * si, rel=1e-9, abs=1e-9 * si)
    assert np.array_equal((x + s) - x, s)  # exactly representable
    np.testing.assert_allclose(fd.steps(x, h=1e-3), 1e-3 * np.maximum(1.0, np.abs(x)), rtol=1e-9)
    np.testing.assert_allclose(fd.steps(x, method=method, order=2),
                               fd.default_step(method, order=2) * np.maximum(1.0, np.abs(x)), rtol=1e-9)
    np.testing.assert_array_equal(fd.steps(x, method="complex"), np.full(3, 1e-20))
