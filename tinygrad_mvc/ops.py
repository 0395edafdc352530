"""The derivative table: every primitive op, declared once with its rule.

Read it like a calculus crib sheet. Each op is a NumPy forward function plus one rule per input,
``rule(g, out, x, y, **kwargs)``: ``g`` is the gradient arriving at ``out``, ``x, y`` the inputs.
Rules use Tensor operations only, so they are differentiable themselves: second and higher
derivatives come from this same table. Broadcasting is undone by the engine, not here.

Conventions at kinks (the one place they are written down):
- ``max``/``min`` reductions share the gradient equally between tied entries;
- ``maximum(x, y)``/``minimum(x, y)`` give 0.5 to each side where ``x == y``;
- ``relu'(0) = 0``, ``abs'(0) = 0`` (``sign(0) = 0``);
- ``clip(x, lo, hi)`` passes the gradient where ``lo <= x <= hi``;
- ``where(c, a, b)`` sends exact zeros to the unselected branch, and the engine keeps NaN/Inf made
  by that branch's own rules out of the gradient (through elementwise ops, and through ops marked
  ``structural``, whose rules only move, copy or sum entries of ``g``);
- ``prod`` is exact at zeros for first derivatives (``d prod / d x_i`` with one zero entry is the
  product of the others); its second derivative at exact zeros is not;
- ``logsumexp`` of a slice of all ``-inf`` is ``-inf``, and its gradient there is 0.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .engine import BinaryPrimitive, Primitive, UnaryPrimitive
from .tensor import Tensor, _wrap

TABLE: dict[str, Primitive] = {}
"""Every built-in primitive by name: the one registry of ops and their rules."""


def op(fun: Callable[..., Any], name: str, *, arity: int | None = None, elementwise: bool = False,
       structural: bool = False, differentiable: bool = True) -> Primitive:
    """Declare a built-in op; ``arity`` 1 or 2 (array inputs only, no options) selects a faster call."""
    kind = {1: UnaryPrimitive, 2: BinaryPrimitive}.get(arity, Primitive)
    prim = kind(fun, name, elementwise=elementwise, structural=structural, differentiable=differentiable)
    TABLE[name] = prim
    return prim


def _shape(a: Any) -> tuple[int, ...]:
    return a.data.shape if isinstance(a, Tensor) else np.shape(a)


def _axes(axis: Any, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (int, np.integer)):
        axis = (axis,)
    return tuple(int(a) % ndim for a in axis) if ndim else ()


def _keep(g: Tensor, shape: tuple[int, ...], axis: Any, keepdims: bool) -> Tensor:
    """``g`` of a reduction, reshaped to the input's rank with 1s at the reduced axes."""
    if keepdims:
        return g
    kept = list(shape)
    for a in _axes(axis, len(shape)):
        kept[a] = 1
    return reshape(g, tuple(kept))


def _count(shape: tuple[int, ...], axis: Any) -> int:
    return int(np.prod([shape[a] for a in _axes(axis, len(shape))], dtype=np.int64))


# =============================================================================== not differentiable
# Comparisons and the like: piecewise constant, so their outputs never carry a gradient.

less = op(np.less, "less", arity=2, differentiable=False)
less_equal = op(np.less_equal, "less_equal", arity=2, differentiable=False)
greater = op(np.greater, "greater", arity=2, differentiable=False)
greater_equal = op(np.greater_equal, "greater_equal", arity=2, differentiable=False)
equal = op(np.equal, "equal", arity=2, differentiable=False)
not_equal = op(np.not_equal, "not_equal", arity=2, differentiable=False)
logical_and = op(np.logical_and, "logical_and", arity=2, differentiable=False)
logical_or = op(np.logical_or, "logical_or", arity=2, differentiable=False)
logical_not = op(np.logical_not, "logical_not", arity=1, differentiable=False)
sign = op(np.sign, "sign", arity=1, differentiable=False)


# =============================================================================== unary

neg = op(np.negative, "neg", arity=1, elementwise=True)
neg.defvjp(lambda g, out, x: -g)

exp = op(np.exp, "exp", arity=1, elementwise=True)
exp.defvjp(lambda g, out, x: g * out)

log = op(np.log, "log", arity=1, elementwise=True)
log.defvjp(lambda g, out, x: g / x)

sqrt = op(np.sqrt, "sqrt", arity=1, elementwise=True)
sqrt.defvjp(lambda g, out, x: g / (2 * out))

sin = op(np.sin, "sin", arity=1, elementwise=True)
sin.defvjp(lambda g, out, x: g * cos(x))

cos = op(np.cos, "cos", arity=1, elementwise=True)
cos.defvjp(lambda g, out, x: -g * sin(x))

tan = op(np.tan, "tan", arity=1, elementwise=True)
tan.defvjp(lambda g, out, x: g * (1 + out * out))

tanh = op(np.tanh, "tanh", arity=1, elementwise=True)
tanh.defvjp(lambda g, out, x: tanh_grad(g, out))  # g * (1 - out**2), fused below


def _times_into(g: np.ndarray, t: Any) -> np.ndarray:
    """``g * t``, written into the temporary ``t`` when it is an array of the result's shape and dtype."""
    if type(t) is np.ndarray and type(g) is np.ndarray and t.shape == g.shape and t.dtype == g.dtype:
        return np.multiply(g, t, out=t)
    return g * t


def _tanh_grad(g: np.ndarray, y: np.ndarray) -> np.ndarray:
    t = y * y
    return _times_into(g, np.subtract(1, t, out=t) if type(t) is np.ndarray else 1 - t)


# The derivative of tanh as one op (as PyTorch's tanh_backward): it is the framework's most
# common rule, and fusing it saves two op dispatches and two temporaries per use.
tanh_grad = op(_tanh_grad, "tanh_grad", arity=2, elementwise=True)
tanh_grad.defvjp(lambda g2, out, g, y: tanh_grad(g2, y),     # d/dg  g (1 - y^2) = 1 - y^2
                 lambda g2, out, g, y: -2 * g2 * g * y)     # d/dy  g (1 - y^2) = -2 g y


def _sigmoid(x: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(x))  # never overflows
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


sigmoid = op(_sigmoid, "sigmoid", arity=1, elementwise=True)
sigmoid.defvjp(lambda g, out, x: sigmoid_grad(g, out))  # g * out * (1 - out), fused below


def _sigmoid_grad(g: np.ndarray, y: np.ndarray) -> np.ndarray:
    t = 1 - y
    return _times_into(g, np.multiply(t, y, out=t) if type(t) is np.ndarray else t * y)


sigmoid_grad = op(_sigmoid_grad, "sigmoid_grad", arity=2, elementwise=True)
sigmoid_grad.defvjp(lambda g2, out, g, y: sigmoid_grad(g2, y),        # d/dg = y (1 - y)
                    lambda g2, out, g, y: g2 * g * (1 - 2 * y))       # d/dy = g (1 - 2y)

relu = op(lambda x: np.maximum(x, 0), "relu", arity=1, elementwise=True)
relu.defvjp(lambda g, out, x: g * (x > 0))

softplus = op(lambda x: np.logaddexp(0, x), "softplus", arity=1, elementwise=True)
softplus.defvjp(lambda g, out, x: g * sigmoid(x))

abs = op(np.abs, "abs", arity=1, elementwise=True)
abs.defvjp(lambda g, out, x: g * sign(x))

clip = op(lambda x, lo=None, hi=None: np.clip(x, lo, hi), "clip", elementwise=True)
clip.defvjp(
    lambda g, out, x, lo=None, hi=None: g * _inside(x, lo, hi),
    lambda g, out, x, lo=None, hi=None: g * (x < lo),
    lambda g, out, x, lo=None, hi=None: g * (x > hi),
)


def _inside(x: Tensor, lo: Any, hi: Any) -> Tensor:
    mask = x == x  # all True, and False at NaN
    if lo is not None:
        mask = mask & (x >= lo)
    if hi is not None:
        mask = mask & (x <= hi)
    return mask


# =============================================================================== binary

add = op(np.add, "add", arity=2, elementwise=True)
add.defvjp(lambda g, out, x, y: g,
           lambda g, out, x, y: g)

sub = op(np.subtract, "sub", arity=2, elementwise=True)
sub.defvjp(lambda g, out, x, y: g,
           lambda g, out, x, y: -g)

mul = op(np.multiply, "mul", arity=2, elementwise=True)
mul.defvjp(lambda g, out, x, y: g * y,
           lambda g, out, x, y: g * x)

div = op(np.true_divide, "div", arity=2, elementwise=True)
div.defvjp(lambda g, out, x, y: g / y,
           lambda g, out, x, y: -g * out / y)

pow = op(np.power, "pow", arity=2, elementwise=True)
def _pow_vjp_x(g: Tensor, out: Tensor, x: Tensor, y: Any) -> Tensor | None:
    if not isinstance(y, Tensor) and np.all(np.asarray(y) == 0):
        return None  # x**0 is constant; x**(0 - 1) would turn 0 * inf into NaN at x = 0
    return g * y * x ** (y - 1)


pow.defvjp(_pow_vjp_x,
           # d/dy x^y = x^y log x; at x = 0 the term is 0 (out is 0 there for y > 0)
           lambda g, out, x, y: g * out * log(where(x == 0, 1.0, x)))


def _tie(x: Any, y: Any) -> Tensor:
    """1 where x wins, 0.5 where tied, 0 where it loses."""
    return where(x > y, 1.0, where(x == y, 0.5, 0.0))


maximum = op(np.maximum, "maximum", arity=2, elementwise=True)
maximum.defvjp(lambda g, out, x, y: g * _tie(x, y),
               lambda g, out, x, y: g * _tie(y, x))

minimum = op(np.minimum, "minimum", arity=2, elementwise=True)
minimum.defvjp(lambda g, out, x, y: g * _tie(y, x),
               lambda g, out, x, y: g * _tie(x, y))

where = op(np.where, "where", elementwise=True)
where.defvjp(None,
             lambda g, out, c, x, y: where(c, g, 0.0),
             lambda g, out, c, x, y: where(c, 0.0, g))


def _where_zero_mask(argnum: int, args: tuple[Any, ...], out_shape: tuple[int, ...]) -> np.ndarray:
    c = args[0].data if isinstance(args[0], Tensor) else np.asarray(args[0])
    return np.broadcast_to(~c.astype(bool) if argnum == 1 else c.astype(bool), out_shape)


where.zero_mask = _where_zero_mask


# =============================================================================== reductions
# Each rule reshapes g to the input's rank with 1s at the reduced axes (_keep), then broadcasts.

sum = op(lambda x, axis=None, keepdims=False: np.sum(x, axis=axis, keepdims=keepdims), "sum", structural=True)
sum.defvjp(lambda g, out, x, axis=None, keepdims=False:
           broadcast_to(_keep(g, x.shape, axis, keepdims), x.shape))

mean = op(lambda x, axis=None, keepdims=False: np.mean(x, axis=axis, keepdims=keepdims), "mean", structural=True)
mean.defvjp(lambda g, out, x, axis=None, keepdims=False:
            broadcast_to(_keep(g, x.shape, axis, keepdims) / _count(x.shape, axis), x.shape))


def _extreme_vjp(g: Tensor, out: Tensor, x: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:
    hit = (x == _keep(out, x.shape, axis, keepdims)).astype(x.dtype)
    return _keep(g, x.shape, axis, keepdims) * hit / hit.sum(axis=axis, keepdims=True)


max = op(lambda x, axis=None, keepdims=False: np.max(x, axis=axis, keepdims=keepdims), "max")
max.defvjp(_extreme_vjp)

min = op(lambda x, axis=None, keepdims=False: np.min(x, axis=axis, keepdims=keepdims), "min")
min.defvjp(_extreme_vjp)


def _prod_vjp(g: Tensor, out: Tensor, x: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:
    # d prod / d x_i = product of the others, computed without dividing by a zero.
    zero = x == 0
    n_zero = zero.astype(np.int64).sum(axis=axis, keepdims=True)
    safe = where(zero, 1.0, x)
    p = safe.prod(axis=axis, keepdims=True)
    others = where(zero, where(n_zero == 1, p, 0.0), where(n_zero == 0, p / safe, 0.0))
    return _keep(g, x.shape, axis, keepdims) * others


prod = op(lambda x, axis=None, keepdims=False: np.prod(x, axis=axis, keepdims=keepdims), "prod")
prod.defvjp(_prod_vjp)

var = op(lambda x, axis=None, keepdims=False, ddof=0: np.var(x, axis=axis, keepdims=keepdims, ddof=ddof), "var")
var.defvjp(lambda g, out, x, axis=None, keepdims=False, ddof=0:
           _keep(g, x.shape, axis, keepdims) * 2 * (x - x.mean(axis=axis, keepdims=True))
           / (_count(x.shape, axis) - ddof))


def _finite_max(x: np.ndarray, axis: Any) -> np.ndarray:
    m = np.max(x, axis=axis, keepdims=True)
    if np.isfinite(m).all():
        return m
    return np.where(np.isfinite(m), m, 0.0)  # slices of all -inf (or holding +inf) stay exact


def _logsumexp(x: np.ndarray, axis: Any = None, keepdims: bool = False) -> np.ndarray:
    m = _finite_max(x, axis)
    with np.errstate(divide="ignore"):
        r = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))
    r += m
    return r if keepdims else np.squeeze(r, axis=axis)


def _softmax(x: np.ndarray, axis: Any = -1) -> np.ndarray:
    e = np.exp(x - _finite_max(x, axis))
    s = np.sum(e, axis=axis, keepdims=True)
    if (s > 0).all():
        e /= s
        return e
    return np.divide(e, s, out=np.zeros_like(e), where=s > 0)


def _log_softmax(x: np.ndarray, axis: Any = -1) -> np.ndarray:
    lse = _logsumexp(x, axis=axis, keepdims=True)
    if np.isfinite(lse).all():
        return x - lse
    return np.where(np.isneginf(lse), -np.inf, x - lse)


logsumexp = op(_logsumexp, "logsumexp")
logsumexp.defvjp(lambda g, out, x, axis=None, keepdims=False:
                 _keep(g, x.shape, axis, keepdims) * softmax(x, axis=axis))

softmax = op(_softmax, "softmax")
softmax.defvjp(lambda g, out, x, axis=-1: out * (g - (g * out).sum(axis=axis, keepdims=True)))

log_softmax = op(_log_softmax, "log_softmax")
log_softmax.defvjp(lambda g, out, x, axis=-1: g - exp(out) * g.sum(axis=axis, keepdims=True))


# =============================================================================== shape

reshape = op(lambda x, shape: np.reshape(x, shape), "reshape", structural=True)
reshape.defvjp(lambda g, out, x, shape: reshape(g, x.shape))

transpose = op(lambda x, axes=None: np.transpose(x, axes), "transpose", structural=True)
transpose.defvjp(lambda g, out, x, axes=None:
                 transpose(g, None if axes is None else tuple(np.argsort([a % x.ndim for a in axes]))))

broadcast_to = op(lambda x, shape: np.broadcast_to(x, shape), "broadcast_to", structural=True)
broadcast_to.defvjp(lambda g, out, x, shape: sum_to(g, x.shape))


def _sum_to(x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    lead = x.ndim - len(shape)
    if lead:
        x = x.sum(axis=tuple(range(lead)))
    ones = tuple(i for i, n in enumerate(shape) if n == 1 and x.shape[i] != 1)
    if ones:
        x = x.sum(axis=ones, keepdims=True)
    if x.shape != tuple(shape):
        raise ValueError(f"shape {x.shape} does not reduce to {tuple(shape)}")
    return x


sum_to = op(_sum_to, "sum_to", structural=True)
sum_to.defvjp(lambda g, out, x, shape: broadcast_to(g, x.shape))

cast = op(lambda x, dtype: x.astype(dtype, copy=False), "cast", structural=True)
cast.defvjp(lambda g, out, x, dtype: cast(g, x.dtype))


def _has_int_array(index: Any) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return any(isinstance(p, np.ndarray) and p.dtype.kind in "iu" for p in parts)


def _index_add(g: np.ndarray, index: Any, shape: tuple[int, ...]) -> np.ndarray:
    z = np.zeros(shape, dtype=g.dtype)
    if _has_int_array(index):
        np.add.at(z, index, g)  # repeated indices accumulate
    else:
        z[index] = g  # slices, ints and masks select each entry at most once
    return z


getitem = op(lambda x, index: x[index], "getitem", structural=True)
getitem.defvjp(lambda g, out, x, index: index_add(g, index, x.shape))

index_add = op(_index_add, "index_add", structural=True)
index_add.defvjp(lambda g, out, x, index, shape: getitem(g, index))


def _concatenate_vjp(argnum: int, g: Tensor, out: Tensor, *xs: Any, axis: int = 0) -> Tensor:
    ax = axis % out.ndim
    start = int(np.sum([_shape(x)[ax] for x in xs[:argnum]], dtype=np.int64))
    stop = start + _shape(xs[argnum])[ax]
    return getitem(g, (slice(None),) * ax + (slice(start, stop),))


concatenate_ = op(lambda *xs, axis=0: np.concatenate(xs, axis=axis), "concatenate", structural=True)
concatenate_.defvjp_argnum(_concatenate_vjp)

stack_ = op(lambda *xs, axis=0: np.stack(xs, axis=axis), "stack", structural=True)
stack_.defvjp_argnum(lambda argnum, g, out, *xs, axis=0:
                     getitem(g, (slice(None),) * (axis % out.ndim) + (argnum,)))


# =============================================================================== linear algebra

def _swap(a: Any) -> Any:
    n = len(_shape(a))
    return transpose(a, tuple(range(n - 2)) + (n - 1, n - 2))


def _matmul_vjp_x(g: Tensor, out: Tensor, x: Tensor, y: Any) -> Tensor:
    if len(_shape(y)) == 1:
        return expand_dims(g, -1) * y
    if x.ndim == 1:
        return expand_dims(g, -2) @ _swap(y)  # (..., 1, n): the engine sums the batch axes
    return g @ _swap(y)


def _matmul_vjp_y(g: Tensor, out: Tensor, x: Any, y: Tensor) -> Tensor:
    if len(_shape(x)) == 1:
        if y.ndim == 1:
            return g * x
        return expand_dims(x, -1) * expand_dims(g, -2)
    if y.ndim == 1:
        return expand_dims(g, -1) * x  # (..., m, n): the engine sums down to (n,)
    return _swap(x) @ g


matmul = op(np.matmul, "matmul", arity=2)
matmul.defvjp(_matmul_vjp_x, _matmul_vjp_y)


# =============================================================================== composites
# Built from the primitives above, so they need no rules of their own.

def _squeezed_shape(shape: tuple[int, ...], axis: Any, name: str, fn: Callable[..., Any]) -> tuple[int, ...]:
    try:
        return fn(np.broadcast_to(np.empty((), dtype=np.int8), shape), axis).shape
    except (ValueError, TypeError, np.exceptions.AxisError) as e:
        raise ValueError(f"{name}: cannot apply axis={axis} to shape {shape}: {e}") from e


def squeeze(x: Any, axis: int | tuple[int, ...] | None = None) -> Tensor:
    """Remove axes of length 1 (all of them when ``axis`` is None)."""
    return reshape(x, _squeezed_shape(_shape(x), axis, "squeeze", np.squeeze))


def expand_dims(x: Any, axis: int | tuple[int, ...]) -> Tensor:
    """Insert axes of length 1 at ``axis``."""
    return reshape(x, _squeezed_shape(_shape(x), axis, "expand_dims", np.expand_dims))


def astype(x: Any, dtype: Any) -> Tensor:
    """Convert to ``dtype``; the gradient flows only into floating results."""
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return cast(x, dtype)
    return _wrap(np.asarray(x.data if isinstance(x, Tensor) else x).astype(dtype))


def concatenate(tensors: Sequence[Any], axis: int | None = 0) -> Tensor:
    """Join tensors along an existing axis, like ``np.concatenate``."""
    if axis is None:
        tensors, axis = [reshape(t, (-1,)) for t in tensors], 0
    return concatenate_(*tensors, axis=axis)


def stack(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors along a new axis, like ``np.stack``."""
    return stack_(*tensors, axis=axis)


def normalize_index(index: Any) -> Any:
    """Turn Tensors and lists inside an index into the NumPy arrays NumPy expects."""
    if isinstance(index, tuple):
        return tuple(_index_part(p) for p in index)
    return _index_part(index)


def _index_part(p: Any) -> Any:
    if isinstance(p, Tensor):
        p = p.data
    elif isinstance(p, list):
        p = np.asarray(p)
    if isinstance(p, np.ndarray) and p.dtype.kind == "f":
        # tg.tensor([0, 2]) is float by default; accept whole numbers as indices.
        if not np.all(np.mod(p, 1) == 0):
            raise IndexError(f"getitem: index array has non-integer values {p}")
        p = p.astype(np.intp)
    return p
