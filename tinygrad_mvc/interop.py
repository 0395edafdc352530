"""NumPy interop: ``np.exp(t)``, ``ndarray * t`` and ``np.sum(t)`` on Tensors.

NumPy ufuncs and functions with a primitive in the table return a differentiable Tensor. Any
other NumPy function gets the plain data when no input requires grad, and a ``TypeError`` when
one does: the graph is never dropped silently.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from . import ops
from .tensor import Tensor, _wrap


@functools.cache
def _tables() -> tuple[dict[Any, Any], dict[Any, Any]]:
    """(ufuncs, functions) → primitives; built on first use, so the modules may be imported in any order."""
    ufuncs = {
        np.add: ops.add, np.subtract: ops.sub, np.multiply: ops.mul, np.true_divide: ops.div,
        np.power: ops.pow, np.negative: ops.neg, np.exp: ops.exp, np.log: ops.log, np.sqrt: ops.sqrt,
        np.sin: ops.sin, np.cos: ops.cos, np.tan: ops.tan, np.tanh: ops.tanh, np.absolute: ops.abs,
        np.maximum: ops.maximum, np.minimum: ops.minimum, np.matmul: ops.matmul, np.sign: ops.sign,
        np.less: ops.less, np.less_equal: ops.less_equal, np.greater: ops.greater,
        np.greater_equal: ops.greater_equal, np.equal: ops.equal, np.not_equal: ops.not_equal,
        np.logical_and: ops.logical_and, np.logical_or: ops.logical_or, np.logical_not: ops.logical_not,
        np.positive: lambda x: x, np.square: lambda x: ops.mul(x, x),
    }
    functions = {
        np.sum: ops.sum, np.mean: ops.mean, np.max: ops.max, np.amax: ops.max, np.min: ops.min,
        np.amin: ops.min, np.prod: ops.prod, np.var: ops.var, np.reshape: ops.reshape,
        np.transpose: ops.transpose, np.broadcast_to: ops.broadcast_to, np.where: ops.where,
        np.clip: ops.clip, np.squeeze: ops.squeeze, np.expand_dims: ops.expand_dims,
        np.concatenate: ops.concatenate, np.stack: ops.stack, np.maximum: ops.maximum,
        np.minimum: ops.minimum, np.matmul: ops.matmul,
    }
    functions.update(__import__(f"{__package__}.linalg", fromlist=["INTEROP_FUNCTIONS"]).INTEROP_FUNCTIONS)  # tg.linalg
    return ufuncs, functions


def _needs_grad(values: Any) -> bool:
    if isinstance(values, Tensor):
        return values.requires_grad
    if isinstance(values, (list, tuple)):
        return any(_needs_grad(v) for v in values)
    if isinstance(values, dict):
        return any(_needs_grad(v) for v in values.values())
    return False


def _unwrap(values: Any) -> Any:
    if isinstance(values, Tensor):
        return values.data
    if isinstance(values, (list, tuple)):
        return type(values)(_unwrap(v) for v in values)
    if isinstance(values, dict):
        return {k: _unwrap(v) for k, v in values.items()}
    return values


# Tests of a value, like comparisons: their boolean results carry no gradient, so they are allowed
# on any Tensor (``if np.isnan(x): ...`` is control flow, also inside a transform).
_PREDICATES = frozenset({np.isnan, np.isinf, np.isfinite, np.signbit})


def array_ufunc(ufunc: np.ufunc, method: str, inputs: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    prim = _tables()[0].get(ufunc)
    if method == "__call__" and prim is not None and not kwargs:
        return prim(*inputs)
    if method == "__call__" and ufunc in _PREDICATES and "out" not in kwargs:
        return _wrap(ufunc(*_unwrap(inputs), **kwargs))
    if _needs_grad(inputs) or _needs_grad(kwargs):
        what = f"np.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
        extra = " with keyword arguments" if kwargs else ""
        raise TypeError(f"{what}{extra} is not differentiable in tinygrad_mvc; use the tg.* function "
                        f"of the same name, or apply it to t.detach() if no gradient is needed")
    result = getattr(ufunc, method)(*_unwrap(inputs), **_unwrap(kwargs))
    return _wrap(result) if isinstance(result, np.ndarray) and "out" not in kwargs else result


def array_function(func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    impl = _tables()[1].get(func)
    if impl is not None:
        return impl(*args, **kwargs)
    if _needs_grad(args) or _needs_grad(kwargs):
        raise TypeError(f"np.{func.__name__} is not differentiable in tinygrad_mvc; use a tg.* function, "
                        f"or apply it to t.detach() if no gradient is needed")
    return func(*_unwrap(args), **_unwrap(kwargs))
