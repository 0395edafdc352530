"""Lagrange multipliers: the extrema of x²y on the circle x² + y² = 3, where ∇f is parallel to ∇g.

    python demos/lagrange_multipliers.py [--out DIR]      (default DIR: ./tinygrad_mvc_out/lagrange_multipliers)

Newton's method on the gradient of the Lagrangian L = f − λg (its Hessian from the engine) finds a
stationary point from each start; the bordered Hessian classifies it. Worked by hand: ∇f = λ∇g gives
2xy = 2λx and x² = 2λy, so either x = 0 (y = ±√3, λ = 0, f = 0) or y = λ, x² = 2y², y = ±1: the
maxima (±√2, 1) with f = 2 and λ = 1, the minima (±√2, −1) with f = −2 and λ = −1. On the circle
(0, √3) is a local minimum of f and (0, −√3) a local maximum.

- lagrange_circle.png     contours of x²y, the constraint circle, the six stationary points, ∇f (red) and
                          λ∇g (white, dashed) drawn at each: the same arrow, as the condition says
- lagrange_on_circle.png  f along the circle, x = √3 cos t, y = √3 sin t, with the points marked

The heart of it:  r = tg.optimize.lagrange_multipliers(f, g, x0); r.x, r.multipliers, r.classification
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import tinygrad_mvc as tg
from tinygrad_mvc.cli.jobs import JobResult, save_figures, script_main

NAME = "lagrange_multipliers"
R3, R2 = np.sqrt(3.0), np.sqrt(2.0)
STARTS = ((1.0, 1.5), (-1.0, 1.5), (1.0, -1.5), (-1.0, -1.0), (0.2, 1.6), (0.2, -1.6))
# (x, y, λ, f, kind), worked out by hand in the docstring
EXPECTED = [(R2, 1.0, 1.0, 2.0, "maximum"), (-R2, 1.0, 1.0, 2.0, "maximum"), (R2, -1.0, -1.0, -2.0, "minimum"),
            (-R2, -1.0, -1.0, -2.0, "minimum"), (0.0, R3, 0.0, 0.0, "minimum"), (0.0, -R3, 0.0, 0.0, "maximum")]


def f(v: tg.Tensor) -> tg.Tensor:
    return v[0] ** 2 * v[1]


def g(v: tg.Tensor) -> tg.Tensor:
    return v[0] ** 2 + v[1] ** 2 - 3


def solve() -> tuple[list[object], list[str]]:
    """The stationary point from each start, and what disagrees with the hand-worked answers."""
    results, failures = [], []
    for start, (x, y, lam, fx, kind) in zip(STARTS, EXPECTED, strict=True):
        r = tg.optimize.lagrange_multipliers(f, g, start)
        results.append(r)
        ok = (r.converged and np.allclose(r.x, [x, y], atol=1e-9) and abs(r.multipliers[0] - lam) < 1e-9
              and abs(r.fun - fx) < 1e-9 and r.classification == kind)
        if not ok:
            failures.append(f"from {start}: got x = {r.x}, λ = {r.multipliers}, {r.classification} ({r.message}); "
                            f"expected ({x:.6f}, {y:.6f}), λ = {lam}, {kind}")
    return results, failures


def run(out_dir: Path) -> JobResult:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    result = JobResult(NAME)
    results, failures = solve()
    result.summary.append("stationary points of x²y on x² + y² = 3 (Newton on the gradient of the Lagrangian):")
    for start, r in zip(STARTS, results, strict=True):
        point = ", ".join(f"{v + 0.0:+.6f}" for v in r.x)
        result.summary.append(f"  from {start}: ({point}), f = {r.fun + 0.0:+.6f}, λ = {r.multipliers[0] + 0.0:+.6f}, "
                              f"{r.classification}, KKT residual {r.kkt_residual:.1e}, {r.n_iter} steps")

    grad_f, grad_g = tg.grad(f), tg.grad(g)
    X, Y = np.meshgrid(np.linspace(-2.4, 2.4, 300), np.linspace(-2.4, 2.4, 300))
    fig, ax = plt.subplots(figsize=(7, 6.2))
    cs = ax.contourf(X, Y, X ** 2 * Y, levels=np.linspace(-8, 8, 33), cmap="RdBu_r", extend="both")
    ax.contour(X, Y, X ** 2 * Y, levels=[-2, 0, 2], colors="black", linewidths=0.8, linestyles="--")
    fig.colorbar(cs, ax=ax, label="f = x²y")
    t = np.linspace(0, 2 * np.pi, 400)
    ax.plot(R3 * np.cos(t), R3 * np.sin(t), color="gold", lw=3, label="x² + y² = 3")
    for r in results:
        gf, gg = grad_f(r.x), grad_g(r.x)
        lam = r.multipliers[0]
        scale = 0.25
        ax.annotate("", xy=r.x + scale * gf, xytext=r.x, arrowprops={"arrowstyle": "-|>", "color": "crimson", "lw": 2})
        ax.annotate("", xy=r.x + scale * lam * gg, xytext=r.x,
                    arrowprops={"arrowstyle": "-|>", "color": "white", "lw": 1.2, "ls": "--"})
        marker = {"maximum": "^", "minimum": "v"}.get(r.classification, "s")
        ax.plot(*r.x, marker, color="black", ms=10, mfc="gold")
        shown = f"f = {round(r.fun, 9) + 0.0:.3g}, λ = {round(lam, 9) + 0.0:.3g}"  # no 4e-27 for an exact 0
        ax.annotate(f"{r.classification}\n{shown}", r.x, textcoords="offset points",
                    xytext=(8, -22 if r.x[1] < 0 else 8), fontsize="x-small")
    ax.plot([], [], color="crimson", lw=2, label="∇f")
    ax.plot([], [], color="white", lw=1.2, ls="--", label="λ∇g")
    ax.set_aspect("equal")
    ax.set_xlim(-2.4, 2.4)
    ax.set_ylim(-2.4, 2.4)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title("extrema of x²y on x² + y² = 3: ∇f = λ∇g")
    ax.legend(loc="lower left", fontsize="small", facecolor="lightgray")
    files = {"lagrange_circle.png": fig}

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
    files["lagrange_on_circle.png"] = fig

    save_figures(result, out_dir, files)
    if failures:
        result.ok, result.failure = False, "; ".join(failures)
    return result


if __name__ == "__main__":
    sys.exit(script_main(NAME, run, __doc__.splitlines()[0]))
