"""tg.losses against their formulas, their gradients against finite differences, and their errors."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special
from hypothesis import given
from hypothesis import strategies as st
from strategies import reals, shapes

import tinygrad_mvc as tg
from tinygrad_mvc import losses
from tinygrad_mvc.tensor import Tensor

RNG = np.random.default_rng(0)


@given(data=st.data())
def test_chi_squared_formula_and_gradient(data):
    shape = data.draw(shapes(min_dims=1, max_dims=2, max_side=4), label="shape")
    pred, target = data.draw(reals(shape), label="pred"), data.draw(reals(shape), label="target")
    sigma = data.draw(st.sampled_from(["none", "scalar", "per point"]), label="sigma")
    s = {"none": None, "scalar": 0.7, "per point": RNG.uniform(0.2, 2.0, shape)}[sigma]
    want = np.sum(((pred - target) / (1.0 if s is None else s)) ** 2)
    np.testing.assert_allclose(losses.chi_squared(Tensor(pred), target, s).item(), want, rtol=1e-12)
    assert tg.gradcheck(lambda p: losses.chi_squared(p, target, s), pred, order=2)


@pytest.mark.parametrize("sigma", [0.0, -1.0, [1.0, 0.0, 2.0], [1.0, np.nan, 2.0]])
def test_chi_squared_refuses_sigma_that_is_not_positive(sigma):
    with pytest.raises(ValueError, match="sigma must be positive"):
        losses.chi_squared(Tensor([1.0, 2.0, 3.0]), [0.0, 0.0, 0.0], sigma)


def test_chi_squared_shape_errors():
    with pytest.raises(ValueError, match=r"predictions have shape \(3, 1\) but target have shape \(3,\)"):
        losses.chi_squared(Tensor(np.zeros((3, 1))), np.zeros(3))
    with pytest.raises(ValueError, match=r"sigma has shape \(2,\)"):
        losses.chi_squared(Tensor(np.zeros(3)), np.zeros(3), sigma=[1.0, 2.0])


@pytest.mark.parametrize("reduction, reduce", [("mean", np.mean), ("sum", np.sum), ("none", lambda v: v)])
def test_mse(reduction, reduce):
    pred, target = RNG.standard_normal((4, 3)), RNG.standard_normal((4, 3))
    np.testing.assert_allclose(losses.mse(Tensor(pred), target, reduction).data, reduce((pred - target) ** 2),
                               rtol=1e-12)
    assert tg.gradcheck(lambda p: losses.mse(p, target, reduction).sum(), pred, order=2)


def test_an_unknown_reduction_is_an_error():
    with pytest.raises(ValueError, match="reduction must be one of mean, sum, none, got 'avg'"):
        losses.mse(Tensor([1.0]), [0.0], reduction="avg")


@given(data=st.data())
def test_cross_entropy_with_labels_and_one_hot(data):
    n, c = data.draw(st.integers(1, 5), label="n"), data.draw(st.integers(2, 4), label="classes")
    logits = data.draw(reals((n, c), -5, 5), label="logits")
    labels = data.draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n), label="labels")
    want = -scipy.special.log_softmax(logits, axis=1)[np.arange(n), labels]
    np.testing.assert_allclose(losses.cross_entropy(Tensor(logits), labels, "none").data, want, rtol=1e-10)
    one_hot = np.eye(c)[labels]
    np.testing.assert_allclose(losses.cross_entropy(Tensor(logits), one_hot).item(), want.mean(), rtol=1e-10)
    assert tg.gradcheck(lambda z: losses.cross_entropy(z, labels), logits, order=2)
    # The gradient of the mean loss is (softmax - one_hot) / n.
    z = Tensor(logits, requires_grad=True)
    losses.cross_entropy(z, labels).backward()
    np.testing.assert_allclose(z.grad.data, (scipy.special.softmax(logits, axis=1) - one_hot) / n, atol=1e-12)


def test_cross_entropy_is_finite_at_logits_of_plus_minus_1000():
    z = Tensor([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 1000.0]], requires_grad=True)
    loss = losses.cross_entropy(z, [1, 2], reduction="sum")
    assert np.isfinite(loss.item())
    # Row 0: the label's logit is 2000 below the largest; row 1: two tied logits, log 2.
    np.testing.assert_allclose(loss.item(), 2000.0 + np.log(2.0), rtol=1e-12)
    loss.backward()
    assert np.isfinite(z.grad.data).all()
    np.testing.assert_allclose(z.grad.data, [[1.0, -1.0, 0.0], [0.0, 0.5, -0.5]], atol=1e-12)
    soft = losses.cross_entropy(z, [[0.5, 0.5, 0.0], [0.0, 0.0, 1.0]])
    assert np.isfinite(soft.item())


@pytest.mark.parametrize("labels, match", [([0, 3], r"labels must lie in 0..2"), ([0, -1], "0..2"),
                                           ([0.5, 1.0], "integer class indices"),
                                           (np.zeros((2, 2)), r"labels must have shape \(2,\).*\(2, 3\)")])
def test_cross_entropy_label_errors(labels, match):
    with pytest.raises(ValueError, match=match):
        losses.cross_entropy(Tensor(np.zeros((2, 3))), labels)


def test_cross_entropy_needs_2d_logits():
    with pytest.raises(ValueError, match=r"logits must have shape \(n, classes\), got \(3,\)"):
        losses.cross_entropy(Tensor(np.zeros(3)), [0])


@given(data=st.data())
def test_binary_cross_entropy_with_logits(data):
    shape = data.draw(shapes(min_dims=1, max_dims=2, max_side=4), label="shape")
    z = data.draw(reals(shape, -6, 6), label="logits")
    y = data.draw(reals(shape, 0, 1), label="targets")
    p = scipy.special.expit(z)
    want = -(y * np.log(p) + (1 - y) * np.log1p(-p))
    np.testing.assert_allclose(losses.binary_cross_entropy_with_logits(Tensor(z), y, "none").data, want,
                               rtol=1e-9, atol=1e-12)
    assert tg.gradcheck(lambda t: losses.binary_cross_entropy_with_logits(t, y), z, order=2)


def test_binary_cross_entropy_is_finite_for_large_logits():
    z = Tensor([1000.0, -1000.0, 1000.0], requires_grad=True)
    loss = losses.binary_cross_entropy_with_logits(z, [0.0, 1.0, 1.0], reduction="sum")
    np.testing.assert_allclose(loss.item(), 2000.0, rtol=1e-12)
    loss.backward()
    np.testing.assert_allclose(z.grad.data, [1.0, -1.0, 0.0], atol=1e-12)
    with pytest.raises(ValueError, match=r"targets must lie in \[0, 1\]"):
        losses.binary_cross_entropy_with_logits(z, [0.0, 2.0, 1.0])


def test_hinge_values_and_gradient():
    s = Tensor([2.0, 0.5, -0.25, 0.3], requires_grad=True)
    y = np.array([1, 1, 1, -1])
    loss = losses.hinge(s, y, reduction="sum")
    np.testing.assert_allclose(loss.item(), 0 + 0.5 + 1.25 + 1.3)
    loss.backward()
    np.testing.assert_array_equal(s.grad.data, [0.0, -1.0, -1.0, 1.0])
    assert tg.gradcheck(lambda t: losses.hinge(t, y) * losses.hinge(t, y), s.data, order=2)


def test_hinge_errors():
    with pytest.raises(ValueError, match="labels must be -1 or \\+1, got values \\[0, 1\\]"):
        losses.hinge(Tensor([1.0, 2.0]), [0, 1])
    with pytest.raises(ValueError, match=r"predictions have shape \(2, 1\) but labels have shape \(2,\); reshape"):
        losses.hinge(Tensor([[1.0], [2.0]]), [1, -1])
