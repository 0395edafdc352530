"""Gradient descent, momentum and Newton's method as paths on contour maps.

    python demos/gradient_descent.py [--out DIR]      (default DIR: ./tinygrad_mvc_out/gradient_descent)

Every gradient and Hessian comes from the engine (tg.optimize differentiates f itself).

- descent_bowl.png        an elongated quadratic bowl f = x² + 10y² (condition number 10): plain gradient
                          descent zig-zags across the valley, momentum (heavy ball) damps the zig-zag and
                          arrives in fewer steps, Newton lands on the minimum in one step
- descent_rosenbrock.png  Rosenbrock's banana (1 − x)² + 100(y − x²)² from (−1.2, 1): momentum crawls along
                          the curved valley, damped Newton reaches (1, 1) in about twenty steps

The heart of it:  tg.optimize.gradient_descent(f, x0, lr, momentum=0.9); tg.optimize.newton_minimize(f, x0);
tg.viz.plot_descent(f, {"plain": r1, "momentum": r2, "Newton": r3})
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import tinygrad_mvc as tg
from tinygrad_mvc.cli.jobs import JobResult, save_figures, script_main

NAME = "gradient_descent"


def bowl(v: tg.Tensor) -> tg.Tensor:
    return v[0] ** 2 + 10 * v[1] ** 2


def rosenbrock(v: tg.Tensor) -> tg.Tensor:
    return (1 - v[0]) ** 2 + 100 * (v[1] - v[0] ** 2) ** 2


def run(out_dir: Path) -> JobResult:
    import matplotlib

    matplotlib.use("Agg")

    result = JobResult(NAME)
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
    files = {"descent_bowl.png": fig}

    start = np.array([-1.2, 1.0])
    rosen_paths = {
        "momentum 0.9 (lr 1e-3), 2000 steps": opt.gradient_descent(rosenbrock, start, lr=1e-3, momentum=0.9,
                                                                   max_iter=2000),
        "gradient descent (lr 1e-3), 2000 steps": opt.gradient_descent(rosenbrock, start, lr=1e-3, max_iter=2000),
        "damped Newton": opt.newton_minimize(rosenbrock, start),
    }
    result.summary.append("Rosenbrock from (−1.2, 1):")
    for label, r in rosen_paths.items():
        result.summary.append(f"  {label:40} {r.n_iter:5} steps, x = {np.round(r.x, 6).tolist()}, "
                              f"f = {float(r.fun):.3g}")
    newton_r = rosen_paths["damped Newton"]
    if not (newton_r.converged and np.allclose(newton_r.x, [1, 1], atol=1e-8)):
        failures.append(f"Newton did not reach (1, 1) on Rosenbrock: {newton_r.message}")
    for label, r in rosen_paths.items():
        if not r.fun < rosenbrock(tg.tensor(start)).item():
            failures.append(f"Rosenbrock, {label}: f did not decrease")
    fig = tg.viz.plot_descent(rosenbrock, rosen_paths, xlim=(-1.6, 1.6), ylim=(-0.6, 1.6),
                              title="Rosenbrock: momentum, plain descent and damped Newton")
    files["descent_rosenbrock.png"] = fig

    save_figures(result, out_dir, files)
    if failures:
        result.ok, result.failure = False, "; ".join(failures)
    return result


if __name__ == "__main__":
    sys.exit(script_main(NAME, run, __doc__.splitlines()[0]))
