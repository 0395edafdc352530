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
OP_FILL = "#f3f4f6"


def draw_graph(t: Tensor, show_data: bool = True, show_grad: bool = True, rankdir: str = "LR",
               max_nodes: int | None = 100, *, names: Mapping[str, Tensor] | None = None) -> Any:
    """The computation graph behind ``t`` as a ``graphviz.Digraph`` (values as records, ops as small nodes).

    Each value shows its name (``t.name``, or the key it has in ``names``, e.g.
    ``dict(model.named_parameters())``), shape and dtype, its data (a scalar's value to 4 significant
    digits, a few entries of a small array, min/mean/max of a big one) when ``show_data`` and its
    gradient when ``show_grad`` and one is known. Op nodes show the op and its options (``axis=0``).
    Works before and after ``backward``; a node whose inputs ``backward`` already freed says so.

    At most ``max_nodes`` nodes (values, ops and constants; ``None``: no limit) are drawn, those
    nearest the output; the rest become one summary node such as ``… 4975 earlier tensors (ops:
    tanh×2487, mul×2487, …)``. In Jupyter the returned Digraph displays itself; write it to a file
    with :func:`save_graph`.

    >>> import tinygrad_mvc as tg
    >>> x = tg.tensor([1.0, 2.0], requires_grad=True, name="x")
    >>> y = (x * x).sum()
    >>> y.backward()
    >>> dot = draw_graph(y)   # before backward freed it, this would show x -> mul -> sum
    >>> "sum" in dot.source and "inputs freed" in dot.source
    True
    """
    if not isinstance(t, Tensor):
        raise TypeError(f"draw_graph: t must be a Tensor, got {type(t).__name__}")
    if rankdir not in RANKDIRS:
        raise ValueError(f"draw_graph: rankdir must be one of {', '.join(RANKDIRS)}, got {rankdir!r}")
    if max_nodes is not None and (isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1):
        raise ValueError(f"draw_graph: max_nodes must be a positive int or None, got {max_nodes!r}")
    labels = _names_by_identity(names)
    import graphviz  # lazy: importing tinygrad_mvc must not need it

    order = _walk(t)
    shown = _fit(order, max_nodes)
    index = {id(v): i for i, v in enumerate(order)}
    dot = graphviz.Digraph("computation_graph", graph_attr={"rankdir": rankdir},
                           node_attr={"fontname": "Helvetica", "fontsize": "10"},
                           edge_attr={"arrowsize": "0.7"})
    nohtml = graphviz.nohtml  # labels are plain text, even one that happens to look like <html>
    signatures: dict[int, inspect.Signature | None] = {}
    summary_edges: list[str] = []
    for i, v in enumerate(order[:shown]):
        node = f"t{i}"
        dot.node(node, nohtml(_value_label(v, labels.get(id(v)), show_data, show_grad)), shape="record",
                 style="filled", fillcolor=_fill(v, i == 0))
        if v._op is None:
            continue
        op_node = f"t{i}_op"
        args, kwargs = v._inputs, v._kwargs
        sig = signatures.get(id(v._op), ...)
        if sig is ...:
            sig = signatures[id(v._op)] = _signature(v._op)
        dot.node(op_node, nohtml(_op_label(v._op, args, kwargs, sig)), shape="ellipse", style="filled",
                 fillcolor=OP_FILL, margin="0.05,0.02", height="0.3")
        dot.edge(op_node, node)
        if args is None:
            continue
        hidden_input = False
        for j, a in enumerate(args):
            if isinstance(a, Tensor):
                k = index[id(a)]
                if k < shown:
                    dot.edge(f"t{k}", op_node)
                else:
                    hidden_input = True
            elif _is_constant(v._op, j, a):
                const = f"t{i}_c{j}"
                dot.node(const, nohtml(_escape(_const_label(a, show_data))), shape="box", style="rounded,filled",
                         fillcolor=CONST_FILL, fontsize="9", height="0.25", margin="0.05,0.02")
                dot.edge(const, op_node)
        if hidden_input:
            summary_edges.append(op_node)
    if shown < len(order):
        dot.node("earlier", nohtml(_escape(_summary_text(order[shown:]))), shape="note", style="dashed")
        for op_node in summary_edges:
            dot.edge("earlier", op_node, style="dashed")
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


# ----------------------------------------------------------------------------- the walk

def _walk(root: Tensor) -> list[Tensor]:
    """Every tensor reachable from ``root``, each once, breadth first: nearest the output comes first."""
    order = [root]
    seen = {id(root)}
    queue = deque(order)
    while queue:
        v = queue.popleft()
        if v._op is None:  # leaves and constants: nothing recorded behind them (their _inputs is not even set)
            continue
        args = v._inputs
        if args is None:  # freed by backward
            continue
        for a in args:
            if isinstance(a, Tensor) and id(a) not in seen:
                seen.add(id(a))
                order.append(a)
                queue.append(a)
    return order


def _fit(order: list[Tensor], max_nodes: int | None) -> int:
    """How many tensors of ``order`` fit in ``max_nodes`` drawn nodes (always at least the output).

    A tensor costs its value node, its op node and one node per constant input. The cut is at the
    first tensor that does not fit, so what is drawn is one connected piece around the output.
    """
    if max_nodes is None:
        return len(order)
    used = 0
    for i, v in enumerate(order):
        cost = 1
        if v._op is not None:
            args = v._inputs or ()
            cost += 1 + sum(1 for j, a in enumerate(args) if not isinstance(a, Tensor) and _is_constant(v._op, j, a))
        if i > 0 and used + cost > max_nodes:
            return i
        used += cost
    return len(order)


def _summary_text(hidden: list[Tensor]) -> str:
    ops = Counter(_cut(str(v._op.name), NAME_WIDTH) for v in hidden if v._op is not None)
    leaves = [v for v in hidden if v._op is None]
    lines = [f"… {len(hidden)} earlier tensor{'s' if len(hidden) != 1 else ''}"]
    if ops:
        listed = [f"{name}×{n}" for name, n in ops.most_common(SUMMARY_OPS)]
        more = ", …" if len(ops) > SUMMARY_OPS else ""
        lines.append(f"(ops: {', '.join(listed)}{more})")
    if leaves:
        named = [_cut(v.name, NAME_WIDTH) for v in leaves if v.name][:3]
        lines.append(f"{len(leaves)} lea{'ves' if len(leaves) != 1 else 'f'}"
                     + (f": {', '.join(named)}{', …' if len(leaves) > len(named) else ''}" if named else ""))
    return "\n".join(lines)


def _names_by_identity(names: Mapping[str, Tensor] | None) -> dict[int, str]:
    if names is None:
        return {}
    if not isinstance(names, Mapping):
        raise TypeError(f"draw_graph: names must be a mapping of name -> Tensor, got {type(names).__name__}")
    labels: dict[int, str] = {}
    for key, value in names.items():
        if not isinstance(value, Tensor):
            raise TypeError(f"draw_graph: names[{key!r}] must be a Tensor, got {type(value).__name__}")
        labels.setdefault(id(value), str(key))  # a tensor under two names keeps the first
    return labels


# ----------------------------------------------------------------------------- labels

def _fill(v: Tensor, is_output: bool) -> str:
    if is_output:
        return OUTPUT_FILL
    if v._op is None:
        return LEAF_FILL if v.requires_grad else CONST_FILL
    return "white"


def _value_label(v: Tensor, label: str | None, show_data: bool, show_grad: bool) -> str:
    """A record label ``{name | shape dtype | data ... | grad ...}`` with every field escaped."""
    fields = []
    name = label or v.name
    if name:
        fields.append(_cut(name, NAME_WIDTH))
    fields.append(f"{v.data.shape} {v.data.dtype}")
    if show_data:
        fields.append("data " + _summary(v.data))
    if show_grad and v.grad is not None:
        fields.append("grad " + _summary(np.asarray(v.grad.data if isinstance(v.grad, Tensor) else v.grad)))
    return "{" + "|".join(_escape_record(f) for f in fields) + "}"


def _op_label(op: Any, args: tuple[Any, ...] | None, kwargs: dict[str, Any] | None,
              sig: inspect.Signature | None) -> str:
    lines = [_cut(str(op.name), NAME_WIDTH)]
    if args is None:
        lines.append("(inputs freed)")
    else:
        params = _positional_names(sig, len(args))
        for j, a in enumerate(args):
            if a is None or isinstance(a, Tensor) or _is_constant(op, j, a):
                continue  # None is an unused option; tensors and constants are drawn as nodes
            lines.append(f"{params[j]}={_brief(a)}")
        defaults = {} if sig is None else {p.name: p.default for p in sig.parameters.values()}
        for key, value in (kwargs or {}).items():
            if not _same(value, defaults.get(key, inspect.Parameter.empty)):
                lines.append(f"{key}={_brief(value)}")
    return _escape(lines[0]) + "".join("\\n" + _escape(line) for line in lines[1:])


def _const_label(a: Any, show_data: bool) -> str:
    arr = np.asarray(a)
    if arr.ndim == 0:
        return _num(arr.item())
    text = f"const {arr.shape}"
    if show_data and arr.size <= SMALL:
        text += "\n" + _summary(arr)
    return text


def _is_constant(op: Any, j: int, a: Any) -> bool:
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


def _escape_record(text: str) -> str:
    """One field of a record label: also escape the characters that structure records."""
    text = _visible(text).replace("\\", "\\\\")
    for ch in '{}|<>"':
        text = text.replace(ch, "\\" + ch)
    return text.replace("\n", "\\n")


# ----------------------------------------------------------------------------- files

def _write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a flushed temporary file beside it (see ``tinygrad_mvc._atomic``)."""
    write_atomic(path, lambda f: f.write(data))
