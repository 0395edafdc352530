"""Issue 16, "Algorithms": the course's optimisation exercises behave as taught.

One Newton step rule for tg.optim.Newton and tg.optimize.newton_minimize (the heights χ² and a Gaussian dip from
the issue's starts, on both); bounds and a step cap (a sandpit); the kind of stationary point and pure Newton;
the secant method against scipy.optimize.newton; f(x, y) with separate arguments; a fixed number of steps.
Oracles: hand models of the step rule, scipy (minimize for the χ² minimum, newton for the secant's iterates),
closed forms.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.optimize as so
import tomllib

import tinygrad_mvc as tg
from tinygrad_mvc import newton_step

opt = tg.optimize
ROOT = Path(__file__).resolve().parents[1]


# =============================================================================== the course's data

def test_heights_histogram_is_the_courses_data_shipped_with_the_package():
    x, freq = tg.datasets.heights_histogram()
    assert x.shape == freq.shape == (17,)
    np.testing.assert_array_equal(x, 160.0 + 1.25 + 2.5 * np.arange(17))
    assert freq[:3].tolist() == [0.031, 0.013, 0.023] and freq[-1] == 0.0 and freq.argmax() == 6
    assert abs(freq.sum() - 0.995) < 1e-12
    shared = ROOT.parent / "shared" / "data" / "heights_histogram.csv"  # beside the checkout, where it came from
    if shared.exists():
        assert shared.read_bytes() == (ROOT / "tinygrad_mvc" / "data" / "heights_histogram.csv").read_bytes()
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    assert "data/*.csv" in package_data["tinygrad_mvc"]


X_H, FREQ = tg.datasets.heights_histogram()


def chi2(p):
    """The course's χ²: a Gaussian pdf against the frequency per bin."""
    mu, sigma = p[0], p[1]
    pdf = tg.exp(-(tg.tensor(X_H) - mu) ** 2 / (2 * sigma ** 2)) / (sigma * np.sqrt(2 * np.pi))
    return ((pdf - FREQ) ** 2).sum()


def chi2_np(p):
    mu, sigma = p
    return float(np.sum((np.exp(-(X_H - mu) ** 2 / (2 * sigma ** 2)) / (sigma * np.sqrt(2 * np.pi)) - FREQ) ** 2))


CHI2_MIN = so.minimize(chi2_np, [178.0, 5.0], method="Nelder-Mead",
                       options={"xatol": 1e-11, "fatol": 1e-16, "maxiter": 5000}).x


def run_newton_optimizer(loss, x0, steps, **kwargs):
    """tg.optim.Newton from x0: every iterate (the closure is the loss of one parameter vector)."""
    p = tg.tensor(np.array(x0, dtype=np.float64), requires_grad=True)
    newton = tg.optim.Newton([p], **kwargs)
    path, kinds = [p.data.copy()], []
    for _ in range(steps):
        newton.step(lambda: loss(p))
        path.append(p.data.copy())
        kinds.append(newton.last_direction)
    return np.array(path), kinds


# =============================================================================== one step rule, both entry points

def test_heights_chi2_from_155_6_converges_in_7_steps_on_both_entry_points():
    assert abs(CHI2_MIN[0] - 178.226) < 1e-3 and abs(CHI2_MIN[1] - 4.674) < 1e-3  # the real minimum
    r = opt.newton_minimize(chi2, [155.0, 6.0])
    assert r.converged and r.classification == "minimum", r.message
    np.testing.assert_allclose(r.x, CHI2_MIN, rtol=1e-7)
    assert r.n_iter == 7  # was 21 (newton_minimize) and a crawl to μ = 156.3 in 2000 steps (optim.Newton)
    assert np.all(np.diff(r.values) < 0)
    path, kinds = run_newton_optimizer(chi2, [155.0, 6.0], 7, damping=0.0)
    np.testing.assert_allclose(path, r.history, rtol=1e-9)  # one rule: the same iterates
    assert kinds[0] == "shifted" and kinds[-1] == "newton"
    path, _ = run_newton_optimizer(chi2, [155.0, 6.0], 8)  # the default damping 1e-8 changes nothing visible
    np.testing.assert_allclose(path[-1], CHI2_MIN, rtol=1e-7)


def dip(p):
    return -tg.exp(-((p - 3.0) ** 2).sum() / 2)


def test_the_first_step_from_a_flat_start_is_shifted_then_grown_to_8_times():
    # Hand model at (0, 0): g = −3e(1, 1), H = e(I − 9·11ᵀ) with e = exp(−9); τ = −λ_min + 1e-3 (|λ| < 1);
    # d = −(H + τI)⁻¹g; Armijo holds at t = 1, 2, 4, 8 with f falling, and f(16 d) > f(8 d).
    e = np.exp(-9.0)
    g, H = -3 * e * np.ones(2), e * (np.eye(2) - 9 * np.ones((2, 2)))
    tau = -np.linalg.eigvalsh(H)[0] + 1e-3
    d = -np.linalg.solve(H + tau * np.eye(2), g)
    f = lambda v: -np.exp(-((v - 3.0) ** 2).sum() / 2)  # noqa: E731
    values = [f(t * d) for t in (1, 2, 4, 8, 16)]
    assert all(b < a for a, b in zip(values, values[1:4])) and values[4] > values[3]
    r = opt.newton_minimize(dip, [0.0, 0.0])
    np.testing.assert_allclose(r.history[1], 8 * d, rtol=1e-10)
    path, kinds = run_newton_optimizer(dip, [0.0, 0.0], 1)
    np.testing.assert_allclose(path[1], 8 * d, rtol=1e-6)
    assert kinds == ["shifted"]


def test_the_gaussian_dip_reaches_3_3_in_a_few_steps_on_both():
    r = opt.newton_minimize(dip, [0.0, 0.0])
    assert r.converged and r.n_iter == 3 and r.n_fallback == 1
    np.testing.assert_allclose(r.x, [3.0, 3.0], atol=1e-10)
    path, kinds = run_newton_optimizer(dip, [0.0, 0.0], 4)
    np.testing.assert_allclose(path[3], [3.0, 3.0], atol=1e-7)  # 100 steps ended at (0.041, 0.041) before
    assert kinds[:3] == ["shifted", "newton", "newton"]


def test_the_line_search_grows_only_while_f_keeps_falling():
    x, g, d = np.array([4.0]), np.array([8.0]), np.array([-0.5])
    sq = lambda v: float((v ** 2).sum())  # noqa: E731
    step = newton_step.search(sq, x, 16.0, g, d)
    assert step.t == 8.0 and step.x.tolist() == [0.0]  # 16 would overshoot to x = −4: f equal, not lower
    step = newton_step.search(sq, x, 16.0, g, np.array([-16.0]))  # too long: halved to t = 0.25
    assert step.t == 0.25 and step.x.tolist() == [0.0]
    assert newton_step.search(sq, x, 16.0, g, np.array([0.5])) is None  # uphill: refused
    capped = newton_step.search(sq, x, 16.0, g, d, box=newton_step.Box("t", None, 1, max_step=1.0))
    assert capped.capped and capped.x.tolist() == [3.0]  # the cap beats the growth


def test_newton_near_a_quadratic_minimum_keeps_unit_steps_and_optimizer_settings_still_work():
    A = np.array([[3.0, 1.0], [1.0, 2.0]])
    bowl = lambda v: 0.5 * (v @ tg.tensor(A) @ v) - v.sum()  # noqa: E731
    r = opt.newton_minimize(bowl, [5.0, -7.0])
    assert r.n_iter == 1 and r.n_fallback == 0
    np.testing.assert_allclose(r.x, np.linalg.solve(A, [1.0, 1.0]), rtol=1e-12)
    path, kinds = run_newton_optimizer(bowl, [5.0, -7.0], 1, line_search=False, damping=0.0)
    np.testing.assert_allclose(path[1], r.x, rtol=1e-12)
    assert kinds == ["newton"]


# =============================================================================== bounds and the step cap: the sandpit

DIPS = [(4.5, 4.0, 2.0, 1.5), (1.5, 4.5, 1.0, 1.0), (3.0, 1.5, 1.5, 0.8)]  # (cx, cy, depth, width)
PIT = [(0, 6), (0, 6)]


def sandpit(x, y):
    """A 6 m × 6 m pit: three Gaussian dips on ground tilting gently towards x < 0 (outside the pit)."""
    out = 0.08 * x
    for cx, cy, a, s in DIPS:
        out = out - a * tg.exp(-((x - cx) ** 2 + (y - cy) ** 2) / s)
    return out


def assert_in_the_pit(r, max_step=2.0):
    assert np.all(r.history >= 0) and np.all(r.history <= 6), r.history
    steps = np.linalg.norm(np.diff(r.history, axis=0), axis=1)
    assert np.all(steps <= max_step * (1 + 1e-12)), steps.max()


@pytest.mark.parametrize("x0", [[1.0, 1.0], [5.5, 0.5], [0.2, 0.2]])
def test_newton_minimize_stays_in_the_sandpit(x0):
    free = opt.newton_minimize(sandpit, x0, max_iter=20)
    assert np.min(free.history) < -100  # without the box it runs off across the tilted plain
    r = opt.newton_minimize(sandpit, x0, bounds=PIT, max_step=2)
    assert_in_the_pit(r)
    assert r.converged and r.classification == "minimum" and r.n_capped >= 1, r.message
    assert "capped at max_step=2" in r.message
    assert np.max(np.abs(tg.grad(lambda v: sandpit(v[0], v[1]))(r.x))) < 1e-8  # a true dip, not stuck on a wall
    assert not r.bound_active


def test_gradient_descent_and_newton_raphson_stay_in_the_sandpit():
    r = opt.gradient_descent(sandpit, [5.5, 0.5], lr=0.5, bounds=PIT, max_step=0.5)
    assert_in_the_pit(r, 0.5)
    assert r.converged and r.n_capped >= 1
    np.testing.assert_allclose(r.x, opt.newton_minimize(sandpit, [3.0, 1.5]).x, atol=1e-7)
    # Newton-Raphson on the gradient, the course's sandpit exercise: every stationary point, inside the pit.
    grad = tg.grad(lambda v: sandpit(v[0], v[1]))
    free = opt.newton_raphson(grad, [5.5, 0.5])
    assert free.history.max() > 20  # without the box, thrown far out of the pit
    r = opt.newton_raphson(grad, [5.5, 0.5], bounds=PIT, max_step=2)
    assert_in_the_pit(r)
    assert r.converged and r.n_capped == 4 and r.n_clipped == 6 and np.max(np.abs(grad(r.x))) < 1e-12
    assert "4 steps capped at max_step=2; 6 steps cut by a bound" in r.message
    for x0 in ([0.2, 0.2], [0.5, 3.0]):  # the tilt pushes Newton-Raphson against the wall x = 0: it says so
        r = opt.newton_raphson(grad, x0, bounds=PIT, max_step=2)
        assert_in_the_pit(r)
        assert not r.converged and r.bound_active and "x ends on a bound (x[0] = 0)" in r.message


def test_a_minimum_on_the_boundary_converges_with_the_projected_gradient():
    f = lambda x, y: (x + 1) ** 2 + (y - 2) ** 2  # noqa: E731  (unconstrained minimum at (−1, 2))
    for r in (opt.newton_minimize(f, [3.0, 3.0], bounds=PIT), opt.gradient_descent(f, [3.0, 3.0], bounds=PIT)):
        assert r.converged and r.bound_active and r.classification == "minimum", r.message
        np.testing.assert_allclose(r.x, [0.0, 2.0], atol=1e-8)
        assert "x ends on a bound (x[0] = 0)" in r.message and r.n_clipped >= 1
    r = opt.newton_minimize(f, [3.0, 3.0], bounds=PIT)
    assert r.n_iter == 1  # the Newton step to (−1, 2), projected: the gradient (2, 0) pushes out, so it is done


def test_newton_raphson_with_bounds_and_a_step_cap():
    r = opt.newton_raphson(lambda x: x ** 2 - 2, 2.5, max_step=0.1)
    assert r.converged and abs(r.x - np.sqrt(2)) < 1e-14 and r.n_capped == 10  # 2.5 → 1.5 in ten 0.1 steps
    np.testing.assert_allclose(r.history[:11], 2.5 - 0.1 * np.arange(11), atol=1e-12)
    r = opt.newton_raphson(lambda x: x ** 2 - 2, 2.5, bounds=(2, 3))  # the root √2 lies outside
    assert not r.converged and "no root inside the bounds" in r.message and r.x == 2.0 and r.bound_active


@pytest.mark.parametrize("kwargs, match", [
    ({"bounds": [(0, 6)]}, "1 pairs but x0 has 2 entries"), ({"bounds": [(0, 6), (3, 1)]}, "lo > hi"),
    ({"bounds": [(2, 6), (0, 6)]}, r"x0\[0\] = 1 is outside its bounds"), ({"max_step": 0}, "max_step"),
    ({"bounds": [(0, 6), "ab"]}, "number or None"),
])
def test_bad_bounds_and_caps_are_named(kwargs, match):
    for fn, f in ((opt.newton_minimize, lambda v: (v ** 2).sum()), (opt.gradient_descent, lambda v: (v ** 2).sum()),
                  (opt.newton_raphson, lambda v: v * 2)):
        with pytest.raises(ValueError, match=match):
            fn(f, [1.0, 1.0], **kwargs)


def test_bounds_with_an_open_side_and_a_structured_start():
    r = opt.newton_minimize(lambda v: ((v - 5) ** 2).sum(), [0.0, 0.0], bounds=[(None, 2), None])
    np.testing.assert_allclose(r.x, [2.0, 5.0], atol=1e-10)
    r = opt.gradient_descent(lambda p: ((p["w"] + 1) ** 2).sum(), {"w": np.ones(2)}, lr=0.25, bounds=(0, None))
    assert r.converged and r.x["w"].tolist() == [0.0, 0.0]


# =============================================================================== kind of point; pure Newton

def test_pure_newton_walks_to_a_maximum_or_a_saddle_and_says_which():
    r = opt.newton_minimize(lambda x, y: -(x ** 2 + y ** 2) + x ** 4, [0.2, 0.3], modify_hessian=False)
    assert r.converged and r.classification == "maximum" and "a maximum" in r.message
    assert np.max(np.abs(r.x)) < 1e-9
    # the hand model: x ← x − f'(x)/f''(x) in x, one exact step in y
    x = 0.2
    for row in r.history[1:]:
        x = x - (-2 * x + 4 * x ** 3) / (-2 + 12 * x ** 2)
        np.testing.assert_allclose(row, [x, 0.0], atol=1e-15)
    shifted = opt.newton_minimize(lambda x, y: -(x ** 2 + y ** 2) + x ** 4 + y ** 4, [0.2, 0.3])
    assert shifted.classification == "minimum" and np.allclose(np.abs(shifted.x), np.sqrt(0.5))
    saddle = opt.newton_minimize(lambda x, y: x ** 2 - y ** 2, [1.0, 1.0], modify_hessian=False)
    assert saddle.n_iter == 1 and saddle.classification == "saddle" and saddle.x.tolist() == [0.0, 0.0]
    flat = opt.newton_minimize(lambda x, y: (x - y) ** 2, [1.0, 0.0])
    assert flat.converged and flat.classification == "degenerate"
    singular = opt.newton_minimize(lambda x, y: x + y, [1.0, 0.0], modify_hessian=False)
    assert not singular.converged and "singular Hessian" in singular.message


def test_gradient_descent_names_the_kind_too():
    r = opt.gradient_descent(lambda v: ((v - 1) ** 2).sum(), [0.0, 0.0], lr=0.25)
    assert r.classification == "minimum" and r.message.endswith("; a minimum")


def test_newton_raphson_on_the_gradient_finds_the_maximum():
    f = lambda v: -(v ** 2).sum()  # noqa: E731
    r = opt.newton_raphson(tg.grad(f), [1.0, 2.0])
    assert r.converged and r.x.tolist() == [0.0, 0.0]
    g2 = tg.grad(lambda x, y: -(x ** 2 + y ** 2), argnums=(0, 1))  # f(x, y): its gradient is a tuple
    assert opt.newton_raphson(g2, [1.0, 2.0]).x.tolist() == [0.0, 0.0]
    with pytest.raises(ValueError, match=r"argnums=\(0, 1, \.\.\.\)"):
        opt.newton_raphson(tg.grad(lambda x, y: -(x ** 2 + y ** 2)), [1.0, 2.0])


# =============================================================================== secant

def quartic(x):
    return (x - 1) * (x - 2) * (x - 3) * (x + 1)  # roots −1, 1, 2, 3


@pytest.mark.parametrize("f, x0", [(quartic, 2.5), (quartic, -0.3), (lambda x: x ** 3 - 2 * x - 5, 0.0),
                                   (lambda x: np.cos(x) - x if isinstance(x, float) else tg.cos(x) - x, -2.0)])
def test_secant_reproduces_scipy_newton_without_fprime(f, x0):
    calls = []
    root = so.newton(lambda x: calls.append(x) or float(f(x)), x0, tol=1e-14, maxiter=100)
    r = opt.newton_raphson(f, x0, method="secant", max_iter=100)
    assert r.converged, r.message
    assert abs(r.x - root) <= 1e-12 * max(1.0, abs(root))
    k = min(len(calls), r.n_iter + 1)
    np.testing.assert_allclose(r.history[:k], calls[:k], rtol=1e-12, atol=1e-12)  # the same iterates
    assert r.history[1] == x0 * (1 + 1e-4) + (1e-4 if x0 >= 0 else -1e-4)
    np.testing.assert_allclose(r.values, [float(f(float(h))) for h in r.history], atol=1e-12)


def test_newton_and_secant_reach_different_roots_from_the_same_start():
    newton = opt.newton_raphson(quartic, 2.5)
    secant = opt.newton_raphson(quartic, 2.5, method="secant")
    assert newton.converged and secant.converged
    assert abs(newton.x + 1) < 1e-12 and abs(secant.x - 2) < 1e-12


def test_secant_is_scalar_only_and_checks_its_method():
    with pytest.raises(ValueError, match="secant.*x0 has 2 entries; use method='newton'"):
        opt.newton_raphson(lambda v: v ** 2 - 1, [1.0, 2.0], method="secant")
    with pytest.raises(ValueError, match="method must be 'newton' or 'secant'"):
        opt.newton_raphson(lambda x: x, 1.0, method="bisect")
    flat = opt.newton_raphson(lambda x: x * 0 + 1, 1.0, method="secant")
    assert not flat.converged and "flat" in flat.message


# =============================================================================== f(x, y)

def test_every_optimize_function_takes_separate_arguments():
    f2 = lambda x, y: (x - 1) ** 2 + 3 * (y + 2) ** 2 + x * y  # noqa: E731
    fv = lambda v: f2(v[0], v[1])  # noqa: E731
    for fn, kw in ((opt.gradient_descent, {"lr": 0.1}), (opt.newton_minimize, {})):
        a, b = fn(f2, [0.0, 0.0], **kw), fn(fv, [0.0, 0.0], **kw)
        assert a.converged and np.array_equal(a.history, b.history)
    system = opt.newton_raphson(lambda x, y: (x ** 2 + y ** 2 - 4, x * y - 1), [2.0, 0.5])
    x = np.sqrt(2 + np.sqrt(3))
    np.testing.assert_allclose(system.x, [x, 1 / x], rtol=1e-13)
    r = opt.lagrange_multipliers(lambda x, y: x ** 2 * y, lambda x, y: x ** 2 + y ** 2 - 3, [1.0, 1.5])
    np.testing.assert_allclose(r.x, [np.sqrt(2), 1.0], atol=1e-12)
    r = opt.lagrange_multipliers(lambda x, y, z: x + 2 * y + 3 * z,
                                 [lambda x, y, z: x - y + z - 1, lambda x, y, z: x ** 2 + y ** 2 - 1], [0.0, 1.0, 1.0])
    assert r.converged and abs(r.fun - (3 + np.sqrt(29))) < 1e-12
    both = opt.lagrange_multipliers(lambda x, y: x + y, lambda x, y: (x ** 2 + y ** 2 - 1, x - y), [0.5, 0.4])
    assert both.classification == "isolated" and np.allclose(both.x, [np.sqrt(0.5)] * 2)


@pytest.mark.parametrize("call, where", [
    (lambda: opt.gradient_descent(lambda x, y, z: x, [1.0, 2.0]), "gradient_descent"),
    (lambda: opt.newton_minimize(lambda x, y, z: x, [1.0, 2.0]), "newton_minimize"),
    (lambda: opt.newton_raphson(lambda x, y, z: x, [1.0, 2.0]), "newton_raphson"),
    (lambda: opt.lagrange_multipliers(lambda x, y, z: x, lambda v: v[0], [1.0, 2.0]), "lagrange_multipliers"),
    (lambda: opt.lagrange_multipliers(lambda v: v[0], [lambda x, y, z: x], [1.0, 2.0]),
     r"lagrange_multipliers \(constraint 0\)"),
])
def test_a_wrong_argument_count_is_one_named_type_error(call, where):
    with pytest.raises(TypeError, match=rf"^{where}: f takes 3 separate arguments \(x, y, z\) but the start point "
                                        r"has 2 entries"):
        call()


# =============================================================================== a fixed number of steps

@pytest.mark.parametrize("tol", [None, 0, 0.0])
def test_gradient_descent_runs_exactly_max_iter_steps(tol):
    r = opt.gradient_descent(lambda x: x ** 2, 1.0, lr=0.1, tol=tol, max_iter=25)
    assert r.n_iter == 25 and r.history.shape == (26,) and not r.converged
    np.testing.assert_allclose(r.history, 0.8 ** np.arange(26), rtol=1e-13)  # x ← x − 0.1·2x
    assert r.message == f"ran the fixed max_iter=25 steps (tol={tol!r}): |grad f| = {2 * 0.8 ** 25:.3g}"
    exact = opt.gradient_descent(lambda x: (x - 3) ** 2, 0.0, lr=0.5, tol=tol, max_iter=5)  # at 3 after one step
    assert exact.n_iter == 5 and exact.history.tolist() == [0.0] + [3.0] * 5
    assert opt.gradient_descent(lambda x: (x - 3) ** 2, 0.0, lr=0.5).n_iter == 1  # with a tolerance: stops
    with pytest.raises(ValueError, match="None / 0 for exactly max_iter steps"):
        opt.gradient_descent(lambda x: x ** 2, 1.0, tol=-1.0)


def test_secant_steps_that_stall_at_a_turning_point_are_not_called_a_root():
    # The course's sextic from -1.5: the chords pile up at its local maximum x = -0.9724, where
    # f = -36.7. SciPy's newton (no fprime) returns that point as a root; we must not.
    sextic = lambda x: x ** 6 / 6 - 3 * x ** 4 - 2 * x ** 3 / 3 + 27 * x ** 2 / 2 + 18 * x - 30
    stalled = so.newton(lambda x: sextic(x), -1.5)
    r = tg.optimize.newton_raphson(sextic, -1.5, method="secant")
    assert float(r.x) == pytest.approx(stalled, abs=1e-9)  # the same iterates as SciPy...
    assert abs(float(r.fun)) > 30
    assert not r.converged and r.message.startswith("stalled, not a root")  # ...but not its verdict
    assert "f(x) = -36.6665" in r.message
