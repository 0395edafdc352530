"""Tensor.retain_grad: the non-leaf tensors whose gradient ``backward()`` keeps.

Kept out of :mod:`.engine` on purpose: the engine's hot loop only asks ``retained`` once per backward,
and with no tensor retaining it pays nothing more.
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from .tensor import Tensor, _wrap

# Non-leaf tensors whose gradient backward() keeps (Tensor.retain_grad), by id. Weak references, so
# keeping a gradient never keeps a graph alive; the callback drops the entry when the tensor dies.
retained: dict[int, weakref.ref[Tensor]] = {}


def retain(t: Tensor) -> None:
    """Make later ``backward()`` calls fill ``t.grad`` for the non-leaf ``t`` (see Tensor.retain_grad)."""
    key = id(t)
    retained[key] = weakref.ref(t, lambda _ref, key=key: retained.pop(key, None))


def release(t: Tensor) -> None:
    """Undo :func:`retain`."""
    ref = retained.get(id(t))
    if ref is not None and ref() is t:
        del retained[id(t)]


def retains(t: Tensor) -> bool:
    ref = retained.get(id(t))
    return ref is not None and ref() is t


class GradsKeepingRetained(dict):  # type: ignore[type-arg]
    """The pending-gradient dict of a backward() while some tensor retains its gradient.

    ``_run_backward`` pops each node's gradient exactly once, when it runs the node's rules; popping a
    retained node's gradient also accumulates it into the node's ``.grad``.
    """

    def __init__(self, create_graph: bool) -> None:
        super().__init__()
        self.create_graph = create_graph

    def pop(self, key: int, *default: Any) -> Any:
        g = dict.pop(self, key, *default)
        ref = retained.get(key)
        t = None if ref is None else ref()
        if t is not None and isinstance(g, Tensor):  # alive, so the id is still that tensor's
            keep_grad(t, g, self.create_graph)
        return g


def keep_grad(t: Tensor, g: Tensor, create_graph: bool) -> None:
    """Accumulate the gradient arriving at a retained non-leaf into its ``.grad``, as for a leaf."""
    if t.grad is None:
        t.grad = g if create_graph else _wrap(np.array(g.data))  # its own copy: g flows on to the inputs
    elif create_graph:
        t.grad = t.grad + g
    else:
        t.grad = _wrap(t.grad.data + g.data)
