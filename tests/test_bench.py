"""The benchmark suite and its runner (``tinygrad-mvc bench``), the correctness gate, and ``tg.viz.plot_fd_error``.

The suite runs here at ``--tiny`` sizes: the point is that every benchmark runs and writes its
files, not its timings (those belong in benchmarks/RESULTS.md, never in a test).
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import early_result
from test_cli import assert_one_line_error, assert_valid_png, run_cli, written_files

import tinygrad_mvc as tg
from tinygrad_mvc.cli import bench as bench_cli
from tinygrad_mvc.viz.fd_error import FDErrorCurves, fd_error_curves, plot_fd_error

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "benchmarks"


@pytest.fixture(scope="module")
def timing():
    """``benchmarks/_timing.py`` (not a package module: imported by path, as the benchmarks do)."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import _timing
        yield _timing
    finally:
        sys.path.remove(str(BENCHMARKS))


@pytest.fixture()
def bench_fd(monkeypatch):
    """``benchmarks/bench_finite_diff.py`` in this process, with the peers switched off (importing torch here
    would slow every later test)."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import bench_finite_diff

    monkeypatch.setattr(bench_finite_diff, "_peers", lambda: [])
    return bench_finite_diff


# --------------------------------------------------------------------------- the whole suite, tiny

def EARLY_WORK(base: Path):  # noqa: N802 (conftest's name: started as soon as the module is collected)
    """The tiny suite run (the longest test here: it waits on one benchmark process after another)."""
    out = base / "bench"
    return run_cli("bench", "--tiny", "--out", str(out)), out


def test_tiny_suite_writes_results_and_valid_pngs():
    proc, out = early_result(sys.modules[__name__])
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = out / "RESULTS.md"
    assert report.is_file()
    text = report.read_text()
    discovered = sorted(p.name for p in BENCHMARKS.glob("bench_*.py"))
    for name in discovered:  # every bench_*.py joined, and ran
        assert f"| {name} | ok |" in text, name
    for needle in ("## Timing method", "median", "IQR", "ratio to hand-written NumPy", "Threads: BLAS/OpenMP",
                   "NumPy 2", "Peers:", "## Finite differences against autodiff", "Crossover", "Asymptotic ratio",
                   "| exp(x)·sin(x) at x = 1 | central |", "## Framework overhead", "## Transforms on Rosenbrock",
                   "malloc: glibc default, as users get it", "logsumexp(z) − z[rows, labels] written by hand"):
        assert needle in text, needle
    assert "FAILED the correctness gate" not in text and "## Failures" not in text
    pngs = sorted((out / "figures").glob("*.png"))
    assert {p.name for p in pngs} >= {"fd_accuracy.png", "fd_cost.png", "fd_hessian.png"}
    for path in pngs:
        assert_valid_png(path)
        assert f"](figures/{path.name})" in text  # embedded in RESULTS.md
    assert figure_hashes(text) == {f"figures/{p.name}": bench_cli.file_sha256(p) for p in pngs}
    assert sorted(written_files(proc.stdout)) == sorted([*pngs, report])
    # every benchmark but the finite-difference study states targets, each shown as met or MISSED
    rows = target_rows(text)
    assert {name for name, _, _, _ in rows} == set(discovered) - {"bench_finite_diff.py"}
    assert all(status in ("met", "MISSED") for *_, status in rows)
    assert "This is a tiny run" in text and "| bench_finite_diff.py | ok | none stated |" in text


def figure_hashes(text: str) -> dict[str, str]:
    """figure path -> SHA-256, from the figures table of a RESULTS.md."""
    return dict(re.findall(r"^\| `([^`]+\.png)` \| [^|]+ \| `([0-9a-f]{64})` \|$", text, flags=re.M))


def target_rows(text: str) -> list[tuple[str, str, str, str]]:
    """(benchmark, target, measured, status) rows of the targets table of a RESULTS.md."""
    section = text.split("## Targets", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| (bench_\S+\.py) \| (.+?) \| (.+?) \| (\S+) \|$", section, flags=re.M)
    return [tuple(r) for r in rows]


# --------------------------------------------------------------------------- the runner, on a suite of its own

OK_BENCH = '''
import argparse, os
from pathlib import Path

def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots()
    ax.plot([1, 2], [3, 4])
    fig.savefig(Path(os.environ["TG_BENCH_OUT"]) / "toy.png")
    return ["## Toy benchmark", "", f"quick={args.quick} tiny={os.environ.get('TG_BENCH_TINY')} "
            f"threads={os.environ['OMP_NUM_THREADS']}"]
'''

BROKEN_BENCH = '''
def main(argv=None):
    raise ValueError("boom: the toy benchmark is broken")
'''


def toy_suite(tmp_path: Path, **files: str) -> Path:
    suite = tmp_path / "suite"
    suite.mkdir()
    for name, code in files.items():
        (suite / f"{name}.py").write_text(code)
    return suite


def test_runner_discovers_new_benchmarks_and_passes_options(tmp_path):
    suite = toy_suite(tmp_path, bench_toy=OK_BENCH, helper_not_a_bench="raise SystemExit(3)")
    out = tmp_path / "out"
    proc = run_cli("bench", "--quick", "--suite", str(suite), "--out", str(out), "--threads", "2")
    assert proc.returncode == 0, proc.stderr
    text = (out / "RESULTS.md").read_text()
    assert "| bench_toy.py | ok |" in text and "## Toy benchmark" in text
    assert "quick=True tiny=None threads=2" in text
    assert "helper_not_a_bench" not in text
    assert_valid_png(out / "figures" / "toy.png")
    assert "![toy](figures/toy.png)" in text


def test_a_failing_benchmark_is_reported_and_exits_1(tmp_path):
    suite = toy_suite(tmp_path, bench_toy=OK_BENCH, bench_broken=BROKEN_BENCH)
    out = tmp_path / "out"
    proc = run_cli("bench", "--tiny", "--suite", str(suite), "--out", str(out))
    assert proc.returncode == 1
    text = (out / "RESULTS.md").read_text()
    assert "| bench_broken.py | FAILED: ValueError: boom: the toy benchmark is broken |" in text
    assert "## Failures" in text and "Traceback" in text  # the end of the traceback, for whoever fixes it
    assert "| bench_toy.py | ok |" in text and "## Toy benchmark" in text  # the others still ran
    assert "tiny=1" in text
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("tinygrad-mvc bench: error: 1 of 2 benchmarks failed: bench_broken.py")


def test_a_benchmark_without_main_or_with_bad_options_fails(tmp_path):
    suite = toy_suite(tmp_path, bench_nomain="x = 1",
                      bench_strict="import argparse\ndef main(argv):\n    argparse.ArgumentParser().parse_args(argv)\n"
                                   "    return ['## strict']\n")
    proc = run_cli("bench", "--quick", "--suite", str(suite), "--out", str(tmp_path / "out"))
    assert proc.returncode == 1
    text = (tmp_path / "out" / "RESULTS.md").read_text()
    assert "| bench_nomain.py | FAILED: TypeError: bench_nomain.py has no main(argv) -> list[str] |" in text
    assert "| bench_strict.py | FAILED: SystemExit: exited with code 2" in text


def test_only_and_missing_suite_are_usage_errors(tmp_path):
    proc = run_cli("bench", "--only", "nope", "--out", str(tmp_path / "out"))
    assert proc.returncode == 2
    assert_one_line_error(proc)
    assert "no such benchmark" in proc.stderr and "finite_diff" in proc.stderr
    proc = run_cli("bench", "--suite", str(tmp_path / "absent"), "--out", str(tmp_path / "out"))
    assert proc.returncode == 2
    assert_one_line_error(proc)


def test_suite_is_found_next_to_the_package_or_not_at_all(tmp_path, monkeypatch):
    assert bench_cli.find_suite() == BENCHMARKS
    monkeypatch.setattr(tg, "__file__", str(tmp_path / "site-packages" / "tinygrad_mvc" / "__init__.py"))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(bench_cli.UsageError, match="ship with the source repository"):
        bench_cli.find_suite()


# --------------------------------------------------------------------------- the correctness gate

def test_gate_rejects_a_wrong_result_and_keeps_the_right_one(timing):
    want = np.array([1.0, -2.0, 3.0])
    passed, failed = timing.gate({"right": lambda: want + 1e-13, "wrong": lambda: want * 1.001,
                                  "shape": lambda: want[:2], "raises": lambda: 1 / 0, "nan": lambda: want * np.nan},
                                 want)
    assert list(passed) == ["right"]
    assert set(failed) == {"wrong", "shape", "raises", "nan"}
    assert "max |result - reference|" in failed["wrong"] and "ZeroDivisionError" in failed["raises"]
    assert "shape (2,)" in failed["shape"] and "not finite" in failed["nan"]
    lines = timing.report("case", {"ref": (1e-3, 1e-5), "right": (2e-3, 1e-5)}, "ref", failed)
    assert any(line.startswith("| wrong | FAILED the correctness gate, not timed") for line in lines)


def test_benchmark_reports_a_wrong_gradient_as_failed_not_timed(bench_fd, monkeypatch, tmp_path):
    monkeypatch.setattr(bench_fd, "rosen_grad", lambda x: bench_fd.grad_numpy(x) * (1 + 1e-6))
    lines, summary = bench_fd.bench_cost((2, 10), repeat=1, out=tmp_path)
    rows = [line for line in lines if "tinygrad_mvc reverse mode" in line]
    assert rows and all("FAILED the correctness gate, not timed" in r for r in rows)
    assert summary == {}  # no ratio is computed from a column that failed
    assert any("| central differences (2n f evaluations) |" in line and " ms |" in line for line in lines)


def test_hand_written_finite_differences_are_right(bench_fd):
    x = np.random.default_rng(0).uniform(-1, 1, 7)
    g = bench_fd.central_differences(bench_fd.rosen_numpy, x)
    np.testing.assert_allclose(g, bench_fd.grad_numpy(x), rtol=1e-7, atol=1e-7)
    H = bench_fd.hessian_by_gradient_differences(bench_fd.grad_numpy, x)
    np.testing.assert_allclose(H, bench_fd.hessian_numpy(x), rtol=1e-8, atol=1e-7)
    assert bench_fd.crossover([10, 100, 1000], [1.0, 10.0, 100.0], [20.0, 20.0, 20.0]) == pytest.approx(200.0)
    assert bench_fd.crossover([10, 100], [5.0, 50.0], [1.0, 1.0]) is None


# --------------------------------------------------------------------------- the V shape, and plot_fd_error

def exp_sin(x):
    return np.exp(x) * np.sin(x)


def exp_sin_grad(x):
    return np.exp(x) * (np.sin(x) + np.cos(x))


@pytest.fixture(scope="module")
def curves() -> FDErrorCurves:
    return fd_error_curves(exp_sin, 1.0, exact=exp_sin_grad)


def test_v_shape_has_the_textbook_optima(curves):
    h_fwd, e_fwd = curves.best("forward")
    h_cen, e_cen = curves.best("central")
    assert 1e-10 <= h_fwd <= 1e-6 and 1e-11 < e_fwd < 1e-6      # h ~ sqrt(eps), error ~ 1e-8
    assert 1e-7 <= h_cen <= 1e-3 and 1e-14 < e_cen < 1e-9       # h ~ eps^(1/3), error ~ 1e-10
    assert e_cen < e_fwd / 10
    small = curves.steps <= 1e-8
    assert np.max(curves.errors["complex"][small]) <= 1e-15     # no cancellation: stays at round-off
    assert curves.autodiff is not None and curves.autodiff <= 1e-15
    # far from the optimum both difference quotients are far worse than autodiff
    big = curves.steps == curves.steps.max()
    assert curves.errors["forward"][big][0] > 1e-3 and curves.errors["central"][big][0] > 1e-4


def test_v_shape_slopes(curves):
    assert curves.slope("forward", 1e-4, 1e-1) == pytest.approx(1.0, abs=0.05)
    assert curves.slope("central", 1e-3, 1e-1) == pytest.approx(2.0, abs=0.05)
    assert curves.slope("complex", 1e-4, 1e-1) == pytest.approx(2.0, abs=0.05)
    assert curves.slope("forward", 1e-14, 1e-10) == pytest.approx(-1.0, abs=0.3)
    assert curves.slope("central", 1e-14, 1e-9) == pytest.approx(-1.0, abs=0.3)


def test_plot_fd_error_draws_log_axes_and_the_expected_lines(curves):
    import matplotlib.pyplot as plt

    fig = plot_fd_error(curves)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    labels = [line.get_label() for line in ax.lines]
    for want in ("forward, O(h)", "central, O(h²)", "complex step, O(h²)", "machine ε"):
        assert want in labels
    assert any(label.startswith("autodiff (reverse mode)") for label in labels)
    texts = " ".join(t.get_text() for t in ax.texts)
    assert "truncation" in texts and "round-off" in texts and "slope" in texts
    forward = ax.lines[labels.index("forward, O(h)")]
    np.testing.assert_allclose(forward.get_xdata(), curves.steps)
    plt.close(fig)


def test_plot_fd_error_from_a_function_and_from_given_errors(tmp_path):
    import matplotlib.pyplot as plt

    fig = tg.viz.plot_fd_error(lambda x: np.sum(x ** 1.5), np.array([0.5, 2.0]), methods=("central",),
                               steps=np.logspace(-1, -12, 12))
    labels = [line.get_label() for line in fig.axes[0].lines]
    assert "central, O(h²)" in labels and "forward, O(h)" not in labels
    assert not any(lab.startswith("autodiff") for lab in labels)  # no exact gradient: autodiff is the reference
    plt.close(fig)
    given = FDErrorCurves(np.array([1e-2, 1e-5, 1e-8]), {"forward": np.array([1e-2, 1e-5, 1e-8][::-1])},
                          autodiff=0.0)
    fig = plot_fd_error(given)
    fig.savefig(tmp_path / "fd.png")
    assert_valid_png(tmp_path / "fd.png")
    plt.close(fig)
    with pytest.raises(ValueError, match="give the point x"):
        plot_fd_error(exp_sin)
    with pytest.raises(ValueError, match="unknown method"):
        fd_error_curves(exp_sin, 1.0, methods=("sideways",))


def test_complex_step_is_skipped_when_f_drops_the_imaginary_part():
    def f(x):  # a cast to float somewhere inside: fine for Tensors and real arrays, loses the complex step
        return np.sum(np.sin(x.real if isinstance(x, np.ndarray) and x.dtype.kind == "c" else x))

    c = fd_error_curves(f, np.array([0.3]))
    assert "complex" in c.skipped and "complex" not in c.errors


# --------------------------------------------------------------------------- where results go, targets

TARGET_BENCH = """
from _timing import target

def main(argv=None):
    return ["## Targets toy (bench_targets.py)", "",
            target("speed ratio", 2.0, 3.0), target("size ratio", 5.0, 3.0),
            target("throughput", 0.5, 1.0, unit="", at_least=True), target("unmeasured", None, 1.0)]
"""


def toy_suite_with_timing(tmp_path: Path, **files: str) -> Path:
    suite = toy_suite(tmp_path, **files)
    shutil.copy(BENCHMARKS / "_timing.py", suite / "_timing.py")
    return suite


def run_bench(*args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess:
    full_env = dict(os.environ, MPLBACKEND="Agg", **env)
    return subprocess.run([sys.executable, "-m", "tinygrad_mvc.cli", *args], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL)


def test_targets_are_collected_and_marked_met_or_missed(tmp_path):
    suite = toy_suite_with_timing(tmp_path, bench_targets=TARGET_BENCH, bench_broken=BROKEN_BENCH)
    proc = run_cli("bench", "--quick", "--suite", str(suite), "--out", str(tmp_path / "out"))
    assert proc.returncode == 1  # the broken one; a missed target alone is not a failure
    text = (tmp_path / "out" / "RESULTS.md").read_text()
    assert target_rows(text) == [
        ("bench_broken.py", "its targets", "the benchmark FAILED", "MISSED"),
        ("bench_targets.py", "speed ratio ≤ 3x", "2.00x", "met"),
        ("bench_targets.py", "size ratio ≤ 3x", "5.00x", "MISSED"),
        ("bench_targets.py", "throughput ≥ 1", "0.50", "MISSED"),
        ("bench_targets.py", "unmeasured ≤ 1x", "not measured", "MISSED"),
    ]
    assert "| bench_targets.py | ok | 1 met, 3 MISSED |" in text
    assert "- Target: size ratio ≤ 3x: measured 5.00x, **MISSED**" in text  # in the benchmark's own section too
    assert "This is a quick run" in text


def test_a_full_run_writes_results_and_fresh_figures_into_the_suite_folder(tmp_path):
    suite = toy_suite_with_timing(tmp_path, bench_toy=OK_BENCH, bench_targets=TARGET_BENCH)
    (suite / "NOTES.md").write_text("# Notes\n")
    (suite / "figures").mkdir()
    stale = suite / "figures" / "old_colours.png"
    stale.write_bytes(b"\x89PNG stale")
    proc = run_cli("bench", "--suite", str(suite), cwd=tmp_path)  # full run, no --out
    assert proc.returncode == 0, proc.stderr
    text = (suite / "RESULTS.md").read_text()
    assert "(full run)" in text and "This is a" not in text.split("## Targets")[1].split("##")[0]
    assert "[NOTES.md](NOTES.md)" in text
    assert not stale.exists() and sorted(p.name for p in (suite / "figures").iterdir()) == ["toy.png"]
    assert figure_hashes(text) == {"figures/toy.png": bench_cli.file_sha256(suite / "figures" / "toy.png")}
    assert not (tmp_path / "tinygrad_mvc_out").exists()
    # a run elsewhere links the suite's notes from there
    proc = run_cli("bench", "--suite", str(suite), "--out", str(tmp_path / "elsewhere"))
    assert proc.returncode == 0, proc.stderr
    assert "[NOTES.md](../suite/NOTES.md)" in (tmp_path / "elsewhere" / "RESULTS.md").read_text()


def test_quick_tiny_and_partial_runs_never_write_into_the_suite_folder(tmp_path):
    suite = toy_suite_with_timing(tmp_path, bench_toy=OK_BENCH, bench_targets=TARGET_BENCH)
    for extra in (["--quick"], ["--tiny"], ["--only", "toy"]):
        proc = run_cli("bench", *extra, "--suite", str(suite), "--out", str(suite))
        assert proc.returncode == 2, proc.stderr
        assert_one_line_error(proc)
        assert "full runs of the whole suite only" in proc.stderr
    assert not (suite / "RESULTS.md").exists()
    proc = run_cli("bench", "--only", "toy", "--suite", str(suite), cwd=tmp_path)  # default: ./tinygrad_mvc_out/bench
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "tinygrad_mvc_out" / "bench" / "RESULTS.md").is_file()
    assert not (suite / "RESULTS.md").exists()


def test_a_bad_tg_bench_threads_is_an_error_of_bench_only(tmp_path):
    proc = run_bench("--version", TG_BENCH_THREADS="abc")
    assert proc.returncode == 0 and proc.stdout == f"tinygrad-mvc {tg.__version__}\n" and proc.stderr == ""
    suite = toy_suite(tmp_path, bench_toy=OK_BENCH)
    for bad in ("abc", "١"):
        proc = run_bench("bench", "--quick", "--suite", str(suite), "--out", str(tmp_path / "out"),
                         TG_BENCH_THREADS=bad)
        assert proc.returncode == 2, (bad, proc.stderr)
        assert_one_line_error(proc)
        assert "TG_BENCH_THREADS" in proc.stderr and repr(bad) in proc.stderr
    proc = run_bench("bench", "--quick", "--suite", str(suite), "--out", str(tmp_path / "out"), "--threads", "2",
                     TG_BENCH_THREADS="abc")  # an explicit --threads does not read it
    assert proc.returncode == 0, proc.stderr
    proc = run_bench("bench", "--quick", "--suite", str(suite), "--out", str(tmp_path / "out"), TG_BENCH_THREADS="3")
    assert proc.returncode == 0, proc.stderr
    assert "threads=3" in (tmp_path / "out" / "RESULTS.md").read_text()


@pytest.mark.parametrize("option, value", [("--timeout", "-1"), ("--timeout", "0"), ("--timeout", "inf"),
                                           ("--threads", "0")])
def test_timeout_and_threads_must_be_positive(tmp_path, option, value):
    proc = run_cli("bench", "--tiny", option, value, "--out", str(tmp_path / "out"))
    assert proc.returncode == 2
    assert_one_line_error(proc)
    assert option in proc.stderr and "positive" in proc.stderr
    assert not (tmp_path / "out").exists()  # refused before anything ran


def test_the_committed_results_are_one_full_run_with_its_own_figures():
    report = BENCHMARKS / "RESULTS.md"
    text = report.read_text(encoding="utf-8")
    assert text.startswith("# tinygrad_mvc benchmark results\n")
    assert "Written by `tinygrad-mvc bench` (full run)" in text, "RESULTS.md must come from a full run"
    for path in sorted(BENCHMARKS.glob("bench_*.py")):
        assert f"| {path.name} | ok |" in text, path.name
    committed = {f"figures/{p.name}": bench_cli.file_sha256(p) for p in (BENCHMARKS / "figures").glob("*.png")}
    assert committed, "benchmarks/figures/ is empty"
    assert figure_hashes(text) == committed, "a committed figure does not come from the run RESULTS.md reports"
    for rel in committed:
        assert f"]({rel})" in text
    assert "[NOTES.md](NOTES.md)" in text and (BENCHMARKS / "NOTES.md").is_file()
    assert all(status in ("met", "MISSED") for *_, status in target_rows(text)) and target_rows(text)


def test_target_lines(timing):
    assert timing.target("a", 1.0, 2.0).endswith("measured 1.00x, **met**")
    assert timing.target("a", 3.0, 2.0).endswith("**MISSED**")
    assert timing.target("a", 3.0, 2.0, at_least=True, unit="").endswith("measured 3.00, **met**")
    assert timing.target("a", float("nan"), 2.0, missing="failed the gate").endswith(
        "measured failed the gate, **MISSED**")
    assert timing.TARGETS[-1] == {"label": "a", "target": "≤ 2x", "measured": "failed the gate", "status": "MISSED"}
    lines = timing.report("case", {"ref": (1e-3, 0.0), "ours": (4e-3, 0.0)}, "ref", {"bad": "wrong"},
                          targets={"ours": 3.0, "bad": 3.0})
    assert lines[-2] == "- Target: ours / ref, case ≤ 3x: measured 4.00x, **MISSED**"
    assert lines[-1] == "- Target: bad / ref, case ≤ 3x: measured failed the correctness gate, **MISSED**"


# --------------------------------------------------------------------------- malloc as users get it (issue 18)

_MALLOC_SCRIPT = """
import argparse, sys
sys.path.insert(0, {benchmarks!r})
from _timing import add_malloc_option, add_options, malloc_setting, report, tuned_rerun
args = add_malloc_option(add_options(argparse.ArgumentParser())).parse_args()
note = malloc_setting(args.malloc)
lines = ["## Fake (fake.py)", "", note, "", *report("case", {{"ref": (1e-3, 0.0), "ours": (2e-3, 0.0)}}, "ref",
         targets={{"ours": 3.0}}), "", "argv: " + " ".join(sys.argv[1:])]
if args.malloc == "both":
    lines += tuned_rerun(__file__, None)
print("\\n".join(lines))
"""


def test_a_tuned_run_beside_the_default_one_is_labelled_and_states_no_target(tmp_path):
    script = tmp_path / "fake.py"
    script.write_text(_MALLOC_SCRIPT.format(benchmarks=str(BENCHMARKS)))
    proc = subprocess.run([sys.executable, str(script), "--quick", "--malloc", "both"], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    default, tuned = proc.stdout.split("### The same cases with glibc's malloc tuned", 1)
    assert "malloc: glibc default, as users get it" in default and "argv: --quick --malloc both" in default
    assert "- Target: ours / ref, case ≤ 3x: measured 2.00x, **met**" in default
    assert "## Fake" not in tuned and "**met**" not in tuned and "Target" not in tuned
    assert "### case [malloc tuned]" in tuned and "- ours / ref, case: 2.00x (tuned, no target)" in tuned
    assert "argv: --quick --malloc tuned --tuned-rerun" in tuned
    glibc = sys.platform == "linux" and platform.libc_ver()[0] == "glibc"
    assert ("malloc: glibc mmap/trim thresholds raised" if glibc else "malloc: default (not glibc)") in tuned


def test_a_failing_tuned_run_is_reported_in_one_line(timing, tmp_path):
    script = tmp_path / "broken.py"
    script.write_text("raise SystemExit('no such case')\n")
    lines = timing.tuned_rerun(script, ["--malloc", "both"])
    assert len(lines) == 2 and lines[0].startswith("The tuned run (--malloc tuned, a second process) failed with exit "
                                                   "code 1") and lines[0].endswith("no such case")
