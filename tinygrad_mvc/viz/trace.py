"""A recorded backward pass for pictures: :func:`backprop` runs ``backward()`` once and keeps what it computed.

``loss.backward()`` keeps only the leaves' gradients and frees the graph. A :class:`Trace` keeps, for
every node of the graph, its value and its gradient; for every edge, the local derivative ∂out/∂in at
the evaluation point (a number when both ends are scalars) and the product that backward sent along
it; and the order in which backward visited the nodes. :func:`~tinygrad_mvc.viz.draw_graph` and
:func:`~tinygrad_mvc.viz.animate_backprop` draw from it, and in Jupyter a trace shows itself as the
animation.

Nothing here changes the engine's backward: the trace asks it to retain every node's gradient
(``Tensor.retain_grad``'s mechanism) and then reads the rules of the one derivative table for the
local derivatives, so the numbers are the engine's own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import _retain
from .. import engine as _engine
from ..tensor import Tensor

__all__ = ["Trace", "TraceNode", "TraceEdge", "backprop", "snapshot"]


@dataclass(eq=False)
class TraceNode:
    """One value of the graph: a leaf, a constant Tensor, or the result of an op.

    ``value`` and ``grad`` are NumPy arrays (``grad`` is None where backward computes none: constants,
    or a graph drawn before backward). ``consts`` are the plain numbers and arrays the op took as
    inputs, as ``(argument position, value)``; ``options`` its settings (``axis=0``) as text.
    """

    index: int
    name: str | None
    op: str | None
    value: np.ndarray
    grad: np.ndarray | None
    tensor: Tensor = field(repr=False)
    requires_grad: bool = True
    consts: list[tuple[int, Any]] = field(default_factory=list, repr=False)
    options: list[str] = field(default_factory=list, repr=False)
    freed: bool = False  # backward had already freed this node's inputs: they are unknown

    @property
    def is_leaf(self) -> bool:
        return self.op is None

    @property
    def scalar(self) -> bool:
        return self.value.size == 1


@dataclass(eq=False)
class TraceEdge:
    """``src`` is input ``argnum`` of the op that made ``dst`` (both indices into ``Trace.nodes``).

    ``local`` is ∂dst/∂src at the point when both are scalars (else None); ``contribution`` is what
    backward sent along this edge, grad(dst) · ∂dst/∂src summed to src's shape (None without a backward).
    """

    src: int
    dst: int
    argnum: int
    local: float | None = None
    contribution: np.ndarray | None = field(default=None, repr=False)


@dataclass(eq=False)
class Trace:
    """Everything one backward pass computed, kept for pictures (see :func:`backprop`).

    ``nodes`` in creation order (the output last), ``edges`` from input to result, ``order`` the indices
    of the nodes in the order backward visited them (the output first, the leaves last, as the engine
    writes their ``.grad`` at the end), ``output`` the index of the output node.
    """

    nodes: list[TraceNode]
    edges: list[TraceEdge]
    order: list[int]
    output: int
    recorded: bool = True  # False for a snapshot of a graph drawn without running backward

    def __repr__(self) -> str:
        out = self.nodes[self.output]
        grad = "" if out.grad is None else f", output grad {_short(out.grad)}"
        return f"Trace({len(self.nodes)} nodes, {len(self.edges)} edges{grad})"

    def inputs_of(self, index: int) -> list[TraceEdge]:
        """The edges into node ``index``, by argument position."""
        return sorted((e for e in self.edges if e.dst == index), key=lambda e: e.argnum)

    def node(self, name: str) -> TraceNode:
        """The node called ``name``: ``trace.node("x").grad``."""
        for n in self.nodes:
            if n.name == name:
                return n
        known = ", ".join(sorted({n.name for n in self.nodes if n.name})) or "none"
        raise KeyError(f"Trace.node: no node is called {name!r}; names in this trace: {known}")

    def _repr_html_(self) -> str:
        from .animate import jupyter_html

        return jupyter_html(self)


def backprop(t: Tensor, *, names: Mapping[str, Tensor] | None = None, retain_graph: bool = False) -> Trace:
    """Run ``t.backward()`` once and keep every value, gradient and local derivative for pictures.

    ``t`` must be a scalar with a graph. It is left as ``backward()`` leaves it: leaves that require
    grad have their ``.grad`` filled (accumulated), non-leaves keep ``.grad`` only if they called
    ``retain_grad()``, and the graph is freed unless ``retain_graph=True``. ``names`` labels tensors
    by identity (as in ``draw_graph``); otherwise ``t.name`` is used.

    >>> import tinygrad_mvc as tg
    >>> x = tg.tensor(2.0, requires_grad=True, name="x")
    >>> y = tg.tanh(x * 3.0)
    >>> trace = backprop(y)
    >>> [trace.nodes[i].op or trace.nodes[i].name for i in trace.order]
    ['tanh', 'mul', 'x']
    >>> round(float(x.grad), 6) == round(float(trace.node("x").grad), 6)
    True
    """
    if not isinstance(t, Tensor):
        raise TypeError(f"backprop: t must be a Tensor, got {type(t).__name__}")
    if t.data.size != 1:
        raise ValueError(f"backprop: the output must be a scalar to start backward from, got shape {t.shape}; "
                         f"reduce it first (.sum() or .mean())")
    if not t.requires_grad:
        raise ValueError("backprop: this tensor does not require grad, so it has no graph to backpropagate through; "
                         "create the inputs with requires_grad=True")
    _check_not_freed(t, "backprop")
    tensors = _collect(t)
    inner = [v for v in tensors if v._op is not None and v.requires_grad]
    leaves = [v for v in tensors if v._op is None and v.requires_grad]
    kept_before = {id(v): v.grad for v in inner if _retain.retains(v)}
    leaf_before = {id(v): v.grad for v in leaves}
    for v in inner:
        if id(v) not in kept_before:
            _retain.retain(v)
        v.grad = None
    for v in leaves:
        v.grad = None
    try:
        _engine.backward(t, retain_graph=True)
        grads = {id(v): np.array(v.grad.data) for v in inner + leaves if v.grad is not None}
    finally:
        for v in inner:
            new = v.grad
            if id(v) in kept_before:
                v.grad = _accumulated(kept_before[id(v)], new)
            else:
                _retain.release(v)
                v.grad = None
        for v in leaves:
            v.grad = _accumulated(leaf_before[id(v)], v.grad)
    trace = _build(t, tensors, names, grads)
    _fill_edges(trace, contributions=True)
    trace.order = _visit_order(trace, tensors)
    if not retain_graph:
        for v in inner:
            v._inputs = v._kwargs = None
    return trace


def snapshot(t: Tensor, *, names: Mapping[str, Tensor] | None = None, locals: bool = False) -> Trace:
    """The graph behind ``t`` as it stands, without running backward (what ``draw_graph(t)`` draws).

    Gradients are those the tensors hold (leaves after a backward, non-leaves that retain theirs);
    with ``locals=True`` scalar edges get their local derivative too.
    """
    if not isinstance(t, Tensor):
        raise TypeError(f"draw_graph: t must be a Tensor or a trace from tg.viz.backprop, got {type(t).__name__}")
    _check_not_freed(t, "draw_graph")
    tensors = _collect(t)
    grads = {id(v): np.array(v.grad.data) for v in tensors if isinstance(v.grad, Tensor)}
    trace = _build(t, tensors, names, grads)
    trace.recorded = False
    if locals:
        _fill_edges(trace, contributions=False)
    return trace


# ----------------------------------------------------------------------------- building

def _check_not_freed(t: Tensor, where: str) -> None:
    if t._op is not None and t._inputs is None:
        raise RuntimeError(
            f"{where}: backward() already freed the graph behind this tensor (op '{t._op.name}'), so only the output "
            f"is left to draw. To see it with every gradient, record the backward pass instead: "
            f"trace = tg.viz.backprop(loss) in place of loss.backward(), then tg.viz.draw_graph(trace); "
            f"or draw before backward(), or call backward(retain_graph=True)")


def _collect(root: Tensor) -> list[Tensor]:
    """Every tensor of the graph behind ``root``, each once, in creation order (the root last)."""
    seen = {id(root)}
    found = [root]
    todo = [root]
    while todo:
        v = todo.pop()
        if v._op is None or v._inputs is None:
            continue
        for a in v._inputs:
            if isinstance(a, Tensor) and id(a) not in seen:
                seen.add(id(a))
                found.append(a)
                todo.append(a)
    # Leaves made by Tensor() carry no creation number: they come first, in the order they were found.
    return sorted(found, key=lambda v: getattr(v, "_seq", -1))


def _build(root: Tensor, tensors: list[Tensor], names: Mapping[str, Tensor] | None,
           grads: dict[int, np.ndarray]) -> Trace:
    from .graph import is_constant, names_by_identity, op_options

    labels = names_by_identity(names)
    index = {id(v): i for i, v in enumerate(tensors)}
    nodes: list[TraceNode] = []
    edges: list[TraceEdge] = []
    for i, v in enumerate(tensors):
        op = v._op
        node = TraceNode(i, labels.get(id(v), v.name), None if op is None else str(op.name), np.array(v.data),
                         grads.get(id(v)), v, bool(v.requires_grad))
        if op is not None:
            args = v._inputs
            if args is None:
                node.freed = True
            else:
                node.options = op_options(op, args, v._kwargs)
                for j, a in enumerate(args):
                    if isinstance(a, Tensor):
                        edges.append(TraceEdge(index[id(a)], i, j))
                    elif is_constant(op, j, a):
                        node.consts.append((j, a))
        nodes.append(node)
    out = index[id(root)]
    order = [out] if root.requires_grad else []
    return Trace(nodes, edges, order, out)


def _fill_edges(trace: Trace, contributions: bool) -> None:
    """Local derivatives (scalar edges) and, after a backward, what each edge carried: the table's own rules."""
    from ..ops import sum_to

    with _engine.no_grad():
        for e in trace.edges:
            dst, src = trace.nodes[e.dst], trace.nodes[e.src]
            t = dst.tensor
            rule = t._op.rule(e.argnum)
            if rule is None:  # declared zero (comparisons, sign, floor, ...)
                e.local = 0.0 if dst.scalar and src.scalar else None
                if contributions and src.requires_grad and dst.grad is not None:
                    e.contribution = np.zeros_like(src.value)
                continue
            args, kwargs = t._inputs, t._kwargs or {}
            if dst.scalar and src.scalar:
                one = Tensor(np.ones_like(dst.value))
                e.local = _scalar(_apply(rule, one, t, args, kwargs, src, sum_to))
            if contributions and src.requires_grad and dst.grad is not None:
                e.contribution = _apply(rule, Tensor(dst.grad), t, args, kwargs, src, sum_to)


def _apply(rule: Any, g: Tensor, t: Tensor, args: tuple[Any, ...], kwargs: dict[str, Any], src: TraceNode,
           sum_to: Any) -> np.ndarray:
    out = rule(g, t, *args, **kwargs)
    if out is None:
        return np.zeros_like(src.value)
    if out.shape != src.value.shape:
        out = sum_to(out, src.value.shape)
    return np.array(out.data, dtype=src.value.dtype)


def _visit_order(trace: Trace, tensors: list[Tensor]) -> list[int]:
    """The engine's order: non-leaves by decreasing creation number (its max-heap), then the leaves in the
    order they first received a gradient (the order ``backward`` writes their ``.grad``)."""
    reached = [n for n in trace.nodes if n.grad is not None]
    inner = sorted((n for n in reached if n.op is not None), key=lambda n: -n.tensor._seq)
    leaves: list[int] = []
    seen: set[int] = set()
    for n in inner:
        for e in trace.inputs_of(n.index):
            src = trace.nodes[e.src]
            if src.op is None and src.grad is not None and e.src not in seen:
                seen.add(e.src)
                leaves.append(e.src)
    out = trace.output
    if trace.nodes[out].op is None:  # a leaf alone
        return [out]
    return [n.index for n in inner] + leaves


def _accumulated(before: Tensor | None, new: Tensor | None) -> Tensor | None:
    if before is None or new is None:
        return new if before is None else before
    return Tensor(before.data + new.data)


def _scalar(a: np.ndarray) -> float:
    return float(np.asarray(a).reshape(-1)[0])


def _short(a: np.ndarray) -> str:
    return f"{float(a.reshape(-1)[0]):.4g}" if a.size == 1 else f"array{a.shape}"
