"""Every ``demos/NAME.py`` is a thin script of a course job and runs as ``python demos/NAME.py [--out DIR]``.

Each script runs once here (writing valid PNGs and reporting every file); ``--help`` for all, the
default output folder for two. The jobs' files, captions and gallery are checked from one
``demo --all`` run in tests/test_gallery.py. Also the pieces of the derivatives and backprop demos, in process.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import early_result

from tinygrad_mvc.course import JOBS, chain_rule
from tinygrad_mvc.course import calculus as derivatives

ROOT = Path(__file__).resolve().parent.parent
DEMOS = sorted((ROOT / "demos").glob("*.py"))
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def run_demo(script: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, MPLBACKEND="Agg")
    return subprocess.run([sys.executable, str(script), *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=180, stdin=subprocess.DEVNULL)


def assert_valid_png(path: Path) -> None:
    from matplotlib.image import imread

    assert path.is_file(), f"{path} was not written"
    assert path.read_bytes()[:8] == PNG_SIGNATURE, f"{path} is not a PNG file"
    image = imread(path)
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100, f"{path}: image {image.shape}"


def test_every_job_has_a_script_and_every_script_a_job():
    assert [p.stem for p in DEMOS] == sorted(JOBS)


@pytest.mark.parametrize("script", DEMOS, ids=lambda p: p.stem)
def test_demo_is_a_thin_script_of_its_job(script):
    tree = ast.parse(script.read_text(encoding="utf-8"))
    doc = ast.get_docstring(tree)
    assert doc and f"python demos/{script.stem}.py" in doc and "tinygrad_mvc/course/" in doc
    code = tree.body[1:]  # after the docstring: the imports and the __main__ guard, nothing else
    assert len(code) == 3 and isinstance(code[-1], ast.If), ast.dump(code[-1])[:200]
    assert ast.unparse(code[-1]).endswith(f"sys.exit(script_main(JOBS['{script.stem}']))")
    assert all(isinstance(node, (ast.Import, ast.ImportFrom)) for node in code[:-1])


DEFAULT_OUT = ("derivatives", "backprop_by_hand")


def EARLY_WORK(base: Path):  # noqa: N802 (conftest's name: started as soon as the module is collected)
    """Every script's runs (``--out DIR``, ``--help``, and the default folder for two), as real subprocesses
    started together, one per core: the runs are independent and each waits mostly on its own process."""
    from concurrent.futures import ThreadPoolExecutor

    calls = {}
    for script in DEMOS:
        calls["out", script.stem] = (script, ("--out", str(base / script.stem / "out")), None)
        calls["help", script.stem] = (script, ("--help",), None)
    for name in DEFAULT_OUT:
        cwd = base / name / "cwd"
        cwd.mkdir(parents=True)
        calls["default", name] = (ROOT / "demos" / f"{name}.py", (), cwd)
    with ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1))) as pool:
        futures = {key: pool.submit(run_demo, script, *args, cwd=cwd) for key, (script, args, cwd) in calls.items()}
        return {key: (future.result(), base / key[1]) for key, future in futures.items()}


@pytest.fixture(scope="module")
def runs():
    return early_result(sys.modules[__name__])


@pytest.mark.parametrize("script", DEMOS, ids=lambda p: p.stem)
def test_demo_writes_the_pngs_it_reports(script, runs):
    proc, base = runs["out", script.stem]
    out = base / "out"
    assert proc.returncode == 0, proc.stdout + proc.stderr
    reported = [Path(line[len("wrote "):]) for line in proc.stdout.splitlines() if line.startswith("wrote ")]
    pngs = sorted(out.rglob("*.png"))
    assert pngs, f"{script.name} wrote no PNG into {out}"
    written = sorted(p.resolve() for p in out.rglob("*") if p.is_file())
    assert sorted(p.resolve() for p in reported) == written, "every file is reported, and only those"
    for path in pngs:
        assert_valid_png(path)


@pytest.mark.parametrize("script", DEMOS, ids=lambda p: p.stem)
def test_demo_help(script, runs):
    proc, _ = runs["help", script.stem]
    assert proc.returncode == 0 and f"demos/{script.stem}.py" in proc.stdout and "--out DIR" in proc.stdout
    assert JOBS[script.stem].description.split()[0] in proc.stdout


@pytest.mark.parametrize("name", DEFAULT_OUT)
def test_demo_default_out(name, runs):
    proc, base = runs["default", name]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    pngs = list((base / "cwd" / "tinygrad_mvc_out" / name).glob("*.png"))
    assert pngs, f"{name}.py without --out wrote nothing into ./tinygrad_mvc_out/{name}"


# --------------------------------------------------------------------------- the derivatives demo, in process

def test_autodiff_derivatives_of_a_cubic():
    values = derivatives.autodiff_derivatives(lambda t: t * t * t, np.array([2.0, -1.0]))
    np.testing.assert_array_equal(np.array(values), [[8.0, -1.0], [12.0, 3.0], [12.0, -6.0], [6.0, 6.0]])


def test_derivatives_match_formulas_and_differences():
    x = np.linspace(-5.0, 5.0, 41)
    ad = derivatives.autodiff_derivatives(derivatives.f, x)
    exact = derivatives.analytic(x)
    fd = derivatives.finite_diff_derivatives(derivatives.f, x)
    for k in range(4):
        np.testing.assert_allclose(ad[k], exact[k], rtol=0, atol=1e-13)
    for k in range(3):
        np.testing.assert_allclose(ad[k + 1], fd[k], rtol=0, atol=1e-7)


def test_derivatives_job_reports_failure_on_a_wrong_derivative(tmp_path, monkeypatch):
    # A formula off by a little must make the job fail (exit code 1), not just plot it.
    right = derivatives.analytic
    monkeypatch.setattr(derivatives, "analytic", lambda x: [v + 1e-6 for v in right(x)])
    result = derivatives.run(tmp_path, n=21)
    assert not result.ok and "disagree" in result.failure


# --------------------------------------------------------------------------- backprop by hand, in process

def test_backprop_by_hand_agrees_and_fails_when_the_chain_rule_is_wrong(tmp_path, monkeypatch):
    hand, (engine, _, _) = chain_rule.by_hand(chain_rule.START), chain_rule.by_engine(chain_rule.START)
    for name in hand:
        np.testing.assert_allclose(engine[name], hand[name], rtol=1e-12, atol=1e-15)
    right = chain_rule.by_hand
    # A chain rule off by 1% in one layer must make the demo fail, not just draw the bars.
    monkeypatch.setattr(chain_rule, "by_hand", lambda p: {**right(p), "b1": right(p)["b1"] * 1.01})
    result = JOBS["backprop_by_hand"].run(tmp_path)
    assert not result.ok and "disagree" in result.failure
