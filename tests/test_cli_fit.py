"""``tinygrad-mvc fit``: real subprocesses on CSV files written here, good and malformed, and the rest in process.

A good file prints the report (checked against tg.fit.curve_fit on the same numbers) and, with --plot, a
valid PNG; a malformed one exits 2 with one line naming the problem (and, for a bad cell, its line).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import tinygrad_mvc as tg
from tests.test_cli import assert_one_line_error, assert_valid_png, run_cli, written_files
from tinygrad_mvc.cli import main


def write_csv(path: Path, header: str, rows: list[tuple[object, ...]]) -> Path:
    path.write_text(header + "\n" + "".join(",".join(str(v) for v in row) + "\n" for row in rows))
    return path


def decay_data(n: int = 20, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = np.linspace(0, 4, n)
    sigma = np.full(n, 0.05)
    return x, 2 * np.exp(-1.3 * x) + 0.5 + rng.normal(0, sigma), sigma


def report_params(stdout: str) -> dict[str, tuple[float, float]]:
    """``{name: (value, stderr)}`` from the report's 'name = value ± stderr' lines."""
    found = re.findall(r"^\s+(\w+)\s+= (\S+) ± (\S+)$", stdout, flags=re.M)
    return {name: (float(v), float(s)) for name, v, s in found}


def run_in_process(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["fit", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


# --------------------------------------------------------------------------- real subprocesses

def test_fit_prints_the_report_and_writes_the_plot(tmp_path):
    x, y, sigma = decay_data()
    data = write_csv(tmp_path / "decay.csv", "x,y,sigma", list(zip(x, y, sigma)))
    proc = run_cli("fit", str(data), "--model", "a*exp(-b*x) + c", "--p0", "a=1", "b=1", "c=0",
                   "--plot", str(tmp_path / "fit.png"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    want = tg.fit.curve_fit(lambda x, p: p[0] * tg.exp(-p[1] * x) + p[2], x, y, [1.0, 1.0, 0.0], sigma=sigma)
    got = report_params(proc.stdout)
    assert list(got) == ["a", "b", "c"]
    for (value, err), p, s in zip(got.values(), want.params, want.stderr, strict=True):
        assert value == pytest.approx(p, rel=1e-5) and err == pytest.approx(s, rel=1e-5)
    assert "errors: absolute" in proc.stdout  # a sigma column: absolute by default
    assert f"dof = {x.size - 3}" in proc.stdout and "p-value" in proc.stdout
    [png] = written_files(proc.stdout)
    assert_valid_png(tmp_path / png)


def test_fit_without_sigma_and_with_named_columns(tmp_path):
    x, y, _ = decay_data(seed=1)
    data = write_csv(tmp_path / "t.csv", "# a comment line\ntime,counts,other", [(a, b, 0) for a, b in zip(x, y)])
    proc = run_cli("fit", str(data), "--model", "A*exp(-k*time) + B", "--x", "time", "--y", "counts",
                   "--p0", "A=1", "k=1", "B=0", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "errors: relative" in proc.stdout
    want = tg.fit.curve_fit(lambda x, p: p[0] * tg.exp(-p[2] * x) + p[1], x, y, [1.0, 0.0, 1.0])
    got = report_params(proc.stdout)
    assert got["A"][0] == pytest.approx(want.params[0], rel=1e-5)
    assert got["k"][1] == pytest.approx(want.stderr[2], rel=1e-5)


@pytest.mark.parametrize("content, args, message", [
    ("x,y\n1,2\n2,abc\n3,4\n", [], r"line 3, column 'y': 'abc' is not a number"),
    ("x,value\n1,2\n2,3\n3,4\n", [], r"no column 'y' for y in the header \(columns: x, value\)"),
    ("x,y\n1,2\n", ["--model", "a*x + b", "--p0", "a=1", "b=0"], r"1 data point but 2 parameters \(a, b\)"),
])
def test_malformed_csv_is_one_line_and_exit_2(tmp_path, content, args, message):
    data = tmp_path / "bad.csv"
    data.write_text(content)
    proc = run_cli("fit", str(data), *(args or ["--model", "a*x", "--p0", "a=1"]), cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert_one_line_error(proc)
    assert re.search(message, proc.stderr), proc.stderr
    assert list(tmp_path.iterdir()) == [data]  # nothing written


# --------------------------------------------------------------------------- in process

@pytest.mark.parametrize("content, args, message", [
    ("x,y\n1,2\n2,3,4\n", ["--model", "a*x", "--p0", "a=1"], r"line 3: 3 cells but the header has 2"),
    ("", ["--model", "a*x", "--p0", "a=1"], r"the file is empty"),
    ("x,y\n", ["--model", "a*x", "--p0", "a=1"], r"a header but no data rows"),
    ("x,y\n1,inf\n2,3\n", ["--model", "a*x", "--p0", "a=1"], r"line 2, column 'y': 'inf' is not a finite number"),
    ("x,y,sigma\n1,2,0.1\n2,3,0\n", ["--model", "a*x", "--p0", "a=1"], r"'sigma' must be positive.*row 2"),
    ("x,y,s\n1,2,1\n2,3,1\n", ["--model", "a*x", "--p0", "a=1", "--sigma", "w"], r"no column 'w' for sigma"),
    ("x,y\n1,2\n2,3\n", ["--model", "a*x", "--p0", "a=1", "--errors", "absolute"], r"needs a sigma column"),
    ("x,y\n1,2\n2,3\n", ["--model", "a*x + b", "--p0", "a=1"], r"--p0: no starting value for b"),
    ("x,y\n1,2\n2,3\n", ["--model", "a*x", "--p0", "a=1", "c=2"], r"--p0: c is not a parameter"),
    ("x,y\n1,2\n2,3\n", ["--model", "a*x", "--p0", "a=one"], r"--p0 'a=one': the value 'one' is not a number"),
    ("x,y\n1,2\n2,3\n", ["--model", "a^x", "--p0", "a=1"], r"--model: expression: '\^' is not supported"),
    ("x,y\n1,2\n2,3\n", ["--model", "2*x", "--p0", "a=1"], r"has no parameters to fit"),
    ("x,y\n1,2\n2,3\n", ["--p0", "a=1"], r"missing --model"),
    ("x,y\n1,2\n2,3\n", ["--model", "log(a - x)", "--p0", "a=0"], r"not finite at point 0"),
])
def test_bad_input_exits_2_with_one_line(tmp_path, capsys, content, args, message):
    data = tmp_path / "d.csv"
    data.write_text(content)
    code, out, err = run_in_process(capsys, str(data), *args)
    assert code == 2, out + err
    assert len(err.strip().splitlines()) == 1 and err.startswith("tinygrad-mvc fit: error:"), err
    assert re.search(message, err), err


def test_missing_file_and_missing_argument(tmp_path, capsys):
    code, _, err = run_in_process(capsys, str(tmp_path / "nope.csv"), "--model", "a*x", "--p0", "a=1")
    assert code == 2 and "cannot read" in err and "nope.csv" in err
    code, _, err = run_in_process(capsys)
    assert code == 2 and "missing DATA.csv" in err


def test_a_constant_model_and_an_unconverged_fit(tmp_path, capsys):
    data = write_csv(tmp_path / "c.csv", "x,y,sigma", [(i, 3 + 0.1 * (-1) ** i, 0.1) for i in range(6)])
    code, out, _ = run_in_process(capsys, str(data), "--model", "m", "--p0", "m=0")
    assert code == 0 and report_params(out)["m"][0] == pytest.approx(3.0, abs=1e-9)
    x, y, sigma = decay_data()
    data = write_csv(tmp_path / "d.csv", "x,y,sigma", list(zip(x, y, sigma)))
    code, out, err = run_in_process(capsys, str(data), "--model", "a*exp(-b*x) + c", "--p0", "a=1", "b=1", "c=0",
                                    "--method", "gd", "--max-iter", "3")
    assert code == 1 and "NOT CONVERGED" in out and "warning:" in err


def test_fit_is_listed_in_the_help():
    from tinygrad_mvc.cli import SUBCOMMANDS

    assert "fit" in SUBCOMMANDS
