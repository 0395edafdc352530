"""tg.viz.backprop (the Trace), draw_graph from a trace, and animate_backprop (GIF, HTML), checked on the DOT."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pytest
from dot_helpers import find, grad_row, parse

import tinygrad_mvc as tg
from tinygrad_mvc import _retain
from tinygrad_mvc.viz import backprop, draw_graph, save_graph
from tinygrad_mvc.viz.animate import animate_backprop, backprop_frames

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="needs the Graphviz program dot")


def neuron():
    """micrograd's neuron: o = tanh(x1·w1 + x2·w2 + b), o = 1/√2."""
    leaves = {k: tg.tensor(v, requires_grad=True, name=k)
              for k, v in [("x1", 2.0), ("x2", 0.0), ("w1", -3.0), ("w2", 1.0), ("b", 6.8813735870195432)]}
    x1, x2, w1, w2, b = (leaves[k] for k in ("x1", "x2", "w1", "w2", "b"))
    n = x1 * w1 + x2 * w2 + b
    return leaves, n, tg.tanh(n)


def engine_grads(build):
    """The engine's gradients of every leaf and (retained) inner node of a fresh build of the same graph."""
    leaves, mid, out = build()
    inner = _inner(out)
    for t in inner:
        t.retain_grad()
    out.backward()
    return {k: v.grad.item() for k, v in leaves.items()}, [t.grad.item() for t in inner]


def _inner(out):
    seen, todo, found = {id(out)}, [out], []
    while todo:
        v = todo.pop()
        if v._op is None:
            continue
        found.append(v)
        for a in v._inputs:
            if isinstance(a, tg.Tensor) and id(a) not in seen:
                seen.add(id(a))
                todo.append(a)
    return sorted(found, key=lambda v: v._seq)


# --------------------------------------------------------------------------- backprop(trace)

def test_every_node_grad_equals_the_engines_and_the_output_grad_is_one():
    leaf_grads, inner_grads = engine_grads(neuron)
    leaves, _, out = neuron()
    trace = backprop(out)
    assert trace.nodes[trace.output].grad == 1.0 and trace.nodes[trace.output].tensor is out
    for k, g in leaf_grads.items():
        assert trace.node(k).grad == pytest.approx(g) and leaves[k].grad.item() == pytest.approx(g)
    inner = [n for n in trace.nodes if n.op is not None]
    assert [float(n.grad) for n in inner] == pytest.approx(inner_grads)
    assert trace.node("w1").grad == pytest.approx(1.0) and trace.node("x1").grad == pytest.approx(-1.5)
    assert all(n.tensor.grad is None for n in inner)  # nothing retained is left behind
    assert _retain.retained == {}


def test_leaf_grad_accumulates_and_the_graph_is_freed_unless_retained():
    leaves, _, out = neuron()
    leaves["w1"].grad = tg.tensor(10.0)
    trace = backprop(out)
    assert leaves["w1"].grad.item() == pytest.approx(11.0)  # like backward(): added to what was there
    assert trace.node("w1").grad == pytest.approx(1.0)  # the trace holds this backward's own gradient
    with pytest.raises(RuntimeError):
        out.backward()
    with pytest.raises(RuntimeError, match="tg.viz.backprop"):
        draw_graph(out)
    with pytest.raises(RuntimeError, match="tg.viz.backprop"):
        backprop(out)
    leaves, _, out = neuron()
    backprop(out, retain_graph=True)
    out.backward()  # still there
    assert leaves["x1"].grad.item() == pytest.approx(-3.0)


def test_bad_outputs():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"backprop: the output must be a scalar.*\(2,\).*\.sum\(\)"):
        backprop(x * 2.0)
    with pytest.raises(ValueError, match="requires_grad=True"):
        backprop(tg.tensor(1.0) * 2.0)
    with pytest.raises(TypeError, match="backprop: t must be a Tensor"):
        backprop(1.0)


@pytest.mark.parametrize(("make", "locals_"), [
    (lambda x, y: x * y, lambda x, y: (y, x)),
    (lambda x, y: x / y, lambda x, y: (1 / y, -x / y ** 2)),
    (lambda x, y: x ** y, lambda x, y: (y * x ** (y - 1), x ** y * np.log(x))),
    (lambda x, y: tg.tanh(x) + y, None),
])
def test_edge_local_derivatives_are_the_analytic_ones(make, locals_):
    xv, yv = 1.7, 0.6
    x, y = tg.tensor(xv, requires_grad=True), tg.tensor(yv, requires_grad=True)
    trace = backprop(make(x, y))
    if locals_ is None:  # tanh: 1 - tanh², then + : 1, 1
        edges = {(trace.nodes[e.src].op, trace.nodes[e.dst].op): e.local for e in trace.edges}
        assert edges[(None, "tanh")] == pytest.approx(1 - np.tanh(xv) ** 2)
        assert edges[("tanh", "add")] == 1.0 and edges[(None, "add")] == 1.0
        return
    by_arg = {e.argnum: e for e in trace.edges}
    for j, want in enumerate(locals_(xv, yv)):
        assert by_arg[j].local == pytest.approx(want, rel=1e-12)
        h = 1e-6  # and a central difference agrees
        args = [xv, yv]
        up, down = list(args), list(args)
        up[j] += h
        down[j] -= h
        fd = (make(*map(tg.tensor, up)).item() - make(*map(tg.tensor, down)).item()) / (2 * h)
        assert by_arg[j].local == pytest.approx(fd, rel=1e-6)


def test_array_edges_have_no_local_number_but_carry_their_contribution():
    w = tg.tensor([1.0, 2.0], requires_grad=True, name="w")
    trace = backprop((w * w).sum())
    assert all(e.local is None for e in trace.edges if trace.nodes[e.src].value.size > 1)
    np.testing.assert_allclose(sum(e.contribution for e in trace.edges if e.src == trace.node("w").index), [2.0, 4.0])


def test_contributions_sum_to_the_grad_at_fan_out():
    x = tg.tensor(0.8, requires_grad=True, name="x")
    out = tg.sin(x) * tg.exp(x)  # x used twice
    trace = backprop(out)
    into_x = [e for e in trace.edges if e.src == trace.node("x").index]
    assert len(into_x) == 2
    assert sum(float(e.contribution) for e in into_x) == pytest.approx(float(trace.node("x").grad))
    assert float(trace.node("x").grad) == pytest.approx(np.exp(0.8) * (np.cos(0.8) + np.sin(0.8)))
    for e in trace.edges:  # and each contribution is grad(out) × local
        assert float(e.contribution) == pytest.approx(float(trace.nodes[e.dst].grad) * e.local)


def test_order_is_the_engines_real_visiting_order(monkeypatch):
    calls = []
    ops = set()

    def build():
        leaves, n, out = neuron()
        y = out * out + tg.exp(n) * leaves["w1"]  # fan-out of n and w1
        return leaves, n, y

    leaves, _, out = build()
    for t in _inner(out):
        ops.add(t._op)
    for op in ops:
        wrapped = tuple(None if r is None else
                        (lambda g, ans, *a, r=r, j=j, **k: (calls.append((id(ans), j)), r(g, ans, *a, **k))[1])
                        for j, r in enumerate(op.vjps))
        monkeypatch.setattr(op, "vjps", wrapped)
    tensors = {id(t): t for t in _inner(out)}
    out.backward(retain_graph=True)
    monkeypatch.undo()
    visited = list(dict.fromkeys(tensors[a] for a, _ in calls))
    first_leaf = []
    for a, j in calls:
        src = tensors[a]._inputs[j]
        if isinstance(src, tg.Tensor) and src._op is None and src.requires_grad and src not in first_leaf:
            first_leaf.append(src)
    for v in leaves.values():
        v.grad = None
    trace = backprop(out)
    by_tensor = {id(n.tensor): n.index for n in trace.nodes}
    assert trace.order[0] == trace.output
    assert trace.order == [by_tensor[id(t)] for t in visited] + [by_tensor[id(t)] for t in first_leaf]
    got_grad = [n.index for n in trace.nodes if n.grad is not None]
    assert sorted(trace.order) == sorted(got_grad) and len(set(trace.order)) == len(trace.order)


def test_a_user_retained_node_survives_backprop_and_accumulates():
    x = tg.tensor(2.0, requires_grad=True, name="x")
    y = x * x
    y.retain_grad()
    out = y * 3.0
    out.backward(retain_graph=True)
    assert y.grad.item() == 3.0
    trace = backprop(out)
    assert y.retains_grad and y.grad.item() == 6.0 and float(trace.nodes[trace.order[1]].grad) == 3.0
    assert x.grad.item() == 24.0


def test_nodes_that_do_not_require_grad_have_no_grad():
    x = tg.tensor(2.0, requires_grad=True, name="x")
    c = tg.tensor(5.0, name="c")
    k = c * 2.0  # no graph: needs no grad
    trace = backprop(x * k)
    consts = [n for n in trace.nodes if not n.requires_grad]
    assert consts and all(n.grad is None for n in consts)
    assert all(n.index not in trace.order for n in consts)
    assert trace.node("x").grad == 10.0


# --------------------------------------------------------------------------- draw_graph from a trace

def test_every_node_shows_its_grad_and_the_output_grad_one():
    _, _, out = neuron()
    trace = backprop(out)
    nodes, edges = parse(draw_graph(trace))
    assert len(nodes) == len(trace.nodes) == 10
    for k, r in nodes.items():
        assert grad_row(r) is not None, r
        want = trace.nodes[int(k[1:])].grad
        assert float(grad_row(r)) == pytest.approx(float(want), abs=6e-4 * max(1, abs(float(want))))
    assert grad_row(nodes[f"n{trace.output}"]) == "1.0"
    assert all(label is None for *_, label in edges)  # no local derivatives unless asked


def test_show_local_puts_the_local_derivative_on_each_scalar_edge():
    _, _, out = neuron()
    dot = draw_graph(backprop(out), show_local=True)
    nodes, edges = parse(dot)
    name = {k: r[0] for k, r in nodes.items()}
    local = {(name[t], name[h]): label for t, h, label in edges}
    # x1·w1: ∂/∂x1 = w1 = -3, ∂/∂w1 = x1 = 2; x2·w2: 1 and 0; the sums 1; tanh: 1 - tanh² = 0.5
    assert local[("x1", "×")] == "-3.0" and local[("w1", "×")] == "2.0"
    assert local[("x2", "×")] == "1.0" and local[("w2", "×")] == "0.0"
    assert local[("b", "+")] == "1.0" and local[("+", "tanh")] == "0.5"
    assert len(edges) == 9 and all(label is not None for *_, label in edges)
    for sym in ("×", "+", "tanh"):
        assert f"<B>{sym}</B>" in dot.source
    assert "() float64" not in dot.source and "∂out/∂in" in dot.source


def test_names_mapping_and_rankdir_none_with_a_trace():
    leaves, n, out = neuron()
    trace = backprop(out, names={"n": n})
    nodes, _ = parse(draw_graph(trace, rankdir=None))
    assert find(nodes, "n = +") and find(nodes, "x1")
    nodes, _ = parse(draw_graph(trace, names={"neuron": out}))
    assert find(nodes, "neuron = tanh")
    assert "rankdir=" in draw_graph(trace, rankdir=None).source


def test_a_tensor_graph_shows_retained_grads_and_local_numbers_without_backward():
    x = tg.tensor(2.0, requires_grad=True, name="x")
    y = x * 3.0
    nodes, edges = parse(draw_graph(tg.tanh(y), show_local=True))
    assert [label for *_, label in edges] == ["3.0", viz_local_tanh(6.0)]
    assert all(grad_row(r) is None for r in nodes.values())


def viz_local_tanh(v):
    from tinygrad_mvc.viz.graph import _num

    return _num(1 - np.tanh(v) ** 2)


def png_size(dot, tmp_path, name):
    from PIL import Image

    path, hint = save_graph(dot, tmp_path / f"{name}.png")
    assert hint is None
    with Image.open(path) as im:
        return im.size


@needs_dot
def test_a_40_op_chain_fits_2000_px(tmp_path):
    x = tg.tensor(0.3, requires_grad=True, name="x")
    t = x
    for _ in range(20):  # 40 ops
        t = tg.tanh(t * 1.01 + 0.1)
    size = png_size(draw_graph(backprop(t), show_local=True), tmp_path, "chain")
    assert max(size) <= 2000, size


@needs_dot
def test_a_60_node_graph_with_many_leaves_fits_2000_px(tmp_path):
    xs = [tg.tensor(0.1 * i, requires_grad=True, name=f"x{i}") for i in range(12)]
    ws = [tg.tensor(1.0 - 0.1 * i, requires_grad=True, name=f"w{i}") for i in range(12)]
    total = xs[0] * ws[0]
    for a, b in zip(xs[1:], ws[1:]):
        total = total + tg.tanh(a * b)
    trace = backprop(total)
    assert 55 <= len(trace.nodes) <= 65
    size = png_size(draw_graph(trace, show_local=True, rankdir=None), tmp_path, "wide")
    assert max(size) <= 2000, size


def test_max_nodes_collapse_still_gives_a_summary_node_with_a_trace():
    x = tg.tensor(0.3, requires_grad=True, name="x")
    t = x
    for _ in range(30):
        t = tg.tanh(t * 1.01)
    nodes, edges = parse(draw_graph(backprop(t), max_nodes=10))
    assert len(nodes) == 11 and "earlier tensors" in nodes["earlier"][0]
    assert all(grad_row(r) is not None for k, r in nodes.items() if k != "earlier")


# --------------------------------------------------------------------------- animate_backprop

@needs_dot
def test_gif_has_one_frame_per_step_all_the_same_reasonable_size(tmp_path):
    from PIL import Image

    _, _, out = neuron()
    trace = backprop(out)
    path = animate_backprop(trace, tmp_path / "bp.gif", frame_ms=100)
    with Image.open(path) as im:
        sizes = []
        for k in range(im.n_frames):
            im.seek(k)
            sizes.append(im.size)
        assert im.n_frames == len(backprop_frames(trace))
    assert len(set(sizes)) == 1 and max(sizes[0]) < 2000 and min(sizes[0]) > 100


def test_animation_bad_suffix(tmp_path):
    x = tg.tensor(1.0, requires_grad=True)
    with pytest.raises(ValueError, match=r"animate_backprop: .*\.html or \.gif.*'\.png'"):
        animate_backprop(x * 2.0, tmp_path / "a.png")
    assert list(tmp_path.iterdir()) == []


@needs_dot
def test_html_is_one_self_contained_page_with_the_frames(tmp_path):
    _, _, out = neuron()
    trace = backprop(out)
    page = animate_backprop(trace, tmp_path / "bp.html").read_text(encoding="utf-8")
    assert page.count("<svg") == 1 and page.count("</svg>") == 1
    urls = re.findall(r"https?://[^\s\"'<>]+", page)
    assert set(urls) <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}, set(urls)
    assert not re.search(r"<script[^>]*\bsrc=", page) and not re.search(r"<link[^>]*\bhref=", page)
    import json

    data = json.loads(re.search(r'<script id="frames" type="application/json">(.*?)</script>', page, re.S)
                      .group(1).replace("<\\/", "</"))
    assert len(data["frames"]) == len(backprop_frames(trace))
    last = data["frames"][-1]["grads"]
    assert last[str(trace.node("x1").index)] == "-1.5" and last[str(trace.output)] == "1.0"


# --------------------------------------------------------------------------- Jupyter

@needs_dot
def test_jupyter_reprs():
    x = tg.tensor(0.5, requires_grad=True, name="x")
    trace = backprop(tg.tanh(x * x))
    shown = trace._repr_html_()
    assert shown.startswith("<iframe srcdoc=\"") and "&lt;svg" in shown and 'sandbox="allow-scripts"' in shown
    dot = draw_graph(trace)
    if hasattr(dot, "_repr_mimebundle_"):
        svg = dot._repr_mimebundle_(include=["image/svg+xml"])["image/svg+xml"]
    else:
        svg = dot._repr_svg_()
    assert "<svg" in svg and "tanh" in svg
    assert repr(trace) == "Trace(3 nodes, 3 edges, output grad 1)"
