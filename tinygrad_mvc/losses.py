"""Loss functions, written with the differentiable ops of :mod:`tinygrad_mvc.ops`.

Predictions are Tensors (or arrays); targets, labels and σ are data, never differentiated. Shapes must
match exactly where a loss compares two arrays entry by entry: a ``(n, 1)`` prediction against ``(n,)``
targets would otherwise broadcast to ``(n, n)`` and give a silently wrong loss.

>>> import tinygrad_mvc as tg
>>> float(tg.losses.mse(tg.tensor([1.0, 2.0]), [0.0, 0.0]))
2.5
>>> float(tg.losses.chi_squared(tg.tensor([1.0, 2.0]), [0.0, 0.0], sigma=2.0))
1.25
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from . import ops
from .tensor import Tensor

__all__ = ["chi_squared", "mse", "cross_entropy", "binary_cross_entropy_with_logits", "hinge"]

REDUCTIONS = ("mean", "sum", "none")


def _as_tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def _data(x: Any, loss: str, what: str) -> np.ndarray:
    """Targets and labels as an array (they are constants of the loss, never differentiated).

    Inside ``tg.compile`` an argument arrives as the trace's own array class; it is kept (not ``np.asarray``'d
    into a plain view), so the NumPy the loss does with it is recorded and the replay reads each call's labels,
    not the first call's. Checks on the values go through :func:`_values`, which the trace does not record.
    """
    arr = x.data if isinstance(x, Tensor) else x
    if not isinstance(arr, _traced()):
        arr = np.asarray(arr)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{loss}: {what} must be numbers, got dtype {arr.dtype}")
    return arr


@functools.cache
def _traced() -> type:
    from .compile import _Traced  # here, not at the top: compile imports the modules this one is imported by

    return _Traced


def _values(arr: np.ndarray) -> np.ndarray:
    """``arr`` as a plain array, for checks that must not become part of a compiled replay."""
    return arr if type(arr) is np.ndarray else arr.view(np.ndarray)


def _same_shape(loss: str, pred: Tensor, what: str, target: np.ndarray) -> None:
    if pred.shape != target.shape:
        hint = ""
        if pred.size == target.size:
            hint = f"; reshape one to match, e.g. {what}.reshape({pred.shape})"
        raise ValueError(f"{loss}: predictions have shape {pred.shape} but {what} have shape {target.shape}{hint}")


def _reduce(loss: str, values: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return values.mean()
    if reduction == "sum":
        return values.sum()
    if reduction == "none":
        return values
    raise ValueError(f"{loss}: reduction must be one of {', '.join(REDUCTIONS)}, got {reduction!r}")


def chi_squared(pred: Any, target: Any, sigma: Any = None) -> Tensor:
    """χ² = Σ ((pred − target) / σ)², a scalar; ``sigma`` is None (σ = 1), a scalar, or one per point.

    >>> float(chi_squared(Tensor([1.0, 3.0]), [0.0, 0.0], sigma=[1.0, 3.0]))
    2.0
    """
    pred = _as_tensor(pred)
    target = _data(target, "chi_squared", "target")
    _same_shape("chi_squared", pred, "target", target)
    residual = pred - target
    if sigma is None:
        return (residual * residual).sum()
    s = _data(sigma, "chi_squared", "sigma")
    if s.ndim and s.shape != pred.shape:
        raise ValueError(f"chi_squared: sigma has shape {s.shape}; give a scalar or one per point, "
                         f"shape {pred.shape}")
    bad = ~(_values(s) > 0)  # catches NaN too
    if bad.any():
        raise ValueError(f"chi_squared: sigma must be positive; {int(bad.sum())} of {s.size} value(s) are not, "
                         f"e.g. {np.ravel(s)[np.flatnonzero(bad)[0]]}")
    weighted = residual * (1.0 / s).astype(pred.dtype)
    return (weighted * weighted).sum()


def mse(pred: Any, target: Any, reduction: str = "mean") -> Tensor:
    """Mean (or sum) of squared differences; ``pred`` and ``target`` have the same shape.

    >>> float(mse(Tensor([1.0, -1.0]), [0.0, 1.0]))
    2.5
    """
    pred = _as_tensor(pred)
    target = _data(target, "mse", "target")
    _same_shape("mse", pred, "target", target)
    residual = pred - target
    return _reduce("mse", residual * residual, reduction)


def cross_entropy(logits: Any, labels: Any, reduction: str = "mean") -> Tensor:
    """Softmax cross-entropy of ``(n, C)`` logits against integer labels ``(n,)`` or class probabilities ``(n, C)``.

    Computed through ``log_softmax``, so logits like ±1000 give finite losses and gradients.

    >>> round(float(cross_entropy(Tensor([[1000.0, -1000.0]]), [1])), 3)
    2000.0
    """
    logits = _as_tensor(logits)
    if logits.ndim != 2:
        raise ValueError(f"cross_entropy: logits must have shape (n, classes), got {logits.shape}")
    n, classes = logits.shape
    labels = _data(labels, "cross_entropy", "labels")
    if labels.shape == (n,):
        if labels.dtype.kind == "f" and not np.array_equal(_values(labels), np.round(_values(labels))):
            raise ValueError("cross_entropy: labels of shape (n,) must be integer class indices")
        idx = labels.astype(np.intp)
        checked = _values(idx)
        if n and (checked.min() < 0 or checked.max() >= classes):
            raise ValueError(f"cross_entropy: labels must lie in 0..{classes - 1} for {classes} classes, "
                             f"got {checked.min()}..{checked.max()}")
        return _reduce("cross_entropy", ops.softmax_cross_entropy(logits, idx), reduction)
    if labels.shape == (n, classes):
        logp = ops.log_softmax(logits, axis=1)
        return _reduce("cross_entropy", -(logp * labels.astype(logits.dtype)).sum(axis=1), reduction)
    raise ValueError(f"cross_entropy: logits have shape {logits.shape}, so labels must have shape ({n},) "
                     f"(class indices) or ({n}, {classes}) (one-hot or probabilities), got {labels.shape}")


def binary_cross_entropy_with_logits(logits: Any, targets: Any, reduction: str = "mean") -> Tensor:
    """−[y·log σ(z) + (1−y)·log(1−σ(z))] for logits z and targets y in [0, 1], computed as softplus(z) − y·z.

    That form never takes the log of a rounded-off probability, so it is finite for any z.

    >>> round(float(binary_cross_entropy_with_logits(Tensor([0.0]), [1.0])), 4)
    0.6931
    """
    logits = _as_tensor(logits)
    y = _data(targets, "binary_cross_entropy_with_logits", "targets")
    _same_shape("binary_cross_entropy_with_logits", logits, "targets", y)
    checked = _values(y)
    if y.size and (checked.min() < 0 or checked.max() > 1):
        raise ValueError("binary_cross_entropy_with_logits: targets must lie in [0, 1], "
                         f"got {checked.min()}..{checked.max()}")
    return _reduce("binary_cross_entropy_with_logits", ops.softplus(logits) - logits * y.astype(logits.dtype),
                   reduction)


def hinge(scores: Any, labels: Any, reduction: str = "mean") -> Tensor:
    """The max-margin (SVM) loss max(0, 1 − y·s) for scores s and labels y of ±1.

    >>> float(hinge(Tensor([2.0, 0.5]), [1, 1]))
    0.25
    """
    scores = _as_tensor(scores)
    y = _data(labels, "hinge", "labels")
    _same_shape("hinge", scores, "labels", y)
    if (np.abs(_values(y)) != 1).any():
        raise ValueError(f"hinge: labels must be -1 or +1, got values {np.unique(_values(y))[:5].tolist()}")
    return _reduce("hinge", ops.hinge(scores, y.astype(scores.dtype, copy=False)), reduction)
