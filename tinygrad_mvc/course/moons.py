"""The main job: train a small MLP on the two-moons data set, micrograd's demo done with whole arrays.

A 2-16-16-1 ReLU network is trained with the max-margin (hinge) loss plus 1e-4·L2, by full-batch SGD
with a learning rate that decays from 1.0 to 0.1 (micrograd's recipe). Each step is one forward
pass over all points at once, one ``backward`` and one optimizer step, compiled with ``tg.compile``
(traced once, then replayed as straight-line NumPy). The job writes

- ``loss.png``: the loss and the training accuracy at every step;
- ``decision_boundary.png``: the network's score over the plane, its zero contour and the data;
- ``neuron_graph.png``: the computation graph of one trained neuron on one data point, with every
  value, gradient and local derivative (``neuron_graph.dot`` and an install hint without Graphviz's ``dot``);
- ``backprop.html`` and ``backprop.gif``: that neuron's forward and backward pass, node by node.

Run it as ``tinygrad-mvc demo`` (into ``./tinygrad_mvc_out``), ``tinygrad-mvc demo --job train_moons`` or
``python demos/train_moons.py`` (into ``./tinygrad_mvc_out/train_moons``). It fails (exit code 1) if the
training accuracy ends below ``TARGET_ACCURACY``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import tinygrad_mvc as tg

from .jobs import Job, JobResult, add_backprop_animation, add_graph_picture, save_figures

__all__ = ["NAME", "TARGET_ACCURACY", "Training", "train", "run", "JOB"]

NAME = "train_moons"
TARGET_ACCURACY = 0.97
SIZES = (2, 16, 16, 1)
ALPHA = 1e-4  # weight of the L2 penalty


@dataclass
class Training:
    """What :func:`train` produced: the model, its data and the per-step history."""

    model: tg.nn.MLP
    X: np.ndarray
    y: np.ndarray
    history: dict[str, list[float]] = field(default_factory=lambda: {"loss": [], "accuracy": []})
    seconds: float = 0.0

    @property
    def accuracy(self) -> float:
        return self.history["accuracy"][-1]


def loss_and_scores(model: tg.nn.Module, X: np.ndarray, signs: np.ndarray) -> tuple[tg.Tensor, tg.Tensor]:
    """micrograd's loss: mean hinge loss of the scores against labels ±1, plus ALPHA·Σ p²."""
    scores = model(X).reshape(-1)
    data_loss = tg.losses.hinge(scores, signs)
    reg_loss = ALPHA * sum((p * p).sum() for p in model.parameters())
    return data_loss + reg_loss, scores


def train(n_samples: int = 200, steps: int = 150, seed: int = 1, progress: bool = True) -> Training:
    """Train the MLP on ``n_samples`` moons points for ``steps`` full-batch SGD steps."""
    from tqdm.auto import tqdm

    X, y = tg.datasets.make_moons(n_samples, noise=0.1, rng=seed)
    signs = 2.0 * y - 1.0
    model = tg.nn.MLP(SIZES, activation="relu", rng=seed)
    opt = tg.optim.SGD(model.parameters(), lr=1.0)
    run = Training(model, X, y)

    @tg.compile  # traced on the first step, replayed after: the same numbers as eager code, bit for bit
    def step(X: np.ndarray, signs: np.ndarray) -> tuple[tg.Tensor, tg.Tensor]:
        loss, scores = loss_and_scores(model, X, signs)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss, scores

    start = time.perf_counter()
    # disable=None: a bar on a terminal, none in logs and pipes (where every redraw would be a line).
    bar = tqdm(range(steps), desc="training", unit="step", disable=None if progress else True, leave=False)
    for k in bar:
        opt.lr = 1.0 - 0.9 * k / steps  # read by the step at every call
        loss, scores = step(X, signs)
        accuracy = float(np.mean((scores.data > 0) == (y == 1)))
        run.history["loss"].append(loss.item())
        run.history["accuracy"].append(accuracy)
        bar.set_postfix(loss=f"{loss.item():.4f}", accuracy=f"{accuracy:.1%}", refresh=False)
    bar.close()
    run.seconds = time.perf_counter() - start
    return run


def neuron_graph(run: Training) -> tg.viz.Trace:
    """One first-layer neuron, relu(x·w + b), on the data point that excites it most: its recorded backward."""
    layer = run.model[0]
    z = run.X @ layer.weight.data + layer.bias.data
    point, unit = np.unravel_index(np.argmax(z), z.shape)
    # Scalars, as micrograd draws a neuron: every edge then carries a number, the local derivative.
    x = [tg.tensor(run.X[point, k], name=f"x{k + 1}") for k in range(2)]
    w = [tg.tensor(layer.weight.data[k, unit], requires_grad=True, name=f"w{k + 1}") for k in range(2)]
    b = tg.tensor(layer.bias.data[unit], requires_grad=True, name="b")
    z = x[0] * w[0] + x[1] * w[1] + b
    z.name = f"z (unit {unit}, point {point})"
    out = tg.relu(z)
    out.name = "out"
    return tg.viz.backprop(out)  # backward, keeping every value, gradient and local derivative for the pictures


def run(out_dir: Path, n_samples: int = 200, steps: int = 150, seed: int = 1, progress: bool = True) -> JobResult:
    """Train, check the accuracy, and write the pictures and the backprop animation into ``out_dir``."""
    import matplotlib

    matplotlib.use("Agg")
    result = JobResult(NAME)
    training = train(n_samples, steps, seed, progress)
    acc = training.accuracy
    result.summary.append(f"trained a {'-'.join(map(str, SIZES))} ReLU MLP ({training.model.num_parameters()} "
                          f"parameters) on {n_samples} moons points: {steps} SGD steps in {training.seconds:.2f} s, "
                          f"final loss {training.history['loss'][-1]:.4f}, training accuracy {acc:.1%}")
    if acc < TARGET_ACCURACY:
        result.ok, result.failure = False, f"training accuracy {acc:.1%} is below {TARGET_ACCURACY:.0%}"

    save_figures(result, out_dir, {
        "loss.png": (tg.viz.plot_history(training.history, title="two moons: full-batch SGD, hinge loss + L2"),
                     f"The training loss falls and the accuracy climbs to {acc:.1%} over {steps} steps of "
                     "gradient descent on all the points at once."),
        "decision_boundary.png": (tg.viz.plot_decision_boundary(
            training.model, training.X, training.y, title=f"decision boundary (training accuracy {acc:.1%})"),
            "The trained network's score over the plane: its zero line (the decision boundary) bends between "
            "the two interleaved moons."),
    }, dpi=120)

    trace = neuron_graph(training)
    add_graph_picture(result, trace, out_dir / "neuron_graph.png", show_local=True,
                      caption="One trained neuron, relu(x·w + b), on one data point: every value (black), gradient "
                              "(red) and local derivative on each edge (blue); a gradient is the product along "
                              "the path.")
    add_backprop_animation(result, trace, out_dir, what="That neuron's forward and backward pass")
    return result


JOB = Job(NAME, "train a 2-16-16-1 ReLU network on the two-moons data: loss curve, decision boundary and the "
                "graph of one neuron", run)

