"""The playground's Taylor tab (issue 17, item 3): its API and its page, against tg.taylor, tg.grad and tg.hessian."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from starlette.testclient import TestClient

import tinygrad_mvc as tg
from tinygrad_mvc.playground import create_app
from tinygrad_mvc.playground.limits import Limits
from tinygrad_mvc.playground.tabs import taylor as tab

HOSTILE = ["__import__('os')", "x.__class__", "open('f')", "x" * 1000, "lambda: 0", "x; y", "[x]", "'x'"]
FUNCTIONS = {  # the presets, written as a student would call the engine
    "sin(x)": tg.sin, "exp(x)": tg.exp, "log(1+x)": lambda x: tg.log(1 + x), "1/(1-x)": lambda x: 1 / (1 - x),
    "cos(x)*exp(-x/3)": lambda x: tg.cos(x) * tg.exp(-x / 3), "tanh(x)": tg.tanh,
}


def expand(pg, body, sid):
    return pg.ok("taylor", "expand", body, sid)


def floats(text: str) -> list[float]:
    return [float(t) for t in text.split(", ")]


# --------------------------------------------------------------------------- API


@pytest.mark.parametrize(("expr", "x0", "order"), [("sin(x)", 0.5, 7), ("sin(x)", -2.0, 10), ("exp(x)", 1.0, 6),
                                                   ("log(1+x)", 0.25, 5), ("1/(1-x)", 0.0, 6),
                                                   ("cos(x)*exp(-x/3)", 0.5, 6), ("tanh(x)", 0.3, 0)])
def test_coefficients_are_tg_taylor_exactly(playground, expr, x0, order):
    view = expand(playground, {"expr": expr, "x0": x0, "order": order}, playground.session())
    assert view["coefficients"] == tg.taylor(FUNCTIONS[expr], x0, order).coefficients.tolist()
    assert (view["expr"], view["x0"], view["order"]) == (expr, x0, order)


def test_fields_left_out_keep_their_values_and_the_polynomial_is_sampled(playground):
    sid = playground.session()
    first = expand(playground, {}, sid)  # the defaults: sin(x) around 0, order 3
    assert (first["expr"], first["x0"], first["order"]) == ("sin(x)", 0.0, 3)
    view = expand(playground, {"order": "5"}, sid)  # a form field's text is read as the number it says
    assert (view["expr"], view["order"]) == ("sin(x)", 5)
    approximation = tg.taylor(tg.sin, 0.0, 5)
    xs = np.array(view["xs"])
    assert view["window"] == [-4.0, 4.0] and xs[0] == -4.0 and xs[-1] == 4.0
    assert np.array_equal(view["p"], approximation(xs)) and np.array_equal(view["f"], np.sin(xs))
    assert view["derivatives"][3] == approximation.coefficients[3] * 6


def test_the_y_range_follows_f_not_the_polynomials_blow_up(playground):
    view = expand(playground, {"expr": "1/(1-x)", "x0": 0.0, "order": 7}, playground.session())
    lo, hi = view["ylim"]
    assert -15 < lo < 0 < hi < 15  # f's own scale; p is ~ 4**7 at the window's ends and is clipped
    assert max(abs(v) for v in view["p"]) > 1e4
    assert view["error_ylim"][1] <= 6.5 and view["error_ylim"][0] >= -16.5


def test_a_click_inside_the_window_keeps_it_and_a_far_x0_recentres_it(playground):
    sid = playground.session()
    assert expand(playground, {"x0": 2.5}, sid)["window"] == [-4.0, 4.0]
    assert expand(playground, {"x0": 30.0}, sid)["window"] == [26.0, 34.0]
    assert expand(playground, {"half_width": 1.0}, sid)["window"] == [29.0, 31.0]


def test_non_finite_coefficients_are_sent_and_explained(playground):
    view = expand(playground, {"expr": "log(1+x)", "x0": -1.0, "order": 2}, playground.session())
    assert view["coefficients"][0] == "-Infinity" and "not finite" in view["note"]


def refusals():
    yield {"expr": 5}
    yield {"expr": ""}
    yield {"expr": "x + y"}
    yield {"expr": None}
    for hostile in HOSTILE:
        yield {"expr": hostile}
    for bad in ["abc", "", "nan", "inf", True, [1], 2e6, None]:
        yield {"x0": bad}
    for bad in [11, -1, 2.5, "seven", True, None]:
        yield {"order": bad}
    for bad in [0, -1, "wide"]:
        yield {"half_width": bad}
    yield {"expr": "exp(x)", "order": 99}  # a good field with a bad one: nothing of it is taken


def test_a_refused_request_is_explained_and_changes_nothing(playground):
    sid = playground.session()
    before = expand(playground, {"expr": "tanh(x)", "x0": 0.5, "order": 4}, sid)
    for body in refusals():
        status, answer = playground.call("taylor", "expand", body, sid)
        assert status == 400 and answer["error"], body
    assert expand(playground, {}, sid) == before  # a refusal that took any field would show here


def test_the_messages_name_the_problem(playground):
    sid = playground.session()
    assert "too long" in playground.call("taylor", "expand", {"expr": "x" * 1000}, sid)[1]["error"]
    assert "unknown variable y" in playground.call("taylor", "expand", {"expr": "x*y"}, sid)[1]["error"]
    assert "between 0 and 10" in playground.call("taylor", "expand", {"order": 11}, sid)[1]["error"]


def test_unknown_session_and_unknown_action(playground):
    status, answer = playground.call("taylor", "expand", {}, "no-such-session")
    assert status == 404 and answer["code"] == "unknown-session"
    assert playground.call("taylor", "explode", {})[0] == 404


def test_the_time_cap_refuses_an_order_predicted_to_overrun():
    with TestClient(create_app(port=8000, max_taylor_seconds=0.0), base_url="http://127.0.0.1:8000") as client:
        sid = client.post("/api/session", json={}).json()["session"]
        post = lambda body: client.post("/api/taylor/expand", json=body, headers={"x-session": sid})  # noqa: E731
        assert post({"expr": "exp(x)", "order": 1}).status_code == 200  # orders 0 and 1 are never predicted
        refused = post({"order": 2})
        assert refused.status_code == 400 and "max_taylor_seconds" in refused.json()["error"]
        assert post({}).json()["order"] == 1


def test_coefficients_are_remembered_for_a_few_functions_only():
    state: dict = {}
    for x0 in range(10):
        tab.expand(state, {"x0": float(x0), "order": 4}, Limits())
    assert len(state["memo"]) == 4 and all(len(orders) == 5 for orders in state["memo"].values())


def sin_cos(v):
    return tg.sin(v[0]) * tg.cos(v[1])


def test_plane_gradient_hessian_and_models_are_the_engines(playground):
    sid = playground.session()
    view = playground.ok("taylor", "plane", {"expr": "sin(x)*cos(y)", "point": "0.5, 0.25"}, sid)
    p = np.array([0.5, 0.25])
    assert view["gradient"] == tg.grad(sin_cos)(p).tolist()
    assert view["hessian"] == tg.hessian(sin_cos)(p).tolist()
    assert view["value"] == float(sin_cos(tg.tensor(p)).item())
    xmin, xmax, ymin, ymax = view["domain"]
    n = len(view["grid"])
    gx, gy = np.meshgrid(np.linspace(xmin, xmax, n), np.linspace(ymin, ymax, n))
    grid = np.stack([gx, gy], axis=-1)
    quadratic = np.array(view["quadratic"], dtype=float)
    near = np.isfinite(quadratic)
    assert near.any() and not near.all()
    assert np.array_equal(quadratic[near], tg.taylor(sin_cos, p, 2)(grid)[near])
    assert np.array_equal(np.array(view["linear"], dtype=float)[near], tg.taylor(sin_cos, p, 1)(grid)[near])
    assert np.allclose(view["grid"], np.sin(gx) * np.cos(gy))
    assert view["levels"][5] == view["value"] and len(view["levels"]) == 11 and view["note"] == ""
    undefined = playground.ok("taylor", "plane", {"expr": "log(x*y)", "point": "0, 0"}, sid)
    assert undefined["value"] == "-Infinity" and "not finite" in undefined["note"]


def test_plane_refusals_change_nothing(playground):
    sid = playground.session()
    before = playground.ok("taylor", "plane", {"expr": "x**2 - y**2", "point": [1, 2]}, sid)
    for body in [{"expr": "x*z"}, {"expr": "x.__class__"}, {"expr": "y" * 1000}, {"point": "1"}, {"point": [1, "a"]},
                 {"point": "2e6, 0"}, {"point": None}, {"expr": "x*y", "point": "nan, 1"}]:
        status, answer = playground.call("taylor", "plane", body, sid)
        assert status == 400 and answer["error"], body
    assert playground.ok("taylor", "plane", {}, sid) == before


def test_docstring_examples():
    result = doctest.testmod(tab, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted >= 4


# --------------------------------------------------------------------------- the page


def forgive_refusals(pp) -> None:
    """Chromium logs every 400 answer as a console error; the refusals this test provoked are not the page's."""
    pp.errors[:] = [e for e in pp.errors if "status of 400" not in e]


def set_order(page, order: int) -> None:
    """Move the slider with the keyboard, as a student would."""
    slider = page.get_by_test_id("taylor-order")
    current = int(slider.input_value())
    slider.focus()
    for _ in range(abs(order - current)):
        slider.press("ArrowRight" if order > current else "ArrowLeft")


def test_page_taylor(playground_page):
    """1-D: a preset, x0 typed, the order slider, a refused expression, a click; then the 2-D mode."""
    pp = playground_page.open("taylor")
    page = pp.page
    page.get_by_test_id("taylor-preset").select_option("sin(x)")
    pp.idle()
    page.get_by_test_id("taylor-x0").fill("0.5")
    page.get_by_test_id("taylor-x0").press("Enter")
    pp.idle()
    assert floats(pp.text("taylor-coefficients")) == tg.taylor(tg.sin, 0.5, 3).coefficients.tolist()  # 4 of them
    set_order(page, 7)
    pp.idle()
    assert pp.text("taylor-order-value") == "7"
    assert floats(pp.text("taylor-coefficients")) == tg.taylor(tg.sin, 0.5, 7).coefficients.tolist()  # 8 now
    assert page.get_by_test_id("taylor-table").locator("tbody tr").count() == 8
    pp.shot("taylor")

    shown = pp.text("taylor-coefficients")
    page.get_by_test_id("taylor-expr").fill("__import__('os')")
    page.get_by_test_id("taylor-expr").press("Enter")
    pp.idle()
    assert "expression" in pp.message() and page.get_by_test_id("message").is_visible()
    assert pp.text("taylor-coefficients") == shown and pp.text("taylor-order-value") == "7"
    forgive_refusals(pp)

    box = page.get_by_test_id("taylor-plot").bounding_box()
    page.get_by_test_id("taylor-plot").click(position={"x": box["width"] * 0.25, "y": box["height"] / 2})
    pp.idle()
    x0 = float(page.get_by_test_id("taylor-x0").input_value())
    assert x0 == pytest.approx(-2.0, abs=0.02) and pp.message() == ""  # the window is x in [-4, 4]
    assert pp.text("taylor-coefficients") != shown  # sin(x) again: the refused text was not taken
    assert floats(pp.text("taylor-coefficients")) == tg.taylor(tg.sin, x0, 7).coefficients.tolist()

    page.get_by_test_id("taylor-mode-2d").click()  # its first function is sin(x)*cos(y)
    pp.idle()
    assert page.get_by_test_id("taylor2-expr").input_value() == "sin(x)*cos(y)"
    page.get_by_test_id("taylor2-point").fill("0.5, 0.25")
    page.get_by_test_id("taylor2-point").press("Enter")
    pp.idle()
    p = np.array([0.5, 0.25])
    assert floats(pp.text("taylor2-gradient")) == tg.grad(sin_cos)(p).tolist()
    hessian = [floats(row) for row in pp.text("taylor2-hessian").split("; ")]
    assert hessian == tg.hessian(sin_cos)(p).tolist()
    assert float(pp.text("taylor2-value")) == float(sin_cos(tg.tensor(p)).item())
    pp.shot("taylor-2d")
    box = page.get_by_test_id("taylor2-map").bounding_box()
    page.get_by_test_id("taylor2-map").click(position={"x": box["width"] * 0.75, "y": box["height"] * 0.25})
    pp.idle()
    clicked = np.array(floats(pp.text("taylor2-gradient")))
    x, y = floats(page.get_by_test_id("taylor2-point").input_value())
    assert (x, y) == (pytest.approx(1.5, abs=0.02), pytest.approx(1.5, abs=0.02))
    assert clicked.tolist() == tg.grad(sin_cos)(np.array([x, y])).tolist()
    pp.check_clean()
