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
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import tinygrad_mvc as tg

from .jobs import Job, JobResult, add_backprop_animation, add_graph_picture

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


JOBS = (
    Job(BACKPROP_BY_HAND, "the course's 2-2-1 sigmoid network: every gradient by the chain rule by hand, next to "
                          "one backward() of the engine", run_backprop_by_hand),
    Job(COMPUTATION_GRAPH, "micrograd's neuron tanh(w·x + b) as a computation graph with every value, gradient "
                           "and local derivative", run_computation_graph),
)
