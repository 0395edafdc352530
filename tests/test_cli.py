"""The ``tinygrad-mvc`` command line, run as a user runs it: in a real subprocess.

Exit codes: 0 success, 2 bad usage (one line on stderr), 1 failure (one line, no traceback).
"""

from __future__ import annotations

import importlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import early_result

import tinygrad_mvc
from tinygrad_mvc.cli import SUBCOMMANDS, build_parser, main

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def run_cli(*args: str, cwd: Path | None = None, exe: list[str] | None = None) -> subprocess.CompletedProcess:
    cmd = (exe or [sys.executable, "-m", "tinygrad_mvc.cli"]) + list(args)
    env = dict(os.environ, MPLBACKEND="Agg")
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL)


def assert_valid_png(path: Path) -> None:
    from matplotlib.image import imread

    assert path.is_file(), f"{path} was not written"
    assert path.read_bytes()[:8] == PNG_SIGNATURE, f"{path} is not a PNG file"
    image = imread(path)  # decodes every chunk: a truncated or corrupt file fails here
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100, f"{path}: image {image.shape}"


def written_files(stdout: str) -> list[Path]:
    return [Path(line[len("wrote "):]) for line in stdout.splitlines() if line.startswith("wrote ")]


def assert_one_line_error(proc: subprocess.CompletedProcess) -> None:
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected a one-line error, got:\n{proc.stderr}"
    assert lines[0].startswith("tinygrad-mvc") and "error:" in lines[0], lines[0]
    assert "Traceback" not in proc.stderr


# --------------------------------------------------------------------------- help and version

def test_help_lists_every_subcommand():
    proc = run_cli("--help")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("usage: tinygrad-mvc")
    for name in SUBCOMMANDS:
        assert name in proc.stdout


def test_version():
    proc = run_cli("--version")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"tinygrad-mvc {tinygrad_mvc.__version__}\n"


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_subcommand_help(name):
    proc = run_cli(name, "--help")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"usage: tinygrad-mvc {name}")


def test_no_command_prints_help_and_exits_2():
    proc = run_cli()
    assert proc.returncode == 2
    assert proc.stderr.startswith("usage: tinygrad-mvc")
    assert "commands:" in proc.stderr and proc.stdout == ""


@pytest.mark.parametrize("args", [["nope"], ["--bogus"], ["demo", "--bogus"], ["demo", "extra"], ["demo", "--out"]])
def test_bad_usage_exits_2_with_one_line(args):
    proc = run_cli(*args)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert_one_line_error(proc)
    assert proc.stdout == ""


def test_bad_usage_points_at_the_subcommand_help():
    proc = run_cli("demo", "--bogus")
    assert "tinygrad-mvc demo --help" in proc.stderr


# --------------------------------------------------------------------------- demo

# The four real runs of `demo` (each trains the moons network) start together, as soon as this module is
# collected, and overlap the rest of the test run (conftest's EARLY_WORK); the tests below read their results.

def EARLY_WORK(base: Path) -> dict[str, tuple[subprocess.CompletedProcess, Path]]:  # noqa: N802 (conftest's name)
    from concurrent.futures import ThreadPoolExecutor

    no_dot = dict(os.environ, MPLBACKEND="Agg", PATH=str(Path(sys.executable).parent))  # Python, but no `dot`
    script = _console_script()
    runs = {
        "pngs": lambda d: run_cli("demo", "--out", str(d / "out")),
        "no dot": lambda d: subprocess.run([sys.executable, "-m", "tinygrad_mvc.cli", "demo", "--out", str(d / "out")],
                                           env=no_dot, capture_output=True, text=True, timeout=180,
                                           stdin=subprocess.DEVNULL),
        "two steps": lambda d: run_cli("demo", "--out", str(d / "out"), "--steps", "2"),
        "console script": (lambda d: run_cli("demo", cwd=d, exe=[script])) if script else (lambda d: None),
    }
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {}
        for name, run in runs.items():
            (base / name).mkdir()
            futures[name] = pool.submit(run, base / name)
        return {name: (future.result(), base / name) for name, future in futures.items()}


def _demo_run(name: str) -> tuple[subprocess.CompletedProcess, Path]:
    return early_result(sys.modules[__name__])[name]


def test_demo_writes_valid_pngs():
    proc, tmp_path = _demo_run("pngs")
    assert proc.returncode == 0, proc.stderr
    files = written_files(proc.stdout)
    assert files, f"demo reported no files:\n{proc.stdout}"
    assert sorted(p.name for p in files) == ["backprop.gif", "backprop.html", "decision_boundary.png", "loss.png",
                                             "neuron_graph.png"]
    for path in files:
        assert path.parent == tmp_path / "out"
        if path.suffix == ".png":
            assert_valid_png(path)
    from PIL import Image

    with Image.open(tmp_path / "out" / "backprop.gif") as gif:  # one trained neuron, forward then backward
        assert gif.n_frames >= 10 and max(gif.size) < 2000
    page = (tmp_path / "out" / "backprop.html").read_text()
    assert page.count("<svg") == 1 and "grad 1.0" in page and "<script src" not in page
    written = sorted(p.resolve() for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert written == sorted(p.resolve() for p in files)
    accuracy = re.search(r"training accuracy ([\d.]+)%", proc.stdout)
    assert accuracy and float(accuracy.group(1)) >= 97, proc.stdout
    assert f"pictures are in {(tmp_path / 'out').resolve()}" in proc.stdout


def test_demo_without_graphviz_writes_the_dot_source_and_a_hint():
    # A PATH with Python but no `dot`: the pictures from matplotlib still come, the graph as DOT.
    proc, base = _demo_run("no dot")
    out = base / "out"
    if shutil.which("dot", path=str(Path(sys.executable).parent)):
        pytest.skip("dot lives beside the Python executable here")
    assert proc.returncode == 0, proc.stderr
    assert (out / "neuron_graph.dot").read_text().startswith("digraph")
    assert not (out / "neuron_graph.png").exists()
    assert "install Graphviz" in proc.stdout and f"wrote {out / 'neuron_graph.dot'}" in proc.stdout


def test_demo_fails_with_exit_1_when_training_falls_short():
    # Two SGD steps cannot separate the moons: the job must say so and exit 1, not just draw.
    proc, _ = _demo_run("two steps")
    assert proc.returncode == 1
    assert "below 97%" in proc.stderr


def test_demo_failure_exits_1_with_one_line(tmp_path):
    not_a_dir = tmp_path / "file.txt"
    not_a_dir.write_text("x")
    proc = run_cli("demo", "--out", str(not_a_dir))
    assert proc.returncode == 1
    assert_one_line_error(proc)
    assert str(not_a_dir) in proc.stderr


def _console_script() -> str | None:
    exe = Path(sys.executable).parent / ("tinygrad-mvc.exe" if os.name == "nt" else "tinygrad-mvc")
    return str(exe) if exe.exists() else shutil.which("tinygrad-mvc")


def test_console_script_demo_default_out():
    script = _console_script()
    if script is None:
        pytest.skip("the tinygrad-mvc console script is not installed (pip install -e .)")
    assert run_cli("--version", exe=[script]).stdout.startswith("tinygrad-mvc ")
    proc, tmp_path = _demo_run("console script")
    assert proc.returncode == 0, proc.stderr
    pngs = sorted((tmp_path / "tinygrad_mvc_out").rglob("*.png"))
    assert pngs, "demo wrote nothing under ./tinygrad_mvc_out"
    for path in pngs:
        assert_valid_png(path)


# --------------------------------------------------------------------------- in process, and the layout

def test_main_in_process(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("tinygrad-mvc ")
    assert main([]) == 2
    assert main(["demo", "--bogus"]) == 2
    assert main(["--help"]) == 0


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_each_subcommand_is_one_module(name):
    module = importlib.import_module(f"tinygrad_mvc.cli.{name}")
    assert name == module.NAME
    assert isinstance(module.HELP, str) and module.HELP
    assert callable(module.add_parser) and callable(module.run)


def test_parser_builds_without_the_plotting_stack():
    code = ("import sys; from tinygrad_mvc.cli import build_parser; build_parser(); "
            "heavy = [m for m in ('matplotlib', 'graphviz', 'scipy', 'starlette', 'uvicorn') if m in sys.modules]; "
            "assert not heavy, heavy")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


def test_build_parser_knows_every_subcommand():
    parser = build_parser()
    for name in SUBCOMMANDS:
        assert parser.parse_args([name]).command == name


# --------------------------------------------------------------------------- issue 13

def test_python_dash_m_tinygrad_mvc_is_the_same_command(tmp_path):
    exe = [sys.executable, "-m", "tinygrad_mvc"]
    proc = run_cli("--version", exe=exe)
    assert proc.returncode == 0 and proc.stdout == f"tinygrad-mvc {tinygrad_mvc.__version__}\n", proc.stderr
    proc = run_cli("check", "x*y", "--at", "x=1", "y=2", exe=exe, cwd=tmp_path)
    assert proc.returncode == 0 and "ok: all 2 entries agree" in proc.stdout
    proc = run_cli("demo", "--bogus", exe=exe)
    assert proc.returncode == 2 and proc.stderr.startswith("tinygrad-mvc demo: error:")


def test_demo_seed_is_checked_and_named(tmp_path):
    proc = run_cli("demo", "--seed", "-1", "--out", str(tmp_path / "out"))
    assert proc.returncode == 2
    assert_one_line_error(proc)
    assert "--seed -1: must be an integer from 0 to 4294967295" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_demo_help_prints_a_plain_percent_sign():
    proc = run_cli("demo", "--help")
    assert proc.returncode == 0
    assert "97%" in proc.stdout and "97%%" not in proc.stdout
