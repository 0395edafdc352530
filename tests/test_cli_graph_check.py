"""``tinygrad-mvc graph`` and ``tinygrad-mvc check``: a few runs in real subprocesses, the rest in process.

Refused expressions must exit 2 with one line and leave nothing behind; ``check`` must exit 1 when
autodiff is wrong, which is shown by breaking a derivative rule for the length of one test.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.test_cli import assert_one_line_error, run_cli, written_files
from tinygrad_mvc import ops
from tinygrad_mvc.cli import main
from tinygrad_mvc.cli.check import DEFAULT_TOL, compare, format_table, round_off
from tinygrad_mvc.cli.graph import parse_assignments

HAS_DOT = shutil.which("dot") is not None


def gradient_lines(stdout: str) -> dict[str, float]:
    pairs = [line.split(" = ") for line in stdout.splitlines() if line.startswith("df/d")]
    return {name: float(value) for name, value in pairs}


def table_rows(stdout: str) -> dict[str, list[str]]:
    """``{"d2/dx dy": [autodiff, finite diff, abs error, rel error, status], ...}`` from check's table."""
    rows = {}
    for line in stdout.splitlines():
        if line.startswith(("d/", "d2/")):
            parts = line.split()
            n = 2 if parts[1].startswith("d") else 1  # an off-diagonal entry, "d2/dx dy", is two words
            rows[" ".join(parts[:n])] = parts[n:]
    return rows


def assert_nothing_written(folder: Path) -> None:
    assert list(folder.iterdir()) == [], f"files appeared: {list(folder.iterdir())}"


def run_main(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


# --------------------------------------------------------------------------- real subprocesses

def test_graph_writes_the_picture_and_prints_the_gradient(tmp_path):
    proc = run_cli("graph", "x*y + sin(x)", "--at", "x=1", "y=2", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert f"f(x=1, y=2) = {2 + math.sin(1):.12g}" in proc.stdout
    grads = gradient_lines(proc.stdout)
    assert grads["df/dx"] == pytest.approx(2 + math.cos(1), rel=1e-11)
    assert grads["df/dy"] == 1.0
    [path] = written_files(proc.stdout)
    path = tmp_path / path
    if HAS_DOT:
        assert path == tmp_path / "tinygrad_mvc_out" / "graph.svg"  # the default -o
        svg = path.read_text()
        assert svg.lstrip().startswith("<?xml") and "<svg" in svg and "</svg>" in svg.rstrip()[-10:]
        assert "sin" in svg and "×" in svg and "grad 1.0" in svg and proc.stderr == ""
    else:  # the DOT source and a one-line hint instead
        assert path.suffix == ".dot" and "digraph" in path.read_text()
        assert "Graphviz" in proc.stderr


@pytest.mark.parametrize("args", [
    ["exp(x*y)/(1 + z**2) - log(z)*tanh(x)", "--at", "x=0.3", "y=-1.2", "z=2"],
    ["sigmoid(x) * relu(y) + abs(x*y) + sqrt(y)", "--at", "x=-0.5", "y=1.5", "--order", "2", "--method", "complex"],
])
def test_check_agrees_on_good_expressions(tmp_path, args):
    proc = run_cli("check", *args, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = table_rows(proc.stdout)
    order2 = "--order" in args
    n = 2 if order2 else 3
    assert len(rows) == (n + n * n if order2 else n)
    assert all(row[-1] == "ok" for row in rows.values()), proc.stdout
    assert proc.stdout.rstrip().endswith("entries agree") and proc.stderr == ""
    assert_nothing_written(tmp_path)


@pytest.mark.parametrize("command, text", [
    ("graph", "__import__('os').system('touch PWNED')"),
    ("check", "open('PWNED', 'w').write('x')"),
    ("graph", "().__class__.__bases__[0].__subclasses__()"),
    pytest.param("check", "(" * 5000, id="check-5000-parens"),
])
def test_refused_expressions_exit_2_and_leave_nothing_behind(tmp_path, command, text):
    proc = run_cli(command, text, "--at", "x=1", cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert_one_line_error(proc)
    assert "expression:" in proc.stderr and proc.stdout == ""
    assert_nothing_written(tmp_path)


def test_missing_value_exits_2_in_a_subprocess(tmp_path):
    proc = run_cli("graph", "x*y", "--at", "x=1", cwd=tmp_path)
    assert proc.returncode == 2
    assert_one_line_error(proc)
    assert "no value for y" in proc.stderr
    assert_nothing_written(tmp_path)


# --------------------------------------------------------------------------- in process

@pytest.mark.parametrize("command", ["graph", "check"])
def test_help_exits_0(capsys, command):
    code, out, _ = run_main(capsys, command, "--help")
    assert code == 0 and out.startswith(f"usage: tinygrad-mvc {command} EXPR --at NAME=VALUE")
    text = " ".join(out.split())  # argparse wraps the lines
    assert "x**2, not x^2" in text and "never run as Python" in text


REFUSED = ["__import__('os').system('touch PWNED')", "x.__class__", "lambda: 0", "'a'", "x[0]", "open('f')",
           "x if y else z", "1e400", "x ^ 2", "", "(" * 5000, " " + "-" * 300 + "x", "exec('1')", "sin", "x; y"]


@pytest.mark.parametrize("command", ["graph", "check"])
def test_refused_expressions_in_process(capsys, monkeypatch, tmp_path, command):
    monkeypatch.chdir(tmp_path)
    for text in REFUSED:
        code, out, err = run_main(capsys, command, text, "--at", "x=1", "-o" if command == "graph" else "--tol",
                                  "g.svg" if command == "graph" else "1e-6")
        assert code == 2, (text, out, err)
        assert out == "" and len(err.strip().splitlines()) == 1, (text, err)
        assert err.startswith(f"tinygrad-mvc {command}: error: expression: "), err
    assert_nothing_written(tmp_path)


@pytest.mark.parametrize("at, message", [
    (["x=1"], "--at: no value for y (EXPR's variables: x, y)"),
    ([], "--at: no value for x, y"),
    (["x=1", "y=2", "z=3"], "--at: z is not a variable of EXPR (its variables: x, y)"),
    (["x=1", "y"], "--at 'y': expected NAME=VALUE"),
    (["x=1", "y="], "--at 'y=': expected NAME=VALUE"),
    (["x=1", "=2"], "--at '=2': expected NAME=VALUE"),
    (["x=1", "y=two"], "--at 'y=two': the value 'two' is not a number"),
    (["x=1", "y=1=2"], "--at 'y=1=2': the value '1=2' is not a number"),
    (["x=1", "y=inf"], "--at 'y=inf': the value must be finite"),
    (["x=1", "x=2", "y=0"], "--at 'x=2': x is given twice"),
])
@pytest.mark.parametrize("command", ["graph", "check"])
def test_bad_points_exit_2(capsys, monkeypatch, tmp_path, command, at, message):
    monkeypatch.chdir(tmp_path)
    code, out, err = run_main(capsys, command, "x*y", *(["--at", *at] if at else []))
    assert code == 2 and out == ""
    assert err.startswith(f"tinygrad-mvc {command}: error: {message}"), err
    assert len(err.strip().splitlines()) == 1
    assert_nothing_written(tmp_path)


def test_missing_expression_exits_2(capsys):
    for command in ("graph", "check"):
        code, _, err = run_main(capsys, command)
        assert code == 2 and "missing EXPR" in err


def test_at_may_be_repeated_and_values_may_be_negative(capsys, tmp_path):
    code, out, err = run_main(capsys, "graph", "x*y", "--at", "x=-1.5", "--at", "y=2e-1", "-o", str(tmp_path / "g.dot"))
    assert code == 0, err
    assert gradient_lines(out) == {"df/dx": 0.2, "df/dy": -1.5}
    assert (tmp_path / "g.dot").read_text().lstrip().startswith("digraph")


def test_graph_out_folders_are_created_and_bad_suffixes_refused(capsys, tmp_path):
    target = tmp_path / "a" / "b" / "g.dot"
    code, out, err = run_main(capsys, "graph", "exp(t)", "--at", "t=0", "-o", str(target), "--rankdir", "TB")
    assert code == 0, err
    assert f"wrote {target}" in out and "rankdir=TB" in target.read_text()
    code, out, err = run_main(capsys, "graph", "exp(t)", "--at", "t=0", "-o", str(tmp_path / "g.txt"))
    assert code == 2 and "-o" in err and "g.txt" in err and len(err.strip().splitlines()) == 1


def test_graph_of_a_constant_and_of_a_single_variable(capsys, tmp_path):
    code, out, _ = run_main(capsys, "graph", "2**3**2", "-o", str(tmp_path / "c.dot"))
    assert code == 0 and "f() = 512" in out and gradient_lines(out) == {}
    code, out, _ = run_main(capsys, "graph", "x", "--at", "x=3", "-o", str(tmp_path / "x.dot"))
    assert code == 0 and gradient_lines(out) == {"df/dx": 1.0}


def test_check_order_2_names_every_hessian_entry(capsys):
    code, out, err = run_main(capsys, "check", "x**2*y + y**3", "--at", "x=1.5", "y=-0.5", "--order", "2")
    assert code == 0, out + err
    rows = table_rows(out)
    assert set(rows) == {"d/dx", "d/dy", "d2/dx2", "d2/dx dy", "d2/dy dx", "d2/dy2"}
    assert float(rows["d2/dx dy"][1]) == pytest.approx(3.0)  # finite diff of d2/dx dy (x^2 y) = 2x
    assert float(rows["d2/dy2"][0]) == -3.0                 # autodiff of d2/dy2 (y^3) = 6y
    assert f"tol {DEFAULT_TOL['central', 2]:g}" in out


@pytest.mark.parametrize("method", ["central", "forward", "backward", "complex"])
def test_check_every_method_agrees(capsys, method):
    code, out, err = run_main(capsys, "check", "exp(-x**2/4)*sin(3*y) + 1e6*x*y", "--at", "x=0.8", "y=2",
                              "--order", "2", "--method", method)
    assert code == 0, out + err
    assert f"{method} differences" in out


# --------------------------------------------------------------------------- check can fail

def test_check_exits_1_when_a_first_derivative_rule_is_wrong(capsys, monkeypatch):
    assert run_main(capsys, "check", "sin(x) * y", "--at", "x=0.5", "y=2")[0] == 0
    monkeypatch.setattr(ops.sin, "vjps", (lambda g, out, x: g * ops.cos(x) * 1.01,))  # 1% off
    code, out, err = run_main(capsys, "check", "sin(x) * y", "--at", "x=0.5", "y=2")
    assert code == 1
    rows = table_rows(out)
    assert rows["d/dx"][-1] == "FAIL" and rows["d/dy"][-1] == "ok"
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("tinygrad-mvc check: FAIL: 1 of 2 entries disagree") and "worst d/dx" in err


def test_check_exits_1_when_only_a_second_derivative_is_wrong(capsys, monkeypatch):
    # sin's rule calls cos, so cos's rule is used only by the second derivative of sin
    monkeypatch.setattr(ops.cos, "vjps", (lambda g, out, x: g * ops.sin(x),))  # sign dropped
    assert run_main(capsys, "check", "sin(x)", "--at", "x=0.5")[0] == 0
    code, out, err = run_main(capsys, "check", "sin(x)", "--at", "x=0.5", "--order", "2")
    assert code == 1
    rows = table_rows(out)
    assert rows["d/dx"][-1] == "ok" and rows["d2/dx2"][-1] == "FAIL"
    assert "worst d2/dx2" in err


def test_check_outside_the_domain(capsys):
    code, _, err = run_main(capsys, "check", "log(x)", "--at", "x=-1")
    assert code == 2 and "log(x) is nan at x=-1" in err
    code, out, err = run_main(capsys, "check", "sqrt(x)", "--at", "x=0")  # f'(0) is infinite: refused, as in graph
    assert code == 2 and out == "" and "df/dx of sqrt(x) is inf at x=0" in err
    code, _, err = run_main(capsys, "check", "2 + 3")
    assert code == 2 and "no variables" in err
    code, _, err = run_main(capsys, "check", "x", "--at", "x=1", "--tol", "0")
    assert code == 2 and "--tol" in err


def test_compare_and_table():
    rows = compare([("d/dx", 2.0, 2.0 + 1e-9, 0.0, 0.0), ("d/dy", 1.0, 1.1, 0.0, 0.0), ("d/dz", 1.0, 1.1, 0.2, 0.0),
                    ("d/dw", math.inf, math.inf, 0.0, 0.0), ("d/dv", 1e6, 1e6 * (1 + 1e-7), 0.0, 0.0),
                    ("d/du", 1.0, 1.1, 0.0, 0.2), ("d/dt", 1.0, 1.1, 0.0, 0.01)], 1e-6)
    assert [row[-1] for row in rows] == ["ok", "FAIL", "ok", "FAIL", "ok", "inconclusive", "FAIL"]
    lines = format_table(rows).splitlines()
    assert lines[0].split() == ["entry", "autodiff", "finite", "diff", "abs", "error", "rel", "error", "fd", "error",
                                "est"]
    assert len({line.index(line.split()[1]) for line in lines[1:]}) == 1  # one column for autodiff
    assert round_off("complex", 1, 1e9, 1e-20) == 0.0
    assert round_off("central", 2, 1e6, 1e-4) > round_off("central", 1, 1e6, 1e-4) > 0
    assert round_off("central", 2, 1.0, 1e-200) == math.inf  # no OverflowError


def test_parse_assignments():
    assert parse_assignments([" a = 1", "b=-2e3"]) == {"a": 1.0, "b": -2000.0}


# --------------------------------------------------------------------------- issue 13: graph and check at the edges

def test_graph_refuses_a_bad_suffix_before_computing(tmp_path):
    proc = run_cli("graph", "x*y", "--at", "x=1", "y=2", "-o", "out.jpg", cwd=tmp_path)
    assert proc.returncode == 2 and proc.stdout == ""  # before: the value and gradient, then the error
    assert_one_line_error(proc)
    assert "-o out.jpg" in proc.stderr and ".svg, .png, .pdf, .dot" in proc.stderr
    assert_nothing_written(tmp_path)


def test_graph_refuses_a_folder_or_a_file_in_the_way(capsys, tmp_path):
    (tmp_path / "g.svg").mkdir()
    (tmp_path / "f").write_text("")
    for out, message in [(tmp_path / "g.svg", "is a folder"), (tmp_path / "f" / "g.svg", "is a file, not a folder")]:
        code, stdout, err = run_main(capsys, "graph", "x", "--at", "x=1", "-o", str(out))
        assert code == 2 and stdout == "" and f"-o {out}: " in err and message in err, err


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs /proc, where no file can be created")
def test_graph_write_errors_name_the_users_path_not_a_temporary_file():
    proc = run_cli("graph", "x", "--at", "x=1", "-o", "/proc/graph.dot")
    assert proc.returncode == 1
    assert_one_line_error(proc)
    assert "cannot write -o /proc/graph.dot" in proc.stderr and ".tmp" not in proc.stderr


@pytest.mark.parametrize("command", ["graph", "check"])
def test_nan_or_inf_value_or_gradient_is_refused_the_same_way(tmp_path, command):
    proc = run_cli(command, "log(x)", "--at", "x=-1", cwd=tmp_path)
    assert proc.returncode == 2 and proc.stdout == ""  # before, graph printed nan and exited 0
    assert_one_line_error(proc)
    assert f"tinygrad-mvc {command}: error: log(x) is nan at x=-1" in proc.stderr
    proc = run_cli(command, "sqrt(x)", "--at", "x=0", cwd=tmp_path)
    assert proc.returncode == 2 and proc.stdout == ""
    assert f"tinygrad-mvc {command}: error: df/dx of sqrt(x) is inf at x=0" in proc.stderr
    assert_nothing_written(tmp_path)


def test_check_overflow_in_the_differences_is_explained_with_exit_2():
    proc = run_cli("check", "x", "--at", "x=1e300", "--order", "2")
    assert proc.returncode == 2, proc.stdout + proc.stderr  # before: OverflowError, exit 1 ("disagree")
    assert_one_line_error(proc)
    assert "finite differences overflow at x=1e+300" in proc.stderr and "OverflowError" not in proc.stderr


def test_check_says_inconclusive_where_differences_cannot_resolve_the_point():
    proc = run_cli("check", "sin(x)", "--at", "x=1e8")
    assert proc.returncode == 2, proc.stdout + proc.stderr  # before: FAIL, exit 1, though autodiff is right
    assert "steps (h*max(1,|x|), h = 6.06e-06): x 606" in proc.stdout
    assert table_rows(proc.stdout)["d/dx"][-1] == "inconclusive"
    assert float(table_rows(proc.stdout)["d/dx"][0]) == pytest.approx(math.cos(1e8), rel=1e-9)
    assert proc.stderr.startswith("tinygrad-mvc check: inconclusive: finite differences cannot resolve this point")
    assert len(proc.stderr.strip().splitlines()) == 1
    # the complex step needs no relative step: there the check passes
    code = run_cli("check", "sin(x)", "--at", "x=1e8", "--method", "complex")
    assert code.returncode == 0 and "steps (h = 1e-20): x 1e-20" in code.stdout


def test_a_wrong_rule_still_fails_where_the_point_is_resolvable(capsys, monkeypatch):
    monkeypatch.setattr(ops.sin, "vjps", (lambda g, out, x: g * ops.cos(x) * 1.001,))
    code, out, err = run_main(capsys, "check", "sin(x)", "--at", "x=30")
    assert code == 1 and table_rows(out)["d/dx"][-1] == "FAIL"


def test_truncation_estimates_follow_taylor():
    from tinygrad_mvc.cli.check import higher_partials, needed_partials, truncation
    from tinygrad_mvc.expr import parse

    point = {"x": 2.0, "y": 3.0}
    need = needed_partials("central", 1, 2) | needed_partials("central", 2, 2) | needed_partials("forward", 2, 2)
    partial = higher_partials(parse("x**4 * y"), point, need)
    assert partial[0, 0, 0] == 24 * 2 * 3 and partial[1, 1, 1] == 0 and partial[0, 0, 0, 1] == 24 * 2
    assert partial[0, 0, 1] == 12 * 4 and partial[0, 1, 1] == 0
    s = np.array([1e-3, 2e-3])
    assert truncation("central", (0,), s, s, partial) == pytest.approx(2 * 1e-6 / 6 * 144)
    assert truncation("central", (0, 1), s, s, partial) == pytest.approx(2 * 1e-6 * 48 / 6)
    assert truncation("forward", (0, 1), s, s, partial) == pytest.approx(2 * 1e-3 * 48 / 2)


def test_expressions_know_pi_e_and_every_function_of_the_table(capsys, tmp_path):
    from tinygrad_mvc.expr import FUNCTIONS

    proc = run_cli("check", "--help")
    text = " ".join(proc.stdout.split())
    assert "the constants pi and e" in text
    assert f"functions {' '.join(FUNCTIONS)}." in text and "softplus" in FUNCTIONS
    code, out, err = run_main(capsys, "graph", "pi*x + e + softplus(x)", "--at", "x=0", "-o", str(tmp_path / "g.dot"))
    assert code == 0, err
    assert f"= {math.e + math.log(2):.12g}" in out
    assert gradient_lines(out)["df/dx"] == pytest.approx(math.pi + 0.5, rel=1e-11)


def test_variables_are_listed_in_the_order_of_at(capsys, tmp_path):
    proc = run_cli("graph", "x*y + z", "--at", "z=3", "y=2", "x=1", "-o", str(tmp_path / "g.dot"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == "f(z=3, y=2, x=1) = 5"
    assert list(gradient_lines(proc.stdout)) == ["df/dz", "df/dy", "df/dx"]
    code, out, _ = run_main(capsys, "check", "x*y", "--at", "y=2", "x=1")
    assert code == 0 and out.startswith("f(y=2, x=1) = 2") and list(table_rows(out)) == ["d/dy", "d/dx"]
    code, _, err = run_main(capsys, "check", "b*x + a", "--at", "q=1")
    assert "no value for b, x, a" in err  # in the order of the text, not sorted


def test_unclosed_parenthesis_points_at_the_parenthesis():
    proc = run_cli("graph", "2 * sin(x", "--at", "x=1")
    assert proc.returncode == 2
    assert "'(' is never closed at column 8" in proc.stderr


@pytest.mark.parametrize("value", ["١", "３", "𝟏", "1_000"])
def test_at_values_are_read_like_numbers_in_expressions(capsys, value):
    code, out, err = run_main(capsys, "check", "x", "--at", f"x={value}")
    assert code == 2 and out == "" and f"the value {value!r} is not a number: " in err


@pytest.mark.parametrize("name", ["tinygrad_mvc.cli.check", "tinygrad_mvc.cli.graph"])
def test_docstring_examples_of_graph_and_check(name):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


# ----------------------------------------------------------------------------- graph --animate (issue 14)

@pytest.mark.skipif(not HAS_DOT, reason="the animation is laid out by Graphviz's dot")
def test_graph_animate_writes_the_page_and_the_gif_with_the_expressions_names(tmp_path):
    from PIL import Image

    page, gif = tmp_path / "b.html", tmp_path / "b.gif"
    assert main(["graph", "x*y + sin(x)", "--at", "x=1", "y=2", "-o", str(tmp_path / "g.dot"),
                 "--animate", str(page)]) == 0
    text = page.read_text()
    assert text.count("<svg") == 1 and "<script src" not in text
    # the variables by name, ops as symbols, the chain rule's numbers: dsin/dx = cos 1 on the edge out of x
    assert ">x<" in text and ">y<" in text and "×" in text and f"×{math.cos(1):.4g}" in text
    dot = (tmp_path / "g.dot").read_text()
    assert "grad 1.0" in dot and f"{math.cos(1):.4g}" in dot  # output grad 1, local derivative on the edge
    assert main(["graph", "x*y", "--at", "x=1", "y=2", "-o", str(tmp_path / "g.dot"), "--animate", str(gif)]) == 0
    with Image.open(gif) as im:
        assert im.n_frames == 5 and max(im.size) < 2000  # inputs, x×y; output grad 1, at ×, done


def test_graph_animate_refuses_a_bad_suffix_before_any_work(tmp_path, capsys):
    assert main(["graph", "x*y", "--at", "x=1", "y=2", "-o", str(tmp_path / "g.dot"),
                 "--animate", str(tmp_path / "b.mp4")]) == 2
    err = capsys.readouterr().err
    assert "--animate" in err and ".html, .gif" in err and not (tmp_path / "g.dot").exists()
