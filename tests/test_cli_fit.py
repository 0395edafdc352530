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
    """``{name: (value, stderr)}`` from the report's 'name = value ± stderr' (or '(v ± s)e-07') lines."""
    found = re.findall(r"^\s+(\w+)\s+= \(?(\S+) ± ([^\s)]+)\)?(e[-+]\d+)?$", stdout, flags=re.M)
    return {name: (float(v + e), float(s + e)) for name, v, s, e in found}


def report_texts(stdout: str) -> dict[str, tuple[str, str]]:
    """``{name: (value text, stderr text)}`` as printed, for the rounding."""
    return {name: (v, s) for name, v, s in re.findall(r"^\s+(\w+)\s+= (\S+) ± (\S+)$", stdout, flags=re.M)}


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
        # rounded together to the uncertainty's two significant digits
        assert abs(value - p) <= 0.05 * s and err == pytest.approx(s, rel=0.05)
    assert "errors: absolute" in proc.stdout  # a sigma column: absolute by default
    assert f"dof = {x.size - 3}" in proc.stdout and "p-value" in proc.stdout
    assert "columns: x = 'x', y = 'y', sigma = 'sigma'" in proc.stdout and proc.stderr == ""
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
    assert list(got) == ["A", "k", "B"]  # the order of --p0
    assert got["A"][0] == pytest.approx(want.params[0], abs=0.05 * want.stderr[0])
    assert got["k"][1] == pytest.approx(want.stderr[2], rel=0.05)
    assert "columns: x = 'time', y = 'counts', sigma: none" in proc.stdout
    assert proc.stderr == "warning: column 'other' is not used by the fit\n"


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
    ("x,y\n1,2\n2,3\n", ["--model", "a*x", "--p0", "a=１"], r"--p0 'a=１': the value '１' is not a number: '１' is not "
                                                          r"an ASCII digit"),
    ("x,y\n1,2\n2,3\n", ["--model", "a*x", "--p0", "a=1_0"], r"--p0 'a=1_0'.*'_' digit separators"),
    ("x,y\n1,2\n2,3\n", ["--model", "z*x + a", "--p0", "q=1"], r"no starting value for z, a \(EXPR's parameters: z, "
                                                               r"a\)"),
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


# --------------------------------------------------------------------------- issue 13: bounded, honest CSV input

LINE = ["--model", "a*x + b", "--p0", "a=1", "b=0"]
LINE_DATA = "x,y\n0,1.1\n1,2.9\n2,5.2\n3,6.8\n"


def assert_exit_2(proc, *parts: str) -> None:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert_one_line_error(proc)
    for part in parts:
        assert part in proc.stderr, proc.stderr
    assert proc.stdout == ""


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero here")
def test_dev_zero_is_refused_at_once_without_growing():
    # before: read_text() of an endless file grew to 24 GB; now one bounded line is read and refused
    proc = run_cli("fit", "/dev/zero", *LINE)
    assert_exit_2(proc, "/dev/zero line 1", "--max-line-length")
    # a stream has no size to check up front: the byte count stops it, however long a line may be
    proc = run_cli("fit", "/dev/zero", *LINE, "--max-line-length", "100000000", "--max-bytes", "5000")
    assert_exit_2(proc, "/dev/zero", "larger than 5000 bytes", "--max-bytes")


def test_a_20_mb_line_names_the_file_and_the_limit(tmp_path):
    data = tmp_path / "long.csv"
    data.write_bytes(b"x,y\n1," + b"9" * 20_000_000 + b"\n")
    proc = run_cli("fit", str(data), *LINE)
    assert_exit_2(proc, f"{data} line 2", "longer than 1000000 bytes", "--max-line-length")
    # a quoted cell over many short lines is bounded by the same limit
    data.write_text('x,y\n1,"' + "1\n" * 600 + '"\n')
    code_proc = run_cli("fit", str(data), *LINE, "--max-line-length", "1000")
    assert_exit_2(code_proc, f"{data} line 2", "a cell longer than 1000 bytes", "--max-line-length")


def test_the_byte_and_row_limits_name_their_options(tmp_path, capsys):
    data = tmp_path / "d.csv"
    data.write_text(LINE_DATA)
    code, out, err = run_in_process(capsys, str(data), *LINE, "--max-bytes", "20")
    assert code == 2 and f"{data}: {len(LINE_DATA)} bytes, larger than the limit of 20 (--max-bytes N" in err, err
    code, out, err = run_in_process(capsys, str(data), *LINE, "--max-rows", "3")
    assert code == 2 and "more than 3 data rows, the limit (--max-rows N raises it)" in err, err
    assert run_in_process(capsys, str(data), *LINE, "--max-rows", "4")[0] == 0
    code, out, err = run_in_process(capsys, str(data), *LINE, "--max-rows", "0")
    assert code == 2 and "--max-rows" in err


def test_a_quoted_cell_over_two_lines_is_one_cell_not_12(tmp_path):
    data = tmp_path / "q.csv"
    data.write_text('x,y\n0,1\n1,"1\n2"\n2,3\n3,4\n')
    proc = run_cli("fit", str(data), *LINE)
    assert_exit_2(proc, f"{data} lines 3-4, column 'y'", r"'1\n2' is not a number")
    # quoted cells are read as CSV: a separator or a line break inside a note, and line numbers stay true
    data.write_text('x,y,note\n0,1.1,"a, b"\n1,2.9,"two\n\nlines"\n2,5.2,\n3,x6.8,\n')
    proc = run_cli("fit", str(data), *LINE)
    assert_exit_2(proc, f"{data} line 7, column 'y': 'x6.8' is not a number")


def test_duplicate_header_names_are_refused(tmp_path):
    data = tmp_path / "dup.csv"
    data.write_text("x,y,y\n0,1,2\n1,2,3\n2,3,4\n")
    proc = run_cli("fit", str(data), *LINE)
    assert_exit_2(proc, f"{data} line 1: the header names column 'y' twice (columns 2 and 3)")


@pytest.mark.parametrize("cell", ["١", "３", "𝟏", "1_000", "2,5"])
def test_non_ascii_digits_and_separators_are_not_numbers(tmp_path, capsys, cell):
    data = tmp_path / "d.csv"
    data.write_text(f'x,y\n0,1\n1,"{cell}"\n2,3\n')
    code, out, err = run_in_process(capsys, str(data), *LINE)
    assert code == 2 and out == "", err
    assert f"line 3, column 'y': {cell!r} is not a number: " in err, err


def test_non_ascii_digits_are_refused_in_a_subprocess_too(tmp_path):
    data = tmp_path / "d.csv"
    data.write_text("x,y\n0,1\n1,٣\n2,3\n")  # float('٣') is 3.0
    assert_exit_2(run_cli("fit", str(data), *LINE), "line 3, column 'y': '٣' is not a number")


@pytest.mark.parametrize("content, hint", [
    ("x;y\n0;1\n1;2\n2;3\n", "the header has one column 'x;y': is the separator ';'? (--delimiter ';')"),
    ("x\ty\n0\t1\n1\t2\n2\t3\n", "is the separator tab? (--delimiter tab)"),
    ("0,1\n1,2\n2,3\n", "the first row ('0,1') looks like data: the file needs a header row"),
])
def test_other_separators_and_headerless_files_get_a_hint(tmp_path, content, hint):
    data = tmp_path / "d.csv"
    data.write_text(content)
    assert_exit_2(run_cli("fit", str(data), *LINE), "no column 'x' for x in the header", hint)


def test_the_delimiter_option(tmp_path, capsys):
    data = tmp_path / "d.csv"
    data.write_text("x;y\n0;1.1\n1;2.9\n2;5.2\n3;6.8\n")
    code, out, err = run_in_process(capsys, str(data), *LINE, "--delimiter", ";")
    assert code == 0, err
    assert report_params(out)["a"][0] == pytest.approx(1.94, abs=0.01)
    data.write_text("x\ty\n0\t1.1\n1\t2.9\n2\t5.2\n3\t6.8\n")
    assert run_in_process(capsys, str(data), *LINE, "--delimiter", "tab")[0] == 0
    code, _, err = run_in_process(capsys, str(data), *LINE, "--delimiter", "ab")
    assert code == 2 and "--delimiter" in err


def test_a_misspelt_sigma_column_is_named_with_the_nearest_name(tmp_path):
    x, y, sigma = decay_data()
    data = write_csv(tmp_path / "d.csv", "x,y,sigam", list(zip(x, y, sigma)))
    proc = run_cli("fit", str(data), "--model", "a*exp(-b*x) + c", "--p0", "a=1", "b=1", "c=0")
    assert proc.returncode == 0, proc.stderr
    assert "columns: x = 'x', y = 'y', sigma: none" in proc.stdout
    assert ("warning: column 'sigam' is not used by the fit; did you mean 'sigma'? (--sigma sigam uses it as the "
            "uncertainties)") in proc.stderr
    proc = run_cli("fit", str(data), "--model", "a*exp(-b*x) + c", "--p0", "a=1", "b=1", "c=0", "--sigma", "sigam")
    assert proc.returncode == 0 and "sigma = 'sigam'" in proc.stdout and "errors: absolute" in proc.stdout
    assert proc.stderr == ""


def test_unused_columns_get_the_nearest_known_name():
    from tinygrad_mvc.cli.fit import unused_columns

    wanted = {"x": "x", "y": "y", "sigma": "sigma"}
    used = {"x": "x", "y": "y", "sigma": None}
    assert unused_columns(["x", "y", "dy", "", "T"], used, wanted) == [
        "column 'dy' is not used by the fit; --sigma dy uses it as the uncertainties",
        "column 4 has no name and is not used by the fit",
        "column 'T' is not used by the fit",
    ]
    assert unused_columns(["x", "y", "sigma", "Sigma"], dict(used, sigma="sigma"), wanted) == [
        "column 'Sigma' is not used by the fit (the nearest known name, 'sigma', is the sigma column 'sigma')"]


def test_without_sigma_there_is_no_goodness_of_fit(tmp_path):
    data = tmp_path / "line.csv"
    data.write_text("x,y\n" + "".join(f"{i},{2 * i + 1 + 0.01 * (-1) ** i}\n" for i in range(10)))
    proc = run_cli("fit", str(data), *LINE, "--plot", str(tmp_path / "fit.png"))
    assert proc.returncode == 0, proc.stderr
    assert "p-value =" not in proc.stdout and not re.search(r"^chi2 =", proc.stdout, flags=re.M)
    assert "no sigma given" in proc.stdout and "residual sum of squares" in proc.stdout
    assert re.search(r"the covariance is scaled by chi2/dof = [\d.e-]+ \(errors: relative\)", proc.stdout)
    assert_valid_png(tmp_path / "fit.png")


def test_parameters_follow_p0_and_are_rounded_with_their_uncertainty(tmp_path):
    x, y, sigma = decay_data()
    data = write_csv(tmp_path / "d.csv", "x,y,sigma", list(zip(x, y, sigma)))
    proc = run_cli("fit", str(data), "--model", "a*exp(-b*x) + c", "--p0", "c=0", "a=1", "b=1")
    assert proc.returncode == 0, proc.stderr
    texts = report_texts(proc.stdout)
    assert list(texts) == ["c", "a", "b"]
    want = tg.fit.curve_fit(lambda x, p: p[0] * tg.exp(-p[1] * x) + p[2], x, y, [1.0, 1.0, 0.0], sigma=sigma)
    for name, p, s in zip("abc", want.params, want.stderr, strict=True):
        value, err = texts[name]
        digits = err.lstrip("0.")
        assert len(digits) == 2, err                                  # two significant digits of the uncertainty
        assert len(value.split(".")[-1]) == len(err.split(".")[-1])  # the value to the same decimal place
        assert float(value) == round(p, len(err.split(".")[-1])) and float(err) == pytest.approx(s, rel=0.05)


def test_a_bad_plot_suffix_is_refused_before_reading_or_fitting(tmp_path):
    proc = run_cli("fit", str(tmp_path / "missing.csv"), *LINE, "--plot", str(tmp_path / "fit.png2"))
    assert_exit_2(proc, "--plot", "fit.png2", ".png")
    assert "missing.csv" not in proc.stderr
