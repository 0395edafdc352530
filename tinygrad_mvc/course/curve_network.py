"""The backpropagation assignment's network: a 1-6-7-2 sigmoid network learns to draw a curve.

The course's Week 3 assignment trains a network whose one input is the distance travelled along a
curve, from 0 to 1, and whose two outputs are the point's coordinates, with the logistic function
σ(z) = 1/(1 + e⁻ᶻ) on every layer (the output layer too) and the cost C = Σ (a⁽³⁾ − y)². The
assignment derives ∂C/∂W and ∂C/∂b by hand with the chain rule; here the engine does it. The course
writes W as (out, in) with the examples in columns; ``tg.nn.Linear`` keeps examples in rows, so
``W⁽ᴸ⁾ = net[2L-2].weight.data.T`` (see ``tg.nn.Linear.from_course``).

The assignment runs plain gradient descent for tens of thousands of steps; Adam reaches a
recognisable curve in a few thousand, a second or two with ``tg.compile``.

>>> run = train_curve_network(steps=200, snapshot_steps=(0, 200))
>>> sorted(run.snapshots), run.snapshots[200].shape, run.cost[-1] < run.cost[0]
([0, 200], (100, 2), True)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

import tinygrad_mvc as tg

__all__ = ["SIZES", "heart_curve", "CurveRun", "train_curve_network", "course_weights"]

SIZES = (1, 6, 7, 2)
"""The assignment's layer sizes: one input, hidden layers of 6 and 7 neurons, two outputs."""


def heart_curve(n: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """``(t, y)``: n distances t in [0, 1] and the points y (shape (n, 2)) of a heart drawn inside (0, 1)²,
    where a sigmoid output can reach them."""
    t = np.linspace(0.0, 1.0, n)
    a = 2 * np.pi * t
    x = 16 * np.sin(a) ** 3
    y = 13 * np.cos(a) - 5 * np.cos(2 * a) - 2 * np.cos(3 * a) - np.cos(4 * a)
    return t, np.stack([0.5 + 0.4 * x / 17, 0.5 + 0.4 * (y + 2) / 17], axis=1)


@dataclass
class CurveRun:
    """What :func:`train_curve_network` produced: the data, the network, its outputs at chosen steps and the cost."""

    t: np.ndarray
    target: np.ndarray
    net: tg.nn.MLP
    snapshots: dict[int, np.ndarray] = field(default_factory=dict)
    cost: list[float] = field(default_factory=list)


def train_curve_network(steps: int = 4000, snapshot_steps: Sequence[int] = (0, 250, 1000, 4000), lr: float = 0.02,
                        n_points: int = 100, seed: int = 1) -> CurveRun:
    """Train the assignment's network on :func:`heart_curve` with Adam, keeping the output curve at
    ``snapshot_steps`` (step 0 is the untrained network) and the cost C = Σ (a⁽³⁾ − y)² at every step."""
    t, target = heart_curve(n_points)
    X = t[:, None]  # examples in rows: the course's A⁽⁰⁾ is X.T
    net = tg.nn.MLP(list(SIZES), "sigmoid", output_activation="sigmoid", rng=seed)
    opt = tg.optim.Adam(net.parameters(), lr=lr)

    def step() -> tg.Tensor:
        opt.zero_grad()
        cost = ((net(X) - target) ** 2).sum()
        cost.backward()
        opt.step()
        return cost

    compiled = tg.compile(step)
    run = CurveRun(t=t, target=target, net=net)
    wanted = set(int(s) for s in snapshot_steps)
    for k in range(steps + 1):
        if k in wanted:
            with tg.no_grad():
                run.snapshots[k] = net(X).data.copy()
        if k == steps:
            break
        run.cost.append(float(compiled().item()))
    return run


def course_weights(net: tg.nn.MLP) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each layer's ``(W, b)`` in the course's notation: W of shape (out, in), b a column (out, 1)."""
    return [(layer.weight.data.T.copy(), layer.bias.data[:, None].copy())
            for layer in net if isinstance(layer, tg.nn.Linear)]
