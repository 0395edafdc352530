"""``tinygrad-mvc bench [--quick] [--out DIR]``: run the benchmark suite and write RESULTS.md and its figures.

Where the results go. A full run of the whole suite (no ``--quick``, ``--tiny`` or ``--only``)
writes into the suite folder itself: ``benchmarks/RESULTS.md`` and ``benchmarks/figures/``, so the
committed results and figures always come from one run, and a figure cannot outlive the run that
drew it. Other runs write into ``./tinygrad_mvc_out/bench`` (and may not write into the suite
folder). ``--out DIR`` chooses another folder. Either way ``DIR/figures/`` is emptied of ``.png``
files before the run, and RESULTS.md lists every figure with its SHA-256, so a figure that does
not match its report is easy to catch. Hand-written commentary lives in ``benchmarks/NOTES.md``,
which RESULTS.md links to; RESULTS.md itself is never edited by hand.

Where the suite is. The benchmarks are scripts in the repository's ``benchmarks/`` folder, not part
of the installed package (they import torch, autograd and JAX when present, and their figures are
documentation). The command looks, in order, at ``--suite DIR``, at ``benchmarks/`` next to the
package (a source checkout or an editable install: ``pip install -e .``), and at ``./benchmarks``;
if none exists it stops with a one-line error saying so (exit 2).

What a benchmark is. Every ``benchmarks/bench_*.py`` joins the suite; it must provide
``main(argv: list[str] | None) -> list[str]`` returning Markdown lines (a ``## `` heading first) and
accept ``--quick`` (under a minute). The runner also sets, for every benchmark:

- ``TG_BENCH_OUT``: the folder for its figures, ``DIR/figures`` (``_timing.add_options`` makes it the default
  of ``--out``),
- ``TG_BENCH_TINY=1`` with ``--tiny``: the smallest sizes, for the tests (the default of ``--tiny``),
- ``TG_BENCH_THREADS`` and ``OMP/OPENBLAS/MKL_NUM_THREADS``: the same thread count for every column,
- ``MPLBACKEND=Agg`` and ``PYTHONPATH`` so that it imports the same ``tinygrad_mvc`` as this command.

Each benchmark runs in its own Python process, one after the other: importing torch slows every
Python-level framework timed after it in the same process (see bench_overhead.py), and a crash of
one benchmark cannot take the others down. A benchmark that raises, exits or times out is reported
in RESULTS.md with the end of its traceback, and the command exits 1 after writing everything else.

Targets. Each benchmark states its targets through ``_timing.target`` (see benchmarks/_timing.py);
the runner collects them from the benchmark's process into the targets table of RESULTS.md, each
marked ``met`` or ``MISSED``. A missed target is reported, not an error.

``TG_BENCH_THREADS`` is read when ``bench`` runs (not when the parser is built), as the default of
``--threads``; a value that is not a positive integer is a one-line usage error naming it (exit 2).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from .._atomic import write_atomic
from ..course.jobs import OUT_ROOT
from . import UsageError

NAME = "bench"
THREADS_VAR = "TG_BENCH_THREADS"
HELP = "run the benchmarks (benchmarks/bench_*.py) and write RESULTS.md and figures"
DEFAULT_OUT = OUT_ROOT / "bench"
PEERS = ("torch", "autograd", "jax")

# Runs in the benchmark's own process: load the file as a module, call main(argv), save the lines (or the
# traceback) as JSON. Nothing is imported before the module itself, so its thread settings come first.
_CHILD = r"""
import importlib.util, json, os, sys, traceback
path, result_file, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
sys.path.insert(0, os.path.dirname(path))
result = {"ok": False, "lines": [], "error": ""}
try:
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    if not callable(getattr(module, "main", None)):
        raise TypeError(f"{os.path.basename(path)} has no main(argv) -> list[str]")
    lines = module.main(list(argv))
    if not isinstance(lines, list) or not all(isinstance(line, str) for line in lines):
        raise TypeError(f"main(argv) of {os.path.basename(path)} returned {type(lines).__name__}, not list[str]")
    timing = sys.modules.get("_timing")  # the targets the benchmark stated through _timing.target
    result = {"ok": True, "lines": lines, "error": "", "targets": list(getattr(timing, "TARGETS", None) or [])}
except SystemExit as e:
    result["error"] = f"SystemExit: exited with code {e.code} when run with arguments {argv}"
except BaseException as e:
    result["error"] = "".join(traceback.format_exception(e))
with open(result_file, "w", encoding="utf-8") as fh:
    json.dump(result, fh)
"""


@dataclass
class BenchResult:
    """One benchmark's outcome: its Markdown lines, or why it failed; the figures it wrote."""

    name: str
    ok: bool
    seconds: float
    lines: list[str] = field(default_factory=list)
    error: str = ""
    figures: list[Path] = field(default_factory=list)
    targets: list[dict[str, str]] = field(default_factory=list)

    @property
    def reason(self) -> str:
        """The last line of the error: the exception and its message."""
        tail = [line for line in self.error.strip().splitlines() if line.strip()]
        return tail[-1].strip() if tail else "failed"


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        NAME, help=HELP, description=(
            "Run every benchmarks/bench_*.py, each in its own process, and write DIR/RESULTS.md (tables of "
            "medians, spreads and ratios against hand-written NumPy, the machine, versions and thread "
            "setting) and the figures. Every implementation is checked against the reference before it is "
            "timed. Peers (torch, HIPS autograd, JAX) are timed when installed. Exit code 1 if a benchmark "
            "fails (it is reported in RESULTS.md)."),
        epilog="The suite is the benchmarks/ folder of the source repository: found next to the package "
               "(editable install) or in the current directory, or given with --suite.")
    parser.add_argument("--quick", action="store_true", help="small sizes and few repeats (under a minute)")
    parser.add_argument("--tiny", action="store_true",
                        help="the smallest sizes, only to check that everything runs (used by the tests)")
    parser.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help=f"folder for RESULTS.md and figures/ (default: the suite folder itself for a full run "
                             f"of the whole suite, else ./{DEFAULT_OUT})")
    parser.add_argument("--suite", type=Path, default=None, metavar="DIR",
                        help="folder of the bench_*.py files (default: the repository's benchmarks/)")
    parser.add_argument("--only", nargs="+", default=None, metavar="NAME",
                        help="run only these benchmarks (e.g. finite_diff or bench_finite_diff.py)")
    parser.add_argument("--threads", type=_positive_int, default=None, metavar="N",
                        help=f"BLAS/OpenMP threads for every column (default: ${THREADS_VAR} or 1)")
    parser.add_argument("--timeout", type=_positive_seconds, default=900.0, metavar="SECONDS",
                        help="stop a benchmark that runs longer than this and report it as failed (default: 900)")
    return parser


def _positive_int(text: str) -> int:
    digits = text.strip()
    if not (digits.isascii() and digits.isdigit()) or int(digits) < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return int(digits)


def _positive_seconds(text: str) -> float:
    try:
        value = float(text) if text.isascii() and "_" not in text else math.nan
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text!r}")
    return value


def threads_from_env(environ: dict[str, str] | None = None) -> int:
    """The default of ``--threads``: ``$TG_BENCH_THREADS`` if set, else 1; a bad value is a :class:`UsageError`."""
    text = (os.environ if environ is None else environ).get(THREADS_VAR)
    if text is None or text.strip() == "":
        return 1
    try:
        return _positive_int(text)
    except argparse.ArgumentTypeError:
        raise UsageError(f"{THREADS_VAR}={text!r}: must be a positive integer (it is the default of --threads; "
                         f"unset it or pass --threads N)") from None


def choose_out(args: argparse.Namespace, suite: Path) -> Path:
    """Where RESULTS.md and figures/ go: ``--out``; else the suite folder for a full run of the whole suite."""
    partial = args.quick or args.tiny or bool(args.only)
    out = Path(args.out) if args.out is not None else DEFAULT_OUT if partial else suite
    if partial and out.resolve() == suite.resolve():
        what = "--tiny" if args.tiny else "--quick" if args.quick else "--only"
        raise UsageError(f"--out {out}: the suite folder's RESULTS.md and figures/ come from full runs of the whole "
                         f"suite only, and {what} is not one; write elsewhere (the default is ./{DEFAULT_OUT})")
    return out


def find_suite(explicit: Path | None = None) -> Path:
    """The ``bench_*.py`` folder: ``explicit``, else ``benchmarks/`` beside the package, else ``./benchmarks``."""
    if explicit is not None:
        if not Path(explicit).is_dir():
            raise UsageError(f"--suite {explicit}: not a folder")
        return Path(explicit)
    import tinygrad_mvc

    candidates = [Path(tinygrad_mvc.__file__).resolve().parent.parent / "benchmarks", Path.cwd() / "benchmarks"]
    for path in candidates:
        if path.is_dir() and any(path.glob("bench_*.py")):
            return path
    raise UsageError(f"no benchmarks/ folder with bench_*.py (looked in {candidates[0]} and {candidates[1]}): the "
                     f"benchmarks ship with the source repository, not the installed package; run from a "
                     f"checkout or pass --suite DIR")


def discover(suite: Path, only: list[str] | None = None) -> list[Path]:
    """The ``bench_*.py`` files of ``suite`` in name order, or those named in ``only``."""
    found = sorted(suite.glob("bench_*.py"))
    if not found:
        raise UsageError(f"no bench_*.py files in {suite}")
    if not only:
        return found
    by_name = {p.stem.removeprefix("bench_"): p for p in found}
    picked = []
    for name in only:
        key = Path(name).stem.removeprefix("bench_")
        if key not in by_name:
            raise UsageError(f"--only {name}: no such benchmark in {suite} (have: {', '.join(sorted(by_name))})")
        picked.append(by_name[key])
    return picked


def child_env(out: Path, threads: int, tiny: bool) -> dict[str, str]:
    """The environment of each benchmark process: same threads, output folder and tinygrad_mvc for all."""
    import tinygrad_mvc

    env = dict(os.environ)
    for var in ("TG_BENCH_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    env["TG_BENCH_OUT"] = str(out / "figures")
    env["MPLBACKEND"] = "Agg"
    env.pop("TG_BENCH_TINY", None)
    if tiny:
        env["TG_BENCH_TINY"] = "1"
    root = str(Path(tinygrad_mvc.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join([root, *([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])])
    return env


def run_one(path: Path, argv: list[str], out: Path, env: dict[str, str], timeout: float) -> BenchResult:
    """Run one benchmark file in a fresh Python process; its stdout goes to ``out/logs/NAME.log``.

    Its figures are the ``.png`` files it writes or rewrites under ``out/figures``.
    """
    logs = out / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    figures_dir = out / "figures"
    figures_dir.mkdir(exist_ok=True)
    result_file = logs / f"{path.stem}.json"
    result_file.unlink(missing_ok=True)
    before = {p: p.stat().st_mtime_ns for p in figures_dir.rglob("*.png")}
    t0 = time.perf_counter()
    with open(logs / f"{path.stem}.log", "w", encoding="utf-8") as log:
        try:
            proc = subprocess.run([sys.executable, "-c", _CHILD, str(path), str(result_file), *argv], env=env,
                                  stdout=log, stdin=subprocess.DEVNULL, timeout=timeout)
            code = proc.returncode
        except subprocess.TimeoutExpired:
            code = None
    seconds = time.perf_counter() - t0
    figures = sorted(p for p in figures_dir.rglob("*.png") if before.get(p) != p.stat().st_mtime_ns)
    if code is None:
        return BenchResult(path.name, False, seconds, error=f"TimeoutError: stopped after {timeout:g} s (--timeout)",
                           figures=figures)
    try:
        data = json.loads(result_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return BenchResult(path.name, False, seconds, figures=figures,
                           error=f"the process exited with code {code} and left no result (crashed?)")
    targets = [t for t in data.get("targets", []) if isinstance(t, dict)
               and all(isinstance(t.get(k), str) for k in ("label", "target", "measured", "status"))]
    return BenchResult(path.name, bool(data["ok"]), seconds, list(data["lines"]), data["error"], figures, targets)


def _versions() -> list[str]:
    """Versions of Python, the platform, tinygrad_mvc, NumPy, matplotlib and the peers (from metadata: nothing is
    imported, so torch costs nothing here)."""
    from importlib.metadata import PackageNotFoundError, version

    def v(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "not installed"

    import tinygrad_mvc

    return [f"- Machine: {platform.machine()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"
            f" ({platform.processor() or 'unknown processor'})",
            f"- Python {platform.python_version()}, tinygrad_mvc {tinygrad_mvc.__version__}, NumPy {v('numpy')}, "
            f"matplotlib {v('matplotlib')}",
            "- Peers: " + ", ".join(f"{p} {v(p)}" for p in PEERS)]


def results_markdown(results: list[BenchResult], args: argparse.Namespace, suite: Path, seconds: float) -> str:
    """RESULTS.md: how it was run, a summary, the targets, how timing works, each benchmark's tables, failures,
    figures (with their SHA-256)."""
    mode = "tiny" if args.tiny else "quick" if args.quick else "full"
    out = Path(args.out)
    in_suite = out.resolve() == suite.resolve()
    failed = [r for r in results if not r.ok]
    command = f"tinygrad-mvc bench{' --tiny' if args.tiny else ''}{' --quick' if args.quick else ''}"
    if args.only:
        command += " --only " + " ".join(args.only)
    where = f"`{suite.name}/`" if in_suite else f"`{suite}`"
    lines = ["# tinygrad_mvc benchmark results", "",
             f"Written by `{command}` ({mode} run) on {time.strftime('%Y-%m-%d %H:%M')}: {len(results)} benchmarks "
             f"from {where} in {seconds:.1f} s. This file and `figures/` are regenerated by every run; do not edit "
             f"them by hand."]
    notes = suite / "NOTES.md"
    if notes.is_file():
        link = "NOTES.md" if in_suite else Path(os.path.relpath(notes.resolve(), out.resolve())).as_posix()
        lines[-1] += f" Commentary on the results is hand-written in [NOTES.md]({link})."
    lines += ["", *_versions(),
              f"- Threads: BLAS/OpenMP (and XLA, torch) pinned to {args.threads} for every benchmark and every column "
              f"({THREADS_VAR}={args.threads}).", "",
              "## Summary", "", "| benchmark | status | targets | wall time | figures |", "|---|---|---|---|---|"]
    for r in results:
        status = "ok" if r.ok else f"FAILED: {r.reason.replace('|', '/')}"
        figs = ", ".join(f"`{p.name}`" for p in r.figures) or "—"
        lines.append(f"| {r.name} | {status} | {_target_count(r)} | {r.seconds:.1f} s | {figs} |")
    lines += ["", "## Targets", "",
              "Each benchmark states its targets; every one is checked against this run's measurements."]
    if mode != "full":
        lines[-1] += (f" This is a {mode} run: its sizes and repeats are smaller than the targets are set for, so "
                      f"met and MISSED here are only indicative; a full run decides.")
    lines += ["", "| benchmark | target | measured | status |", "|---|---|---|---|"]
    for r in results:
        if not r.ok:
            lines.append(f"| {r.name} | its targets | the benchmark FAILED | MISSED |")
        for t in r.targets:
            cell = {k: " ".join(t[k].replace("|", "/").split()) for k in ("label", "target", "measured", "status")}
            lines.append(f"| {r.name} | {cell['label']} {cell['target']} | {cell['measured']} | {cell['status']} |")
    if not any(r.targets for r in results) and not failed:
        lines.append("| — | no benchmark stated a target | | |")
    lines += ["", "## Timing method", "",
              "- Each benchmark runs in its own Python process, one after another (never two at once), so importing "
              "torch in one does not slow the Python-level frameworks of another.",
              "- Correctness gate: every implementation's result is checked against the hand-written NumPy reference "
              "(exact derivatives to 1e-9 of the largest entry; finite differences to their truncation and "
              "round-off tolerance) before it is timed. A column that fails is listed as FAILED and not timed.",
              "- Warm-up calls first; then the columns of one case are timed round-robin (same process, same "
              "machine state), each sample repeating the call for at least 20 ms; 5 samples (quick) to 25 (full). "
              "Tables give the median time per call and the interquartile range (IQR) of the samples; ratios are "
              "medians over the hand-written NumPy median of the same case in the same run. A call that lasts "
              "over a second is timed once (marked '1 call').",
              "- Peers (torch, HIPS autograd, JAX) are timed in a second phase after ours, against their own "
              "hand-written NumPy run. Missing peers are skipped with a note.", ""]
    for r in results:
        if r.ok:
            lines += [*r.lines, ""]
    if failed:
        lines += ["## Failures", ""]
        for r in failed:
            tail = r.error.strip().splitlines()[-25:]
            lines += [f"### {r.name}", "", "```", *tail, "```", ""]
    figures = [(r, p) for r in results for p in r.figures]
    if figures:
        lines += ["## Figures", ""]
        for _, p in figures:
            lines += [f"![{p.stem}]({_relative(p, out)})", ""]
        lines += ["Each figure was written by this run:", "", "| figure | written by | SHA-256 |", "|---|---|---|"]
        for r, p in figures:
            lines.append(f"| `{_relative(p, out)}` | {r.name} | `{file_sha256(p)}` |")
    return "\n".join(lines).rstrip() + "\n"


def _target_count(r: BenchResult) -> str:
    if not r.ok:
        return "—"
    if not r.targets:
        return "none stated"
    missed = sum(t["status"] != "met" for t in r.targets)
    return f"{len(r.targets) - missed} met, {missed} MISSED" if missed else f"{len(r.targets)} met"


def _relative(p: Path, out: Path) -> str:
    return (p.relative_to(out) if p.is_relative_to(out) else p).as_posix()


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file, as RESULTS.md records it for each figure."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def run(args: argparse.Namespace) -> int:
    from ..course.jobs import prepare_out

    if args.threads is None:
        args.threads = threads_from_env()
    suite = find_suite(args.suite).resolve()
    files = discover(suite, args.only)
    out = prepare_out(choose_out(args, suite)).resolve()
    figures_dir = out / "figures"
    figures_dir.mkdir(exist_ok=True)
    for stale in figures_dir.glob("*.png"):  # every figure in the report comes from this run
        stale.unlink()
    env = child_env(out, args.threads, args.tiny)
    # --tiny implies --quick: a benchmark that does not read TG_BENCH_TINY still runs its small sizes
    argv = ["--quick"] if args.quick or args.tiny else []
    results = []
    t0 = time.perf_counter()
    for k, path in enumerate(files, 1):
        print(f"bench: [{k}/{len(files)}] {path.name} {' '.join(argv)}".rstrip(), file=sys.stderr, flush=True)
        r = run_one(path, argv, out, env, args.timeout)
        print(f"bench: [{k}/{len(files)}] {path.name}: {'ok' if r.ok else 'FAILED: ' + r.reason} "
              f"({r.seconds:.1f} s)", file=sys.stderr, flush=True)
        results.append(r)
    seconds = time.perf_counter() - t0
    args.out = out
    report = out / "RESULTS.md"
    text = results_markdown(results, args, suite, seconds).encode("utf-8")
    write_atomic(report, lambda f: f.write(text))
    for r in results:
        for p in r.figures:
            print(f"wrote {p}")
    print(f"wrote {report}")
    failed = [r.name for r in results if not r.ok]
    if failed:
        print(f"tinygrad-mvc bench: error: {len(failed)} of {len(results)} benchmarks failed: {', '.join(failed)} "
              f"(see {report})", file=sys.stderr)
        return 1
    return 0
