"""``tinygrad-mvc demo``: the main job.

For now it runs what the core engine can show: the derivatives demo (f, f', f'', f''' by autodiff,
checked against formulas and finite differences), writing its figures into ``OUT/derivatives/``.
Training the toy network, its plots and the graph picture (API.md §11) replace it with a later issue.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .jobs import OUT_ROOT

NAME = "demo"
HELP = "run the demo: derivatives to third order by autodiff, checked, and plotted"


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        NAME, help=HELP, description=(
            "Run the demo and write its PNG figures. Today this is the core engine's demo: "
            "f(x) = sin(x)*exp(-x^2/4) and its first three derivatives by repeated "
            "backward(create_graph=True), checked against the formulas and against finite differences "
            "(the same code as demos/derivatives.py). Exit code 1 if the derivatives disagree."))
    parser.add_argument("--out", type=Path, default=OUT_ROOT, metavar="DIR",
                        help=f"folder for the figures, one subfolder per demo (default: ./{OUT_ROOT})")
    return parser


def run(args: argparse.Namespace) -> int:
    from . import derivatives
    from .jobs import prepare_out, report

    prepare_out(args.out)
    return report(derivatives.run(prepare_out(Path(args.out) / derivatives.NAME)))
