"""Issue 16, wired into the course's jobs: each job uses the new algorithms and draws the new pictures.

The files every job writes (and their captions, and that each job passes its own checks) come from the one
``demo --all`` run of tests/test_gallery.py. Here the figures themselves, from the jobs' own functions with
``savefig`` only recording (no PNG is rendered): what each shows, that it reads as the course writes it, and
that a job fails when its lesson does not hold. Oracles: the course's numbers (the heights' χ² minimum from
scipy in tests/test_course_algorithms.py, the sandpit's saddle near (2.90, 2.86)), closed forms, the docs.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.quiver import Quiver  # noqa: E402
from test_figures import assert_legends_off_the_data, drawn  # noqa: E402

import tinygrad_mvc as tg  # noqa: E402
from tinygrad_mvc.course import JOBS, JobResult, chain_rule, multivariate, optimisation, regression  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture()
def saved(monkeypatch):
    """The figures a job saves, by file name, without rendering them (savefig only records)."""
    figures: dict[str, Figure] = {}
    monkeypatch.setattr(Figure, "savefig", lambda self, path, *a, **k: figures.__setitem__(Path(path).name, self))
    return figures


def legend_texts(ax) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


# =============================================================================== regression: the course's heights

def test_chi_squared_fit_uses_the_courses_heights_and_shows_r(saved, tmp_path):
    result = JOBS["chi_squared_fit"].run(tmp_path)
    assert result.ok, result.failure
    text = "\n".join(result.summary)
    assert "mu = 178.225962, sigma = 4.674189" in text and "7 steps" in text  # the χ² minimum from (155, 6)
    assert "ran the fixed max_iter=500 steps (tol=None)" in text
    hist = saved["heights_fit.png"].axes[0]
    heights = [bar.get_height() for bar in hist.patches]
    np.testing.assert_allclose(heights, tg.datasets.heights_histogram()[1])  # the course's own 17 bars
    assert [bar.get_x() for bar in hist.patches[:2]] == [160.0, 162.5]
    assert "μ = 178.23 cm, σ = 4.67 cm" in " ".join(legend_texts(hist))
    landscape = saved["heights_chi2.png"].axes[0]
    assert (landscape.get_xlabel(), landscape.get_ylabel()) == ("μ", "σ")  # from chi_squared(mu, sigma)
    ends = [line.get_xydata()[-1] for line in landscape.lines if line.get_label().startswith(("Newton", "steep"))]
    np.testing.assert_allclose(ends, [[178.225962, 4.674189]] * 2, atol=1e-4)
    line = " ".join(t.get_text() for t in saved["chi2_fit_line.png"].findobj(matplotlib.text.Text))
    assert "r = 0.9950, r² = 0.9900" in line
    for name in ("heights_fit.png", "heights_chi2.png"):
        assert_legends_off_the_data(saved[name])


def test_chi_squared_fit_fails_when_steepest_descent_stops_short(saved, monkeypatch):
    monkeypatch.setattr(regression, "DESCENT_STEPS", 100)  # μ ≈ 161 after 100 steps of 50
    failures: list[str] = []
    regression._course_heights(JobResult("t"), failures)
    assert len(failures) == 1 and failures[0].startswith("steepest descent ends at")


# =============================================================================== the sandpit

def test_sandpit_draws_the_field_and_newton_three_ways(saved, tmp_path):
    result = JOBS["sandpit"].run(tmp_path)
    assert result.ok, result.failure
    pit = saved["sandpit.png"].axes[0]
    assert any(isinstance(c, Quiver) for c in pit.collections)
    assert legend_texts(pit)[0].startswith("−∇h (downhill")
    ax = saved["sandpit_newton.png"].axes[0]
    paths = {line.get_label(): line.get_xydata() for line in ax.lines if "Newton" in line.get_label()}
    pure, free, walled = paths.values()
    assert list(paths)[0].startswith("pure Newton (modify_hessian=False): 7 steps → saddle (2.90, 2.86)")
    assert np.abs(pure).max() > 100  # it really leaves the 6 m pit, and the note says where
    assert any("lands at (117, 58)" in t.get_text() for t in ax.texts)
    np.testing.assert_allclose(free[-1], [4.19, 3.99], atol=5e-3)  # the deepest dip
    assert np.all((walled >= 0) & (walled <= 6))
    assert np.linalg.norm(np.diff(walled, axis=0), axis=1).max() <= 2 + 1e-12
    text = "\n".join(result.summary)
    assert "1 step capped at max_step=2" in text and "t per step: 0.00781, 0.25, 1, 1" in text
    assert_legends_off_the_data(saved["sandpit_newton.png"])


def test_sandpit_fails_when_the_cap_is_never_reached(saved, monkeypatch):
    monkeypatch.setattr(multivariate, "MAX_STEP", 50.0)  # no step is that long: "reports capped steps" must fail
    _, _, failures = multivariate._newton_figure()
    assert len(failures) == 1 and "cap" in failures[0]


# =============================================================================== optimisation

def test_newton_and_the_secant_reach_different_roots_from_one_start(saved):
    fig, lines, failures = optimisation._secant_figure(optimisation.real_roots())
    assert failures == []
    newton, secant = fig.axes[:2]
    assert "11 steps → -1" in newton.get_title() and "9 steps → 2" in secant.get_title()
    assert newton.get_yscale() == "symlog" and secant.get_yscale() == "linear"
    assert "Newton -> -3.760213972, secant -> 1.063070630" in lines[1]  # the sextic splits too
    assert_legends_off_the_data(fig)


def test_pure_newton_walks_to_a_maximum_and_a_saddle(saved):
    failures: list[str] = []
    result = JobResult("t")
    fig = optimisation._stationary_figure(result, failures)
    assert failures == []
    labels = [line.get_label() for line in fig.axes[0].lines if "Newton" in line.get_label()]
    assert [label.split("→ ")[1] for label in labels] == ["maximum (0, 0)", "saddle (1, 0)", "minimum (1, 1)"]
    assert sum("modify_hessian=False" in line for line in result.summary) == 2


def test_lagrange_draws_plot_lagrange_with_every_kind(saved, tmp_path):
    result = JOBS["lagrange_multipliers"].run(tmp_path)
    assert result.ok, result.failure
    ax = saved["lagrange_circle.png"].axes[0]
    assert {"constraint g = 0", "∇f", "∇g", "maximum", "minimum"} <= set(legend_texts(ax))
    notes = sorted(t.get_text().split("\n")[0] for t in ax.texts)
    assert notes == ["maximum"] * 3 + ["minimum"] * 3
    renderer = drawn(saved["lagrange_circle.png"])
    frame = ax.get_window_extent(renderer)
    for t in ax.texts:  # every note inside the picture
        box = t.get_window_extent(renderer)
        assert frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1, t.get_text()


# =============================================================================== the curve network

def test_curve_network_draws_the_curve_in_the_plane(saved, tmp_path):
    result = JOBS["curve_network"].run(tmp_path)
    assert result.ok, result.failure
    assert "W1 (6, 1), b1 (6, 1), W2 (7, 6), b2 (7, 1), W3 (2, 7), b3 (2, 1)" in "\n".join(result.summary)
    ax = saved["curve_network_fit.png"].axes[0]
    assert ax.get_aspect() == 1.0 and len(ax.lines) == 1 + len(chain_rule.CURVE_SNAPSHOTS)
    target = ax.lines[0].get_xydata()
    assert target.shape == (100, 2) and np.allclose(target[0], target[-1])  # a closed curve: the heart
    final = ax.lines[-1].get_xydata()
    assert np.abs(final - target).max() < 0.1
    assert saved["curve_network_cost.png"].axes[0].get_yscale() == "log"


def test_plot_network_fit_draws_two_outputs_as_a_curve_in_the_plane():
    t = np.linspace(0, 1, 9)
    circle = np.stack([np.cos(2 * np.pi * t), np.sin(2 * np.pi * t)], axis=1)
    fig = tg.viz.plot_network_fit(t, circle, {0: 0.2 * circle, 5: 0.9 * circle}, xlabel="a₁", ylabel="a₂")
    ax = fig.axes[0]
    np.testing.assert_allclose(ax.lines[0].get_xydata(), circle)
    np.testing.assert_allclose(ax.lines[-1].get_xydata(), 0.9 * circle)
    renderer = drawn(fig)
    bar = next(a for a in ax.child_axes)
    assert bar.get_window_extent(renderer).height == pytest.approx(ax.get_window_extent(renderer).height, rel=1e-6)
    with pytest.raises(ValueError, match=r"each output must be \(9, 2\) too"):
        tg.viz.plot_network_fit(t, circle, {0: circle[:, 0]})
    one_d = tg.viz.plot_network_fit(t, t ** 2, {0: t})  # one output: the curve over x, as before
    assert one_d.axes[0].get_aspect() == "auto"
