"""The derivative table: every primitive op, declared once with its rule.

Read it like a calculus crib sheet. Each op is a NumPy forward function plus one rule per input,
``rule(g, out, x, y, **kwargs)``: ``g`` is the gradient arriving at ``out``, ``x, y`` the inputs.
Rules use Tensor operations only, so they are differentiable themselves: second and higher
derivatives come from this same table. Broadcasting is undone by the engine, not here.

Forward mode (``tg.jvp``, ``tg.jacobian(mode="fwd")``, ``tg.hessian``) reads the same table. An
elementwise op's Jacobian is diagonal, so its VJP rule *is* its JVP rule (with the tangent ``t`` in
place of ``g``) and nothing more is written. Every other op declares ``defjvp`` beside ``defvjp``.

Batches: ``g`` (and ``t``) may carry extra leading batch axes, so a whole batch of basis vectors
goes through the graph at once (Jacobians, Hessians). Rules therefore count axes from the end and
take the batch shape from ``g`` itself (``_lead``); everything else (``out``, ``x``, options) is as in
the forward call.

Conventions at kinks (the one place they are written down):
- ``max``/``min`` reductions share the gradient equally between tied entries;
- ``maximum(x, y)``/``minimum(x, y)`` give 0.5 to each side where ``x == y``;
- ``relu'(0) = 0``, ``abs'(0) = 0`` (``sign(0) = 0``); ``sign`` has derivative 0;
- ``d(x ** y)/dx = y · x ** (y - 1)`` is 0 at ``x = y = 0`` (PyTorch's convention; the formula gives 0 · inf), so
  ``0 ** 0`` has derivative 0 in x, not NaN; ``d(x ** y)/dy = x ** y · log x`` is 0 at ``x = 0``;
- ``clip(x, lo, hi)`` passes the gradient where ``lo <= x <= hi``;
- ``where(c, a, b)`` sends exact zeros to the unselected branch, and the engine keeps NaN/Inf made
  by that branch out of every derivative (reverse, higher order, forward, Hessians), through every op
  here: elementwise ops, ops marked ``structural`` (their rules only move, copy or sum entries of
  ``g``), and the others, which declare a ``zero_map`` beside their rule (reductions, softmax-like
  ops, matmul-like ops). A user's primitive without one stops the bookkeeping (see Primitive);
- ``prod`` is exact at zeros for first derivatives (``d prod / d x_i`` with one zero entry is the
  product of the others); its second derivative at exact zeros is not;
- ``logsumexp`` of a slice of all ``-inf`` is ``-inf``, and its gradient there is 0.
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import engine as _engine
from .engine import BinaryPrimitive, Primitive, UnaryPrimitive
from .tensor import Tensor, _wrap

TABLE: dict[str, Primitive] = {}
"""Every built-in primitive by name: the one registry of ops and their rules."""


def op(fun: Callable[..., Any], name: str, *, arity: int | None = None, elementwise: bool = False,
       structural: bool = False, differentiable: bool = True) -> Primitive:
    """Declare a built-in op; ``arity`` 1 or 2 (array inputs only, no options) selects a faster call."""
    kind = {1: UnaryPrimitive, 2: BinaryPrimitive}.get(arity, Primitive)
    prim = kind(fun, name, elementwise=elementwise, structural=structural, differentiable=differentiable,
                batchable=True)
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


def _neg_axes(axis: Any, ndim: int) -> tuple[int, ...]:
    """``axis`` counted from the end, so it still names the same axes behind leading batch axes."""
    return tuple(a - ndim for a in _axes(axis, ndim))


def _lead(g: Any, ndim: int) -> tuple[int, ...]:
    """The batch axes of ``g``: those in front of the ``ndim`` axes of the array it belongs to."""
    shape = _shape(g)
    return shape[:len(shape) - ndim]


def _align(t: Tensor, ndim: int, to_ndim: int) -> Tensor:
    """Insert 1s between the batch axes of ``t`` and its ``ndim`` own axes, up to ``to_ndim`` of them."""
    if to_ndim == ndim:
        return t
    shape = t.data.shape
    nb = len(shape) - ndim
    return reshape(t, shape[:nb] + (1,) * (to_ndim - ndim) + shape[nb:])


def _keep(g: Tensor, shape: tuple[int, ...], axis: Any, keepdims: bool) -> Tensor:
    """``g`` of a reduction, reshaped to the input's rank with 1s at the reduced axes."""
    if keepdims or (axis is None and g.data.ndim == 0):
        return g  # a scalar broadcasts to any shape as it is
    kept = list(shape)
    reduced = _axes(axis, len(shape))
    for a in reduced:
        kept[a] = 1
    return reshape(g, _lead(g, len(shape) - len(reduced)) + tuple(kept))


def _reduce_jvp(t: Tensor, x: Any, axis: Any, keepdims: bool, weight: Any = None) -> Tensor:
    """Forward rule of a reduction whose derivative is ``weight`` (1 if None): sum(t * weight) over ``axis``."""
    return sum(t if weight is None else t * weight, axis=_neg_axes(axis, len(_shape(x))), keepdims=keepdims)


def _count(shape: tuple[int, ...], axis: Any) -> int:
    if axis is None:
        return math.prod(shape)
    return math.prod(shape[a] for a in _axes(axis, len(shape)))


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


# =============================================================================== unary

# The transforms differentiate with respect to a fresh node made by this op, so an inner grad
# never mixes up its input with the same tensor used elsewhere in the caller's graph.
identity = op(lambda x: x, "identity", arity=1, elementwise=True, structural=True)
identity.defvjp(lambda g, out, x: g)

clone = op(lambda x: np.array(x, copy=True), "clone", arity=1, elementwise=True, structural=True)
clone.defvjp(lambda g, out, x: g)

# sign is piecewise constant: its derivative is 0 (as in PyTorch), but it records a node so that a
# backward() through it runs and gives zeros rather than failing for want of a graph.
sign = op(np.sign, "sign", arity=1, elementwise=True)
sign.defvjp(lambda g, out, x: _zeros_of(g))


def _zeros_of(t: Tensor) -> Tensor:
    """Zeros of ``t``'s shape and dtype, as a constant: the derivative of a piecewise-constant op."""
    return _wrap(np.zeros(t.data.shape, dtype=t.data.dtype))

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
relu.defvjp(lambda g, out, x: relu_grad(g, x))  # g * (x > 0), fused below

# relu's derivative as one op, for the same reason as tanh_grad. It is linear in g and piecewise
# constant in x, so its own derivative in x is zero (declared None).
relu_grad = op(lambda g, x: np.multiply(g, x > 0), "relu_grad", arity=2, elementwise=True)
relu_grad.defvjp(lambda g2, out, g, x: relu_grad(g2, x), None)

# The max-margin (hinge) loss of a score s against a label y, max(0, 1 - s·y), entry by entry: one
# node instead of three. Where the margin is violated (out > 0) its slope in s is -y, in y it is -s.
hinge = op(lambda s, y: np.maximum(1 - s * y, 0), "hinge", arity=2, elementwise=True)
hinge.defvjp(lambda g, out, s, y: relu_grad(g, out) * _negative(y),
             lambda g, out, s, y: relu_grad(g, out) * _negative(s))


def _negative(a: Any) -> Any:
    """``-a``: an op on a Tensor, plain NumPy on a constant (labels), which needs no node."""
    return neg(a) if isinstance(a, Tensor) else np.negative(a)


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

def _power(x: np.ndarray, y: Any) -> np.ndarray:
    if (type(y) is float or type(y) is int) and y == 2:
        return np.square(x)  # same values, but about twice as fast as the general power
    return np.power(x, y)


pow = op(_power, "pow", arity=2, elementwise=True)


def _pow_vjp_x(g: Tensor, out: Tensor, x: Tensor, y: Any) -> Tensor | None:
    if not isinstance(y, Tensor) and np.ndim(y) == 0:
        c = float(y)
        if c == 0:
            return None  # x**0 is constant; x**(0 - 1) would turn 0 * inf into NaN at x = 0
        if c == 1:
            return g
        if c == 2:
            return g * (2 * x)  # no x**1: one op fewer here, three fewer in forward-over-reverse
        return g * (c * x ** (c - 1))
    if not isinstance(y, Tensor) and np.all(np.asarray(y) == 0):
        return None
    # y x^(y-1) is 0 * inf = NaN at x = y = 0, where the convention (PyTorch's) is 0. Only that point is
    # masked: elsewhere the expression is finite, and its derivative in y must survive for second order.
    with np.errstate(divide="ignore", invalid="ignore"):
        return g * where((x == 0) & (y == 0), 0.0, y * x ** (y - 1))


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
# Known zeros below a ``where`` (zero_map, see Primitive): an entry's gradient is zero when the output
# entry it reduces into has a zero gradient (_reduced_zeros); for softmax-like ops, whose output keeps
# the input's shape, when its whole slice along ``axis`` has (_slice_zeros).


def _reduced_zeros(argnum: int, zeros: np.ndarray, out: Tensor, x: Any, axis: Any = None, keepdims: bool = False,
                   **options: Any) -> np.ndarray:
    """zero_map of a reduction over ``axis``: the known zeros of g, broadcast back over the reduced axes."""
    shape = _shape(x)
    if not keepdims and zeros.ndim != len(shape):
        kept = list(shape)
        for a in _axes(axis, len(shape)):
            kept[a] = 1
        zeros = zeros.reshape(kept)
    return np.broadcast_to(zeros, shape)


def _slice_zeros(argnum: int, zeros: np.ndarray, out: Tensor, x: Any, axis: Any = -1) -> np.ndarray:
    """zero_map of an op acting on whole slices along ``axis`` (softmax): slices whose g is all known zero."""
    return np.broadcast_to(np.all(zeros, axis=axis, keepdims=True), zeros.shape)



def _mean(x: np.ndarray, axis: Any = None, keepdims: bool = False) -> np.ndarray:
    if x.dtype.char not in "fd":  # ints and float16 accumulate in a wider type: NumPy's rules
        return np.mean(x, axis=axis, keepdims=keepdims)
    # What np.mean computes (a pairwise sum, then one division), without its Python wrapper.
    return np.true_divide(np.add.reduce(x, axis=axis, keepdims=keepdims), _count(x.shape, axis))


# np.add.reduce is np.sum without the Python wrapper: a full reduction is most losses' last op.
sum = op(lambda x, axis=None, keepdims=False: np.add.reduce(x, axis=axis, keepdims=keepdims), "sum",
         structural=True)
sum.defvjp(lambda g, out, x, axis=None, keepdims=False:
           broadcast_to(_keep(g, x.shape, axis, keepdims), _lead(g, out.ndim) + x.shape))
sum.defjvp(lambda t, out, x, axis=None, keepdims=False: _reduce_jvp(t, x, axis, keepdims))

mean = op(_mean, "mean", structural=True)
mean.defvjp(lambda g, out, x, axis=None, keepdims=False:
            broadcast_to(_keep(g, x.shape, axis, keepdims) / _count(x.shape, axis), _lead(g, out.ndim) + x.shape))
mean.defjvp(lambda t, out, x, axis=None, keepdims=False:
            mean(t, axis=_neg_axes(axis, x.ndim), keepdims=keepdims))


def _extreme_share(out: Tensor, x: Tensor, axis: Any, keepdims: bool) -> Tensor:
    """d max / d x: 1 at the maximum, shared equally between ties."""
    hit = (x == _keep(out, x.shape, axis, keepdims)).astype(x.dtype)
    return hit / hit.sum(axis=axis, keepdims=True)


max = op(lambda x, axis=None, keepdims=False: np.max(x, axis=axis, keepdims=keepdims), "max")
max.defvjp(lambda g, out, x, axis=None, keepdims=False:
           _keep(g, x.shape, axis, keepdims) * _extreme_share(out, x, axis, keepdims))
max.defjvp(lambda t, out, x, axis=None, keepdims=False:
           _reduce_jvp(t, x, axis, keepdims, _extreme_share(out, x, axis, keepdims)))
max.zero_map = _reduced_zeros

min = op(lambda x, axis=None, keepdims=False: np.min(x, axis=axis, keepdims=keepdims), "min")
min.defvjp(*max.vjps)
min.defjvp(*max.jvps)
min.zero_map = _reduced_zeros


def _prod_others(x: Tensor, axis: Any) -> Tensor:
    """d prod / d x_i = the product of the others, computed without dividing by a zero."""
    zero = x == 0
    n_zero = zero.astype(np.int64).sum(axis=axis, keepdims=True)
    safe = where(zero, 1.0, x)
    p = safe.prod(axis=axis, keepdims=True)
    return where(zero, where(n_zero == 1, p, 0.0), where(n_zero == 0, p / safe, 0.0))


prod = op(lambda x, axis=None, keepdims=False: np.prod(x, axis=axis, keepdims=keepdims), "prod")
prod.defvjp(lambda g, out, x, axis=None, keepdims=False: _keep(g, x.shape, axis, keepdims) * _prod_others(x, axis))
prod.defjvp(lambda t, out, x, axis=None, keepdims=False: _reduce_jvp(t, x, axis, keepdims, _prod_others(x, axis)))
prod.zero_map = _reduced_zeros


def _var_slope(x: Tensor, axis: Any, ddof: int) -> Tensor:
    """d var / d x_i = 2 (x_i - mean) / (N - ddof)."""
    return 2 * (x - x.mean(axis=axis, keepdims=True)) / (_count(x.shape, axis) - ddof)


var = op(lambda x, axis=None, keepdims=False, ddof=0: np.var(x, axis=axis, keepdims=keepdims, ddof=ddof), "var")
var.defvjp(lambda g, out, x, axis=None, keepdims=False, ddof=0:
           _keep(g, x.shape, axis, keepdims) * _var_slope(x, axis, ddof))
var.defjvp(lambda t, out, x, axis=None, keepdims=False, ddof=0:
           _reduce_jvp(t, x, axis, keepdims, _var_slope(x, axis, ddof)))
var.zero_map = _reduced_zeros


def _finite_max(x: np.ndarray, axis: Any) -> np.ndarray:
    if x.ndim == 2 and axis in (1, -1) and x.shape[1] <= 32 and x.size:
        # Rows of a few logits: NumPy's max along a short contiguous axis is ~5x slower than
        # transposing the (small) array and reducing across it.
        m = np.maximum.reduce(np.ascontiguousarray(x.T), axis=0)[:, None]
    else:
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
logsumexp.defjvp(lambda t, out, x, axis=None, keepdims=False:
                 _reduce_jvp(t, x, axis, keepdims, softmax(x, axis=axis)))
logsumexp.zero_map = _reduced_zeros


def _softmax_vjp(g: Tensor, out: Tensor, x: Tensor, axis: Any = -1) -> Tensor:
    return out * (g - (g * out).sum(axis=_neg_axes(axis, out.ndim), keepdims=True))


softmax = op(_softmax, "softmax")
softmax.defvjp(_softmax_vjp)
softmax.defjvp(_softmax_vjp)  # the Jacobian diag(s) - s sᵀ is symmetric
softmax.zero_map = _slice_zeros

log_softmax = op(_log_softmax, "log_softmax")
log_softmax.defvjp(lambda g, out, x, axis=-1: g - exp(out) * g.sum(axis=_neg_axes(axis, out.ndim), keepdims=True))
log_softmax.defjvp(lambda t, out, x, axis=-1: t - (t * exp(out)).sum(axis=_neg_axes(axis, out.ndim), keepdims=True))
log_softmax.zero_map = _slice_zeros


def _softmax_cross_entropy(x: np.ndarray, labels: np.ndarray) -> np.ndarray:
    rows = np.arange(x.shape[0])
    return _logsumexp(x, axis=1) - x[rows, labels]


def _label_slope(x: Tensor, labels: np.ndarray) -> Tensor:
    """softmax(x) − one_hot(labels): the derivative of each row's loss in its logits."""
    # a comparison, not a write into np.zeros: under tg.compile the labels are traced, and so is this
    one_hot = (labels[..., None] == np.arange(x.shape[-1])).astype(x.dtype)
    return softmax(x, axis=1) - one_hot


# Softmax cross-entropy of (n, C) logits against n integer labels, one loss per row:
# logsumexp(x_i) − x_i[label_i]. One node instead of log_softmax, indexing and negation (PyTorch
# fuses it too); the slope softmax − one_hot is written with softmax, so higher orders still work.
softmax_cross_entropy = op(_softmax_cross_entropy, "softmax_cross_entropy", arity=2)
softmax_cross_entropy.defvjp(lambda g, out, x, labels: expand_dims(g, -1) * _label_slope(x, labels), None)
softmax_cross_entropy.defjvp(lambda t, out, x, labels: (t * _label_slope(x, labels)).sum(axis=-1), None)
softmax_cross_entropy.zero_map = (  # a reduction of each row of x (axis 1); labels have no gradient
    lambda argnum, zeros, out, x, labels: _reduced_zeros(argnum, zeros, out, x, axis=1) if argnum == 0 else None)


# =============================================================================== shape

reshape = op(lambda x, shape: np.reshape(x, shape), "reshape", structural=True)
reshape.defvjp(lambda g, out, x, shape: reshape(g, _lead(g, out.ndim) + x.shape))
reshape.defjvp(lambda t, out, x, shape: reshape(t, _lead(t, x.ndim) + out.shape))


def _permutation(axes: Any, ndim: int) -> tuple[int, ...]:
    return tuple(range(ndim))[::-1] if axes is None else tuple(a % ndim for a in axes)


def _permute(g: Tensor, perm: tuple[int, ...]) -> Tensor:
    """Permute the last ``len(perm)`` axes of ``g``, leaving its batch axes in front."""
    nb = g.ndim - len(perm)
    return transpose(g, tuple(range(nb)) + tuple(nb + p for p in perm))


transpose = op(lambda x, axes=None: np.transpose(x, axes), "transpose", structural=True)
transpose.defvjp(lambda g, out, x, axes=None: _permute(g, tuple(np.argsort(_permutation(axes, x.ndim)))))
transpose.defjvp(lambda t, out, x, axes=None: _permute(t, _permutation(axes, x.ndim)))


def _sum_to_batched(g: Tensor, shape: tuple[int, ...], ndim: int) -> Tensor:
    """Sum ``g`` (batch axes, then ``ndim`` axes) down to ``batch + shape``."""
    nb = g.ndim - ndim
    return sum_to(g, shape) if nb == 0 else _engine.unbroadcast_batched(g, shape, nb)




def _broadcast_to(x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    if np.ndim(x) == 0 and math.prod(shape) <= 4096:
        # A scalar (the gradient of every full sum or mean) over a small array is filled in: np.full
        # is a few times faster than np.broadcast_to. Over a large one the view is kept, since
        # writing the array out would cost a pass over memory that the next rule avoids.
        return np.full(shape, x, dtype=np.result_type(x))
    return np.broadcast_to(x, shape)


broadcast_to = op(_broadcast_to, "broadcast_to", structural=True)
broadcast_to.defvjp(lambda g, out, x, shape: _sum_to_batched(g, x.shape, out.ndim))
broadcast_to.defjvp(lambda t, out, x, shape:
                    broadcast_to(_align(t, x.ndim, out.ndim), _lead(t, x.ndim) + out.shape))


def _sum_to(x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    lead = x.ndim - len(shape)
    if lead:
        x = np.add.reduce(x, axis=0 if lead == 1 else tuple(range(lead)))  # ufunc reduce: no Python wrapper
    ones = tuple(i for i, n in enumerate(shape) if n == 1 and x.shape[i] != 1)
    if ones:
        x = x.sum(axis=ones, keepdims=True)
    if x.shape != tuple(shape):
        raise ValueError(f"shape {x.shape} does not reduce to {tuple(shape)}")
    return x


sum_to = op(_sum_to, "sum_to", structural=True)
sum_to.defvjp(lambda g, out, x, shape: broadcast_to(_align(g, out.ndim, x.ndim), _lead(g, out.ndim) + x.shape))
sum_to.defjvp(lambda t, out, x, shape: _sum_to_batched(t, out.shape, x.ndim))

cast_ = op(lambda x, dtype: x.astype(dtype, copy=False), "cast", structural=True)


def cast(x: Any, dtype: Any) -> Tensor:
    """``x`` in ``dtype`` (the engine's one cast of a gradient to its input's dtype); never drops an
    imaginary part silently: a complex value reaching a real Tensor is refused (issue 15)."""
    data = x.data if isinstance(x, Tensor) else np.asarray(x)
    if data.dtype.kind == "c" and np.dtype(dtype).kind != "c":
        raise TypeError(f"a complex value ({data.dtype}) reached a derivative of a real Tensor ({np.dtype(dtype)}), "
                        f"from a complex constant such as 1j in the computation; complex numbers are out of scope in "
                        f"tinygrad_mvc: work with the real and imaginary parts as real Tensors")
    return cast_(x, dtype)


cast_.defvjp(lambda g, out, x, dtype: cast(g, x.dtype))
cast_.defjvp(lambda t, out, x, dtype: cast(t, out.dtype))


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


def _is_basic(index: Any) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return not any(isinstance(p, np.ndarray) for p in parts)


def _explicit(index: Any, ndim: int) -> tuple[Any, ...]:
    """``index`` as a tuple that names all ``ndim`` axes, its Ellipsis spelled out as slices."""
    parts = index if isinstance(index, tuple) else (index,)
    used = builtins.sum(p.ndim if isinstance(p, np.ndarray) and p.dtype == bool else 1
                        for p in parts if p is not None and p is not Ellipsis)
    fill = (slice(None),) * (ndim - used)
    if any(p is Ellipsis for p in parts):
        at = next(i for i, p in enumerate(parts) if p is Ellipsis)
        return parts[:at] + fill + parts[at + 1:]
    return parts + fill


def _batch_last(g: Tensor, nb: int) -> Tensor:
    return transpose(g, tuple(range(nb, g.ndim)) + tuple(range(nb)))


def _batch_first(g: Tensor, nb: int) -> Tensor:
    return transpose(g, tuple(range(g.ndim - nb, g.ndim)) + tuple(range(g.ndim - nb)))


def _take(g: Tensor, index: Any, ndim: int) -> Tensor:
    """``g[index]`` on the last ``ndim`` axes of ``g``, its batch axes kept in front."""
    nb = g.ndim - ndim
    if nb == 0:
        return getitem(g, index)
    if _is_basic(index):
        return getitem(g, (slice(None),) * nb + (index if isinstance(index, tuple) else (index,)))
    # NumPy may move advanced-index axes to the front, so the batch axes wait at the back meanwhile.
    return _batch_first(getitem(_batch_last(g, nb), _explicit(index, ndim)), nb)


def _put(g: Tensor, index: Any, shape: tuple[int, ...], ndim: int) -> Tensor:
    """Zeros of ``batch + shape`` with ``g`` added at ``[index]`` of the last axes (``ndim`` of ``g`` own)."""
    nb = g.ndim - ndim
    if nb == 0:
        return index_add(g, index, shape)
    lead = g.data.shape[:nb]
    if _is_basic(index):
        return index_add(g, (slice(None),) * nb + (index if isinstance(index, tuple) else (index,)), lead + shape)
    return _batch_first(index_add(_batch_last(g, nb), _explicit(index, len(shape)), shape + lead), nb)


getitem = op(lambda x, index: x[index], "getitem", structural=True)
getitem.defvjp(lambda g, out, x, index: _put(g, index, x.shape, out.ndim))
getitem.defjvp(lambda t, out, x, index: _take(t, index, x.ndim))

index_add = op(_index_add, "index_add", structural=True)
index_add.defvjp(lambda g, out, x, index, shape: _take(g, index, out.ndim))
index_add.defjvp(lambda t, out, x, index, shape: _put(t, index, shape, x.ndim))


def _concatenated_part(argnum: int, out: Tensor, xs: tuple[Any, ...], axis: int) -> tuple[Any, ...]:
    """The index of input ``argnum`` inside the result of concatenate."""
    ax = axis % out.ndim
    start = int(np.sum([_shape(x)[ax] for x in xs[:argnum]], dtype=np.int64))
    return (slice(None),) * ax + (slice(start, start + _shape(xs[argnum])[ax]),)


concatenate_ = op(lambda *xs, axis=0: np.concatenate(xs, axis=axis), "concatenate", structural=True)
concatenate_.defvjp_argnum(lambda argnum, g, out, *xs, axis=0:
                           _take(g, _concatenated_part(argnum, out, xs, axis), out.ndim))
concatenate_.defjvp_argnum(lambda argnum, t, out, *xs, axis=0:
                           _put(t, _concatenated_part(argnum, out, xs, axis), out.shape, out.ndim))

stack_ = op(lambda *xs, axis=0: np.stack(xs, axis=axis), "stack", structural=True)
stack_.defvjp_argnum(lambda argnum, g, out, *xs, axis=0:
                     _take(g, (slice(None),) * (axis % out.ndim) + (argnum,), out.ndim))
stack_.defjvp_argnum(lambda argnum, t, out, *xs, axis=0:
                     _put(t, (slice(None),) * (axis % out.ndim) + (argnum,), out.shape, out.ndim - 1))


# =============================================================================== linear algebra
# Known zeros below a ``where`` (zero_map, see Primitive): each rule is a sum of products of g with the
# other operand, so with ones in place of every operand it maps the live entries of g to a count of
# the live terms behind each entry of the gradient; zero counts are the known zeros (_bilinear_zeros).


def _bilinear_zeros(prim: Primitive) -> Callable[..., np.ndarray | None]:
    """zero_map of an op whose rules are sums of products of g and the operands (matmul, linear)."""

    def zero_map(argnum: int, zeros: np.ndarray, out: Tensor, *args: Any) -> np.ndarray | None:
        ones = [_wrap(np.ones(_shape(a))) for a in args]  # every positional input is an operand
        count = prim.rule(argnum)(_wrap((~zeros).astype(np.float64)), _wrap(np.ones(out.data.shape)), *ones)
        return None if count is None else count.data == 0

    return zero_map


def _matmul_vjp_x(g: Tensor, out: Tensor, x: Tensor, y: Any) -> Tensor:
    if len(_shape(y)) == 1:
        return expand_dims(g, -1) * y
    if x.ndim == 1:
        return matmul_nt(expand_dims(g, -2), y)  # (..., 1, n): the engine sums the batch axes
    return matmul_nt(g, y)


def _matmul_vjp_y(g: Tensor, out: Tensor, x: Any, y: Tensor) -> Tensor:
    if len(_shape(x)) == 1:
        if y.ndim == 1:
            return expand_dims(g, -1) * x
        return expand_dims(x, -1) * expand_dims(g, -2)
    if y.ndim == 1:
        return expand_dims(g, -1) * x  # (..., m, n): the engine sums down to (n,)
    return matmul_tn(x, g)


def _matmul_jvp(argnum: int, t: Tensor, out: Tensor, x: Any, y: Any) -> Tensor:
    """``t @ y`` or ``x @ t``, with vectors as matrices and the batch axes of ``t`` in front of all others."""
    xs, ys = _shape(x), _shape(y)
    own = len(xs) if argnum == 0 else len(ys)
    lead = _lead(t, own)
    a, b = (t, y) if argnum == 0 else (x, t)
    if len(xs) == 1:
        a = expand_dims(a, -2)
    if len(ys) == 1:
        b = expand_dims(b, -1)
    stack_rank = builtins.max(len(xs), len(ys), 2) - 2  # the broadcast stack axes of the result
    if argnum == 0:
        a = _align(a, builtins.max(len(xs), 2), stack_rank + 2)
    else:
        b = _align(b, builtins.max(len(ys), 2), stack_rank + 2)
    return reshape(a @ b, lead + out.shape)


matmul = op(np.matmul, "matmul", arity=2)
matmul.defvjp(_matmul_vjp_x, _matmul_vjp_y)
matmul.defjvp(lambda t, out, x, y: _matmul_jvp(0, t, out, x, y),
              lambda t, out, x, y: _matmul_jvp(1, t, out, x, y))
matmul.zero_map = _bilinear_zeros(matmul)

# Products with one operand transposed, for matmul's rules: ``g @ yᵀ`` and ``xᵀ @ g`` as one op
# each (BLAS's transpose flags) instead of a transpose op and a matmul. Both operands have at
# least 2 axes; earlier axes broadcast as in np.matmul. Each is bilinear, so its JVP in one input is
# the op applied to the tangent in that input's place, and its VJPs are the other two products.


def _mT(a: np.ndarray) -> np.ndarray:
    return a.T if a.ndim == 2 else np.swapaxes(a, -1, -2)  # .T: the common case, and cheaper


matmul_nt = op(lambda x, y: np.matmul(x, _mT(y)), "matmul_nt", arity=2)   # x @ yᵀ
matmul_tn = op(lambda x, y: np.matmul(_mT(x), y), "matmul_tn", arity=2)   # xᵀ @ y
matmul_nt.defvjp(lambda g, out, x, y: matmul(g, y),        # x @ yᵀ: d/dx = g @ y
                 lambda g, out, x, y: matmul_tn(g, x))     #         d/dy = gᵀ @ x
# A tangent's batch axes stay in front of the other operand's own batch axes (_align).
matmul_nt.defjvp(lambda t, out, x, y: matmul_nt(_align(t, x.ndim, out.ndim), y),
                 lambda t, out, x, y: matmul_nt(x, _align(t, y.ndim, out.ndim)))
matmul_nt.zero_map = _bilinear_zeros(matmul_nt)
matmul_tn.defvjp(lambda g, out, x, y: matmul_nt(y, g),     # xᵀ @ y: d/dx = y @ gᵀ
                 lambda g, out, x, y: matmul(x, g))        #         d/dy = x @ g
matmul_tn.defjvp(lambda t, out, x, y: matmul_tn(_align(t, x.ndim, out.ndim), y),
                 lambda t, out, x, y: matmul_tn(x, _align(t, y.ndim, out.ndim)))
matmul_tn.zero_map = _bilinear_zeros(matmul_tn)




def _linear(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    out = np.matmul(x, w)
    if np.result_type(out, b) == out.dtype:
        return np.add(out, b, out=out)  # into the product's fresh array: one temporary fewer
    return out + b


# A dense layer, x @ w + b, as one op (PyTorch's addmm): half the nodes of matmul-then-add in every
# network. x has shape (..., in) with at least 2 axes, w (in, out), b (out,). The engine sums b's
# gradient over the leading axes, as for any broadcast input.
linear = op(_linear, "linear")
linear.defvjp(lambda g, out, x, w, b: matmul_nt(g, w),
              lambda g, out, x, w, b: matmul_tn(x, g),
              lambda g, out, x, w, b: g)
linear.defjvp(lambda t, out, x, w, b: matmul(t, w),
              lambda t, out, x, w, b: matmul(x, _align(t, 2, x.ndim)),
              lambda t, out, x, w, b: _align(t, 1, out.ndim))
linear.zero_map = _bilinear_zeros(linear)


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
    if dtype.kind == "c":
        raise TypeError(f"astype({dtype}): complex numbers are out of scope in tinygrad_mvc (no complex derivative "
                        f"rules); keep the real and imaginary parts as two real Tensors")
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


# =============================================================================== vocabulary (issue 15)
# The NumPy words users of HIPS autograd, PyTorch and JAX reach for: more elementwise functions,
# scans, and shape ops. The elementwise ones and the scans are primitives with rules, like the ops
# above; the shape ops are composites of the structural primitives (reshape, transpose, getitem,
# index_add, concatenate, broadcast_to), so they need no rules of their own.
#
# Conventions: floor, ceil, round and trunc have derivative 0 (as sign); ``mod(x, y)`` (NumPy's
# remainder, the sign of y) has d/dx = 1 and d/dy = -floor(x / y), ``fmod`` (the sign of x) d/dy =
# -trunc(x / y); ``hypot'(0, 0) = 0``; ``cumprod`` is exact at zeros for first derivatives (reverse
# and forward mode, whatever the number of zeros) and for second derivatives where a slice holds one
# zero, not two or more; ``std`` is sqrt(var), so its gradient at a slice of
# equal entries (std 0) is NaN, as in PyTorch and JAX.

_LN2, _LN10 = math.log(2.0), math.log(10.0)


def _piecewise_constant(g: Tensor, out: Tensor, *args: Any, **options: Any) -> Tensor:
    """The derivative of a piecewise-constant op (floor, round...): zeros of g's shape and dtype."""
    return _zeros_of(g)


sinh = op(np.sinh, "sinh", arity=1, elementwise=True)
sinh.defvjp(lambda g, out, x: g * cosh(x))

cosh = op(np.cosh, "cosh", arity=1, elementwise=True)
cosh.defvjp(lambda g, out, x: g * sinh(x))

arcsin = op(np.arcsin, "arcsin", arity=1, elementwise=True)
arcsin.defvjp(lambda g, out, x: g / sqrt(1 - x * x))

arccos = op(np.arccos, "arccos", arity=1, elementwise=True)
arccos.defvjp(lambda g, out, x: -g / sqrt(1 - x * x))

arctan = op(np.arctan, "arctan", arity=1, elementwise=True)
arctan.defvjp(lambda g, out, x: g / (1 + x * x))

arcsinh = op(np.arcsinh, "arcsinh", arity=1, elementwise=True)
arcsinh.defvjp(lambda g, out, x: g / sqrt(x * x + 1))

arccosh = op(np.arccosh, "arccosh", arity=1, elementwise=True)
arccosh.defvjp(lambda g, out, x: g / (sqrt(x - 1) * sqrt(x + 1)))  # no x² - 1: exact near x = 1

arctanh = op(np.arctanh, "arctanh", arity=1, elementwise=True)
arctanh.defvjp(lambda g, out, x: g / (1 - x * x))

log1p = op(np.log1p, "log1p", arity=1, elementwise=True)
log1p.defvjp(lambda g, out, x: g / (1 + x))

expm1 = op(np.expm1, "expm1", arity=1, elementwise=True)
expm1.defvjp(lambda g, out, x: g * exp(x))

log2 = op(np.log2, "log2", arity=1, elementwise=True)
log2.defvjp(lambda g, out, x: g / (x * _LN2))

log10 = op(np.log10, "log10", arity=1, elementwise=True)
log10.defvjp(lambda g, out, x: g / (x * _LN10))

exp2 = op(np.exp2, "exp2", arity=1, elementwise=True)
exp2.defvjp(lambda g, out, x: g * (out * _LN2))

square = op(np.square, "square", arity=1, elementwise=True)
square.defvjp(lambda g, out, x: g * (2 * x))

reciprocal = op(lambda x: np.divide(1, x), "reciprocal", arity=1, elementwise=True)  # never integer division
reciprocal.defvjp(lambda g, out, x: -g * (out * out))


def _sinc_derivative(x: np.ndarray, n: int = 1) -> np.ndarray:
    """The ``n``-th derivative of ``np.sinc`` (sin(πx)/(πx)) at ``x``, exact at and near 0.

    With u = πx and f(u) = sin(u)/u it is πⁿ f⁽ⁿ⁾(u). Near 0 (|u| < n + 1) f⁽ⁿ⁾ is summed from
    the Taylor series of f, elsewhere by Leibniz's rule on sin(u) · u⁻¹, whose cancellation is at
    most a few ulps beyond |u| = n + 1.
    """
    x = np.asarray(x)
    u = np.pi * x.astype(np.float64)
    result = np.empty(u.shape)
    near = np.abs(u) < n + 1
    un = u[near]
    series = np.zeros(un.shape)
    for m in range((n + 1) // 2, (n + 1) // 2 + 3 * n + 40):  # f(u) = Σ (-1)^m u^(2m) / (2m+1)!
        series += (-1) ** m * un ** (2 * m - n) / ((2 * m + 1) * math.factorial(2 * m - n))
    result[near] = series
    uf = u[~near]
    leibniz = np.zeros(uf.shape)
    for j in range(n + 1):  # (sin · u⁻¹)⁽ⁿ⁾ = Σ C(n, j) sin⁽ʲ⁾(u) · (-1)^(n-j) (n-j)! u^-(n-j+1)
        leibniz += (math.comb(n, j) * (-1) ** (n - j) * math.factorial(n - j)
                    * np.sin(uf + j * np.pi / 2) / uf ** (n - j + 1))
    result[~near] = leibniz
    return (np.pi ** n * result).astype(np.result_type(x.dtype, np.float16), copy=False)


sinc = op(np.sinc, "sinc", arity=1, elementwise=True)
sinc.defvjp(lambda g, out, x: g * sinc_derivative(x, n=1))

# sinc's derivatives of every order as one op (the n-th derivative's rule is the (n+1)-th), so
# higher orders and tg.taylor at 0 are exact where the quotient rule would divide 0 by 0.
sinc_derivative = op(_sinc_derivative, "sinc_derivative", elementwise=True)
sinc_derivative.defvjp(lambda g, out, x, n=1: g * sinc_derivative(x, n=n + 1))

floor = op(np.floor, "floor", arity=1, elementwise=True)
floor.defvjp(_piecewise_constant)

ceil = op(np.ceil, "ceil", arity=1, elementwise=True)
ceil.defvjp(_piecewise_constant)

trunc = op(np.trunc, "trunc", arity=1, elementwise=True)
trunc.defvjp(_piecewise_constant)

round_ = op(np.round, "round", arity=1, elementwise=True)  # to the nearest integer, halves to even
round_.defvjp(_piecewise_constant)

# To other places than units: NumPy's own rounding (an exact recipe that scaling by 10ⁿ would not match).
round_decimals = op(lambda x, decimals: np.round(x, decimals), "round_decimals", elementwise=True)
round_decimals.defvjp(_piecewise_constant)


def round(x: Any, decimals: int = 0) -> Tensor:  # noqa: A001  (NumPy's name)
    """Round to ``decimals`` places as ``np.round`` does (halves to even); the derivative is 0.

    >>> round(Tensor([0.5, 1.5, 2.675]), 1).tolist()
    [0.5, 1.5, 2.7]
    """
    decimals = int(decimals)
    return round_(x) if decimals == 0 else round_decimals(x, decimals=decimals)


mod = op(np.mod, "mod", arity=2, elementwise=True)
mod.defvjp(lambda g, out, x, y: g,
           lambda g, out, x, y: -g * floor(x / y))  # x - floor(x / y) · y

remainder = mod

fmod = op(np.fmod, "fmod", arity=2, elementwise=True)
fmod.defvjp(lambda g, out, x, y: g,
            lambda g, out, x, y: -g * trunc(x / y))  # x - trunc(x / y) · y

arctan2 = op(np.arctan2, "arctan2", arity=2, elementwise=True)  # the angle of the point (y, x) = (x2, x1)
arctan2.defvjp(lambda g, out, x, y: g * y / (x * x + y * y),
               lambda g, out, x, y: -g * x / (x * x + y * y))


def _hypot_slope(a: Any, out: Tensor) -> Any:
    return a / where(out == 0, 1.0, out)  # 0 at the origin, where a is 0 too


hypot = op(np.hypot, "hypot", arity=2, elementwise=True)
hypot.defvjp(lambda g, out, x, y: g * _hypot_slope(x, out),
             lambda g, out, x, y: g * _hypot_slope(y, out))

power = pow


def std(x: Any, axis: Any = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
    """Standard deviation, ``sqrt(var(x, axis, keepdims, ddof))``, as ``np.std``.

    >>> std(Tensor([1.0, 3.0])).item()
    1.0
    """
    return sqrt(var(x, axis=axis, keepdims=keepdims, ddof=ddof))


def _flip_axis(g: Tensor, axis: int) -> Tensor:
    """``g`` reversed along ``axis`` (negative, so batch axes in front stay as they are)."""
    return getitem(g, (Ellipsis, slice(None, None, -1)) + (slice(None),) * (-axis - 1))


def _cumsum_from_end(g: Tensor, axis: int) -> Tensor:
    """Sums of g over each entry and all after it along ``axis``: the transpose of a cumulative sum."""
    return _flip_axis(cumsum_(_flip_axis(g, axis), axis=axis), axis)


# ``axis`` is always a negative int here (the composites below normalise it).
cumsum_ = op(lambda x, axis: np.cumsum(x, axis=axis), "cumsum", structural=True)
cumsum_.defvjp(lambda g, out, x, axis: _cumsum_from_end(g, axis))
cumsum_.defjvp(lambda t, out, x, axis: cumsum_(t, axis=axis))


def _zero_marks(x: Any, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """(before, first): entries before the first zero of their slice along ``axis``, and that zero."""
    zero = np.asarray(x.data if isinstance(x, Tensor) else x) == 0
    seen = np.cumsum(zero, axis=axis)
    return seen == 0, zero & (seen == 1)


def _cumprod_parts(out: Tensor, x: Tensor, axis: int) -> tuple[np.ndarray, np.ndarray, Tensor, Tensor, Tensor]:
    """What the rules of cumprod need where a slice holds a zero (see _cumprod_vjp)."""
    before, first = _zero_marks(x, axis)
    rest = cumprod_(where(first, 1.0, x), axis=axis)  # the products with each slice's first zero left out
    # out itself from the first zero on, as the zero times ``rest``: 0, with its derivative in that zero.
    # (The engine may have put the zero there in place of a NaN below a ``where``, which ``out`` still holds.)
    out = where(before, out, rest * sum(x * first, axis=axis, keepdims=True))
    return before, first, rest, out, where(before, x, 1.0)


def _cumprod_vjp(g: Tensor, out: Tensor, x: Tensor, axis: int) -> Tensor:
    # d out_i / d x_j = out_i / x_j for i >= j, written without dividing by a zero: before the first
    # zero of a slice the quotient is exact; at the first zero it is the cumulative product with that
    # zero replaced by 1; after it every product holds the zero, so the gradient is 0.
    if _zero_marks(x, axis)[0].all():
        return _cumsum_from_end(g * out, axis) / x
    before, first, rest, out, safe = _cumprod_parts(out, x, axis)
    # After the first zero x_k the gradient is x_k times the products without x_k and x_j: 0, but with
    # the derivative in x_k that second order needs (one zero per slice; 0 at a second zero).
    later = ~before & ~first & (np.asarray(x.data if isinstance(x, Tensor) else x) != 0)
    x_k = sum(x * first, axis=axis, keepdims=True)
    scale = where(first, 1.0, where(later, x_k / where(later, x, 1.0), 0.0))
    return where(before, _cumsum_from_end(g * out, axis) / safe, _cumsum_from_end(g * rest, axis) * scale)


def _cumprod_jvp(t: Tensor, out: Tensor, x: Tensor, axis: int) -> Tensor:
    if _zero_marks(x, axis)[0].all():
        return out * cumsum_(t / x, axis=axis)
    before, first, rest, out, safe = _cumprod_parts(out, x, axis)
    return where(before, out * cumsum_(t / safe, axis=axis), rest * sum(t * first, axis=axis, keepdims=True))


def _suffix_zeros(argnum: int, zeros: np.ndarray, out: Tensor, x: Any, axis: int) -> np.ndarray:
    """zero_map of a scan: an entry's gradient is zero when g is zero at it and at every entry after it."""
    return np.flip(np.logical_and.accumulate(np.flip(zeros, axis), axis=axis), axis)


cumprod_ = op(lambda x, axis: np.cumprod(x, axis=axis), "cumprod")
cumprod_.defvjp(_cumprod_vjp)
cumprod_.defjvp(_cumprod_jvp)
cumprod_.zero_map = _suffix_zeros


def _one_axis(name: str, axis: Any, shape: tuple[int, ...]) -> int:
    """``axis`` as a non-negative int for ``shape``, or a ValueError naming the op and the fix."""
    ndim = len(shape)
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{name}: axis must be an int, got {axis!r}")
    if not -ndim <= axis < ndim:
        allowed = "it has no axes" if ndim == 0 else f"use an int in [{-ndim}, {ndim - 1}]"
        raise ValueError(f"{name}: axis {axis} is out of range for shape {shape}; {allowed}")
    return int(axis) % ndim


def _scan(prim: Primitive, x: Any, axis: Any) -> Tensor:
    shape = _shape(x)
    if axis is None or not shape:  # NumPy scans the flattened array
        return prim(reshape(x, (-1,)), axis=-1)
    return prim(x, axis=_one_axis(prim.name, axis, shape) - len(shape))


def cumsum(x: Any, axis: int | None = None) -> Tensor:
    """Cumulative sums along ``axis`` (of the flattened array when None), as ``np.cumsum``.

    >>> cumsum(Tensor([1.0, 2.0, 3.0])).tolist()
    [1.0, 3.0, 6.0]
    """
    return _scan(cumsum_, x, axis)


def cumprod(x: Any, axis: int | None = None) -> Tensor:
    """Cumulative products along ``axis`` (of the flattened array when None), as ``np.cumprod``;
    first derivatives are exact at zeros, second derivatives where a slice holds at most one zero.

    >>> cumprod(Tensor([1.0, 2.0, 3.0])).tolist()
    [1.0, 2.0, 6.0]
    """
    return _scan(cumprod_, x, axis)


argmax = op(lambda x, axis=None, keepdims=False: np.argmax(x, axis=axis, keepdims=keepdims), "argmax",
            differentiable=False)
argmin = op(lambda x, axis=None, keepdims=False: np.argmin(x, axis=axis, keepdims=keepdims), "argmin",
            differentiable=False)


def _axes_of(name: str, axis: Any, shape: tuple[int, ...]) -> tuple[int, ...]:
    """``axis`` (None for all, an int or a sequence) as distinct non-negative ints."""
    if axis is None:
        return tuple(range(len(shape)))
    found = tuple(_one_axis(name, a, shape) for a in (axis if isinstance(axis, (tuple, list)) else (axis,)))
    if len(set(found)) != len(found):
        raise ValueError(f"{name}: axis {axis!r} repeats an axis of shape {shape}")
    return found


def swapaxes(x: Any, axis1: int, axis2: int) -> Tensor:
    """Exchange two axes, as ``np.swapaxes``.

    >>> swapaxes(Tensor(np.zeros((2, 3, 4))), 0, 2).shape
    (4, 3, 2)
    """
    shape = _shape(x)
    a, b = _one_axis("swapaxes", axis1, shape), _one_axis("swapaxes", axis2, shape)
    perm = list(range(len(shape)))
    perm[a], perm[b] = b, a
    return transpose(x, tuple(perm))


def moveaxis(x: Any, source: int | Sequence[int], destination: int | Sequence[int]) -> Tensor:
    """Move axes to new positions, the others keeping their order, as ``np.moveaxis``.

    >>> moveaxis(Tensor(np.zeros((2, 3, 4))), 0, -1).shape
    (3, 4, 2)
    """
    shape = _shape(x)
    src, dst = _axes_of("moveaxis", source, shape), _axes_of("moveaxis", destination, shape)
    if len(src) != len(dst):
        raise ValueError(f"moveaxis: source {source!r} and destination {destination!r} name different numbers "
                         f"of axes; give as many of each")
    order = [a for a in range(len(shape)) if a not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return transpose(x, tuple(order))


def flip(x: Any, axis: int | Sequence[int] | None = None) -> Tensor:
    """Reverse the order of entries along ``axis`` (all axes when None), as ``np.flip``.

    >>> flip(Tensor([1.0, 2.0, 3.0])).tolist()
    [3.0, 2.0, 1.0]
    """
    shape = _shape(x)
    axes = _axes_of("flip", axis, shape)
    return getitem(x, tuple(slice(None, None, -1) if a in axes else slice(None) for a in range(len(shape))))


def roll(x: Any, shift: int | Sequence[int], axis: int | Sequence[int] | None = None) -> Tensor:
    """Shift entries cyclically by ``shift`` along ``axis`` (of the flattened array when None), as ``np.roll``.

    >>> roll(Tensor([1.0, 2.0, 3.0]), 1).tolist()
    [3.0, 1.0, 2.0]
    """
    shape = _shape(x)
    if axis is None:
        return reshape(roll(reshape(x, (-1,)), shift, 0), shape)
    try:
        pairs = np.broadcast(np.asarray(shift, dtype=np.int64), np.asarray(axis, dtype=np.int64))
    except (ValueError, TypeError) as e:
        raise ValueError(f"roll: shift {shift!r} and axis {axis!r} must be ints or sequences of one length") from e
    total: dict[int, int] = {}
    for s, a in pairs:
        a = _one_axis("roll", int(a), shape)
        total[a] = total.get(a, 0) + int(s)
    out = x
    for a, s in total.items():
        n = shape[a]
        s = s % n if n else 0
        if s:
            lead = (slice(None),) * a
            out = concatenate([getitem(out, lead + (slice(n - s, None),)), getitem(out, lead + (slice(0, n - s),))],
                              axis=a)
    return out if isinstance(out, Tensor) else reshape(out, shape)


def repeat(x: Any, repeats: int | Sequence[int], axis: int | None = None) -> Tensor:
    """Repeat each entry ``repeats`` times along ``axis`` (of the flattened array when None), as ``np.repeat``.

    >>> repeat(Tensor([1.0, 2.0]), 2).tolist()
    [1.0, 1.0, 2.0, 2.0]
    """
    if axis is None:
        x, axis = reshape(x, (-1,)), 0
    shape = _shape(x)
    a = _one_axis("repeat", axis, shape)
    try:
        index = np.repeat(np.arange(shape[a]), repeats)
    except (ValueError, TypeError) as e:
        raise _engine.builtin_class(e)(f"repeat: cannot repeat the {shape[a]} entries along axis {axis} "
                                       f"{repeats!r} times: {e}") from e
    return getitem(x, (slice(None),) * a + (index,))


def tile(x: Any, reps: int | Sequence[int]) -> Tensor:
    """The array repeated ``reps`` times along each axis, as ``np.tile``.

    >>> tile(Tensor([1.0, 2.0]), 2).tolist()
    [1.0, 2.0, 1.0, 2.0]
    """
    reps = (reps,) if isinstance(reps, (int, np.integer)) else tuple(reps)
    if any(isinstance(r, bool) or not isinstance(r, (int, np.integer)) or r < 0 for r in reps):
        raise ValueError(f"tile: reps {reps!r} must be non-negative ints")
    shape = _shape(x)
    d = builtins.max(len(shape), len(reps))
    shape = (1,) * (d - len(shape)) + shape
    reps = (1,) * (d - len(reps)) + reps
    pairs = tuple(n for r, s in zip(reps, shape) for n in (1, s))
    spread = tuple(n for r, s in zip(reps, shape) for n in (r, s))
    return reshape(broadcast_to(reshape(x, pairs), spread), tuple(r * s for r, s in zip(reps, shape)))


def pad(x: Any, pad_width: Any, mode: str = "constant", constant_values: Any = 0) -> Tensor:
    """Pad with ``constant_values`` (NumPy's forms: one number, or per axis (before, after)), as ``np.pad``
    with ``mode="constant"``, the one mode supported; the gradient flows to ``x``.

    >>> pad(Tensor([1.0, 2.0]), (1, 2)).tolist()
    [0.0, 1.0, 2.0, 0.0, 0.0]
    """
    if mode != "constant":
        raise ValueError(f"pad: mode={mode!r} is not supported; only mode='constant' (with constant_values) is")
    if isinstance(constant_values, Tensor) or (isinstance(constant_values, (list, tuple))
                                                and _holds_tensor(constant_values)):
        raise TypeError("pad: constant_values must be numbers, not Tensors (their gradient would be lost); "
                        "pad with 0 and add the constant Tensor times a mask instead")
    shape = _shape(x)
    try:
        fill = np.pad(np.zeros(shape), pad_width, mode="constant", constant_values=constant_values)
        widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (len(shape), 2))
    except (ValueError, TypeError) as e:
        raise _engine.builtin_class(e)(f"pad: cannot pad shape {shape} with pad_width={pad_width!r}: {e}") from e
    inner = tuple(slice(int(b), int(b) + n) for (b, _), n in zip(widths, shape))
    out = index_add(x, inner, fill.shape)
    return out + fill.astype(out.dtype) if np.any(fill) else out


def _holds_tensor(items: Sequence[Any]) -> bool:
    return any(isinstance(v, Tensor) or (isinstance(v, (list, tuple)) and _holds_tensor(v)) for v in items)


def _split(name: str, x: Any, indices_or_sections: Any, axis: int, equal: bool) -> list[Tensor]:
    shape = _shape(x)
    a = _one_axis(name, axis, shape)
    n = shape[a]
    if isinstance(indices_or_sections, (int, np.integer)):
        k = int(indices_or_sections)
        if k <= 0:
            raise ValueError(f"{name}: the number of sections must be at least 1, got {k}")
        if equal and n % k:
            raise ValueError(f"split: the {n} entries along axis {axis} of shape {shape} do not split into {k} "
                             f"equal sections; use tg.array_split for unequal ones")
        each, extra = divmod(n, k)
        sizes = [each + 1] * extra + [each] * (k - extra)
        bounds = [0, *np.cumsum(sizes).tolist()]
    else:
        bounds = [0, *(int(i) for i in indices_or_sections), n]
    lead = (slice(None),) * a
    return [getitem(x, lead + (slice(lo, hi),)) for lo, hi in zip(bounds[:-1], bounds[1:])]


def split(x: Any, indices_or_sections: int | Sequence[int], axis: int = 0) -> list[Tensor]:
    """A list of Tensors: ``x`` cut into equal sections, or at the given indices, along ``axis`` (``np.split``).

    >>> [p.tolist() for p in split(Tensor([1.0, 2.0, 3.0, 4.0]), 2)]
    [[1.0, 2.0], [3.0, 4.0]]
    """
    return _split("split", x, indices_or_sections, axis, equal=True)


def array_split(x: Any, indices_or_sections: int | Sequence[int], axis: int = 0) -> list[Tensor]:
    """As :func:`split`, but sections may be unequal (the first ones one longer), as ``np.array_split``.

    >>> [p.tolist() for p in array_split(Tensor([1.0, 2.0, 3.0]), 2)]
    [[1.0, 2.0], [3.0]]
    """
    return _split("array_split", x, indices_or_sections, axis, equal=False)


def _at_least(x: Any, shape: tuple[int, ...]) -> Tensor:
    return x if isinstance(x, Tensor) and x.shape == shape else reshape(x, shape)


def atleast_1d(*arys: Any) -> Tensor | tuple[Tensor, ...]:
    """Each input as a Tensor with at least 1 axis (one Tensor for one input, else a tuple), as ``np.atleast_1d``.

    >>> atleast_1d(Tensor(2.0)).shape
    (1,)
    """
    out = tuple(_at_least(a, _shape(a) or (1,)) for a in arys)
    return out[0] if len(out) == 1 else out


def atleast_2d(*arys: Any) -> Tensor | tuple[Tensor, ...]:
    """Each input with at least 2 axes, a vector becoming a row (1, n), as ``np.atleast_2d``.

    >>> atleast_2d(Tensor([1.0, 2.0])).shape
    (1, 2)
    """
    out = tuple(_at_least(a, ((1,) * (2 - len(_shape(a))) + _shape(a)) if len(_shape(a)) < 2 else _shape(a))
                for a in arys)
    return out[0] if len(out) == 1 else out


def _listed(name: str, tensors: Any) -> list[Any]:
    if isinstance(tensors, Tensor) or not isinstance(tensors, Sequence) or not tensors:
        raise TypeError(f"{name}: needs a non-empty list or tuple of arrays/Tensors, got {type(tensors).__name__}")
    return list(tensors)


def hstack(tensors: Sequence[Any]) -> Tensor:
    """Join along the second axis (the first for vectors), as ``np.hstack``.

    >>> hstack([Tensor([1.0]), Tensor([2.0, 3.0])]).tolist()
    [1.0, 2.0, 3.0]
    """
    parts = [atleast_1d(t) for t in _listed("hstack", tensors)]
    return concatenate(parts, axis=0 if parts[0].ndim == 1 else 1)


def vstack(tensors: Sequence[Any]) -> Tensor:
    """Join along the first axis, vectors as rows, as ``np.vstack``.

    >>> vstack([Tensor([1.0, 2.0]), Tensor([3.0, 4.0])]).shape
    (2, 2)
    """
    return concatenate([atleast_2d(t) for t in _listed("vstack", tensors)], axis=0)


def ravel(x: Any) -> Tensor:
    """The entries as a 1-D Tensor, as ``np.ravel``.

    >>> ravel(Tensor([[1.0, 2.0], [3.0, 4.0]])).tolist()
    [1.0, 2.0, 3.0, 4.0]
    """
    return reshape(x, (-1,))
