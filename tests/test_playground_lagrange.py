"""The playground's Lagrange tab: its API against tg.optimize.lagrange_multipliers, and the page in Chromium."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_mvc as tg
from tinygrad_mvc.course.optimisation import LAGRANGE_EXPECTED
from tinygrad_mvc.expr import parse
from tinygrad_mvc.playground.limits import DEFAULT
from tinygrad_mvc.playground.protocol import sample_grid
from tinygrad_mvc.playground.tabs import lagrange

CIRCLE = {"f": "x + y", "g": "x**2 + y**2 - 1", "domain": [-2, 2, -2, 2]}
COURSE = {"f": "x**2*y", "g": "x**2 + y**2 - 3", "domain": [-2.5, 2.5, -2.5, 2.5]}
R = 1 / math.sqrt(2)


def engine(text: str):
    e = parse(text)
    return lambda x, y: e.evaluate({v: {"x": x, "y": y}[v] for v in e.variables})


def reference(body: dict, start) -> object:
    """lagrange_multipliers itself, with its defaults, from a start near the point."""
    return tg.optimize.lagrange_multipliers(engine(body["f"]), engine(body["g"]), start)


# ----------------------------------------------------------------------------- API

def test_solve_circle_matches_the_engine(playground):
    out = playground.ok("lagrange", "solve", CIRCLE)
    points = out["points"]
    assert [p["kind"] for p in points] == ["minimum", "maximum"]  # sorted by x
    for p, sign in zip(points, (-1, 1), strict=True):
        r = reference(CIRCLE, [sign * 0.6, sign * 0.8])
        assert r.converged and r.classification == p["kind"]
        assert np.allclose(p["x"], r.x, rtol=0, atol=1e-15) and np.allclose(p["x"], [sign * R, sign * R], atol=1e-15)
        assert abs(p["lambda"] - r.multipliers[0]) < 1e-15 and abs(p["lambda"] - sign * R) < 1e-15
        assert p["f"] == pytest.approx(r.fun, abs=1e-15)
    assert out["starts"] == lagrange.MIN_STARTS and out["starts_on_curve"] is True  # nothing new after 2 points
    assert "2 stationary points" in out["note"]


def test_solve_without_a_curve_says_so(playground):
    out = playground.ok("lagrange", "solve", {**CIRCLE, "g": "1"})
    assert out["points"] == [] and out["starts_on_curve"] is False
    assert "no stationary point" in out["note"]


def test_points_outside_fs_domain_are_left_out(playground):
    points = playground.ok("lagrange", "solve", {**CIRCLE, "f": "log(x)"})["points"]
    assert [(p["x"], p["kind"]) for p in points] == [([1.0, 0.0], "maximum")]  # not log(-1) = nan at (-1, 0)


def test_map_is_the_engines_grid(playground):
    out = playground.ok("lagrange", "map", {**COURSE, "n": 21})
    f_grid = sample_grid(parse(COURSE["f"]), COURSE["domain"], 21)
    assert np.array_equal(np.array(out["f"]), f_grid)
    assert np.array_equal(np.array(out["g"]), sample_grid(parse(COURSE["g"]), COURSE["domain"], 21))
    assert out["f_range"] == [f_grid.min(), f_grid.max()] and out["curve"] is True
    # non-finite values travel as JavaScript writes them
    logs = playground.ok("lagrange", "map", {"f": "log(x)", "g": "y", "domain": "-1 1 -1 1", "n": 9})
    assert logs["f"][0][0] == "NaN" and logs["f"][0][4] == "-Infinity"


def test_cursor_is_the_engines_gradient(playground):
    out = playground.ok("lagrange", "cursor", {**CIRCLE, "f": "x*exp(-(x**2 + y**2))", "at": [0.3, -0.4]})
    value, grad = tg.value_and_grad(engine("x*exp(-(x**2 + y**2))"), argnums=(0, 1))(0.3, -0.4)
    assert out["f"] == value and out["grad_f"] == [float(grad[0]), float(grad[1])]
    assert out["grad_g"] == [0.6, -0.8] and out["g"] == 0.3 ** 2 + 0.4 ** 2 - 1
    assert out["parallel"] is False and "apart" in out["note"]
    at_point = playground.ok("lagrange", "cursor", {**CIRCLE, "at": [R, R]})
    assert at_point["parallel"] is True and at_point["angle"] < 1e-6 and "Lagrange" in at_point["note"]
    flat = playground.ok("lagrange", "cursor", {**CIRCLE, "f": "3", "at": "0.5, 0.5"})
    assert flat["grad_f"] == [0.0, 0.0] and "λ = 0" in flat["note"]


HOSTILE = ["__import__('os').system('x')", "x.__class__", "open('f')", "x" * 1000, "lambda: 1", "x[0]",
           "exec('1')", "z + x", "", "x +"]


@pytest.mark.parametrize("action", ["map", "solve", "cursor"])
@pytest.mark.parametrize("bad", HOSTILE, ids=[f"hostile{k}" for k in range(len(HOSTILE))])
def test_hostile_expressions_are_refused(playground, action, bad):
    for key in ("f", "g"):
        status, data = playground.call("lagrange", action, {**CIRCLE, "at": [0, 0], key: bad})
        assert status == 400 and data["error"].startswith(f"{key}:"), data


@pytest.mark.parametrize("body, says", [
    ({"domain": [-2, 2, -2]}, "domain: expected 4 numbers"),
    ({"domain": [2, -2, -2, 2]}, "xmin < xmax"),
    ({"domain": [-2, 2, "a", 2]}, "domain: expected a number"),
    ({"domain": [-2, 2, -2, "nan"]}, "finite"),
    ({"domain": [-2, 2, -2, 1e9]}, "out of range"),
    ({"domain": [-20, 20, -1, 1]}, "the limit is 10"),
    ({"domain": None}, "domain"),
    ({"f": 3}, "f: expected text"),
    ({"g": None}, "g: expected text"),
    ({"f": "x" * (DEFAULT.max_expression + 1)}, f"the limit is {DEFAULT.max_expression}"),
    ({"n": DEFAULT.max_grid + 1}, f"between 8 and {DEFAULT.max_grid}"),
    ({"n": 20.5}, "whole number"),
    ({"n": "many"}, "n: expected a number"),
])
def test_bad_map_requests_are_refused(playground, body, says):
    status, data = playground.call("lagrange", "map", {**CIRCLE, **body})
    assert status == 400 and says in data["error"], data


def test_missing_fields_and_bad_points_are_refused(playground):
    for action in ("map", "solve", "cursor"):
        for key in ("f", "g"):
            body = {**CIRCLE, "at": [0, 0]}
            del body[key]
            assert playground.call("lagrange", action, body) == (400, {"error": f"{key}: missing"})
    for at, says in [(None, "at: missing"), ([1], "expected 2 numbers"), ("1, x", "expected a number"),
                     ([1, 1e30], "out of range"), ([True, 1], "expected a number")]:
        body = {**CIRCLE} if at is None else {**CIRCLE, "at": at}
        status, data = playground.call("lagrange", "cursor", body)
        assert status == 400 and says in data["error"], data


def test_unknown_session_and_action(playground):
    r = playground.client.post("/api/lagrange/solve", json=CIRCLE, headers={"x-session": "nope"})
    assert r.status_code == 404 and r.json()["code"] == "unknown-session"
    assert playground.call("lagrange", "explode", CIRCLE)[0] == 404


def test_the_tab_keeps_no_state():
    """Every answer depends on its own request only: a refusal cannot change what the next request sees."""
    state: dict = {}
    body = {**CIRCLE, "at": [0.5, 0.25], "n": 9}
    first = [lagrange.ACTIONS[a](state, body, DEFAULT) for a in ("map", "cursor")]
    for action in ("map", "solve", "cursor"):
        with pytest.raises(lagrange.Refused):
            lagrange.ACTIONS[action](state, {**body, "f": "x.__class__"}, DEFAULT)
    again = [lagrange.ACTIONS[a](state, body, DEFAULT) for a in ("map", "cursor")]
    assert state == {} and repr(again) == repr(first)


# ----------------------------------------------------------------------------- the page

def points_shown(page) -> list[dict]:
    # as an outside test reads them: every element with the testid is one point
    items = page.page.get_by_test_id("lagrange-points").all()
    assert [i.text_content() for i in items] == page.page.eval_on_selector_all(
        "[data-testid='lagrange-points']", "items => items.map(li => li.textContent)")
    return page.page.eval_on_selector_all(
        "[data-testid='lagrange-point-list'] > li[data-testid='lagrange-points']",
        "items => items.map(li => ({text: li.textContent, lambda: li.dataset.lambda, kind: li.dataset.kind}))")


def parse_point(text: str) -> list[float]:
    x, y = text.split(", ")
    return [float(x), float(y)]


def test_lagrange_page(playground_page):
    page = playground_page.open("lagrange")
    f, g = page.page.get_by_test_id("lagrange-f"), page.page.get_by_test_id("lagrange-g")
    f.fill(CIRCLE["f"])
    g.fill(CIRCLE["g"])
    page.page.get_by_test_id("lagrange-solve").click()
    page.idle()
    shown = points_shown(page)
    assert [p["kind"] for p in shown] == ["minimum", "maximum"]
    for p, sign in zip(shown, (-1, 1), strict=True):
        r = reference(CIRCLE, [sign * 0.6, sign * 0.8])
        assert np.allclose(parse_point(p["text"]), r.x, rtol=0, atol=1e-15)
        assert abs(float(p["lambda"]) - r.multipliers[0]) < 1e-15 and p["kind"] == r.classification

    # another example, chosen from the list: x²y on x² + y² = 3 has six stationary points
    page.page.get_by_test_id("lagrange-preset").select_option("course")
    page.idle()
    assert page.message() == "" and f.input_value() == COURSE["f"]
    shown = points_shown(page)
    expected = sorted(LAGRANGE_EXPECTED, key=lambda e: (round(e[0], 9), e[1]))
    assert [p["kind"] for p in shown] == [e[4] for e in expected]
    for p, (x, y, lam, _, kind) in zip(shown, expected, strict=True):
        r = reference(COURSE, [x + 0.05, y - 0.05])
        assert r.classification == kind
        assert np.allclose(parse_point(p["text"]), r.x, atol=1e-9) and abs(float(p["lambda"]) - lam) < 1e-9

    # the cursor: ∇f and ∇g from the engine, exactly, at the point the page says it sent
    canvas = page.page.get_by_test_id("lagrange-map")
    assert canvas.get_attribute("data-domain") == "-2.5 2.5 -2.5 2.5"
    box = canvas.bounding_box()
    page.page.mouse.move(box["x"] + 0.75 * box["width"], box["y"] + 0.3 * box["height"])
    page.page.wait_for_function("() => document.querySelector(\"[data-testid='lagrange-cursor']\").textContent")
    page.idle()
    at = parse_point(page.text("lagrange-cursor"))
    _, gf = tg.value_and_grad(engine(COURSE["f"]), argnums=(0, 1))(*at)
    _, gg = tg.value_and_grad(engine(COURSE["g"]), argnums=(0, 1))(*at)
    assert parse_point(page.text("lagrange-grad-f")) == [float(v) for v in gf]
    assert parse_point(page.text("lagrange-grad-g")) == [float(v) for v in gg]
    assert 1.0 < at[0] < 1.5 and 0.8 < at[1] < 1.2
    page.shot("lagrange")

    # a refused f: the message says why; the points, the map and the read-outs stay
    picture = canvas.evaluate("c => c.toDataURL()")
    readouts = [page.text(t) for t in ("lagrange-cursor", "lagrange-grad-f", "lagrange-grad-g")]
    f.fill("__import__('os').system('x')")
    f.press("Enter")
    page.idle()
    assert "f: expression" in page.message() and page.page.get_by_test_id("message").is_visible()
    assert points_shown(page) == shown and canvas.evaluate("c => c.toDataURL()") == picture
    page.page.get_by_test_id("lagrange-solve").click()  # solving what the map shows would hide the refusal
    page.idle()
    assert points_shown(page) == shown and "f: expression" in page.message()
    assert [page.text(t) for t in ("lagrange-cursor", "lagrange-grad-f", "lagrange-grad-g")] == readouts
    page.check_clean()
