"""The Tensor: a NumPy array that remembers how it was made.

A Tensor holds ``data`` (a NumPy array), ``grad``, ``requires_grad`` and, when it is the result of
an op on Tensors that require grad, the op and its inputs. Its operators and methods are sugar over
the primitives of :mod:`tinygrad_mvc.ops`, where every derivative rule lives.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = ["Tensor"]

Axis = int | tuple[int, ...] | None


class Tensor:
    """An n-dimensional array that records the operations applied to it.

    >>> x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> y = (x * x).sum()
    >>> y.backward()
    >>> x.grad
    Tensor([2., 4., 6.])
    """

    # Graph links, set only on results of recorded ops: _op (the Primitive; None for leaves),
    # _inputs and _kwargs (None once backward has freed the graph) and _seq (creation number).
    # _stamp is set only by an in-place change (see engine.mark_modified).
    __slots__ = ("data", "grad", "requires_grad", "name", "_op", "_inputs", "_kwargs", "_seq", "_stamp",
                 "__weakref__")
    # Makes ``ndarray <op> Tensor`` defer to the Tensor (see __array_ufunc__).
    __array_priority__ = 1000

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None, name: str | None = None) -> None:
        if isinstance(data, Tensor):
            data = data.data
        elif isinstance(data, (list, tuple)) and _contains_tensor(data):
            raise TypeError("Tensor: data is a list holding Tensors, which would cut them from the graph; "
                            "join Tensors with tg.stack or tg.concatenate")
        try:
            arr = np.array(data, dtype=dtype)
        except (TypeError, ValueError) as e:
            raise TypeError(f"Tensor: cannot make an array from {type(data).__name__}: {e}") from e
        if arr.dtype == object:
            raise TypeError("Tensor: data must be numbers, not objects (to join Tensors use tg.stack or "
                            "tg.concatenate)")
        if arr.dtype.kind == "c":  # issue 15: complex numbers are out of scope; refused where they first enter
            raise TypeError(f"Tensor: complex data ({arr.dtype}) is out of scope in tinygrad_mvc (no complex "
                            f"derivative rules); keep the real and imaginary parts as two real Tensors")
        if arr.dtype.kind not in "biuf":  # text, bytes, dates and times, raw records
            raise TypeError(f"Tensor: data must be numbers, got {type(data).__name__} data of dtype {arr.dtype}; "
                            f"convert it to numbers first (for text holding numbers: float(s))")
        if dtype is None and arr.dtype.kind in "biu":
            arr = arr.astype(np.float64)
        if requires_grad and arr.dtype.kind != "f":
            raise TypeError(f"Tensor: requires_grad=True needs a floating dtype, got {arr.dtype}")
        self.data = arr
        self.grad: Tensor | None = None
        self.requires_grad = bool(requires_grad)
        self.name = name
        self._op = None

    # ------------------------------------------------------------------ attributes
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def is_leaf(self) -> bool:
        """True for tensors made by the user rather than by an op that recorded a graph."""
        return self._op is None

    @property
    def op(self) -> str | None:
        """Name of the op that produced this tensor (None for leaves)."""
        return None if self._op is None else self._op.name

    @property
    def T(self) -> Tensor:
        return _ops.transpose(self)

    def _converted(self, what: str) -> np.ndarray:
        """The data, for a conversion out of the graph: refused inside a transform if it depends on the input."""
        if self.requires_grad and _engine.tracing():
            _engine.check_conversion(self, what)
        return self.data

    def _one(self, what: str, error: type[Exception] = TypeError) -> Any:
        data = self._converted(what)
        if data.size != 1:  # NumPy's classes: ValueError for .item(), TypeError for float() and the like
            raise error(f"{what} needs a Tensor with one element, got shape {data.shape}; "
                            f"index an entry first (t[i]) or use t.tolist()")
        return data.item()

    def numpy(self) -> np.ndarray:
        """The data as a NumPy array (shared, not copied)."""
        return self._converted("t.numpy()")

    def item(self) -> Any:
        """The one entry as a Python number: ``tg.tensor([2.5]).item()`` is ``2.5``."""
        return self._one("t.item()", ValueError)

    def tolist(self) -> Any:
        return self._converted("t.tolist()").tolist()

    def retain_grad(self) -> None:
        """Keep this non-leaf tensor's gradient: later ``backward()`` calls fill (and accumulate) its ``.grad``.

        PyTorch's name and meaning. On a leaf it does nothing (leaves keep their gradient anyway); a
        tensor that does not require grad has no gradient to keep, which is an error.

        >>> x = Tensor(3.0, requires_grad=True)
        >>> y = x * x
        >>> y.retain_grad()
        >>> (2 * y).backward()
        >>> y.grad.item(), x.grad.item()
        (2.0, 12.0)
        """
        if not self.requires_grad:
            raise RuntimeError("retain_grad(): this tensor does not require grad, so backward() never reaches it; "
                               "make the inputs with requires_grad=True")
        if self._op is not None:
            _retain.retain(self)

    @property
    def retains_grad(self) -> bool:
        """True for a non-leaf whose ``.grad`` backward() fills (after :meth:`retain_grad`)."""
        return self._op is not None and _retain.retains(self)

    def detach(self) -> Tensor:
        """A Tensor sharing this data, cut from the graph."""
        return _wrap(self.data)

    def backward(self, gradient: Any = None, retain_graph: bool | None = None, create_graph: bool = False) -> None:
        """Accumulate gradients of this tensor into ``.grad`` of every leaf that requires grad.

        A non-scalar tensor needs ``gradient`` (same shape). The graph is freed afterwards unless
        ``retain_graph=True``; ``create_graph=True`` makes the gradients differentiable.

        >>> x = Tensor(3.0, requires_grad=True)
        >>> (x ** 2).backward()
        >>> x.grad.item()
        6.0
        """
        _engine.backward(self, gradient, retain_graph, create_graph)

    def zero_grad(self) -> None:
        self.grad = None

    def requires_grad_(self, flag: bool = True) -> Tensor:
        """Set ``requires_grad`` on a leaf in place and return it (a non-leaf keeps its graph, as in PyTorch)."""
        if not flag and self._op is not None:
            raise RuntimeError("requires_grad_(False) on a Tensor made by an op (not a leaf) would cut it from its "
                               "graph; use t.detach() for a copy without gradient")
        if flag and self.data.dtype.kind != "f":
            raise TypeError(f"requires_grad_: needs a floating dtype, got {self.data.dtype}")
        self.requires_grad = flag
        return self

    def astype(self, dtype: Any) -> Tensor:
        return _ops.astype(self, np.dtype(dtype))

    # ------------------------------------------------------------------ NumPy interop
    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        data = self.data
        if self.requires_grad:
            if _engine.converting_operand():  # a list operand of an op holds this Tensor: the op stacks it
                raise _engine.ListOperand(
                    "a Tensor that requires grad reached NumPy inside the op's forward function (in a list "
                    "operand, a keyword argument or a closure), which would cut it from the graph; pass Tensors as "
                    "operands (lists are stacked as tg.stack would)")
            data = self._converted("np.asarray()")
            _interop.refuse_foreign_caller(sys._getframe(1))  # issue 15: scipy.special/stats/signal, FFT
        if dtype is not None and dtype != data.dtype:
            return data.astype(dtype)
        return np.array(data) if copy else data

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        return _interop.array_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        return _interop.array_function(func, args, kwargs)

    # ------------------------------------------------------------------ Python protocol
    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="Tensor(")
        extra = ""
        if self.data.dtype != np.float64:
            extra += f", dtype={self.data.dtype}"
        if self._op is not None:
            extra += f", op={self._op.name}"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        if self.name:
            extra += f", name={self.name!r}"
        return f"Tensor({body}{extra})"

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d Tensor")
        return len(self.data)

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def __bool__(self) -> bool:
        return bool(self.data)

    def __float__(self) -> float:
        return float(self._one("float()"))

    def __int__(self) -> int:
        return int(self._one("int()"))

    def __format__(self, spec: str) -> str:
        """``f"{t:.3f}"`` formats a Tensor with one element as its number; an empty spec gives ``str(t)``."""
        if not spec:
            return str(self)
        return format(self._one(f"format(t, {spec!r})"), spec)

    def __round__(self, ndigits: int | None = None) -> Any:
        """``round(t, n)`` of a Tensor with one element, as of a NumPy scalar (an int when ``n`` is None)."""
        return round(self._one("round()"), ndigits)

    __hash__ = object.__hash__  # identity: __eq__ is elementwise

    # ------------------------------------------------------------------ in-place updates
    # PyTorch's rules, since that is what users type: under no_grad (the manual SGD step) a leaf's
    # data changes in place and it stays the same leaf; outside no_grad a leaf that requires grad
    # refuses, because the update would otherwise become part of its own graph.

    def _modify(self, what: str, write: Callable[[np.ndarray], Any]) -> Tensor:
        if self.requires_grad and _engine.is_grad_enabled():
            if self._op is None:
                raise RuntimeError(
                    f"{what} on a leaf Tensor that requires grad (shape {self.shape}) would make the update part "
                    f"of its own graph; wrap it in `with tg.no_grad():`, e.g. `with tg.no_grad(): w -= lr * w.grad`")
            raise RuntimeError(f"{what} on a Tensor computed by op '{self._op.name}' that requires grad would change "
                               f"a recorded value; write the new value as an expression (y = y + 1, tg.where) instead")
        data = self.data
        # Copy-on-write: another array may view this one (a detached Tensor, a NumPy view); it keeps its values.
        if not (data.flags.writeable and data.flags.owndata) or sys.getrefcount(data) > 3:
            data = self.data = np.array(data)
        try:
            write(data)
        except (TypeError, ValueError, IndexError) as e:
            raise _engine.builtin_class(e)(
                f"{what}: cannot update a Tensor of shape {self.shape} and dtype {data.dtype} in place: {e}") from e
        _engine.mark_modified(self)
        return self

    def _update(self, symbol: str, ufunc: np.ufunc, other: Any) -> Tensor:
        if isinstance(other, Tensor):
            other = other.data
        return self._modify(f"'{symbol}'", lambda d: ufunc(d, other, out=d))

    def __iadd__(self, other: Any) -> Tensor:
        return self._update("+=", np.add, other)

    def __isub__(self, other: Any) -> Tensor:
        return self._update("-=", np.subtract, other)

    def __imul__(self, other: Any) -> Tensor:
        return self._update("*=", np.multiply, other)

    def __itruediv__(self, other: Any) -> Tensor:
        return self._update("/=", np.true_divide, other)

    def __setitem__(self, key: Any, value: Any) -> None:
        """``t[idx] = v`` in place, with the rules of ``+=`` (inside ``tg.no_grad()`` for a leaf that requires grad)."""
        index = _ops.normalize_index(key)
        value = value.data if isinstance(value, Tensor) else value
        self._modify("t[...] = value", lambda d: d.__setitem__(index, value))

    def zero_(self) -> Tensor:
        """Set every entry to 0 in place and return the Tensor (``x.grad.zero_()``)."""
        return self._modify("zero_()", lambda d: d.fill(0))

    def fill_(self, value: Any) -> Tensor:
        """Set every entry to ``value`` in place and return the Tensor."""
        value = value.data if isinstance(value, Tensor) else value
        return self._modify("fill_()", lambda d: np.copyto(d, value))

    def copy_(self, src: Any) -> Tensor:
        """Copy ``src`` (broadcast to this shape) into this Tensor in place and return it."""
        src = src.data if isinstance(src, Tensor) else src
        return self._modify("copy_()", lambda d: np.copyto(d, src))

    def clone(self) -> Tensor:
        """A copy with its own array, still connected to the graph (the gradient flows through unchanged)."""
        return _ops.clone(self)

    # ------------------------------------------------------------------ arithmetic
    def __add__(self, other: Any) -> Tensor:
        return _ops.add(self, other)

    def __radd__(self, other: Any) -> Tensor:
        return _ops.add(other, self)

    def __sub__(self, other: Any) -> Tensor:
        return _ops.sub(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return _ops.sub(other, self)

    def __mul__(self, other: Any) -> Tensor:
        return _ops.mul(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return _ops.mul(other, self)

    def __truediv__(self, other: Any) -> Tensor:
        return _ops.div(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return _ops.div(other, self)

    def __pow__(self, other: Any) -> Tensor:
        return _ops.pow(self, other)

    def __rpow__(self, other: Any) -> Tensor:
        return _ops.pow(other, self)

    def __matmul__(self, other: Any) -> Tensor:
        return _ops.matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return _ops.matmul(other, self)

    def __mod__(self, other: Any) -> Tensor:
        return _ops.mod(self, other)

    def __rmod__(self, other: Any) -> Tensor:
        return _ops.mod(other, self)

    def __neg__(self) -> Tensor:
        return _ops.neg(self)

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return _ops.abs(self)

    # Comparisons carry no gradient.
    def __lt__(self, other: Any) -> Tensor:  # type: ignore[override]
        return _ops.less(self, other)

    def __le__(self, other: Any) -> Tensor:
        return _ops.less_equal(self, other)

    def __gt__(self, other: Any) -> Tensor:
        return _ops.greater(self, other)

    def __ge__(self, other: Any) -> Tensor:
        return _ops.greater_equal(self, other)

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return _ops.equal(self, other)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return _ops.not_equal(self, other)

    def __and__(self, other: Any) -> Tensor:
        return _ops.logical_and(self, other)

    def __or__(self, other: Any) -> Tensor:
        return _ops.logical_or(self, other)

    def __invert__(self) -> Tensor:
        return _ops.logical_not(self)

    # ------------------------------------------------------------------ elementwise
    def exp(self) -> Tensor:
        return _ops.exp(self)

    def log(self) -> Tensor:
        return _ops.log(self)

    def sqrt(self) -> Tensor:
        return _ops.sqrt(self)

    def sin(self) -> Tensor:
        return _ops.sin(self)

    def cos(self) -> Tensor:
        return _ops.cos(self)

    def tan(self) -> Tensor:
        return _ops.tan(self)

    def tanh(self) -> Tensor:
        return _ops.tanh(self)

    def sigmoid(self) -> Tensor:
        return _ops.sigmoid(self)

    def relu(self) -> Tensor:
        return _ops.relu(self)

    def softplus(self) -> Tensor:
        return _ops.softplus(self)

    def abs(self) -> Tensor:
        return _ops.abs(self)

    def clip(self, lo: Any = None, hi: Any = None, *, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
        """``clip(lo, hi)``; ``min=``/``max=`` are ndarray.clip's (and torch.clamp's) names for them."""
        if (min is not None and lo is not None) or (max is not None and hi is not None):
            raise TypeError("clip: give lo or min= (and hi or max=), not both")
        return _ops.clip(self, lo if min is None else min, hi if max is None else max)

    # ------------------------------------------------------------------ reductions
    def sum(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        return _ops.sum(self, axis=axis, keepdims=keepdims)

    def mean(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        return _ops.mean(self, axis=axis, keepdims=keepdims)

    def max(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        return _ops.max(self, axis=axis, keepdims=keepdims)

    def min(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        return _ops.min(self, axis=axis, keepdims=keepdims)

    def prod(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        return _ops.prod(self, axis=axis, keepdims=keepdims)

    def var(self, axis: Axis = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
        return _ops.var(self, axis=axis, keepdims=keepdims, ddof=ddof)

    def logsumexp(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        return _ops.logsumexp(self, axis=axis, keepdims=keepdims)

    def softmax(self, axis: Axis = -1) -> Tensor:
        return _ops.softmax(self, axis=axis)

    def log_softmax(self, axis: Axis = -1) -> Tensor:
        return _ops.log_softmax(self, axis=axis)

    # ------------------------------------------------------------------ shape
    def reshape(self, *shape: Any) -> Tensor:
        return _ops.reshape(self, _shape_arg(shape))

    def transpose(self, *axes: Any) -> Tensor:
        return _ops.transpose(self, _shape_arg(axes) if axes else None)

    def flatten(self) -> Tensor:
        return _ops.reshape(self, (-1,))

    def squeeze(self, axis: Axis = None) -> Tensor:
        return _ops.squeeze(self, axis)

    def expand_dims(self, axis: int | tuple[int, ...]) -> Tensor:
        return _ops.expand_dims(self, axis)

    def broadcast_to(self, shape: Sequence[int]) -> Tensor:
        return _ops.broadcast_to(self, tuple(shape))

    def __getitem__(self, index: Any) -> Tensor:
        return _ops.getitem(self, _ops.normalize_index(index))

    # ------------------------------------------------------------------ vocabulary (issue 15)
    def sinh(self) -> Tensor:
        return _ops.sinh(self)

    def cosh(self) -> Tensor:
        return _ops.cosh(self)

    def arcsin(self) -> Tensor:
        return _ops.arcsin(self)

    def arccos(self) -> Tensor:
        return _ops.arccos(self)

    def arctan(self) -> Tensor:
        return _ops.arctan(self)

    def arcsinh(self) -> Tensor:
        return _ops.arcsinh(self)

    def arccosh(self) -> Tensor:
        return _ops.arccosh(self)

    def arctanh(self) -> Tensor:
        return _ops.arctanh(self)

    def log1p(self) -> Tensor:
        return _ops.log1p(self)

    def expm1(self) -> Tensor:
        return _ops.expm1(self)

    def log2(self) -> Tensor:
        return _ops.log2(self)

    def log10(self) -> Tensor:
        return _ops.log10(self)

    def exp2(self) -> Tensor:
        return _ops.exp2(self)

    def square(self) -> Tensor:
        return _ops.square(self)

    def reciprocal(self) -> Tensor:
        return _ops.reciprocal(self)

    def sinc(self) -> Tensor:
        return _ops.sinc(self)

    def floor(self) -> Tensor:
        return _ops.floor(self)

    def ceil(self) -> Tensor:
        return _ops.ceil(self)

    def trunc(self) -> Tensor:
        return _ops.trunc(self)

    def round(self, decimals: int = 0) -> Tensor:
        """Round entry by entry, as ``ndarray.round`` (``round(t, n)`` gives a number for one element)."""
        return _ops.round(self, decimals)

    def std(self, axis: Axis = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
        return _ops.std(self, axis=axis, keepdims=keepdims, ddof=ddof)

    def cumsum(self, axis: int | None = None) -> Tensor:
        return _ops.cumsum(self, axis)

    def cumprod(self, axis: int | None = None) -> Tensor:
        return _ops.cumprod(self, axis)

    def argmax(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        """Indices of the maxima (an integer Tensor, no gradient)."""
        return _ops.argmax(self, axis=axis, keepdims=keepdims)

    def argmin(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        """Indices of the minima (an integer Tensor, no gradient)."""
        return _ops.argmin(self, axis=axis, keepdims=keepdims)

    def swapaxes(self, axis1: int, axis2: int) -> Tensor:
        return _ops.swapaxes(self, axis1, axis2)

    def repeat(self, repeats: int | Sequence[int], axis: int | None = None) -> Tensor:
        return _ops.repeat(self, repeats, axis)

    def ravel(self) -> Tensor:
        return _ops.ravel(self)

    # ------------------------------------------------------------------ issue 15: contractions (tg.linalg)
    def dot(self, other: Any) -> Tensor:
        """``np.dot(self, other)``: see :func:`tinygrad_mvc.linalg.dot`."""
        from .linalg import dot
        return dot(self, other)

    def trace(self, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
        """The sum of the diagonal: see :func:`tinygrad_mvc.linalg.trace`."""
        from .linalg import trace
        return trace(self, offset, axis1, axis2)

    def diagonal(self, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
        """The diagonal as the last axis: see :func:`tinygrad_mvc.linalg.diagonal`."""
        from .linalg import diagonal
        return diagonal(self, offset, axis1, axis2)


def _contains_tensor(items: list[Any] | tuple[Any, ...]) -> bool:
    stack = [items]
    while stack:
        for item in stack.pop():
            if isinstance(item, Tensor):
                return True
            if isinstance(item, (list, tuple)):
                stack.append(item)
    return False


def _shape_arg(args: tuple[Any, ...]) -> tuple[int, ...]:
    """Accept both ``f(2, 3)`` and ``f((2, 3))``."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(args[0])
    return tuple(args)


_new = object.__new__


def _wrap(data: Any) -> Tensor:
    """A graph-less Tensor around an array, without the checks of ``Tensor()`` (internal hot path)."""
    if type(data) is not np.ndarray:
        data = np.asarray(data)
    t = _new(Tensor)
    t.data = data
    t.grad = None
    t.requires_grad = False
    t.name = None
    t._op = None
    return t


# Bound at the end of package import (ops and interop import this module).
from . import _retain  # noqa: E402
from . import engine as _engine  # noqa: E402
from . import interop as _interop  # noqa: E402
from . import ops as _ops  # noqa: E402
