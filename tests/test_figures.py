"""The pictures as a reader sees them (issue 14 §4): no legend or note over the data, nothing clipped,
equal scales where shape matters, labels in the reader's words.

Each check works in display coordinates after a layout pass, on the figures the demos, the CLI and the
benchmark actually draw, so a legend moved back onto the data, a start outside the limits or two slope
notes printed over each other fail here.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.text import Annotation  # noqa: E402

import tinygrad_mvc as tg  # noqa: E402
from tinygrad_mvc.course import JOBS, optimisation  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def drawn(fig: Figure):
    """A renderer after the figure's layout pass (the positions savefig will use)."""
    fig.draw_without_rendering()
    return fig._get_renderer()  # works on any canvas, also of a figure plt.close has closed


def data_points(ax) -> np.ndarray:
    """Display coordinates of every data point of the lines and scatters of ``ax`` that lie inside it."""
    parts = []
    for line in ax.lines:
        xy = np.asarray(line.get_xydata(), dtype=float)
        if xy.size and line.get_visible():
            parts.append(line.get_transform().transform(xy))
    for coll in ax.collections:
        offsets = np.asarray(coll.get_offsets(), dtype=float)
        if offsets.size and offsets.ndim == 2 and len(offsets) > 1:
            parts.append(coll.get_offset_transform().transform(offsets))
    pts = np.concatenate(parts) if parts else np.zeros((0, 2))
    pts = pts[np.all(np.isfinite(pts), axis=1)]
    box = ax.get_window_extent()
    inside = (pts[:, 0] >= box.x0) & (pts[:, 0] <= box.x1) & (pts[:, 1] >= box.y0) & (pts[:, 1] <= box.y1)
    return pts[inside]


def assert_legends_off_the_data(fig: Figure) -> None:
    """No legend holds a data point of its axes, nor overlaps another panel."""
    renderer = drawn(fig)
    for ax in fig.axes:
        legend = ax.get_legend()
        if legend is None:
            continue
        box = legend.get_window_extent(renderer)
        pts = data_points(ax)
        covered = pts[(pts[:, 0] > box.x0) & (pts[:, 0] < box.x1) & (pts[:, 1] > box.y0) & (pts[:, 1] < box.y1)]
        assert covered.size == 0, f"the legend of {ax.get_title()!r} covers {len(covered)} data points"
        for other in fig.axes:
            if other is not ax and other.get_visible() and other not in ax.child_axes:
                assert not box.overlaps(other.get_window_extent(renderer)), \
                    f"the legend of {ax.get_title()!r} lies on the panel {other.get_title()!r}"


def assert_markers_inside(fig: Figure) -> None:
    """Every marker (a start, an iterate, a root, x₀) lies within the limits of its axes: nothing clipped."""
    for ax in fig.axes:
        (x0, x1), (y0, y1) = sorted(ax.get_xlim()), sorted(ax.get_ylim())
        for line in ax.lines:
            if line.get_marker() in (None, "None", "", " "):
                continue
            xy = np.asarray(line.get_xydata(), dtype=float)
            xy = xy[np.all(np.isfinite(xy), axis=1)]
            outside = xy[(xy[:, 0] < x0) | (xy[:, 0] > x1) | (xy[:, 1] < y0) | (xy[:, 1] > y1)]
            assert outside.size == 0, f"{ax.get_title()!r}: {line.get_label()!r} has points outside: {outside[:3]}"


def assert_words_not_repeated(fig: Figure) -> None:
    for text in fig.findobj(matplotlib.text.Text):
        s = text.get_text()
        assert not re.search(r"\b(\w+): \1\b", s), f"a repeated word in {s!r}"


# --------------------------------------------------------------------------- the demos' figures

@pytest.fixture()
def saved(monkeypatch):
    """The figures a demo saves, by file name, without writing them (savefig only records)."""
    figures: dict[str, Figure] = {}

    def record(self, path, *args, **kwargs):
        figures[Path(path).name] = self

    monkeypatch.setattr(Figure, "savefig", record)
    return figures


def test_newton_sextic_shows_every_start_and_iterate_one_panel_per_start(saved, tmp_path):
    demo = SimpleNamespace(run=JOBS["newton_raphson"].run, STARTS=optimisation.NEWTON_STARTS,
                           sextic=optimisation.sextic)  # the job, from tinygrad_mvc.course
    assert demo.run(tmp_path).ok
    fig = saved["newton_sextic.png"]
    assert len(fig.axes) == 1 + len(demo.STARTS)
    assert_markers_inside(fig)  # the old picture cut x₀ = 1.99's first iterate (x ≈ −36) off at −4.3
    for x0, ax in zip(demo.STARTS, fig.axes[1:], strict=True):
        r = tg.optimize.newton_raphson(demo.sextic, x0)
        lo, hi = ax.get_xlim()
        assert lo <= r.history.min() and r.history.max() <= hi and f"x₀ = {x0:g}" in ax.get_title()
    starts = [line for line in fig.axes[0].lines if line.get_label().startswith("start")]
    assert sorted(float(line.get_xdata()[0]) for line in starts) == sorted(demo.STARTS)
    assert_legends_off_the_data(fig)
    assert_words_not_repeated(saved["newton_cycle.png"])
    assert "cycle: cycle" not in saved["newton_cycle.png"].axes[0].get_title()


def test_taylor_legends_are_off_the_curves_and_name_the_function(saved, tmp_path):
    demo = JOBS["taylor_series"]
    assert demo.run(tmp_path).ok
    for name in ("taylor_sin_cos.png", "taylor_radius.png", "taylor_exp.png"):
        assert_legends_off_the_data(saved[name])
        assert_markers_inside(saved[name])
    labels = [t.get_text() for t in saved["taylor_radius.png"].axes[0].get_legend().get_texts()]
    assert labels[0] == "1/(1+x²)" and not any("runge" in s for s in labels)


def test_descent_bowl_has_equal_scales_and_round_colourbar_ticks(saved, tmp_path):
    demo = JOBS["gradient_descent"]
    assert demo.run(tmp_path).ok
    fig = saved["descent_bowl.png"]
    renderer = drawn(fig)
    ax = fig.axes[0]
    box = ax.get_window_extent(renderer)
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    # one unit as long on both axes: x² + 10y² must look like the elongated bowl it is
    np.testing.assert_allclose((box.height / (y1 - y0)) / (box.width / (x1 - x0)), 1.0, rtol=0.02)
    bar = next(a for a in [*fig.axes, *ax.child_axes] if a is not ax and a.get_ylabel() == "f")
    lo, hi = bar.get_ylim()
    ticks = [t for t in bar.get_yticks() if lo <= t <= hi]
    step = np.diff(ticks)
    assert len(ticks) >= 3 and np.allclose(step, step[0])
    # round numbers (0, 15, 30, ...), not the contour levels' 8.13, 16.25, 24.38
    assert all(float(f"{t:.2g}") == t for t in ticks), f"colourbar ticks {ticks}"
    for name in ("descent_bowl.png", "descent_rosenbrock.png"):
        assert_legends_off_the_data(saved[name])
        assert_markers_inside(saved[name])


def test_descent_keeps_its_own_scales_when_equal_ones_would_make_a_sliver():
    f = lambda v: v[0] ** 2 + v[1] ** 2  # noqa: E731
    fig = tg.viz.plot_descent(f, xlim=(-100, 100), ylim=(-1, 1), resolution=20)
    assert fig.axes[0].get_aspect() == "auto"
    fig = tg.viz.plot_descent(f, xlim=(-3, 3), ylim=(-1, 1), resolution=20)
    assert fig.axes[0].get_aspect() == 1.0


# --------------------------------------------------------------------------- fit --plot on a peak

def test_fit_plot_legend_leaves_a_peak_uncovered():
    x = np.linspace(-5, 5, 41)
    y = np.exp(-x ** 2 / (2 * 0.8 ** 2)) + 0.1 + np.random.default_rng(0).normal(0, 0.05, x.size)
    for sigma in (np.full_like(x, 0.05), None):  # with error bars and without (a longer legend)
        r = tg.fit.curve_fit(lambda x, p: p[0] * tg.exp(-(x - p[1]) ** 2 / (2 * p[2] ** 2)) + p[3], x, y,
                             [1.0, 0.0, 1.0, 0.0], sigma=sigma)
        fig = tg.viz.plot_fit(r, title="a peak")
        assert_legends_off_the_data(fig)
        assert fig.get_suptitle() == "a peak"


# --------------------------------------------------------------------------- the benchmark's figures

@pytest.fixture()
def bench_fd(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    import bench_finite_diff

    monkeypatch.setattr(bench_finite_diff, "_peers", lambda: [])
    return bench_finite_diff


def test_fd_accuracy_notes_do_not_overprint_and_the_legend_is_off_the_curves(bench_fd, saved, tmp_path):
    bench_fd.bench_accuracy(tmp_path)
    fig = saved["fd_accuracy.png"]
    renderer = drawn(fig)
    for ax in fig.axes:
        notes = [t for t in ax.texts if isinstance(t, Annotation)]
        assert len(notes) >= 3, ax.get_title()
        boxes = [t.get_window_extent(renderer) for t in notes]
        for i, a in enumerate(boxes):
            for j in range(i):
                assert not a.overlaps(boxes[j]), f"{ax.get_title()}: {notes[i].get_text()!r} on {notes[j].get_text()!r}"
    assert_legends_off_the_data(fig)


def _timings(ns, names, slope):
    return {n: {name: (1e-4 * n ** (slope if "differences" in name else 0.1) * (k + 1), 0.0)
                for k, name in enumerate(names)} for n in ns}


def test_fd_cost_labels_the_crossover_inside_the_axes(bench_fd, saved, tmp_path):
    names = [bench_fd.REF + " gradient", bench_fd.F_UNIT, bench_fd.REVERSE + " (tg.grad)", bench_fd.FD]
    summary = {"crossover": 14.2, "n_max": 1000, "ratio_at_max": 85.0, "ratio_per_n": 0.085}
    bench_fd._plot_cost(_timings((2, 10, 100, 1000), names, 1.0), {}, summary, tmp_path)
    fig = saved["fd_cost.png"]
    renderer = drawn(fig)
    ax = fig.axes[0]
    label = next(t for t in ax.texts if "crossover n ≈ 14.2" in t.get_text())
    box, frame = label.get_window_extent(renderer), ax.get_window_extent(renderer)
    assert frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
    line_x = ax.transData.transform((14.2, 1.0))[0]
    assert 0 <= box.x0 - line_x < 0.05 * frame.width  # beside its line
    assert_legends_off_the_data(fig)


def test_fd_hessian_legends_leave_the_hand_written_line_visible(bench_fd, saved, tmp_path):
    names = [bench_fd.HESS_REF, bench_fd.HESS_AD, bench_fd.HESS_FD_NP]
    errors = {n: {bench_fd.HESS_AD: 1e-16, bench_fd.HESS_FD_NP: 1e-11} for n in (10, 30, 100)}
    bench_fd._plot_hessian(_timings((10, 30, 100), names, 1.0), {}, errors, tmp_path)
    assert_legends_off_the_data(saved["fd_hessian.png"])


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
