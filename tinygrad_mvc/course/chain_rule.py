"""Course topic 3, the multivariate chain rule: backpropagation through a neuron and a tiny network.

The chain rule for functions of many variables, applied layer by layer from the cost backwards, is
backpropagation. Two jobs:

``backprop_by_hand``
    The course's network: two inputs, two sigmoid neurons, one sigmoid output, and the cost
    C = (a⁽²⁾ − y)² for one training example. With z⁽ᴸ⁾ = W⁽ᴸ⁾a⁽ᴸ⁻¹⁾ + b⁽ᴸ⁾ and a⁽ᴸ⁾ = σ(z⁽ᴸ⁾),
    the chain rule gives every gradient from the one before it::

        ∂C/∂a⁽²⁾ = 2(a⁽²⁾ − y)                    δ⁽²⁾ = ∂C/∂a⁽²⁾ ⊙ σ′(z⁽²⁾),   σ′ = a(1 − a)
        ∂C/∂W⁽²⁾ = δ⁽²⁾ a⁽¹⁾ᵀ     ∂C/∂b⁽²⁾ = δ⁽²⁾
        ∂C/∂a⁽¹⁾ = W⁽²⁾ᵀ δ⁽²⁾                      δ⁽¹⁾ = ∂C/∂a⁽¹⁾ ⊙ σ′(z⁽¹⁾)
        ∂C/∂W⁽¹⁾ = δ⁽¹⁾ a⁽⁰⁾ᵀ     ∂C/∂b⁽¹⁾ = δ⁽¹⁾

    The job computes these by hand in NumPy, then lets the engine do the same with one ``backward()``,
    prints both side by side and fails (exit code 1) unless they agree to rounding. It writes
    gradients.png (the two sets of gradients as bars) and network_graph.png (the engine's graph of C).

``computation_graph``
    micrograd's neuron, tanh(w·x + b), with its gradients after backward: neuron_graph.png shows every
    value with its data and gradient, the output with gradient 1 and every edge with its local derivative
    ∂out/∂in (the chain rule, read off the picture); backprop.html and backprop.gif step through the
    forward and backward pass. Without the Graphviz program ``dot`` it writes the DOT source,
    neuron_graph.dot, and says how to install Graphviz.

``curve_network``
    The backpropagation assignment's network (:mod:`.curve_network`): one input t (the distance along a
    curve, 0 to 1), hidden layers of 6 and 7 sigmoid neurons, two sigmoid outputs (a₁, a₂), the point of
    the curve at t, and the cost C = Σ (a⁽³⁾ − y)² over 100 points of a heart. With ``tg.nn`` in the
    course's notation (W of shape (out, in), the examples in the columns of A)::

        net = tg.nn.MLP([1, 6, 7, 2], "sigmoid", output_activation="sigmoid")
        cost = ((net(t[:, None]) - y) ** 2).sum()   # tg.nn keeps examples in rows: A⁽⁰⁾ = t[None, :]
        cost.backward()                            # every ∂C/∂W⁽ᴸ⁾ and ∂C/∂b⁽ᴸ⁾ the assignment derives
        W1 = net[0].weight.data.T                  # the course's W⁽¹⁾, shape (6, 1); b⁽¹⁾ = bias[:, None]
        layer = tg.nn.Linear.from_course(W1, b1)   # and back: layer(A.T).T == W1 @ A + b1

    It trains with Adam for 4000 steps (``tg.compile``d, a second or two) and checks that the cost fell
    and that the course's forward pass, a⁽ᴸ⁾ = σ(W⁽ᴸ⁾a⁽ᴸ⁻¹⁾ + b⁽ᴸ⁾) with the weights read back in its
    notation (``course_weights``), gives the network's outputs. It writes curve_network_fit.png (the
    output curve (a₁(t), a₂(t)) in the plane at several steps of training, against the heart) and
    curve_network_cost.png (the cost at every step).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import tinygrad_mvc as tg

from .curve_network import SIZES, course_weights, train_curve_network
from .jobs import Job, JobResult, add_backprop_animation, add_graph_picture, finish

__all__ = ["TITLE", "SUMMARY", "JOBS", "by_hand", "by_engine", "START", "X0", "Y"]

TITLE = "The multivariate chain rule"
SUMMARY = "derivatives through compositions of many variables: backpropagation in neurons and networks"

# =============================================================================== backprop_by_hand

BACKPROP_BY_HAND = "backprop_by_hand"
TOLERANCE = 1e-12

X0 = np.array([0.5, -1.0])  # a⁽⁰⁾: one training example
Y = np.array([1.0])
START = {  # the course's layout: W⁽ᴸ⁾ has one row per neuron of layer L
    "W1": np.array([[0.8, -0.3], [0.2, 0.6]]), "b1": np.array([0.1, -0.4]),
    "W2": np.array([[1.2, -0.7]]), "b2": np.array([0.05]),
}


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


def by_hand(p: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Every gradient by the chain rule, layer by layer from the cost backwards."""
    a1 = sigmoid(p["W1"] @ X0 + p["b1"])
    a2 = sigmoid(p["W2"] @ a1 + p["b2"])
    delta2 = 2 * (a2 - Y) * a2 * (1 - a2)            # ∂C/∂z⁽²⁾
    delta1 = (p["W2"].T @ delta2) * a1 * (1 - a1)    # ∂C/∂z⁽¹⁾
    return {"W1": np.outer(delta1, X0), "b1": delta1, "W2": np.outer(delta2, a1), "b2": delta2}


def by_engine(p: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], tg.viz.Trace, dict[str, tg.Tensor]]:
    """The same network written with Tensors; one backward() gives every gradient."""
    t = {k: tg.tensor(v, requires_grad=True, name=k) for k, v in p.items()}
    a0 = tg.tensor(X0, name="a0")
    z1 = t["W1"] @ a0 + t["b1"]
    a1 = tg.sigmoid(z1)
    z2 = t["W2"] @ a1 + t["b2"]
    a2 = tg.sigmoid(z2)
    cost = ((a2 - Y) ** 2).sum()
    cost.name = "C"
    names = {"z1": z1, "a1": a1, "z2": z2, "a2": a2}
    # backward(), keeping every node's gradient: the course's factors ∂C/∂z⁽²⁾, ∂C/∂a⁽¹⁾ appear in the picture.
    trace = tg.viz.backprop(cost, names=names)
    return {k: v.grad.data for k, v in t.items()}, trace, names


def table(hand: dict[str, np.ndarray], engine: dict[str, np.ndarray]) -> list[str]:
    lines = [f"{'gradient':<14}{'chain rule':>16}{'engine':>16}{'difference':>13}"]
    for name in hand:
        for idx in np.ndindex(hand[name].shape):
            label = f"dC/d{name}[{','.join(map(str, idx))}]"
            h, e = hand[name][idx], engine[name][idx]
            lines.append(f"{label:<14}{h:>16.10f}{e:>16.10f}{abs(h - e):>13.1e}")
    return lines


def run_backprop_by_hand(out_dir: Path) -> JobResult:
    """The gradients by hand and by the engine, compared; the bars and the engine's graph of C."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    hand = by_hand(START)
    engine, trace, activations = by_engine(START)
    cost = trace.nodes[trace.output].tensor
    result = JobResult(BACKPROP_BY_HAND)
    result.summary += [f"cost C = (a2 - y)^2 = {cost.item():.6f} for a0 = {X0.tolist()}, y = {Y[0]:g}", ""]
    result.summary += table(hand, engine)
    worst = max(float(np.max(np.abs(hand[k] - engine[k]))) for k in hand)
    result.summary += ["", f"largest difference {worst:.1e} (tolerance {TOLERANCE:g})"]
    if worst > TOLERANCE:
        result.ok, result.failure = False, f"the chain rule and the engine disagree by {worst:.1e}"

    labels = [f"{k}[{','.join(map(str, i))}]" for k in hand for i in np.ndindex(hand[k].shape)]
    h = np.concatenate([hand[k].ravel() for k in hand])
    e = np.concatenate([engine[k].ravel() for k in hand])
    fig, ax = plt.subplots(figsize=(8, 4))
    pos = np.arange(len(labels))
    ax.bar(pos - 0.2, h, width=0.4, label="chain rule, by hand")
    ax.bar(pos + 0.2, e, width=0.4, label="engine, backward()")
    ax.axhline(0, color="k", lw=0.6)
    ax.set_xticks(pos, labels, rotation=45)
    ax.set_ylabel("∂C/∂parameter")
    ax.set_title(f"the same gradients two ways (largest difference {worst:.0e})")
    ax.legend()
    fig.tight_layout()
    path = out_dir / "gradients.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    result.add(path, "Every gradient of the cost C, worked out by the chain rule layer by layer (left bars) and "
                     "by one backward() of the engine (right bars): the same numbers.")

    add_graph_picture(result, trace, out_dir / "network_graph.png", dpi=120,
                      caption="The engine's graph of the cost C = (a⁽²⁾ − y)² of the 2-2-1 network: each box holds "
                              "a value and its gradient ∂C/∂(that value), from the inputs up to C.")
    return result


# =============================================================================== computation_graph

COMPUTATION_GRAPH = "computation_graph"


def run_computation_graph(out_dir: Path) -> JobResult:
    """Build the neuron, backpropagate, check the gradients by hand and draw the graph."""
    # micrograd's neuron, in scalars so that every edge carries a number: out is about 0.7071.
    x1, x2 = tg.tensor(2.0, name="x1"), tg.tensor(0.0, name="x2")  # inputs: data, no gradient wanted
    w1 = tg.tensor(-3.0, requires_grad=True, name="w1")
    w2 = tg.tensor(1.0, requires_grad=True, name="w2")
    b = tg.tensor(6.8813735870195432, requires_grad=True, name="b")
    n = x1 * w1 + x2 * w2 + b
    n.name = "n"
    out = tg.tanh(n)
    out.name = "out"
    trace = tg.viz.backprop(out)  # backward(), keeping every node's value and gradient for the pictures
    result = JobResult(COMPUTATION_GRAPH)
    slope = 1 - out.item() ** 2  # tanh' = 1 - tanh²
    want = {"w1": slope * 2.0, "w2": slope * 0.0, "b": slope, "n": slope, "out": 1.0}
    got = {k: float(trace.node(k).grad) for k in want}
    if not all(np.isclose(got[k], want[k], rtol=1e-12, atol=1e-15) for k in want):
        result.ok, result.failure = False, f"gradients {got} disagree with the chain rule by hand {want}"
    result.summary.append(f"out = tanh(x1·w1 + x2·w2 + b) = {out.item():.4f}; dout/dn = {got['n']:.4f}, "
                          f"dout/dw1 = {got['w1']:.4f}, dout/dw2 = {got['w2']:.4f}, dout/db = {got['b']:.4f}")
    add_graph_picture(result, trace, out_dir / "neuron_graph.png", show_local=True,
                      caption="micrograd's neuron tanh(x1·w1 + x2·w2 + b): every value, its gradient (red) and on "
                              "each edge the local derivative (blue); multiply along a path to get a gradient.")
    add_backprop_animation(result, trace, out_dir, what="micrograd's neuron")
    return result


# =============================================================================== curve_network

CURVE_NETWORK = "curve_network"
CURVE_STEPS = 4000
CURVE_SNAPSHOTS = (0, 100, 250, 500, 1000, 2000, 4000)


def run_curve_network(out_dir: Path) -> JobResult:
    """Train the assignment's 1-6-7-2 network on the heart; the curve at several steps and the cost."""
    import matplotlib

    matplotlib.use("Agg")

    result = JobResult(CURVE_NETWORK)
    run = train_curve_network(steps=CURVE_STEPS, snapshot_steps=CURVE_SNAPSHOTS)
    weights = course_weights(run.net)
    result.summary.append(f"the assignment's {'-'.join(map(str, SIZES))} sigmoid network, C = sum (a3 - y)^2 over "
                          f"{run.t.size} points of a heart, Adam for {CURVE_STEPS} steps:")
    result.summary.append(f"  cost {run.cost[0]:.4f} at step 0, {run.cost[-1]:.4f} after {CURVE_STEPS} steps")
    result.summary.append("  the course's weights: " + ", ".join(
        f"W{k} {W.shape}, b{k} {b.shape}" for k, (W, b) in enumerate(weights, 1)))
    failures = []
    a = run.t[None, :]  # A⁽⁰⁾: the examples in columns, as the course writes them
    for W, b in weights:
        a = 1 / (1 + np.exp(-(W @ a + b)))
    with tg.no_grad():
        out = run.net(run.t[:, None]).data
    if not np.allclose(a.T, out, rtol=1e-12, atol=1e-14):
        failures.append("the course's forward pass with course_weights differs from the network's outputs")
    if not run.cost[-1] < 0.05 * run.cost[0]:
        failures.append(f"training did not lower the cost enough: {run.cost[0]:.4f} → {run.cost[-1]:.4f}")

    fig = tg.viz.plot_network_fit(run.t, run.target, run.snapshots, xlabel="a₁ (first output)",
                                  ylabel="a₂ (second output)",
                                  title="the network's curve (a₁(t), a₂(t)) for t in [0, 1] during training")
    files = {"curve_network_fit.png": (fig, "The assignment's 1-6-7-2 network draws a curve: its two outputs "
                                            "(a₁(t), a₂(t)) for t from 0 to 1, nearly one point at step 0, "
                                            "close in on the target heart (black) as training goes on.")}
    fig = tg.viz.plot_history({"cost C": run.cost}, log=True,
                              title="the cost C = Σ (a⁽³⁾ − y)² at every training step")
    files["curve_network_cost.png"] = (fig, f"The cost C = Σ (a⁽³⁾ − y)² of the curve network at each of its "
                                            f"{CURVE_STEPS} Adam steps, on a log scale: from {run.cost[0]:.1f} "
                                            f"down to {run.cost[-1]:.3f}.")
    return finish(result, out_dir, files, failures)


JOBS = (
    Job(BACKPROP_BY_HAND, "the course's 2-2-1 sigmoid network: every gradient by the chain rule by hand, next to "
                          "one backward() of the engine", run_backprop_by_hand),
    Job(COMPUTATION_GRAPH, "micrograd's neuron tanh(w·x + b) as a computation graph with every value, gradient "
                           "and local derivative", run_computation_graph),
    Job(CURVE_NETWORK, "the backpropagation assignment's 1-6-7-2 sigmoid network learning to draw a heart: its "
                       "output curve during training, and the cost", run_curve_network),
)
