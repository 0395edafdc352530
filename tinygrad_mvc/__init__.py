"""tinygrad_mvc: a small reverse-mode automatic-differentiation framework on NumPy.

>>> import tinygrad_mvc as tg
>>> x = tg.tensor([1.0, 2.0], requires_grad=True)
>>> (x ** 3).sum().backward()
>>> x.grad
Tensor([ 3., 12.])

The pieces: :mod:`.tensor` (the Tensor), :mod:`.engine` (recording and backward),
:mod:`.ops` (every op and its derivative rule), :mod:`.forward` (forward mode),
:mod:`.transforms` (grad, jvp, jacobian, hessian, ...), :mod:`.taylor`, :mod:`.finite_diff` and
:mod:`.gradcheck`; :mod:`.nn`, :mod:`.losses` and :mod:`.optim` for networks. :mod:`.optimize`
(roots, minima, Lagrange multipliers), :mod:`.fit` (chi-squared fitting), :mod:`.viz` and :mod:`.cli`
load on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from . import datasets, finite_diff, losses, nn, optim
from .creation import arange, as_rng, eye, full, linspace, ones, rand, randn, tensor, zeros
from .engine import (
    Primitive,
    detect_anomaly,
    enable_grad,
    is_anomaly_enabled,
    is_grad_enabled,
    no_grad,
    primitive,
    set_grad_enabled,
)
from .gradcheck import GradcheckError, gradcheck
from .ops import (
    abs,
    arccos,
    arccosh,
    arcsin,
    arcsinh,
    arctan,
    arctan2,
    arctanh,
    argmax,
    argmin,
    array_split,
    astype,
    atleast_1d,
    atleast_2d,
    broadcast_to,
    ceil,
    clip,
    concatenate,
    cos,
    cosh,
    cumprod,
    cumsum,
    exp,
    exp2,
    expand_dims,
    expm1,
    flip,
    floor,
    fmod,
    hstack,
    hypot,
    log,
    log1p,
    log2,
    log10,
    log_softmax,
    logsumexp,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    mod,
    moveaxis,
    pad,
    power,
    prod,
    ravel,
    reciprocal,
    relu,
    remainder,
    repeat,
    reshape,
    roll,
    round,
    sigmoid,
    sign,
    sin,
    sinc,
    sinh,
    softmax,
    softplus,
    split,
    sqrt,
    square,
    squeeze,
    stack,
    std,
    sum,
    swapaxes,
    tan,
    tanh,
    tile,
    transpose,
    trunc,
    var,
    vstack,
    where,
)
from .taylor import TaylorApproximation, taylor
from .tensor import Tensor
from .transforms import elementwise_grad, grad, hessian, hvp, jacobian, jvp, linearize, value_and_grad, vjp

# ----- issue 15 "Vocabulary": pytrees and PyTorch habits (zeros_like..., cat, optim.lr_scheduler) -----
# isort: split
from . import lr_scheduler, pytree  # tg.optim.lr_scheduler is the same module
from .creation import full_like, ones_like, randn_like, zeros_like


def cat(tensors: Any, dim: int | None = None, *, axis: int | None = None) -> Tensor:
    """PyTorch's name for :func:`concatenate`; takes PyTorch's ``dim`` or NumPy's ``axis`` (default 0).

    >>> cat([ones(2), zeros(1)], dim=0).tolist()
    [1.0, 1.0, 0.0]
    """
    if dim is not None and axis is not None and dim != axis:
        raise TypeError(f"cat: dim={dim} and axis={axis} disagree; give one of them")
    return concatenate(tensors, axis=0 if dim is None and axis is None else (dim if dim is not None else axis))
_VOCABULARY_15 = ["zeros_like", "ones_like", "full_like", "randn_like", "cat"]
# ----- end of issue 15 -----

__version__ = "0.1.0"

# ---- issue 15: tg.linalg and the contractions (one block, kept apart from the imports above to merge easily)
from . import linalg  # noqa: E402
from .linalg import diag, diagonal, dot, einsum, inner, outer, tensordot, trace, tril, triu  # noqa: E402

# ---- end of tg.linalg

# Submodules that pull in plotting or graphviz load on first use: `import tinygrad_mvc` stays light.
_LAZY = ("viz", "cli", "expr", "optimize", "fit")


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'tinygrad_mvc' has no attribute {name!r}")


__all__ = [
    "Tensor", "Primitive", "primitive", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
    "detect_anomaly", "is_anomaly_enabled",
    "tensor", "zeros", "ones", "full", "eye", "arange", "linspace", "randn", "rand", "as_rng",
    "exp", "log", "sqrt", "sin", "cos", "tan", "tanh", "sigmoid", "relu", "softplus", "abs", "clip", "sign",
    "maximum", "minimum", "where", "sum", "mean", "max", "min", "prod", "var", "logsumexp", "softmax",
    "log_softmax", "reshape", "transpose", "squeeze", "expand_dims", "broadcast_to", "concatenate", "stack",
    "matmul", "astype", "finite_diff", "nn", "losses", "optim", "datasets", "gradcheck", "GradcheckError",
    "grad", "value_and_grad", "vjp", "jvp", "linearize", "jacobian", "hessian", "hvp", "elementwise_grad", "taylor",
    "TaylorApproximation",
    # issue 15, tg.linalg and contractions
    "linalg", "dot", "inner", "outer", "tensordot", "einsum", "trace", "diag", "diagonal", "tril", "triu",
]
__all__ += _VOCABULARY_15  # issue 15
# ---- vocabulary (issue 15)
__all__ += [
    "sinh", "cosh", "arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh", "log1p", "expm1", "log2", "log10",
    "exp2", "square", "reciprocal", "sinc", "floor", "ceil", "round", "trunc", "mod", "remainder", "fmod", "arctan2",
    "hypot", "power", "std", "cumsum", "cumprod", "argmax", "argmin", "swapaxes", "moveaxis", "flip", "roll",
    "repeat", "tile", "pad", "split", "array_split", "hstack", "vstack", "ravel", "atleast_1d", "atleast_2d",
]
# ---- issue 18 (malloc18): the opt-in allocator setting
from .engine import tune_allocator  # noqa: E402

__all__ += ["tune_allocator"]

# ---- issue 18: tg.compile (one block)
from .compile import Compiled, compile  # noqa: E402

__all__ += ["compile", "Compiled"]
# ---- end of tg.compile
