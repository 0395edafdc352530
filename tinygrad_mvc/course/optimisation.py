"""Course topic 5, optimisation: Newton-Raphson, gradient descent and Lagrange multipliers.

Every derivative, gradient and Hessian comes from the engine: ``tg.optimize`` differentiates the function
itself. Three jobs:

``newton_raphson``
    Newton-Raphson on the course's sextic, with the iterates drawn on the curve, and a start that cycles.

    f(x) = x⁶/6 − 3x⁴ − 2x³/3 + 27x²/2 + 18x − 30 has two real roots, near −3.76 and 1.06. Each Newton
    step x ← x − f(x)/f'(x) slides down the tangent at (x, f(x)) to where it crosses zero; f' comes from
    the engine (tg.optimize.newton_raphson differentiates f itself). Starting near the flat parts of the
    curve sends the next iterate far away (x₀ = 1.99 ends at the far root), and starting exactly on a
    turning point (x₀ = 2, where f'(2) = 0) stops at once with the reason. The textbook cubic
    x³ − 2x + 2 from x₀ = 0 cycles 0 → 1 → 0 → ...: the method reports the cycle instead of looping.

    - newton_sextic.png      the sextic with its starts and roots, then one panel per start (x₀ = −4, 0.3, 1.99)
                             with the tangent steps, its limits holding every iterate (symlog when they span decades)
    - newton_secant.png      (x − 1)(x − 2)(x − 3)(x + 1) from x₀ = 2.5: Newton's tangents reach −1, the secant
                             method's chords (no derivative, scipy.optimize.newton without fprime) reach 2;
                             the printout adds the sextic from x₀ = −0.1, where the two split as well
    - newton_cycle.png       x³ − 2x + 2 and the two-step cycle from x₀ = 0

    The heart of it:  r = tg.optimize.newton_raphson(f, x0); r.x, r.converged, r.message, r.history;
    tg.optimize.newton_raphson(f, x0, method="secant")

``gradient_descent``
    Gradient descent, momentum and Newton's method as paths on contour maps.

    Every gradient and Hessian comes from the engine (tg.optimize differentiates f itself).

    - descent_bowl.png        an elongated quadratic bowl f = x² + 10y² (condition number 10): plain gradient
                              descent zig-zags across the valley, momentum (heavy ball) damps the zig-zag and
                              arrives in fewer steps, Newton lands on the minimum in one step
    - descent_rosenbrock.png  Rosenbrock's banana (1 − x)² + 100(y − x²)² from (−1.2, 1): plain descent and
                              momentum run a fixed 2000 steps (``tol=None``, the course's loop) and crawl along
                              the curved valley, damped Newton reaches (1, 1) in about twenty steps
    - descent_stationary.png  (x² − 1)² + (y² − 1)², written f(x, y): pure Newton (``modify_hessian=False``)
                              walks to the nearest stationary point, a maximum from (0.3, 0.4) and a saddle from
                              (0.7, 0.3), and ``classification`` names it; modified Newton goes to a minimum

    The heart of it:  tg.optimize.gradient_descent(f, x0, lr, momentum=0.9, tol=None); tg.optimize.newton_minimize(
    f, x0, modify_hessian=False).classification; tg.viz.plot_descent(f, {"plain": r1, "momentum": r2, "Newton": r3})

``lagrange_multipliers``
    The extrema of x²y on the circle x² + y² = 3, where ∇f is parallel to ∇g.

    Newton's method on the gradient of the Lagrangian L = f − λg (its Hessian from the engine) finds a
    stationary point from each start; the bordered Hessian classifies it. Worked by hand: ∇f = λ∇g gives
    2xy = 2λx and x² = 2λy, so either x = 0 (y = ±√3, λ = 0, f = 0) or y = λ, x² = 2y², y = ±1: the
    maxima (±√2, 1) with f = 2 and λ = 1, the minima (±√2, −1) with f = −2 and λ = −1. On the circle
    (0, √3) is a local minimum of f and (0, −√3) a local maximum.

    - lagrange_circle.png     tg.viz.plot_lagrange: contours of x²y, the constraint circle, the six stationary
                              points with ∇f (red) along ∇g (white) at each, each marked with its kind, f and λ
    - lagrange_on_circle.png  f along the circle, x = √3 cos t, y = √3 sin t, with the points marked

    The heart of it:  r = tg.optimize.lagrange_multipliers(f, g, x0) with f(x, y), g(x, y); r.x, r.multipliers,
    r.classification; tg.viz.plot_lagrange(f, g, results)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import tinygrad_mvc as tg

from .jobs import Job, JobResult, finish

__all__ = ["TITLE", "SUMMARY", "JOBS", "sextic", "cubic", "quartic", "real_roots", "bowl", "rosenbrock", "wells",
           "lagrange_f", "lagrange_g", "solve_lagrange"]

TITLE = "Optimisation"
SUMMARY = "finding roots, minima and constrained extrema: Newton-Raphson, gradient descent, Lagrange multipliers"

# =============================================================================== newton_raphson

NEWTON_RAPHSON = "newton_raphson"
NEWTON_STARTS = (-4.0, 0.3, 1.99)
COEFFICIENTS = (1 / 6, 0.0, -3.0, -2 / 3, 27 / 2, 18.0, -30.0)  # of the sextic, highest power first


def sextic(x: tg.Tensor) -> tg.Tensor:
    return x ** 6 / 6 - 3 * x ** 4 - 2 * x ** 3 / 3 + 27 * x ** 2 / 2 + 18 * x - 30


def cubic(x: tg.Tensor) -> tg.Tensor:
    return x ** 3 - 2 * x + 2


def quartic(x: tg.Tensor) -> tg.Tensor:
    """(x − 1)(x − 2)(x − 3)(x + 1): from x₀ = 2.5 Newton and the secant method find different roots."""
    return (x - 1) * (x - 2) * (x - 3) * (x + 1)


QUARTIC_ROOTS, QUARTIC_START = np.array([-1.0, 1.0, 2.0, 3.0]), 2.5
SEXTIC_SPLIT = -0.1  # a start from which Newton and the secant reach different roots of the sextic too


def real_roots() -> np.ndarray:
    """The sextic's real roots from numpy's companion-matrix eigenvalues: an independent reference."""
    roots = np.roots(COEFFICIENTS)
    return np.sort(roots[np.abs(roots.imag) < 1e-9].real)


def draw_steps(ax: object, f: object, result: object, color: str, label: str) -> None:
    """Each step as the course draws it: up to the curve at x_k, then along the tangent down to x_{k+1} on the axis.

    The tangent is drawn through many points, so that it stays the true tangent on a symlog axis too.
    """
    xs, ys = np.asarray(result.history, dtype=float), np.asarray(result.values, dtype=float)
    for k in range(len(xs) - 1):
        t = np.linspace(0.0, 1.0, 60)
        ax.plot([xs[k], xs[k]], [0, ys[k]], ":", color=color, lw=1)
        ax.plot(xs[k] + t * (xs[k + 1] - xs[k]), ys[k] * (1 - t), "-", color=color, lw=1.3)
    ax.plot(xs, ys, "o", color=color, ms=5, label=label)


def draw_chords(ax: object, f: object, result: object, color: str, label: str) -> None:
    """The secant's steps: the chord through the last two iterates, (x_{k−1}, f_{k−1}) and (x_k, f_k), down to
    where it crosses zero, x_{k+1} (the first two iterates are the two starts)."""
    xs, ys = np.asarray(result.history, dtype=float), np.asarray(result.values, dtype=float)
    for k in range(1, len(xs) - 1):
        ax.plot([xs[k + 1], xs[k + 1]], [0, ys[k + 1]], ":", color=color, lw=1)
        span = xs[k - 1:k + 2]  # the chord covers both its points and where it crosses zero
        line = np.linspace(span.min(), span.max(), 60)
        slope = (ys[k] - ys[k - 1]) / (xs[k] - xs[k - 1])
        ax.plot(line, ys[k] + (line - xs[k]) * slope, "-", color=color, lw=1.3)
    ax.plot(xs, ys, "o", color=color, ms=5, label=label)


def step_panel(ax: object, f: object, result: object, color: str, label: str, roots: np.ndarray,
               draw: object = draw_steps, symlog: bool | None = None, linthresh: float = 10.0) -> None:
    """One start's iterates on f, with limits that hold every iterate (a symlog y-axis, linear within
    ±``linthresh``, when they span decades, or as ``symlog`` says); ``draw`` draws the steps
    (:func:`draw_steps`: tangents, :func:`draw_chords`: chords)."""
    xs, ys = np.asarray(result.history, dtype=float), np.asarray(result.values, dtype=float)
    lo, hi = float(xs.min()), float(xs.max())
    pad = 0.08 * (hi - lo) + 0.05
    grid = np.linspace(lo - pad, hi + pad, 800)
    curve = f(tg.tensor(grid)).data
    ax.plot(grid, curve, color="black", lw=2, label="f(x)")
    ax.axhline(0, color="gray", lw=0.8)
    draw(ax, f, result, color, label)
    shown = roots[(roots >= grid[0]) & (roots <= grid[-1])]
    ax.plot(shown, np.zeros_like(shown), "*", color="gold", mec="black", ms=13, zorder=5, label="root")
    ylo, yhi = min(float(ys.min()), 0.0), max(float(ys.max()), 0.0)
    if (yhi - ylo > 1e3) if symlog is None else symlog:  # values span decades: symlog shows far steps and root
        ax.set_yscale("symlog", linthresh=linthresh)
        ax.set_ylim(ylo * 2 if ylo < 0 else -linthresh, yhi * 3)
    else:
        ypad = 0.12 * (yhi - ylo) + 0.5
        ax.set_ylim(ylo - ypad, yhi + ypad)
    ax.set_xlim(grid[0], grid[-1])
    ax.set_xlabel("x")
    ax.set_ylabel("f(x)" + (" (symlog scale)" if ax.get_yscale() == "symlog" else ""))
    ax.set_title(label, fontsize="medium")
    ax.grid(alpha=0.3)


def run_newton_raphson(out_dir: Path) -> JobResult:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    result = JobResult(NEWTON_RAPHSON)
    roots = real_roots()
    failures = []
    fig, axes = plt.subplots(2, 2, figsize=(11, 8.2), layout="constrained")
    overview, panels = axes[0, 0], [axes[0, 1], axes[1, 0], axes[1, 1]]
    grid = np.linspace(-4.3, 3.3, 600)
    curve = sextic(tg.tensor(grid)).data
    overview.plot(grid, curve, color="black", lw=2, label="f(x)")
    overview.axhline(0, color="gray", lw=0.8)
    colors = ("royalblue", "seagreen", "crimson")
    for x0, color, ax in zip(NEWTON_STARTS, colors, panels, strict=True):
        r = tg.optimize.newton_raphson(sextic, x0)
        nearest = roots[np.argmin(np.abs(roots - float(r.x)))]
        result.summary.append(f"x0 = {x0:5}: {r.message}; root {float(r.x):.12f}")
        if not r.converged or abs(float(r.x) - nearest) > 1e-10:
            failures.append(f"x0 = {x0} did not reach a root ({r.message})")
        step_panel(ax, sextic, r, color, f"x₀ = {x0:g}: {r.n_iter} steps → {float(r.x):.6f}", roots)
        overview.plot([x0], [sextic(tg.tensor(x0)).item()], "o", color=color, ms=7, mec="black",
                      label=f"start x₀ = {x0:g}")
    flat = tg.optimize.newton_raphson(sextic, 2.0)
    result.summary.append(f"x0 =   2.0: {flat.message}")
    if flat.converged or "zero derivative" not in flat.message:
        failures.append(f"x0 = 2 (f'(2) = 0) was not reported as a zero derivative: {flat.message}")
    overview.plot(roots, np.zeros_like(roots), "*", color="gold", mec="black", ms=15, zorder=5,
                  label="roots (numpy.roots)")
    overview.set_ylim(float(curve.min()) - 10, 80)  # the whole dip; the steep arms leave at the top
    overview.set_xlim(grid[0], grid[-1])
    overview.set_xlabel("x")
    overview.set_ylabel("f(x)")
    overview.set_title("f, the starts and the roots", fontsize="medium")
    overview.legend(fontsize="small", loc="upper left", bbox_to_anchor=(0.3, 1.0))
    overview.grid(alpha=0.3)
    fig.suptitle("Newton-Raphson on x⁶/6 − 3x⁴ − 2x³/3 + 27x²/2 + 18x − 30: the tangent steps from each start")
    files = {"newton_sextic.png": (fig, "Newton-Raphson on the course's sextic: from each start x₀ the iterates "
                                        "slide down tangent lines to where they cross zero, reaching one of "
                                        "its two roots.")}

    fig, lines, bad = _secant_figure(roots)
    result.summary += lines
    failures += bad
    files["newton_secant.png"] = (fig, f"Newton (tangents) and the secant method (chords through the last two "
                                       f"iterates, no derivative: scipy.optimize.newton without fprime) from "
                                       f"the same x₀ = {QUARTIC_START:g} reach different roots.")

    cycle = tg.optimize.newton_raphson(cubic, 0.0)
    result.summary.append(f"x^3 - 2x + 2 from x0 = 0: {cycle.message}; iterates {cycle.history.tolist()}")
    if cycle.converged or "cycle" not in cycle.message:
        failures.append(f"the cubic from 0 was not reported as a cycle: {cycle.message}")
    fig, ax = plt.subplots(figsize=(7, 4.6))
    grid = np.linspace(-2.2, 1.8, 400)
    ax.plot(grid, cubic(tg.tensor(grid)).data, color="black", lw=2, label="x³ − 2x + 2")
    ax.axhline(0, color="gray", lw=0.8)
    draw_steps(ax, cubic, cycle, "crimson", "x₀ = 0 → 1 → 0 → ... (a cycle)")
    real = tg.optimize.newton_raphson(cubic, -2.0)
    draw_steps(ax, cubic, real, "royalblue", f"x₀ = −2 → root {float(real.x):.6f}")
    ax.set_xlabel("x")
    ax.set_ylabel("f(x)")
    ax.set_title("a start that cycles: " + cycle.message.split(";")[0].removeprefix("cycle: "))
    ax.legend(fontsize="small", loc="upper left")
    ax.grid(alpha=0.3)
    files["newton_cycle.png"] = (fig, "x³ − 2x + 2 from x₀ = 0: the tangent steps jump 0 → 1 → 0 → … for "
                                      "ever (the method reports the cycle), while x₀ = −2 finds the root.")

    return finish(result, out_dir, files, failures)


def _secant_figure(sextic_roots: np.ndarray) -> tuple[object, list[str], list[str]]:
    """Newton beside the secant method on :func:`quartic` from one start; the printout and any failure."""
    import matplotlib.pyplot as plt

    opt = tg.optimize
    newton = opt.newton_raphson(quartic, QUARTIC_START)
    secant = opt.newton_raphson(quartic, QUARTIC_START, method="secant")
    lines = [f"(x-1)(x-2)(x-3)(x+1) from x0 = {QUARTIC_START:g}: Newton -> {float(newton.x):.12f} in "
             f"{newton.n_iter} steps, secant -> {float(secant.x):.12f} in {secant.n_iter} steps"]
    failures = []
    for r, want in ((newton, -1.0), (secant, 2.0)):  # the docs' lesson: two methods, one start, two roots
        if not (r.converged and abs(float(r.x) - want) < 1e-10):
            failures.append(f"the quartic from {QUARTIC_START:g}: expected root {want:g}, got {r.x} ({r.message})")
    split = {m: opt.newton_raphson(sextic, SEXTIC_SPLIT, method=m) for m in ("newton", "secant")}
    lines.append(f"the sextic from x0 = {SEXTIC_SPLIT:g}: Newton -> {float(split['newton'].x):.9f}, secant -> "
                 f"{float(split['secant'].x):.9f}")
    ends = [sextic_roots[np.argmin(np.abs(sextic_roots - float(r.x)))] for r in split.values()]
    if not (all(r.converged for r in split.values()) and ends[0] != ends[1]
            and all(abs(float(r.x) - e) < 1e-9 for r, e in zip(split.values(), ends, strict=True))):
        failures.append(f"the sextic from {SEXTIC_SPLIT:g}: Newton and the secant should reach two different roots")

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6), layout="constrained")
    for ax, r, draw, color, how, symlog in (
            (axes[0], newton, draw_steps, "royalblue", "Newton, f′ by autodiff", True),
            (axes[1], secant, draw_chords, "crimson", "secant, no derivative", False)):
        label = f"{how}: {r.n_iter} steps → {float(r.x):.6g}"
        # Newton's second tangent, almost flat, throws it to x ≈ −4.5 where f ≈ 960: symlog, linear within ±1
        step_panel(ax, quartic, r, color, label, QUARTIC_ROOTS, draw=draw, symlog=symlog, linthresh=1.0)
        ax.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.16), ncols=3, frameon=False)
    fig.suptitle(f"(x − 1)(x − 2)(x − 3)(x + 1) from x₀ = {QUARTIC_START:g}: Newton's tangents and the secant's "
                 "chords reach different roots")
    return fig, lines, failures


# =============================================================================== gradient_descent

GRADIENT_DESCENT = "gradient_descent"


def bowl(v: tg.Tensor) -> tg.Tensor:
    return v[0] ** 2 + 10 * v[1] ** 2


def rosenbrock(v: tg.Tensor) -> tg.Tensor:
    return (1 - v[0]) ** 2 + 100 * (v[1] - v[0] ** 2) ** 2


def wells(x: tg.Tensor, y: tg.Tensor) -> tg.Tensor:
    """(x² − 1)² + (y² − 1)²: minima at (±1, ±1), a maximum at (0, 0), saddles at (0, ±1) and (±1, 0)."""
    return (x ** 2 - 1) ** 2 + (y ** 2 - 1) ** 2


WELLS_POINTS = {"maximum": [(0, 0)], "saddle": [(0, 1), (0, -1), (1, 0), (-1, 0)],
                "minimum": [(1, 1), (1, -1), (-1, 1), (-1, -1)]}
WELLS_RUNS = (  # (label, start, modify_hessian, the kind of point it must reach, that point)
    ("pure Newton", (0.3, 0.4), False, "maximum", (0, 0)), ("pure Newton", (0.7, 0.3), False, "saddle", (1, 0)),
    ("modified Newton", (0.3, 0.4), True, "minimum", (1, 1)))


def _stationary_figure(result: JobResult, failures: list[str]) -> object:
    """Pure Newton walking to a maximum and a saddle of :func:`wells`, modified Newton to a minimum."""
    from tinygrad_mvc.viz.descent import legend_under

    paths = {}
    result.summary.append("(x² − 1)² + (y² − 1)²: Newton's method finds any stationary point; the Hessian says which:")
    for label, start, modify, kind, end in WELLS_RUNS:
        r = tg.optimize.newton_minimize(wells, start, modify_hessian=modify)
        point = ", ".join(f"{v + 0.0:g}" for v in np.round(r.x, 6))
        paths[f"{label} from {start}: {r.n_iter} steps → {r.classification} ({point})"] = r
        result.summary.append(f"  {label:15} (modify_hessian={modify!s:5}) from {start}: {r.message}; x = ({point})")
        if not (r.converged and r.classification == kind and np.allclose(r.x, end, atol=1e-9)):
            failures.append(f"{label} from {start}: expected the {kind} at {end}, got {r.x} ({r.message})")
    fig = tg.viz.plot_descent(wells, paths, xlim=(-1.6, 1.6), ylim=(-1.6, 1.6), levels=25, log=False,
                              title="pure Newton walks to the nearest stationary point, modified Newton downhill")
    ax = fig.axes[0]
    for kind, marker in (("maximum", "^"), ("saddle", "D"), ("minimum", "v")):
        pts = np.array(WELLS_POINTS[kind], dtype=float)
        ax.plot(pts[:, 0], pts[:, 1], marker, ls="none", color="white", mec="black", ms=7, zorder=1.9,
                label=f"every {kind} of f")
    legend_under(ax)  # again, with the stationary points
    return fig


def run_gradient_descent(out_dir: Path) -> JobResult:
    import matplotlib

    matplotlib.use("Agg")

    result = JobResult(GRADIENT_DESCENT)
    failures = []
    opt = tg.optimize

    x0 = np.array([-4.5, 1.5])
    bowl_paths = {
        "gradient descent (lr 0.09)": opt.gradient_descent(bowl, x0, lr=0.09, max_iter=500),
        "momentum 0.5 (lr 0.09)": opt.gradient_descent(bowl, x0, lr=0.09, momentum=0.5, max_iter=500),
        "Newton": opt.newton_minimize(bowl, x0),
    }
    result.summary.append("quadratic bowl x² + 10y² from (−4.5, 1.5):")
    for label, r in bowl_paths.items():
        x = (np.round(r.x, 8) + 0.0).tolist()  # + 0.0: no -0 in the printout
        result.summary.append(f"  {label:28} {r.n_iter:4} steps, x = {x} ({r.message})")
        if not (r.converged and np.allclose(r.x, 0, atol=1e-6)):
            failures.append(f"bowl, {label}: {r.message}")
    plain, heavy, newton = (bowl_paths[k].n_iter for k in bowl_paths)
    if not (newton == 1 and heavy < plain):
        failures.append(f"expected Newton in one step and momentum faster than plain descent: {newton}, {heavy}, "
                        f"{plain} steps")
    fig = tg.viz.plot_descent(bowl, bowl_paths, xlim=(-5, 5), ylim=(-2, 2), levels=25, log=False,
                              title="x² + 10y²: plain, momentum and Newton")
    files = {"descent_bowl.png": (fig, "Descent on the elongated bowl x² + 10y²: plain gradient descent "
                                       "zig-zags across the valley, momentum damps it, Newton jumps to the "
                                       "minimum in one step.")}

    start = np.array([-1.2, 1.0])
    rosen_paths = {  # the course's loop: a fixed number of steps (tol=None), wherever they end
        "momentum 0.9 (lr 1e-3), 2000 steps": opt.gradient_descent(rosenbrock, start, lr=1e-3, momentum=0.9,
                                                                   max_iter=2000, tol=None),
        "gradient descent (lr 1e-3), 2000 steps": opt.gradient_descent(rosenbrock, start, lr=1e-3, max_iter=2000,
                                                                       tol=None),
        "damped Newton": opt.newton_minimize(rosenbrock, start),
    }
    result.summary.append("Rosenbrock from (−1.2, 1):")
    for label, r in rosen_paths.items():
        result.summary.append(f"  {label:40} {r.n_iter:5} steps, x = {np.round(r.x, 6).tolist()}, "
                              f"f = {float(r.fun):.3g} ({r.message})")
    newton_r = rosen_paths["damped Newton"]
    if not (newton_r.converged and np.allclose(newton_r.x, [1, 1], atol=1e-8)):
        failures.append(f"Newton did not reach (1, 1) on Rosenbrock: {newton_r.message}")
    for label, r in rosen_paths.items():
        if not r.fun < rosenbrock(tg.tensor(start)).item():
            failures.append(f"Rosenbrock, {label}: f did not decrease")
    fig = tg.viz.plot_descent(rosenbrock, rosen_paths, xlim=(-1.6, 1.6), ylim=(-0.6, 1.6),
                              title="Rosenbrock: momentum, plain descent and damped Newton")
    files["descent_rosenbrock.png"] = (fig, "Rosenbrock's banana valley from (−1.2, 1): gradient descent "
                                            "and momentum crawl along the curved floor, damped Newton "
                                            "reaches the minimum (1, 1) in about twenty steps.")
    files["descent_stationary.png"] = (_stationary_figure(result, failures),
                                       "Pure Newton (modify_hessian=False) walks to the nearest stationary point, "
                                       "here a maximum and a saddle, named by the Hessian's eigenvalues; modified "
                                       "Newton goes downhill to a minimum.")

    return finish(result, out_dir, files, failures)


# =============================================================================== lagrange_multipliers

LAGRANGE_MULTIPLIERS = "lagrange_multipliers"
R3, R2 = np.sqrt(3.0), np.sqrt(2.0)
LAGRANGE_STARTS = ((1.0, 1.5), (-1.0, 1.5), (1.0, -1.5), (-1.0, -1.0), (0.2, 1.6), (0.2, -1.6))
# (x, y, λ, f, kind), worked out by hand in the docstring
LAGRANGE_EXPECTED = [(R2, 1.0, 1.0, 2.0, "maximum"), (-R2, 1.0, 1.0, 2.0, "maximum"),
                     (R2, -1.0, -1.0, -2.0, "minimum"), (-R2, -1.0, -1.0, -2.0, "minimum"),
                     (0.0, R3, 0.0, 0.0, "minimum"), (0.0, -R3, 0.0, 0.0, "maximum")]


def lagrange_f(x: tg.Tensor, y: tg.Tensor) -> tg.Tensor:
    return x ** 2 * y


def lagrange_g(x: tg.Tensor, y: tg.Tensor) -> tg.Tensor:
    return x ** 2 + y ** 2 - 3


def solve_lagrange() -> tuple[list[object], list[str]]:
    """The stationary point from each start, and what disagrees with the hand-worked answers."""
    results, failures = [], []
    for start, (x, y, lam, fx, kind) in zip(LAGRANGE_STARTS, LAGRANGE_EXPECTED, strict=True):
        r = tg.optimize.lagrange_multipliers(lagrange_f, lagrange_g, start)
        results.append(r)
        ok = (r.converged and np.allclose(r.x, [x, y], atol=1e-9) and abs(r.multipliers[0] - lam) < 1e-9
              and abs(r.fun - fx) < 1e-9 and r.classification == kind)
        if not ok:
            failures.append(f"from {start}: got x = {r.x}, λ = {r.multipliers}, {r.classification} ({r.message}); "
                            f"expected ({x:.6f}, {y:.6f}), λ = {lam}, {kind}")
    return results, failures


def run_lagrange_multipliers(out_dir: Path) -> JobResult:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    result = JobResult(LAGRANGE_MULTIPLIERS)
    results, failures = solve_lagrange()
    result.summary.append("stationary points of x²y on x² + y² = 3 (Newton on the gradient of the Lagrangian):")
    for start, r in zip(LAGRANGE_STARTS, results, strict=True):
        point = ", ".join(f"{v + 0.0:+.6f}" for v in r.x)
        result.summary.append(f"  from {start}: ({point}), f = {r.fun + 0.0:+.6f}, λ = {r.multipliers[0] + 0.0:+.6f}, "
                              f"{r.classification}, KKT residual {r.kkt_residual:.1e}, {r.n_iter} steps")

    fig = tg.viz.plot_lagrange(lagrange_f, lagrange_g, results, xlim=(-2.8, 2.8), ylim=(-2.8, 2.8),
                               levels=np.linspace(-8, 8, 33),
                               title="extrema of x²y on x² + y² = 3: ∇f ∥ ∇g at every stationary point")
    ax = fig.axes[0]
    for bar in ax.child_axes:  # plot_lagrange's colourbar, which it labels "f"
        bar.set_ylabel("f = x²y")
    for r in results:  # each point's kind, f and λ beside it, along the circle: the arrows are normal to it
        out = r.x / np.linalg.norm(r.x)
        along = np.array([-out[1], out[0]]) * (1 if out[1] >= 0 else -1)  # the tangent, turned to the right
        if abs(out[0]) < 0.3:
            along = np.array([1.0, 0.0])
        shown = f"f = {round(r.fun, 9) + 0.0:.3g}, λ = {round(r.multipliers[0], 9) + 0.0:.3g}"  # no 4e-27 for 0
        ax.annotate(f"{r.classification}\n{shown}", r.x, textcoords="offset points", xytext=tuple(14 * along),
                    ha="left" if along[0] > 0 else "right", va="center", fontsize="x-small",
                    bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "none", "pad": 1.5}, zorder=7)
    files = {"lagrange_circle.png": (fig, "The extrema of f = x²y on the circle x² + y² = 3 (tg.viz.plot_lagrange): "
                                          "at each stationary point ∇f (red) lies along ∇g (white), ∇f = λ∇g, "
                                          "each marked with its kind, f and λ.")}

    t = np.linspace(0, 2 * np.pi, 400)
    fig, ax = plt.subplots(figsize=(7, 3.8))
    ax.plot(t, 3 * np.cos(t) ** 2 * R3 * np.sin(t), color="black", lw=2, label="f on the circle")
    for r in results:
        angle = np.arctan2(r.x[1], r.x[0]) % (2 * np.pi)
        ax.plot(angle, r.fun, "o", ms=8, color={"maximum": "crimson", "minimum": "royalblue"}.get(
            r.classification, "gray"))
    ax.plot([], [], "o", color="crimson", label="maxima (bordered Hessian)")
    ax.plot([], [], "o", color="royalblue", label="minima (bordered Hessian)")
    ax.set_xlabel("angle t on the circle (x = √3 cos t, y = √3 sin t)")
    ax.set_ylabel("f")
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    files["lagrange_on_circle.png"] = (fig, "f walked along the circle by its angle t: the six points that "
                                            "Lagrange's method found are exactly its peaks and troughs.")

    return finish(result, out_dir, files, failures)


JOBS = (
    Job(NEWTON_RAPHSON, "Newton-Raphson's tangent steps on the course's sextic from three starts, a zero "
                        "derivative, a start that cycles, and the secant method reaching another root",
        run_newton_raphson),
    Job(GRADIENT_DESCENT, "gradient descent, momentum and Newton's method as paths on the contours of a bowl and "
                          "of Rosenbrock's valley, and pure Newton walking to a maximum and a saddle",
        run_gradient_descent),
    Job(LAGRANGE_MULTIPLIERS, "the extrema of x²y on the circle x² + y² = 3 by Lagrange multipliers, ∇f = λ∇g "
                              "drawn at each", run_lagrange_multipliers),
)
