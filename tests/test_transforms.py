"""Function transforms: grad, value_and_grad, vjp, jvp, linearize, jacobian, hessian, hvp, taylor, plot_taylor.

Oracles: derivatives written out by hand in NumPy next to each test, and finite differences
(:mod:`tinygrad_mvc.finite_diff`). Structural properties (forward mode never forms a Jacobian, a
batched Jacobian is one pass, ``.grad`` is left alone, no perturbation confusion) are checked by
monkeypatching the engine's entry points with recording or failing wrappers.
"""

from __future__ import annotations

import math
import tracemalloc

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import tinygrad_mvc as tg  # noqa: E402
import tinygrad_mvc.transforms as tr  # noqa: E402
from tinygrad_mvc import Tensor, engine  # noqa: E402
from tinygrad_mvc.finite_diff import numerical_hessian, numerical_jacobian  # noqa: E402

MODES = ("rev", "fwd", "auto")


def on_arrays(f):
    """``f`` (written with Tensor ops) as a NumPy-in, NumPy-out function for the finite differences."""
    return lambda z: np.asarray(f(Tensor(z)), dtype=float)


def close(a, b, rtol=1e-10, atol=1e-12):
    np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=rtol, atol=atol)


# =============================================================================== Jacobians

def tall(x):  # (3,) -> (5,)
    return tg.concatenate([tg.sin(x), x[:1] * x[1:2], x[2:] ** 2])


def tall_jac(x):
    J = np.zeros((5, 3))
    J[[0, 1, 2], [0, 1, 2]] = np.cos(x)
    J[3] = [x[1], x[0], 0.0]
    J[4] = [0.0, 0.0, 2 * x[2]]
    return J


def wide(x):  # (6,) -> (2,)
    return tg.stack([(x ** 2).sum(), x[0] * x[1] * x[2] + tg.exp(x[5])])


def wide_jac(x):
    J = np.zeros((2, 6))
    J[0] = 2 * x
    J[1, :3] = [x[1] * x[2], x[0] * x[2], x[0] * x[1]]
    J[1, 5] = np.exp(x[5])
    return J


C3 = np.array([1.0, -2.0, 0.5])


def matrix_in(X):  # (2, 3) -> (4,)
    return tg.concatenate([tg.matmul(X, C3), (X ** 2).sum(axis=0)[:2]])


def matrix_in_jac(X):
    J = np.zeros((4, 2, 3))
    for i in range(2):
        J[i, i, :] = C3
    for k in range(2):
        J[2 + k, :, k] = 2 * X[:, k]
    return J


JAC_CASES = {
    "tall (3,)->(5,)": (tall, np.array([0.3, -1.2, 0.8]), tall_jac),
    "wide (6,)->(2,)": (wide, np.array([0.5, -0.4, 1.3, 0.2, -0.7, 0.6]), wide_jac),
    "matrix (2,3)->(4,)": (matrix_in, np.array([[0.4, -1.0, 2.0], [1.5, 0.3, -0.6]]), matrix_in_jac),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", list(JAC_CASES))
def test_jacobian_against_analytic_and_finite_differences(case, mode):
    f, x, analytic = JAC_CASES[case]
    J = tg.jacobian(f, mode=mode)(x)
    out_shape = np.asarray(f(Tensor(x))).shape
    assert isinstance(J, np.ndarray)
    assert J.shape == out_shape + x.shape
    close(J, analytic(x))
    close(J, numerical_jacobian(on_arrays(f), x), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("case", list(JAC_CASES))
def test_jacobian_modes_agree(case):
    f, x, _ = JAC_CASES[case]
    rev, fwd, auto = (tg.jacobian(f, mode=m)(x) for m in ("rev", "fwd", "auto"))
    close(rev, fwd, rtol=1e-13, atol=1e-14)
    close(auto, rev, rtol=1e-13, atol=1e-14)


def test_jacobian_invalid_mode():
    with pytest.raises(ValueError, match="mode"):
        tg.jacobian(tall, mode="forward")(np.ones(3))
    with pytest.raises(ValueError, match="mode"):
        tg.jacobian(tall, mode="")(np.ones(3))


@pytest.mark.parametrize("case, expected", [("tall (3,)->(5,)", "fwd"), ("wide (6,)->(2,)", "rev")])
def test_jacobian_auto_picks_forward_for_tall_and_reverse_for_wide(monkeypatch, case, expected):
    calls = []
    real_fwd, real_rev = tr._jacobian_fwd, tr._jacobian_rev
    monkeypatch.setattr(tr, "_jacobian_fwd", lambda *a, **k: calls.append("fwd") or real_fwd(*a, **k))
    monkeypatch.setattr(tr, "_jacobian_rev", lambda *a, **k: calls.append("rev") or real_rev(*a, **k))
    f, x, analytic = JAC_CASES[case]
    J = tg.jacobian(f)(x)
    assert calls == [expected]
    close(J, analytic(x))


def test_jacobian_of_scalar_to_scalar_and_of_identity():
    assert tg.jacobian(tg.sin)(0.4) == pytest.approx(np.cos(0.4), rel=1e-14)
    x = np.arange(6.0).reshape(2, 3)
    for mode in MODES:
        J = tg.jacobian(lambda z: z * 1.0, mode=mode)(x)
        close(J, np.eye(6).reshape(2, 3, 2, 3), atol=0)


# =============================================================================== Hessians

def rosen(x):
    return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


def rosen_hess(x):
    n = len(x)
    H = np.zeros((n, n))
    for i in range(n - 1):
        H[i, i] += 1200 * x[i] ** 2 - 400 * x[i + 1] + 2
        H[i + 1, i + 1] += 200
        H[i, i + 1] = H[i + 1, i] = -400 * x[i]
    return H


def softmax_np(x):
    e = np.exp(x - x.max())
    return e / e.sum()


def lse_hess(x):
    s = softmax_np(x)
    return np.diag(s) - np.outer(s, s)


A4 = np.array([[1.0, 2.0, -0.5, 0.0], [0.3, -1.0, 4.0, 1.0], [2.5, 0.0, 0.7, -2.0], [-1.0, 1.5, 0.2, 3.0]])


def quad(x):
    return (x * tg.matmul(A4, x)).sum()


def sines(x):
    return tg.prod(tg.sin(x))


def sines_hess(x):
    p = np.prod(np.sin(x))
    cot = np.cos(x) / np.sin(x)
    H = p * np.outer(cot, cot)
    np.fill_diagonal(H, -p)
    return H


MLP_X = np.array([[0.5, -1.0], [1.2, 0.3], [-0.7, 0.8], [0.0, 1.5], [2.0, -0.4]])
MLP_Y = np.array([0.3, -0.5, 1.0, 0.2, -1.1])


def mlp_loss(p):
    """A 2-3-1 tanh MLP unpacked from a flat vector of 13 parameters; mean squared error on 5 points."""
    W1, b1 = p[0:6].reshape(3, 2), p[6:9]
    W2, b2 = p[9:12].reshape(1, 3), p[12]
    hidden = tg.tanh(tg.matmul(MLP_X, W1.T) + b1)
    pred = tg.matmul(hidden, W2.T).reshape(5) + b2
    return ((pred - MLP_Y) ** 2).mean()


MLP_P = np.array([0.4, -0.3, 0.8, 0.1, -0.6, 0.5, 0.05, -0.2, 0.3, 0.7, -1.1, 0.9, 0.15])

HESS_CASES = {
    "rosenbrock": (rosen, np.array([-1.2, 1.0, 0.5, -0.3, 0.8, 1.1]), rosen_hess),
    "logsumexp": (tg.logsumexp, np.array([0.3, -1.0, 2.0, 0.5, 0.1]), lse_hess),
    "log-sum-exp composite": (lambda x: tg.log(tg.exp(x).sum()), np.array([0.3, -1.0, 2.0, 0.5]), lse_hess),
    "x^T A x": (quad, np.array([0.5, -1.5, 2.0, 0.7]), lambda x: A4 + A4.T),
    "prod sin": (sines, np.array([0.3, 1.1, 2.0, 0.7]), sines_hess),
    "mlp loss": (mlp_loss, MLP_P, None),
}


def test_quadratic_form_matrix_is_not_symmetric():
    assert not np.allclose(A4, A4.T)  # else A + Aᵀ = 2A and a wrong rule could pass


@pytest.mark.parametrize("case", list(HESS_CASES))
def test_hessian(case):
    f, x, analytic = HESS_CASES[case]
    H = tg.hessian(f)(x)
    assert isinstance(H, np.ndarray) and H.shape == x.shape + x.shape
    scale = np.abs(H).max()
    close(H, H.T, rtol=0, atol=1e-12 * scale)
    if analytic is not None:
        close(H, analytic(x), rtol=1e-10, atol=1e-12 * scale)
    # Independent of the analytic formula: second differences of f, and first differences of its gradient.
    close(H, numerical_hessian(on_arrays(f), x), rtol=1e-5, atol=1e-5 * scale)
    close(H, numerical_jacobian(tg.grad(f), x), rtol=1e-6, atol=1e-7 * scale)


def test_hessian_of_mlp_matches_jacobian_of_gradient():
    H = tg.hessian(mlp_loss)(MLP_P)
    close(tg.jacobian(tg.grad(mlp_loss))(MLP_P), H, rtol=1e-12, atol=1e-14)
    close(tg.jacobian(tg.grad(mlp_loss), mode="rev")(MLP_P), H, rtol=1e-10, atol=1e-13)
    assert np.abs(H - np.diag(np.diag(H))).max() > 1e-3  # the MLP couples its parameters


@pytest.mark.parametrize("case", list(HESS_CASES))
def test_hvp(case):
    f, x, analytic = HESS_CASES[case]
    v = np.linspace(-1.0, 1.3, x.size).reshape(x.shape) + 0.1
    hv = tg.hvp(f, x, v)
    assert isinstance(hv, np.ndarray) and hv.shape == x.shape
    H = tg.hessian(f)(x)
    close(hv, H @ v, rtol=1e-10, atol=1e-12 * np.abs(H).max())
    oracle = analytic(x) if analytic is not None else numerical_jacobian(tg.grad(f), x)
    close(hv, oracle @ v, rtol=1e-6, atol=1e-7 * np.abs(H).max())


def test_hvp_wrong_v_shape():
    x = np.ones(4)
    with pytest.raises(ValueError, match="shape"):
        tg.hvp(quad, x, np.ones(3))
    with pytest.raises(ValueError, match="shape"):
        tg.hvp(quad, x, np.ones((4, 1)))


# =============================================================================== third derivatives

@pytest.mark.parametrize("x", [-1.3, 0.4, 2.0])
def test_third_derivative_by_triple_nesting(x):
    f = lambda z: tg.sin(z) * tg.exp(z)
    d1 = np.exp(x) * (np.sin(x) + np.cos(x))
    d2 = 2 * np.exp(x) * np.cos(x)
    d3 = 2 * np.exp(x) * (np.cos(x) - np.sin(x))
    assert tg.grad(f)(x) == pytest.approx(d1, rel=1e-13)
    assert tg.grad(tg.grad(f))(x) == pytest.approx(d2, rel=1e-13)
    g3 = tg.grad(tg.grad(tg.grad(f)))(x)
    assert isinstance(g3, np.floating)
    assert g3 == pytest.approx(d3, rel=1e-12)


def cubic_times_first(x):
    return (x ** 3 * x[0]).sum()


def cubic_times_first_third(x):
    """∂³/∂x_i∂x_j∂x_k of x₀ Σ x_m³."""
    n = len(x)
    e0 = np.eye(n)[0]
    d = np.eye(n)
    diag3 = np.einsum("ij,ik->ijk", d, d)  # δ_ij δ_ik
    T = 6 * (np.einsum("i,jk->ijk", e0, d * x) + np.einsum("j,ik->ijk", e0, d * x)
             + np.einsum("k,ij->ijk", e0, d * x)) + 6 * x[0] * diag3
    return T


@pytest.mark.parametrize("mode", MODES)
def test_third_derivative_tensor_by_jacobian_of_hessian(mode):
    x = np.array([0.7, -1.2, 0.4, 2.0])
    T = tg.jacobian(tg.hessian(cubic_times_first), mode=mode)(x)
    assert T.shape == (4, 4, 4)
    close(T, cubic_times_first_third(x), rtol=1e-12, atol=1e-12)
    close(T, numerical_jacobian(tg.hessian(cubic_times_first), x), rtol=1e-6, atol=1e-7)
    close(T, np.transpose(T, (1, 0, 2)), atol=1e-12)
    close(T, np.transpose(T, (2, 1, 0)), atol=1e-12)


# =============================================================================== Taylor

def test_taylor_exp_coefficients():
    for x0 in (0.0, 0.5):
        p = tg.taylor(tg.exp, x0, 6)
        expected = np.exp(x0) / np.array([math.factorial(k) for k in range(7)])
        assert p.coefficients.shape == (7,)
        close(p.coefficients, expected, rtol=1e-12)


def test_taylor_sin_coefficients():
    for x0 in (0.0, 0.3):
        p = tg.taylor(tg.sin, x0, 6)
        expected = [np.sin(x0 + k * np.pi / 2) / math.factorial(k) for k in range(7)]
        close(p.coefficients, expected, rtol=1e-12, atol=1e-15)
    close(tg.taylor(tg.sin, 0.0, 6).coefficients, [0, 1, 0, -1 / 6, 0, 1 / 120, 0], atol=1e-15)


def test_taylor_log1p_coefficients():
    p = tg.taylor(lambda x: tg.log(1 + x), 0.0, 6)
    expected = [0.0] + [(-1) ** (k + 1) / k for k in range(1, 7)]
    close(p.coefficients, expected, rtol=1e-12, atol=1e-15)


def test_taylor_call_is_the_polynomial():
    x0 = 0.5
    p = tg.taylor(tg.exp, x0, 4)
    xs = np.array([0.1, 0.5, 0.9, 1.7])
    by_hand = sum(np.exp(x0) / math.factorial(k) * (xs - x0) ** k for k in range(5))
    close(p(xs), by_hand, rtol=1e-13)
    assert float(p(0.7)) == pytest.approx(sum(np.exp(x0) / math.factorial(k) * 0.2 ** k for k in range(5)))
    close(p(Tensor(xs)), by_hand, rtol=1e-13)
    assert p(x0) == pytest.approx(np.exp(x0), rel=1e-15)
    assert abs(p(0.6) - np.exp(0.6)) < 1e-6 and abs(p(1.7) - np.exp(1.7)) > 1e-3


def test_taylor_of_a_polynomial_is_exact():
    x0 = 1.5
    p = tg.taylor(lambda x: x ** 3 - 2 * x, x0, 6)
    close(p.coefficients, [x0 ** 3 - 2 * x0, 3 * x0 ** 2 - 2, 3 * x0, 1, 0, 0, 0], atol=1e-13)
    xs = np.linspace(-3, 3, 7)
    close(p(xs), xs ** 3 - 2 * xs, rtol=1e-12, atol=1e-12)
    close(tg.taylor(tg.cos, 0.2, 0).coefficients, [np.cos(0.2)], rtol=1e-15)


def f2(x):
    return tg.sin(x[0]) * tg.exp(x[1]) + x[0] * x[1] ** 2


def f2_grad(x):
    a, b = x
    return np.array([np.cos(a) * np.exp(b) + b ** 2, np.sin(a) * np.exp(b) + 2 * a * b])


def f2_hess(x):
    a, b = x
    off = np.cos(a) * np.exp(b) + 2 * b
    return np.array([[-np.sin(a) * np.exp(b), off], [off, np.sin(a) * np.exp(b) + 2 * a]])


X2 = np.array([0.4, -0.3])


def test_taylor_vector_coefficients():
    p = tg.taylor(f2, X2, 2)
    value, g, half_h = p.coefficients
    assert float(value) == pytest.approx(np.sin(0.4) * np.exp(-0.3) + 0.4 * 0.09, rel=1e-14)
    close(g, f2_grad(X2), rtol=1e-13)
    close(half_h, 0.5 * f2_hess(X2), rtol=1e-13)
    assert len(tg.taylor(f2, X2, 1).coefficients) == 2
    close(tg.taylor(f2, X2, 1).coefficients[1], f2_grad(X2), rtol=1e-13)


def test_taylor_vector_model_by_hand_and_error_order():
    p2, p1 = tg.taylor(f2, X2, 2), tg.taylor(f2, X2, 1)
    d = np.array([0.6, -0.8])
    f_np = on_arrays(f2)
    g, H = f2_grad(X2), f2_hess(X2)
    y0 = f_np(X2)
    points = np.stack([X2 + t * d for t in (0.4, 0.2)])
    by_hand = [y0 + g @ (q - X2) + 0.5 * (q - X2) @ H @ (q - X2) for q in points]
    close(p2(points), by_hand, rtol=1e-13)
    assert p2(points).shape == (2,)
    err2 = [abs(f_np(X2 + t * d) - p2(X2 + t * d)) for t in (0.1, 0.05, 0.025)]
    err1 = [abs(f_np(X2 + t * d) - p1(X2 + t * d)) for t in (0.1, 0.05, 0.025)]
    for e in (err2, err1):
        assert e[0] > 0
    for a, b in zip(err2, err2[1:]):
        assert 6 < a / b < 10  # O(|d|³)
    for a, b in zip(err1, err1[1:]):
        assert 3 < a / b < 5  # O(|d|²)


def test_taylor_invalid_orders():
    with pytest.raises(ValueError, match="order"):
        tg.taylor(f2, X2, 3)
    for x0 in (0.0, X2):
        with pytest.raises(ValueError, match="order"):
            tg.taylor(f2 if np.ndim(x0) else tg.exp, x0, -1)
    with pytest.raises(ValueError, match="order"):
        tg.taylor(tg.exp, 0.0, 2.5)


# ========================================================================== numpy in -> numpy out, Tensor -> Tensor

def sin_x(x):
    return (tg.sin(x) * x).sum()


def _all_results(x):
    """Every transform applied at ``x``, as a flat dict of results."""
    v = x * 0 + 0.5 if not isinstance(x, Tensor) else np.full(x.shape, 0.5)
    out, jvp_t = tg.jvp(lambda z: tg.sin(z) * z, (x,), (v,))
    vout, vjp_fn = tg.vjp(lambda z: tg.sin(z) * z, x)
    (vjp_g,) = vjp_fn(np.ones(np.shape(np.asarray(x))))
    lin_out, lin_fn = tg.linearize(lambda z: tg.sin(z) * z, x)
    value, vg = tg.value_and_grad(sin_x)(x)
    return {
        "grad": tg.grad(sin_x)(x), "value": value, "value_and_grad": vg,
        "jacobian": tg.jacobian(lambda z: tg.sin(z) * z)(x), "hessian": tg.hessian(sin_x)(x),
        "jvp out": out, "jvp tangent": jvp_t, "vjp out": vout, "vjp grad": vjp_g,
        "linearize out": lin_out, "linearize jvp": lin_fn(v), "hvp": tg.hvp(sin_x, x, v),
    }


def test_float_in_numpy_scalars_out():
    results = _all_results(0.7)
    for name, r in results.items():
        assert isinstance(r, np.floating) and not isinstance(r, Tensor), name
    assert results["grad"] == pytest.approx(np.cos(0.7) * 0.7 + np.sin(0.7), rel=1e-14)
    assert results["hessian"] == pytest.approx(2 * np.cos(0.7) - 0.7 * np.sin(0.7), rel=1e-14)


def test_ndarray_in_ndarray_out():
    x = np.array([0.7, -0.2, 1.5])
    for name, r in _all_results(x).items():
        assert not isinstance(r, Tensor), name
        if name == "value":
            assert isinstance(r, np.floating), name
        else:
            assert isinstance(r, np.ndarray), name
    assert _all_results(x)["hessian"].shape == (3, 3)


def test_tensor_in_tensor_out():
    for requires_grad in (False, True):
        x = tg.tensor([0.7, -0.2, 1.5], requires_grad=requires_grad)
        results = _all_results(x)
        for name, r in results.items():
            assert isinstance(r, Tensor), name
            if requires_grad and name not in ("value", "jvp out", "vjp out", "linearize out"):
                assert r.requires_grad, name
        close(results["grad"].data, np.cos(x.data) * x.data + np.sin(x.data), rtol=1e-14)


def test_tensor_mode_results_backpropagate_to_the_next_derivative():
    xv = np.array([0.7, -0.2, 1.5])
    v = np.array([1.0, -2.0, 0.5])
    cases = [
        # (transform applied at x giving a Tensor, d/dx of its sum)
        (lambda x: tg.grad(lambda z: (tg.exp(z) * tg.sin(z)).sum())(x), 2 * np.exp(xv) * np.cos(xv)),
        (lambda x: tg.hessian(lambda z: tg.sin(z).sum())(x), -np.cos(xv)),
        (lambda x: tg.jacobian(tg.sin)(x), -np.sin(xv)),
        (lambda x: tg.jacobian(tg.sin, mode="fwd")(x), -np.sin(xv)),
        (lambda x: tg.jvp(tg.sin, (x,), (v,))[1], -np.sin(xv) * v),
        (lambda x: tg.vjp(tg.sin, x)[1](v)[0], -np.sin(xv) * v),
        (lambda x: tg.hvp(lambda z: tg.sin(z).sum(), x, v), -np.cos(xv) * v),
    ]
    for transform, expected in cases:
        x = tg.tensor(xv, requires_grad=True)
        r = transform(x)
        assert isinstance(r, Tensor) and r.requires_grad
        r.sum().backward()
        close(x.grad.data, expected, rtol=1e-12, atol=1e-14)


def test_jacobian_of_grad_is_hessian_and_grad_of_grad():
    x = np.array([-1.2, 1.0, 0.5, -0.3, 0.8, 1.1])
    close(tg.jacobian(tg.grad(rosen))(x), tg.hessian(rosen)(x), rtol=1e-13)
    close(tg.jacobian(tg.grad(rosen))(x), rosen_hess(x), rtol=1e-12)
    f = lambda z: tg.sin(z) * tg.exp(z)
    assert tg.grad(tg.grad(f))(0.3) == pytest.approx(2 * np.exp(0.3) * np.cos(0.3), rel=1e-13)


# =============================================================================== nesting without perturbation confusion

def test_nested_grad_closing_over_outer_variable():
    # f(x) = x · d/dy (x y) at y = x = x²: f'(x) = 2x (a confused implementation gives 3x or x).
    f = lambda x: x * tg.grad(lambda y: x * y)(x)
    for x in (3.0, -0.5):
        assert tg.grad(f)(x) == pytest.approx(2 * x, rel=1e-14)
    xt = tg.tensor(3.0, requires_grad=True)
    f(xt).backward()
    assert xt.grad.item() == pytest.approx(6.0)


def test_classic_perturbation_confusion():
    # d/dx [x · d/dy (x + y)] at y = x is d/dx [x · 1] = 1 (confusing the two perturbations gives 2).
    f = lambda x: x * tg.grad(lambda y: x + y)(x)
    assert tg.grad(f)(2.0) == pytest.approx(1.0, abs=1e-14)
    assert tg.grad(f)(-7.0) == pytest.approx(1.0, abs=1e-14)


def test_nested_grad_at_another_tensor_point_keeps_the_closure():
    # Inner derivative at a different (Tensor) point: d/dy (x y²) at y = 2 is 4x, so f = 4x², f' = 8x.
    f = lambda x: x * tg.grad(lambda y: x * y * y)(tg.tensor(2.0))
    assert tg.grad(f)(3.0) == pytest.approx(24.0, rel=1e-14)


def test_nested_grad_at_a_float_point_keeps_the_closure():
    # The inner grad gets a float but closes over the outer x: its result must stay connected to x.
    f = lambda x: x * tg.grad(lambda y: x * y * y)(2.0)
    assert tg.grad(f)(3.0) == pytest.approx(24.0, rel=1e-14)
    assert isinstance(tg.grad(lambda y: y * y)(2.0), np.floating)  # without a closure: numpy out


# =============================================================================== argnums

def two_args(a, b):
    return (a ** 2 * b[0]).sum() + tg.sin(b).sum()


A3, B2 = np.array([0.5, -1.0, 2.0]), np.array([0.3, -0.8])


def test_argnums_int_negative_and_tuple():
    ga = 2 * A3 * B2[0]
    gb = np.array([np.sum(A3 ** 2) + np.cos(B2[0]), np.cos(B2[1])])
    close(tg.grad(two_args)(A3, B2), ga)
    close(tg.grad(two_args, argnums=1)(A3, B2), gb)
    close(tg.grad(two_args, argnums=-1)(A3, B2), gb)
    close(tg.grad(two_args, argnums=-2)(A3, B2), ga)
    both = tg.grad(two_args, argnums=(0, 1))(A3, B2)
    assert isinstance(both, tuple) and len(both) == 2
    assert both[0].shape == (3,) and both[1].shape == (2,)
    close(both[0], ga)
    close(both[1], gb)
    rev = tg.grad(two_args, argnums=(1, 0))(A3, B2)
    close(rev[0], gb)
    close(rev[1], ga)
    value, grads = tg.value_and_grad(two_args, argnums=(0, 1))(A3, B2)
    assert float(value) == pytest.approx(np.sum(A3 ** 2) * B2[0] + np.sum(np.sin(B2)), rel=1e-14)
    close(grads[1], gb)
    close(tg.grad(two_args, argnums=np.int64(1))(A3, B2), gb)


def test_jacobian_with_tuple_argnums():
    g = lambda a, b: a * b[0] + tg.sin(a)
    for mode in MODES:
        Ja, Jb = tg.jacobian(g, argnums=(0, 1), mode=mode)(A3, B2)
        assert Ja.shape == (3, 3) and Jb.shape == (3, 2)
        close(Ja, np.diag(B2[0] + np.cos(A3)))
        close(Jb, np.stack([A3, np.zeros(3)], axis=1))


def test_hessian_with_tuple_argnums_gives_the_blocks():
    blocks = tg.hessian(two_args, argnums=(0, 1))(A3, B2)
    assert len(blocks) == 2 and all(len(row) == 2 for row in blocks)
    Haa, Hab = blocks[0]
    Hba, Hbb = blocks[1]
    assert Haa.shape == (3, 3) and Hab.shape == (3, 2) and Hba.shape == (2, 3) and Hbb.shape == (2, 2)
    close(Haa, 2 * B2[0] * np.eye(3))
    close(Hab, np.stack([2 * A3, np.zeros(3)], axis=1))
    close(Hba, Hab.T)
    close(Hbb, np.diag(-np.sin(B2)))
    full = numerical_hessian(lambda z: np.asarray(two_args(Tensor(z[:3]), Tensor(z[3:]))), np.concatenate([A3, B2]))
    close(np.block([[Haa, Hab], [Hba, Hbb]]), full, rtol=1e-5, atol=1e-6)


def test_argnums_errors():
    for bad in (2, -3, (0, 2)):
        with pytest.raises(ValueError, match="argnums"):
            tg.grad(two_args, argnums=bad)(A3, B2)
        with pytest.raises(ValueError, match="argnums"):
            tg.jacobian(two_args, argnums=bad)(A3, B2)
    for bad in ("0", (0, "1"), (), (0.0,)):
        with pytest.raises(TypeError, match="argnums"):
            tg.grad(two_args, argnums=bad)(A3, B2)
    with pytest.raises(TypeError):
        tg.grad(two_args, argnums=0.0)(A3, B2)


def test_grad_of_non_scalar_function_points_to_jacobian():
    with pytest.raises(ValueError, match="jacobian"):
        tg.grad(tg.sin)(np.ones(3))
    with pytest.raises(ValueError, match="jacobian"):
        tg.value_and_grad(lambda x: x * 2)(np.ones((2, 2)))


# =============================================================================== vjp, jvp, linearize

def sin_scaled(x):
    return tg.sin(x) * x[0]


def sin_scaled_jac(x):
    J = np.diag(np.cos(x) * x[0])
    J[:, 0] += np.sin(x)
    return J


XV = np.array([0.9, -0.4, 1.6, 0.2])


def test_vjp_matches_transposed_jacobian_and_is_reusable():
    out, vjp_fn = tg.vjp(sin_scaled, XV)
    close(out, np.sin(XV) * XV[0])
    u1, u2 = np.array([1.0, 0.0, -2.0, 0.5]), np.array([0.3, 1.0, 0.0, -1.0])
    (g1,) = vjp_fn(u1)
    (g2,) = vjp_fn(u2)
    (g1_again,) = vjp_fn(u1)
    J = sin_scaled_jac(XV)
    close(g1, u1 @ J)
    close(g2, u2 @ J)
    np.testing.assert_array_equal(g1, g1_again)


def test_vjp_several_primals_and_wrong_cotangent_shape():
    a, b = np.array([1.0, 2.0, 3.0]), np.array([-1.0, 0.5, 4.0])
    out, vjp_fn = tg.vjp(lambda p, q: p * q, a, b)
    u = np.array([1.0, -1.0, 2.0])
    ga, gb = vjp_fn(u)
    close(ga, u * b)
    close(gb, u * a)
    with pytest.raises(ValueError, match="shape"):
        vjp_fn(np.ones(4))
    with pytest.raises(ValueError, match="shape"):
        vjp_fn(np.ones((3, 1)))


def test_jvp_matches_jacobian_vector_product():
    v = np.array([0.5, -1.0, 2.0, 0.1])
    out, t = tg.jvp(sin_scaled, (XV,), (v,))
    close(out, np.sin(XV) * XV[0])
    close(t, sin_scaled_jac(XV) @ v)
    out, t = tg.jvp(lambda p, q: p * tg.exp(q), [A3, A3 * 0.5], [np.ones(3), np.full(3, 2.0)])
    close(t, np.exp(A3 * 0.5) + A3 * np.exp(A3 * 0.5) * 2.0)


def test_jvp_errors():
    with pytest.raises(ValueError, match="shape"):
        tg.jvp(sin_scaled, (XV,), (np.ones(3),))
    with pytest.raises(ValueError, match="shape"):
        tg.jvp(sin_scaled, (XV,), (np.ones((4, 1)),))
    with pytest.raises(TypeError, match="tuple"):
        tg.jvp(sin_scaled, XV, (XV,))
    with pytest.raises(TypeError, match="tuple"):
        tg.jvp(sin_scaled, (XV,), XV)
    with pytest.raises(ValueError):
        tg.jvp(sin_scaled, (XV,), (XV, XV))


def test_linearize_is_linear_in_the_tangent_and_reusable():
    out, jvp_fn = tg.linearize(sin_scaled, XV)
    close(out, np.sin(XV) * XV[0])
    J = sin_scaled_jac(XV)
    v1, v2 = np.array([1.0, 0.0, 0.5, -1.0]), np.array([0.0, 2.0, -1.0, 0.3])
    t1, t2 = jvp_fn(v1), jvp_fn(v2)
    close(t1, J @ v1)
    close(t2, J @ v2)
    close(jvp_fn(2.5 * v1 - 3.0 * v2), 2.5 * t1 - 3.0 * t2)
    close(jvp_fn(v1), t1, rtol=0, atol=0)
    with pytest.raises(ValueError, match="shape"):
        jvp_fn(np.ones(5))


# =============================================================================== constant functions, Python floats

def test_functions_that_ignore_their_input():
    x = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    for f in (lambda z: tg.tensor(2.0), lambda z: 2.5):
        close(tg.grad(f)(x), np.zeros((2, 3)), atol=0)
        assert tg.grad(f)(x).shape == (2, 3)
        value, g = tg.value_and_grad(f)(x)
        assert float(value) == float(np.asarray(f(None))) and g.shape == (2, 3)
        H = tg.hessian(f)(x)
        assert H.shape == (2, 3, 2, 3) and not H.any()
        assert not tg.hvp(f, x, x).any()
        _, t = tg.jvp(f, (x,), (x,))
        assert float(t) == 0.0
    for mode in MODES:
        J = tg.jacobian(lambda z: tg.ones(4), mode=mode)(x)
        assert J.shape == (4, 2, 3) and not J.any()
    out, vjp_fn = tg.vjp(lambda z: tg.ones(4), x)
    (g,) = vjp_fn(np.ones(4))
    assert g.shape == (2, 3) and not g.any()
    # An argument that is used by only part of the output, and an argument that is not used at all.
    ga, gb = tg.grad(lambda a, b: (a ** 2).sum(), argnums=(0, 1))(A3, B2)
    close(ga, 2 * A3)
    assert gb.shape == (2,) and not gb.any()
    assert tg.grad(lambda z: 3.0 * z[0, 1])(x)[0, 1] == 3.0
    H = tg.hessian(lambda z: (z * np.arange(6.0).reshape(2, 3)).sum())(x)  # linear: H = 0
    assert H.shape == (2, 3, 2, 3) and not H.any()


def test_function_returning_a_python_float_of_a_float():
    assert tg.grad(lambda z: 1.5)(0.3) == 0.0
    value, g = tg.value_and_grad(lambda z: 1.5)(0.3)
    assert value == 1.5 and g == 0.0


# =============================================================================== .grad and the caller's graph

def test_transforms_leave_grad_of_closed_over_tensors_alone():
    w = tg.tensor([1.0, -2.0, 0.5], requires_grad=True)
    x = np.array([0.3, 0.6, -1.0])
    close(tg.grad(lambda z: (w * z).sum())(x), w.data)
    close(tg.hessian(lambda z: (w * z ** 2).sum())(x), np.diag(2 * w.data))
    close(tg.jacobian(lambda z: w * z)(x), np.diag(w.data))
    close(tg.jacobian(lambda z: w * z, mode="fwd")(x), np.diag(w.data))
    close(tg.jvp(lambda z: w * z, (x,), (np.ones(3),))[1], w.data)
    close(tg.vjp(lambda z: w * z, x)[1](np.ones(3))[0], w.data)
    close(tg.hvp(lambda z: (w * z ** 2).sum(), x, np.ones(3)), 2 * w.data)
    tg.value_and_grad(lambda z: (w * z).sum())(x)
    tg.taylor(lambda z: (w * z ** 2).sum(), x, 2)
    assert w.grad is None
    xt = tg.tensor(x, requires_grad=True)
    tg.grad(lambda z: (w * z).sum())(xt)
    tg.hessian(lambda z: (w * z ** 2).sum())(xt)
    assert w.grad is None and xt.grad is None


def test_grad_with_numpy_input_does_not_free_the_callers_graph():
    w = tg.tensor([1.0, -2.0, 0.5], requires_grad=True)
    y = w * 2
    x = np.array([0.3, 0.6, -1.0])
    g = tg.grad(lambda z: (y * z ** 2).sum())(x)
    close(g, 2 * y.data * x)
    tg.jacobian(lambda z: y * z, mode="fwd")(x)
    tg.hessian(lambda z: (y * z ** 3).sum())(x)
    assert w.grad is None
    (y * y).sum().backward()
    close(w.grad.data, 8 * w.data)  # d/dw Σ (2w)² = 8w: the graph of y is intact


def test_tensor_mode_grad_stays_connected_to_closed_over_tensors():
    w = tg.tensor([1.0, -2.0, 0.5], requires_grad=True)
    y = w * 2
    xt = tg.tensor([0.3, 0.6, -1.0], requires_grad=True)
    g = tg.grad(lambda z: (y * z ** 2).sum())(xt)  # 2 y z = 4 w z
    g.sum().backward()
    close(w.grad.data, 4 * xt.data)
    close(xt.grad.data, 4 * w.data)


def test_grad_works_inside_no_grad():
    with tg.no_grad():
        g = tg.grad(lambda z: (z ** 3).sum())(np.array([1.0, 2.0]))
        H = tg.hessian(lambda z: (z ** 3).sum())(np.array([1.0, 2.0]))
    close(g, [3.0, 12.0])
    close(H, np.diag([6.0, 12.0]))


# =============================================================================== cost: forward mode and batching

def _forbid(name):
    def boom(*args, **kwargs):
        raise AssertionError(f"{name} must not be called")
    return boom


def test_jvp_never_forms_a_jacobian_or_runs_a_reverse_pass(monkeypatch):
    for name in ("jacobian", "_jacobian_fwd", "_jacobian_rev", "hessian", "vjp"):
        monkeypatch.setattr(tr, name, _forbid(name))
    monkeypatch.setattr(engine, "gradients", _forbid("engine.gradients"))
    x = np.array([0.3, -1.0, 2.0])
    v = np.array([1.0, 0.5, -2.0])
    f = lambda z: tg.sin(z) * z + tg.exp(z).sum()
    _, t = tg.jvp(f, (x,), (v,))
    close(t, (np.cos(x) * x + np.sin(x)) * v + np.exp(x) @ v)
    _, jvp_fn = tg.linearize(f, x)
    close(jvp_fn(v), t)


def test_jvp_and_hvp_on_a_large_input_use_linear_memory():
    n = 10_000
    x = np.linspace(-3.0, 3.0, n)
    v = np.cos(np.arange(n))
    tracemalloc.start()
    try:
        _, t = tg.jvp(lambda z: tg.sin(z) * z, (x,), (v,))
        hv = tg.hvp(lambda z: (tg.sin(z) * z).sum(), x, v)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    close(t, (np.cos(x) * x + np.sin(x)) * v, rtol=1e-12, atol=1e-13)
    close(hv, (2 * np.cos(x) - x * np.sin(x)) * v, rtol=1e-12, atol=1e-13)
    assert peak < 16e6  # an n×n float64 matrix alone would be 800 MB


def _count(monkeypatch, module, name):
    calls = []
    real = getattr(module, name)

    def counting(*args, **kwargs):
        calls.append(name)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, counting)
    return calls


def test_reverse_jacobian_is_one_batched_backward_pass(monkeypatch):
    B = np.sin(np.arange(40 * 50).reshape(40, 50))
    x = np.linspace(-0.2, 0.3, 50)
    calls = _count(monkeypatch, engine, "gradients")
    J = tg.jacobian(lambda z: tg.tanh(tg.matmul(B, z)), mode="rev")(x)
    assert len(calls) == 1
    assert J.shape == (40, 50)
    close(J, (1 - np.tanh(B @ x) ** 2)[:, None] * B, rtol=1e-12, atol=1e-14)


def test_forward_jacobian_is_one_batched_tangent_pass(monkeypatch):
    B = np.cos(np.arange(50 * 40).reshape(50, 40))
    x = np.linspace(-0.2, 0.3, 40)
    calls = _count(monkeypatch, tr, "push_forward")
    J = tg.jacobian(lambda z: tg.tanh(tg.matmul(B, z)), mode="fwd")(x)
    assert len(calls) == 1
    assert J.shape == (50, 40)
    close(J, (1 - np.tanh(B @ x) ** 2)[:, None] * B, rtol=1e-12, atol=1e-14)


def test_hessian_is_one_backward_and_one_tangent_pass(monkeypatch):
    x = np.linspace(-1.0, 1.2, 30)
    back = _count(monkeypatch, engine, "gradients")
    fwd = _count(monkeypatch, tr, "push_forward")
    H = tg.hessian(rosen)(x)
    assert len(back) == 1 and len(fwd) == 1
    close(H, rosen_hess(x), rtol=1e-12, atol=1e-10)


# =============================================================================== plot_taylor

@pytest.fixture
def close_figures():
    yield
    plt.close("all")


@pytest.mark.usefixtures("close_figures")
def test_plot_taylor_scalar_curves():
    x0, orders = 0.5, (1, 3, 5)
    xs = np.linspace(-1.0, 2.0, 41)
    fig = tg.viz.plot_taylor(tg.sin, x0, orders, xs=xs, title="sine")
    assert isinstance(fig, matplotlib.figure.Figure)
    (ax,) = fig.axes
    lines = ax.get_lines()
    assert len(lines) == 1 + len(orders) + 1  # f, one per order, the x0 marker
    close(lines[0].get_ydata(), np.sin(xs), rtol=1e-14)
    for line, k in zip(lines[1:4], orders):
        by_hand = sum(np.sin(x0 + j * np.pi / 2) / math.factorial(j) * (xs - x0) ** j for j in range(k + 1))
        close(line.get_xdata(), xs)
        close(line.get_ydata(), by_hand, rtol=1e-12, atol=1e-14)
    close(lines[-1].get_xydata(), [[x0, np.sin(x0)]], rtol=1e-14)
    assert ax.get_title() == "sine"


@pytest.mark.usefixtures("close_figures")
def test_plot_taylor_draws_on_a_given_axis():
    fig, ax = plt.subplots()
    out = tg.viz.plot_taylor(tg.exp, 0.0, orders=(2,), ax=ax)
    assert out is fig
    assert len(ax.get_lines()) == 3


@pytest.mark.usefixtures("close_figures")
def test_plot_taylor_vector_contours():
    orders = (1, 2)
    grid = (np.linspace(-1.0, 1.0, 9), np.linspace(-1.0, 0.5, 7))
    fig = tg.viz.plot_taylor(f2, X2, orders, xs=grid)
    assert isinstance(fig, matplotlib.figure.Figure)
    assert len(fig.axes) == 1 + len(orders) + 1  # f, one panel per order, the colorbar
    fig1 = tg.viz.plot_taylor(f2, X2, (2,), xs=grid)
    assert len(fig1.axes) == 3


@pytest.mark.usefixtures("close_figures")
def test_plot_taylor_invalid_input():
    with pytest.raises(ValueError, match="x0"):
        tg.viz.plot_taylor(f2, np.zeros(3), (1,))
    with pytest.raises(ValueError, match="x0"):
        tg.viz.plot_taylor(f2, np.zeros((2, 2)), (1,))
    with pytest.raises(ValueError, match="order"):
        tg.viz.plot_taylor(f2, X2, (3,), xs=(np.linspace(0, 1, 3), np.linspace(0, 1, 3)))
    with pytest.raises(ValueError, match="orders"):
        tg.viz.plot_taylor(tg.sin, 0.0, ())


# =============================================================================== custom primitives without JVP rules

def make_cube(elementwise=False):
    @tg.primitive(elementwise=elementwise)
    def cube(x):
        return x ** 3

    cube.defvjp(lambda g, ans, x: g * 3 * x ** 2)
    return cube


def make_rev():
    rev = tg.primitive(lambda x: x[::-1])
    rev.defvjp(lambda g, ans, x: g[::-1])  # flips axis 0: wrong on a batched g unless run per batch entry
    return rev


XC = np.array([0.5, -1.0, 2.0, 0.3])
FLIP = np.eye(4)[::-1]

def test_custom_primitive_reverse_mode_jacobian_and_hessian():
    cube = make_cube()
    J = tg.jacobian(lambda z: 2 * cube(z) + z, mode="rev")(XC)
    close(J, np.diag(6 * XC ** 2 + 1))
    close(tg.hessian(lambda z: cube(z).sum())(XC), np.diag(6 * XC))
    close(tg.grad(tg.grad(lambda z: cube(z)))(0.7), 6 * 0.7)


def test_custom_elementwise_primitive_in_forward_mode():
    cube = make_cube(elementwise=True)
    close(tg.jacobian(lambda z: 2 * cube(z) + z, mode="fwd")(XC), np.diag(6 * XC ** 2 + 1))
    close(tg.jvp(cube, (XC,), (np.ones(4),))[1], 3 * XC ** 2)
    close(tg.hessian(lambda z: cube(z).sum())(XC), np.diag(6 * XC))


def test_custom_primitive_forward_mode_from_its_vjp():
    cube = make_cube()
    close(tg.jvp(cube, (XC,), (np.ones(4),))[1], 3 * XC ** 2)
    close(tg.jacobian(lambda z: 2 * cube(z) + z, mode="fwd")(XC), np.diag(6 * XC ** 2 + 1))


def test_non_elementwise_custom_primitive_reverse_jacobian_is_run_per_batch_entry():
    rev = make_rev()
    close(tg.jacobian(rev, mode="rev")(XC), FLIP, atol=0)
    f = lambda z: tg.sin(rev(z)) * z
    expected = np.diag(np.sin(XC[::-1])) + np.diag(XC * np.cos(XC[::-1])) @ FLIP
    close(tg.jacobian(f, mode="rev")(XC), expected)
    close(tg.jacobian(f, mode="rev")(XC), numerical_jacobian(on_arrays(f), XC), rtol=1e-7, atol=1e-9)
    close(tg.vjp(rev, XC)[1](np.arange(4.0))[0], np.arange(4.0)[::-1])


def test_non_elementwise_custom_primitive_forward_jacobian():
    rev = make_rev()
    close(tg.jacobian(rev, mode="fwd")(XC), FLIP, atol=0)
    close(tg.jvp(rev, (XC,), (np.arange(4.0),))[1], np.arange(4.0)[::-1])
    # Unlike the bare flip (where flipping the batch axis happens to give the same matrix), this composite
    # tells a rule run per batch entry from one wrongly applied to the whole batch.
    f = lambda z: tg.sin(rev(z)) * z
    expected = np.diag(np.sin(XC[::-1])) + np.diag(XC * np.cos(XC[::-1])) @ FLIP
    close(tg.jacobian(f, mode="fwd")(XC), expected)


def test_non_elementwise_custom_primitive_hessian():
    rev = make_rev()
    # xᵀ F x with F the flip: H = F + Fᵀ = 2F (the buggy forward pass drops rev's own tangent and gives F).
    close(tg.hessian(lambda z: (rev(z) * z).sum())(XC), 2 * FLIP)
