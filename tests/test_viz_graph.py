"""Graph pictures: the DOT source of known graphs, rendering, the fallback without ``dot``, collapse, errors."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import graphviz
import numpy as np
import pytest

import tinygrad_mvc as tg
from tinygrad_mvc.viz import draw_graph, save_graph
from tinygrad_mvc.viz import graph as viz_graph

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
NODE = re.compile(r'^\s*(\w+) \[label=(?:"((?:[^"\\]|\\.)*)"|([^\s\]]+))')
EDGE = re.compile(r"^\s*(\w+) -> (\w+)")


def parse(dot: graphviz.Digraph) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Node id -> label text, and the edges (tail, head) in order, from the DOT source."""
    nodes: dict[str, str] = {}
    edges: list[tuple[str, str]] = []
    for line in dot.source.splitlines():
        if m := EDGE.match(line):
            edges.append((m.group(1), m.group(2)))
        elif m := NODE.match(line):
            nodes[m.group(1)] = m.group(2) if m.group(2) is not None else m.group(3)
    return nodes, edges


def find(nodes: dict[str, str], pattern: str) -> str:
    """The one node whose label matches ``pattern`` (a regex searched in the label)."""
    hits = [k for k, label in nodes.items() if re.search(pattern, label)]
    assert len(hits) == 1, f"{pattern!r} matches {hits} in {nodes}"
    return hits[0]


def find_all(nodes: dict[str, str], pattern: str) -> list[str]:
    return [k for k, label in nodes.items() if re.search(pattern, label)]


def values(nodes: dict[str, str]) -> dict[str, str]:
    """The value (record) nodes: their labels start with a brace."""
    return {k: v for k, v in nodes.items() if v.startswith("{")}


# --------------------------------------------------------------------------- known small graphs

def square_sum():
    x = tg.tensor([1.0, 2.0], requires_grad=True, name="x")
    return x, (x * x).sum()


def test_square_sum_before_backward_has_values_ops_and_edges():
    x, y = square_sum()
    nodes, edges = parse(draw_graph(y))
    vx = find(nodes, r"^\{x\|\(2,\) float64\|data \[1\.0, 2\.0\]\}$")
    vxx = find(nodes, r"^\{\(2,\) float64\|data \[1\.0, 4\.0\]\}$")
    vy = find(nodes, r"^\{\(\) float64\|data 5\.0\}$")
    mul, total = find(nodes, "^mul$"), find(nodes, "^sum$")
    assert len(values(nodes)) == 3 and len(nodes) == 5
    # value -> op -> value; x feeds mul twice (x * x uses it as both inputs)
    assert sorted(edges) == sorted([(vx, mul), (vx, mul), (mul, vxx), (vxx, total), (total, vy)])
    assert "grad" not in draw_graph(y).source


def test_square_sum_after_backward_shows_gradients_and_freed_inputs():
    x, y = square_sum()
    y.backward()
    nodes, edges = parse(draw_graph(y))
    vy, total = find(nodes, r"data 5\.0"), find(nodes, r"^sum\\n\(inputs freed\)$")
    assert edges == [(total, vy)] and len(nodes) == 2
    nodes, edges = parse(draw_graph(x))
    assert list(nodes.values()) == ["{x|(2,) float64|data [1.0, 2.0]|grad [2.0, 4.0]}"] and edges == []


def test_retained_graph_after_backward_shows_the_leaf_gradient_in_place():
    x, y = square_sum()
    y.backward(retain_graph=True)
    nodes, _ = parse(draw_graph(y))
    find(nodes, r"^\{x\|.*\|grad \[2\.0, 4\.0\]\}$")
    nodes, _ = parse(draw_graph(y, show_data=False, show_grad=False))
    assert find(nodes, r"^\{x\|\(2,\) float64\}$") and "data" not in str(nodes) and "grad" not in str(nodes)


def test_fan_out_draws_two_sin_nodes_from_the_one_x():
    x = tg.tensor(0.5, requires_grad=True, name="x")
    nodes, edges = parse(draw_graph(tg.sin(x) + tg.sin(x)))
    vx = find(nodes, r"^\{x\|")
    sins = find_all(nodes, "^sin$")
    add = find(nodes, "^add$")
    assert len(sins) == 2
    sin_values = [head for tail, head in edges if tail in sins]
    assert len(set(sin_values)) == 2
    assert sorted(tail for tail, head in edges if head == add) == sorted(sin_values)
    assert sorted(edges.count((vx, s)) for s in sins) == [1, 1]


def test_diamond_through_a_shared_non_leaf_draws_it_once():
    x = tg.tensor(1.0, requires_grad=True, name="x")
    a = tg.exp(x)
    b = a + a
    c = b + b
    nodes, edges = parse(draw_graph(c, names={"a": a, "b": b}))
    va, vb, vx = find(nodes, r"^\{a\|"), find(nodes, r"^\{b\|"), find(nodes, r"^\{x\|")
    exp_op = find(nodes, "^exp$")
    adds = find_all(nodes, "^add$")
    assert len(values(nodes)) == 4 and len(adds) == 2
    b_op = next(head for tail, head in edges if tail == va)
    assert edges.count((va, b_op)) == 2 and (b_op, vb) in edges
    c_op = next(head for tail, head in edges if tail == vb)
    assert edges.count((vb, c_op)) == 2 and c_op != b_op
    assert (vx, exp_op) in edges and (exp_op, va) in edges


def test_constant_inputs_appear_as_small_nodes():
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True, name="x")
    data = tg.tensor([4.0, 5.0, 6.0], name="data")  # a Tensor that needs no grad is a value like any other
    y = (x * 2.0 + np.array([1.0, 1.0, 1.0])) * data
    nodes, edges = parse(draw_graph(y))
    two, arr = find(nodes, r"^2\.0$"), find(nodes, r"^const \(3,\)")
    assert "[1.0, 1.0, 1.0]" in nodes[arr]
    mul_two = next(head for tail, head in edges if tail == two)
    add = next(head for tail, head in edges if tail == arr)
    assert nodes[mul_two] == "mul" and nodes[add] == "add"
    assert (find(nodes, r"^\{x\|"), mul_two) in edges
    vdata = find(nodes, r"^\{data\|\(3,\) float64\|data \[4\.0, 5\.0, 6\.0\]\}$")
    assert nodes[next(head for tail, head in edges if tail == vdata)] == "mul"
    assert f'fillcolor="{viz_graph.CONST_FILL}"' in re.search(rf"^\s*{vdata} \[.*$", draw_graph(y).source,
                                                              re.M).group(0)


def test_op_options_are_shown_and_defaults_left_out():
    x = tg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    nodes, _ = parse(draw_graph(x.sum(axis=0, keepdims=True).reshape(3)[1:]))
    find(nodes, r"^sum\\naxis=0\\nkeepdims=True$")
    find(nodes, r"^reshape\\nshape=\(3,\)$")
    find(nodes, r"^getitem\\nindex=")
    nodes, _ = parse(draw_graph(x.sum(axis=1)))
    find(nodes, r"^sum\\naxis=1$")  # keepdims=False is the default: not shown


def test_ops_of_many_tensor_inputs_get_an_edge_from_each():
    x = tg.tensor([1.0, 2.0], requires_grad=True, name="x")
    y = tg.tensor([3.0, 4.0], requires_grad=True, name="y")
    z = tg.tensor([5.0, 6.0], requires_grad=True, name="z")
    nodes, edges = parse(draw_graph(tg.concatenate([x, y, z])))
    op = find(nodes, "^concatenate$")
    assert sorted(t for t, h in edges if h == op) == sorted(find(nodes, rf"^\{{{n}\|") for n in "xyz")


def test_a_graph_whose_inner_part_was_freed_shows_what_is_still_known():
    x, y = square_sum()
    y.backward()
    z = y * 3.0  # recorded after the backward that freed y's graph
    nodes, edges = parse(draw_graph(z))
    vy, freed = find(nodes, r"data 5\.0"), find(nodes, r"^sum\\n\(inputs freed\)$")
    mul = find(nodes, "^mul$")
    assert (vy, mul) in edges and (freed, vy) in edges and not [e for e in edges if e[1] == freed]


def test_second_order_graph_of_a_gradient():
    x = tg.tensor(2.0, requires_grad=True, name="x")
    (x ** 3).backward(create_graph=True)
    nodes, edges = parse(draw_graph(x.grad))
    vx = find(nodes, r"^\{x\|\(\) float64\|data 2\.0\|grad 12\.0\}$")
    # The output (drawn first, as t0) is 3x² = 12; the graph reaches back to x, which carries its grad.
    assert nodes["t0"].endswith("data 12.0}") and any(tail == vx for tail, _ in edges)


def test_a_leaf_alone_is_one_node():
    nodes, edges = parse(draw_graph(tg.tensor([1, 2, 3])))
    assert list(nodes.values()) == ["{(3,) float64|data [1.0, 2.0, 3.0]}"] and edges == []


# --------------------------------------------------------------------------- names and value summaries

def test_names_mapping_labels_by_identity_and_wins_over_t_name():
    w = tg.tensor([1.0, 2.0], requires_grad=True, name="w")
    b = tg.tensor(0.5, requires_grad=True, name="b")
    twin = tg.tensor([1.0, 2.0], requires_grad=True)  # equal data, another tensor: must stay unnamed
    y = (w * twin).sum() + b
    nodes, _ = parse(draw_graph(y, names={"layer.weight": w}))
    find(nodes, r"^\{layer\.weight\|\(2,\)")
    find(nodes, r"^\{b\|\(\)")
    assert len(find_all(nodes, r"^\{\(2,\) float64\|data \[1\.0, 2\.0\]\}$")) == 1  # twin
    assert "{w|" not in draw_graph(y, names={"layer.weight": w}).source


@pytest.mark.parametrize(("data", "expected"), [
    (1 / 3, "data 0.3333"),
    (123456.0, "data 1.235e+05"),
    (2.0, "data 2.0"),
    ([0.5, -1.25], "data [0.5, -1.25]"),
    ([[1.0, 2.0], [3.0, 4.0]], "data [[1.0, 2.0], [3.0, 4.0]]"),
    (np.arange(100.0), "data min 0.0 mean 49.5 max 99.0"),
    (np.zeros((0, 3)), "data (empty)"),
])
def test_value_summaries(data, expected):
    nodes, _ = parse(draw_graph(tg.tensor(data)))
    assert nodes["t0"].split("|")[-1] == expected + "}"


def test_record_special_characters_are_escaped_in_source_and_render(tmp_path):
    name = 'w{0}|<a> "q" \\b\\'
    x = tg.tensor(0.5, requires_grad=True, name=name)
    dot = draw_graph(x * 2.0)
    assert r'{w\{0\}\|\<a\> \"q\" \\b\\|() float64|data 0.5}' in dot.source
    path, hint = save_graph(dot, tmp_path / "escaped.svg")
    assert hint is None
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", path.read_text())
    assert 'w{0}|&lt;a&gt; &quot;q&quot; \\b\\' in texts and "data 0.5" in texts


# --------------------------------------------------------------------------- large graphs

def chain(n: int) -> tuple[tg.Tensor, tg.Tensor]:
    x = tg.tensor(0.1, requires_grad=True, name="x0")
    y = x
    for i in range(n):
        y = tg.tanh(y) if i % 2 else y * 1.01
    return x, y


def test_large_graph_collapses_the_far_past_into_a_summary_node():
    _, y = chain(400)
    dot = draw_graph(y, max_nodes=30)
    nodes, edges = parse(dot)
    assert len(nodes) <= 31
    summary = find(nodes, "earlier tensors")
    drawn = len(values(nodes))
    assert f"… {401 - drawn} earlier tensors" in nodes[summary]
    assert "tanh×" in nodes[summary] and "mul×" in nodes[summary] and "1 leaf: x0" in nodes[summary]
    # the output is kept, with its value, and the summary feeds the oldest drawn op
    assert nodes["t0"] == "{() float64|data " + viz_graph._num(y.item()) + "}"
    (tail, head), = [e for e in edges if e[0] == summary]
    assert head.endswith("_op") and int(head[1:-3]) == drawn - 1


def test_default_max_nodes_is_about_a_hundred_and_none_draws_everything():
    _, y = chain(300)
    nodes, _ = parse(draw_graph(y))
    assert 90 <= len(nodes) <= 101 and find(nodes, "earlier")
    nodes, _ = parse(draw_graph(y, max_nodes=None))
    assert len(values(nodes)) == 301 and not find_all(nodes, "earlier")


def test_a_10000_op_chain_draws_without_recursion():
    _, y = chain(10_000)
    nodes, _ = parse(draw_graph(y))
    assert len(nodes) <= 101
    assert re.search(r"… (\d+) earlier", nodes[find(nodes, "earlier")]).group(1) == str(10_001 - len(values(nodes)))


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
    with pytest.raises(TypeError, match="draw_graph: t must be a Tensor, got ndarray"):
        draw_graph(np.ones(2))
    for bad in ["XY", "lr", None]:
        with pytest.raises(ValueError, match="draw_graph: rankdir must be one of LR, TB, RL, BT"):
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
