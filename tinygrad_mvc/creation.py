"""Constructors: ``tensor``, ``zeros``, ``ones``, ``full``, ``eye``, ``arange``, ``linspace``, ``randn``, ``rand``,
and PyTorch's ``zeros_like``, ``ones_like``, ``full_like``, ``randn_like``.

Each takes ``requires_grad``, ``dtype`` (float64 by default) and ``name`` like ``Tensor``.
Shapes may be given as ``zeros(2, 3)`` or ``zeros((2, 3))``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .tensor import Tensor, _shape_arg

__all__ = ["tensor", "zeros", "ones", "full", "eye", "arange", "linspace", "randn", "rand", "as_rng",
           "zeros_like", "ones_like", "full_like", "randn_like"]


def tensor(data: Any, **kwargs: Any) -> Tensor:
    """Same as ``Tensor(data, **kwargs)``.

    >>> tensor([1, 2]).dtype
    dtype('float64')
    """
    return Tensor(data, **kwargs)


def _make(arr: np.ndarray, dtype: Any, kwargs: dict[str, Any]) -> Tensor:
    return Tensor(arr, dtype=np.float64 if dtype is None else dtype, **kwargs)


def zeros(*shape: Any, dtype: Any = None, **kwargs: Any) -> Tensor:
    """A tensor of zeros: ``zeros(2, 3)``."""
    return _make(np.zeros(_shape_arg(shape)), dtype, kwargs)


def ones(*shape: Any, dtype: Any = None, **kwargs: Any) -> Tensor:
    """A tensor of ones: ``ones(2, 3)``."""
    return _make(np.ones(_shape_arg(shape)), dtype, kwargs)


def full(shape: Any, fill_value: float, dtype: Any = None, **kwargs: Any) -> Tensor:
    """A tensor filled with ``fill_value``: ``full((2, 3), 7.0)``."""
    return _make(np.full(shape, fill_value), dtype, kwargs)


def eye(n: int, m: int | None = None, dtype: Any = None, **kwargs: Any) -> Tensor:
    """The identity matrix (n x m)."""
    return _make(np.eye(n, m), dtype, kwargs)


def arange(*args: Any, dtype: Any = None, **kwargs: Any) -> Tensor:
    """Like ``np.arange(start, stop, step)``, as floats unless ``dtype`` says otherwise."""
    return _make(np.arange(*args), dtype, kwargs)


def linspace(start: float, stop: float, num: int = 50, dtype: Any = None, **kwargs: Any) -> Tensor:
    """``num`` evenly spaced points from ``start`` to ``stop`` inclusive."""
    return _make(np.linspace(start, stop, num), dtype, kwargs)


def as_rng(rng: Any = None) -> np.random.Generator:
    """A ``np.random.Generator`` from a seed, a Generator, or None (fresh entropy)."""
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(rng)


def randn(*shape: Any, rng: Any = None, dtype: Any = None, **kwargs: Any) -> Tensor:
    """Standard normal samples; ``rng`` is a seed or a ``np.random.Generator``."""
    return _make(as_rng(rng).standard_normal(_shape_arg(shape)), dtype, kwargs)


def rand(*shape: Any, rng: Any = None, dtype: Any = None, **kwargs: Any) -> Tensor:
    """Uniform samples in [0, 1); ``rng`` is a seed or a ``np.random.Generator``."""
    return _make(as_rng(rng).random(_shape_arg(shape)), dtype, kwargs)


# ----------------------------------------------------------------------------- *_like (PyTorch's names)
# The shape of a Tensor or array; its dtype when that is a float, else float64 (as Tensor() makes
# integers float64), unless ``dtype`` says otherwise. Never part of the graph: ``requires_grad=True``
# makes a new leaf.

def _like(x: Any, dtype: Any) -> tuple[tuple[int, ...], Any]:
    data = x.data if isinstance(x, Tensor) else np.asarray(x)
    if dtype is None:
        dtype = data.dtype if data.dtype.kind == "f" else np.float64
    return data.shape, dtype


def zeros_like(x: Any, dtype: Any = None, **kwargs: Any) -> Tensor:
    """Zeros of ``x``'s shape (and float dtype): ``zeros_like(w, requires_grad=True)``.

    >>> zeros_like(np.ones((2, 3), dtype=np.float32)).dtype
    dtype('float32')
    """
    shape, dtype = _like(x, dtype)
    return Tensor(np.zeros(shape, dtype=dtype), dtype=dtype, **kwargs)


def ones_like(x: Any, dtype: Any = None, **kwargs: Any) -> Tensor:
    """Ones of ``x``'s shape: ``ones_like(tensor([1, 2]))`` is ``Tensor([1., 1.])``.

    >>> ones_like(tensor([1, 2]))
    Tensor([1., 1.])
    """
    shape, dtype = _like(x, dtype)
    return Tensor(np.ones(shape, dtype=dtype), dtype=dtype, **kwargs)


def full_like(x: Any, fill_value: float, dtype: Any = None, **kwargs: Any) -> Tensor:
    """``fill_value`` in ``x``'s shape.

    >>> full_like(np.zeros(2), 7.0)
    Tensor([7., 7.])
    """
    shape, dtype = _like(x, dtype)
    return Tensor(np.full(shape, fill_value, dtype=dtype), dtype=dtype, **kwargs)


def randn_like(x: Any, rng: Any = None, dtype: Any = None, **kwargs: Any) -> Tensor:
    """Standard normal samples in ``x``'s shape; ``rng`` is a seed or a ``np.random.Generator``.

    >>> randn_like(np.zeros((2, 2)), rng=0).shape
    (2, 2)
    """
    shape, dtype = _like(x, dtype)
    return Tensor(as_rng(rng).standard_normal(shape).astype(dtype), dtype=dtype, **kwargs)
