"""tg.viz.plot_history and tg.viz.plot_decision_boundary."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import tinygrad_mvc as tg  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_plot_history_one_panel_per_series_with_the_values():
    fig = tg.viz.plot_history({"loss": [1.0, 0.5, 0.1], "accuracy": [0.5, 0.8, 0.9]}, title="t")
    loss_ax, acc_ax = fig.axes
    np.testing.assert_array_equal(loss_ax.lines[0].get_ydata(), [1.0, 0.5, 0.1])
    np.testing.assert_array_equal(loss_ax.lines[0].get_xdata(), [1, 2, 3])
    assert (loss_ax.get_yscale(), acc_ax.get_yscale()) == ("log", "linear")
    assert "0.1" in loss_ax.get_title() and acc_ax.get_ylabel() == "accuracy"


def test_plot_history_of_a_plain_list_and_of_a_loss_that_goes_negative():
    assert tg.viz.plot_history([3.0, 2.0]).axes[0].get_ylabel() == "loss"
    assert tg.viz.plot_history({"loss": [1.0, -1.0]}).axes[0].get_yscale() == "linear"  # log would hide it


@pytest.mark.parametrize("history, match", [({}, "history is empty"), ({"loss": []}, "'loss' has no values")])
def test_plot_history_errors(history, match):
    with pytest.raises(ValueError, match=match):
        tg.viz.plot_history(history)


def test_decision_boundary_of_a_known_score_is_where_it_should_be():
    X = np.array([[0.0, 0.0], [2.0, 2.0], [0.0, 2.0], [2.0, 0.0]])
    y = np.array([0, 1, 1, 0])
    fig = tg.viz.plot_decision_boundary(lambda p: p[:, 1] - 1.0, X, y, resolution=41)  # boundary: x₂ = 1
    ax = fig.axes[0]
    lines = [c for c in ax.collections if hasattr(c, "allsegs") and not c.filled]  # the contour at the threshold
    boundary = [seg for c in lines for level in c.allsegs for seg in level if len(seg)]
    assert boundary, "no boundary contour drawn"
    ys = np.concatenate([seg[:, 1] for seg in boundary])
    np.testing.assert_allclose(ys, 1.0, atol=1e-9)
    assert len(ax.get_legend().get_texts()) == 2


def test_decision_boundary_of_a_trained_network_and_of_a_multiclass_model():
    X, y = tg.datasets.make_moons(40, noise=0.05, rng=0)
    net = tg.nn.MLP([2, 8, 1], activation="tanh", rng=0)
    assert tg.viz.plot_decision_boundary(net, X, y, resolution=30).axes
    centres = np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 3.0]])

    def nearest(p):  # three classes: scores are minus squared distances to the centres
        return -((p.data[:, None, :] - centres) ** 2).sum(axis=2)

    fig = tg.viz.plot_decision_boundary(nearest, centres, np.arange(3), resolution=30)
    assert len(fig.axes[0].get_legend().get_texts()) == 3


@pytest.mark.parametrize("X, y, match", [(np.zeros((3, 3)), np.zeros(3), r"X must have shape \(n, 2\)"),
                                         (np.zeros((3, 2)), np.zeros(2), "3 points but y has 2 labels")])
def test_decision_boundary_errors(X, y, match):
    with pytest.raises(ValueError, match=match):
        tg.viz.plot_decision_boundary(lambda p: p[:, 0], X, y)
