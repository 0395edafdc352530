"""The Network tab: TensorFlow Playground on this engine, a small ``tg.nn`` MLP learning a 2-D classification.

A configuration (data set, noise, split, point count, seed, hidden sizes, activation, optimizer, learning
rate, L2, batch size, grid) builds the data, a ``tg.nn.MLP`` with one output (the logit of class 1, blue),
its optimizer and one training step compiled with ``tg.compile``. Every configuration gets a new model, a new
optimizer and a new compiled step, so a trace never outlives the settings it was recorded for.

One step is one optimizer step on one minibatch: the batches of an epoch are consecutive slices of a fresh
permutation of the training points (the incomplete last slice is skipped), and a batch size at least the
number of training points means the full batch, every step. The objective is the mean logistic loss plus
``l2 / 2`` times the sum of the squared weights (not the biases), as TensorFlow Playground does. The read-outs
(``loss``, ``accuracy`` and their test twins) are the data term alone on the whole training (test) set, after
the last step, computed from the network's own forward pass.

Actions (``POST /api/network/NAME``): ``configure`` (any settings; the others keep their values; starts again
at step 0; answers the settings, the points and a first frame), ``step`` (``n`` steps, at most
``limits.max_steps``), ``frame``, ``reset`` (same settings, fresh weights) and ``pause`` (ends a running
stream). The stream ``train`` (``GET /api/network/train?session=ID[&frames=N]``) trains for about 45 ms (at
least one step) and sends a frame, again and again, until the client goes, ``frames`` have been sent, or
another stream, ``configure``, ``reset`` or ``pause`` takes over.

A frame: the step count, the losses and accuracies, the network's probability of class 1 over the plane
(``boundary``), each hidden neuron's output over the plane (``neurons``, a 20 x 20 thumbnail each, with the range
its colours span), the weights and biases, and the loss history (thinned to at most ``limits.max_history``
points kept, and at most 300 sent). The grids are for drawing only: they are sent rounded to 3 decimals, as
whole thousandths (``boundary[i][j] / 1000`` is the probability at row i from the bottom, column j from the
left), which keeps a frame small and quick to write; the read-outs are sent exactly.

>>> from tinygrad_mvc.playground.limits import Limits
>>> state = {}
>>> first = configure(state, {"hidden": "4", "points": 40}, Limits())
>>> first["config"]["sizes"], len(first["points"]["train_y"]), first["frame"]["step"]
([2, 4, 1], 28, 0)
>>> later = step(state, {"n": 20}, Limits())
>>> later["step"], later["loss"] < first["frame"]["loss"]
(20, True)
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import numpy as np

import tinygrad_mvc as tg

from ..limits import Limits
from ..protocol import Refused, choice, integer, number, text

__all__ = ["ACTIONS", "STREAMS", "DEFAULTS", "DATASETS", "configure", "step", "frame", "reset", "pause", "train"]

DATASETS = ("moons", "circles", "xor", "spiral")
ACTIVATIONS = ("tanh", "relu", "sigmoid")
OPTIMIZERS = ("sgd", "momentum", "adam")
MOMENTUM = 0.9
DOMAIN = (-3.0, 3.0, -3.0, 3.0)
"""The plane shown and sampled: every data set lies inside it."""
THUMB = 20
"""Side of each neuron's thumbnail grid."""
FRAME_SECONDS = 0.045
"""Training time per streamed frame: with the frame's own work, 40-60 ms a frame."""
SENT_HISTORY = 300
"""Loss-history points sent per frame (a curve a few hundred pixels wide needs no more)."""

DEFAULTS: dict[str, Any] = {
    "dataset": "moons", "noise": 0.1, "split": 0.7, "points": 200, "seed": 0, "hidden": "8,8",
    "activation": "tanh", "optimizer": "sgd", "lr": 0.01, "l2": 0.0, "batch": 10, "grid": 50,
}
"""The default configuration: a 2-8-8-1 tanh network on 200 moons points (140 to train), SGD at 0.01 on
minibatches of 10 (about 1.5 s of play to 99 % training accuracy on two cores), a 50 x 50 boundary grid. The page
starts from these (its first ``configure`` sends no settings) and shows them in its controls."""


# ----------------------------------------------------------------------------- data sets
# Each is drawn in unit coordinates (radius about 1, noise as a standard deviation in those units) and scaled
# by _SCALE to fill DOMAIN. Class 1 is blue, class 0 orange.

_SCALE = 2.4


def _moons(n: int, noise: float, gen: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    X, y = tg.datasets.make_moons(n, noise=1.5 * noise, rng=gen)
    return (X - np.array([0.5, 0.25])) / 1.5, y  # centred, x in [-1, 1]: the noise comes out as asked


def _circles(n: int, noise: float, gen: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    y = (np.arange(n) < n // 2).astype(np.int64)  # the inner disc is class 1
    radius = np.where(y == 1, gen.uniform(0.0, 0.5, n), gen.uniform(0.7, 1.0, n))
    angle = gen.uniform(0.0, 2 * np.pi, n)
    X = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
    return X + noise * gen.standard_normal(X.shape), y


def _xor(n: int, noise: float, gen: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    X = gen.uniform(-1.0, 1.0, (n, 2))
    X += 0.06 * np.sign(X)  # a gap along the axes, where the class changes
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    return X + noise * gen.standard_normal(X.shape), y


def _spiral(n: int, noise: float, gen: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    y = (np.arange(n) < n // 2).astype(np.int64)
    t = np.concatenate([np.linspace(0.05, 1.0, n // 2), np.linspace(0.05, 1.0, n - n // 2)])
    angle = 1.75 * 2 * np.pi * t + np.pi * y  # two arms, half a turn apart
    X = np.column_stack([t * np.cos(angle), t * np.sin(angle)])
    return X + noise * gen.standard_normal(X.shape), y


_MAKERS = {"moons": _moons, "circles": _circles, "xor": _xor, "spiral": _spiral}


def _data(config: dict[str, Any]) -> dict[str, np.ndarray]:
    """The points of ``config``, shuffled and split: train_x (m, 2), train_y (m,) floats 0/1, test_x, test_y."""
    gen = np.random.default_rng(config["seed"])
    X, y = _MAKERS[config["dataset"]](config["points"], config["noise"], gen)
    order = gen.permutation(len(y))
    X, y = X[order] * _SCALE, y[order].astype(np.float64)
    m = _train_count(config)
    return {"train_x": X[:m], "train_y": y[:m], "test_x": X[m:], "test_y": y[m:]}


def _train_count(config: dict[str, Any]) -> int:
    return min(config["points"] - 1, max(1, round(config["split"] * config["points"])))


# ----------------------------------------------------------------------------- reading a configuration

def _hidden(body: dict[str, Any], current: Any, limits: Limits) -> list[int]:
    """Hidden sizes from text "8,8" ("" for none) or a list of whole numbers, within the caps."""
    value = body.get("hidden", current)
    if isinstance(value, str):
        source = text(body, "hidden", current, limits.max_expression).strip()
        if source and not re.fullmatch(r"\d+(\s*,\s*\d+)*", source):
            raise Refused(f"hidden: {source[:40]!r} is not a list of layer sizes; write whole numbers separated by "
                          "commas, such as 8,8 (leave it empty for no hidden layer)")
        sizes = [int(s) for s in source.split(",")] if source else []
    elif isinstance(value, list) and all(isinstance(s, int) and not isinstance(s, bool) for s in value):
        sizes = list(value)
    else:
        raise Refused(f"hidden: expected layer sizes such as \"8,8\", got {str(value)[:40]!r}")
    if len(sizes) > limits.max_layers:
        raise Refused(f"hidden: {len(sizes)} hidden layers is more than the limit of {limits.max_layers} "
                      "(max_layers)")
    for s in sizes:
        if not 1 <= s <= limits.max_neurons:
            raise Refused(f"hidden: a layer of {s} neurons is outside the limits: 1 to {limits.max_neurons} "
                          "neurons per layer (max_neurons)")
    return sizes


def _config(body: dict[str, Any], current: dict[str, Any], limits: Limits) -> dict[str, Any]:
    """The settings in ``body`` over ``current``, each checked; :class:`Refused` names the first bad one."""
    config = {
        "dataset": choice(body, "dataset", DATASETS, current["dataset"]),
        "noise": number(body, "noise", current["noise"], lo=0.0, hi=0.5),
        "split": number(body, "split", current["split"], lo=0.1, hi=0.9),
        "points": integer(body, "points", current["points"], lo=10, hi=2**31),
        "seed": integer(body, "seed", current["seed"], lo=0, hi=2**32 - 1),
        "activation": choice(body, "activation", ACTIVATIONS, current["activation"]),
        "optimizer": choice(body, "optimizer", OPTIMIZERS, current["optimizer"]),
        "lr": number(body, "lr", current["lr"], lo=0.0, hi=10.0),
        "l2": number(body, "l2", current["l2"], lo=0.0, hi=10.0),
        "batch": integer(body, "batch", current["batch"], lo=1, hi=2**31),
        "grid": integer(body, "grid", current["grid"], lo=2, hi=2**31),
    }
    if config["points"] > limits.max_points:
        raise Refused(f"points: {config['points']} is more than the limit of {limits.max_points} points "
                      "(max_points)")
    if config["grid"] > limits.max_grid:
        raise Refused(f"grid: {config['grid']} is more than the limit of {limits.max_grid} per side (max_grid)")
    if not config["lr"] > 0:
        raise Refused(f"lr: the learning rate must be positive, got {config['lr']!r}")
    sizes = _hidden(body, current["hidden"], limits)
    config["hidden"] = ",".join(map(str, sizes))
    config["sizes"] = [2, *sizes, 1]
    return config


# ----------------------------------------------------------------------------- the model and its step

def _optimizer(config: dict[str, Any], params: list[tg.Tensor]) -> tg.optim.Optimizer:
    if config["optimizer"] == "adam":
        return tg.optim.Adam(params, lr=config["lr"])
    return tg.optim.SGD(params, lr=config["lr"], momentum=MOMENTUM if config["optimizer"] == "momentum" else 0.0)


def _compiled_step(model: tg.nn.MLP, opt: tg.optim.Optimizer, l2: float) -> Any:
    """One training step on a batch ``(X, y)``, compiled (traced on its first call, replayed after)."""
    weights = [layer.weight for layer in model if isinstance(layer, tg.nn.Linear)]

    def train_step(X: np.ndarray, y: np.ndarray) -> tg.Tensor:
        z = model(X).reshape(-1)
        loss = tg.losses.binary_cross_entropy_with_logits(z, y)
        if l2:
            loss = loss + (0.5 * l2) * sum((w * w).sum() for w in weights)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    return tg.compile(train_step)


class _Batches:
    """Minibatch indices: consecutive slices of a fresh permutation each epoch, the short last slice skipped.

    >>> batches = _Batches(5, 2, seed=0)
    >>> epoch = np.concatenate([batches.next(), batches.next()])   # 4 of the 5 points, each once
    >>> len(set(epoch.tolist())), len(batches.next())               # then a new epoch
    (4, 2)
    """

    def __init__(self, n: int, size: int, seed: int) -> None:
        self.n, self.size = n, size
        self.gen = np.random.default_rng([seed, 1])  # its own stream: the data's draws stay as they are
        self.order, self.at = self.gen.permutation(n), 0

    def next(self) -> np.ndarray:
        if self.at + self.size > self.n:
            self.order, self.at = self.gen.permutation(self.n), 0
        self.at += self.size
        return self.order[self.at - self.size:self.at]


def _build(state: dict[str, Any], config: dict[str, Any]) -> None:
    """Data, model, optimizer, compiled step and an empty history for ``config``, into ``state``."""
    data = _data(config)
    model = tg.nn.MLP(config["sizes"], config["activation"], rng=config["seed"])
    opt = _optimizer(config, model.parameters())
    m = len(data["train_y"])
    state.update(config=config, data=data, model=model, opt=opt, step_fn=_compiled_step(model, opt, config["l2"]),
                 batches=_Batches(m, config["batch"], config["seed"]) if config["batch"] < m else None,
                 steps=0, history={"step": [], "loss": [], "test_loss": []},
                 plane=_plane(config["grid"]), run=state.get("run", 0) + 1)


def _train(state: dict[str, Any], n: int, seconds: float | None = None) -> int:
    """``n`` steps, or as many as fit in ``seconds`` (at least one, at most ``n``); returns how many ran."""
    data, step_fn, batches = state["data"], state["step_fn"], state["batches"]
    X, y = data["train_x"], data["train_y"]
    start, done = time.perf_counter(), 0
    while done < n:
        if batches is None:
            step_fn(X, y)
        else:
            idx = batches.next()
            step_fn(X[idx], y[idx])
        done += 1
        if seconds is not None:
            spent = time.perf_counter() - start
            if spent + spent / done > seconds:  # the next step would end past the budget
                break
    state["steps"] += done
    return done


# ----------------------------------------------------------------------------- frames

def _plane(n: int) -> dict[str, Any]:
    """The boundary grid (n x n) and the thumbnail grid (THUMB x THUMB) over DOMAIN, stacked for one pass."""
    def grid(k: int) -> np.ndarray:
        xs, ys = np.linspace(DOMAIN[0], DOMAIN[1], k), np.linspace(DOMAIN[2], DOMAIN[3], k)
        gx, gy = np.meshgrid(xs, ys)  # rows from ymin upwards, as the page's heat maps expect
        return np.column_stack([gx.ravel(), gy.ravel()])

    return {"n": n, "points": np.concatenate([grid(n), grid(THUMB)])}


def _scores(model: tg.nn.MLP, X: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(mean logistic loss, accuracy) of ``model`` on ``(X, y)``."""
    z = model(X).reshape(-1)
    loss = tg.losses.binary_cross_entropy_with_logits(z, y)
    return loss.item(), float(np.mean((z.data > 0) == (y == 1)))


def _over_plane(state: dict[str, Any]) -> tuple[np.ndarray, list[np.ndarray]]:
    """P(class 1) on the boundary grid and each hidden layer's outputs on the thumbnail grid, in one pass."""
    plane, model = state["plane"], state["model"]
    n = plane["n"]
    h, hidden = tg.tensor(plane["points"]), []
    for layer in model:
        h = layer(h)
        if not isinstance(layer, tg.nn.Linear):  # an activation: this hidden layer's outputs
            hidden.append(h.data[n * n:].T.reshape(-1, THUMB, THUMB))
    boundary = tg.sigmoid(h).data[:n * n].reshape(n, n)
    return boundary, hidden


def _colour_range(activation: str, out: np.ndarray) -> list[float]:
    """The values a neuron's thumbnail colours span: the activation's range, or ±max for ReLU."""
    if activation == "tanh":
        return [-1.0, 1.0]
    if activation == "sigmoid":
        return [0.0, 1.0]
    top = float(np.max(out))
    return [-top, top] if top > 0 else [-1.0, 1.0]


def _record(state: dict[str, Any], loss: float, test_loss: float, limits: Limits) -> None:
    """Add a history point; at the cap, keep every other point (always the first and the newest), so memory
    stays flat however long the run."""
    history = state["history"]
    if history["step"] and history["step"][-1] == state["steps"]:
        return
    for key, value in (("step", state["steps"]), ("loss", loss), ("test_loss", test_loss)):
        history[key].append(value)
    size = len(history["step"])
    if size >= limits.max_history:
        keep = [*range(0, size - 1, 2), size - 1]
        for key in history:
            history[key] = [history[key][i] for i in keep]


def _sent_history(history: dict[str, list[Any]]) -> dict[str, list[Any]]:
    size = len(history["step"])
    if size <= SENT_HISTORY:
        return history
    keep = np.unique(np.linspace(0, size - 1, SENT_HISTORY).round().astype(int))
    return {key: [values[i] for i in keep] for key, values in history.items()}


def _milli(values: np.ndarray) -> np.ndarray:
    """``values`` rounded to 3 decimals and sent as whole thousandths (a tenth of the JSON work of floats);
    as floats when some are not finite or too large for an integer, so the page sees the NaN.

    >>> _milli(np.array([0.12345, -1.0])).tolist(), _milli(np.array([np.nan])).tolist()
    ([123, -1000], [nan])
    """
    scaled = np.round(values * 1000.0)
    if np.all(np.abs(scaled) < 1e15):  # False for NaN and infinities too
        return scaled.astype(np.int64)
    return scaled


def _frame(state: dict[str, Any], limits: Limits, ran: int = 0) -> dict[str, Any]:
    data, model, config = state["data"], state["model"], state["config"]
    with tg.no_grad():
        loss, accuracy = _scores(model, data["train_x"], data["train_y"])
        test_loss, test_accuracy = _scores(model, data["test_x"], data["test_y"])
        boundary, hidden = _over_plane(state)
    _record(state, loss, test_loss, limits)
    layers = [{"weight": layer.weight.data, "bias": layer.bias.data}
              for layer in model if isinstance(layer, tg.nn.Linear)]
    return {
        "run": state["run"], "step": state["steps"], "ran": ran,
        "loss": loss, "accuracy": accuracy, "test_loss": test_loss, "test_accuracy": test_accuracy,
        "boundary": _milli(boundary),
        "neurons": [_milli(out) for out in hidden],
        "neuron_ranges": [[_colour_range(config["activation"], o) for o in out] for out in hidden],
        "layers": layers,
        "history": _sent_history(state["history"]), "history_length": len(state["history"]["step"]),
    }


def _ensure(state: dict[str, Any], limits: Limits) -> None:
    """Build the default configuration if this session has none yet (an action before ``configure``)."""
    if "config" not in state:
        _build(state, _config({}, DEFAULTS, limits))


def _answer(state: dict[str, Any], limits: Limits) -> dict[str, Any]:
    config, data = state["config"], state["data"]
    thumbs = state["plane"]["points"][config["grid"] ** 2:]
    return {
        "config": {k: v for k, v in config.items()}, "domain": list(DOMAIN), "thumb": THUMB,
        "points": {k: v for k, v in data.items()},
        "inputs": [thumbs[:, 0].reshape(THUMB, THUMB), thumbs[:, 1].reshape(THUMB, THUMB)],
        "frame": _frame(state, limits),
    }


# ----------------------------------------------------------------------------- actions

def configure(state: dict[str, Any], body: dict[str, Any], limits: Limits) -> dict[str, Any]:
    """Apply the settings in ``body`` (the others keep their values) and start again at step 0.

    Returns ``{"config", "domain", "thumb", "points", "inputs", "frame"}``; nothing changes if a setting is
    refused. ``configure(state, {"dataset": "xor", "hidden": "4,4"}, limits)["config"]["sizes"]`` is
    ``[2, 4, 4, 1]``.
    """
    config = _config(body, state.get("config", DEFAULTS), limits)
    _build(state, config)
    return _answer(state, limits)


def reset(state: dict[str, Any], body: dict[str, Any], limits: Limits) -> dict[str, Any]:
    """The same settings, fresh weights (from the seed), step 0: the same answer as :func:`configure`.

    >>> state = {}; _ = configure(state, {}, Limits()); _ = step(state, {"n": 3}, Limits())
    >>> reset(state, {}, Limits())["frame"]["step"]
    0
    """
    _ensure(state, limits)
    _build(state, state["config"])
    return _answer(state, limits)


def step(state: dict[str, Any], body: dict[str, Any], limits: Limits) -> dict[str, Any]:
    """Run ``body["n"]`` training steps (default 1, at most ``limits.max_steps``) and return the frame after.

    >>> state = {}; _ = configure(state, {}, Limits())
    >>> step(state, {"n": 2}, Limits())["step"]
    2
    """
    n = integer(body, "n", 1, lo=1)
    if n > limits.max_steps:
        raise Refused(f"n: {n} steps is more than one request may run, {limits.max_steps} (max_steps); press "
                      "play to train on")
    _ensure(state, limits)
    return _frame(state, limits, _train(state, n))


def frame(state: dict[str, Any], body: dict[str, Any], limits: Limits) -> dict[str, Any]:
    """The current frame, without training. ``frame(state, {}, limits)["step"]`` is the step count."""
    _ensure(state, limits)
    return _frame(state, limits)


def pause(state: dict[str, Any], body: dict[str, Any], limits: Limits) -> dict[str, Any]:
    """End any running ``train`` stream before its next frame, and return the current frame (what it stopped at).

    >>> state = {}; frames = train(state, {}, Limits()); _ = next(frames)
    >>> paused = pause(state, {}, Limits()); next(frames, "ended"), paused["step"] > 0
    ('ended', True)
    """
    _ensure(state, limits)
    state["run"] += 1
    return _frame(state, limits)


def train(state: dict[str, Any], params: dict[str, Any], limits: Limits) -> Iterator[dict[str, Any]]:
    """The live stream: frames of about 45 ms of training each, until ``params["frames"]`` (if given) are sent,
    or another stream, ``configure``, ``reset`` or ``pause`` takes over.

    >>> state = {}; frames = list(train(state, {"frames": "2"}, Limits()))
    >>> len(frames), frames[1]["step"] == frames[0]["ran"] + frames[1]["ran"]
    (2, True)
    """
    count = integer(params, "frames", None, lo=1) if params.get("frames") is not None else None
    _ensure(state, limits)
    state["run"] += 1
    return _frames(state, limits, state["run"], count)


def _frames(state: dict[str, Any], limits: Limits, run: int, count: int | None) -> Iterator[dict[str, Any]]:
    sent = 0
    while count is None or sent < count:
        if state.get("run") != run:  # a newer stream, a new configuration or a pause: this one is over
            return
        yield _frame(state, limits, _train(state, limits.max_steps, FRAME_SECONDS))
        sent += 1


ACTIONS = {"configure": configure, "step": step, "frame": frame, "reset": reset, "pause": pause}
STREAMS = {"train": train}
