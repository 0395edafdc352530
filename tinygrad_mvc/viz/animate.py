"""Backprop as an animation: :func:`animate_backprop` writes a GIF or one self-contained HTML page.

The frames come from a :class:`~tinygrad_mvc.viz.trace.Trace`. First the forward pass, node by node
in creation order: each value appears. Then the backward pass in the engine's real order: the output
gets gradient 1; then each node in turn is highlighted, the local derivative ∂out/∂in appears on each
edge into it, and the product grad(out) · ∂out/∂in arrives at each input, where the arrivals of several
paths are shown as a sum.

The picture is laid out once by Graphviz's ``dot``, so nothing moves between frames. The HTML page
holds that SVG inline with the frames as data and a few lines of script (no network, no library);
the GIF's frames are the same layout rendered by Graphviz with pinned positions (``neato -n2``) and put
together by Pillow, which comes with matplotlib: no new dependency.
"""

from __future__ import annotations

import html
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._atomic import write_atomic
from ..tensor import Tensor
from .graph import GRAD_COLOUR, LOCAL_COLOUR, _num, _summary, layout_graph, symbol
from .trace import Trace, backprop

__all__ = ["animate_backprop", "backprop_frames", "Frame", "html_document", "jupyter_html", "player_parts"]

CURRENT = "#ea580c"  # the node being worked on: orange outline
ACTIVE_EDGE = "#ea580c"
PENDING_TEXT = "#9ca3af"
MAX_GIF_FRAMES = 160  # beyond this a GIF skips frames evenly (the HTML keeps them all)


@dataclass
class Frame:
    """One step of the animation: what every node and edge shows."""

    caption: str
    phase: str  # "forward" or "backward"
    current: int | None
    values: dict[int, str] = field(default_factory=dict)  # node -> value text (absent: not computed yet)
    grads: dict[int, str] = field(default_factory=dict)  # node -> gradient text (absent: none yet)
    edges: dict[tuple[int, int], str] = field(default_factory=dict)  # (src, dst) -> label shown
    active: list[tuple[int, int]] = field(default_factory=list)  # edges drawn highlighted


def backprop_frames(trace: Trace) -> list[Frame]:
    """The frames of the animation of ``trace``: forward node by node, then backward in the engine's order."""
    nodes = trace.nodes
    frames: list[Frame] = []
    values: dict[int, str] = {}
    leaves = [n.index for n in nodes if n.op is None]
    for i in leaves:
        values[i] = _summary(n_value(trace, i))
    frames.append(Frame("forward: the inputs" if leaves else "forward", "forward", None, dict(values)))
    for n in nodes:
        if n.op is None:
            continue
        values[n.index] = _summary(n.value)
        into = trace.inputs_of(n.index)
        left = f"{n.name} = {_formula(trace, n.index)}" if n.name else _formula(trace, n.index)
        frames.append(Frame(f"forward: {left} = {_summary(n.value)}", "forward", n.index,
                            dict(values), active=[(e.src, e.dst) for e in into]))
    out = trace.output
    if not trace.recorded or nodes[out].grad is None:
        return frames
    grads: dict[int, str] = {out: _summary(nodes[out].grad)}
    arrivals: dict[int, list[np.ndarray]] = {out: [nodes[out].grad]}
    edges: dict[tuple[int, int], str] = {}
    frames.append(Frame(f"backward: start at the output, ∂{_name(trace, out)}/∂{_name(trace, out)} = 1",
                        "backward", out, dict(values), dict(grads)))
    for i in trace.order:
        n = nodes[i]
        if n.op is None:
            continue
        into = [e for e in trace.inputs_of(i) if e.contribution is not None]
        parts = []
        for e in into:
            if e.local is not None:
                edges[(e.src, e.dst)] = f"×{_num(e.local)}"
            arrivals.setdefault(e.src, []).append(e.contribution)
            grads[e.src] = _sum_text(arrivals[e.src])
            parts.append(_arrival(trace, e))
        g = _summary(n.grad) if n.grad is not None else "?"
        caption = f"backward: at {_name(trace, i)} (grad {g})"
        caption += ": " + "; ".join(parts) if parts else ": no input needs a gradient"
        frames.append(Frame(caption, "backward", i, dict(values), dict(grads), dict(edges),
                            [(e.src, e.dst) for e in into]))
    final = {n.index: _summary(n.grad) for n in nodes if n.grad is not None}
    frames.append(Frame("done: every gradient, each the sum over the paths to the output", "backward", None,
                        dict(values), final, dict(edges)))
    return frames


def animate_backprop(t: Tensor | Trace, path: str | os.PathLike[str], *, show_local: bool = True,
                     max_nodes: int | None = 60, rankdir: str | None = None, frame_ms: int = 900) -> Path:
    """Write the forward and backward pass behind ``t`` as an animation; return the file written.

    ``t`` is a scalar Tensor with a graph (it is backpropagated once, as :func:`~tinygrad_mvc.viz.backprop`
    does) or a trace. ``path`` ends in ``.html`` (one self-contained page: the graph's SVG inline,
    play/pause/step buttons and a slider; no network) or ``.gif`` (each frame ``frame_ms`` long, the
    last one longer). Needs Graphviz's ``dot`` program.

    >>> import tempfile, tinygrad_mvc as tg
    >>> x = tg.tensor(2.0, requires_grad=True, name="x")
    >>> page = animate_backprop(tg.tanh(x * x), Path(tempfile.mkdtemp()) / "backprop.html")
    >>> page.read_text().count("<svg") == 1
    True
    """
    trace = t if isinstance(t, Trace) else backprop(t)
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".html", ".gif"):
        raise ValueError(f"animate_backprop: path {str(path)!r} must end in .html or .gif, "
                         f"got {suffix or 'no suffix'!r}")
    _need_dot()
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".html":
        doc = html_document(trace, show_local=show_local, max_nodes=max_nodes, rankdir=rankdir)
        write_atomic(path, lambda f: f.write(doc.encode("utf-8")))
    else:
        data = _gif(trace, show_local=show_local, max_nodes=max_nodes, rankdir=rankdir, frame_ms=frame_ms)
        write_atomic(path, lambda f: f.write(data))
    return path


# ----------------------------------------------------------------------------- HTML

def html_document(trace: Trace, *, show_local: bool = True, max_nodes: int | None = 60,
                  rankdir: str | None = None, title: str = "backprop, step by step") -> str:
    """The animation as one HTML document: inline SVG, the frames as JSON, a small script; no network."""
    svg, data = player_parts(trace, show_local=show_local, max_nodes=max_nodes, rankdir=rankdir)
    payload = json.dumps(data, ensure_ascii=True).replace("</", "<\\/")  # never ends the script element early
    return (_PAGE.replace("@TITLE@", html.escape(title)).replace("@SVG@", svg).replace("@DATA@", payload)
            .replace("@SCRIPT@", _SCRIPT))


def player_parts(trace: Trace, *, show_local: bool = True, max_nodes: int | None = 60,
                 rankdir: str | None = None) -> tuple[str, dict[str, Any]]:
    """What a player needs: the graph's SVG (laid out once by ``dot``, for inline use in HTML) and the data
    ``{"frames", "layout", "colours"}`` that each frame sets on it (the page's script, the playground's Graph tab).

    ``frames`` are :func:`backprop_frames` as JSON (node and edge keys as text, ``"3"`` and ``"1_3"``), and
    ``layout[node]`` the ``[value, "grad ..."]`` texts the SVG was laid out with, by which a player finds the
    two text elements of each node (ids ``n3``, edges ``e1_3``).

    >>> import tinygrad_mvc as tg
    >>> x = tg.tensor(2.0, requires_grad=True, name="x")
    >>> svg, data = player_parts(tg.viz.backprop(x * 3.0))
    >>> svg.startswith("<svg"), data["frames"][-1]["grads"]["0"], data["layout"]["0"]
    (True, '3.0', ['2.0', 'grad 3.0'])
    """
    frames = backprop_frames(trace)
    dot = _layout(trace, frames, show_local, max_nodes, rankdir)
    svg = dot.pipe(format="svg").decode("utf-8")
    svg = svg[svg.index("<svg"):]  # drop the XML prologue and doctype: the SVG sits inside HTML
    data = {"frames": [_frame_json(f) for f in frames], "layout": _layout_texts(trace, frames),
            "colours": {"current": CURRENT, "grad": GRAD_COLOUR, "local": LOCAL_COLOUR, "pending": PENDING_TEXT}}
    return svg, data


def jupyter_html(trace: Trace) -> str:
    """The animation for a notebook cell: the document in a sandboxed iframe, so its ids and script stay apart."""
    doc = html_document(trace)
    return (f'<iframe srcdoc="{html.escape(doc, quote=True)}" style="width:100%;height:560px;border:0" '
            f'sandbox="allow-scripts"></iframe>')


def _frame_json(f: Frame) -> dict[str, Any]:
    return {"caption": f.caption, "phase": f.phase, "current": f.current,
            "values": {str(k): v for k, v in f.values.items()}, "grads": {str(k): v for k, v in f.grads.items()},
            "edges": {f"{s}_{d}": v for (s, d), v in f.edges.items()}, "active": [f"{s}_{d}" for s, d in f.active]}


def _layout_texts(trace: Trace, frames: list[Frame]) -> dict[str, list[str]]:
    """For each node, the value and gradient lines as laid out (the longest of every frame's), so the
    script can find those two text elements in the SVG."""
    out = {}
    for n in trace.nodes:
        value, grad = _longest(n.index, frames)
        out[str(n.index)] = [value, "grad " + grad]
    return out


def _longest(i: int, frames: list[Frame]) -> tuple[str, str]:
    values = [f.values[i] for f in frames if i in f.values] or ["?"]
    grads = [f.grads[i] for f in frames if i in f.grads] or [" "]
    return max(values, key=len), max(grads, key=len)


def _layout(trace: Trace, frames: list[Frame], show_local: bool, max_nodes: int | None,
            rankdir: str | None) -> Any:
    texts = {n.index: _longest(n.index, frames) for n in trace.nodes}

    def node_text(n: Any) -> tuple[str, str]:
        value, grad = texts[n.index]
        return value, grad

    return layout_graph(trace, show_grad=True, show_local=show_local, rankdir=rankdir, max_nodes=max_nodes,
                        ids=True, node_text=node_text, edge_text=lambda e: f"×{_num(e.local)}")


# ----------------------------------------------------------------------------- GIF

def _gif(trace: Trace, *, show_local: bool, max_nodes: int | None, rankdir: str | None, frame_ms: int) -> bytes:
    import io

    import graphviz
    from PIL import Image

    frames = backprop_frames(trace)
    dot = _layout(trace, frames, show_local, max_nodes, rankdir)
    placed = json.loads(dot.pipe(format="json").decode("utf-8"))
    if len(frames) > MAX_GIF_FRAMES:  # keep the first and last; skip evenly between
        step = len(frames) / MAX_GIF_FRAMES
        frames = [frames[int(k * step)] for k in range(MAX_GIF_FRAMES - 1)] + [frames[-1]]
    images = []
    for f in frames:
        source = _pinned_source(trace, placed, f, show_local)
        png = graphviz.Source(source, engine="neato").pipe(format="png", neato_no_op=2)
        images.append(Image.open(io.BytesIO(png)).convert("RGB"))
    width = max(im.width for im in images)
    height = max(im.height for im in images)
    canvas = []
    for im in images:
        if im.size != (width, height):
            page = Image.new("RGB", (width, height), "white")
            page.paste(im, (0, 0))
            im = page
        canvas.append(im.quantize(colors=128, method=Image.Quantize.MEDIANCUT))
    durations = [frame_ms] * len(canvas)
    durations[-1] = max(3 * frame_ms, 2500)
    out = io.BytesIO()
    canvas[0].save(out, format="GIF", save_all=True, append_images=canvas[1:], duration=durations, loop=0,
                   optimize=False, disposal=1)
    return out.getvalue()


def _pinned_source(trace: Trace, placed: dict[str, Any], f: Frame, show_local: bool) -> str:
    """DOT for one frame: every node and edge where ``dot`` placed it, with this frame's texts and colours."""
    from .graph import _fill, _html, _node_label, _text

    lines = ["digraph frame {", f'graph [bb="{placed["bb"]}", pad="0.2", fontname="Helvetica", fontsize="11", '
             f'splines="true"];',
             'node [fontname="Helvetica", fontsize="10", shape="box", style="rounded,filled", fixedsize="true", '
             'margin="0.08,0.04"];', 'edge [arrowsize="0.7", fontname="Helvetica", fontsize="9"];']
    objects = placed.get("objects", [])
    names = {o["_gvid"]: o["name"] for o in objects}
    for o in objects:
        name = o["name"]
        if not name.startswith("n") or not name[1:].isdigit():
            attrs = f'pos="{o["pos"]}!", width="{o["width"]}", height="{o["height"]}", label="{o.get("label", "")}", ' \
                    f'shape="note", style="dashed"'
            lines.append(f'"{name}" [{attrs}];')
            continue
        i = int(name[1:])
        n = trace.nodes[i]
        value = f.values.get(i, "")
        grad = f.grads.get(i, " ")
        label = _node_label(n, True, True, value or " ", grad)
        colour = CURRENT if f.current == i else ("#111827" if i in f.values else PENDING_TEXT)
        pen = "3" if f.current == i else "1.2"
        lines.append(f'{name} [pos="{o["pos"]}!", width="{o["width"]}", height="{o["height"]}", '
                     f'label={_html(label)}, fillcolor="{_fill(trace, n)}", color="{colour}", penwidth="{pen}"];')
    active = set(f.active)
    for e in placed.get("edges", []):
        tail, head = names[e["tail"]], names[e["head"]]
        if e.get("style") == "invis":
            continue
        attrs = [f'pos="{e["pos"]}"']
        key = (int(tail[1:]), int(head[1:])) if tail[1:].isdigit() and head[1:].isdigit() else None
        on = key in active
        attrs.append(f'color="{ACTIVE_EDGE if on else "#4b5563"}"')
        attrs.append(f'penwidth="{2.4 if on else 1.0}"')
        if show_local and key in f.edges and "lp" in e:
            attrs.append(f'label=<<FONT COLOR="{LOCAL_COLOUR}">{_text(f.edges[key])}</FONT>>')
            attrs.append(f'lp="{e["lp"]}"')
        if e.get("style"):
            attrs.append(f'style="{e["style"]}"')
        lines.append(f'"{tail}" -> "{head}" [{", ".join(attrs)}];')
    x0, y0, x1, y1 = (float(v) for v in placed["bb"].split(","))
    caption = _text(f.caption)
    lines.append(f'caption [shape="plaintext", style="", fixedsize="false", pos="{(x0 + x1) / 2},{y0 - 22}!", '
                 f'label=<<FONT POINT-SIZE="12" COLOR="{CURRENT if f.phase == "backward" else "#111827"}">'
                 f'{caption}</FONT>>];')
    lines.append("}")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- captions

def n_value(trace: Trace, i: int) -> np.ndarray:
    return trace.nodes[i].value


def _name(trace: Trace, i: int) -> str:
    """A node in a caption: its name, else its formula in its inputs' names (``x1×w1``) while that is short."""
    n = trace.nodes[i]
    if n.name:
        return n.name
    if n.op is None:
        return "input" if n.requires_grad else "const"
    text = _formula(trace, i)
    if len(text) > 28:
        return f"{symbol(n.op)} #{i}"
    return f"({text})" if " " in text else text  # x1 × w1 needs parentheses inside a caption, exp(a) does not


def _formula(trace: Trace, i: int) -> str:
    """``n = x1 × w1`` style text for the forward caption."""
    n = trace.nodes[i]
    args = [_name(trace, e.src) for e in trace.inputs_of(i)]  # short: _name cuts long formulas
    args += [_num(a) if np.ndim(a) == 0 else f"const{np.shape(a)}" for _, a in n.consts]
    op = symbol(n.op or "")
    if op in ("+", "−", "×", "÷", "**", "@") and len(args) == 2:
        return f" {op} ".join(args)
    return f"{op}({', '.join(args)})"


def _arrival(trace: Trace, e: Any) -> str:
    src = _name(trace, e.src)
    c = e.contribution
    if e.local is not None:
        return f"{src} gets {_summary(trace.nodes[e.dst].grad)} × {_num(e.local)} = {_summary(c)}"
    return f"{src} gets {_summary(c)}"


def _sum_text(parts: list[np.ndarray]) -> str:
    total = parts[0] if len(parts) == 1 else np.sum(parts, axis=0)
    if len(parts) == 1:
        return _summary(total)
    if len(parts) <= 3 and all(np.size(p) == 1 for p in parts):
        return " + ".join(_summary(p) for p in parts) + f" = {_summary(total)}"
    return f"{_summary(total)} (sum of {len(parts)})"


def _need_dot() -> None:
    import shutil

    from .graph import INSTALL_HINT

    if shutil.which("dot") is None:
        raise RuntimeError(f"animate_backprop: Graphviz's 'dot' program was not found; {INSTALL_HINT}")


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>@TITLE@</title>
<style>
body { font-family: Helvetica, Arial, sans-serif; margin: 16px; color: #111827; }
#controls { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; margin-bottom: 8px; }
#controls button { font-size: 15px; padding: 4px 12px; }
#play { min-width: 5.5em; }  /* "play" and "pause" the same width: the controls do not jump */
#frame-slider { flex: 1; min-width: 160px; }
#caption { min-height: 2.6em; font-size: 17px; margin: 6px 0; }
#caption.backward { color: #9a3412; }
#graph { overflow-x: auto; }
#graph svg { height: auto; }
.pending text { fill: #9ca3af; }
</style></head><body>
<h2 style="margin:0 0 8px 0;font-size:18px">@TITLE@</h2>
<div id="controls">
<button id="back" data-testid="back" type="button">&#9664; step</button>
<button id="play" data-testid="play" type="button">play</button>
<button id="step" data-testid="step" type="button">step &#9654;</button>
<input id="frame-slider" data-testid="frame-slider" type="range" min="0" value="0" step="1">
<span>frame <span id="frame-index" data-testid="frame-index">0</span> of <span id="frame-count"></span></span>
</div>
<div id="caption" data-testid="caption"></div>
<div id="graph" data-testid="graph">@SVG@</div>
<script id="frames" type="application/json">@DATA@</script>
<script>@SCRIPT@</script>
</body></html>
"""

# The player: finds each node's value and gradient text in the SVG once, then every frame only sets
# texts and colours. Plain DOM calls, no library.
_SCRIPT = r"""
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("frames").textContent);
  var frames = data.frames, colours = data.colours;
  var nodes = {}, edges = {};
  Object.keys(data.layout).forEach(function (i) {
    var g = document.getElementById("n" + i);
    if (!g) { return; }
    var texts = g.getElementsByTagName("text"), value = null, grad = null;
    for (var k = 0; k < texts.length; k++) {
      var s = texts[k].textContent;
      if (value === null && s === data.layout[i][0]) { value = texts[k]; }
      else if (grad === null && s === data.layout[i][1]) { grad = texts[k]; }
    }
    var outline = g.querySelector("path, polygon");
    if (outline) {  // the value and grad rows change length from frame to frame: centre them in the box
      var box = outline.getBBox(), middle = String(box.x + box.width / 2);
      [value, grad].forEach(function (t) {
        if (t) { t.setAttribute("text-anchor", "middle"); t.setAttribute("x", middle); }
      });
    }
    nodes[i] = { g: g, value: value, grad: grad, outline: outline,
                 stroke: outline ? outline.getAttribute("stroke") : null };
  });
  Array.prototype.forEach.call(document.querySelectorAll("g.edge"), function (g) {
    var key = (g.id || "").replace(/^e/, "");
    var label = g.getElementsByTagName("text")[0] || null;
    var path = g.querySelector("path");
    edges[key] = { g: g, label: label, path: path, stroke: path ? path.getAttribute("stroke") : null };
  });
  // Graphviz draws 10 pt text at its natural size, small on a wide screen: scale the picture to the
  // page's width, up to 1.5 times; a graph wider than the page shrinks to 0.85 at most, then scrolls
  // sideways, so its text stays readable.
  var svg = document.querySelector("#graph svg"), graph = document.getElementById("graph");
  function fit() {
    var natural = parseFloat(svg.getAttribute("width")) * 4 / 3;  // Graphviz gives pt; CSS px = 0.75 pt
    if (natural > 0) { svg.style.width = Math.max(0.85 * natural, Math.min(graph.clientWidth, 1.5 * natural)) + "px"; }
  }
  if (svg) { fit(); window.addEventListener("resize", fit); }
  function follow(g) {  // a graph wider than the page: scroll sideways to keep the current node in view
    if (graph.scrollWidth <= graph.clientWidth) { return; }
    var r = g.getBoundingClientRect(), c = graph.getBoundingClientRect();
    if (r.left < c.left || r.right > c.right) { graph.scrollLeft += (r.left + r.right - c.left - c.right) / 2; }
  }
  var slider = document.getElementById("frame-slider");
  var index = document.getElementById("frame-index");
  var caption = document.getElementById("caption");
  var play = document.getElementById("play");
  slider.max = String(frames.length - 1);
  document.getElementById("frame-count").textContent = String(frames.length - 1);
  var current = 0, timer = null;

  function show(k) {
    current = Math.max(0, Math.min(frames.length - 1, k));
    var f = frames[current];
    Object.keys(nodes).forEach(function (i) {
      var n = nodes[i];
      var v = f.values[i], gr = f.grads[i];
      if (n.value) { n.value.textContent = v === undefined ? "" : v; }
      if (n.grad) { n.grad.textContent = gr === undefined ? "" : "grad " + gr; }
      n.g.classList.toggle("pending", v === undefined);
      if (n.outline) {
        var here = f.current !== null && String(f.current) === i;
        n.outline.setAttribute("stroke", here ? colours.current : n.stroke);
        n.outline.setAttribute("stroke-width", here ? "3" : "1.2");
      }
    });
    var active = {};
    f.active.forEach(function (key) { active[key] = true; });
    Object.keys(edges).forEach(function (key) {
      var e = edges[key];
      if (e.label) { e.label.textContent = f.edges[key] === undefined ? "" : f.edges[key]; }
      if (e.path) {
        e.path.setAttribute("stroke", active[key] ? colours.current : e.stroke);
        e.path.setAttribute("stroke-width", active[key] ? "2.5" : "1");
      }
    });
    if (f.current !== null && nodes[f.current]) { follow(nodes[f.current].g); }
    caption.textContent = f.caption;
    caption.className = f.phase;
    slider.value = String(current);
    index.textContent = String(current);
  }
  function stop() { if (timer !== null) { clearInterval(timer); timer = null; } play.textContent = "play"; }
  play.addEventListener("click", function () {
    if (timer !== null) { stop(); return; }
    if (current >= frames.length - 1) { show(0); }
    play.textContent = "pause";
    timer = setInterval(function () { if (current >= frames.length - 1) { stop(); } else { show(current + 1); } }, 900);
  });
  document.getElementById("step").addEventListener("click", function () { stop(); show(current + 1); });
  document.getElementById("back").addEventListener("click", function () { stop(); show(current - 1); });
  slider.addEventListener("input", function () { stop(); show(parseInt(slider.value, 10)); });
  show(0);
})();
"""
