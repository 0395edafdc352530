"""Computation-graph pictures: :func:`draw_graph` builds a ``graphviz.Digraph``, :func:`save_graph` writes it.

The picture is drawn the way micrograd draws its scalars, but for tensors: every value is a record
(name, shape and dtype, a short summary of the data and of the gradient) and every op a small node
between its inputs and its output, so edges run value -> op -> value. Numbers and arrays that were
passed to an op as plain constants get small nodes of their own.

The walk over the graph is iterative (breadth first from the output), so a 10 000-op chain draws in
milliseconds. Only the ``max_nodes`` nodes nearest the output are drawn; everything further back is
folded into one summary node that says how many tensors it stands for and which ops made them.

``graphviz`` (the Python package) is imported inside the functions; rendering pictures also needs the
Graphviz program ``dot``, and :func:`save_graph` falls back to writing the DOT source without it.
"""

from __future__ import annotations

import html
import inspect
import os
import shutil
import unicodedata
from collections import Counter, deque
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .._atomic import write_atomic
from ..tensor import Tensor
from .trace import Trace, TraceNode, snapshot

__all__ = ["draw_graph", "save_graph", "RANKDIRS", "FORMATS", "INSTALL_HINT"]

RANKDIRS = ("LR", "TB", "RL", "BT")
"""Accepted ``rankdir`` values: the direction the graph flows in (left to right, top to bottom, ...)."""

FORMATS = (".svg", ".png", ".pdf", ".dot", ".gv")
"""File suffixes :func:`save_graph` understands; ``.dot`` and ``.gv`` are the DOT source itself."""

INSTALL_HINT = ("install Graphviz to render it: apt-get install graphviz (Debian/Ubuntu), brew install graphviz "
                "(macOS) or conda install graphviz")

# How much of an array a label shows: every entry up to SMALL entries, else min/mean/max, and for
# arrays too big to scan cheaply only the shape (a picture must not cost more than the forward pass).
SMALL = 6
STATS_LIMIT = 10 ** 6
OPTION_WIDTH = 32  # characters of one op option (axis=..., index=...) before it is cut with "…"
NAME_WIDTH = 60  # characters of a tensor or op name: Graphviz refuses a quoted string over 16 384 bytes
SUMMARY_OPS = 4  # op kinds listed in the summary node of a collapsed graph

# Colours say what a value is at a glance: leaves to be trained, constants, and the output.
LEAF_FILL = "#dbeafe"
CONST_FILL = "#eeeeee"
OUTPUT_FILL = "#fde68a"
GRAD_COLOUR = "#b91c1c"  # gradients in red, local derivatives in blue: the two factors of the chain rule
LOCAL_COLOUR = "#1d4ed8"

SYMBOLS = {"add": "+", "sub": "−", "mul": "×", "div": "÷", "pow": "**", "neg": "−x", "matmul": "@",
           "matmul_nt": "@ᵀ", "matmul_tn": "ᵀ@", "sum": "Σ", "getitem": "[ ]"}
"""Op symbols in pictures (the CLI and the playground use the same table); ops not listed show their name."""


def draw_graph(t: Tensor | Trace, show_data: bool = True, show_grad: bool = True, show_local: bool = False,
               rankdir: str | None = "LR", max_nodes: int | None = 100, *,
               names: Mapping[str, Tensor] | None = None) -> Any:
    """The computation graph behind ``t`` (a Tensor, or a trace from :func:`~tinygrad_mvc.viz.backprop`)
    as a ``graphviz.Digraph``.

    Every value is one box: its name (``t.name``, or its key in ``names``, e.g.
    ``dict(model.named_parameters())``) or the symbol of the op that made it (``+ − × ÷ ** tanh exp``),
    its value when ``show_data`` and, when ``show_grad``, its gradient: with a trace every node has one
    and the output shows 1; with a Tensor, the gradients tensors hold (leaves after ``backward``,
    non-leaves that ``retain_grad()``). Scalars show bare numbers; arrays their shape and a summary.
    ``show_local=True`` labels each edge between scalars with the local derivative ∂out/∂in, so the
    picture reads as the chain rule: grad(in) = Σ grad(out) · ∂out/∂in over the edges leaving ``in``.

    ``rankdir`` is the direction the graph flows (``"LR"``, ``"TB"``, ...); ``None`` picks it from the
    graph's shape. A graph too deep for one page flows in rows (or columns) that wrap, so about 60
    nodes fit 2000 pixels. At most ``max_nodes`` boxes (``None``: no limit) are drawn, those nearest the
    output; the rest become one summary node. On a tensor whose graph ``backward()`` already freed, this
    raises an error that says how to get the picture (``tg.viz.backprop``). In Jupyter the Digraph
    displays itself; :func:`save_graph` writes it to a file.

    >>> import tinygrad_mvc as tg
    >>> x = tg.tensor(2.0, requires_grad=True, name="x")
    >>> y = tg.tanh(x * 3.0)
    >>> dot = draw_graph(tg.viz.backprop(y), show_local=True)
    >>> "tanh" in dot.source and "×" in dot.source and "grad 1.0" in dot.source
    True
    """
    if rankdir is not None and rankdir not in RANKDIRS:
        raise ValueError(f"draw_graph: rankdir must be one of {', '.join(RANKDIRS)} or None, got {rankdir!r}")
    if max_nodes is not None and (isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1):
        raise ValueError(f"draw_graph: max_nodes must be a positive int or None, got {max_nodes!r}")
    if isinstance(t, Trace):
        trace = t
        if names is not None:
            labels = names_by_identity(names)
            for n in trace.nodes:
                n.name = labels.get(id(n.tensor), n.name)
    else:
        trace = snapshot(t, names=names, locals=show_local)
    return layout_graph(trace, show_data=show_data, show_grad=show_grad, show_local=show_local, rankdir=rankdir,
                        max_nodes=max_nodes)


def layout_graph(trace: Trace, *, show_data: bool = True, show_grad: bool = True, show_local: bool = False,
                 rankdir: str | None = "LR", max_nodes: int | None = 100, ids: bool = False,
                 node_text: Any = None, edge_text: Any = None) -> Any:
    """Draw ``trace`` as a Digraph (the work of :func:`draw_graph`).

    ``ids=True`` gives every node and edge an SVG id (``n3``, ``e3_5``) for the animation;
    ``node_text(node) -> (value_text, grad_text)`` and ``edge_text(edge)`` override the texts.
    """
    import graphviz  # lazy: importing tinygrad_mvc must not need it

    shown = _nearest(trace, max_nodes)
    flow, rows, floating = _arrangement(trace, shown, rankdir)
    nohtml = graphviz.nohtml
    dot = graphviz.Digraph("computation_graph", graph_attr={
        "rankdir": _ENGINE_DIRECTION[flow] if rows else flow, "nodesep": "0.25", "ranksep": "0.35",
        "fontname": "Helvetica", "fontsize": "10"},
        node_attr={"fontname": "Helvetica", "fontsize": "10", "shape": "box", "style": "rounded,filled",
                   "margin": "0.08,0.04", "penwidth": "1.2"},
        edge_attr={"arrowsize": "0.7", "fontname": "Helvetica", "fontsize": "9", "color": "#4b5563"})
    for i in sorted(shown):
        n = trace.nodes[i]
        value_text, grad_text = node_text(n) if node_text else (None, None)
        attrs = {"fillcolor": _fill(trace, n)}
        if ids:
            attrs["id"] = f"n{i}"
        dot.node(f"n{i}", _html(_node_label(n, show_data, show_grad, value_text, grad_text)), **attrs)
    row_of = {i: r for r, row in enumerate(rows) for i in row}
    hidden_into: set[int] = set()
    for e in trace.edges:
        if e.dst not in shown:
            continue
        if e.src not in shown:
            hidden_into.add(e.dst)
            continue
        attrs = {}
        if ids:
            attrs["id"] = f"e{e.src}_{e.dst}"
        if show_local and e.local is not None:
            text = edge_text(e) if edge_text else _num(e.local)
            attrs["label"] = _html(f'<FONT COLOR="{LOCAL_COLOUR}">{_text(text)}</FONT>')
        elif ids and show_local:
            attrs["label"] = " "
        if rows and row_of[e.src] != row_of[e.dst]:
            attrs.update(constraint="false", weight="0")  # rows stack by the invisible edges below, not by this
        dot.edge(f"n{e.src}", f"n{e.dst}", **attrs)
    if rows:
        fed = {e.dst for e in trace.edges}
        starts = [next((i for i in row if i in fed), row[0]) for row in rows]
        for above, below in zip(starts, starts[1:]):  # keep the rows stacked and their starts aligned, like text
            dot.edge(f"n{above}", f"n{below}", style="invis", weight="100")
        for row in rows:
            with dot.subgraph() as same:
                same.attr(rank="same")
                for i in row:
                    if i in fed or not floating:  # floating sources sit just above, beside their use
                        same.node(f"n{i}")
    hidden = len(trace.nodes) - len(shown)
    if hidden:
        dot.node("earlier", nohtml(_escape(_summary_text([n for n in trace.nodes if n.index not in shown]))),
                 shape="note", style="dashed", fillcolor="white")
        for i in sorted(hidden_into):
            dot.edge("earlier", f"n{i}", style="dashed")
    if show_local and any(e.local is not None for e in trace.edges):
        dot.attr(label=nohtml("edge numbers: the local derivative ∂out/∂in;  grad(in) = Σ grad(out) × ∂out/∂in"),
                 labelloc="b", fontcolor=LOCAL_COLOUR)
    return dot


def save_graph(graph: Any, path: str | os.PathLike[str]) -> tuple[Path, str | None]:
    """Write ``graph`` (from :func:`draw_graph`) to ``path`` in the format of its suffix; return (file, hint).

    ``.svg``, ``.png`` and ``.pdf`` are rendered by the Graphviz program ``dot``; ``.dot`` and ``.gv``
    are the DOT source. Without ``dot`` the source is saved next to ``path`` with the suffix ``.dot``
    and the hint is a one-line message on installing Graphviz; otherwise the hint is None. The file
    is written to a temporary name in the same folder and then moved into place, so it is never
    half written. (In Jupyter, the Digraph itself displays inline; no file is needed.)

    >>> import tempfile, tinygrad_mvc as tg
    >>> folder = Path(tempfile.mkdtemp())
    >>> save_graph(draw_graph(tg.tensor(2.0) * 3), folder / "g.dot")[0].name
    'g.dot'
    """
    source = getattr(graph, "source", None)
    if not isinstance(source, str):
        raise TypeError(f"save_graph: graph must be a graphviz graph (from draw_graph), got {type(graph).__name__}")
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"save_graph: path {str(path)!r} must end in one of {', '.join(FORMATS)}, "
                         f"got {suffix or 'no suffix'!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix in (".dot", ".gv"):
        _write_atomic(path, source.encode("utf-8"))
        return path, None
    import graphviz

    if shutil.which("dot") is not None:
        try:
            # pipe, not render: the picture comes back as bytes, so only _write_atomic touches the disk.
            data = graph.pipe(format=suffix[1:])
        except graphviz.ExecutableNotFound:
            pass
        else:
            _write_atomic(path, data)
            return path, None
    fallback = path.with_suffix(".dot")
    _write_atomic(fallback, source.encode("utf-8"))
    return fallback, (f"Graphviz's 'dot' program was not found, so the DOT source was saved to {fallback} instead of "
                      f"{path}; {INSTALL_HINT}, then run: dot -T{suffix[1:]} {fallback} -o {path}")


# ----------------------------------------------------------------------------- what is drawn, and where

# Direction of the whole picture when a flow wraps: rows that flow left to right are stacked top to
# bottom (the engine's rankdir is then TB and each row is one rank), and so on.
_ENGINE_DIRECTION = {"LR": "TB", "RL": "TB", "TB": "LR", "BT": "LR"}
# Sizes for the wrapping decision, in pixels of a PNG at Graphviz's default 96 dpi: a box's width is about
# CHAR_PX per character of its longest line plus padding, RANK_GAP_PX the space between ranks (room for
# an edge label); PAGE_PX is what one row may take. Measured on rendered pictures, not exact.
PAGE_PX = 1800
CHAR_PX = 9.6
BOX_PAD_PX = 32
BOX_HEIGHT_PX = 90
RANK_GAP_PX = 56
FLOAT_SOURCES = 0.6  # sources float above wrapped rows while there are at most this many per other node


def _nearest(trace: Trace, max_nodes: int | None) -> set[int]:
    """The nodes to draw: breadth first from the output, until ``max_nodes`` boxes (a node and its constants)."""
    into: dict[int, list[int]] = {}
    for e in trace.edges:
        into.setdefault(e.dst, []).append(e.src)
    order = [trace.output]
    seen = {trace.output}
    queue = deque(order)
    while queue:
        for src in into.get(queue.popleft(), ()):
            if src not in seen:
                seen.add(src)
                order.append(src)
                queue.append(src)
    if max_nodes is None:
        return set(order)
    used = 0
    for k in range(len(order)):
        cost = 1
        if k > 0 and used + cost > max_nodes:
            return set(order[:k])
        used += cost
    return set(order)


def _levels(trace: Trace, shown: set[int]) -> dict[int, int]:
    """Each shown node's level, placed as late as possible: the longest path from it to the output,
    counted back from the deepest. A branch then sits just before the node that uses it (a bias beside
    its addition, each term of a long sum beside its +), which keeps wrapped rows short.
    """
    out_of: dict[int, list[int]] = {}
    for e in trace.edges:
        if e.src in shown and e.dst in shown:
            out_of.setdefault(e.src, []).append(e.dst)
    to_output: dict[int, int] = {}
    for i in sorted(shown, reverse=True):  # creation order reversed: every user before what it uses
        to_output[i] = 1 + max((to_output[d] for d in out_of.get(i, ())), default=-1)
    deepest = max(to_output.values(), default=0)
    return {i: deepest - d for i, d in to_output.items()}


def _box_width(n: TraceNode) -> float:
    """About how wide a node's box renders, in pixels at the default DPI (10 pt Helvetica, 4 lines)."""
    lines = [header(n), value_text(n), grad_text(n) or ""]
    if n.value.ndim or n.value.dtype != np.float64:
        lines.append(f"{n.value.shape} {n.value.dtype}")
    return CHAR_PX * max(len(line) for line in lines) + BOX_PAD_PX


def _arrangement(trace: Trace, shown: set[int], rankdir: str | None) -> tuple[str, list[list[int]], bool]:
    """The flow direction, the rows it wraps into (empty when one row holds it all), and whether sources
    float above their row rather than sit in it.

    ``rankdir=None`` flows left to right (as micrograd draws) unless the graph is much broader than
    deep, which reads better top to bottom. A flow longer than PAGE_PX (each level as wide as its
    widest box, or as tall as a box) wraps: consecutive levels share a row, one rank of the picture, as
    many as fit PAGE_PX side by side. Sources are left out of the count: they float above their row.
    """
    level = _levels(trace, shown)
    depth = 1 + max(level.values(), default=0)
    by_level: dict[int, list[int]] = {}
    for i, lv in level.items():
        by_level.setdefault(lv, []).append(i)
    breadth = max((len(v) for v in by_level.values()), default=1)
    flow = rankdir or ("TB" if breadth > 2 * depth and breadth > 6 else "LR")
    across = flow in ("LR", "RL")
    width = {i: _box_width(trace.nodes[i]) for i in shown}
    step = [(max(width[i] for i in by_level[lv]) if across else BOX_HEIGHT_PX) + RANK_GAP_PX
            for lv in range(depth) if lv in by_level]
    if sum(step) <= PAGE_PX:
        return flow, [], True
    fed = {e.dst for e in trace.edges}
    # Few sources (a network's weights and biases) float above their row, beside their use; many (a long
    # sum of products of leaves) would spread a row of their own wider than the page, so they join the row.
    sources = [i for i in shown if i not in fed]
    floating = len(sources) <= FLOAT_SOURCES * (len(shown) - len(sources))
    rows: list[list[int]] = []
    current: list[int] = []
    used = [0.0, 0.0]  # the row itself, and the line of its sources floating above it
    for lv in range(depth):
        members = sorted(by_level.get(lv, []))
        cost = [sum(width[i] + RANK_GAP_PX for i in members if i in fed or not floating),
                sum(width[i] + RANK_GAP_PX / 2 for i in members if i not in fed and floating)]
        if current and max(used[0] + cost[0], used[1] + cost[1]) > PAGE_PX:
            rows.append(current)
            current, used = [], [0.0, 0.0]
        current.extend(members)
        used = [used[0] + cost[0], used[1] + cost[1]]
    if current:
        rows.append(current)
    return flow, (rows if len(rows) > 1 else []), floating


def _summary_text(hidden: list[TraceNode]) -> str:
    ops = Counter(_cut(n.op, NAME_WIDTH) for n in hidden if n.op is not None)
    leaves = [n for n in hidden if n.op is None]
    lines = [f"… {len(hidden)} earlier tensor{'s' if len(hidden) != 1 else ''}"]
    if ops:
        listed = [f"{name}×{k}" for name, k in ops.most_common(SUMMARY_OPS)]
        more = ", …" if len(ops) > SUMMARY_OPS else ""
        lines.append(f"(ops: {', '.join(listed)}{more})")
    if leaves:
        named = [_cut(n.name, NAME_WIDTH) for n in leaves if n.name][:3]
        lines.append(f"{len(leaves)} lea{'ves' if len(leaves) != 1 else 'f'}"
                     + (f": {', '.join(named)}{', …' if len(leaves) > len(named) else ''}" if named else ""))
    return "\n".join(lines)


def names_by_identity(names: Mapping[str, Tensor] | None) -> dict[int, str]:
    """``{id(tensor): name}`` from a ``names`` mapping of name -> Tensor (the first name wins)."""
    if names is None:
        return {}
    if not isinstance(names, Mapping):
        raise TypeError(f"draw_graph: names must be a mapping of name -> Tensor, got {type(names).__name__}")
    labels: dict[int, str] = {}
    for key, value in names.items():
        if not isinstance(value, Tensor):
            raise TypeError(f"draw_graph: names[{key!r}] must be a Tensor, got {type(value).__name__}")
        labels.setdefault(id(value), str(key))
    return labels


# ----------------------------------------------------------------------------- labels

def _fill(trace: Trace, n: TraceNode) -> str:
    if n.index == trace.output:
        return OUTPUT_FILL
    if n.op is None:
        return LEAF_FILL if n.requires_grad else CONST_FILL
    return "white"


def symbol(op: str) -> str:
    """How an op is written in a picture: ``mul`` as ×, ``pow`` as **; other ops by name."""
    return SYMBOLS.get(op, op)


def header(n: TraceNode) -> str:
    """The first line of a node's box: ``name = op`` for a named result, else the name or the op symbol."""
    op = None if n.op is None else symbol(n.op)
    if op is not None and n.consts:  # constants written into the op: "× 1.01", "1.0 −"
        const = ", ".join(_const_label(a, True).replace("\n", " ") for _, a in n.consts)
        op = f"{const} {op}" if n.consts[0][0] == 0 and n.op in SYMBOLS else f"{op} {const}"
    if n.freed:
        op = f"{op} (inputs freed)"
    if op and n.options:
        op += " " + ", ".join(n.options)
    if n.name and op:
        return f"{n.name} = {op}"
    return n.name or op or ("input" if n.requires_grad else "const")


def value_text(n: TraceNode) -> str:
    return _summary(n.value)


def grad_text(n: TraceNode) -> str | None:
    return None if n.grad is None else _summary(n.grad)


def _node_label(n: TraceNode, show_data: bool, show_grad: bool, value: str | None = None,
                grad: str | None = None) -> str:
    """An HTML-like label: the header in bold, then shape (arrays only), value and gradient (in colour)."""
    rows = [f"<B>{_text(_cut(header(n), NAME_WIDTH))}</B>"]
    a = n.value
    if a.ndim or a.dtype != np.float64:
        rows.append(f'<FONT POINT-SIZE="8" COLOR="#6b7280">{_text(f"{a.shape} {a.dtype}")}</FONT>')
    if show_data:
        rows.append(_text(value if value is not None else value_text(n)))
    g = grad if grad is not None else (grad_text(n) if show_grad else None)
    if show_grad and g is not None:
        rows.append(f'<FONT COLOR="{GRAD_COLOUR}">{_text("grad " + g if g.strip() else g)}</FONT>')
    return ('<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">'
            + "".join(f"<TR><TD>{r}</TD></TR>" for r in rows) + "</TABLE>")


def op_options(op: Any, args: tuple[Any, ...], kwargs: dict[str, Any] | None) -> list[str]:
    """The settings an op was called with (``axis=0``), leaving out defaults, tensors and constants."""
    sig = _signature(op)
    params = _positional_names(sig, len(args))
    out = []
    for j, a in enumerate(args):
        if a is None or isinstance(a, Tensor) or is_constant(op, j, a):
            continue
        out.append(f"{params[j]}={_brief(a)}")
    defaults = {} if sig is None else {p.name: p.default for p in sig.parameters.values()}
    for key, value in (kwargs or {}).items():
        if not _same(value, defaults.get(key, inspect.Parameter.empty)):
            out.append(f"{key}={_brief(value)}")
    return out


def _html(inner: str) -> str:
    """A Graphviz HTML-like label (the outer angle brackets mark it as such)."""
    return f"<{inner}>"


def _text(text: str) -> str:
    """Text for inside an HTML-like label: control characters made visible, markup characters escaped, and
    backslashes doubled (Graphviz reads escapes such as ``\\N`` even in HTML-like labels, and ``\\\\`` as one)."""
    return html.escape(_visible(text), quote=True).replace("\\", "\\\\").replace("\n", "<BR/>")


def _const_label(a: Any, show_data: bool) -> str:
    arr = np.asarray(a)
    if arr.ndim == 0:
        return _num(arr.item())
    text = f"const {arr.shape}"
    if show_data and arr.size <= SMALL:
        text += "\n" + _summary(arr)
    return text


def is_constant(op: Any, j: int, a: Any) -> bool:
    """Whether argument ``j`` of ``op`` is data (drawn as a constant node) rather than an option.

    Arrays always are. A plain number is data only where the op has a derivative slot for it
    (``x ** 2``, ``clip(x, 0, 1)``): a number in any other position is a setting, such as an axis.
    """
    if isinstance(a, np.ndarray):
        return True
    if isinstance(a, (bool, np.bool_)) or not isinstance(a, (int, float, complex, np.number)):
        return False
    return j < len(op.vjps) or op.vjp_argnum is not None


def _signature(op: Any) -> inspect.Signature | None:
    try:
        return inspect.signature(op.fun)
    except (TypeError, ValueError):  # builtins such as np.add have none
        return None


def _positional_names(sig: inspect.Signature | None, n: int) -> list[str]:
    names: list[str] = []
    if sig is not None:
        for p in sig.parameters.values():
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
                names.append(p.name)
            elif p.kind is p.VAR_POSITIONAL:
                names.extend(f"{p.name}[{k}]" for k in range(n - len(names)))
    names.extend(f"arg{k}" for k in range(len(names), n))
    return names


def _same(value: Any, default: Any) -> bool:
    if default is inspect.Parameter.empty:
        return False
    try:
        return bool(value is default or (type(value) is type(default) and value == default))
    except (TypeError, ValueError):  # arrays compare elementwise
        return False


def _summary(a: np.ndarray) -> str:
    """A scalar's value, every entry of a small array, or min/mean/max of a big one."""
    if a.ndim == 0:
        return _num(a.item())
    if a.size == 0:
        return "(empty)"
    if a.size <= SMALL:
        text = np.array2string(a, separator=", ", formatter={"all": _num}, max_line_width=10 ** 6, threshold=SMALL)
        return " ".join(text.split())
    if a.dtype.kind not in "biuf" or a.size > STATS_LIMIT:
        return f"({a.size} values)"
    with np.errstate(all="ignore"):
        return f"min {_num(a.min())} mean {_num(a.mean())} max {_num(a.max())}"


def _num(v: Any) -> str:
    """A number to 4 significant digits; floats keep a ``.0`` so 2.0 does not read as the integer 2."""
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        text = f"{float(v):.4g}"
        return text + ".0" if text.lstrip("-").isdigit() else text
    if isinstance(v, (complex, np.complexfloating)):
        return f"{complex(v):.4g}"
    return str(v)


def _brief(v: Any) -> str:
    """A short text for an op option: slices as ``1:3``, dtypes by name, arrays by shape."""
    if isinstance(v, slice):
        text = ":".join("" if x is None else str(x) for x in (v.start, v.stop, v.step))
        text = text[:-1] if text.endswith(":") and v.step is None else text
    elif isinstance(v, tuple):
        text = "(" + ", ".join(_brief(x) for x in v) + ("," if len(v) == 1 else "") + ")"
    elif isinstance(v, np.ndarray):
        text = f"array{v.shape}"
    elif isinstance(v, np.dtype) or (isinstance(v, type) and issubclass(v, np.generic)):
        text = np.dtype(v).name
    elif v is Ellipsis:
        text = "..."
    elif isinstance(v, Tensor):
        text = f"Tensor{v.shape}"
    else:
        text = repr(v)
    return _cut(text, OPTION_WIDTH)


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


# Characters that no DOT label may carry as they are: NUL ends Graphviz's strings, other control
# characters make invalid SVG/XML, lone surrogates cannot be encoded as UTF-8, and U+2028/U+2029
# break lines. Each is shown as a visible stand-in instead (C0 controls as their Unicode control
# pictures ␀ ␁ ..., the others as \xNN or \uNNNN); a newline stays a line break.
_HIDDEN_CATEGORIES = ("Cc", "Cs", "Zl", "Zp")


def _visible(text: str) -> str:
    """``text`` with every control character, lone surrogate and line/paragraph separator made visible."""
    if text.isprintable():
        return text
    out = []
    for ch in text:
        code = ord(ch)
        if ch == "\n" or unicodedata.category(ch) not in _HIDDEN_CATEGORIES:
            out.append(ch)
        elif code < 0x20:
            out.append(chr(0x2400 + code))
        elif code == 0x7F:
            out.append("\u2421")
        else:
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
    return "".join(out)


def _escape(text: str) -> str:
    """Plain DOT label text: control characters made visible, backslashes and quotes escaped, newlines as
    DOT's ``\\n``."""
    return _visible(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


# ----------------------------------------------------------------------------- files

def _write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a flushed temporary file beside it (see ``tinygrad_mvc._atomic``)."""
    write_atomic(path, lambda f: f.write(data))
