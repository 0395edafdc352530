"""The Sandpit tab (issue 17 item 2, API.md §12): its API through Starlette's test client, then the page in Chromium.

Every number the tab shows is compared, exactly, with the engine's own functions called with their defaults:
``tg.optimize.gradient_descent`` / ``newton_minimize``, a hand-written ``tg.optim.Adam`` loop, ``tg.grad`` and
``tg.hessian``, with f written here as Python (bowl, Rosenbrock) or parsed by ``tinygrad_mvc.expr`` (the pits).
"""

from __future__ import annotations

import doctest
import math
from typing import Any

import numpy as np
import pytest

import tinygrad_mvc as tg
from tinygrad_mvc.expr import parse
from tinygrad_mvc.playground.protocol import sample_grid
from tinygrad_mvc.playground.tabs import sandpit


def bowl(x: Any, y: Any) -> Any:
    return x**2 + y**2


def rosenbrock(x: Any, y: Any) -> Any:
    return (1 - x)**2 + 100*(y - x**2)**2


def himmelblau(x: Any, y: Any) -> Any:
    return (x**2 + y - 11)**2 + (x + y**2 - 7)**2


PITS = parse(sandpit.PRESETS["pits"]["formula"])


def pits(x: Any, y: Any) -> Any:
    return PITS(x=x, y=y)


HOSTILE = ["__import__('os')", "x.__class__", "open('f')", "x" * 1000, "lambda: x", "x; y", "'x'", "x[0]",
           "eval('x')", "().__class__", "z * x", "", "   ", 12, None, ["x"], {"x": 1}]


def adam_loop(f: Any, start: tuple[float, float], lr: float) -> tuple[int, np.ndarray, float, bool]:
    """tg.optim.Adam stepped until max |grad| <= 1e-8 or 1000 steps: (n, iterate n, f there, converged)."""
    p = tg.tensor(np.array(start), requires_grad=True)
    opt = tg.optim.Adam([p], lr=lr)
    for k in range(1001):
        opt.zero_grad()
        loss = f(p[0], p[1])
        loss.backward()
        if np.max(np.abs(p.grad.data)) <= 1e-8 or k == 1000:
            return k, p.data.copy(), loss.item(), k < 1000
        opt.step()
    raise AssertionError("unreachable")


def engine_run(method: str, f: Any, start: tuple[float, float], lr: float) -> tuple[int, list, float]:
    if method == "adam":
        n, x, value, _ = adam_loop(f, start, lr)
        return n, x.tolist(), value
    if method == "newton":
        r = tg.optimize.newton_minimize(f, start)
    else:
        r = tg.optimize.gradient_descent(f, start, lr=lr, **({"momentum": 0.9} if method == "momentum" else {}))
    return r.n_iter, np.asarray(r.x).tolist(), float(r.fun)


def test_docstring_examples():
    result = doctest.testmod(sandpit, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted >= 6


# --------------------------------------------------------------------------------------------- the API

@pytest.fixture
def playground_class(playground):
    """The shared fixture's client wrapper, to wrap a second app with small caps the same way."""
    return playground

def test_presets_are_the_contracts_formulas(playground):
    data = playground.ok("sandpit", "presets")
    formulas = {p["name"]: p["formula"] for p in data["presets"]}
    assert formulas["bowl"] == "x**2 + y**2" and formulas["rosenbrock"] == "(1 - x)**2 + 100*(y - x**2)**2"
    assert {"pits", "saddle", "himmelblau"} <= set(formulas) and data["methods"] == ["gd", "momentum", "newton", "adam"]
    for p in data["presets"]:
        xmin, xmax, ymin, ymax = p["domain"]
        assert xmin <= p["start"][0] <= xmax and ymin <= p["start"][1] <= ymax


def test_landscape_is_the_engines_grid(playground):
    sid = playground.session()
    land = playground.ok("sandpit", "landscape", {"preset": "rosenbrock"}, sid)
    assert land["expr"] == "(1 - x)**2 + 100*(y - x**2)**2" and land["domain"] == [-2.0, 2.0, -1.0, 3.0]
    grid = np.array(land["grid"])
    xs, ys = np.meshgrid(np.linspace(-2, 2, 80), np.linspace(-1, 3, 80))
    assert grid.shape == (80, 80) and np.array_equal(grid, rosenbrock(xs, ys))
    assert land["start"] == [-1.2, 1.0] and land["at"]["value"] == rosenbrock(-1.2, 1.0)
    typed = playground.ok("sandpit", "landscape", {"expr": "sin(x) * y", "grid": 30}, sid)  # keeps the domain
    assert typed["preset"] == "" and typed["domain"] == land["domain"] and typed["start"] == land["start"]
    assert np.array_equal(typed["grid"], sample_grid(parse("sin(x) * y"), land["domain"], 30))
    moved = playground.ok("sandpit", "landscape", {"expr": "x*y", "domain": "5 6 5 6"}, sid)
    assert moved["domain"] == [5.0, 6.0, 5.0, 6.0] and moved["start"] == [5.5, 5.5]  # the old start was outside


@pytest.mark.parametrize("body, words", [
    ({"expr": "x", "domain": "1 0 0 1"}, "xmin < xmax"), ({"expr": "x", "domain": "a b c d"}, "expected a number"),
    ({"expr": "x", "domain": [0, 1, 2]}, "4 numbers"), ({"expr": "x", "domain": [0, 1e300, 0, 1]}, "out of range"),
    ({"expr": "x", "grid": 121}, "max_grid = 120"), ({"expr": "x", "grid": 2.5}, "whole number"),
    ({"expr": "x", "grid": 1}, "out of range"), ({"preset": "volcano"}, "not one of"),
    ({"expr": "log(-1 - x**2)"}, "not finite anywhere"), ({}, "expr: missing"),
])
def test_landscape_refusals(playground, body, words):
    status, data = playground.call("sandpit", "landscape", body)
    assert status == 400 and words in data["error"], data


def _snapshot(playground, sid: str) -> dict[str, Any]:
    """What a refusal must not change: the landscape (a run on it), the start, and the stored path."""
    again = playground.ok("sandpit", "run", {"method": "newton", "lr": 0.001}, sid)
    return {"run": (again["n"], again["position"], again["start"]), "land": again["values"][:3]}


def test_refused_input_changes_nothing(playground):
    sid = playground.session()
    playground.ok("sandpit", "landscape", {"preset": "rosenbrock"}, sid)
    playground.ok("sandpit", "start", {"start": [0.5, 0.25]}, sid)
    before = _snapshot(playground, sid)
    refusals = [("landscape", {"expr": e}) for e in HOSTILE] + [
        ("landscape", {"expr": "x", "domain": "0 0 0 0"}), ("start", {"start": [9.0, 0.0]}),
        ("start", {"start": "abc"}), ("start", {"start": [1.0]}), ("start", {"start": ["nan", 0.0]}),
        ("start", {"start": True}), ("run", {"method": "gd", "lr": 0}), ("run", {"method": "gd", "lr": -1}),
        ("run", {"method": "gd", "lr": 1e9}), ("run", {"method": "gd", "lr": "fast"}), ("run", {"method": "gd"}),
        ("run", {"method": "sgd", "lr": 0.1}), ("run", {"method": 3, "lr": 0.1}), ("run", {"lr": 0.1}),
        ("run", {"method": "gd", "lr": 0.1, "start": [0.0, 99.0]}), ("inspect", {"index": 10**6}),
        ("inspect", {"index": -1}), ("inspect", {"point": "x, y"}), ("game", {"on": "yes"}), ("dip", {"point": [0, 0]}),
    ]
    for action, body in refusals:
        status, data = playground.call("sandpit", action, body, sid)
        assert status == 400 and data["error"], (action, body, data)
    assert _snapshot(playground, sid) == before
    last = playground.ok("sandpit", "inspect", {"index": 3}, sid)  # the stored path survived every refusal
    assert last["iterate"] == 3


@pytest.mark.parametrize("method, preset, f, start, lr", [
    ("gd", "bowl", bowl, (1.5, -0.75), 0.1), ("momentum", "bowl", bowl, (1.5, -0.75), 0.05),
    ("newton", "rosenbrock", rosenbrock, (-1.2, 1.0), 0.1), ("gd", "himmelblau", himmelblau, (-0.5, 0.5), 0.01),
    ("adam", "pits", pits, (2.5, 1.25), 0.05), ("newton", "pits", pits, (1.0, 1.0), 0.1),
])
def test_runs_are_the_engines_with_defaults(playground, method, preset, f, start, lr):
    sid = playground.session()
    playground.ok("sandpit", "landscape", {"preset": preset}, sid)
    r = playground.ok("sandpit", "run", {"method": method, "lr": str(lr), "start": list(start)}, sid)
    n, x, value = engine_run(method, f, start, lr)
    assert (r["n"], r["position"], r["value"]) == (n, x, value)
    assert len(r["path"]) == n + 1 and r["path"][0] == list(start) and r["path"][-1] == x and not r["thinned"]
    assert r["iterates"] == list(range(n + 1)) and r["values"][-1] == value and r["start"] == list(start)
    if method != "adam":
        ref = (tg.optimize.newton_minimize(f, start) if method == "newton" else
               tg.optimize.gradient_descent(f, start, lr=lr, momentum=0.9 if method == "momentum" else 0.0))
        assert r["path"] == ref.history.tolist() and (r["converged"], r["message"]) == (ref.converged, ref.message)


def test_inspect_is_tg_grad_and_tg_hessian(playground):
    sid = playground.session()
    playground.ok("sandpit", "landscape", {"preset": "pits"}, sid)
    status, data = playground.call("sandpit", "inspect", {"index": 0}, sid)
    assert status == 400 and "no path yet" in data["error"]
    run = playground.ok("sandpit", "run", {"method": "gd", "lr": 0.4, "start": [2.9, 3.3]}, sid)
    h = lambda v: pits(v[0], v[1])  # noqa: E731
    for body, p in [({"index": 5}, run["path"][5]), ({"point": "2.9, 3.3"}, [2.9, 3.3])]:
        at = playground.ok("sandpit", "inspect", body, sid)["at"]
        H = tg.hessian(h)(np.array(p))
        lam, vec = np.linalg.eigh(H)
        assert at["point"] == p and at["value"] == float(h(tg.tensor(p)).item())
        assert at["gradient"] == tg.grad(h)(np.array(p)).tolist() and at["hessian"] == H.tolist()
        assert at["eigenvalues"] == lam.tolist() and at["eigenvectors"] == vec.tolist()
    assert at["curving"] == ["down", "up"]  # PROBE of the course: saddle-shaped between the dips
    assert run["at"]["stationary"] and run["at"]["curving"] == ["up", "up"]


def test_caps_thin_the_path_and_bound_every_request(playground_class):
    from starlette.testclient import TestClient

    from tinygrad_mvc.playground import create_app

    app = create_app(port=8000, max_path=10, max_steps=50, max_grid=20, max_expression=20)
    with TestClient(app, base_url="http://127.0.0.1:8000") as client:
        pg = type(playground_class)(client)
        sid = pg.session()
        pg.ok("sandpit", "landscape", {"preset": "rosenbrock"}, sid)  # a preset's formula is never capped
        r = pg.ok("sandpit", "run", {"method": "gd", "lr": 0.001, "start": [-1.0, 2.0]}, sid)
        ref = tg.optimize.gradient_descent(rosenbrock, (-1.0, 2.0), lr=0.001, max_iter=50)  # max_steps paces it
        assert r["n"] == 50 and r["thinned"] and len(r["path"]) == 10 and r["iterates"][::9] == [0, 50]
        assert r["path"] == ref.history[r["iterates"]].tolist() and r["position"] == ref.x.tolist()
        assert pg.call("sandpit", "landscape", {"expr": "x", "grid": 21}, sid)[1]["error"].endswith("max_grid = 20")
        assert "limit is 20" in pg.call("sandpit", "landscape", {"expr": "x + y + x + y + x + y"}, sid)[1]["error"]
        pg.ok("sandpit", "landscape", {"preset": "bowl"}, sid)
        pg.ok("sandpit", "game", {"on": True}, sid)
        for k in range(10):
            assert pg.ok("sandpit", "dip", {"point": [1.5, 1.5]}, sid)["clicks"] == k + 1
        status, data = pg.call("sandpit", "dip", {"point": [0, 0]}, sid)
        assert status == 400 and "max_path = 10" in data["error"]


def test_game_finds_the_global_minimum_and_counts_clicks(playground):
    sid = playground.session()
    playground.ok("sandpit", "landscape", {"preset": "saddle"}, sid)
    status, data = playground.call("sandpit", "game", {"on": True}, sid)
    assert status == 400 and "no minimum inside" in data["error"]
    assert "not on" in playground.call("sandpit", "dip", {"point": [0, 0]}, sid)[1]["error"]
    playground.ok("sandpit", "landscape", {"preset": "pits"}, sid)
    game = playground.ok("sandpit", "game", {"on": True}, sid)
    assert game == {"on": True, "clicks": 0, "tolerance": 0.03 * 6}
    far = playground.ok("sandpit", "dip", {"point": [1.6, 1.7]}, sid)  # the second-deepest dip does not win
    g = tg.grad(lambda v: pits(v[0], v[1]))(np.array([1.6, 1.7]))
    assert (far["clicks"], far["won"], far["gradient"]) == (1, False, g.tolist()) and "minima" not in far
    deepest = tg.optimize.newton_minimize(pits, (4.2, 4.0))
    won = playground.ok("sandpit", "dip", {"point": [4.25, 3.95]}, sid)
    assert won["won"] and won["clicks"] == 2 and len(won["minima"]) == 1
    assert np.allclose(won["minima"][0], deepest.x, atol=1e-7) and math.isclose(won["minimum_value"], deepest.fun)
    assert "already found" in playground.call("sandpit", "dip", {"point": [4.2, 4.0]}, sid)[1]["error"]
    playground.ok("sandpit", "landscape", {"preset": "himmelblau"}, sid)  # four global minima, all f = 0
    playground.ok("sandpit", "game", {"on": True}, sid)
    won = playground.ok("sandpit", "dip", {"point": [-2.8, 3.1]}, sid)
    assert won["won"] and len(won["minima"]) == 4 and [3.0, 2.0] in np.round(won["minima"], 6).tolist()
    assert playground.ok("sandpit", "game", {"on": False}, sid)["on"] is False


def test_unknown_session_and_malformed_requests(playground):
    status, data = playground.call("sandpit", "run", {"method": "gd", "lr": 0.1}, sid="no-such-session")
    assert status == 404 and data["code"] == "unknown-session"
    assert playground.call("sandpit", "teleport", {})[0] == 404
    r = playground.client.post("/api/sandpit/run", json=[1, 2], headers={"x-session": playground.session()})
    assert r.status_code == 400 and "JSON object" in r.json()["error"]
    big = {"expr": "x" * 70_000}
    r = playground.client.post("/api/sandpit/landscape", json=big, headers={"x-session": playground.session()})
    assert r.status_code == 413


# --------------------------------------------------------------------------------------------- the page

IDLE = "() => document.body.dataset.pending === '0'"


@pytest.fixture(scope="module")
def page(playground_page):
    # conftest's idle() passes a bare expression, which Playwright evaluates with eval(): the page's CSP refuses
    # that as soon as it has to poll; the function form is not evaluated by the page.
    playground_page.idle = lambda timeout=10_000: playground_page.page.wait_for_function(IDLE, timeout=timeout)
    return playground_page.open("sandpit")


def _settle(page) -> None:
    page.idle()
    page.page.wait_for_selector("[data-testid=sandpit-map][data-drawn=all]")


def _click_map(page, x: float, y: float) -> tuple[float, float, float, float]:
    """Click the map where (x, y) is, from its box and data-domain as an outside test would; the point and the
    size of one pixel in x and y."""
    canvas = page.page.get_by_test_id("sandpit-map")
    box = canvas.bounding_box()
    a, b, c, d = map(float, canvas.get_attribute("data-domain").split())
    px, py = round((x - a) / (b - a) * box["width"]), round((d - y) / (d - c) * box["height"])
    canvas.click(position={"x": px, "y": py})
    page.idle()
    return a + px / box["width"] * (b - a), d - py / box["height"] * (d - c), (b - a) / box["width"], \
        (d - c) / box["height"]


def _start(page) -> tuple[float, float]:
    sx, sy = page.text("sandpit-start").split(", ")
    return float(sx), float(sy)


def _run(page, method: str, lr: str | None = None) -> tuple[int, list[float], float]:
    p = page.page
    if lr is not None:
        p.get_by_test_id("sandpit-lr").fill(lr)
    p.get_by_test_id("sandpit-method").select_option(method)
    p.get_by_test_id("sandpit-run").click()
    page.idle()  # the read-outs are final with the answer; the path may still be drawing itself
    return int(page.text("sandpit-steps")), [float(v) for v in page.text("sandpit-position").split(", ")], \
        float(page.text("sandpit-value"))


def test_page_bowl_gradient_descent_and_a_refused_expression(page):
    p = page.page
    p.get_by_test_id("sandpit-preset").select_option("bowl")
    assert p.get_by_test_id("sandpit-expr").input_value() == "x**2 + y**2"
    page.idle()
    x, y, dx, dy = _click_map(page, 1.3, -0.8)
    start = _start(page)
    assert abs(start[0] - x) <= dx and abs(start[1] - y) <= dy
    n, position, value = _run(page, "gd", "0.1")
    r = tg.optimize.gradient_descent(bowl, start, lr=0.1)
    assert (n, position, value) == (r.n_iter, r.x.tolist(), r.fun) and page.text("sandpit-converged") == "true"
    _settle(page)
    shown = {t: page.text(t) for t in ("sandpit-start", "sandpit-steps", "sandpit-position", "sandpit-value",
                                       "sandpit-at", "sandpit-gradient")}
    pixels = p.get_by_test_id("sandpit-map").evaluate("(c) => c.toDataURL()")
    domain = p.get_by_test_id("sandpit-map").get_attribute("data-domain")
    for hostile, words in (("__import__('os')", "__import__"), ("z * x", "unknown variable z")):
        p.get_by_test_id("sandpit-expr").fill(hostile)
        p.get_by_test_id("sandpit-apply").click()
        page.idle()
        assert words in page.message() and {t: page.text(t) for t in shown} == shown
    assert p.get_by_test_id("sandpit-map").evaluate("(c) => c.toDataURL()") == pixels
    assert p.get_by_test_id("sandpit-map").get_attribute("data-domain") == domain
    p.get_by_test_id("sandpit-lr").fill("-1")
    p.get_by_test_id("sandpit-run").click()
    page.idle()
    assert "lr" in page.message() and {t: page.text(t) for t in shown} == shown
    p.get_by_test_id("sandpit-lr").fill("0.1")


def test_page_rosenbrock_newton_and_adam(page):
    p = page.page
    p.get_by_test_id("sandpit-preset").select_option("rosenbrock")
    page.idle()
    assert p.get_by_test_id("sandpit-expr").input_value() == "(1 - x)**2 + 100*(y - x**2)**2"
    _click_map(page, -1.5, 2.2)
    start = _start(page)
    n, position, value = _run(page, "newton")
    r = tg.optimize.newton_minimize(rosenbrock, start)
    assert (n, position, value) == (r.n_iter, r.x.tolist(), r.fun)
    p.get_by_test_id("sandpit-iterate").fill("3")  # the slider picks iterate 3: its gradient and Hessian
    page.idle()
    h = lambda v: rosenbrock(v[0], v[1])  # noqa: E731
    at = r.history[3]
    assert [float(v) for v in page.text("sandpit-at").split(", ")] == at.tolist()
    assert [float(v) for v in page.text("sandpit-gradient").split(", ")] == tg.grad(h)(at).tolist()
    lam = np.linalg.eigh(tg.hessian(h)(at))[0]
    assert [float(v) for v in page.text("sandpit-eigenvalues").split(", ")] == lam.tolist()
    _settle(page)
    page.shot("sandpit")
    n, position, value = _run(page, "adam", "0.05")
    assert (n, position, value) == (lambda k, x, v, _: (k, x.tolist(), v))(*adam_loop(rosenbrock, start, 0.05))


def test_page_game_mode(page):
    p = page.page
    p.get_by_test_id("sandpit-preset").select_option("pits")
    page.idle()
    p.get_by_test_id("sandpit-game").check()
    page.idle()
    assert page.text("sandpit-game-status") == "playing" and page.text("sandpit-clicks") == "0"
    for x, y in [(1.0, 1.0), (3.0, 3.0), (5.0, 2.0), (1.6, 1.7)]:
        _click_map(page, x, y)
    assert page.text("sandpit-clicks") == "4" and page.text("sandpit-game-status") == "playing"
    dip = [float(v) for v in page.text("sandpit-dip").split(", ")]
    assert float(page.text("sandpit-dip-value")) == pits(*dip).item()
    page.shot("sandpit_game")
    deepest = tg.optimize.newton_minimize(pits, (4.2, 4.0))
    _click_map(page, *deepest.x)
    assert page.text("sandpit-game-status") == "won" and page.text("sandpit-clicks") == "5"
    found = [float(v) for v in page.text("sandpit-minimum").split(", ")]
    assert np.allclose(found, deepest.x, atol=1e-7) and "Found in 5 clicks" in page.message()
    page.shot("sandpit_game_won")
    p.get_by_test_id("sandpit-game").uncheck()
    page.idle()
    # Chromium logs every 400 answer ("Failed to load resource"): those are the refusals this module provoked
    page.errors[:] = [e for e in page.errors if "status of 400" not in e]
    page.check_clean()
