"""Course topic 2, multivariate calculus: partial derivatives, the Jacobian and the Hessian, and the sandpit.

Job ``sandpit``: the course's sandpit, a 6 m × 6 m pit whose sand surface has a few dips, and a student who
"clicks" a few places and lets gradient descent walk downhill from each. The surface's height is

    h(x, y) = 0.01·((x − 3)² + (y − 3)²) − Σᵢ aᵢ·exp(−((x − xᵢ)² + (y − yᵢ)²) / (2sᵢ²))   (metres)

(three Gaussian dips in a gently sloping pit). Every gradient comes from the engine
(``tg.optimize.gradient_descent`` differentiates h itself); a start ends in the dip whose basin it lies in,
which need not be the deepest: the lesson of the sandpit.

- sandpit.png           the pit's contours with the arrows of −∇h and the descent path from each start (circle)
                        to where it stops (star)
- sandpit_newton.png    Newton in the sandpit from (1, 1): pure Newton (``modify_hessian=False``) leaves the pit
                        (one step lands near (117, 58), where only the bowl is left) and ends on the saddle near
                        (2.90, 2.86); modified Newton (the step rule shared with tg.optim.Newton: a shifted Hessian
                        and a line search, here halving its first step seven times) reaches the deepest dip near
                        (4.19, 3.99); with ``bounds=[(0, 6), (0, 6)], max_step=2`` (the course's 2 m cap; one step
                        capped, reported) it stays inside and ends in the dip near (1.63, 1.72)
- sandpit_hessian.png   one point of the pit up close: the Jacobian (the gradient, drawn as the downhill
                        direction −∇h) and the Hessian's eigen-directions, each labelled with its curvature
                        (its eigenvalue): positive curves up, negative curves down, one of each is a saddle

The heart of it:  r = tg.optimize.gradient_descent(h, start, lr=0.4) with h(x, y);
tg.viz.plot_descent(h, {"start": r}, field=True); tg.optimize.newton_minimize(h, (1, 1), bounds=PIT, max_step=2);
J = tg.jacobian(h_at)(p); H = tg.hessian(h_at)(p); np.linalg.eigh(H)   (h_at(v) = h(v[0], v[1]))
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import tinygrad_mvc as tg

from .jobs import Job, JobResult, finish

__all__ = ["TITLE", "SUMMARY", "JOBS", "DIPS", "STARTS", "height", "height_at", "run"]

TITLE = "Multivariate calculus"
SUMMARY = "functions of several variables: partial derivatives, the Jacobian, the Hessian, and the sandpit"

NAME = "sandpit"
SIZE = 6.0  # the pit is SIZE × SIZE metres
DIPS = ((4.2, 4.0, 1.0, 0.65), (1.6, 1.7, 0.6, 0.75), (1.4, 4.5, 0.8, 0.5))  # (xᵢ, yᵢ, depth aᵢ, width sᵢ)
STARTS = ((3.2, 3.0), (5.3, 1.2), (0.5, 5.5), (2.6, 0.6), (2.3, 3.4))  # the student's clicks
LR, STEPS = 0.4, 400
PROBE = (2.9, 3.3)  # where the Jacobian and the Hessian are drawn: between dips, where h is saddle-shaped


def height(x: tg.Tensor, y: tg.Tensor) -> tg.Tensor:
    """The sand's height in metres at (x, y): a gentle bowl with three Gaussian dips."""
    h = 0.01 * ((x - SIZE / 2) ** 2 + (y - SIZE / 2) ** 2)
    for cx, cy, depth, width in DIPS:
        h = h - depth * tg.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * width ** 2))
    return h


def height_at(v: tg.Tensor) -> tg.Tensor:
    """:func:`height` of one point v = (x, y), the form ``tg.jacobian`` and ``tg.hessian`` differentiate."""
    return height(v[0], v[1])


def _descend() -> tuple[dict[str, object], list[str]]:
    paths, failures = {}, []
    for start in STARTS:
        r = tg.optimize.gradient_descent(height, np.array(start), lr=LR, max_iter=STEPS)
        end = np.asarray(r.x)
        paths[f"from ({start[0]:g}, {start[1]:g}) → ({end[0]:.2f}, {end[1]:.2f})"] = r
        if not (r.converged and np.all((end >= 0) & (end <= SIZE))):
            failures.append(f"descent from {start} did not settle inside the pit: {r.message}")
        elif r.fun >= float(height(*start)):
            failures.append(f"descent from {start} did not go downhill")
    return paths, failures


def _hessian_figure(point: np.ndarray) -> tuple[object, list[str], list[str]]:
    """Contours around ``point`` with −∇h and the Hessian's eigen-directions; the printout and any failure."""
    import matplotlib.pyplot as plt

    J = np.asarray(tg.jacobian(height_at)(point), dtype=float)  # ∂h/∂(x, y): for a scalar h, the gradient
    H = np.asarray(tg.hessian(height_at)(point), dtype=float)
    curvatures, directions = np.linalg.eigh(H)
    lines = [f"at ({point[0]:g}, {point[1]:g}): h = {float(height(*point)):.4f} m",
             f"  Jacobian [dh/dx, dh/dy] = [{J[0]:+.4f}, {J[1]:+.4f}]",
             f"  Hessian [[{H[0, 0]:+.4f}, {H[0, 1]:+.4f}], [{H[1, 0]:+.4f}, {H[1, 1]:+.4f}]], "
             f"eigenvalues {curvatures[0]:+.4f}, {curvatures[1]:+.4f}"]
    failures = []
    h = 1e-5  # the engine's Hessian against central differences of its own gradient, column by column
    slope = tg.grad(height_at)
    fd = np.stack([(slope(point + h * e) - slope(point - h * e)) / (2 * h) for e in np.eye(2)])
    if not np.allclose(H, fd, atol=1e-6) or not np.allclose(H, H.T):
        failures.append(f"the Hessian at {point.tolist()} disagrees with differences of the gradient")

    half = 0.9
    xs, ys = np.linspace(point[0] - half, point[0] + half, 160), np.linspace(point[1] - half, point[1] + half, 160)
    X, Y = np.meshgrid(xs, ys)
    Z = height(X, Y).data
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


NEWTON_START, MAX_STEP = (1.0, 1.0), 2.0  # the course's 2 m cap on a step
PIT = [(0.0, SIZE), (0.0, SIZE)]


def _label_bar(fig: object) -> None:
    for bar in fig.axes[0].child_axes:  # plot_descent's colourbar, which it labels "f"
        bar.set_ylabel("height h (m)")


def _newton_figure() -> tuple[object, list[str], list[str]]:
    """Three Newton methods from :data:`NEWTON_START`: pure, modified (the shared step rule), and modified inside
    the pit's walls with :data:`MAX_STEP`; the figure, the printout and any failure."""
    from matplotlib.patches import Rectangle

    from tinygrad_mvc.newton_step import direction

    opt = tg.optimize
    runs = {"pure Newton (modify_hessian=False)": opt.newton_minimize(height, NEWTON_START, modify_hessian=False),
            "modified Newton": opt.newton_minimize(height, NEWTON_START),
            f"modified Newton, bounds 0–{SIZE:g} m, max_step={MAX_STEP:g}":
                opt.newton_minimize(height, NEWTON_START, bounds=PIT, max_step=MAX_STEP)}
    lines, failures, paths = [f"Newton in the sandpit from {NEWTON_START}:"], [], {}
    slope, curvature = tg.grad(height_at), tg.hessian(height_at)
    for label, r in runs.items():
        # the line search's length t of each step: the step taken over the direction of the step rule
        ts = [np.linalg.norm(b - a) / np.linalg.norm(direction(np.asarray(curvature(a)), np.asarray(slope(a)))[0])
              for a, b in zip(r.history[:-1], r.history[1:], strict=True)]
        far = r.history[np.argmax(np.abs(r.history).max(axis=1))]
        end = f"({r.x[0]:.2f}, {r.x[1]:.2f})"
        lines.append(f"  {label}: {r.n_iter} steps to {end}, a {r.classification}, depth {r.fun:+.4f} m; "
                     f"farthest iterate ({far[0]:.1f}, {far[1]:.1f}); {r.message}")
        if label == "modified Newton":
            lines.append(f"    the line search's t per step: {', '.join(f'{t:.3g}' for t in ts)}; "
                         f"{r.n_fallback} shifted step (the Hessian not positive definite)")
        paths[f"{label}: {r.n_iter} steps → {r.classification} {end}"] = r
    pure, free, walled = runs.values()
    if not (pure.converged and pure.classification == "saddle" and np.abs(pure.history).max() > 2 * SIZE):
        failures.append(f"pure Newton from {NEWTON_START} should leave the pit and stop on a saddle: {pure.message}")
    if not (free.converged and free.classification == "minimum" and abs(free.x[0] - DIPS[0][0]) < 0.1):
        failures.append(f"modified Newton from {NEWTON_START} should reach the deepest dip: {free.message}")
    inside = np.all((walled.history >= 0) & (walled.history <= SIZE))
    longest = np.linalg.norm(np.diff(walled.history, axis=0), axis=1).max()
    if not (walled.converged and walled.classification == "minimum" and inside and walled.n_capped >= 1
            and longest <= MAX_STEP * (1 + 1e-12)):
        failures.append(f"Newton with the walls and the {MAX_STEP:g} m cap left the pit or was never capped: "
                        f"{walled.message}")

    lo, hi = -1.0, SIZE + 0.6  # room around the walls (dashed): pure Newton's first step already leaves the pit
    fig = tg.viz.plot_descent(height, paths, xlim=(lo, hi), ylim=(lo, hi), levels=25, labels=("x (m)", "y (m)"),
                              title=f"Newton in the sandpit from {NEWTON_START}; dashed: the pit's walls")
    _label_bar(fig)
    ax = fig.axes[0]
    ax.add_patch(Rectangle((0, 0), SIZE, SIZE, fill=False, ec="white", lw=1.5, ls="--", zorder=1.9))
    k = int(np.argmax(np.abs(pure.history).max(axis=1)))  # where pure Newton's far step lands
    far, before, after = pure.history[k], pure.history[k - 1], pure.history[k + 1]
    # where the way out and the way back cross the right edge of the picture: the note points between them
    edge = np.mean([a[1] + (hi - a[0]) * (b[1] - a[1]) / (b[0] - a[0]) for a, b in ((before, far), (after, far))])
    ax.annotate(f"pure Newton's step {k} lands at ({far[0]:.0f}, {far[1]:.0f}),\nfar outside the pit; "
                f"step {k + 1} comes back", xy=(hi - 0.05, edge), xytext=(hi - 0.3, hi - 0.45), ha="right",
                va="center", fontsize="x-small", color="crimson",
                bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "none"},
                arrowprops={"arrowstyle": "->", "color": "crimson"})
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
    fig = tg.viz.plot_descent(height, paths, xlim=(0, SIZE), ylim=(0, SIZE), levels=25, field=True,
                              labels=("x (m)", "y (m)"),
                              title=f"the sandpit: gradient descent from {len(STARTS)} clicks, along −∇h")
    _label_bar(fig)
    for text in fig.axes[0].get_legend().get_texts():  # the field's entry, which names the function f
        text.set_text(text.get_text().replace("∇f", "∇h"))
    files = {"sandpit.png": (fig, "The sandpit, 6 m × 6 m, seen from above, with the arrows of −∇h: from each click "
                                  "(circle) gradient descent follows them downhill into the nearest dip (star), "
                                  "not always the deepest.")}

    fig, lines, bad = _newton_figure()
    result.summary += lines
    failures += bad
    files["sandpit_newton.png"] = (fig, f"Newton in the sandpit from {NEWTON_START}: pure Newton leaves the pit and "
                                        "ends on a saddle, modified Newton (line search) finds the deepest dip, "
                                        f"and with walls and a {MAX_STEP:g} m cap it stays inside.")

    fig, lines, bad = _hessian_figure(np.array(PROBE))
    result.summary += lines
    failures += bad
    files["sandpit_hessian.png"] = (fig, "One point of the sandpit up close: the Jacobian points uphill (red: "
                                         "downhill), the Hessian's eigen-directions are where the sand curves "
                                         "most and least, with their curvatures.")
    return finish(result, out_dir, files, failures)


JOBS = (Job(NAME, "the course's sandpit: gradient descent along −∇h from a few clicks on a 6 m pit with three "
                  "dips, Newton with and without the walls and the 2 m cap, and the Jacobian and Hessian at a point",
            run),)
