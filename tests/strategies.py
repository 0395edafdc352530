"""Hypothesis strategies for the op tests: shapes, broadcasting pairs, axes, indices and value domains.

Every array is float64 and small (sides 1..4, at most 3 dims unless a test asks for more), so a
second-order gradcheck of one op stays in the milliseconds. Domains keep finite differences valid:
positive values for ``log``/``sqrt``/``pow`` bases, divisors bounded away from 0, and values on a
grid with a margin from every kink for ``relu``/``abs``/``clip``/``max``/``min``/``maximum``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

MAX_SIDE = 4
MAX_DIMS = 3

# ----------------------------------------------------------------------------- shapes


def shapes(min_dims: int = 0, max_dims: int = MAX_DIMS, min_side: int = 1, max_side: int = MAX_SIDE) -> Any:
    """Array shapes, 0-d scalars and size-1 axes included."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def broadcast_shapes(num_shapes: int = 2, min_dims: int = 0, max_dims: int = MAX_DIMS) -> Any:
    """A tuple of ``num_shapes`` shapes that broadcast together (different ranks, 1s against n)."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=MAX_SIDE,
    ).map(lambda b: b.input_shapes)


def matmul_shapes() -> Any:
    """Operand shapes for ``np.matmul``: 1-D and batched operands, broadcast batch dimensions."""
    return hnp.mutually_broadcastable_shapes(
        signature=np.matmul.signature, max_dims=2, min_side=1, max_side=3,
    ).map(lambda b: b.input_shapes)


@st.composite
def axes(draw: Any, ndim: int, allow_none: bool = True, allow_tuple: bool = True) -> Any:
    """An ``axis`` argument for rank ``ndim``: None, an int (possibly negative) or a tuple of them."""
    kinds = (["none"] if allow_none else []) + (["int"] if ndim else []) + (["tuple"] if ndim and allow_tuple else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "none":
        return None

    def signed(a: int) -> int:
        return a - ndim if draw(st.booleans()) else a

    if kind == "int":
        return signed(draw(st.integers(0, ndim - 1)))
    chosen = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    return tuple(signed(a) for a in chosen)


def reduced_count(shape: tuple[int, ...], axis: Any) -> int:
    """How many entries a reduction over ``axis`` combines."""
    if axis is None:
        return int(np.prod(shape, dtype=np.int64))
    axis = (axis,) if isinstance(axis, int) else axis
    return int(np.prod([shape[a] for a in axis], dtype=np.int64))


# ----------------------------------------------------------------------------- values


def reals(shape: tuple[int, ...], lo: float = -2.0, hi: float = 2.0) -> Any:
    """Floats uniformly in ``[lo, hi]``."""
    return hnp.arrays(np.float64, shape, elements=st.floats(lo, hi, allow_nan=False, allow_infinity=False,
                                                            allow_subnormal=False))


def positives(shape: tuple[int, ...], lo: float = 0.2, hi: float = 3.0) -> Any:
    """Floats in ``[lo, hi]`` with ``lo > 0``: the domain of ``log``, ``sqrt`` and ``pow`` bases."""
    return reals(shape, lo, hi)


@st.composite
def nonzeros(draw: Any, shape: tuple[int, ...], lo: float = 0.5, hi: float = 2.0) -> np.ndarray:
    """Floats with ``lo <= |x| <= hi`` of either sign: divisors and ``prod`` factors."""
    mag = draw(reals(shape, lo, hi))
    sign = draw(hnp.arrays(np.bool_, shape))
    return np.where(sign, -mag, mag)


@st.composite
def grid(draw: Any, shape: tuple[int, ...], offset: float = 0.05, spacing: float = 0.1, lo: int = -15,
         hi: int = 15, unique: bool = False) -> np.ndarray:
    """Values ``k * spacing + offset`` for integers ``k`` in ``[lo, hi]``.

    With the default offset no value is within 0.05 of 0 or of any other grid point ``k * spacing``
    (where a test puts ``lo``/``hi`` of ``clip``), and with ``unique=True`` no two values tie. Central
    differences take steps of about 1e-5, so every kink stays far outside them.
    """
    size = int(np.prod(shape, dtype=np.int64))
    if unique:
        hi = max(hi, lo + size)
    ks = draw(hnp.arrays(np.int64, shape, elements=st.integers(lo, hi), unique=unique))
    return ks * spacing + offset


def arrays(domain: str, shape: tuple[int, ...]) -> Any:
    """Arrays of ``shape`` in a named domain (see the module docstring)."""
    if domain == "real":
        return reals(shape)
    if domain == "wide":
        return reals(shape, -3.0, 3.0)
    if domain == "positive":
        return positives(shape)
    if domain == "nonzero":
        return nonzeros(shape)
    if domain == "nearone":  # products of up to 64 factors stay between about 1e-10 and 1e10
        return nonzeros(shape, 0.7, 1.4)
    if domain == "tan":
        return reals(shape, -1.2, 1.2)
    if domain == "exponent":
        return reals(shape, -2.0, 2.0)
    if domain == "kinkfree":
        return grid(shape)
    if domain == "distinct":
        return grid(shape, unique=True)
    if domain == "above":  # against "below": every difference is at least 0.04
        return grid(shape, offset=0.03)
    if domain == "below":
        return grid(shape, offset=-0.03)
    raise ValueError(f"unknown domain {domain!r}")


# ----------------------------------------------------------------------------- indices


@st.composite
def int_array(draw: Any, side: int, length: int | None = None, repeat: bool = True) -> np.ndarray:
    """A 1-D integer index for an axis of ``side``, negative indices and (by default) a repeat included."""
    n = length if length is not None else draw(st.integers(1, 4))
    ks = draw(st.lists(st.integers(-side, side - 1), min_size=n, max_size=n))
    if repeat and n >= 2:
        ks[-1] = ks[0]  # a repeated entry: its gradient must accumulate
    return np.array(ks, dtype=np.intp)


@st.composite
def slices(draw: Any, side: int) -> slice:
    """A slice with any start/stop (None included) and a nonzero step, negative steps included."""
    bound = st.none() | st.integers(-side - 1, side + 1)
    step = draw(st.none() | st.integers(-3, 3).filter(bool))
    return slice(draw(bound), draw(bound), step)


@st.composite
def mixed_indices(draw: Any, shape: tuple[int, ...]) -> tuple[Any, ...]:
    """A tuple mixing ints, slices, integer arrays (with repeats), one boolean mask, None and Ellipsis."""
    ndim = len(shape)
    k = draw(st.integers(0, ndim))
    ellipsis_at = draw(st.none() | st.integers(0, k))
    if ellipsis_at is None:
        axes_used = list(range(k))
    else:
        axes_used = list(range(ellipsis_at)) + list(range(ndim - (k - ellipsis_at), ndim))
    kinds = draw(st.lists(st.sampled_from(["int", "slice", "array", "mask"]), min_size=k, max_size=k))
    if kinds.count("mask") > 1 or ("mask" in kinds and "array" in kinds):
        kinds = ["slice" if kd == "mask" else kd for kd in kinds]  # keep advanced indices broadcastable
    length = draw(st.integers(1, 3))
    parts: list[Any] = []
    for ax, kind in zip(axes_used, kinds):
        side = shape[ax]
        if kind == "int":
            parts.append(draw(st.integers(-side, side - 1)))
        elif kind == "slice":
            parts.append(draw(slices(side)))
        elif kind == "array":
            parts.append(draw(int_array(side, length=length)))
        else:
            parts.append(draw(hnp.arrays(np.bool_, (side,))))
    if ellipsis_at is not None:
        parts.insert(ellipsis_at, Ellipsis)
    for _ in range(draw(st.integers(0, 2))):
        parts.insert(draw(st.integers(0, len(parts))), None)
    return tuple(parts)


@st.composite
def indices(draw: Any, shape: tuple[int, ...]) -> Any:
    """Any NumPy index valid for ``shape``: basic, integer arrays, boolean masks or a mixed tuple."""
    kind = draw(st.sampled_from(["basic", "array", "mask", "mixed"] if shape else ["basic", "mask"]))
    if kind == "basic":
        return draw(hnp.basic_indices(shape, min_dims=0, allow_newaxis=True, allow_ellipsis=True))
    if kind == "array":
        return draw(int_array(shape[0]))
    if kind == "mask":
        lead = draw(st.integers(0 if not shape else 1, len(shape)))
        return draw(hnp.arrays(np.bool_, shape[:lead]))
    return draw(mixed_indices(shape))
