"""The computation graph of one neuron, tanh(w·x + b), with its gradients after backward.

    python demos/computation_graph.py [--out DIR]      (default DIR: ./tinygrad_mvc_out/computation_graph)

Writes neuron_graph.png: every value with its data and gradient, every op between its inputs and its
output (micrograd's picture, for tensors). Without the Graphviz program `dot` it writes the DOT
source, neuron_graph.dot, and says how to install Graphviz. The heart of it:

    out = tg.tanh(w @ x + b); out.backward(retain_graph=True)
    tg.viz.save_graph(tg.viz.draw_graph(out), DIR / "neuron_graph.png")
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import tinygrad_mvc as tg
from tinygrad_mvc.cli.jobs import JobResult, add_graph_picture, script_main

NAME = "computation_graph"


def run(out_dir: Path) -> JobResult:
    """Build the neuron, backpropagate, check the gradients by hand and draw the graph."""
    x = tg.tensor([2.0, 0.0], name="x")  # the input: data, no gradient wanted
    w = tg.tensor([-3.0, 1.0], requires_grad=True, name="w")
    b = tg.tensor(6.8813735870195432, requires_grad=True, name="b")  # micrograd's bias: out is about 0.7071
    out = tg.tanh(w @ x + b)
    out.name = "out"
    # retain_graph: backward frees the graph by default, and then the picture would show only the output.
    out.backward(retain_graph=True)
    result = JobResult(NAME)
    slope = 1 - out.item() ** 2  # tanh' = 1 - tanh²
    if not (np.allclose(w.grad.data, slope * x.data, rtol=1e-12) and np.isclose(b.grad.item(), slope, rtol=1e-12)):
        result.ok, result.failure = False, f"gradients w={w.grad.tolist()} b={b.grad.item()} disagree with (1 - out²)·x"
    result.summary.append(f"out = tanh(w·x + b) = {out.item():.4f}; dout/dw = {w.grad.tolist()}, "
                          f"dout/db = {b.grad.item():.4f}")
    add_graph_picture(result, out, out_dir / "neuron_graph.png")
    return result


if __name__ == "__main__":
    sys.exit(script_main(NAME, run, __doc__.splitlines()[0]))
