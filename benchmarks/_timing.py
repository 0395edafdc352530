"""Shared timing for the benchmarks: warm-up, interleaved repeats, median and spread.

Columns of one case are timed round-robin in the same process (same BLAS threads, same
machine state), so their ratio is fair even on a noisy machine. Before a column is timed its
result passes the correctness gate (:func:`gate`): a column that computes something else is
reported as failed, never timed.

The options every benchmark shares (:func:`add_options`): ``--quick``, ``--tiny`` (sizes for the
tests; default from ``TG_BENCH_TINY``) and ``--out DIR`` (where figures go; default from
``TG_BENCH_OUT``). ``tinygrad-mvc bench`` sets those variables for each benchmark it runs.

Malloc (issue 18). Every benchmark runs in a default process: glibc's malloc as users get it.
``--malloc tuned`` raises glibc's mmap and trim thresholds first (:func:`tune_malloc`, the same as
``tg.tune_allocator()``), for every column alike; ``--malloc both`` (:func:`add_malloc_option`) adds
a second run in a new process with the thresholds raised, whose tables are labelled "malloc
tuned" and state no targets: the targets are judged on the default run.

Targets. A benchmark states each of its targets with :func:`target` (or ``report(...,
targets=...)`` for a ratio to the table's reference column): the line it returns says what was
measured and whether the target was ``met`` or ``MISSED``, and :data:`TARGETS` keeps the record,
which ``tinygrad-mvc bench`` collects into the targets table of RESULTS.md.

Peers (torch, HIPS autograd, JAX) are timed when installed (:func:`installed_peers`), except in a tiny
run (``TG_BENCH_TINY=1``, the tests' smoke run of the whole suite): importing torch alone takes
seconds per benchmark, and tiny sizes compare nothing worth the wait.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import os
import platform
import re
import statistics
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np


def machine() -> str:
    """One line naming the machine, Python, NumPy and the BLAS thread setting."""
    threads = os.environ.get("OMP_NUM_THREADS") or os.environ.get("OPENBLAS_NUM_THREADS") or "default"
    return (f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"NumPy {np.__version__}, BLAS threads: {threads}")


def tune_malloc() -> str:
    """Keep freed memory inside the process (glibc only), for every column alike; returns a note.

    Opt-in (``--malloc tuned``): users get glibc's defaults, so the benchmarks measure those unless
    asked. By default glibc maps each array above its dynamic mmap threshold afresh, and gives back
    the top of the heap once more than twice that threshold is free there, so a function that frees
    two or three of its largest temporaries at once has their pages faulted in again on the next
    call (10x at n = 100 000 in bench_transforms.py). This raises both thresholds, as
    ``tg.tune_allocator()`` does; it changes no result.
    """
    import tinygrad_mvc as tg

    return ("malloc: glibc mmap/trim thresholds raised (tuned: freed memory reused)" if tg.tune_allocator()
            else "malloc: default (not glibc)")


MALLOC_DEFAULT_NOTE = "malloc: glibc default, as users get it"


def add_malloc_option(parser: argparse.ArgumentParser, default: str | None = "default",
                      choices: tuple[str, ...] = ("default", "tuned", "both")) -> argparse.ArgumentParser:
    """Add ``--malloc default|tuned|both`` (see the module docstring) to a benchmark's options.

    ``default=None`` leaves the choice to the benchmark (bench_mlp.py: ``both`` unless ``--tiny``).
    Also adds the hidden ``--tuned-rerun``, which :func:`tuned_rerun` passes to the second process so
    that it can leave out what the tuned run does not need (the peers).
    """
    parser.add_argument("--malloc", choices=choices, default=default,
                        help="glibc's malloc as users get it ('default'); 'tuned': raise its mmap/trim thresholds "
                             "for every column; 'both': the default run, then a tuned run in a second process, "
                             "labelled")
    parser.add_argument("--tuned-rerun", action="store_true", help=argparse.SUPPRESS)
    return parser


def malloc_setting(mode: str) -> str:
    """Apply ``--malloc`` in this process (only ``tuned`` changes anything) and return the note to print."""
    return tune_malloc() if mode == "tuned" else MALLOC_DEFAULT_NOTE


def tuned_rerun(script: str | Path, argv: list[str] | None, timeout: float = 600) -> list[str]:
    """Run ``script`` again in a new process with ``--malloc tuned`` and return its tables, labelled.

    Each table title gets " [malloc tuned]"; a target line keeps its measurement and loses its verdict
    (targets are judged on the default run), and the run's ``## `` heading is dropped. ``argv`` is this
    run's arguments (``sys.argv[1:]`` when None); its ``--malloc`` option is replaced. The child imports
    the same ``tinygrad_mvc`` as this process.
    """
    import subprocess
    import sys

    import tinygrad_mvc as tg

    rest, skip = [], False
    for a in sys.argv[1:] if argv is None else argv:
        if not skip and not a.startswith("--malloc") and a != "--tuned-rerun":
            rest.append(a)
        skip = a == "--malloc"
    env = dict(os.environ)
    package_root = str(Path(tg.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH", "")) if p)
    proc = subprocess.run([sys.executable, str(script), *rest, "--malloc", "tuned", "--tuned-rerun"], env=env,
                          capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        tail = " ".join(proc.stderr.split())[-300:]
        return [f"The tuned run (--malloc tuned, a second process) failed with exit code {proc.returncode}: {tail}", ""]
    lines = ["### The same cases with glibc's malloc tuned (a second process; not what users get by default)", ""]
    for line in proc.stdout.splitlines():
        if line.startswith("## ") or (not line and not lines[-1]):
            continue
        stated = _TARGET_LINE.match(line)
        if stated:  # the measurement stays, the verdict goes: targets are judged on the default run
            line = f"- {stated['label']}: {stated['measured']}{stated['rest']} (tuned, no target)"
        lines.append(line + " [malloc tuned]" if line.startswith("### ") else line)
    return lines


_TARGET_LINE = re.compile(r"- Target: (?P<label>.*) [≤≥] [^:]*: measured (?P<measured>.*?), \*\*(?:met|MISSED)\*\*"
                          r"(?P<rest>.*)")


def time_columns(columns: dict[str, Callable[[], object]], repeat: int = 20, warmup: int = 2,
                 min_time: float = 0.02) -> dict[str, tuple[float, float]]:
    """Median and interquartile spread (seconds per call) of each column, timed round-robin.

    Each sample runs the callable enough times to last about ``min_time``.
    """
    loops = {}
    for name, fn in columns.items():
        for _ in range(warmup):
            fn()
        t0 = time.perf_counter()
        fn()
        once = max(time.perf_counter() - t0, 1e-7)
        loops[name] = max(1, int(min_time / once))
    samples: dict[str, list[float]] = {name: [] for name in columns}
    for _ in range(repeat):
        for name, fn in columns.items():
            n = loops[name]
            t0 = time.perf_counter()
            for _ in range(n):
                fn()
            samples[name].append((time.perf_counter() - t0) / n)
    out = {}
    for name, s in samples.items():
        q = statistics.quantiles(s, n=4) if len(s) > 1 else [s[0]] * 3
        out[name] = (statistics.median(s), q[2] - q[0])
    return out


def report(title: str, results: dict[str, tuple[float, float]], reference: str,
           failed: Mapping[str, str] | None = None, targets: Mapping[str, float] | None = None,
           case: str | None = None) -> list[str]:
    """Rows 'name  median  spread  ratio to reference' as Markdown table lines.

    Columns in ``failed`` (name: reason, from :func:`gate`) get a row saying so, with no time.
    ``targets`` maps a column to the largest ratio to the reference it should reach; each becomes a
    :func:`target` line under the table (a column that failed the gate misses its target), labelled with
    ``case`` (default: the title).
    """
    ref = results[reference][0]
    lines = [f"### {title}", "", "| implementation | median | IQR | ratio to hand-written NumPy |", "|---|---|---|---|"]
    for name, (med, iqr) in results.items():
        lines.append(f"| {name} | {med * 1e3:.3f} ms | {iqr * 1e3:.3f} ms | {med / ref:.2f}x |")
    for name, reason in (failed or {}).items():
        lines.append(f"| {name} | FAILED the correctness gate, not timed: {reason} | | |")
    if targets:
        lines.append("")
        for name, limit in targets.items():
            value = results[name][0] / ref if name in results else None
            why = "failed the correctness gate" if name in (failed or {}) else "not timed"
            lines.append(target(f"{name} / {reference}, {case or title}", value, limit, missing=why))
    return lines


# ------------------------------------------------------------------------ targets

TARGETS: list[dict[str, str]] = []
"""Every target stated by :func:`target` in this process, in order (``tinygrad-mvc bench`` collects them)."""


def target(label: str, value: float | None, limit: float, unit: str = "x", at_least: bool = False,
           missing: str = "not measured") -> str:
    """State a target, check ``value`` against it and return one Markdown line saying ``met`` or ``MISSED``.

    The target is ``value <= limit`` (``value >= limit`` with ``at_least``). A ``value`` of None or
    NaN, a measurement that could not be made, misses the target and says why (``missing``). The
    target is also recorded in :data:`TARGETS`.

    >>> target("hvp / hand-written HVP, n = 1 000", 14.2, 15)
    '- Target: hvp / hand-written HVP, n = 1 000 ≤ 15x: measured 14.20x, **met**'
    >>> target("model evaluations, ours / scipy's", 1.2, 1, unit="")
    "- Target: model evaluations, ours / scipy's ≤ 1: measured 1.20, **MISSED**"
    """
    wanted = f"{'≥' if at_least else '≤'} {limit:g}{unit}"
    if value is None or not math.isfinite(value):
        measured, status = missing, "MISSED"
    else:
        measured = f"{value:.2f}{unit}"
        status = "met" if (value >= limit if at_least else value <= limit) else "MISSED"
    TARGETS.append({"label": label, "target": wanted, "measured": measured, "status": status})
    return f"- Target: {label} {wanted}: measured {measured}, **{status}**"


# ------------------------------------------------------------------------ the correctness gate

class GateError(AssertionError):
    """A column's result differs from the reference's, so timing it would compare different work."""


def check_close(name: str, got: object, want: object, rtol: float = 1e-9) -> None:
    """Raise :class:`GateError` unless ``got`` equals ``want`` to ``rtol`` (relative to ``max |want|``).

    One tolerance relative to the largest entry, not entry by entry: entries near zero of a
    gradient carry the absolute round-off of the large ones.

    >>> check_close("ok", [1.0, 2.0], [1.0, 2.0 + 1e-14])
    >>> check_close("wrong", [1.0, 2.5], [1.0, 2.0])
    Traceback (most recent call last):
    ...
    _timing.GateError: wrong: max |result - reference| = 0.5 at index (1,), above 1e-09 x max |reference| = 2
    """
    got_a, want_a = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    if got_a.shape != want_a.shape:
        raise GateError(f"{name}: result has shape {got_a.shape}, the reference {want_a.shape}")
    scale = float(np.abs(want_a).max()) if want_a.size else 0.0
    diff = np.abs(got_a - want_a)
    finite = np.isfinite(diff)
    worst = float(diff[finite].max()) if finite.any() else 0.0
    if not finite.all():
        where = np.unravel_index(int(np.argmin(finite)), diff.shape)
        raise GateError(f"{name}: result is not finite at index {tuple(int(i) for i in where)}")
    if worst > rtol * max(scale, 1e-300):
        where = np.unravel_index(int(np.argmax(diff)), diff.shape)
        raise GateError(f"{name}: max |result - reference| = {worst:.3g} at index {tuple(int(i) for i in where)}, "
                        f"above {rtol:g} x max |reference| = {scale:.3g}")


def gate(columns: Mapping[str, Callable[[], object]], want: object,
         rtol: float | Mapping[str, float] = 1e-9,
         results: dict[str, object] | None = None) -> tuple[dict[str, Callable[[], object]], dict[str, str]]:
    """Run each column once and keep those whose result equals ``want``: ``(passed, failed)``.

    ``failed`` maps a column's name to the one-line reason (a wrong result or the exception it
    raised). ``rtol`` is one tolerance or one per column name (finite differences need looser
    ones than exact derivatives). ``results``, if given, receives each column's output and the
    seconds its gated call took, as ``(output, seconds)``.

    >>> passed, failed = gate({"right": lambda: 2.0, "wrong": lambda: 3.0}, 2.0)
    >>> list(passed), failed["wrong"][:35]
    (['right'], 'wrong: max |result - reference| = 1')
    """
    passed: dict[str, Callable[[], object]] = {}
    failed: dict[str, str] = {}
    for name, fn in columns.items():
        tol = rtol if isinstance(rtol, (int, float)) else rtol.get(name, 1e-9)
        try:
            t0 = time.perf_counter()
            got = fn()
            if results is not None:
                results[name] = (got, time.perf_counter() - t0)
            check_close(name, got, want, tol)
        except GateError as e:
            failed[name] = str(e)
        except Exception as e:  # a peer that cannot run this case fails the gate, it does not stop the run
            failed[name] = f"{name}: raised {type(e).__name__}: {' '.join(str(e).split())[:200]}"
        else:
            passed[name] = fn
    return passed, failed


# ------------------------------------------------------------------------ options every benchmark shares

def add_options(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add ``--quick``, ``--tiny`` and ``--out DIR`` (defaults from ``TG_BENCH_TINY``, ``TG_BENCH_OUT``)."""
    parser.add_argument("--quick", action="store_true", help="fewer repeats and smaller sizes (under a minute)")
    parser.add_argument("--tiny", action="store_true", default=os.environ.get("TG_BENCH_TINY", "") not in ("", "0"),
                        help="the smallest sizes, for the tests (default: on if TG_BENCH_TINY=1)")
    parser.add_argument("--out", type=Path, default=Path(os.environ.get("TG_BENCH_OUT", "tinygrad_mvc_out/bench")),
                        metavar="DIR", help="folder for figures (default: $TG_BENCH_OUT or ./tinygrad_mvc_out/bench)")
    return parser


def installed_peers(names: tuple[str, ...]) -> list[str]:
    """The peers among ``names`` that are installed, in order; none in a tiny run (see the module docstring)."""
    if os.environ.get("TG_BENCH_TINY", "") not in ("", "0"):
        return []
    return [name for name in names if importlib.util.find_spec(name) is not None]


def peers_note(names: tuple[str, ...], hint: str = "`pip install -e '.[bench]'` adds their columns") -> list[str]:
    """The lines saying which of ``names`` are not timed and why (nothing when all are)."""
    if os.environ.get("TG_BENCH_TINY", "") not in ("", "0"):
        return [f"Peers ({', '.join(names)}) are not timed in a tiny run: `--quick` or a full run times them.", ""]
    missing = [name for name in names if name not in installed_peers(names)]
    return [f"Peers not installed, their columns skipped: {', '.join(missing)} ({hint}).", ""] if missing else []
