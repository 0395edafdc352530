"""``tinygrad-mvc demo``: the main job (training a toy network on two moons), one course job, or all of them.

- ``demo [--out DIR]``: the main job, :mod:`tinygrad_mvc.course.moons`, into ``DIR`` (default ``./tinygrad_mvc_out``);
- ``demo --job NAME [--job NAME ...] [--out DIR]``: those jobs of :data:`tinygrad_mvc.course.JOBS`, each into
  ``DIR/NAME/`` (as ``python demos/NAME.py`` writes into ``./tinygrad_mvc_out/NAME``);
- ``demo --all [--out DIR]``: every job into ``DIR/NAME/`` and the gallery ``DIR/index.html``
  (:mod:`tinygrad_mvc.course.gallery`); the last line printed is ``gallery: PATH``. Exit code 1 if any job
  failed, after the others have run and the page shows what worked and what failed.

``--samples``, ``--steps`` and ``--seed`` set the main job's training wherever it runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tinygrad_mvc.course.jobs import OUT_ROOT

NAME = "demo"
MAX_SEED = 2 ** 32 - 1  # what numpy.random.default_rng accepts as one integer

HELP = ("train a small MLP on the two-moons data and write its pictures; --job NAME runs one course demo, "
        "--all every one and an offline gallery page")


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    from tinygrad_mvc.course import JOBS

    parser = subparsers.add_parser(
        NAME, help=HELP, description=(
            "Without --job or --all: train a 2-16-16-1 ReLU MLP on a generated two-moons data set (hinge loss + "
            "L2, full-batch SGD, a progress bar with the loss) and write loss.png, decision_boundary.png, "
            "neuron_graph.png (the computation graph of one neuron; neuron_graph.dot and an install hint without "
            "Graphviz) and backprop.html/.gif into DIR. Exit code 1 if the training accuracy ends below 97%. "
            "The same job as demos/train_moons.py. --job NAME runs one course demo (the same as "
            "demos/NAME.py) into DIR/NAME; --all runs the main job and every course demo, each into DIR/NAME, "
            "and writes DIR/index.html, one page that shows every figure grouped by the course's six topics "
            "and opens offline from disk; exit code 1 if any job fails (the page still shows the others)."))
    parser.add_argument("--out", type=Path, default=OUT_ROOT, metavar="DIR",
                        help=f"folder for the pictures (default: ./{OUT_ROOT}); with --job or --all each job "
                             "writes into DIR/NAME")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--job", action="append", choices=list(JOBS), metavar="NAME",
                       help=f"run this course demo (repeatable): {', '.join(JOBS)}")
    which.add_argument("--all", action="store_true",
                       help="run every course demo and write the gallery DIR/index.html")
    parser.add_argument("--samples", type=int, default=200, metavar="N", help="number of data points (default 200)")
    parser.add_argument("--steps", type=int, default=150, metavar="N", help="SGD steps (default 150)")
    parser.add_argument("--seed", type=int, default=1,
                        help=f"seed of the data and the initial weights, 0 to {MAX_SEED} (default 1)")
    return parser


def run(args: argparse.Namespace) -> int:
    from tinygrad_mvc.course import JOBS, MAIN, moons
    from tinygrad_mvc.course.gallery import run_all, run_job
    from tinygrad_mvc.course.jobs import prepare_out, report

    from . import UsageError

    if args.samples < 4:
        raise UsageError(f"--samples {args.samples}: must be at least 4")
    if args.steps < 1:
        raise UsageError(f"--steps {args.steps}: must be at least 1")
    if not 0 <= args.seed <= MAX_SEED:
        raise UsageError(f"--seed {args.seed}: must be an integer from 0 to {MAX_SEED}")
    training = {"n_samples": args.samples, "steps": args.steps, "seed": args.seed}
    if args.all:
        _, page, code = run_all(args.out, main_options=training)
        print(f"wrote {page}")
        print(f"gallery: {page.resolve()}")
        return code
    if args.job:
        code = 0
        for name in dict.fromkeys(args.job):  # each job once, in the order given
            job = JOBS[name]
            done = run_job(job, prepare_out(args.out), **(training if job is MAIN else {}))
            code |= report(done.result)
            if done.result.ok:
                print(f"pictures are in {done.out_dir.resolve()}")
        return code
    out = prepare_out(args.out)
    code = report(moons.run(out, **training))
    if code == 0:
        print(f"pictures are in {out.resolve()}")
    return code
