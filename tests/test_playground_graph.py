"""The playground's Graph tab: its API against tg.viz.backprop and tg.grad, and the page in Chromium."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from starlette.testclient import TestClient

import tinygrad_mvc as tg
from tinygrad_mvc.expr import parse
from tinygrad_mvc.playground import create_app
from tinygrad_mvc.playground.limits import DEFAULT
from tinygrad_mvc.playground.tabs import graph
from tinygrad_mvc.viz.animate import backprop_frames

EXAMPLE = {"expr": "x*y + sin(x)", "at": "x=1 y=2"}


def engine_grads(text: str, point: dict[str, float]) -> tuple[float, list[float]]:
    """The value and gradient by tg.value_and_grad, one argument per variable in the order of ``point``."""
    e = parse(text)
    names = list(point)
    value, grads = tg.value_and_grad(lambda *xs: e.evaluate(dict(zip(names, xs, strict=True))),
                                     argnums=tuple(range(len(names))))(*point.values())
    return float(value), [float(g) for g in grads]


def four_digits(x: float) -> str:
    """How the graph writes a number (tinygrad_mvc.viz.graph: 4 significant digits, floats keep a '.0')."""
    text = f"{x:.4g}"
    return text + ".0" if text.lstrip("-").isdigit() else text


# ----------------------------------------------------------------------------- API

def test_run_is_the_engines_graph(playground):
    out = playground.ok("graph", "run", EXAMPLE)
    value, grads = engine_grads(EXAMPLE["expr"], {"x": 1.0, "y": 2.0})
    assert out["value"] == value == 2 + math.sin(1)
    assert out["inputs"] == [{"name": "x", "value": 1.0, "grad": grads[0]},
                             {"name": "y", "value": 2.0, "grad": grads[1]}]
    assert grads == [2 + math.cos(1), 1.0]
    # the frames are viz.animate's own, for the same trace
    x, y = tg.tensor(1.0, requires_grad=True, name="x"), tg.tensor(2.0, requires_grad=True, name="y")
    expected = backprop_frames(tg.viz.backprop(x * y + tg.sin(x)))
    assert [f["caption"] for f in out["frames"]] == [f.caption for f in expected]
    assert out["frames"][0]["caption"] == "forward: the inputs" and out["frames"][-1]["phase"] == "backward"
    last = out["frames"][-1]
    assert set(last["grads"].values()) >= {four_digits(grads[0]), "1.0"}
    assert four_digits(value) in last["values"].values()
    assert any("x gets 1.0 × 0.5403 = 0.5403" in f["caption"] for f in out["frames"])
    assert out["svg"].startswith("<svg") and "<script" not in out["svg"] and out["nodes"] == 5
    for i, (v, gr) in out["layout"].items():  # the player finds each node's two texts by these
        assert f">{v}<" in out["svg"] and f">{gr}<" in out["svg"], i


def test_run_orders_inputs_as_given_and_keeps_no_state(playground):
    state: dict = {}
    body = {"expr": "(w*x - y)**2", "at": "y=1, w = 2; x=1.5"}
    out = graph.run(state, body, DEFAULT)
    value, grads = engine_grads(body["expr"], {"y": 1.0, "w": 2.0, "x": 1.5})
    assert [v["name"] for v in out["inputs"]] == ["y", "w", "x"] and [v["grad"] for v in out["inputs"]] == grads
    assert out["value"] == value == 4.0
    with pytest.raises(graph.Refused):
        graph.run(state, {**body, "at": "y=1"}, DEFAULT)
    assert state == {} and repr(graph.run(state, body, DEFAULT)) == repr(out)


def test_a_gradient_that_is_not_finite_is_shown_as_such(playground):
    out = playground.ok("graph", "run", {"expr": "sqrt(x)", "at": "x=0"})
    assert out["value"] == 0.0 and out["inputs"][0]["grad"] == "Infinity"


HOSTILE = ["__import__('os').system('x')", "x.__class__", "open('f')", "x" * 1000, "lambda x: x", "x[0]",
           "exec('1')", "x if y else 1", "", "   ", "x +", "x ^ 2"]


@pytest.mark.parametrize("bad", HOSTILE, ids=[f"hostile{k}" for k in range(len(HOSTILE))])
def test_hostile_expressions_are_refused(playground, bad):
    status, data = playground.call("graph", "run", {"expr": bad, "at": "x=1 y=2"})
    assert status == 400 and data["error"].startswith("expr:"), data


@pytest.mark.parametrize("at, says", [
    ("x=1", "at: no value for y (the expression's variables: x, y)"),
    ("", "at: no value for x, y"),
    ("x=1 y=2 z=3", "at: z is not a variable of the expression (its variables: x, y)"),
    ("x=1 y=2 z=3 w=4", "z, w are not variables"),
    ("x=1 x=2 y=2", "at 'x=2': x is given twice"),
    ("x=abc y=2", "at 'x=abc': the value 'abc' is not a number"),
    ("x=1_000 y=2", "'_' digit separators are not allowed"),
    ("x=１ y=2", "is not an ASCII digit"),
    ("x=inf y=2", "at 'x=inf': the value must be finite"),
    ("x=nan y=2", "must be finite"),
    ("x y=2", "at 'x': expected NAME=VALUE, e.g. x=1.5"),
    ("x= y=2", "the value 'y=2' is not a number"),
    ("=1 x=1 y=2", "expected NAME=VALUE"),
    ("1=2 x=1 y=2", "at: 1 is not a variable"),
    ("x.__class__=1 x=1 y=2", "x.__class__ is not a variable"),
    ("x=1+1 y=2", "'1+1' is not a number"),
    ("x=1 y=2 " + "z" * DEFAULT.max_expression, f"the limit is {DEFAULT.max_expression}"),
])
def test_bad_points_are_refused(playground, at, says):
    status, data = playground.call("graph", "run", {"expr": "x*y + sin(x)", "at": at})
    assert status == 400 and says in data["error"], data


@pytest.mark.parametrize("body, says", [
    ({"at": "x=1"}, "expr: missing"),
    ({"expr": "x"}, "at: missing"),
    ({"expr": 3, "at": "x=1"}, "expr: expected text"),
    ({"expr": "x", "at": ["x", 1]}, "at: expected text"),
    ({"expr": "2 + 3", "at": ""}, "no variables"),
    ({"expr": "log(x)", "at": "x=-1"}, "its value is nan at x=-1.0"),
    ({"expr": "exp(x)", "at": "x=1000"}, "its value is inf"),
])
def test_bad_runs_are_refused(playground, body, says):
    status, data = playground.call("graph", "run", body)
    assert status == 400 and says in data["error"], data


def test_the_graph_size_is_capped():
    with TestClient(create_app(port=8000, max_graph_nodes=5), base_url="http://127.0.0.1:8000") as client:
        sid = client.post("/api/session", json={}).json()["session"]
        ok = client.post("/api/graph/run", json=EXAMPLE, headers={"x-session": sid})
        assert ok.status_code == 200 and ok.json()["nodes"] == 5
        r = client.post("/api/graph/run", json={"expr": "x*y + sin(x) + x", "at": "x=1 y=2"},
                        headers={"x-session": sid})
        assert r.status_code == 400
        assert r.json()["error"] == "expr: its graph has 6 nodes; the limit is max_graph_nodes = 5"


def test_unknown_session_and_action(playground):
    r = playground.client.post("/api/graph/run", json=EXAMPLE, headers={"x-session": "0" * 32})
    assert r.status_code == 404 and r.json()["code"] == "unknown-session"
    assert playground.call("graph", "draw", EXAMPLE)[0] == 404


# ----------------------------------------------------------------------------- the page

def numbers_in(text: str) -> list[float]:
    return [float(t) for t in re.findall(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?", text)]


def test_graph_page(playground_page):
    page = playground_page.open("graph")
    p = page.page
    p.get_by_test_id("graph-expr").fill(EXAMPLE["expr"])
    p.get_by_test_id("graph-at").fill(EXAMPLE["at"])
    p.get_by_test_id("graph-run").click()
    page.idle()
    assert page.text("graph-frame") == "0" and p.get_by_test_id("graph-play").text_content() == "play"
    assert page.text("graph-caption") == "forward: the inputs"
    view = p.get_by_test_id("graph-view")
    assert view.evaluate("v => v.tagName") == "svg" and view.locator("svg").count() == 1
    count = int(page.text("graph-frame-count"))
    for _ in range(count + 1):  # one more than the frames: the last frame stays the last
        p.get_by_test_id("graph-step").click()
    assert page.text("graph-frame") == str(count) and page.text("graph-caption").startswith("done:")

    value, (dx, dy) = engine_grads(EXAMPLE["expr"], {"x": 1.0, "y": 2.0})
    assert (dx, dy) == (2 + math.cos(1), 1.0)
    shown = view.text_content()
    for exact in (value, dx, dy):  # values and gradients in the picture, to 4 significant digits
        assert any(abs(v - exact) <= 5e-4 * abs(exact) for v in numbers_in(shown)), (exact, shown)
    assert f"grad {four_digits(dx)}" in shown and four_digits(value) in shown
    # and exactly, as read-outs
    assert float(page.text("graph-value")) == value
    assert float(page.text("graph-grad-x")) == dx and float(page.text("graph-grad-y")) == dy
    assert float(page.text("graph-input-x")) == 1.0 and float(page.text("graph-input-y")) == 2.0
    page.shot("graph")

    # back and the slider move through the same frames
    p.get_by_test_id("graph-back").click()
    assert page.text("graph-frame") == str(count - 1)
    p.get_by_test_id("graph-slider").fill("2")
    assert page.text("graph-frame") == "2" and page.text("graph-caption").startswith("forward: sin(x) = 0.8415")

    # a refused expression: the message says why, the view and the frame stay
    before = view.inner_html()
    p.get_by_test_id("graph-expr").fill("x.__class__")
    p.get_by_test_id("graph-run").click()
    page.idle()
    assert "attribute access" in page.message() and p.get_by_test_id("message").is_visible()
    assert view.inner_html() == before and page.text("graph-frame") == "2"
    assert float(page.text("graph-grad-x")) == dx
    page.check_clean()


def test_four_digits_is_how_the_graph_writes_numbers():
    from tinygrad_mvc.viz.graph import _num

    for x in (2.5403023058681398, 1.0, -0.5, 2.8414709848078967, 1e-7, 123456.0):
        assert four_digits(x) == _num(np.float64(x))
