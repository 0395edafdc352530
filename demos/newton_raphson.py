"""Newton-Raphson on the course's sextic, with the iterates drawn on the curve, and a start that cycles.

    python demos/newton_raphson.py [--out DIR]      (default DIR: ./tinygrad_mvc_out/newton_raphson)

f(x) = x⁶/6 − 3x⁴ − 2x³/3 + 27x²/2 + 18x − 30 has two real roots, near −3.76 and 1.06. Each Newton
step x ← x − f(x)/f'(x) slides down the tangent at (x, f(x)) to where it crosses zero; f' comes from
the engine (tg.optimize.newton_raphson differentiates f itself). Starting near the flat parts of the
curve sends the next iterate far away (x₀ = 1.99 ends at the far root), and starting exactly on a
turning point (x₀ = 2, where f'(2) = 0) stops at once with the reason. The textbook cubic
x³ − 2x + 2 from x₀ = 0 cycles 0 → 1 → 0 → ...: the method reports the cycle instead of looping.

- newton_sextic.png      the sextic with the tangent steps from x₀ = −4, 0.3 and 1.99
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
    """Each step as the course draws it: up to the curve at x_k, then along the tangent down to x_{k+1} on the axis."""
    xs, ys = np.asarray(result.history, dtype=float), np.asarray(result.values, dtype=float)
    for k in range(len(xs) - 1):
        ax.plot([xs[k], xs[k]], [0, ys[k]], ":", color=color, lw=1)
        ax.plot([xs[k], xs[k + 1]], [ys[k], 0], "-", color=color, lw=1.3)
    ax.plot(xs, ys, "o", color=color, ms=5, label=label)


def run(out_dir: Path) -> JobResult:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    result = JobResult(NAME)
    roots = real_roots()
    failures = []
    fig, ax = plt.subplots(figsize=(8.5, 5.2))
    grid = np.linspace(-4.3, 3.3, 600)
    ax.plot(grid, sextic(tg.tensor(grid)).data, color="black", lw=2, label="f(x)")
    ax.axhline(0, color="gray", lw=0.8)
    for x0, color in zip(STARTS, ("royalblue", "seagreen", "crimson"), strict=True):
        r = tg.optimize.newton_raphson(sextic, x0)
        nearest = roots[np.argmin(np.abs(roots - float(r.x)))]
        result.summary.append(f"x0 = {x0:5}: {r.message}; root {float(r.x):.12f}")
        if not r.converged or abs(float(r.x) - nearest) > 1e-10:
            failures.append(f"x0 = {x0} did not reach a root ({r.message})")
        draw_steps(ax, sextic, r, color, f"x₀ = {x0}: {r.n_iter} steps → {float(r.x):.6f}")
    flat = tg.optimize.newton_raphson(sextic, 2.0)
    result.summary.append(f"x0 =   2.0: {flat.message}")
    if flat.converged or "zero derivative" not in flat.message:
        failures.append(f"x0 = 2 (f'(2) = 0) was not reported as a zero derivative: {flat.message}")
    ax.plot(roots, np.zeros_like(roots), "*", color="gold", mec="black", ms=15, zorder=5,
            label="roots (numpy.roots)")
    ax.set_ylim(-60, 60)
    ax.set_xlim(grid[0], grid[-1])
    ax.set_xlabel("x")
    ax.set_ylabel("f(x)")
    ax.set_title("Newton-Raphson on x⁶/6 − 3x⁴ − 2x³/3 + 27x²/2 + 18x − 30")
    ax.legend(fontsize="small", loc="upper center")
    ax.grid(alpha=0.3)
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
    ax.set_title("a start that cycles: " + cycle.message.split(";")[0])
    ax.legend(fontsize="small", loc="upper left")
    ax.grid(alpha=0.3)
    files["newton_cycle.png"] = fig

    save_figures(result, out_dir, files)
    if failures:
        result.ok, result.failure = False, "; ".join(failures)
    return result


if __name__ == "__main__":
    sys.exit(script_main(NAME, run, __doc__.splitlines()[0]))
