"""tg.optimize: Newton-Raphson, gradient descent, damped Newton and Lagrange multipliers.

Oracles: numpy.roots for the sextic, closed forms (log, linear solves, the KKT system of a quadratic
problem), and the hand-worked stationary points of the course's constrained problems.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_mvc as tg

opt = tg.optimize

SEXTIC = (1 / 6, 0.0, -3.0, -2 / 3, 27 / 2, 18.0, -30.0)


def sextic(x):
    return x ** 6 / 6 - 3 * x ** 4 - 2 * x ** 3 / 3 + 27 * x ** 2 / 2 + 18 * x - 30


def rosenbrock(v):
    return (1 - v[0]) ** 2 + 100 * (v[1] - v[0] ** 2) ** 2


def assert_history(r, x0):
    """history: every iterate from x0 to x, n_iter + 1 rows."""
    assert r.history.shape == (r.n_iter + 1,) + np.shape(x0)
    np.testing.assert_array_equal(r.history[0], x0)
    np.testing.assert_array_equal(r.history[-1], r.x)


# =============================================================================== Newton-Raphson

REAL_ROOTS = np.sort(np.roots(SEXTIC)[np.abs(np.roots(SEXTIC).imag) < 1e-9].real)


@pytest.mark.parametrize("x0", [-4.0, -3.5, 0.0, 0.3, 1.0, 1.5, 1.99, 4.0])
def test_sextic_roots_from_several_starts(x0):
    r = opt.newton_raphson(sextic, x0)
    assert r.converged, r.message
    assert np.min(np.abs(REAL_ROOTS - r.x)) < 1e-11
    assert abs(float(r.fun)) < 1e-10
    assert_history(r, x0)
    assert r.values.shape == (r.n_iter + 1,)
    np.testing.assert_allclose(r.values, sextic(r.history), rtol=1e-12, atol=1e-12)


def test_newton_raphson_takes_newton_steps():
    # Each iterate is x - f(x)/f'(x), with f' = x⁵ − 12x³ − 2x² + 27x + 18 by hand.
    r = opt.newton_raphson(sextic, 1.5)
    h = r.history
    deriv = h[:-1] ** 5 - 12 * h[:-1] ** 3 - 2 * h[:-1] ** 2 + 27 * h[:-1] + 18
    np.testing.assert_allclose(h[1:], h[:-1] - sextic(h[:-1]) / deriv, rtol=1e-12, atol=1e-14)


def test_zero_derivative_stops_with_the_reason():
    r = opt.newton_raphson(sextic, 2.0)  # f'(2) = 32 − 96 − 8 + 54 + 18 = 0
    assert not r.converged and "zero derivative" in r.message and r.n_iter == 0
    assert_history(r, 2.0)


def test_cycle_is_detected():
    r = opt.newton_raphson(lambda x: x ** 3 - 2 * x + 2, 0.0)
    assert not r.converged and "cycle" in r.message and "period 2" in r.message
    assert r.history.tolist() == [0.0, 1.0, 0.0]


def test_divergence_is_reported_not_raised():
    r = opt.newton_raphson(tg.tanh, 1.2)  # the tangent lines of tanh throw the iterates ever farther out
    assert not r.converged and ("diverged" in r.message or "derivative" in r.message)
    assert np.all(np.isfinite(r.history))


def test_iteration_limit_and_non_finite_start():
    r = opt.newton_raphson(sextic, 1.99, max_iter=3)
    assert not r.converged and "max_iter=3" in r.message and r.n_iter == 3
    r = opt.newton_raphson(lambda x: tg.log(x), -1.0)
    assert not r.converged and "not finite" in r.message


def test_two_dimensional_nonlinear_system():
    # x² + y² = 4 and x·y = 1: x² = 2 + √3 on the branch near (2, 0.5), y = 1/x.
    f = lambda v: tg.stack([v[0] ** 2 + v[1] ** 2 - 4, v[0] * v[1] - 1])
    r = opt.newton_raphson(f, [2.0, 0.5])
    x = np.sqrt(2 + np.sqrt(3))
    assert r.converged, r.message
    np.testing.assert_allclose(r.x, [x, 1 / x], rtol=1e-13)
    assert r.n_iter < 10
    assert_history(r, np.array([2.0, 0.5]))
    assert r.values.shape == (r.n_iter + 1, 2)


def test_singular_jacobian():
    f = lambda v: tg.stack([v[0] + v[1], 2 * v[0] + 2 * v[1] - 1])
    r = opt.newton_raphson(f, [0.0, 0.0])
    assert not r.converged and "singular Jacobian" in r.message


@given(c=st.floats(0.1, 10.0), x0=st.floats(-2.0, 3.0))
def test_exp_minus_c_converges_to_log_c(c, x0):
    # From the left the first step overshoots to about c·e^(−x0); the way back is about one unit per step.
    r = opt.newton_raphson(lambda x: tg.exp(x) - c, x0, max_iter=100)
    assert r.converged, r.message
    assert abs(r.x - np.log(c)) < 1e-12
    assert_history(r, x0)


@given(seed=st.integers(0, 10_000), n=st.integers(1, 4))
def test_linear_system_in_one_step(seed, n):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(n, n)) + 3 * np.eye(n)
    b = rng.normal(size=n)
    r = opt.newton_raphson(lambda v: tg.tensor(A) @ v - tg.tensor(b), np.zeros(n))
    assert r.converged, r.message
    np.testing.assert_allclose(r.x, np.linalg.solve(A, b), rtol=1e-10, atol=1e-12)
    assert r.n_iter <= 2  # the exact step, then (at most) a step of rounding size that confirms it


@pytest.mark.parametrize("kwargs, match", [
    ({"x0": np.nan}, "not finite"), ({"x0": np.zeros((2, 2))}, "shape"), ({"x0": 1.0, "tol": 0}, "tol"),
    ({"x0": 1.0, "max_iter": -1}, "max_iter"),
])
def test_newton_raphson_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        opt.newton_raphson(sextic, **kwargs)


def test_newton_raphson_needs_a_square_system():
    with pytest.raises(ValueError, match=r"shape \(2,\) to shape \(3,\)"):
        opt.newton_raphson(lambda v: tg.stack([v[0], v[1], v[0] * v[1]]), [1.0, 2.0])


# =============================================================================== gradient descent

A_BOWL = np.array([[3.0, 1.0], [1.0, 2.0]])
B_BOWL = np.array([1.0, -1.0])


def bowl(v):
    return 0.5 * (v @ tg.tensor(A_BOWL) @ v) - tg.tensor(B_BOWL) @ v


def test_quadratic_bowl_converges_with_the_gradient_step_rule():
    x0 = np.array([2.0, 2.0])
    r = opt.gradient_descent(bowl, x0, lr=0.2, tol=1e-10, max_iter=2000)
    assert r.converged, r.message
    np.testing.assert_allclose(r.x, np.linalg.solve(A_BOWL, B_BOWL), atol=1e-9)
    assert_history(r, x0)
    h = r.history
    np.testing.assert_allclose(h[1:], h[:-1] - 0.2 * (h[:-1] @ A_BOWL - B_BOWL), rtol=1e-12, atol=1e-14)
    assert np.all(np.diff(r.values) <= 1e-15)  # lr < 2/λmax: every step goes down
    assert r.values.shape == (r.n_iter + 1,)


def test_momentum_follows_the_heavy_ball_recurrence_and_is_faster():
    x0 = np.array([2.0, 2.0])
    plain = opt.gradient_descent(bowl, x0, lr=0.05, tol=1e-8, max_iter=5000)
    heavy = opt.gradient_descent(bowl, x0, lr=0.05, tol=1e-8, max_iter=5000, momentum=0.6)
    assert plain.converged and heavy.converged
    assert heavy.n_iter < plain.n_iter
    h = heavy.history
    v = h[1:] - h[:-1]  # x_{k+1} − x_k = 0.6 (x_k − x_{k−1}) − lr ∇f(x_k)
    np.testing.assert_allclose(v[1:], 0.6 * v[:-1] - 0.05 * (h[1:-1] @ A_BOWL - B_BOWL), atol=1e-13)


def test_too_large_a_step_is_reported_as_divergence():
    r = opt.gradient_descent(bowl, [2.0, 2.0], lr=5.0, max_iter=10_000)
    assert not r.converged and "diverged" in r.message
    assert_history(r, np.array([2.0, 2.0]))


@pytest.mark.parametrize("kwargs", [{"lr": 0.0}, {"lr": -1.0}, {"lr": 0.1, "momentum": 1.0},
                                    {"lr": 0.1, "momentum": -0.1}])
def test_gradient_descent_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        opt.gradient_descent(bowl, [1.0, 1.0], **kwargs)


def test_gradient_descent_needs_a_scalar_function():
    with pytest.raises(ValueError, match="scalar"):
        opt.gradient_descent(lambda v: v * 2, [1.0, 1.0])


# =============================================================================== Newton's method

def test_rosenbrock_from_the_classic_start():
    r = opt.newton_minimize(rosenbrock, [-1.2, 1.0])
    assert r.converged, r.message
    np.testing.assert_allclose(r.x, [1.0, 1.0], atol=1e-10)
    assert r.n_iter < 40
    assert np.all(np.diff(r.values) <= 0)  # the line search only accepts decreases
    assert_history(r, np.array([-1.2, 1.0]))


def test_newton_on_a_quadratic_is_one_step():
    r = opt.newton_minimize(bowl, [5.0, -7.0])
    assert r.converged and r.n_iter == 1 and r.n_fallback == 0
    np.testing.assert_allclose(r.x, np.linalg.solve(A_BOWL, B_BOWL), rtol=1e-12)


def test_indefinite_hessian_falls_back_and_finds_a_minimum_not_the_saddle():
    f = lambda v: v[0] ** 4 - 2 * v[0] ** 2 + v[1] ** 2  # saddle at 0, minima at (±1, 0)
    r = opt.newton_minimize(f, [0.1, 1.0])  # ∂²f/∂x² = 12x² − 4 < 0 here: plain Newton would head for the saddle
    assert r.converged and r.n_fallback >= 1
    np.testing.assert_allclose(np.abs(r.x), [1.0, 0.0], atol=1e-8)


def test_newton_minimize_on_a_scalar():
    r = opt.newton_minimize(lambda x: (x - 2) ** 2 + tg.exp(x - 2), 0.0)
    assert r.converged and np.ndim(r.x) == 0
    assert abs(2 * (r.x - 2) + np.exp(r.x - 2)) < 1e-8


# =============================================================================== Lagrange multipliers

R2, R3 = np.sqrt(2.0), np.sqrt(3.0)


@pytest.mark.parametrize("x0, point, lam, kind", [
    ((1.0, 1.5), (R2, 1.0), 1.0, "maximum"), ((-1.0, 1.5), (-R2, 1.0), 1.0, "maximum"),
    ((1.0, -1.5), (R2, -1.0), -1.0, "minimum"), ((-1.0, -1.0), (-R2, -1.0), -1.0, "minimum"),
    ((0.2, 1.6), (0.0, R3), 0.0, "minimum"), ((0.2, -1.6), (0.0, -R3), 0.0, "maximum"),
])
def test_x2y_on_the_circle(x0, point, lam, kind):
    r = opt.lagrange_multipliers(lambda v: v[0] ** 2 * v[1], lambda v: (v ** 2).sum() - 3, x0)
    assert r.converged, r.message
    np.testing.assert_allclose(r.x, point, atol=1e-12)
    np.testing.assert_allclose(r.multipliers, [lam], atol=1e-12)
    assert r.classification == kind
    assert r.kkt_residual < 1e-10 and abs(r.constraint_values[0]) < 1e-12
    assert r.bordered_hessian.shape == (3, 3)
    assert_history(r, np.array(x0))


SQ29 = np.sqrt(29.0)


@pytest.mark.parametrize("x0, sign, kind", [((0.0, 1.0, 1.0), 1, "maximum"), ((0.0, -1.0, -1.0), -1, "minimum")])
def test_two_constraints_plane_and_cylinder(x0, sign, kind):
    # Extremes of x + 2y + 3z on x − y + z = 1, x² + y² = 1 (Stewart): (∓2, ±5)/√29, z = 1 − x + y,
    # f = 3 ± √29, λ = (3, ±√29/2) with ∇f = λ₁∇g₁ + λ₂∇g₂.
    f = lambda v: v[0] + 2 * v[1] + 3 * v[2]
    gs = [lambda v: v[0] - v[1] + v[2] - 1, lambda v: v[0] ** 2 + v[1] ** 2 - 1]
    r = opt.lagrange_multipliers(f, gs, x0)
    x, y = -2 * sign / SQ29, 5 * sign / SQ29
    assert r.converged, r.message
    np.testing.assert_allclose(r.x, [x, y, 1 - x + y], atol=1e-12)
    np.testing.assert_allclose(r.multipliers, [3.0, sign * SQ29 / 2], atol=1e-12)
    assert abs(r.fun - (3 + sign * SQ29)) < 1e-12
    assert r.classification == kind
    # One vector-valued constraint function gives the same point.
    both = opt.lagrange_multipliers(f, lambda v: tg.stack([gs[0](v), gs[1](v)]), x0)
    np.testing.assert_allclose(both.x, r.x, atol=1e-14)


@given(seed=st.integers(0, 10_000), n=st.integers(2, 4), m=st.integers(1, 2))
def test_quadratic_program_matches_its_kkt_system(seed, n, m):
    # min ½xᵀQx − cᵀx subject to Ax = b: Qx − c = Aᵀλ, Ax = b, one linear solve; Q positive definite: a minimum.
    if m >= n:
        m = n - 1
    rng = np.random.default_rng(seed)
    M = rng.normal(size=(n, n))
    Q = M @ M.T + n * np.eye(n)
    c, A, b = rng.normal(size=n), rng.normal(size=(m, n)), rng.normal(size=m)
    K = np.block([[Q, -A.T], [A, np.zeros((m, m))]])
    want = np.linalg.solve(K, np.concatenate([c, b]))
    f = lambda v: 0.5 * (v @ tg.tensor(Q) @ v) - tg.tensor(c) @ v
    r = opt.lagrange_multipliers(f, lambda v: tg.tensor(A) @ v - tg.tensor(b), rng.normal(size=n))
    assert r.converged, r.message
    np.testing.assert_allclose(r.x, want[:n], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(r.multipliers, want[n:], rtol=1e-8, atol=1e-10)
    assert r.classification == "minimum"


def test_dependent_constraints_are_reported():
    same = [lambda v: v[0] + v[1] - 1, lambda v: 2 * v[0] + 2 * v[1] - 2]
    r = opt.lagrange_multipliers(lambda v: (v ** 2).sum(), same, [0.3, 0.1])
    assert not r.converged and "KKT matrix" in r.message


def test_lagrange_bad_arguments():
    f = lambda v: (v ** 2).sum()
    with pytest.raises(ValueError, match="2 constraints but only 1 unknowns"):
        opt.lagrange_multipliers(f, [lambda v: v[0], lambda v: v[0] - 1], [1.0])
    with pytest.raises(ValueError, match="multipliers0 has 2 entries"):
        opt.lagrange_multipliers(f, lambda v: v[0] - 1, [1.0, 2.0], multipliers0=[1.0, 2.0])
    with pytest.raises(ValueError, match="must return a scalar"):
        opt.lagrange_multipliers(f, [lambda v: v], [1.0, 2.0])
    with pytest.raises(TypeError, match="constraints"):
        opt.lagrange_multipliers(f, [1.0], [1.0, 2.0])


# =============================================================================== the picture

def test_plot_descent_draws_each_path_on_the_contours():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    gd = opt.gradient_descent(rosenbrock, [-1.2, 1.0], lr=1e-3, max_iter=50)
    nt = opt.newton_minimize(rosenbrock, [-1.2, 1.0])
    fig = tg.viz.plot_descent(rosenbrock, {"gd": gd, "newton": nt.history})
    ax = fig.axes[0]
    paths = {line.get_label(): line for line in ax.lines if line.get_label() in ("gd", "newton")}
    np.testing.assert_array_equal(paths["gd"].get_xydata(), gd.history)
    np.testing.assert_array_equal(paths["newton"].get_xydata(), nt.history)
    assert ax.collections, "no contours were drawn"
    plt.close(fig)
    with pytest.raises(ValueError, match=r"shape \(3, 3\)"):
        tg.viz.plot_descent(rosenbrock, np.zeros((3, 3)))
    with pytest.raises(ValueError, match="xlim"):
        tg.viz.plot_descent(rosenbrock, gd, xlim=(1, 0))


# ----------------------------------------------------------------------------- structured start points (issue 15)

def test_minimisers_take_a_dict_or_tuple_of_arrays_and_give_x_back_in_it():
    import tinygrad_mvc as tg

    target = {"w": np.array([[1.0, -2.0], [0.5, 3.0]]), "b": np.array(-1.5)}

    def loss(p):
        return ((p["w"] - target["w"]) ** 2).sum() + (p["b"] - target["b"]) ** 2

    for minimise, kwargs in ((tg.optimize.gradient_descent, {"lr": 0.25}), (tg.optimize.newton_minimize, {})):
        r = minimise(loss, {"w": np.zeros((2, 2)), "b": 0.0}, **kwargs)
        assert r.converged and set(r.x) == {"w", "b"}
        assert r.x["w"].shape == (2, 2) and np.allclose(r.x["w"], target["w"]) and np.isclose(r.x["b"], -1.5)
        assert r.history.shape[1] == 5  # the iterates flattened: 4 entries of w, then b
    r = tg.optimize.newton_minimize(lambda p: ((p[0] - 1) ** 2).sum() + (p[1] ** 2).sum(),
                                    (np.zeros(3), np.ones(2)))
    assert isinstance(r.x, tuple) and np.allclose(r.x[0], 1.0) and np.allclose(r.x[1], 0.0)


def test_a_list_of_numbers_is_still_one_vector():
    import tinygrad_mvc as tg

    r = tg.optimize.gradient_descent(lambda x: ((x - 3) ** 2).sum(), (0.0, 1.0), lr=0.25)
    assert isinstance(r.x, np.ndarray) and r.x.tolist() == pytest.approx([3.0, 3.0])
