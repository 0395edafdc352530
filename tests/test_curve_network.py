"""The backpropagation assignment's network (tinygrad_mvc.course.curve_network) against the course's own formulas.

The course derives the Jacobians of the cost by hand, with the examples as the columns of A:
∂C/∂a⁽³⁾ = 2(a⁽³⁾ − y), ∂C/∂z = ∂C/∂a ⊙ σ(z)(1 − σ(z)), J_W = ∂C/∂z · a⁽ᴸ⁻¹⁾ᵀ, J_b = Σ ∂C/∂z over the
examples, ∂C/∂a⁽ᴸ⁻¹⁾ = Wᵀ ∂C/∂z. The engine's gradients must be the same numbers.
"""

from __future__ import annotations

import numpy as np

import tinygrad_mvc as tg
from tinygrad_mvc.course.curve_network import SIZES, course_weights, heart_curve, train_curve_network


def sigma(z):
    return 1 / (1 + np.exp(-z))


def course_backprop(weights, A0, Y):
    """The assignment's J_W and J_b for every layer, written as the course writes them."""
    a, zs, acts = A0, [], [A0]
    for W, b in weights:
        z = W @ a + b
        a = sigma(z)
        zs.append(z)
        acts.append(a)
    dC_da = 2 * (acts[-1] - Y)
    grads = []
    for layer in reversed(range(len(weights))):
        s = sigma(zs[layer])
        dC_dz = dC_da * s * (1 - s)
        grads.append((dC_dz @ acts[layer].T, dC_dz.sum(axis=1, keepdims=True)))
        dC_da = weights[layer][0].T @ dC_dz
    return grads[::-1]


def test_engine_gradients_are_the_courses_hand_derived_jacobians():
    t, y = heart_curve(30)
    net = tg.nn.MLP(list(SIZES), "sigmoid", output_activation="sigmoid", rng=4)
    cost = ((net(t[:, None]) - y) ** 2).sum()
    cost.backward()
    hand = course_backprop(course_weights(net), t[None, :], y.T)
    layers = [m for m in net if isinstance(m, tg.nn.Linear)]
    for (J_W, J_b), layer in zip(hand, layers, strict=True):
        np.testing.assert_allclose(layer.weight.grad.data.T, J_W, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(layer.bias.grad.data[:, None], J_b, rtol=1e-12, atol=1e-15)


def test_training_draws_the_curve():
    run = train_curve_network(steps=1500, snapshot_steps=(0, 1500))
    assert len(run.cost) == 1500
    assert run.cost[0] > 5 and run.cost[-1] < 0.1 * run.cost[0]
    first, last = (np.abs(run.snapshots[k] - run.target).max() for k in (0, 1500))
    assert last < first / 2
    assert run.target.min() > 0 and run.target.max() < 1  # inside a sigmoid's reach
