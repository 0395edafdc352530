"""Train a 2-16-16-1 ReLU MLP on the two-moons data: micrograd's demo, vectorised. The main job.

    python demos/train_moons.py [--out DIR]      (default DIR: ./tinygrad_mvc_out/train_moons)

Writes loss.png (loss and accuracy per step), decision_boundary.png (the score over the plane and
the data) and neuron_graph.png (the graph of one trained neuron). ``tinygrad-mvc demo`` runs the
same job. The heart of it:

    model = tg.nn.MLP([2, 16, 16, 1], activation="relu", rng=1)
    opt = tg.optim.SGD(model.parameters(), lr=1.0)
    for k in range(steps):
        loss = tg.losses.hinge(model(X).reshape(-1), 2 * y - 1) + 1e-4 * sum((p * p).sum() for p in params)
        opt.zero_grad(); loss.backward(); opt.step()
"""

from __future__ import annotations

import sys

from tinygrad_mvc.cli import train_moons
from tinygrad_mvc.cli.jobs import script_main

if __name__ == "__main__":
    sys.exit(script_main(train_moons.NAME, train_moons.run, __doc__.splitlines()[0]))
