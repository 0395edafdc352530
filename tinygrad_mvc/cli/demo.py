"""``tinygrad-mvc demo``: the main job, training a toy network on the two-moons data (see :mod:`.train_moons`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from .jobs import OUT_ROOT

NAME = "demo"
MAX_SEED = 2 ** 32 - 1  # what numpy.random.default_rng accepts as one integer

HELP = "train a small MLP on the two-moons data and write the loss curve, decision boundary and a graph picture"


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        NAME, help=HELP, description=(
            "Train a 2-16-16-1 ReLU MLP on a generated two-moons data set (hinge loss + L2, full-batch SGD, "
            "a progress bar with the loss) and write loss.png, decision_boundary.png and neuron_graph.png "
            "(the computation graph of one neuron; neuron_graph.dot and an install hint without Graphviz). "
            "Exit code 1 if the training accuracy ends below 97%. The same job as demos/train_moons.py."))
    parser.add_argument("--out", type=Path, default=OUT_ROOT, metavar="DIR",
                        help=f"folder for the pictures (default: ./{OUT_ROOT})")
    parser.add_argument("--samples", type=int, default=200, metavar="N", help="number of data points (default 200)")
    parser.add_argument("--steps", type=int, default=150, metavar="N", help="SGD steps (default 150)")
    parser.add_argument("--seed", type=int, default=1,
                        help=f"seed of the data and the initial weights, 0 to {MAX_SEED} (default 1)")
    return parser


def run(args: argparse.Namespace) -> int:
    from . import UsageError, train_moons
    from .jobs import prepare_out, report

    if args.samples < 4:
        raise UsageError(f"--samples {args.samples}: must be at least 4")
    if args.steps < 1:
        raise UsageError(f"--steps {args.steps}: must be at least 1")
    if not 0 <= args.seed <= MAX_SEED:
        raise UsageError(f"--seed {args.seed}: must be an integer from 0 to {MAX_SEED}")
    out = prepare_out(args.out)
    code = report(train_moons.run(out, n_samples=args.samples, steps=args.steps, seed=args.seed))
    if code == 0:
        print(f"pictures are in {out.resolve()}")
    return code
