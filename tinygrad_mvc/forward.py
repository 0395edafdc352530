"""Forward mode: push tangents through a recorded graph, from some of its tensors to one output.

:func:`push_forward` visits the nodes between the inputs and the output in creation order (a
topological order) and applies each op's JVP rule from the same table as the VJP rules
(:meth:`Primitive.jvp_rule`). The cost is a small constant times one evaluation of the function:
one pass, one rule per input of each node. Tangents may carry leading batch axes, so a batch of
basis vectors is pushed through at once (columns of a Jacobian, a whole Hessian).

The rules are Tensor operations: run with ``create_graph=True`` they record a graph of their own,
so a forward-mode product can be differentiated again (``tg.grad`` of a ``tg.jvp``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import engine
from .engine import TRANSPOSE_VJP, Primitive, _set_grad_enabled
from .tensor import Tensor, _wrap

__all__ = ["push_forward"]


def push_forward(output: Tensor, inputs: Sequence[Tensor], tangents: Sequence[Any], *, batch_ndim: int = 0,
                 create_graph: bool = False) -> Tensor:
    """The tangent of ``output`` given a tangent for each of ``inputs`` (tensors of its graph).

    Each tangent has shape ``batch + input.shape`` (``batch_ndim`` leading axes; ``None`` means
    zero); the result has shape ``batch + output.shape``. The graph must still be recorded (not freed
    by a ``backward``).

    >>> import tinygrad_mvc as tg
    >>> x = tg.tensor([1.0, 2.0], requires_grad=True)
    >>> y = (x * x).sum()
    >>> push_forward(y, [x], [np.array([1.0, 0.0])]).item()   # dy/dx₀ = 2 x₀
    2.0
    """
    known: dict[int, Tensor] = {}
    batch: tuple[int, ...] | None = None
    for x, t in zip(inputs, tangents, strict=True):
        if t is None:
            continue
        t = t if isinstance(t, Tensor) and create_graph else _wrap(np.asarray(t.data if isinstance(t, Tensor) else t))
        shape = t.data.shape
        if shape[batch_ndim:] != x.data.shape:
            raise ValueError(f"jvp: a tangent has shape {shape}, expected {batch_ndim} batch axes and then "
                             f"its input's shape {x.data.shape}")
        if batch is not None and shape[:batch_ndim] != batch:
            raise ValueError(f"jvp: tangents have different batch shapes {batch} and {shape[:batch_ndim]}")
        batch = shape[:batch_ndim]
        if t.data.dtype != x.data.dtype and x.data.dtype.kind == "f":
            t = _cast(t, x.data.dtype)
        known[id(x)] = t
    if batch is None:
        batch = ()
    with _set_grad_enabled(create_graph):
        if id(output) in known:
            return known[id(output)]
        for node in _nodes_between(inputs, output, known):
            t = _node_tangent(node, known, batch_ndim)
            if t is not None:
                known[id(node)] = _fit(t, batch + node.data.shape, node.data.dtype)
        result = known.get(id(output))
    if result is None:
        dtype = output.data.dtype if output.data.dtype.kind in "fc" else np.float64
        return _wrap(np.zeros(batch + output.data.shape, dtype=dtype))
    return result


def _nodes_between(inputs: Sequence[Tensor], output: Tensor, stop: dict[int, Tensor]) -> list[Tensor]:
    """The recorded nodes behind ``output`` made after the earliest input, in creation order.

    Nodes made before every input cannot depend on one, so the caller's enclosing graph is not walked.
    """
    if output._op is None:
        return []
    live = [x for x in inputs if id(x) in stop]
    floor = min((getattr(x, "_seq", 0) for x in live), default=0)
    found: dict[int, Tensor] = {}
    todo = [output]
    while todo:
        node = todo.pop()
        if node._inputs is None:
            raise RuntimeError(f"jvp: the graph through op '{node._op.name}' was freed by a backward(); "
                               f"forward mode needs it recorded")
        for a in node._inputs:
            if (isinstance(a, Tensor) and a._op is not None and id(a) not in stop and id(a) not in found
                    and a._seq > floor):
                found[id(a)] = a
                todo.append(a)
    if id(output) not in stop:
        found[id(output)] = output
    return sorted(found.values(), key=lambda t: t._seq)


def _node_tangent(node: Tensor, known: dict[int, Tensor], nb: int) -> Tensor | None:
    op, args, kwargs = node._op, node._inputs, node._kwargs
    total = None
    for i, a in enumerate(args):
        t = known.get(id(a)) if isinstance(a, Tensor) else None
        if t is None:
            continue
        rule = op.jvp_rule(i)
        if rule is None:
            continue
        if rule is TRANSPOSE_VJP:
            r = _per_entry(lambda ti, i=i: _transposed_vjp(op, i, ti, node, args, kwargs), t, nb)
        else:
            if op.elementwise:  # broadcasting: line the tangent's own axes up with the output's
                t = _align(t, a.data.ndim, node.data.ndim)
            if nb and not op.batchable:
                r = _per_entry(lambda ti, rule=rule: rule(ti, node, *args, **kwargs), t, nb)
            else:
                r = rule(t, node, *args, **kwargs)
        if r is not None:
            total = r if total is None else total + r
    return total


def _transposed_vjp(op: Primitive, i: int, t: Tensor, node: Tensor, args: tuple[Any, ...],
                    kwargs: dict[str, Any]) -> Tensor | None:
    """J t from the VJP rule alone: the rule is linear in ``g``, so J t = d/du <vjp(u), t>."""
    from .engine import enable_grad

    u = Tensor(np.zeros(node.data.shape, dtype=node.data.dtype), requires_grad=True)
    with enable_grad():
        back = op.rule(i)(u, node, *args, **kwargs)
        if back is None or not back.requires_grad:
            return None
        inner = (back * t).sum()
    return engine.gradients(inner, [u], create_graph=engine.is_grad_enabled())[0]


def _per_entry(rule: Any, t: Tensor, nb: int) -> Tensor | None:
    """Apply an unbatched rule to each entry of a batch of tangents, and stack the results."""
    from .ops import getitem, reshape, stack

    if nb == 0:
        return rule(t)
    lead = t.data.shape[:nb]
    flat = reshape(t, (-1,) + t.data.shape[nb:])
    parts = [rule(getitem(flat, b)) for b in range(flat.data.shape[0])]
    if any(p is None for p in parts):
        return None
    out = stack(parts)
    return reshape(out, lead + out.data.shape[1:])


def _align(t: Tensor, ndim: int, to_ndim: int) -> Tensor:
    from .ops import _align as align

    return align(t, ndim, to_ndim)


def _cast(t: Tensor, dtype: np.dtype) -> Tensor:
    from .ops import cast

    return cast(t, dtype)


def _fit(t: Tensor, shape: tuple[int, ...], dtype: np.dtype) -> Tensor:
    """A rule may return a tangent that broadcasts to the node's shape; make it exactly that shape and dtype."""
    from .ops import broadcast_to

    if t.data.shape != shape:
        t = broadcast_to(t, shape)
    if t.data.dtype != dtype and dtype.kind == "f":
        t = _cast(t, dtype)
    return t
