"""The pictures the course draws (issue 16): the heights histogram with its fit, Lagrange's ∇f ∥ ∇g, a surface
with its Taylor models, a gradient field, a network's curve during training, and plot_descent's axis labels.

Each test checks what is drawn, not that something is: the shaded gaps have the colour of the sign of
curve − bar and the area between them, the arrows point along the engine-independent analytic
gradients, the surfaces' heights are f and the Taylor models, labels say what they should, legends
stay off the data and no text leaves the figure. ``TG_FIGURES_DIR=/some/dir`` also saves every figure
there, to look at.
"""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402
from matplotlib.contour import ContourSet  # noqa: E402
from matplotlib.quiver import Quiver  # noqa: E402
from test_figures import assert_legends_off_the_data, assert_markers_inside, drawn  # noqa: E402

import tinygrad_mvc as tg  # noqa: E402
from tinygrad_mvc.viz import histogram, lagrange, surface  # noqa: E402
from tinygrad_mvc.viz.field import gradient_grid  # noqa: E402

# The course's heights histogram (Week 6, readonly/HeightsModule.py; ../shared/data/heights_histogram.csv):
# the fraction of people per 2.5 cm bin, from the bin's left edge.
HEIGHT_STARTS = np.arange(160.0, 202.5, 2.5)
HEIGHT_FREQ = np.array([0.031, 0.013, 0.023, 0.064, 0.065, 0.126, 0.132, 0.127, 0.113, 0.091, 0.105, 0.050,
                        0.018, 0.018, 0.018, 0.001, 0.0])


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture()
def save(tmp_path):
    """Write a figure as PNG the way the demos do (and also to $TG_FIGURES_DIR when set)."""
    def write(fig, name: str) -> Path:
        path = tmp_path / f"{name}.png"
        fig.savefig(path, dpi=80, bbox_inches="tight")
        assert path.stat().st_size > 5000
        if os.environ.get("TG_FIGURES_DIR"):
            fig.savefig(Path(os.environ["TG_FIGURES_DIR"]) / f"{name}.png", dpi=110, bbox_inches="tight")
        return path
    return write


def assert_inside_figure(fig) -> None:
    """Every panel with its drawn tick labels, axis labels and title, every legend and the figure's title lie
    within the figure: nothing is clipped at its edge."""
    renderer = drawn(fig)
    frame = fig.bbox
    parts = [*fig.axes, *[ax.get_legend() for ax in fig.axes if ax.get_legend()], *fig.legends]
    if fig._suptitle is not None:
        parts.append(fig._suptitle)
    for part in parts:
        box = part.get_tightbbox(renderer) if hasattr(part, "get_tightbbox") else part.get_window_extent(renderer)
        assert (box.x0 >= frame.x0 - 1 and box.x1 <= frame.x1 + 1 and box.y0 >= frame.y0 - 1
                and box.y1 <= frame.y1 + 1), f"{part} reaches {box}, outside the figure {frame}"


def legend_texts(ax_or_fig) -> list[str]:
    legend = ax_or_fig.get_legend() if hasattr(ax_or_fig, "get_legend") else ax_or_fig.legends[0]
    return [t.get_text() for t in legend.get_texts()]


def polygons(coll) -> list[np.ndarray]:
    return [poly for path in coll.get_paths() for poly in path.to_polygons() if len(poly) >= 3]


def area(poly: np.ndarray) -> float:
    x, y = poly[:, 0], poly[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1))))


# --------------------------------------------------------------------------- the heights histogram

def bell(x, mu, sigma):
    """The fraction per 2.5 cm bin a normal distribution of heights predicts (the density times the width)."""
    return 2.5 * tg.exp(-(x - mu) ** 2 / (2 * sigma ** 2)) / (np.sqrt(2 * np.pi) * sigma)


def test_histogram_shades_overshoot_and_undershoot_by_the_sign_of_curve_minus_bar(save):
    r = tg.fit.curve_fit(lambda x, p: bell(x, p[0], p[1]), HEIGHT_STARTS + 1.25, HEIGHT_FREQ, [175.0, 6.0])
    fig = tg.viz.plot_histogram_fit(HEIGHT_STARTS, HEIGHT_FREQ, r, xlabel="height (cm)")
    ax = fig.axes[0]
    bars = ax.patches
    assert [b.get_x() for b in bars] == pytest.approx(HEIGHT_STARTS)
    assert [b.get_height() for b in bars] == pytest.approx(HEIGHT_FREQ)
    assert [b.get_width() for b in bars] == pytest.approx([2.5] * HEIGHT_FREQ.size)
    curve = next(line for line in ax.lines if line.get_label() == "fitted curve")
    np.testing.assert_allclose(curve.get_ydata(), r.predict(curve.get_xdata()), rtol=1e-12)

    def bar_at(x):
        return HEIGHT_FREQ[np.clip(np.searchsorted(HEIGHT_STARTS, x, side="right") - 1, 0, HEIGHT_FREQ.size - 1)]

    fills = {c.get_label(): c for c in ax.collections if isinstance(c, PolyCollection)}
    over, under = fills["curve above the bar (overshoot)"], fills["curve below the bar (undershoot)"]
    assert np.allclose(over.get_facecolor()[0][:3], to_rgba(histogram.OVERSHOOT)[:3])
    assert np.allclose(under.get_facecolor()[0][:3], to_rgba(histogram.UNDERSHOOT)[:3])
    grid = np.linspace(160.0, 202.5, 170001)
    gap = r.predict(grid) - bar_at(grid)
    for coll, sign in ((over, 1.0), (under, -1.0)):
        polys = polygons(coll)
        assert polys, coll.get_label()
        for poly in polys:  # every shaded piece lies where the curve is on its side of the bar
            if area(poly) < 1e-7:
                continue
            cx = float(poly[:, 0].mean())
            assert sign * (float(r.predict(np.array([cx]))[0]) - bar_at(cx)) > 0, (coll.get_label(), cx)
        # and the shaded area is the area between the bars and the curve on that side
        expected = np.trapezoid(np.maximum(sign * gap, 0.0), grid)
        assert sum(area(p) for p in polys) == pytest.approx(expected, rel=2e-3)
    assert legend_texts(ax) == ["data", "fitted curve", "curve above the bar (overshoot)",
                                "curve below the bar (undershoot)"]
    assert ax.get_xlabel() == "height (cm)" and ax.get_ylabel() == "frequency"
    assert_legends_off_the_data(fig)
    assert_inside_figure(fig)
    save(fig, "histogram_heights")


def test_histogram_takes_the_model_the_ways_a_student_writes_it():
    params = [178.0, 7.0]
    spread = tg.viz.plot_histogram_fit(HEIGHT_STARTS, HEIGHT_FREQ, bell, params=params)
    vector = tg.viz.plot_histogram_fit(HEIGHT_STARTS, HEIGHT_FREQ, lambda x, p: bell(x, p[0], p[1]), params=params)
    curve = tg.viz.plot_histogram_fit(np.append(HEIGHT_STARTS, 202.5), HEIGHT_FREQ, lambda x: bell(x, *params))
    (a,), (b,), (c,) = ([line.get_ydata() for line in f.axes[0].lines] for f in (spread, vector, curve))
    np.testing.assert_allclose(a, b)
    np.testing.assert_allclose(a, c)
    bars_only = tg.viz.plot_histogram_fit(HEIGHT_STARTS, HEIGHT_FREQ)
    assert not bars_only.axes[0].lines and len(bars_only.axes[0].patches) == HEIGHT_FREQ.size
    with pytest.raises(ValueError, match="18 bins for 17 frequencies"):
        tg.viz.plot_histogram_fit(np.arange(18.0), np.ones(17), width=1.0)
    with pytest.raises(ValueError, match="unevenly spaced"):
        tg.viz.plot_histogram_fit([0.0, 1.0, 3.0], [1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="model must be"):
        tg.viz.plot_histogram_fit(HEIGHT_STARTS, HEIGHT_FREQ, "gauss")


# --------------------------------------------------------------------------- Lagrange multipliers

def _circle_results():
    f = lambda x, y: x ** 2 * y  # noqa: E731
    g = lambda x, y: x ** 2 + y ** 2 - 3  # noqa: E731
    starts = ((1.0, 1.5), (-1.0, 1.5), (1.0, -1.5), (-1.0, -1.0), (0.2, 1.6), (0.2, -1.6))
    results = [tg.optimize.lagrange_multipliers(lambda v: f(v[0], v[1]), lambda v: g(v[0], v[1]), s)
               for s in starts]
    return f, g, results


def _quivers(ax) -> dict[str, Quiver]:
    found = {}
    for q in (c for c in ax.collections if isinstance(c, Quiver)):
        colour = to_rgba(q.get_facecolor()[0])
        key = "f" if np.allclose(colour, to_rgba(lagrange.GRAD_F)) else "g"
        found[key] = q
    return found


def _unit(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v, axis=1, keepdims=True)
    return np.divide(v, n, out=np.zeros_like(v), where=n > 0)


def test_lagrange_draws_the_constraint_and_the_gradients_at_each_point(save):
    f, g, results = _circle_results()
    fig = tg.viz.plot_lagrange(f, g, results, resolution=120)
    ax = fig.axes[0]
    pts = np.array([r.x for r in results])
    q = _quivers(ax)
    np.testing.assert_allclose(q["f"].get_offsets(), pts)
    drawn_f = np.column_stack([q["f"].U, q["f"].V])
    drawn_g = np.column_stack([q["g"].U, q["g"].V])
    x, y = pts[:, 0], pts[:, 1]
    exact_f = np.column_stack([2 * x * y, x ** 2])  # ∇(x²y), by hand
    exact_g = np.column_stack([2 * x, 2 * y])
    moving = np.linalg.norm(exact_f, axis=1) > 1e-6  # ∇f = 0 at (0, ±√3), up to the solver's tolerance
    assert moving.sum() == 4
    np.testing.assert_allclose(_unit(drawn_f)[moving], _unit(exact_f)[moving], atol=1e-9)
    np.testing.assert_allclose(_unit(drawn_g), _unit(exact_g), atol=1e-9)
    # ∇f = 0 at (0, ±√3): no arrow there; the others are visible and do not dominate the picture
    lengths = np.linalg.norm(drawn_f, axis=1)
    assert np.all(lengths[~moving] == 0)
    span = min(np.ptp(ax.get_xlim()), np.ptp(ax.get_ylim()))
    for drawn_v in (drawn_f, drawn_g):
        n = np.linalg.norm(drawn_v, axis=1)
        assert n.max() == pytest.approx(lagrange.ARROW_SHARE * span)
        assert np.all((n == 0) | (n >= 0.3 * n.max() - 1e-12))
    # at the maxima and minima ∇f ∥ ∇g (cross product zero), as the condition says
    cross = drawn_f[:, 0] * drawn_g[:, 1] - drawn_f[:, 1] * drawn_g[:, 0]
    np.testing.assert_allclose(cross, 0.0, atol=1e-12)
    # the constraint: a zero contour on the circle x² + y² = 3
    zero = [c for c in ax.collections if isinstance(c, ContourSet) and list(c.levels) == [0.0]]
    assert len(zero) == 1
    verts = np.concatenate([p.vertices for p in zero[0].get_paths()])
    np.testing.assert_allclose(np.hypot(verts[:, 0], verts[:, 1]), np.sqrt(3.0), atol=2e-3)
    labels = legend_texts(ax)
    assert {"constraint g = 0", "∇f", "∇g", "maximum", "minimum"} <= set(labels)
    first = {m: next(line for line in ax.lines if line.get_marker() == m) for m in ("^", "v")}
    assert first["^"].get_label() == "maximum" and first["v"].get_label() == "minimum"
    maxima = np.array([[line.get_xdata()[0], line.get_ydata()[0]] for line in ax.lines if line.get_marker() == "^"])
    np.testing.assert_allclose(sorted(map(tuple, maxima)), [(-np.sqrt(2), 1.0), (0.0, -np.sqrt(3)),
                                                            (np.sqrt(2), 1.0)], atol=1e-9)
    assert ax.get_aspect() == 1.0 and (ax.get_xlabel(), ax.get_ylabel()) == ("x", "y")
    assert_legends_off_the_data(fig)
    assert_markers_inside(fig)
    assert_inside_figure(fig)
    save(fig, "lagrange_circle")


def test_lagrange_takes_plain_points_and_vector_functions():
    pts = np.array([[np.sqrt(2), 1.0], [0.0, np.sqrt(3)]])
    fig = tg.viz.plot_lagrange(lambda v: v[0] ** 2 * v[1], lambda v: (v ** 2).sum() - 3, pts, resolution=40)
    ax = fig.axes[0]
    assert "stationary point" in legend_texts(ax)
    q = _quivers(ax)
    np.testing.assert_allclose(_unit(np.column_stack([q["g"].U, q["g"].V])), _unit(2 * pts), atol=1e-12)
    with pytest.raises(ValueError, match="shape"):
        tg.viz.plot_lagrange(lambda v: v[0], lambda v: v[1], np.zeros((2, 3)))


# --------------------------------------------------------------------------- the Taylor surface

def test_taylor_surface_heights_are_f_and_its_models(save):
    f = lambda x, y: tg.sin(x) * tg.cos(y) + 0.1 * x ** 2  # noqa: E731
    x0 = np.array([0.5, 0.3])
    fig = tg.viz.plot_taylor_surface(f, x0, radius=1.2, resolution=13)
    assert [a.get_title() for a in fig.axes] == ["order 1: tangent plane", "order 2: quadratic model"]
    # by hand: f(x0), ∇f(x0), H(x0)
    s, c, sy, cy = np.sin(x0[0]), np.cos(x0[0]), np.sin(x0[1]), np.cos(x0[1])
    f0 = s * cy + 0.1 * x0[0] ** 2
    g = np.array([c * cy + 0.2 * x0[0], -s * sy])
    H = np.array([[-s * cy + 0.2, -c * sy], [-c * sy, -s * cy]])
    models = {1: lambda p: f0 + (p - x0) @ g,
              2: lambda p: f0 + (p - x0) @ g + 0.5 * np.einsum("...i,ij,...j->...", p - x0, H, p - x0)}
    for order, ax in zip((1, 2), fig.axes, strict=True):
        surf = next(c for c in ax.collections if type(c).__name__ == "Poly3DCollection")
        X, Y = np.meshgrid(np.linspace(-0.7, 1.7, 13), np.linspace(-0.9, 1.5, 13))
        Z = np.sin(X) * np.cos(Y) + 0.1 * X ** 2
        quads = (Z[:-1, :-1] + Z[1:, :-1] + Z[:-1, 1:] + Z[1:, 1:]) / 4  # each face is coloured by its mean height
        np.testing.assert_allclose(np.sort(surf.get_array()), np.sort(quads.ravel()), atol=1e-12)
        wire = next(c for c in ax.collections if type(c).__name__ == "Line3DCollection")
        assert np.allclose(to_rgba(wire.get_color()[0]), to_rgba(surface.MODEL_COLORS[order]))
        pts = np.concatenate([np.asarray(seg) for seg in wire._segments3d])
        np.testing.assert_allclose(pts[:, 2], models[order](pts[:, :2]), atol=1e-10)
        dot = next(c for c in ax.collections if type(c).__name__ == "Path3DCollection")
        np.testing.assert_allclose(np.ravel(dot._offsets3d), [*x0, f0], atol=1e-12)
        assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_zlabel()) == ("x", "y", "f(x, y)")
    labels = legend_texts(fig)
    assert labels[:3] == ["f", "order 1: tangent plane", "order 2: quadratic model"] and "x₀ = (0.5, 0.3)" in labels[3]
    assert_inside_figure(fig)
    save(fig, "taylor_surface")
    one = tg.viz.plot_taylor_surface(lambda mu, sigma: mu * sigma, (1.0, 2.0), panels=False, resolution=7)
    assert len(one.axes) == 1 and one.axes[0].get_xlabel() == "μ"
    assert sum(type(c).__name__ == "Line3DCollection" for c in one.axes[0].collections) == 2
    with pytest.raises(ValueError, match="orders"):
        tg.viz.plot_taylor_surface(f, x0, orders=(3,))
    with pytest.raises(ValueError, match="x0 must be a point of 2"):
        tg.viz.plot_taylor_surface(f, [1.0, 2.0, 3.0])


# --------------------------------------------------------------------------- the gradient field

def test_gradient_field_arrows_are_the_gradient_and_stay_inside(save):
    f = lambda x, y: x ** 2 + 3 * y ** 2 + x * y  # noqa: E731
    for descent in (False, True):
        fig = tg.viz.plot_gradient_field(f, xlim=(-2, 2), ylim=(-1, 1), descent=descent, density=12, resolution=60)
        ax = fig.axes[0]
        (q,) = [c for c in ax.collections if isinstance(c, Quiver)]
        P = q.get_offsets()
        U = np.column_stack([q.U, q.V])
        exact = np.column_stack([2 * P[:, 0] + P[:, 1], 6 * P[:, 1] + P[:, 0]]) * (-1 if descent else 1)
        np.testing.assert_allclose(_unit(U), _unit(exact), atol=1e-12)
        # lengths ∝ |∇f| up to the cap at the 90th percentile
        ratio = np.linalg.norm(U, axis=1) / np.linalg.norm(exact, axis=1)
        capped = np.linalg.norm(exact, axis=1) >= np.percentile(np.linalg.norm(exact, axis=1), 90)
        np.testing.assert_allclose(ratio[~capped], ratio[~capped][0], rtol=1e-9)
        # centred on their points, every arrow stays within the frame
        ends = np.concatenate([P - U / 2, P + U / 2])
        assert ends[:, 0].min() >= -2 and ends[:, 0].max() <= 2 and ends[:, 1].min() >= -1 and ends[:, 1].max() <= 1
        name = "−∇f" if descent else "∇f"
        assert name in ax.get_title() and any(t.startswith(name) for t in legend_texts(ax))
        assert_inside_figure(fig)
        save(fig, f"gradient_field_{'descent' if descent else 'ascent'}")
    named = tg.viz.plot_gradient_field(lambda mu, sigma: mu * sigma, density=4, resolution=20)
    assert (named.axes[0].get_xlabel(), named.axes[0].get_ylabel()) == ("μ", "σ")
    with pytest.raises(ValueError, match="density must be an int ≥ 2"):
        tg.viz.plot_gradient_field(f, density=1)
    with pytest.raises(ValueError, match="xlim must be"):
        tg.viz.plot_gradient_field(f, xlim=(1.0, -1.0))


def test_gradient_field_decorates_a_descent_picture(save):
    f = lambda v: (v[0] - 1) ** 2 + 2 * (v[1] + 0.5) ** 2  # noqa: E731
    r = tg.optimize.gradient_descent(f, [-1.5, 1.0], lr=0.1)
    fig = tg.viz.plot_descent(f, {"gradient descent": r}, field=True, resolution=50)
    ax = fig.axes[0]
    assert sum(isinstance(c, Quiver) for c in ax.collections) == 1
    assert legend_texts(ax)[0].startswith("−∇f")
    assert_legends_off_the_data(fig)
    save(fig, "descent_with_field")
    fig = tg.viz.plot_descent(f, {"gradient descent": r}, resolution=50)
    contours = sum(isinstance(c, ContourSet) for c in fig.axes[0].collections)
    tg.viz.plot_gradient_field(f, ax=fig.axes[0], descent=True, density=10)
    assert sum(isinstance(c, ContourSet) for c in fig.axes[0].collections) == contours  # arrows only, on top
    (q,) = [c for c in fig.axes[0].collections if isinstance(c, Quiver)]
    xs = q.get_offsets()[:, 0]
    lo, hi = fig.axes[0].get_xlim()
    assert lo < xs.min() and xs.max() < hi and xs.min() - lo < 0.1 * (hi - lo)  # over the picture's own limits


def test_gradient_grid_matches_point_by_point_gradients():
    X, Y = np.meshgrid(np.linspace(-1, 1, 4), np.linspace(0, 2, 3))
    elementwise = lambda v: tg.sin(v[0]) * v[1] ** 2  # noqa: E731
    gx, gy = gradient_grid(elementwise, X, Y)
    np.testing.assert_allclose(gx, np.cos(X) * Y ** 2)
    np.testing.assert_allclose(gy, 2 * np.sin(X) * Y)
    # not elementwise over a stacked grid (a sum over the vector): point by point, the same numbers
    A = np.array([[2.0, 1.0], [1.0, 3.0]])
    quadratic = lambda v: v @ (A @ v)  # noqa: E731
    gx, gy = gradient_grid(quadratic, X, Y)
    np.testing.assert_allclose(gx, 2 * (A[0, 0] * X + A[0, 1] * Y))
    np.testing.assert_allclose(gy, 2 * (A[1, 0] * X + A[1, 1] * Y))


# --------------------------------------------------------------------------- the training picture

def test_network_fit_colours_the_snapshots_in_order_with_the_target_in_black(save):
    xs = np.linspace(0.0, 1.0, 25).reshape(-1, 1)
    target = 0.5 + 0.4 * np.sin(2 * np.pi * xs[:, 0])
    net = tg.nn.MLP([1, 8, 1], "tanh", "sigmoid", rng=0)
    opt = tg.optim.Adam(net.parameters(), lr=0.05)
    snapshots = []
    for step in range(61):
        if step % 20 == 0:
            with tg.no_grad():
                snapshots.append((step, net(xs)))
        opt.zero_grad()
        ((net(xs)[:, 0] - target) ** 2).mean().backward()
        opt.step()
    shuffled = dict(reversed(snapshots))  # order of the mapping does not matter, the steps do
    fig = tg.viz.plot_network_fit(xs, target, shuffled, xlabel="x", ylabel="output")
    ax = fig.axes[0]
    target_line = ax.lines[0]
    assert target_line.get_label() == "target" and to_rgba(target_line.get_color()) == to_rgba("black")
    np.testing.assert_allclose(target_line.get_ydata(), target)
    outputs = ax.lines[1:]
    for line, (_step, out) in zip(outputs, snapshots, strict=True):
        np.testing.assert_allclose(line.get_ydata(), out.data[:, 0])
    # colours run along the colour map in the order of the steps: dark to bright
    cmap = plt.get_cmap("viridis")
    positions = [int(np.argmin(np.abs(cmap(np.linspace(0, 1, 1001))[:, :3] - to_rgba(line.get_color())[:3]).sum(1)))
                 for line in outputs]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    bar = fig.axes[1]
    assert bar.get_ylabel() == "training step"
    assert [t.get_text() for t in bar.get_yticklabels()] == ["0", "20", "40", "60"]
    assert legend_texts(ax) == ["target", "output at step 60"]
    assert_legends_off_the_data(fig)
    assert_inside_figure(fig)
    save(fig, "network_fit")
    many = tg.viz.plot_network_fit(xs[:, 0], target, {s: target * s / 40 for s in range(0, 41, 2)})
    assert len(many.axes[0].lines) == 22
    with pytest.raises(ValueError, match="step 3 has shape"):
        tg.viz.plot_network_fit(xs, target, {3: np.zeros(5)})
    with pytest.raises(ValueError, match="no snapshots"):
        tg.viz.plot_network_fit(xs, target, {})


# --------------------------------------------------------------------------- plot_descent's axis labels

def test_descent_labels_its_axes_with_the_parameter_names():
    chi2 = lambda mu, sigma: (mu - 178.0) ** 2 / 40 + (sigma - 7.5) ** 2 / 5  # noqa: E731
    r = tg.optimize.gradient_descent(lambda v: chi2(v[0], v[1]), [170.0, 5.0], lr=1.0, max_iter=50)
    ax = tg.viz.plot_descent(chi2, r, resolution=30).axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("μ", "σ")
    # f(x, y) draws the same contours as f(v)
    levels = [c for c in ax.collections if isinstance(c, ContourSet)][0].levels
    ax_v = tg.viz.plot_descent(lambda v: chi2(v[0], v[1]), r, resolution=30).axes[0]
    np.testing.assert_allclose([c for c in ax_v.collections if isinstance(c, ContourSet)][0].levels, levels)
    assert (ax_v.get_xlabel(), ax_v.get_ylabel()) == ("x", "y")
    ax = tg.viz.plot_descent(chi2, r, labels=("mean (cm)", "spread (cm)"), resolution=20).axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("mean (cm)", "spread (cm)")
    assert tg.viz.plot_descent(lambda a, b: a * b, r, resolution=20).axes[0].get_xlabel() == "a"
    with pytest.raises(ValueError, match="two axis labels"):
        tg.viz.plot_descent(chi2, r, labels="μσ")
    with pytest.raises(TypeError, match="3 separate arguments"):
        tg.viz.plot_descent(lambda x, y, z: x, r)
