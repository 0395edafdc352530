"""Graph pictures: the DOT source of known graphs, rendering, the fallback without ``dot``, collapse, errors."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import graphviz
import numpy as np
import pytest
from dot_helpers import find, find_all, grad_row, parse

import tinygrad_mvc as tg
from tinygrad_mvc.viz import draw_graph, save_graph
from tinygrad_mvc.viz import graph as viz_graph

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def pairs(edges):
    """The (tail, head) of each edge."""
    return [(t, h) for t, h, _ in edges]


# --------------------------------------------------------------------------- known small graphs

def square_sum():
    x = tg.tensor([1.0, 2.0], requires_grad=True, name="x")
    return x, (x * x).sum()


def test_square_sum_before_backward_has_values_symbols_and_edges():
    x, y = square_sum()
    nodes, edges = parse(draw_graph(y))
    assert nodes == {"n0": ["x", "(2,) float64", "[1.0, 2.0]"], "n1": ["×", "(2,) float64", "[1.0, 4.0]"],
                     "n2": ["Σ", "5.0"]}  # a float64 scalar drops the "() float64" noise
    # one box per value, the op written in it; x feeds the mul twice (x * x uses it as both inputs)
    assert pairs(edges) == [("n0", "n1"), ("n0", "n1"), ("n1", "n2")]
    assert "grad" not in draw_graph(y).source


def test_a_freed_graph_raises_and_says_how_to_get_the_picture():
    x, y = square_sum()
    y.backward()
    with pytest.raises(RuntimeError, match=r"draw_graph: backward\(\) already freed.*op 'sum'.*tg\.viz\.backprop"):
        draw_graph(y)
    nodes, edges = parse(draw_graph(x))  # a leaf is still drawable, with the gradient it now holds
    assert nodes == {"n0": ["x", "(2,) float64", "[1.0, 2.0]", "grad [2.0, 4.0]"]} and edges == []


def test_retained_graph_after_backward_shows_the_leaf_gradient_in_place():
    x, y = square_sum()
    y.backward(retain_graph=True)
    nodes, _ = parse(draw_graph(y))
    assert grad_row(nodes[find(nodes, "x")]) == "[2.0, 4.0]"
    assert grad_row(nodes[find(nodes, "×")]) is None  # a non-leaf keeps no gradient without retain_grad
    nodes, _ = parse(draw_graph(y, show_data=False, show_grad=False))
    assert nodes[find(nodes, "x")] == ["x", "(2,) float64"] and "grad" not in str(nodes)


def test_fan_out_draws_two_sin_nodes_from_the_one_x():
    x = tg.tensor(0.5, requires_grad=True, name="x")
    nodes, edges = parse(draw_graph(tg.sin(x) + tg.sin(x)))
    vx = find(nodes, "x")
    sins = find_all(nodes, "sin")
    add = find(nodes, "+")
    assert len(sins) == 2 and len(nodes) == 4
    assert sorted(pairs(edges)) == sorted([(vx, sins[0]), (vx, sins[1]), (sins[0], add), (sins[1], add)])


def test_diamond_through_a_shared_non_leaf_draws_it_once():
    x = tg.tensor(1.0, requires_grad=True, name="x")
    a = tg.exp(x)
    b = a + a
    c = b + b
    nodes, edges = parse(draw_graph(c, names={"a": a, "b": b}))
    va, vb, vx = find(nodes, "a = exp"), find(nodes, "b = +"), find(nodes, "x")
    vc = find(nodes, "+")
    assert len(nodes) == 4
    assert sorted(pairs(edges)) == sorted([(vx, va), (va, vb), (va, vb), (vb, vc), (vb, vc)])


def test_constant_inputs_are_written_into_the_op():
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True, name="x")
    data = tg.tensor([4.0, 5.0, 6.0], name="data")  # a Tensor that needs no grad is a value like any other
    y = (x * 2.0 + np.array([1.0, 1.0, 1.0])) * data
    dot = draw_graph(y)
    nodes, edges = parse(dot)
    mul_two, add, vdata, vx = find(nodes, "× 2.0"), find(nodes, "+ const (3,) [1.0, 1.0, 1.0]"), find(
        nodes, "data"), find(nodes, "x")
    out = find(nodes, "×")
    assert len(nodes) == 5  # constants are no boxes of their own
    assert sorted(pairs(edges)) == sorted([(vx, mul_two), (mul_two, add), (add, out), (vdata, out)])
    assert nodes[vdata] == ["data", "(3,) float64", "[4.0, 5.0, 6.0]"]
    assert f'fillcolor="{viz_graph.CONST_FILL}"' in re.search(rf"^\s*{vdata} \[.*$", dot.source, re.M).group(0)


def test_op_options_are_shown_and_defaults_left_out():
    x = tg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    nodes, _ = parse(draw_graph(x.sum(axis=0, keepdims=True).reshape(3)[1:]))
    find(nodes, "Σ axis=0, keepdims=True")
    find(nodes, "reshape shape=(3,)")
    find(nodes, "[ ] index=1:")
    nodes, _ = parse(draw_graph(x.sum(axis=1)))
    find(nodes, "Σ axis=1")  # keepdims=False is the default: not shown


def test_ops_of_many_tensor_inputs_get_an_edge_from_each():
    x = tg.tensor([1.0, 2.0], requires_grad=True, name="x")
    y = tg.tensor([3.0, 4.0], requires_grad=True, name="y")
    z = tg.tensor([5.0, 6.0], requires_grad=True, name="z")
    nodes, edges = parse(draw_graph(tg.concatenate([x, y, z])))
    op = find(nodes, "concatenate")
    assert sorted(t for t, h in pairs(edges) if h == op) == sorted(find(nodes, n) for n in "xyz")


def test_a_graph_whose_inner_part_was_freed_shows_what_is_still_known():
    x, y = square_sum()
    y.backward()
    z = y * 3.0  # recorded after the backward that freed y's graph
    nodes, edges = parse(draw_graph(z))
    freed, mul = find(nodes, "Σ (inputs freed)"), find(nodes, "× 3.0")
    assert nodes[freed] == ["Σ (inputs freed)", "5.0"] and nodes[mul][1] == "15.0"
    assert pairs(edges) == [(freed, mul)] and len(nodes) == 2


def test_second_order_graph_of_a_gradient():
    x = tg.tensor(2.0, requires_grad=True, name="x")
    (x ** 3).backward(create_graph=True)
    dot = draw_graph(x.grad)
    nodes, edges = parse(dot)
    vx = find(nodes, "x")
    assert nodes[vx] == ["x", "2.0", "grad 12.0"]
    # the output (the last node) is 3x² = 12 and the graph reaches back to x
    out = max(nodes, key=lambda k: int(k[1:]))
    assert nodes[out][1] == "12.0" and f'{out} [label' in dot.source
    assert any(t == vx for t, _ in pairs(edges))


def test_a_leaf_alone_is_one_node():
    nodes, edges = parse(draw_graph(tg.tensor([1, 2, 3])))
    assert nodes == {"n0": ["const", "(3,) float64", "[1.0, 2.0, 3.0]"]} and edges == []


# --------------------------------------------------------------------------- names and value summaries

def test_names_mapping_labels_by_identity_and_wins_over_t_name():
    w = tg.tensor([1.0, 2.0], requires_grad=True, name="w")
    b = tg.tensor(0.5, requires_grad=True, name="b")
    twin = tg.tensor([1.0, 2.0], requires_grad=True)  # equal data, another tensor: must stay unnamed
    y = (w * twin).sum() + b
    nodes, _ = parse(draw_graph(y, names={"layer.weight": w}))
    assert nodes[find(nodes, "layer.weight")] == ["layer.weight", "(2,) float64", "[1.0, 2.0]"]
    assert nodes[find(nodes, "b")] == ["b", "0.5"]
    assert nodes[find(nodes, "input")] == ["input", "(2,) float64", "[1.0, 2.0]"]  # twin
    assert not find_all(nodes, "w")


@pytest.mark.parametrize(("data", "expected"), [
    (1 / 3, "0.3333"),
    (123456.0, "1.235e+05"),
    (2.0, "2.0"),
    ([0.5, -1.25], "[0.5, -1.25]"),
    ([[1.0, 2.0], [3.0, 4.0]], "[[1.0, 2.0], [3.0, 4.0]]"),
    (np.arange(100.0), "min 0.0 mean 49.5 max 99.0"),
    (np.zeros((0, 3)), "(empty)"),
])
def test_value_summaries(data, expected):
    nodes, _ = parse(draw_graph(tg.tensor(data)))
    assert nodes["n0"][-1] == expected


def test_markup_characters_are_escaped_in_the_html_label_and_render(tmp_path):
    name = 'w{0}|<a> "q" & \\b\\'
    x = tg.tensor(0.5, requires_grad=True, name=name)
    dot = draw_graph(x * 2.0)
    assert "<B>w{0}|&lt;a&gt; &quot;q&quot; &amp; \\\\b\\\\</B>" in dot.source  # backslashes doubled for dot
    assert find(parse(dot)[0], name)
    path, hint = save_graph(dot, tmp_path / "escaped.svg")
    assert hint is None
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", path.read_text())
    assert 'w{0}|&lt;a&gt; &quot;q&quot; &amp; \\b\\' in texts and "0.5" in texts


# --------------------------------------------------------------------------- large graphs

def chain(n: int) -> tuple[tg.Tensor, tg.Tensor]:
    x = tg.tensor(0.1, requires_grad=True, name="x0")
    y = x
    for i in range(n):
        y = tg.tanh(y) if i % 2 else y * 1.01
    return x, y


def summary_of(nodes):
    return nodes["earlier"][0]


def test_large_graph_collapses_the_far_past_into_a_summary_node():
    _, y = chain(400)
    dot = draw_graph(y, max_nodes=30)
    nodes, edges = parse(dot)
    drawn = len(nodes) - 1
    assert drawn == 30
    summary = summary_of(nodes)
    assert f"… {401 - drawn} earlier tensors" in summary
    assert "tanh×" in summary and "mul×" in summary and "1 leaf: x0" in summary
    # the output is kept, with its value, and the summary feeds the oldest drawn node
    assert nodes["n400"] == ["tanh", viz_graph._num(y.item())]
    assert [(t, h) for t, h in pairs(edges) if t == "earlier"] == [("earlier", f"n{401 - drawn}")]
    assert sorted(int(k[1:]) for k in nodes if k != "earlier") == list(range(401 - drawn, 401))


def test_default_max_nodes_is_about_a_hundred_and_none_draws_everything():
    _, y = chain(300)
    nodes, _ = parse(draw_graph(y))
    assert 90 <= len(nodes) <= 101 and "earlier" in nodes
    nodes, _ = parse(draw_graph(y, max_nodes=None))
    assert len(nodes) == 301 and "earlier" not in nodes


def test_a_10000_op_chain_draws_without_recursion_and_fast():
    _, y = chain(10_000)
    start = time.perf_counter()
    nodes, _ = parse(draw_graph(y))
    assert time.perf_counter() - start < 5.0
    assert len(nodes) <= 101
    assert re.search(r"… (\d+) earlier", summary_of(nodes)).group(1) == str(10_001 - (len(nodes) - 1))
    # a backward through it records fine too: 10 000 levels deep, no recursion
    trace = tg.viz.backprop(y)
    assert len(trace.order) == 10_001


# --------------------------------------------------------------------------- save_graph

@pytest.fixture
def small_graph():
    _, y = square_sum()
    return draw_graph(y)


def test_save_svg_png_pdf(tmp_path, small_graph):
    for suffix, check in [(".svg", lambda b: b.startswith(b"<?xml") or b"<svg" in b),
                          (".png", lambda b: b.startswith(PNG_SIGNATURE)),
                          (".pdf", lambda b: b.startswith(b"%PDF"))]:
        path, hint = save_graph(small_graph, tmp_path / "sub" / f"graph{suffix}")
        assert hint is None and path == tmp_path / "sub" / f"graph{suffix}"
        assert check(path.read_bytes()), suffix
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["graph.pdf", "graph.png", "graph.svg"]


def test_save_dot_and_gv_write_the_source(tmp_path, small_graph):
    for name in ["graph.dot", "graph.gv"]:
        path, hint = save_graph(small_graph, str(tmp_path / name))
        assert hint is None and path.read_text() == small_graph.source


def check_fallback(tmp_path: Path, graph: graphviz.Digraph) -> None:
    path, hint = save_graph(graph, tmp_path / "graph.png")
    assert path == tmp_path / "graph.dot" and path.read_text() == graph.source
    assert not (tmp_path / "graph.png").exists()
    assert "\n" not in hint and "dot" in hint
    for install in ["apt-get install graphviz", "brew install graphviz", "conda install graphviz"]:
        assert install in hint


def test_fallback_when_dot_is_not_on_path(tmp_path, monkeypatch, small_graph):
    monkeypatch.setenv("PATH", "")
    check_fallback(tmp_path, small_graph)


def test_fallback_when_which_finds_nothing(tmp_path, monkeypatch, small_graph):
    monkeypatch.setattr(shutil, "which", lambda *args, **kwargs: None)
    check_fallback(tmp_path, small_graph)


def test_fallback_when_graphviz_cannot_run_dot(tmp_path, monkeypatch, small_graph):
    def missing(*args, **kwargs):
        raise graphviz.ExecutableNotFound(["dot"])

    monkeypatch.setattr(small_graph, "pipe", missing)
    check_fallback(tmp_path, small_graph)


def test_a_failed_render_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch, small_graph):
    target = tmp_path / "graph.svg"
    target.write_text("old")

    def broken(*args, **kwargs):
        raise graphviz.CalledProcessError(1, ["dot"], stderr="syntax error")

    monkeypatch.setattr(small_graph, "pipe", broken)
    with pytest.raises(graphviz.CalledProcessError):
        save_graph(small_graph, target)
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["graph.svg"]


def test_a_failed_write_removes_its_temporary(tmp_path, monkeypatch):
    def fail(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(viz_graph.os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        viz_graph._write_atomic(tmp_path / "graph.dot", b"digraph {}")
    assert list(tmp_path.iterdir()) == []


def test_save_graph_bad_arguments(tmp_path, small_graph):
    with pytest.raises(ValueError, match=r"\.svg, \.png, \.pdf, \.dot, \.gv.*'\.jpg'"):
        save_graph(small_graph, tmp_path / "graph.jpg")
    with pytest.raises(ValueError, match="no suffix"):
        save_graph(small_graph, tmp_path / "graph")
    with pytest.raises(TypeError, match="save_graph: graph must be a graphviz graph"):
        save_graph("digraph {}", tmp_path / "graph.svg")
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- draw_graph errors, lazy import

def test_draw_graph_bad_arguments():
    x = tg.tensor(1.0, requires_grad=True)
    with pytest.raises(TypeError, match="draw_graph: t must be a Tensor or a trace from tg.viz.backprop, got ndarray"):
        draw_graph(np.ones(2))
    for bad in ["XY", "lr", ""]:
        with pytest.raises(ValueError, match="draw_graph: rankdir must be one of LR, TB, RL, BT or None"):
            draw_graph(x, rankdir=bad)
    for bad in [0, -3, 2.5, True]:
        with pytest.raises(ValueError, match="draw_graph: max_nodes"):
            draw_graph(x, max_nodes=bad)
    with pytest.raises(TypeError, match="draw_graph: names must be a mapping"):
        draw_graph(x, names=[("x", x)])
    with pytest.raises(TypeError, match=r"draw_graph: names\['x'\] must be a Tensor"):
        draw_graph(x, names={"x": 1.0})


@pytest.mark.parametrize("rankdir", ["LR", "TB", "RL", "BT"])
def test_rankdir_reaches_the_graph(rankdir):
    assert f"rankdir={rankdir}" in draw_graph(tg.tensor(1.0), rankdir=rankdir).source


def test_importing_the_module_does_not_import_graphviz():
    code = "import sys, tinygrad_mvc.viz.graph; print('graphviz' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --------------------------------------------------------------------------- DOT safety

# Every character that could end a DOT string, break a record, or make the SVG invalid XML.
HOSTILE = ([chr(c) for c in range(0x20)] + ["\x7f", "\x85", "\x9f", "\ud800", "\udfff", "\u2028", "\u2029"]
           + ['"', "{", "}", "<", ">", "|", "\\", "\\\\", '\\"', "\\n", "\\l", "&", "]", ";", "--", "->"])


def visible(ch: str) -> str:
    """What the picture must show for ``ch`` in a name."""
    code = ord(ch[0]) if len(ch) == 1 else None
    if code is None or ch == "\n":
        return ch
    if code < 0x20:
        return chr(0x2400 + code)
    if code == 0x7F:
        return "\u2421"
    if 0x80 <= code < 0xA0:
        return f"\\x{code:02x}"
    if code in (0xD800, 0xDFFF, 0x2028, 0x2029):
        return f"\\u{code:04x}"
    return ch


def render_svg(source: str) -> str:
    """Render with the real ``dot``: it must accept the source silently and give well-formed XML."""
    import xml.etree.ElementTree as ET

    proc = subprocess.run(["dot", "-Tsvg"], input=source.encode("utf-8"), capture_output=True, timeout=60)
    assert proc.returncode == 0 and proc.stderr == b"", proc.stderr.decode(errors="replace")[:500]
    svg = proc.stdout.decode("utf-8")
    root = ET.fromstring(svg)  # invalid XML (a control character in a <text>) raises here
    return "\n".join("".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text"))


def hostile_graph():
    """Leaves named with each hostile character, a names mapping and an op name that carry them too."""
    leaves = [tg.tensor(float(i), requires_grad=True, name=f"a{ch}b") for i, ch in enumerate(HOSTILE)]

    @tg.primitive(name="op\x00\"{|<}\\")
    def weird(x):
        return x * 2.0

    weird.defvjp(lambda g, ans, x: g * 2.0)
    total = weird(tg.stack(leaves).sum())
    extra = tg.tensor(1.0, requires_grad=True)
    total = total + extra
    return total, leaves, {"k\x00e\x1by\"{x}|<>\\": extra}


@pytest.mark.skipif(shutil.which("dot") is None, reason="needs the Graphviz program dot")
def test_hostile_names_give_valid_dot_that_renders_what_was_named():
    out, leaves, names = hostile_graph()
    dot = draw_graph(out, names=names, max_nodes=None)
    dot.source.encode("utf-8")  # no lone surrogate survives
    controls = [chr(c) for c in range(0x20) if c not in (0x09, 0x0A)]  # graphviz indents with tabs
    assert not any(c in dot.source for c in controls)
    texts = render_svg(dot.source)
    for ch in HOSTILE:
        assert f"a{visible(ch)}b" in texts, (ch, visible(ch))
    assert "k\u2400e\u241by\"{x}|<>\\" in texts
    assert "op\u2400\"{|<}\\" in texts
    trace = tg.viz.backprop(out, names=names)
    render_svg(draw_graph(trace, max_nodes=None, show_local=True).source)  # with every gradient
    render_svg(draw_graph(trace, max_nodes=5).source)  # the summary node lists leaf names
    render_svg(draw_graph(out * 2.0, names=names).source)  # the freed inputs of out


@pytest.mark.skipif(shutil.which("dot") is None, reason="needs the Graphviz program dot")
def test_dot_source_survives_graphviz_own_parser_round_trip():
    out, _, names = hostile_graph()
    source = draw_graph(out, names=names).source
    canon = subprocess.run(["dot", "-Tcanon"], input=source.encode("utf-8"), capture_output=True, timeout=60)
    assert canon.returncode == 0 and canon.stderr == b"", canon.stderr[:500]
    # the same texts (dot -Tcanon may list the statements of the rank=same rows in another order)
    assert sorted(render_svg(canon.stdout.decode("utf-8")).split("\n")) == sorted(render_svg(source).split("\n"))


@pytest.mark.skipif(shutil.which("dot") is None, reason="needs the Graphviz program dot")
def test_a_very_long_name_is_cut_and_still_renders():
    x = tg.tensor(1.0, requires_grad=True, name="n" * 20000)
    texts = render_svg(draw_graph(x * 2.0, names={"m" * 20000: x}).source)
    assert "m" * 50 in texts and "m" * 61 not in texts and "…" in texts


@pytest.mark.parametrize("ch", ["\x01\x1b", '"{|<\\'])
def test_the_graph_command_never_writes_invalid_dot(tmp_path, ch):
    from test_cli import run_cli

    out = tmp_path / "g.dot"
    proc = run_cli("graph", f"x{ch}*2", "--at", "x=1", "-o", str(out))  # argv cannot carry a NUL
    if proc.returncode != 0:  # refused by the expression parser: one line, no file
        assert proc.returncode == 2 and "Traceback" not in proc.stderr and not out.exists(), proc.stderr
        return
    if shutil.which("dot"):
        render_svg(out.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- save_graph errors name the user's path

def test_save_graph_into_a_read_only_folder_names_the_path(tmp_path, small_graph):
    from fs_helpers import read_only_folder

    folder = read_only_folder(tmp_path / "ro")
    try:
        for name in ("g.dot", "g.svg"):
            with pytest.raises(PermissionError) as info:
                save_graph(small_graph, folder / name)
            assert str(folder / name) in str(info.value) and ".tmp" not in str(info.value)
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o755)


TMPFS_GRAPH_SCRIPT = r'''
import contextlib, io, json, os, subprocess, sys
from pathlib import Path
import tinygrad_mvc as tg
from tinygrad_mvc.cli import main

folder = Path(sys.argv[1])
x = tg.tensor([1.0] * 6, requires_grad=True, name="x" * 50)
y = x
for _ in range(300):  # a big picture: more than the 16 KiB file system holds
    y = tg.tanh(y) * 1.5
dot = tg.viz.draw_graph(y, max_nodes=None)
out = {}

def attempt(key, fn):
    try:
        fn()
        out[key] = None
    except OSError as e:
        out[key] = [e.errno, str(e), e.filename]
    out[key + "_listing"] = sorted(os.listdir(folder))

attempt("full_dot", lambda: tg.viz.save_graph(dot, folder / "g.dot"))
attempt("full_svg", lambda: tg.viz.save_graph(dot, folder / "g.svg"))
subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
attempt("ro_dot", lambda: tg.viz.save_graph(tg.viz.draw_graph(x * 2), folder / "small.dot"))
err = io.StringIO()
with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
    out["cli_code"] = main(["graph", "x*2", "--at", "x=1", "-o", str(folder / "cli.svg")])
out["cli_stderr"] = err.getvalue()
print(json.dumps(out))
'''


def test_save_graph_on_a_full_and_a_read_only_tmpfs_names_the_users_path(tmp_path):
    import errno

    from fs_helpers import run_on_tmpfs

    folder = tmp_path / "mnt"
    out = run_on_tmpfs(folder, TMPFS_GRAPH_SCRIPT, size_kib=16)
    for key, name, code in [("full_dot", "g.dot", errno.ENOSPC), ("full_svg", "g.svg", errno.ENOSPC),
                            ("ro_dot", "small.dot", errno.EROFS)]:
        assert out[key] is not None, f"{key}: did not fail"
        got, message, filename = out[key]
        path = str(folder / name)
        assert got == code and filename == path and path in message and ".tmp" not in message, out[key]
        assert out[key + "_listing"] == [], out  # no temporary file left behind
    lines = out["cli_stderr"].strip().splitlines()
    assert out["cli_code"] == 1 and len(lines) == 1, out
    assert str(folder / "cli.svg") in lines[0] and ".tmp" not in lines[0] and "Read-only" in lines[0]
