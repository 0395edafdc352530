"""The computation graph of one neuron, tanh(w·x + b), with its gradients after backward.

    python demos/computation_graph.py [--out DIR]      (default DIR: ./tinygrad_mvc_out/computation_graph)

Writes neuron_graph.png (every value, gradient and local derivative; neuron_graph.dot and an install
hint without Graphviz) and backprop.html / backprop.gif (the forward and backward pass, step by step).
The same job runs as `tinygrad-mvc demo --job computation_graph`
(and in `tinygrad-mvc demo --all`, the gallery of every course demo). Its code is in
tinygrad_mvc/course/chain_rule.py, which this script only runs.
"""

import sys

from tinygrad_mvc.course import JOBS, script_main

if __name__ == "__main__":
    sys.exit(script_main(JOBS["computation_graph"]))
