"""Constructors: ``tensor``, ``zeros``, ``ones``, ``full``, ``eye``, ``arange``, ``linspace``, ``randn``, ``rand``.

Each takes ``requires_grad``, ``dtype`` (float64 by default) and ``name`` like ``Tensor``.
Shapes may be given as ``zeros(2, 3)`` or ``zeros((2, 3))``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .tensor import Tensor, _shape_arg

__all__ = ["tensor", "zeros", "ones", "full", "eye", "arange", "linspace", "randn", "rand", "as_rng"]


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
