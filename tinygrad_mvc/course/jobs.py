"""What the course's jobs share: a job writes figures into a folder, each with a caption, and reports.

A *job* is a :class:`Job`: a name, a one-line description and a function ``run(out_dir: Path) -> JobResult``.
``demos/NAME.py`` runs one through :func:`script_main` (which gives it the ``--out DIR`` option, default
``./tinygrad_mvc_out/NAME``); ``tinygrad-mvc demo --job NAME`` and ``demo --all`` run the same function, so no
demo code is written twice. Every file a job writes is recorded with a one-line caption
(:meth:`JobResult.add`), which the gallery shows under it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Job", "JobResult", "OUT_ROOT", "default_out", "prepare_out", "report", "script_main",
           "add_graph_picture", "add_backprop_animation", "save_figures", "finish"]

OUT_ROOT = Path("tinygrad_mvc_out")
"""Where output goes unless ``--out`` says otherwise (relative to the current directory)."""


@dataclass
class JobResult:
    """What a job did: the files it wrote (each with a caption), lines of summary to print, and whether its
    checks passed.

    >>> r = JobResult("demo"); r.add(Path("a.png"), "a picture"); r.files, r.captions[Path("a.png")]
    ([PosixPath('a.png')], 'a picture')
    """

    name: str
    files: list[Path] = field(default_factory=list)
    summary: list[str] = field(default_factory=list)
    ok: bool = True
    failure: str = ""
    captions: dict[Path, str] = field(default_factory=dict)

    def add(self, path: Path, caption: str) -> None:
        """Record a written file and the one line that tells a student what it shows."""
        if not caption.strip():
            raise ValueError(f"{self.name}: {path} needs a caption")
        self.files.append(Path(path))
        self.captions[Path(path)] = caption


@dataclass(frozen=True)
class Job:
    """One course demo: its name (the script ``demos/NAME.py`` and the folder ``NAME``), what it shows in
    one line, and the function that writes its files into a folder."""

    name: str
    description: str
    run: Callable[[Path], JobResult]

    @property
    def commands(self) -> tuple[str, str]:
        """The two commands that make its files: the command line and the script of a source checkout."""
        return f"tinygrad-mvc demo --job {self.name}", f"python demos/{self.name}.py"


def default_out(name: str) -> Path:
    """``./tinygrad_mvc_out/NAME``."""
    return OUT_ROOT / name


def prepare_out(out_dir: Path | str) -> Path:
    """Create ``out_dir`` (and its parents); a clear ``OSError`` if that is impossible."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"--out {out}: exists and is not a directory")
    out.mkdir(parents=True, exist_ok=True)
    return out


def save_figures(result: JobResult, out_dir: Path, figures: Mapping[str, tuple[Any, str]], dpi: int = 110) -> None:
    """Write each ``filename: (matplotlib figure, caption)`` as ``out_dir / filename``, close the figure, and
    record the file with its caption in ``result``."""
    import matplotlib.pyplot as plt

    for filename, (figure, caption) in figures.items():
        path = Path(out_dir) / filename
        figure.savefig(path, dpi=dpi, bbox_inches="tight")
        plt.close(figure)
        result.add(path, caption)


def finish(result: JobResult, out_dir: Path, figures: Mapping[str, tuple[Any, str]],
           failures: Sequence[str] = ()) -> JobResult:
    """Save ``figures`` (as :func:`save_figures`), mark ``result`` failed with every message of ``failures``
    (a job's checks that did not hold), and return it."""
    save_figures(result, out_dir, figures)
    if failures:
        result.ok, result.failure = False, "; ".join(failures)
    return result


def add_graph_picture(result: JobResult, out: Any, path: Path, caption: str, dpi: int = 150,
                      names: Mapping[str, Any] | None = None, show_local: bool = False) -> None:
    """Draw the graph behind ``out`` (a Tensor, or a trace from ``tg.viz.backprop``) into ``path``.

    Without Graphviz's ``dot`` program the DOT source is written instead, and the one-line install
    hint joins the summary.
    """
    import tinygrad_mvc as tg

    dot = tg.viz.draw_graph(out, names=names, show_local=show_local, rankdir=None)
    dot.attr(dpi=str(dpi))  # sharper than graphviz's default 96 dpi
    written, hint = tg.viz.save_graph(dot, path)
    result.add(written, caption if written.suffix != ".dot" else f"{caption} (the DOT source: Graphviz's dot "
                                                                   "was not found to draw it)")
    if hint:
        result.summary.append(hint)


def add_backprop_animation(result: JobResult, trace: Any, out_dir: Path, what: str, stem: str = "backprop") -> None:
    """Write ``stem.html`` (the step-by-step page) and ``stem.gif`` of the forward and backward pass in ``trace``;
    ``what`` names the graph in their captions ("micrograd's neuron").

    Both need Graphviz's ``dot``; without it the summary says so and nothing is written.
    """
    import shutil

    import tinygrad_mvc as tg

    if shutil.which("dot") is None:
        result.summary.append(f"{stem}.html and {stem}.gif need Graphviz: {tg.viz.graph.INSTALL_HINT}")
        return
    captions = {".html": f"{what}, step by step: press step to watch the values go forward, then the gradients "
                         "come back node by node (the chain rule, one factor per edge)",
                ".gif": f"{what}: the same forward and backward pass as an animation, one frame per node"}
    for suffix, caption in captions.items():
        result.add(tg.viz.animate_backprop(trace, out_dir / f"{stem}{suffix}"), caption)


def report(result: JobResult, file: object = None) -> int:
    """Print a job's summary and the files it wrote; return its exit code (0, or 1 if a check failed)."""
    out = sys.stdout if file is None else file
    for line in result.summary:
        print(line, file=out)
    for path in result.files:
        print(f"wrote {path}", file=out)
    if not result.ok:
        print(f"{result.name}: FAILED: {result.failure}", file=sys.stderr)
        return 1
    return 0


def script_main(job: Job, argv: Sequence[str] | None = None) -> int:
    """The ``main`` of ``demos/NAME.py``: ``python demos/NAME.py [--out DIR]``; returns the exit code."""
    name = job.name
    parser = argparse.ArgumentParser(prog=f"demos/{name}.py", description=job.description)
    parser.add_argument("--out", type=Path, default=default_out(name), metavar="DIR",
                        help=f"folder for the figures (default: ./{default_out(name)})")
    args = parser.parse_args(argv)
    try:
        out = prepare_out(args.out)
    except OSError as e:
        print(f"{parser.prog}: error: {e}", file=sys.stderr)
        return 1
    # Other errors keep their traceback here: a demo script is code to read and debug.
    return report(job.run(out))
