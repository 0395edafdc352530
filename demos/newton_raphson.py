"""Newton-Raphson on the course's sextic, with the iterates drawn on the curve, and a start that cycles.

    python demos/newton_raphson.py [--out DIR]      (default DIR: ./tinygrad_mvc_out/newton_raphson)

f(x) = x⁶/6 − 3x⁴ − 2x³/3 + 27x²/2 + 18x − 30 has two real roots, near −3.76 and 1.06. Each Newton
step x ← x − f(x)/f'(x) slides down the tangent at (x, f(x)) to where it crosses zero; f' comes from
the engine (tg.optimize.newton_raphson differentiates f itself). Starting near the flat parts of the
curve sends the next iterate far away (x₀ = 1.99 ends at the far root), and starting exactly on a
turning point (x₀ = 2, where f'(2) = 0) stops at once with the reason. The textbook cubic
x³ − 2x + 2 from x₀ = 0 cycles 0 → 1 → 0 → ...: the method reports the cycle instead of looping.

- newton_sextic.png      the sextic with its starts and roots, then one panel per start (x₀ = −4, 0.3, 1.99)
                         with the tangent steps, its limits holding every iterate (symlog when they span decades)
- newton_cycle.png       x³ − 2x + 2 and the two-step cycle from x₀ = 0

The heart of it:  r = tg.optimize.newton_raphson(f, x0); r.x, r.converged, r.message, r.history
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import tinygrad_mvc as tg
from tinygrad_mvc.cli.jobs import JobResult, save_figures, script_main

NAME = "newton_raphson"
STARTS = (-4.0, 0.3, 1.99)
COEFFICIENTS = (1 / 6, 0.0, -3.0, -2 / 3, 27 / 2, 18.0, -30.0)  # of the sextic, highest power first


def sextic(x: tg.Tensor) -> tg.Tensor:
    return x ** 6 / 6 - 3 * x ** 4 - 2 * x ** 3 / 3 + 27 * x ** 2 / 2 + 18 * x - 30


def cubic(x: tg.Tensor) -> tg.Tensor:
    return x ** 3 - 2 * x + 2


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


def step_panel(ax: object, f: object, result: object, color: str, label: str, roots: np.ndarray) -> None:
    """One start's iterates on f, with limits that hold every iterate (a symlog y-axis when they span decades)."""
    xs, ys = np.asarray(result.history, dtype=float), np.asarray(result.values, dtype=float)
    lo, hi = float(xs.min()), float(xs.max())
    pad = 0.08 * (hi - lo) + 0.05
    grid = np.linspace(lo - pad, hi + pad, 800)
    curve = f(tg.tensor(grid)).data
    ax.plot(grid, curve, color="black", lw=2, label="f(x)")
    ax.axhline(0, color="gray", lw=0.8)
    draw_steps(ax, f, result, color, label)
    shown = roots[(roots >= grid[0]) & (roots <= grid[-1])]
    ax.plot(shown, np.zeros_like(shown), "*", color="gold", mec="black", ms=13, zorder=5, label="root")
    ylo, yhi = min(float(ys.min()), 0.0), max(float(ys.max()), 0.0)
    if yhi - ylo > 1e3:  # the iterates' values span decades: symlog shows the far steps and the root alike
        ax.set_yscale("symlog", linthresh=10)
        ax.set_ylim(ylo * 2 if ylo < 0 else -10, yhi * 3)
    else:
        ypad = 0.12 * (yhi - ylo) + 0.5
        ax.set_ylim(ylo - ypad, yhi + ypad)
    ax.set_xlim(grid[0], grid[-1])
    ax.set_xlabel("x")
    ax.set_ylabel("f(x)" + (" (symlog scale)" if ax.get_yscale() == "symlog" else ""))
    ax.set_title(label, fontsize="medium")
    ax.grid(alpha=0.3)


def run(out_dir: Path) -> JobResult:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    result = JobResult(NAME)
    roots = real_roots()
    failures = []
    fig, axes = plt.subplots(2, 2, figsize=(11, 8.2), layout="constrained")
    overview, panels = axes[0, 0], [axes[0, 1], axes[1, 0], axes[1, 1]]
    grid = np.linspace(-4.3, 3.3, 600)
    curve = sextic(tg.tensor(grid)).data
    overview.plot(grid, curve, color="black", lw=2, label="f(x)")
    overview.axhline(0, color="gray", lw=0.8)
    colors = ("royalblue", "seagreen", "crimson")
    for x0, color, ax in zip(STARTS, colors, panels, strict=True):
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
    files = {"newton_sextic.png": fig}

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
    files["newton_cycle.png"] = fig

    save_figures(result, out_dir, files)
    if failures:
        result.ok, result.failure = False, "; ".join(failures)
    return result


if __name__ == "__main__":
    sys.exit(script_main(NAME, run, __doc__.splitlines()[0]))
