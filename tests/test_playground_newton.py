"""The playground's Newton-Raphson tab (issue 17, item 4): its API and its page, against tg.optimize.newton_raphson."""

from __future__ import annotations

import doctest

import pytest

import tinygrad_mvc as tg
from tinygrad_mvc.playground.limits import Limits
from tinygrad_mvc.playground.protocol import jsonable
from tinygrad_mvc.playground.tabs import newton as tab

HOSTILE = ["__import__('os')", "x.__class__", "open('f')", "x" * 1000, "exec('1')", "x if x else 0", "{}"]
FUNCTIONS = {  # the presets as a student writes them for the engine
    "x**3 - 2*x - 5": lambda x: x ** 3 - 2 * x - 5,
    "(x-1)*(x-2)*(x-3)*(x+1)": lambda x: (x - 1) * (x - 2) * (x - 3) * (x + 1),
    "x**3 - 2*x + 2": lambda x: x ** 3 - 2 * x + 2,
    "arctan(x)": tg.arctan,
    "x**2 + 1": lambda x: x ** 2 + 1,
    "cos(x) - x": lambda x: tg.cos(x) - x,
    "log(x)": tg.log,
    "5": lambda x: 5 + 0 * x,
}


def run(pg, sid, expr, x0, method="newton", most=10):
    """Start, then step until the status is no longer running (after ``most`` steps, finish): the iterates
    shown and the final answer."""
    view = pg.ok("newton", "start", {"expr": expr, "x0": x0, "method": method}, sid)
    assert view["status"] == "running" and view["k"] == 0 and view["x"] == x0
    xs = [view["x"]]
    for _ in range(most):
        view = pg.ok("newton", "step", {}, sid)
        if view["k"] != len(xs) - 1:
            xs.append(view["x"])
        if view["status"] != "running":
            return xs, view
    view = pg.ok("newton", "finish", {}, sid)
    return xs + view["history"][len(xs):], view


def expected_status(result) -> str:
    word = tab.verdict(result)
    return result.message if result.message.startswith(word) else f"{word}: {result.message}"


# --------------------------------------------------------------------------- API


@pytest.mark.parametrize(("expr", "x0", "method", "word"), [
    ("x**3 - 2*x - 5", 2.0, "newton", "converged"), ("(x-1)*(x-2)*(x-3)*(x+1)", 0.0, "newton", "converged"),
    ("x**3 - 2*x + 2", 0.0, "newton", "cycle"), ("arctan(x)", 1.5, "newton", "diverged"),
    ("x**2 + 1", 0.5, "newton", "diverged"), ("x**2 + 1", 0.0, "newton", "zero derivative"),
    ("cos(x) - x", 1.0, "newton", "converged"), ("log(x)", -1.0, "newton", "diverged"),
    ("x**3 - 2*x - 5", 2.0, "secant", "converged"), ("arctan(x)", 1.5, "secant", "converged"),
    ("5", 1.0, "secant", "zero derivative"),
])
def test_every_iterate_and_the_verdict_are_newton_raphsons(playground, expr, x0, method, word):
    result = tg.optimize.newton_raphson(FUNCTIONS[expr], x0, **({"method": method} if method != "newton" else {}))
    xs, final = run(playground, playground.session(), expr, x0, method)
    assert xs == result.history.tolist()
    assert final["status"] == expected_status(result) and final["status"].startswith(word)
    assert final["word"] == word and final["stopped"] and final["x"] == float(result.x)
    assert final["history"] == result.history.tolist() and final["values"] == jsonable(result.values)


def test_a_stop_at_x0_itself_needs_one_step_to_show(playground):
    sid = playground.session()
    xs, final = run(playground, sid, "x**2 + 1", 0.0)
    assert xs == [0.0] and final["status"].startswith("zero derivative f'(x) = 0 at x = 0")


def test_steps_after_the_stop_change_nothing_and_finish_runs_to_the_end(playground):
    sid = playground.session()
    playground.ok("newton", "start", {"expr": "x**3 - 2*x - 5", "x0": 2.0, "method": "newton"}, sid)
    final = playground.ok("newton", "finish", {}, sid)
    assert final["status"].startswith("converged in 5 iterations") and final["k"] == 5
    assert playground.ok("newton", "step", {}, sid) == final == playground.ok("newton", "view", {}, sid)
    restarted = playground.ok("newton", "start", {}, sid)  # restart: same f and x0
    assert restarted["status"] == "running" and restarted["x"] == 2.0 and restarted["k"] == 0


def test_a_fresh_session_shows_the_default_run(playground):
    view = playground.ok("newton", "view", {}, playground.session())
    assert (view["expr"], view["x0"], view["method"], view["status"]) == ("x**3 - 2*x - 5", 2.0, "newton", "running")


def test_the_picture_tangents_meet_the_axis_at_the_next_iterate(playground):
    sid = playground.session()
    playground.ok("newton", "start", {"expr": "cos(x) - x", "x0": 1.0, "method": "newton"}, sid)
    view = playground.ok("newton", "step", {}, sid)
    view = playground.ok("newton", "step", {}, sid)
    f = FUNCTIONS["cos(x) - x"]
    history = tg.optimize.newton_raphson(f, 1.0).history.tolist()
    assert [seg["points"][-1] for seg in view["used"]] == [[history[1], 0.0], [history[2], 0.0]]
    assert view["used"][0]["points"][0] == [history[0], float(f(tg.tensor(history[0])).item())]
    assert view["current"]["slope"] == float(tg.grad(f)(history[2])) and view["next"] == history[3]
    lo, hi = view["window"]
    assert lo <= min(history[:4]) and hi >= max(history[:4]) and view["ylim"][0] < 0 < view["ylim"][1]
    assert len(view["xs"]) == len(view["ys"])


def test_the_secant_chords_pair_the_iterates_as_scipy_does(playground):
    sid = playground.session()
    playground.ok("newton", "start", {"expr": "x**3 - 2*x - 5", "x0": 2.0, "method": "secant"}, sid)
    view = playground.ok("newton", "finish", {}, sid)
    h = view["history"]
    for seg in view["used"]:
        (xa, ya), (xb, yb), (x, y) = seg["points"]
        assert y == 0.0 and x == h[seg["to"]]
        assert abs(xb - yb * (xb - xa) / (yb - ya) - x) <= 1e-12 * max(1.0, abs(x))


def test_the_close_up_is_three_steps_wide_around_the_iterate(playground):
    sid = playground.session()
    playground.ok("newton", "start", {"expr": "x**3 - 2*x - 5", "x0": 2.0, "method": "newton"}, sid)
    playground.ok("newton", "step", {}, sid)
    view = playground.ok("newton", "view", {"close": True}, sid)
    x1, x2 = view["x"], view["next"]
    assert view["close"] and view["window"] == [x1 - 3 * abs(x2 - x1), x1 + 3 * abs(x2 - x1)]
    assert playground.ok("newton", "step", {}, sid)["close"]  # it stays until unchecked
    assert playground.call("newton", "view", {"close": "yes"}, sid)[0] == 400
    assert not playground.ok("newton", "view", {"close": False}, sid)["close"]


def test_far_iterates_do_not_stretch_the_window(playground):
    sid = playground.session()
    playground.ok("newton", "start", {"expr": "arctan(x)", "x0": 1.5, "method": "newton"}, sid)
    view = playground.ok("newton", "finish", {}, sid)
    assert max(abs(x) for x in view["history"]) > 1e6
    lo, hi = view["window"]
    assert hi - lo <= 2 * (tab._FAR + 10)


def refusals():
    for hostile in HOSTILE:
        yield {"expr": hostile}
    yield {"expr": "x + t"}
    yield {"expr": ""}
    yield {"expr": 3}
    for bad in ["abc", "", "nan", True, [2], 1e7, None]:
        yield {"x0": bad}
    for bad in ["bisect", "", 1, None]:
        yield {"method": bad}
    yield {"expr": "x**2 - 2", "x0": "oops"}  # a good field with a bad one: nothing of it is taken


def test_a_refused_start_is_explained_and_changes_nothing(playground):
    sid = playground.session()
    playground.ok("newton", "start", {"expr": "cos(x) - x", "x0": 1.0, "method": "newton"}, sid)
    before = playground.ok("newton", "step", {}, sid)
    for body in refusals():
        status, answer = playground.call("newton", "start", body, sid)
        assert status == 400 and answer["error"], body
    assert playground.ok("newton", "view", {}, sid) == before  # a refusal that took any field would show here


def test_unknown_session_and_action(playground):
    status, answer = playground.call("newton", "step", {}, "no-such-session")
    assert status == 404 and answer["code"] == "unknown-session"
    assert playground.call("newton", "jump", {})[0] == 404


def test_state_stays_bounded():
    state: dict = {}
    tab.start(state, {"expr": "x**2 + 1", "x0": 0.5, "method": "secant"}, Limits())
    for _ in range(60):
        tab.step(state, {}, Limits())
    assert len(state["history"]) <= 52 and state["shown"] == len(state["history"]) - 1
    assert set(state) == {"expr", "x0", "method", "close", "history", "values", "word", "status", "shown"}


def test_docstring_examples():
    result = doctest.testmod(tab, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted >= 8


# --------------------------------------------------------------------------- the page


def restart(pp, expr: str | None, x0: str) -> None:
    """Type f (unless None: a preset chose it), then x0 and Enter, as a student would (leaving the f field
    applies it: its change event)."""
    page = pp.page
    if expr is not None:
        page.get_by_test_id("newton-expr").fill(expr)
    page.get_by_test_id("newton-x0").fill(x0)
    page.get_by_test_id("newton-x0").press("Enter")
    pp.idle()
    assert pp.text("newton-status") == "running" and pp.text("newton-x") == x0


def step_to_the_end(pp, most: int = 60) -> list[float]:
    """Press newton-step until the status is not running (or ``most`` times): the iterates shown on the way."""
    xs = [float(pp.text("newton-x"))]
    for _ in range(most):
        pp.page.get_by_test_id("newton-step").click()
        pp.idle()
        if int(pp.text("newton-iteration")) == len(xs):  # a new iterate (the last may equal the one before)
            xs.append(float(pp.text("newton-x")))
        if not pp.text("newton-status").startswith("running"):
            return xs
    return xs


def finish(pp) -> str:
    pp.page.get_by_test_id("newton-finish").click()
    pp.idle()
    return pp.text("newton-status")


def test_page_newton(playground_page):
    """Steps against newton_raphson's path; a cycle, a divergence, no root; a refusal; a click; the secant."""
    pp = playground_page.open("newton")
    page = pp.page
    page.get_by_test_id("newton-preset").select_option("x**3 - 2*x - 5")
    pp.idle()
    restart(pp, None, "2")
    result = tg.optimize.newton_raphson(FUNCTIONS["x**3 - 2*x - 5"], 2.0)
    assert step_to_the_end(pp) == result.history.tolist()
    assert pp.text("newton-status").startswith("converged") and pp.text("newton-status") == result.message
    assert page.get_by_test_id("newton-history").locator("tbody tr").count() == len(result.history)

    shown = (pp.text("newton-x"), pp.text("newton-status"), pp.text("newton-iteration"))
    page.get_by_test_id("newton-expr").fill("open('f')")
    page.get_by_test_id("newton-expr").press("Enter")
    pp.idle()
    assert "expression" in pp.message() and page.get_by_test_id("message").is_visible()
    assert (pp.text("newton-x"), pp.text("newton-status"), pp.text("newton-iteration")) == shown
    pp.errors[:] = [e for e in pp.errors if "status of 400" not in e]  # Chromium logs the 400 this test provoked

    restart(pp, "x**3 - 2*x + 2", "0")
    assert step_to_the_end(pp) == [0.0, 1.0, 0.0] and pp.text("newton-status").startswith("cycle")
    pp.shot("newton")  # the tangents 0 -> 1 and 1 -> 0, and the next one at 0 again: the cycle

    restart(pp, "x**2 + 1", "0.5")
    no_root = tg.optimize.newton_raphson(FUNCTIONS["x**2 + 1"], 0.5)
    assert finish(pp) == f"diverged: {no_root.message}" and float(pp.text("newton-x")) == float(no_root.x)

    restart(pp, "cos(x) - x", "1")
    box = page.get_by_test_id("newton-plot").bounding_box()
    lo, hi = (float(v) for v in page.get_by_test_id("newton-plot").get_attribute("data-domain").split()[:2])
    page.get_by_test_id("newton-plot").click(position={"x": box["width"] * 0.75, "y": box["height"] / 2})
    pp.idle()
    x0 = float(page.get_by_test_id("newton-x0").input_value())
    assert pp.text("newton-status") == "running" and float(pp.text("newton-x")) == x0
    assert x0 == pytest.approx(lo + 0.75 * (hi - lo), abs=0.02 * (hi - lo))

    page.get_by_test_id("newton-secant").check()
    pp.idle()
    secant = tg.optimize.newton_raphson(FUNCTIONS["cos(x) - x"], x0, method="secant")
    assert finish(pp) == secant.message and float(pp.text("newton-x")) == float(secant.x)
    assert page.get_by_test_id("newton-history").locator("tbody tr").count() == len(secant.history)
    pp.check_clean()
