"""Backpropagation by hand: the multivariate chain rule through a tiny network, next to the engine.

    python demos/backprop_by_hand.py [--out DIR]      (default DIR: ./tinygrad_mvc_out/backprop_by_hand)

Writes gradients.png (the gradients by hand and by backward() as bars) and network_graph.png (the
engine's graph of the cost), and prints both sets of gradients side by side.
The same job runs as `tinygrad-mvc demo --job backprop_by_hand`
(and in `tinygrad-mvc demo --all`, the gallery of every course demo). Its code is in
tinygrad_mvc/course/chain_rule.py, which this script only runs.
"""

import sys

from tinygrad_mvc.course import JOBS, script_main

if __name__ == "__main__":
    sys.exit(script_main(JOBS["backprop_by_hand"]))
