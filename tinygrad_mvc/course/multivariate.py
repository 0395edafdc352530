"""Course topic 2, multivariate calculus: partial derivatives, the Jacobian and the Hessian, and the sandpit.

Job ``sandpit``: the course's sandpit, a 6 m × 6 m pit whose sand surface has a few dips, and a student who
"clicks" a few places and lets gradient descent walk downhill from each. The surface's height is

    h(x, y) = 0.01·((x − 3)² + (y − 3)²) − Σᵢ aᵢ·exp(−((x − xᵢ)² + (y − yᵢ)²) / (2sᵢ²))   (metres)

(three Gaussian dips in a gently sloping pit). Every gradient comes from the engine
(``tg.optimize.gradient_descent`` differentiates h itself); a start ends in the dip whose basin it lies in,
which need not be the deepest: the lesson of the sandpit.

- sandpit.png           the pit's contours with the descent path from each start (circle) to where it stops (star)
- sandpit_hessian.png   one point of the pit up close: the Jacobian (the gradient, drawn as the downhill
                        direction −∇h) and the Hessian's eigen-directions, each labelled with its curvature
                        (its eigenvalue): positive curves up, negative curves down, one of each is a saddle

The heart of it:  r = tg.optimize.gradient_descent(h, start, lr=0.4); tg.viz.plot_descent(h, {"start": r});
J = tg.jacobian(h)(p); H = tg.hessian(h)(p); np.linalg.eigh(H)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import tinygrad_mvc as tg

from .jobs import Job, JobResult, finish

__all__ = ["TITLE", "SUMMARY", "JOBS", "DIPS", "STARTS", "height", "run"]

TITLE = "Multivariate calculus"
SUMMARY = "functions of several variables: partial derivatives, the Jacobian, the Hessian, and the sandpit"

NAME = "sandpit"
SIZE = 6.0  # the pit is SIZE × SIZE metres
DIPS = ((4.2, 4.0, 1.0, 0.65), (1.6, 1.7, 0.6, 0.75), (1.4, 4.5, 0.8, 0.5))  # (xᵢ, yᵢ, depth aᵢ, width sᵢ)
STARTS = ((3.2, 3.0), (5.3, 1.2), (0.5, 5.5), (2.6, 0.6), (2.3, 3.4))  # the student's clicks
LR, STEPS = 0.4, 400
PROBE = (2.9, 3.3)  # where the Jacobian and the Hessian are drawn: between dips, where h is saddle-shaped


def height(v: tg.Tensor) -> tg.Tensor:
    """The sand's height in metres at v = (x, y): a gentle bowl with three Gaussian dips."""
    x, y = v[0], v[1]
    h = 0.01 * ((x - SIZE / 2) ** 2 + (y - SIZE / 2) ** 2)
    for cx, cy, depth, width in DIPS:
        h = h - depth * tg.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * width ** 2))
    return h


def _descend() -> tuple[dict[str, object], list[str]]:
    paths, failures = {}, []
    for start in STARTS:
        r = tg.optimize.gradient_descent(height, np.array(start), lr=LR, max_iter=STEPS)
        end = np.asarray(r.x)
        paths[f"from ({start[0]:g}, {start[1]:g}) → ({end[0]:.2f}, {end[1]:.2f})"] = r
        if not (r.converged and np.all((end >= 0) & (end <= SIZE))):
            failures.append(f"descent from {start} did not settle inside the pit: {r.message}")
        elif r.fun >= height(tg.tensor(np.array(start))).item():
            failures.append(f"descent from {start} did not go downhill")
    return paths, failures


def _hessian_figure(point: np.ndarray) -> tuple[object, list[str], list[str]]:
    """Contours around ``point`` with −∇h and the Hessian's eigen-directions; the printout and any failure."""
    import matplotlib.pyplot as plt

    J = np.asarray(tg.jacobian(height)(point), dtype=float)  # ∂h/∂(x, y): for a scalar h, the gradient
    H = np.asarray(tg.hessian(height)(point), dtype=float)
    curvatures, directions = np.linalg.eigh(H)
    lines = [f"at ({point[0]:g}, {point[1]:g}): h = {height(tg.tensor(point)).item():.4f} m",
             f"  Jacobian [dh/dx, dh/dy] = [{J[0]:+.4f}, {J[1]:+.4f}]",
             f"  Hessian [[{H[0, 0]:+.4f}, {H[0, 1]:+.4f}], [{H[1, 0]:+.4f}, {H[1, 1]:+.4f}]], "
             f"eigenvalues {curvatures[0]:+.4f}, {curvatures[1]:+.4f}"]
    failures = []
    h = 1e-5  # the engine's Hessian against central differences of its own gradient, column by column
    fd = np.stack([(tg.grad(height)(point + h * e) - tg.grad(height)(point - h * e)) / (2 * h) for e in np.eye(2)])
    if not np.allclose(H, fd, atol=1e-6) or not np.allclose(H, H.T):
        failures.append(f"the Hessian at {point.tolist()} disagrees with differences of the gradient")

    half = 0.9
    xs, ys = np.linspace(point[0] - half, point[0] + half, 160), np.linspace(point[1] - half, point[1] + half, 160)
    X, Y = np.meshgrid(xs, ys)
    Z = height(tg.tensor(np.stack([X, Y]))).data
    fig, ax = plt.subplots(figsize=(7.2, 6.4), layout="constrained")
    cs = ax.contourf(X, Y, Z, levels=20, cmap="viridis", alpha=0.85)
    ax.contour(X, Y, Z, levels=20, colors="white", linewidths=0.4, alpha=0.6)
    fig.colorbar(cs, ax=ax, label="height h (m)")
    ax.plot(*point, "o", color="white", mec="black", ms=9, zorder=5)
    down = -J / np.linalg.norm(J) * 0.55
    ax.annotate("", xy=point + down, xytext=point,
                arrowprops={"arrowstyle": "-|>", "color": "crimson", "lw": 2.5})
    right = down[0] >= 0  # the label beside the arrow's head, below it, on the side it points to
    ax.annotate("−∇h (downhill)", xy=point + down, xytext=(8 if right else -8, -12), textcoords="offset points",
                color="crimson", fontsize="small", ha="left" if right else "right", va="top",
                bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none"})
    for curvature, d, color in zip(curvatures, directions.T, ("orange", "deepskyblue"), strict=True):
        d = d if d @ down <= 0 else -d  # label the end away from the arrow, so nothing covers it
        ends = np.stack([point - 0.7 * d, point + 0.7 * d])
        ax.plot(ends[:, 0], ends[:, 1], "--", color=color, lw=2.2)
        kind = "curves up" if curvature > 0 else "curves down"
        ax.text(*(point + 0.78 * d), f"λ = {curvature:+.2f}\n({kind})", color="black", fontsize="small",
                ha="center", va="center", bbox={"facecolor": color, "alpha": 0.75, "edgecolor": "none"})
    ax.set_aspect("equal")
    ax.set_xlim(xs[0], xs[-1])
    ax.set_ylim(ys[0], ys[-1])
    ax.set_xlabel("x (m)")
    ax.set_ylabel("y (m)")
    ax.set_title(f"the sandpit near ({point[0]:g}, {point[1]:g}): Jacobian J = [{J[0]:+.2f}, {J[1]:+.2f}],\n"
                 "dashed: the Hessian's eigen-directions with their curvatures λ", fontsize="medium")
    return fig, lines, failures


def run(out_dir: Path) -> JobResult:
    """Descend from every start, draw the paths, and the Jacobian and Hessian at :data:`PROBE`."""
    import matplotlib

    matplotlib.use("Agg")

    result = JobResult(NAME)
    paths, failures = _descend()
    result.summary.append(f"sandpit {SIZE:g} m x {SIZE:g} m, gradient descent with step {LR:g}:")
    for label, r in paths.items():
        result.summary.append(f"  {label}: {r.n_iter} steps, depth {r.fun:+.4f} m ({r.message})")
    fig = tg.viz.plot_descent(height, paths, xlim=(0, SIZE), ylim=(0, SIZE), levels=25,
                              title=f"the sandpit: gradient descent from {len(STARTS)} clicks")
    ax = fig.axes[0]
    ax.set_xlabel("x (m)")
    ax.set_ylabel("y (m)")
    for bar in ax.child_axes:  # plot_descent's colourbar, which it labels "f"
        bar.set_ylabel("height h (m)")
    files = {"sandpit.png": (fig, "The sandpit, 6 m × 6 m, seen from above: from each click (circle) gradient "
                                  "descent walks downhill into the nearest dip (star), not always the deepest.")}

    fig, lines, bad = _hessian_figure(np.array(PROBE))
    result.summary += lines
    failures += bad
    files["sandpit_hessian.png"] = (fig, "One point of the sandpit up close: the Jacobian points uphill (red: "
                                         "downhill), the Hessian's eigen-directions are where the sand curves "
                                         "most and least, with their curvatures.")
    return finish(result, out_dir, files, failures)


JOBS = (Job(NAME, "the course's sandpit: gradient descent from a few clicks on a 6 m pit with three dips, and "
                  "the Jacobian and Hessian at a point", run),)
