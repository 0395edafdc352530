"""The computation graph of one neuron, tanh(w·x + b), with its gradients after backward.

    python demos/computation_graph.py [--out DIR]      (default DIR: ./tinygrad_mvc_out/computation_graph)

Writes neuron_graph.png: every value with its data and gradient, the output with gradient 1 and every
edge with its local derivative ∂out/∂in (micrograd's picture, read as the chain rule), and
backprop.html, the same graph stepping through forward and backward. Without the Graphviz program
`dot` it writes the DOT source, neuron_graph.dot, and says how to install Graphviz. The heart of it:

    out = tg.tanh(x1 * w1 + x2 * w2 + b)
    trace = tg.viz.backprop(out)          # backward(), keeping every gradient for the picture
    tg.viz.save_graph(tg.viz.draw_graph(trace, show_local=True), DIR / "neuron_graph.png")
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import tinygrad_mvc as tg
from tinygrad_mvc.cli.jobs import JobResult, add_backprop_animation, add_graph_picture, script_main

NAME = "computation_graph"


def run(out_dir: Path) -> JobResult:
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
    result = JobResult(NAME)
    slope = 1 - out.item() ** 2  # tanh' = 1 - tanh²
    want = {"w1": slope * 2.0, "w2": slope * 0.0, "b": slope, "n": slope, "out": 1.0}
    got = {k: float(trace.node(k).grad) for k in want}
    if not all(np.isclose(got[k], want[k], rtol=1e-12, atol=1e-15) for k in want):
        result.ok, result.failure = False, f"gradients {got} disagree with the chain rule by hand {want}"
    result.summary.append(f"out = tanh(x1·w1 + x2·w2 + b) = {out.item():.4f}; dout/dn = {got['n']:.4f}, "
                          f"dout/dw1 = {got['w1']:.4f}, dout/dw2 = {got['w2']:.4f}, dout/db = {got['b']:.4f}")
    add_graph_picture(result, trace, out_dir / "neuron_graph.png", show_local=True)
    add_backprop_animation(result, trace, out_dir)
    return result


if __name__ == "__main__":
    sys.exit(script_main(NAME, run, __doc__.splitlines()[0]))
