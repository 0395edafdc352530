"""NumPy interop: ``np.exp(t)``, ``ndarray * t`` and ``np.sum(t)`` on Tensors.

NumPy ufuncs and functions with a primitive in the table return a differentiable Tensor. Any
other NumPy function gets the plain data when no input requires grad, and a ``TypeError`` when
one does: the graph is never dropped silently.
"""

from __future__ import annotations

import functools
import sys
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
        np.positive: lambda x: x,
    }
    functions: dict[Any, Any] = {}
    # ---- vocabulary (issue 15): the new ufuncs, and every function through an adapter with NumPy's signature
    ufuncs.update({
        np.sinh: ops.sinh, np.cosh: ops.cosh, np.arcsin: ops.arcsin, np.arccos: ops.arccos, np.arctan: ops.arctan,
        np.arcsinh: ops.arcsinh, np.arccosh: ops.arccosh, np.arctanh: ops.arctanh, np.log1p: ops.log1p,
        np.expm1: ops.expm1, np.log2: ops.log2, np.log10: ops.log10, np.exp2: ops.exp2, np.square: ops.square,
        np.reciprocal: ops.reciprocal, np.floor: ops.floor, np.ceil: ops.ceil, np.trunc: ops.trunc,
        np.rint: ops.round_, np.remainder: ops.mod, np.fmod: ops.fmod, np.arctan2: ops.arctan2,
        np.hypot: ops.hypot,
    })
    functions.update({getattr(np, name): adapter for name, adapter in _ADAPTERS.items()})
    # ---- end vocabulary (issue 15)
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
    if kwargs and _neutral(kwargs):  # np.exp(t, out=None, where=True) is np.exp(t)
        kwargs = {}
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
        twin = _twin(ufunc.__name__)
        use = f"use tg.{twin}" if twin else "write it with tg.* ops"
        raise TypeError(f"{what}{extra} is not differentiable in tinygrad_mvc; {use}, or apply it to t.detach() "
                        f"if no gradient is needed")
    result = getattr(ufunc, method)(*_unwrap(inputs), **_unwrap(kwargs))
    return _wrap(result) if isinstance(result, np.ndarray) and "out" not in kwargs else result


def _twin(name: str) -> str | None:
    """The tg function computing NumPy's ufunc ``name`` (``absolute`` -> ``abs``), if there is one."""
    name = {"absolute": "abs", "true_divide": "div", "rint": "round"}.get(name, name)
    return name if name in ops.TABLE and hasattr(sys.modules[__package__], name) else None


def _np_name(func: Any) -> str:
    """``np.linalg.svd`` for NumPy's ``svd``: the name a user typed."""
    module = str(getattr(func, "__module__", "numpy")).split(".")
    sub = next((m for m in module[1:] if not m.startswith("_")), None)
    return f"np.{sub + '.' if sub else ''}{getattr(func, '__name__', repr(func))}"


def array_function(func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    impl = _tables()[1].get(func)
    if impl is not None:
        try:
            return impl(*args, **kwargs)
        except _Unsupported as e:  # an option with no differentiable meaning: NumPy's own answer if no gradient
            if _needs_grad(args) or _needs_grad(kwargs):
                raise TypeError(str(e)) from None
    else:
        refuse_function(func, _needs_grad(args) or _needs_grad(kwargs))
        if _needs_grad(args) or _needs_grad(kwargs):
            raise TypeError(f"{_np_name(func)} is not differentiable in tinygrad_mvc; use a tg.* function, "
                            f"or apply it to t.detach() if no gradient is needed")
    return func(*_unwrap(args), **_unwrap(kwargs))


# ----------------------------------------------------------------------------- issue 15: out of scope
# Complex numbers, FFT, scipy.special / scipy.stats / scipy.signal and convolutions have no derivative
# rules here: meeting a Tensor that requires grad they raise a TypeError naming the function, never
# drop the graph or a complex part silently. Nothing here runs on the path of a supported op except
# the dtype test of a ufunc's result in ``_real``.

_SCOPE_TEXT = "out of scope in tinygrad_mvc (no derivative rules)"
_FOREIGN = {"scipy.special": "scipy.special", "scipy.stats": "scipy.stats", "scipy.signal": "scipy.signal",
            "scipy.fft": "FFT", "scipy.fftpack": "FFT", "numpy.fft": "FFT", "scipy.ndimage": "scipy.ndimage",
            "scipy.linalg": "scipy.linalg"}
_FIXES = {"scipy.linalg": "use tg.linalg (inv, solve, det, slogdet, cholesky, eigh, norm) or tg ops"}
# np.vectorize calls a Python function entry by entry on the plain data: the graph would be dropped too.
_VECTORIZE = "numpy.lib"
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


def _wrapped_foreign(frame: Any) -> tuple[str, str] | None:
    """``(subpackage, name)`` of an out-of-scope SciPy function held by a wrapper's frame (its closure), if any."""
    for value in frame.f_locals.values():
        top = ".".join(str(getattr(value, "__module__", "")).split(".")[:2])
        if callable(value) and top in _FOREIGN:
            return top, getattr(value, "__qualname__", getattr(value, "__name__", "?"))
    return None


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
        name = getattr(frame.f_code, "co_qualname", frame.f_code.co_name)
        if top == _VECTORIZE and name.startswith("vectorize."):
            found = public = ("np", "vectorize")
        elif top == "scipy._lib":  # a decorator's wrapper (scipy.linalg's batching): name the function it wraps
            wrapped = _wrapped_foreign(frame)
            if wrapped is not None:
                found = public = wrapped
        elif top in _FOREIGN:
            found = (top, name)
            if not any(part.startswith("_") for part in name.split(".")):
                public = found  # name the outermost public function, not a dispatcher around it
        frame = frame.f_back
    if found is None:
        return
    top, name = public or found
    function = f"{top}.{name}"
    if top == "np":
        raise TypeError("np.vectorize on a Tensor that requires grad: it calls the function on plain NumPy values "
                        "and would drop the gradient; call the function on the Tensor itself (tg ops are "
                        "elementwise), or apply it to t.detach() if no gradient is needed")
    subject = _FOREIGN[top] if _FOREIGN[top] == "FFT" else top
    fix = _FIXES.get(top, "write it with tg.* ops")
    raise TypeError(f"{function} on a Tensor that requires grad: {subject} is {_SCOPE_TEXT}; it would return plain "
                    f"NumPy values and drop the gradient. {fix[0].upper() + fix[1:]}, or apply it to t.detach() if no "
                    f"gradient is needed")


# =============================================================================== vocabulary (issue 15)
# NumPy's functions on Tensors, each through an adapter with NumPy's own parameter names
# (np.clip(t, a_min=..., a_max=...), np.sum(t, dtype=None, initial=...)). Options that change only
# where the result goes or how it is computed, at their neutral values (out=None, dtype=None,
# where=True), are accepted; so are those with a differentiable meaning (initial, where masks of
# sums, dtype of a float type). Any other raises _Unsupported: NumPy's own answer on plain data when
# nothing requires grad, a TypeError naming the function, the option and the fix when something does.

class _Unsupported(TypeError):
    """A NumPy option that tinygrad_mvc cannot honour while keeping the gradient."""


_UNSET: Any = getattr(np, "_NoValue", object())  # NumPy's own marker of an option not given
_NEUTRAL = {"out": None, "where": True, "dtype": None, "casting": "same_kind", "order": "K", "subok": True}


def _neutral(kwargs: dict[str, Any]) -> bool:
    """Every keyword is a ufunc option at the value that changes nothing (out=None, where=True, ...)."""
    for k, v in kwargs.items():
        if k == "out":
            if not (v is None or (isinstance(v, tuple) and all(o is None for o in v))):
                return False
        elif k not in _NEUTRAL or v is not _NEUTRAL[k]:
            return False
    return True


def _given(value: Any) -> bool:
    return value is not _UNSET


def _refuse(func: str, option: str, fix: str) -> _Unsupported:
    return _Unsupported(f"np.{func}(..., {option}) is not supported on a Tensor that requires grad in tinygrad_mvc; "
                        f"{fix}, or apply it to t.detach() if no gradient is needed")


def _no_out(func: str, out: Any) -> None:
    if out is not None:
        raise _refuse(func, "out=...", "the result is a new Tensor: drop out= and assign the result")


def _typed(func: str, a: Any, dtype: Any) -> Any:
    """``a`` in ``dtype`` (None: as it is); only a float dtype keeps a gradient."""
    if dtype is None:
        return a
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise _refuse(func, f"dtype={dtype}", "a result of that dtype has no gradient: use dtype=None or a float dtype")
    return ops.astype(a, dtype)


def _keepdims(keepdims: Any) -> bool:
    return bool(keepdims) if _given(keepdims) else False


def _masked(func: str, a: Any, where: Any, fill: Any) -> Any:
    """``a`` with ``fill`` where the mask ``where`` is False (NumPy's ``where=`` of a reduction)."""
    if not _given(where) or where is True:
        return a
    if fill is None:
        raise _refuse(func, "where=...", f"np.{func} needs initial= beside where= (as NumPy does)")
    return ops.where(where.data if isinstance(where, Tensor) else where, a, fill)


def _sum(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: Any = _UNSET,
         initial: Any = _UNSET, where: Any = _UNSET) -> Tensor:
    _no_out("sum", out)
    total = ops.sum(_masked("sum", _typed("sum", a, dtype), where, 0.0), axis=axis, keepdims=_keepdims(keepdims))
    return total + initial if _given(initial) else total


def _prod(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: Any = _UNSET,
          initial: Any = _UNSET, where: Any = _UNSET) -> Tensor:
    _no_out("prod", out)
    product = ops.prod(_masked("prod", _typed("prod", a, dtype), where, 1.0), axis=axis, keepdims=_keepdims(keepdims))
    return product * initial if _given(initial) else product


def _mean(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: Any = _UNSET, *,
          where: Any = _UNSET) -> Tensor:
    _no_out("mean", out)
    a = _typed("mean", a, dtype)
    if not _given(where) or where is True:
        return ops.mean(a, axis=axis, keepdims=_keepdims(keepdims))
    mask = np.broadcast_to(where.data if isinstance(where, Tensor) else where, np.shape(a.data if isinstance(
        a, Tensor) else a))
    count = np.sum(mask, axis=axis, keepdims=_keepdims(keepdims))
    return ops.sum(ops.where(mask, a, 0.0), axis=axis, keepdims=_keepdims(keepdims)) / count


def _extreme(func: str, reduce: Any, pair: Any) -> Any:
    def adapter(a: Any, axis: Any = None, out: Any = None, keepdims: Any = _UNSET, initial: Any = _UNSET,
                where: Any = _UNSET) -> Tensor:
        _no_out(func, out)
        a = _masked(func, a, where, initial if _given(initial) else None)
        result = reduce(a, axis=axis, keepdims=_keepdims(keepdims))
        return pair(result, initial) if _given(initial) else result

    adapter.__name__ = func
    return adapter


def _spread(func: str, reduce: Any) -> Any:
    def adapter(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: Any = 0, keepdims: Any = _UNSET,
                *, where: Any = _UNSET, mean: Any = _UNSET, correction: Any = _UNSET) -> Tensor:
        _no_out(func, out)
        if _given(where) and where is not True:
            raise _refuse(func, "where=...", "mask the entries first (tg.where) or index them")
        if _given(mean):
            raise _refuse(func, "mean=...", "leave the mean to be computed")
        if _given(correction):
            if ddof != 0:
                raise ValueError(f"np.{func}: ddof and correction are the same option; give one of them")
            ddof = correction
        return reduce(_typed(func, a, dtype), axis=axis, keepdims=_keepdims(keepdims), ddof=ddof)

    adapter.__name__ = func
    return adapter


def _scanned(func: str, scan: Any) -> Any:
    def adapter(a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> Tensor:
        _no_out(func, out)
        return scan(_typed(func, a, dtype), axis)

    adapter.__name__ = func
    return adapter


def _arg(func: str, pick: Any) -> Any:
    def adapter(a: Any, axis: Any = None, out: Any = None, *, keepdims: Any = _UNSET) -> Any:
        if out is not None:  # no gradient either way: NumPy writes the indices
            return getattr(np, func)(_unwrap(a), axis=axis, out=out, keepdims=_keepdims(keepdims))
        return pick(a, axis=axis, keepdims=_keepdims(keepdims))

    adapter.__name__ = func
    return adapter


def _reshape(a: Any, /, shape: Any = None, order: str = "C", *, newshape: Any = None, copy: Any = None) -> Tensor:
    if order != "C":
        raise _refuse("reshape", f"order={order!r}", "reshape in C order (transpose first for Fortran order)")
    shape = newshape if shape is None else shape
    return ops.reshape(a, tuple(shape) if isinstance(shape, (list, tuple)) else (shape,))


def _where(condition: Any, x: Any = _UNSET, y: Any = _UNSET, /) -> Any:
    if not _given(x) and not _given(y):
        return np.where(_unwrap(condition))  # the indices of the True entries: no gradient
    return ops.where(condition, x, y)


def _clip(a: Any, a_min: Any = _UNSET, a_max: Any = _UNSET, out: Any = None, *, min: Any = _UNSET,
          max: Any = _UNSET, **kwargs: Any) -> Tensor:
    _no_out("clip", out)
    if kwargs and not _neutral(kwargs):
        raise _refuse("clip", ", ".join(f"{k}=..." for k in kwargs), "clip without ufunc options")
    if (_given(a_min) and _given(min)) or (_given(a_max) and _given(max)):
        raise TypeError("np.clip: give a_min or min (and a_max or max), not both")
    lo = a_min if _given(a_min) else (min if _given(min) else None)
    hi = a_max if _given(a_max) else (max if _given(max) else None)
    return ops.clip(a, lo, hi)


def _joined(func: str, join: Any) -> Any:
    def adapter(arrays: Any, axis: Any = 0, out: Any = None, *, dtype: Any = None,
                casting: str = "same_kind") -> Tensor:
        _no_out(func, out)
        return _typed(func, join(arrays, axis=axis), dtype)

    adapter.__name__ = func
    return adapter


def _stacked(func: str, join: Any) -> Any:
    def adapter(tup: Any, *, dtype: Any = None, casting: str = "same_kind") -> Tensor:
        return _typed(func, join(tup), dtype)

    adapter.__name__ = func
    return adapter


def _round(a: Any, decimals: int = 0, out: Any = None) -> Tensor:
    _no_out("round", out)
    return ops.round(a, decimals)


def _pad(array: Any, pad_width: Any, mode: Any = "constant", **kwargs: Any) -> Tensor:
    if mode != "constant":
        raise _refuse("pad", f"mode={mode!r}", "only mode='constant' is differentiable here (tg.pad)")
    other = sorted(set(kwargs) - {"constant_values"})
    if other:
        raise _refuse("pad", ", ".join(f"{k}=..." for k in other), "mode='constant' takes only constant_values")
    return ops.pad(array, pad_width, constant_values=kwargs.get("constant_values", 0))


def _ravel(a: Any, order: str = "C") -> Tensor:
    if order not in ("C", "K", "A"):
        raise _refuse("ravel", f"order={order!r}", "ravel in C order (transpose first for Fortran order)")
    return ops.ravel(a)


def _constant_like(a: Any, value: Any, dtype: Any, shape: Any) -> Tensor:
    """What ``np.zeros_like`` and its kin give: a constant Tensor (it does not depend on ``a``'s values, so no
    gradient), of ``a``'s dtype as in NumPy unless ``dtype`` says otherwise; ``shape`` replaces ``a``'s shape."""
    if isinstance(value, Tensor):
        if value.requires_grad:
            raise TypeError("np.full_like: fill_value is a Tensor that requires grad, and the result would not "
                            "depend on it; use tg.ones_like(a) * fill_value")
        value = value.data
    data = np.asarray(a.data if isinstance(a, Tensor) else a)
    target = data.shape if shape is None else (tuple(shape) if isinstance(shape, (list, tuple)) else (shape,))
    kind = np.dtype(dtype if dtype is not None else data.dtype)
    return Tensor(np.full(target, value, dtype=kind), dtype=kind)


def _zeros_like(a: Any, dtype: Any = None, order: str = "K", subok: bool = True, shape: Any = None, *,
                device: Any = None) -> Tensor:
    return _constant_like(a, 0, dtype, shape)


def _ones_like(a: Any, dtype: Any = None, order: str = "K", subok: bool = True, shape: Any = None, *,
               device: Any = None) -> Tensor:
    return _constant_like(a, 1, dtype, shape)


def _full_like(a: Any, fill_value: Any, dtype: Any = None, order: str = "K", subok: bool = True, shape: Any = None,
               *, device: Any = None) -> Tensor:
    return _constant_like(a, fill_value, dtype, shape)


_ADAPTERS: dict[str, Any] = {
    "zeros_like": _zeros_like, "ones_like": _ones_like, "full_like": _full_like,
    "fliplr": lambda m: ops.flip(m, 1), "flipud": lambda m: ops.flip(m, 0),
    "sum": _sum, "prod": _prod, "mean": _mean,
    "max": _extreme("max", ops.max, ops.maximum), "amax": _extreme("amax", ops.max, ops.maximum),
    "min": _extreme("min", ops.min, ops.minimum), "amin": _extreme("amin", ops.min, ops.minimum),
    "var": _spread("var", ops.var), "std": _spread("std", ops.std),
    "cumsum": _scanned("cumsum", ops.cumsum), "cumprod": _scanned("cumprod", ops.cumprod),
    "argmax": _arg("argmax", ops.argmax), "argmin": _arg("argmin", ops.argmin),
    "reshape": _reshape,
    "transpose": lambda a, axes=None: ops.transpose(a, None if axes is None else tuple(axes)),
    "broadcast_to": lambda array, shape, subok=False: ops.broadcast_to(
        array, tuple(shape) if isinstance(shape, (list, tuple)) else (shape,)),
    "where": _where, "clip": _clip,
    "squeeze": lambda a, axis=None: ops.squeeze(a, axis),
    "expand_dims": lambda a, axis: ops.expand_dims(a, axis),
    "concatenate": _joined("concatenate", ops.concatenate), "stack": _joined("stack", ops.stack),
    "round": _round, "around": _round, "sinc": lambda x: ops.sinc(x),
    "swapaxes": lambda a, axis1, axis2: ops.swapaxes(a, axis1, axis2),
    "moveaxis": lambda a, source, destination: ops.moveaxis(a, source, destination),
    "flip": lambda m, axis=None: ops.flip(m, axis),
    "roll": lambda a, shift, axis=None: ops.roll(a, shift, axis),
    "repeat": lambda a, repeats, axis=None: ops.repeat(a, repeats, axis),
    "tile": lambda A, reps: ops.tile(A, reps),  # noqa: N803  (NumPy's name)
    "pad": _pad,
    "split": lambda ary, indices_or_sections, axis=0: ops.split(ary, indices_or_sections, axis),
    "array_split": lambda ary, indices_or_sections, axis=0: ops.array_split(ary, indices_or_sections, axis),
    "hstack": _stacked("hstack", ops.hstack), "vstack": _stacked("vstack", ops.vstack),
    "ravel": _ravel,
    "atleast_1d": lambda *arys: ops.atleast_1d(*arys), "atleast_2d": lambda *arys: ops.atleast_2d(*arys),
}
"""NumPy function name → an adapter taking NumPy's own parameter names (a superset of them)."""
