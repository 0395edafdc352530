"""The backprop animation (``animate_backprop(..., "x.html")``) in a real browser: headless Chromium via Playwright.

One browser for the module. Each graph's page is opened from its file:// URL and driven as a student
would: step through every frame, reading the caption, the frame index and the texts in the SVG; the
last frame's gradients are compared with the engine's; back, the slider, play and pause are pressed.
The page must make no request but for its own file and log no error.

Needs Playwright for Python and Debian's ``chromium`` at /usr/bin/chromium (``.ci/run`` installs both;
Playwright never downloads a browser here: it is launched with ``executable_path``). Without them the
tests fail, saying what to install: they are never skipped.
"""

from __future__ import annotations

import io
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import tinygrad_mvc as tg
from tinygrad_mvc.viz.animate import animate_backprop, backprop_frames
from tinygrad_mvc.viz.trace import Trace

SHOT_FOR_REVIEW = Path("/tmp/backprop_browser.png")
NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|[-+]?inf|nan")

# For every node group n<i> of the SVG: its text rows, with whether each is the bold header or the small
# shape line, so a test can tell the header, the value and the "grad ..." row apart without the player's help.
READ_NODES = """() => {
  const out = {};
  document.querySelectorAll('[data-testid="graph"] svg g.node').forEach(g => {
    if (!/^n\\d+$/.test(g.id)) { return; }
    out[g.id.slice(1)] = Array.from(g.querySelectorAll("text")).map(t => ({
      s: t.textContent, bold: t.getAttribute("font-weight") === "bold",
      small: parseFloat(t.getAttribute("font-size") || "0") < 9.5 }));
  });
  return out;
}"""


# --------------------------------------------------------------------------- the browser, once per module

@pytest.fixture(scope="module")
def browser(chromium: Any) -> Any:
    """conftest's Chromium (one per run, shared with the gallery's and the playground's tests), once dot is here."""
    if shutil.which("dot") is None:
        pytest.fail("the browser test needs Graphviz's `dot` to lay out the page; apt-get install graphviz",
                    pytrace=False)
    return chromium


@dataclass
class Opened:
    page: Any
    url: str
    trace: Trace
    frames: list[Any]
    requests: list[str]
    errors: list[str]

    def index(self) -> int:
        return int(self.page.get_by_test_id("frame-index").text_content())

    def caption(self) -> str:
        return self.page.get_by_test_id("caption").text_content()

    def nodes(self) -> dict[int, tuple[list[str], list[str]]]:
        """node index -> (the value rows shown, the gradient rows shown); empty rows (not yet shown) left out."""
        out = {}
        for i, rows in self.page.evaluate(READ_NODES).items():
            grads = [r["s"] for r in rows if r["s"].startswith("grad ")]
            values = [r["s"] for r in rows if r["s"].strip() and not r["bold"] and not r["small"]
                      and not r["s"].startswith("grad ")]
            out[int(i)] = (values, grads)
        return out

    def click(self, testid: str) -> None:
        self.page.get_by_test_id(testid).click()


def open_page(browser: Any, trace: Trace, path: Path) -> Opened:
    frames = backprop_frames(trace)
    animate_backprop(trace, path)
    page = browser.new_page(viewport={"width": 1100, "height": 760})
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: errors.append(f"console.{m.type}: {m.text}") if m.type in ("error", "warning")
            else None)
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    url = path.resolve().as_uri()
    page.goto(url)
    return Opened(page, url, trace, frames, requests, errors)


def numbers(text: str) -> np.ndarray:
    return np.array([float(s) for s in NUMBER.findall(text)])


def assert_4_digits(shown: str, expected: Any, what: str) -> None:
    """``shown`` (a value or ``grad ...`` row) holds the entries of ``expected``, each to 4 significant digits."""
    got, want = numbers(shown), np.asarray(expected, dtype=float).ravel()
    assert got.shape == want.shape, f"{what}: shows {shown!r}, expected the {want.size} entries {want}"
    assert np.all(np.abs(got - want) <= 5e-4 * np.abs(want) + 1e-12), f"{what}: shows {shown!r}, expected {want}"


def walk(o: Opened) -> dict[int, dict[int, tuple[list[str], list[str]]]]:
    """Press step from frame 0 to the last, checking index and caption at each; every frame's node texts."""
    page_frames = len(o.frames)
    assert o.index() == 0, "frame-index is not 0 at load"
    assert o.page.get_by_test_id("frame-slider").get_attribute("max") == str(page_frames - 1)
    seen = {}
    for k in range(page_frames):
        if k:
            o.click("step")
        assert o.index() == k, f"after {k} presses of step the page shows frame {o.index()}"
        assert o.caption() == o.frames[k].caption, f"frame {k}"
        assert o.caption().startswith(("forward", "backward", "done")), o.caption()
        seen[k] = o.nodes()
    o.click("step")  # at the last frame step stays there
    assert o.index() == page_frames - 1
    return seen


def check_walk(o: Opened, seen: dict[int, dict[int, tuple[list[str], list[str]]]],
               leaves: dict[str, tg.Tensor]) -> None:
    """Forward: no gradient, values appear one by one; last frame: every gradient is the engine's."""
    trace, frames = o.trace, o.frames
    nodes = trace.nodes
    assert set(seen[0]) == set(range(len(nodes))), "every trace node is a group n<i> in the SVG"
    forward = [k for k, f in enumerate(frames) if f.phase == "forward"]
    assert forward == list(range(len(forward))) and len(forward) == 1 + sum(n.op is not None for n in nodes)
    shown_before: set[int] = set()
    for k in forward:
        texts = seen[k]
        assert all(not g for _, g in texts.values()), f"forward frame {k} shows a gradient: {texts}"
        shown = {i for i, (v, _) in texts.items() if v}
        if k == 0:
            assert shown == {n.index for n in nodes if n.op is None}, "frame 0 shows the inputs' values only"
        else:
            new = shown - shown_before
            assert shown >= shown_before and len(new) == 1, f"forward frame {k}: values {sorted(shown_before)} -> " \
                                                            f"{sorted(shown)}, expected exactly one more"
            (i,) = new
            assert nodes[i].op is not None
        for i in shown - shown_before:
            (value,) = texts[i][0]
            assert_4_digits(value, nodes[i].value, f"value of node {i} ({nodes[i].name or nodes[i].op})")
        shown_before = shown
    assert shown_before == set(range(len(nodes))), "after the forward frames every value is shown"

    first_backward = seen[len(forward)]
    assert {i for i, (_, g) in first_backward.items() if g} == {trace.output}
    assert first_backward[trace.output][1] == ["grad 1.0"], "the backward pass starts with grad 1.0 at the output"

    last = seen[len(frames) - 1]
    assert last[trace.output][1] == ["grad 1.0"], "the output node shows grad 1.0"
    for n in nodes:
        values, grads = last[n.index]
        assert len(values) == 1, f"node {n.index}: value rows {values}"
        assert_4_digits(values[0], n.value, f"last frame, value of node {n.index}")
        if n.grad is None:
            assert grads == [], f"node {n.index} needs no gradient but shows {grads}"
            continue
        assert len(grads) == 1, f"node {n.index}: gradient rows {grads}"
        assert_4_digits(grads[0], n.grad, f"last frame, grad of node {n.index} ({n.name or n.op})")
    for name, x in leaves.items():  # the engine's own .grad, not only the trace's copy
        (grad,) = last[trace.node(name).index][1]
        assert_4_digits(grad, x.grad.numpy() if hasattr(x.grad, "numpy") else x.grad, f"{name}.grad")


def check_controls(o: Opened) -> None:
    """back goes one frame back; the slider sets the frame; play advances by itself and pause stops it."""
    last = len(o.frames) - 1
    o.click("back")
    assert o.index() == last - 1 and o.caption() == o.frames[last - 1].caption
    mid = last // 2
    o.page.get_by_test_id("frame-slider").fill(str(mid))
    assert o.index() == mid and o.caption() == o.frames[mid].caption
    o.click("back")
    assert o.index() == mid - 1
    o.page.get_by_test_id("frame-slider").fill("0")
    assert o.index() == 0
    o.click("back")
    assert o.index() == 0, "back at frame 0 stays at 0"
    o.click("play")
    assert o.page.get_by_test_id("play").text_content() == "pause"
    o.page.wait_for_function("() => parseInt(document.querySelector('[data-testid=frame-index]').textContent) >= 2",
                             timeout=5000)
    o.click("play")
    assert o.page.get_by_test_id("play").text_content() == "play"
    stopped = o.index()
    assert 2 <= stopped < last
    o.page.wait_for_timeout(1100)  # longer than one 900 ms tick
    assert o.index() == stopped, "pause did not stop the animation"
    assert o.caption() == o.frames[stopped].caption


def check_quiet(o: Opened) -> None:
    assert o.errors == [], f"the page logged: {o.errors}"
    assert o.requests == [o.url], f"the page must load nothing but itself; requests: {o.requests}"


# --------------------------------------------------------------------------- the graphs

def neuron() -> tuple[tg.Tensor, dict[str, tg.Tensor]]:
    """micrograd's neuron: o = tanh(x1·w1 + x2·w2 + b), with b chosen so n = 0.8814 and o = 1/√2."""
    leaves = {"x1": 2.0, "x2": 0.0, "w1": -3.0, "w2": 1.0, "b": 6.8813735870195432}
    t = {k: tg.tensor(v, requires_grad=True, name=k) for k, v in leaves.items()}
    n = t["x1"] * t["w1"] + t["x2"] * t["w2"] + t["b"]
    n.name = "n"
    o = tg.tanh(n)
    o.name = "o"
    return o, t


def test_micrograd_neuron_in_chromium(browser: Any, tmp_path: Path) -> None:
    o, leaves = neuron()
    trace = tg.viz.backprop(o)
    # micrograd's numbers: do/dn = 1 - o² = 0.5, so x1 gets w1·0.5 = -1.5, w1 gets x1·0.5 = 1.0, x2 gets 0.5.
    assert np.allclose([leaves[k].grad.item() for k in ("x1", "w1", "x2", "w2", "b")], [-1.5, 1.0, 0.5, 0.0, 0.5])
    opened = open_page(browser, trace, tmp_path / "neuron.html")
    seen = walk(opened)
    check_walk(opened, seen, leaves)
    last = seen[len(opened.frames) - 1]
    assert last[trace.node("x1").index][1] == ["grad -1.5"] and last[trace.node("w1").index][1] == ["grad 1.0"]

    shot = tmp_path / "last_frame.png"
    opened.page.screenshot(path=str(shot), full_page=True)
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and 5_000 < len(data) < 5_000_000, f"screenshot of {len(data)} bytes"
    from PIL import Image

    image = Image.open(io.BytesIO(data)).convert("RGB")
    assert 600 <= image.width <= 4000 and 300 <= image.height <= 4000, image.size
    pixels = np.asarray(image)
    assert (pixels.min(axis=2) < 128).mean() > 0.002, "the screenshot is (nearly) blank: no dark text or lines"
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 50, "the screenshot has almost no colours"
    red = (pixels[..., 0] > 140) & (pixels[..., 1] < 90) & (pixels[..., 2] < 90)
    assert red.sum() > 50, "no red gradient text is visible in the last frame"
    shutil.copyfile(shot, SHOT_FOR_REVIEW)

    check_controls(opened)
    check_quiet(opened)
    opened.page.close()


def test_fan_out_gradient_is_the_sum_of_two_paths(browser: Any, tmp_path: Path) -> None:
    x = tg.tensor(1.5, requires_grad=True, name="x")
    y = tg.tensor(-0.5, requires_grad=True, name="y")
    a = x * y  # x is used twice: in a and in b; a is used twice: in b and in L
    a.name = "a"
    b = a + x
    b.name = "b"
    loss = b * tg.exp(a)
    loss.name = "L"
    trace = tg.viz.backprop(loss)
    e = np.exp(-0.75)
    assert np.isclose(x.grad.item(), (y.item() + 1) * e + 0.75 * e * y.item())  # both paths, by hand
    opened = open_page(browser, trace, tmp_path / "fan_out.html")
    seen = walk(opened)
    check_walk(opened, seen, {"x": x, "y": y})
    # Where the two paths meet the page shows the sum: "grad p + q = total" at x in some backward frame.
    xi = trace.node("x").index
    sums = [g[0] for k, f in enumerate(opened.frames) if f.phase == "backward"
            for g in [seen[k][xi][1]] if g and " + " in g[0]]
    assert sums, f"x's two paths are never shown as a sum: {[seen[k][xi][1] for k in seen]}"
    parts, total = sums[-1][len("grad "):].split(" = ")
    assert np.isclose(sum(numbers(parts)), float(total), rtol=1e-3)
    assert_4_digits(total, x.grad.item(), "the sum of x's two paths")
    check_quiet(opened)
    opened.page.close()


def test_array_graph_shows_every_entry_of_each_gradient(browser: Any, tmp_path: Path) -> None:
    w = tg.tensor([[0.5, -1.0, 0.25], [2.0, 0.1, -0.3]], requires_grad=True, name="W")
    x = tg.tensor([1.0, -2.0, 0.5], requires_grad=True, name="x")
    c = tg.tensor([0.1, -0.2], name="c")  # a constant: no gradient shown
    h = tg.tanh(w @ x + c)
    h.name = "h"
    loss = (h * h).sum()
    loss.name = "loss"
    trace = tg.viz.backprop(loss)
    opened = open_page(browser, trace, tmp_path / "arrays.html")
    seen = walk(opened)
    check_walk(opened, seen, {"W": w, "x": x})
    last = seen[len(opened.frames) - 1]
    (wgrad,) = last[trace.node("W").index][1]
    assert numbers(wgrad).size == 6 and np.allclose(numbers(wgrad), w.grad.numpy().ravel(), rtol=1e-3, atol=1e-4)
    assert last[trace.node("c").index][1] == []
    check_quiet(opened)
    opened.page.close()
