"""The backpropagation assignment: a 1-6-7-2 sigmoid network learns to draw a curve (a heart).

    python demos/curve_network.py [--out DIR]      (default DIR: ./tinygrad_mvc_out/curve_network)

Writes curve_network_fit.png (the network's output curve (a₁(t), a₂(t)) at several steps of training,
against the target) and curve_network_cost.png (the cost at every step), and prints the cost and the
shapes of the weights in the course's notation.
The same job runs as `tinygrad-mvc demo --job curve_network`
(and in `tinygrad-mvc demo --all`, the gallery of every course demo). Its code is in
tinygrad_mvc/course/chain_rule.py, which this script only runs.
"""

import sys

from tinygrad_mvc.course import JOBS, script_main

if __name__ == "__main__":
    sys.exit(script_main(JOBS["curve_network"]))
