"""Train a 2-16-16-1 ReLU MLP on the two-moons data: micrograd's demo, vectorised. The main job.

    python demos/train_moons.py [--out DIR]      (default DIR: ./tinygrad_mvc_out/train_moons)

Writes loss.png (loss and accuracy per step), decision_boundary.png (the score over the plane and
the data), neuron_graph.png (the graph of one trained neuron) and backprop.html / backprop.gif (its
forward and backward pass, node by node).
The same job runs as `tinygrad-mvc demo --job train_moons`
(and in `tinygrad-mvc demo --all`, the gallery of every course demo). Its code is in
tinygrad_mvc/course/moons.py, which this script only runs.
"""

import sys

from tinygrad_mvc.course import JOBS, script_main

if __name__ == "__main__":
    sys.exit(script_main(JOBS["train_moons"]))
