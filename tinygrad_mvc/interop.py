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
        out = prim(*inputs)
        if out.data.dtype.kind == "c":  # issue 15: a complex operand (Tensors themselves hold real numbers)
            refuse_complex(ufunc)
        return out
    if method == "__call__" and ufunc in _PREDICATES and "out" not in kwargs:
        return _wrap(ufunc(*_unwrap(inputs), **kwargs))
    if _needs_grad(inputs) or _needs_grad(kwargs):
        refuse_ufunc(ufunc)
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
    refuse_function(func, _needs_grad(args) or _needs_grad(kwargs))
    if _needs_grad(args) or _needs_grad(kwargs):
        raise TypeError(f"np.{func.__name__} is not differentiable in tinygrad_mvc; use a tg.* function, "
                        f"or apply it to t.detach() if no gradient is needed")
    return func(*_unwrap(args), **_unwrap(kwargs))


# ----------------------------------------------------------------------------- issue 15: out of scope
# Complex numbers, FFT, scipy.special / scipy.stats / scipy.signal and convolutions have no derivative
# rules here: meeting a Tensor that requires grad they raise a TypeError naming the function, never
# drop the graph or a complex part silently. Nothing here runs on the path of a supported op except
# the dtype test of a ufunc's result in ``_real``.

_SCOPE_TEXT = "out of scope in tinygrad_mvc (no derivative rules)"
_FOREIGN = {"scipy.special": "scipy.special", "scipy.stats": "scipy.stats", "scipy.signal": "scipy.signal",
            "scipy.fft": "FFT", "scipy.fftpack": "FFT", "numpy.fft": "FFT", "scipy.ndimage": "scipy.ndimage"}
_CONVOLUTIONS = frozenset({"convolve", "correlate"})


def refuse_complex(ufunc: np.ufunc) -> None:
    """A ufunc's result made complex by a complex operand: refused (Tensors hold real numbers only)."""
    raise TypeError(f"np.{ufunc.__name__}: a complex operand gives a complex result; complex numbers are out of "
                    f"scope in tinygrad_mvc: work with the real and imaginary parts as real arrays")


def refuse_ufunc(ufunc: np.ufunc) -> None:
    """A ufunc that is not NumPy's own (scipy.special's ``erf``, ``gamma``...) on a Tensor that requires grad."""
    if getattr(np, ufunc.__name__, None) is not ufunc:
        raise TypeError(f"scipy.special.{ufunc.__name__} on a Tensor that requires grad: scipy.special is "
                        f"{_SCOPE_TEXT}; write the function with tg.* ops (tg.exp, tg.log, ...), or apply it to "
                        f"t.detach() if no gradient is needed")


def refuse_function(func: Any, needs_grad: bool) -> None:
    """``np.fft.*`` on any Tensor; ``np.convolve``/``np.correlate`` on a Tensor that requires grad."""
    name = getattr(func, "__name__", repr(func))
    if getattr(func, "__module__", "") == "numpy.fft":
        raise TypeError(f"np.fft.{name} on a Tensor: FFT is {_SCOPE_TEXT}, and so are its complex results; "
                        f"apply np.fft to t.numpy() (or t.detach().numpy()) for values without gradient")
    if needs_grad and name in _CONVOLUTIONS:
        raise TypeError(f"np.{name} on a Tensor that requires grad: convolutions are {_SCOPE_TEXT}; write it as a "
                        f"sum of shifted products with tg ops, or apply it to t.detach() if no gradient is needed")


def refuse_foreign_caller(frame: Any) -> None:
    """Called by ``Tensor.__array__`` for a Tensor that requires grad: refuse if scipy.special/stats/signal or
    an FFT converts it (they would return plain arrays and drop the graph silently).

    Walks up the consecutive SciPy/NumPy frames above the conversion and names the outermost
    out-of-scope function among them; a conversion called from anywhere else is left alone.
    """
    found = public = None
    for _ in range(16):
        if frame is None:
            break
        module = frame.f_globals.get("__name__", "")
        if not module.startswith(("scipy.", "numpy.")):
            break
        top = ".".join(module.split(".")[:2])
        if top in _FOREIGN:
            name = getattr(frame.f_code, "co_qualname", frame.f_code.co_name)
            found = (top, name)
            if not any(part.startswith("_") for part in name.split(".")):
                public = found  # name the outermost public function, not a dispatcher around it
        frame = frame.f_back
    if found is None:
        return
    top, name = public or found
    function = f"{top}.{name}"
    subject = _FOREIGN[top] if _FOREIGN[top] == "FFT" else top
    raise TypeError(f"{function} on a Tensor that requires grad: {subject} is {_SCOPE_TEXT}; it would return plain "
                    f"NumPy values and drop the gradient. Write it with tg.* ops, or apply it to t.detach() if no "
                    f"gradient is needed")
