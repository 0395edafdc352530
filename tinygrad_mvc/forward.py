"""Forward mode: push tangents through a recorded graph, from some of its tensors to one output.

:func:`push_forward` visits the nodes between the inputs and the output in creation order (a
topological order) and applies each op's JVP rule from the same table as the VJP rules
(:meth:`Primitive.jvp_rule`). The cost is a small constant times one evaluation of the function:
one pass, one rule per input of each node. Tangents may carry leading batch axes, so a batch of
basis vectors is pushed through at once (columns of a Jacobian, a whole Hessian).

The rules are Tensor operations: run with ``create_graph=True`` they record a graph of their own,
so a forward-mode product can be differentiated again (``tg.grad`` of a ``tg.jvp``).

Forward mode needs none of the backward pass's known-zero bookkeeping for ``where``: each JVP rule
computes an output entry's tangent from the entries it depends on, so a NaN or Inf tangent made by
the branch a ``where`` did not select stays in the entries that branch feeds, and ``where``'s own
rule drops them. Hessians (forward over reverse) push tangents through the recorded backward pass,
whose ``where`` nodes (the known zeros, see ``engine._map_zeros``) drop them the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import engine, ops
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
            t = ops.cast(t, x.data.dtype)
        known[id(x)] = t
    if batch is None:
        batch = ()
    with _set_grad_enabled(create_graph):
        if id(output) in known:
            return known[id(output)]
        rules: dict[Primitive, list[Any]] = {}
        for node in _nodes_between(inputs, output, known):
            t = _node_tangent(node, known, batch_ndim, rules)
            if t is None:
                continue
            data, nd = t.data, node.data
            if data.shape != (batch + nd.shape if batch_ndim else nd.shape):
                t = ops.broadcast_to(t, batch + nd.shape)  # a rule may return a broadcastable tangent
            if t.data.dtype != nd.dtype and nd.dtype.kind == "f":
                t = ops.cast(t, nd.dtype)
            known[id(node)] = t
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
        if node._seq < engine._newest_stamp:
            engine._check_unmodified(node, "jvp")  # a tensor of the graph changed in place since it was recorded
        for a in node._inputs:
            if (isinstance(a, Tensor) and a._op is not None and id(a) not in stop and id(a) not in found
                    and a._seq > floor):
                found[id(a)] = a
                todo.append(a)
    if id(output) not in stop:
        found[id(output)] = output
    return sorted(found.values(), key=lambda t: t._seq)


def _node_tangent(node: Tensor, known: dict[int, Tensor], nb: int,
                  rules: dict[Primitive, list[Any]]) -> Tensor | None:
    """The sum over the node's inputs of each input's tangent pushed through the op's JVP rule."""
    op, args, kwargs = node._op, node._inputs, node._kwargs
    oprules = rules.get(op)
    if oprules is None:
        oprules = rules[op] = []  # the op's forward rules, looked up once per pass
    total = None
    owned = None  # whether total's array was made by this node's rules alone (then added to in place)
    i = -1
    for a in args:
        i += 1
        t = known.get(id(a))  # keys are ids of tensors: a constant argument is never found
        if t is None:
            continue
        while len(oprules) <= i:
            oprules.append(_MISSING)
        rule = oprules[i]
        if rule is _MISSING:
            rule = oprules[i] = op.jvp_rule(i)
        if rule is None:
            continue
        if rule is TRANSPOSE_VJP:
            r = engine.per_batch_entry(lambda ti, i=i: _transposed_vjp(op, i, ti, node, args, kwargs), t, nb)
        else:
            if op.elementwise and a.data.ndim != node.data.ndim:
                t = ops._align(t, a.data.ndim, node.data.ndim)  # line the tangent's axes up with the output's
            if nb and not op.batchable:
                r = engine.per_batch_entry(lambda ti, rule=rule: rule(ti, node, *args, **kwargs), t, nb)
            else:
                r = rule(t, node, *args, **kwargs) if kwargs else rule(t, node, *args)
        if r is None:
            continue
        if total is None:
            total = r
            continue
        if owned is None:
            owned = not total.requires_grad and _owned(total, args, known)
        if owned and total.data.shape == r.data.shape:
            np.add(total.data, r.data, out=total.data)  # a fresh array of this node's: add in place
        else:
            total = total + r
            owned = not total.requires_grad
    return total


_MISSING = object()


def _owned(t: Tensor, args: tuple[Any, ...], known: dict[int, Tensor]) -> bool:
    """Whether ``t``'s array was made by this node's rules alone (not an input's tangent or a view of one)."""
    data = t.data
    if not (data.flags.owndata and data.flags.writeable):
        return False
    return not any(isinstance(a, Tensor) and id(a) in known and known[id(a)].data is data for a in args)


def _transposed_vjp(op: Primitive, i: int, t: Tensor, node: Tensor, args: tuple[Any, ...],
                    kwargs: dict[str, Any]) -> Tensor | None:
    """J t from the VJP rule alone: the rule is linear in ``g``, so J t = d/du <vjp(u), t>."""
    from .engine import enable_grad

    u = Tensor(np.zeros(node.data.shape, dtype=node.data.dtype), requires_grad=True)
    u._seq = next(engine._sequence)  # made before what the rule builds from it
    with enable_grad():
        back = op.rule(i)(u, node, *args, **kwargs)
        if back is None or not back.requires_grad:
            return None
        inner = (back * t).sum()
    return engine.gradients(inner, [u], create_graph=engine.is_grad_enabled())[0]


