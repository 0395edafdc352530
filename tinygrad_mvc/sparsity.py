"""Sparse Hessians: the Hessian's pattern read from the graph, coloured columns, a few HVPs.

``tg.hessian(f, sparsity="auto")`` uses three steps, each here:

1. :func:`hessian_pattern` walks the recorded graph of ``f`` from its input to its output, keeping
   for every entry of every node the set of input entries it depends on (its *index domain*). An
   elementwise op keeps entry-wise dependence, a reduction or a matmul merges it, an op that only
   moves entries (reshape, indexing, concatenate, tril...) moves it. Every op that is non-linear
   adds the pairs of input entries that meet in it: ∂²f/∂xᵢ∂xⱼ can be nonzero only if xᵢ and xⱼ
   meet in such an op (``mul`` adds only the pairs across its two inputs: it is bilinear). Ops it
   cannot analyse (a user's primitive, linear algebra) are taken as dense: every output entry
   depends on every input entry and all their pairs meet. The pattern is therefore a superset of
   the Hessian's nonzeros.
2. :func:`colour` colours the columns so that no two columns of one colour have a nonzero in the
   same row (distance-2 colouring): one Hessian-vector product along the sum of a colour's basis
   vectors then holds every one of its columns, untangled. A banded pattern of half-bandwidth b
   takes 2b + 1 colours (Rosenbrock's tridiagonal Hessian: 3).
3. :func:`recover` places each HVP's entries back in the dense Hessian.

>>> import numpy as np
>>> p = np.eye(4, dtype=bool) | np.eye(4, k=1, dtype=bool) | np.eye(4, k=-1, dtype=bool)
>>> colour(pattern_pairs(p)[0], pattern_pairs(p)[1], 4).tolist()   # tridiagonal: 3 colours
[0, 1, 2, 0]
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

import numpy as np

from .ops import _axes, _shape  # the table's own readings of shapes and axis options
from .tensor import Tensor

__all__ = ["hessian_pattern", "pattern_pairs", "colour", "seeds", "recover", "PatternCache", "DENSE_FRACTION"]

DENSE_FRACTION = 0.5
"""A pattern with more than this fraction of the n² entries is called dense: the dense Hessian is then used
(so is a pattern that needs as many colours as there are columns)."""


class _Dense(Exception):
    """The pattern is (or would be) too dense to pay: fall back to the dense Hessian."""


# ----------------------------------------------------------------------------- index domains
# A node's dependence is a sparse boolean matrix (entries of the node × entries of the input), kept
# as sorted, unique (row, col) pairs in two int64 arrays plus the number of rows.

_EMPTY = np.zeros(0, dtype=np.int64)


class _Dep:
    __slots__ = ("rows", "cols", "size")

    def __init__(self, rows: np.ndarray, cols: np.ndarray, size: int) -> None:
        self.rows, self.cols, self.size = rows, cols, size

    def counts(self) -> np.ndarray:
        return np.bincount(self.rows, minlength=self.size)


def _sorted_unique(key: np.ndarray) -> np.ndarray:
    """np.unique for int64 keys by one sort (NumPy 2's np.unique hashes first, several times slower here)."""
    key = np.sort(key)
    if key.size > 1:
        key = key[np.concatenate(([True], key[1:] != key[:-1]))]
    return key


def _unique(rows: np.ndarray, cols: np.ndarray, size: int, n: int) -> _Dep:
    key = _sorted_unique(rows * n + cols)
    return _Dep(key // n, key % n, size)


def _gather(d: _Dep, idx: np.ndarray) -> _Dep:
    """Entry o of the result depends on what entry ``idx[o]`` of ``d`` depends on (nothing where -1)."""
    counts = d.counts()
    starts = np.concatenate(([0], np.cumsum(counts)[:-1])) if d.size else _EMPTY
    ok = idx >= 0
    safe = np.where(ok, idx, 0)
    c = np.where(ok, counts[safe] if d.size else 0, 0)
    total = int(c.sum())
    rows = np.repeat(np.arange(idx.size), c)
    first = np.cumsum(c) - c
    pos = np.arange(total) - np.repeat(first, c) + np.repeat(starts[safe] if d.size else _EMPTY, c)
    return _Dep(rows, d.cols[pos], idx.size)


def _merge(d: _Dep, target: np.ndarray, size: int, n: int) -> _Dep:
    """Entry o of the result depends on the union over the entries i of ``d`` with ``target[i] == o``."""
    t = target[d.rows]
    keep = t >= 0
    return _unique(t[keep], d.cols[keep], size, n)


def _union(deps: list[_Dep], size: int, n: int) -> _Dep:
    deps = [d for d in deps if d.rows.size]
    if not deps:
        return _Dep(_EMPTY, _EMPTY, size)
    if len(deps) == 1:
        return deps[0]
    return _unique(np.concatenate([d.rows for d in deps]), np.concatenate([d.cols for d in deps]), size, n)


def _cross(a: _Dep, b: _Dep, limit: float) -> tuple[np.ndarray, np.ndarray]:
    """All pairs (p, q) with p in row o of ``a`` and q in row o of ``b``, over every row o."""
    cb = b.counts()
    starts = np.concatenate(([0], np.cumsum(cb)[:-1]))
    reps = cb[a.rows]
    total = int(reps.sum())
    if total > limit:
        raise _Dense
    first = np.cumsum(reps) - reps
    pos = np.arange(total) - np.repeat(first, reps) + np.repeat(starts[a.rows], reps)
    return np.repeat(a.cols, reps), b.cols[pos]


class _Pairs:
    """The pattern being collected: pairs of input entries that meet in a non-linear op."""

    def __init__(self, n: int) -> None:
        self.n, self.parts, self.count = n, [], 0
        self.limit = max(4 * n * n * DENSE_FRACTION, 1024)

    def add(self, p: np.ndarray, q: np.ndarray) -> None:
        if p.size:
            self.parts.append(p * self.n + q)
            self.count += p.size
            if self.count > self.limit:
                key = _sorted_unique(np.concatenate(self.parts))
                if key.size > self.n * self.n * DENSE_FRACTION:
                    raise _Dense
                self.parts, self.count = [key], key.size

    def all_pairs(self, d: _Dep) -> None:
        self.add(*_cross(d, d, self.limit))

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        n = self.n
        key = np.concatenate(self.parts) if self.parts else _EMPTY
        key = _sorted_unique(np.concatenate((key, (key % n) * n + key // n)))  # symmetric
        if key.size > n * n * DENSE_FRACTION:
            raise _Dense
        return key // n, key % n


# ----------------------------------------------------------------------------- the ops

# Elementwise ops whose second derivative is zero (linear, or piecewise linear: their rules hold
# comparisons, which carry no derivative), and the one bilinear op.
_LINEAR = frozenset({"identity", "clone", "neg", "add", "sub", "cast", "where", "sign", "floor", "ceil", "trunc",
                     "round", "round_decimals", "relu", "abs", "maximum", "minimum", "clip", "hinge", "mod",
                     "fmod"})
_BILINEAR = frozenset({"mul"})
# Ops that only move or copy entries (or write zeros): their forward function applied to arrays of
# entry numbers says where each output entry comes from.
_MOVES = frozenset({"reshape", "transpose", "broadcast_to", "getitem", "concatenate", "stack", "diagonal",
                    "diag_embed", "tril", "triu"})
_LINEAR_REDUCE = frozenset({"sum", "mean", "max", "min"})
_NONLINEAR_REDUCE = frozenset({"prod", "var", "logsumexp"})
_SLICE_OPS = {"softmax": (-1, False), "log_softmax": (-1, False), "cumsum": (None, True),
              "cumprod": (None, False)}  # (default axis, linear)
_MATMULS = {"matmul": (False, False), "matmul_nt": (False, True), "matmul_tn": (True, False)}

_SIGNATURES: dict[Any, inspect.Signature | None] = {}


def _options(node: Tensor) -> dict[str, Any]:
    """The node's arguments by parameter name, defaults filled in."""
    op = node._op
    sig = _SIGNATURES.get(op, False)
    if sig is False:
        try:
            sig = inspect.signature(op.fun)
        except (TypeError, ValueError):
            sig = None
        _SIGNATURES[op] = sig
    if sig is None:
        raise _Opaque
    bound = sig.bind(*node._inputs, **node._kwargs)
    bound.apply_defaults()
    return bound.arguments


class _Opaque(Exception):
    """An op this module cannot analyse entry by entry: take it as dense."""




def _slice_target(shape: tuple[int, ...], axis: Any) -> tuple[np.ndarray, int]:
    """For each entry of an array of ``shape``: the number of its slice along ``axis``, and the slice count."""
    axes = _axes(axis, len(shape))
    kept = tuple(1 if i in axes else s for i, s in enumerate(shape))
    count = int(np.prod(kept, dtype=np.int64))
    return np.broadcast_to(np.arange(count).reshape(kept), shape).ravel(), count


def _elementwise(node: Tensor, ins: list[tuple[Any, _Dep | None]], pairs: _Pairs, n: int) -> _Dep:
    out_shape, size = node.data.shape, node.data.size
    parts = []
    for a, d in ins:
        if d is None:
            continue
        shape = _shape(a)
        if shape == out_shape:
            parts.append(d)
        else:
            idx = np.broadcast_to(np.arange(d.size).reshape(shape), out_shape).ravel()
            parts.append(_gather(d, idx))
    name = node._op.name
    if name in _BILINEAR and len(parts) == 2:
        p, q = _cross(parts[0], parts[1], pairs.limit)
        pairs.add(p, q)
    deps = _union(parts, size, n)
    if name not in _LINEAR and name not in _BILINEAR:
        pairs.all_pairs(deps)
    return deps


def _moved(node: Tensor, ins: list[tuple[Any, _Dep | None]], n: int) -> _Dep:
    """Apply the op to arrays of entry numbers (1-based; 0 for constants) to see where entries come from."""
    offset, numbered, where_from = 1, [], []
    for a, d in ins:
        if isinstance(a, Tensor):
            shape = a.data.shape
            if d is None:
                numbered.append(np.zeros(shape, dtype=np.int64))
            else:
                numbered.append(np.arange(offset, offset + d.size, dtype=np.int64).reshape(shape))
                where_from.append((offset, d))
                offset += d.size
        else:
            numbered.append(a)
    try:
        src = np.asarray(node._op.fun(*numbered, **node._kwargs)).astype(np.int64).ravel()
    except Exception as e:  # noqa: BLE001 - any failure on integer arrays: analyse the op as dense
        raise _Opaque from e
    if src.size != node.data.size:
        raise _Opaque
    parts = []
    for start, d in where_from:
        local = src - start
        parts.append(_gather(d, np.where((local >= 0) & (local < d.size), local, -1)))
    return _union(parts, node.data.size, n)


def _reduced(node: Tensor, x: Any, d: _Dep, axis: Any, pairs: _Pairs | None, n: int) -> _Dep:
    target, count = _slice_target(x.data.shape, axis)
    merged = _merge(d, target, count, n)
    if pairs is not None:
        pairs.all_pairs(merged)
    if count == node.data.size:
        return _Dep(merged.rows, merged.cols, node.data.size)
    raise _Opaque


def _sliced(node: Tensor, x: Any, d: _Dep, axis: int, pairs: _Pairs | None, n: int) -> _Dep:
    """Each output entry depends on its whole slice along ``axis`` (softmax, cumsum...)."""
    target, count = _slice_target(x.data.shape, axis)
    merged = _merge(d, target, count, n)
    if pairs is not None:
        pairs.all_pairs(merged)
    return _gather(merged, target)


def _matmul(node: Tensor, ins: list[tuple[Any, _Dep | None]], pairs: _Pairs, n: int) -> _Dep:
    """2-D x @ y (either side transposed): out[i, j] depends on row i of x and column j of y."""
    (x, dx), (y, dy) = ins
    tx, ty = _MATMULS[node._op.name]
    if x.data.ndim != 2 or y.data.ndim != 2:
        raise _Opaque
    m, p = node.data.shape
    parts = []
    if dx is not None:  # x's entry (r, c) belongs to output row r (c if transposed)
        rows = np.arange(x.data.shape[1 if tx else 0])
        target = np.broadcast_to(rows[None, :] if tx else rows[:, None], x.data.shape).ravel()
        merged = _merge(dx, target, m, n)
        parts.append(_gather(merged, np.repeat(np.arange(m), p)))
    if dy is not None:  # y's entry (r, c) belongs to output column c (r if transposed)
        cols = np.arange(y.data.shape[0 if ty else 1])
        target = np.broadcast_to(cols[:, None] if ty else cols[None, :], y.data.shape).ravel()
        merged = _merge(dy, target, p, n)
        parts.append(_gather(merged, np.tile(np.arange(p), m)))
    if len(parts) == 2:
        pairs.add(*_cross(parts[0], parts[1], pairs.limit))
    return _union(parts, node.data.size, n)


def _opaque(node: Tensor, ins: list[tuple[Any, _Dep | None]], pairs: _Pairs, n: int) -> _Dep:
    """Every output entry depends on every input entry, and all of them meet."""
    cols = _sorted_unique(np.concatenate([d.cols for _, d in ins if d is not None]))
    size = node.data.size
    if cols.size * max(cols.size, size) > pairs.limit:
        raise _Dense
    pairs.add(np.repeat(cols, cols.size), np.tile(cols, cols.size))
    return _Dep(np.repeat(np.arange(size), cols.size), np.tile(cols, size), size)


def _node_dep(node: Tensor, ins: list[tuple[Any, _Dep | None]], pairs: _Pairs, n: int) -> _Dep:
    op, name = node._op, node._op.name
    if op.elementwise:
        return _elementwise(node, ins, pairs, n)
    if name in _MOVES:
        return _moved(node, ins, n)
    if name == "cast":
        return ins[0][1]  # the same entries in another dtype
    if name == "index_add":  # out = zeros(shape); out[index] += g: each entry of g lands on one or more
        opts = _options(node)
        target = np.arange(node.data.size).reshape(node.data.shape)[opts["index"]]
        x, d = ins[0]
        source = np.broadcast_to(np.arange(d.size).reshape(x.data.shape), target.shape)
        return _merge(_gather(d, source.ravel()), target.ravel(), node.data.size, n)
    if name in _MATMULS:
        return _matmul(node, ins, pairs, n)
    x, d = ins[0]
    if name in _LINEAR_REDUCE or name in _NONLINEAR_REDUCE:
        return _reduced(node, x, d, _options(node)["axis"], pairs if name in _NONLINEAR_REDUCE else None, n)
    if name == "sum_to":
        target = np.broadcast_to(np.arange(node.data.size).reshape(node.data.shape), x.data.shape).ravel()
        return _merge(d, target, node.data.size, n)
    if name == "softmax_cross_entropy" and x.data.ndim == 2:
        return _reduced(node, x, d, 1, pairs, n)
    if name in _SLICE_OPS:
        default, linear = _SLICE_OPS[name]
        axis = _options(node).get("axis", default)
        if axis is None:
            raise _Opaque
        return _sliced(node, x, d, axis, None if linear else pairs, n)
    raise _Opaque


def hessian_pattern(output: Tensor, xs: Sequence[Tensor], nodes: list[Tensor] | None = None
                    ) -> tuple[np.ndarray, np.ndarray] | None:
    """The (row, col) pairs where ∂²output/∂x∂x can be nonzero, from the recorded graph; None when dense.

    ``output`` is a scalar Tensor recorded from the input tensors ``xs``, whose entries are numbered
    one after the other (x = their flattened concatenation). The pairs are symmetric and cover every
    structural nonzero (a superset: see the module's docstring). None means the pattern would hold
    more than ``DENSE_FRACTION`` of the entries, so a dense Hessian costs no more.
    """
    deps: dict[int, _Dep] = {}
    n = 0
    for x in xs:
        size = x.data.size
        deps[id(x)] = _Dep(np.arange(size), np.arange(n, n + size), size)
        n += size
    pairs = _Pairs(n)
    try:
        for node in _nodes(output, xs) if nodes is None else nodes:
            ins = [(a, deps.get(id(a))) if isinstance(a, Tensor) else (a, None) for a in node._inputs]
            if all(d is None for _, d in ins):
                continue
            try:
                dep = _node_dep(node, ins, pairs, n)
            except _Opaque:
                dep = _opaque(node, ins, pairs, n)
            if dep.rows.size:
                deps[id(node)] = dep
        return pairs.result()
    except _Dense:
        return None


def _nodes(output: Tensor, xs: Sequence[Tensor]) -> list[Tensor]:
    """The recorded nodes between the inputs ``xs`` and ``output``, in creation order."""
    floor = min(getattr(x, "_seq", 0) for x in xs)
    stop = {id(x) for x in xs}
    found: dict[int, Tensor] = {}
    todo = [output] if output._op is not None and id(output) not in stop else []
    while todo:
        node = todo.pop()
        found[id(node)] = node
        for a in node._inputs or ():
            if (isinstance(a, Tensor) and a._op is not None and id(a) not in stop and id(a) not in found
                    and a._seq > floor):
                todo.append(a)
    return sorted(found.values(), key=lambda t: t._seq)


def _frozen(v: Any) -> Any:
    """A hashable stand-in for an op's option (slices, arrays and lists included), equal when the option is."""
    if isinstance(v, np.ndarray):
        return ("array", v.shape, v.dtype.str, v.tobytes())
    if isinstance(v, slice):
        return ("slice", v.start, v.stop, v.step)
    if isinstance(v, (tuple, list)):
        return (type(v).__name__, *map(_frozen, v))
    if isinstance(v, dict):
        return ("dict", *((k, _frozen(w)) for k, w in sorted(v.items())))
    try:
        hash(v)
    except TypeError:
        return ("repr", repr(v))
    return v


def _signature(nodes: list[Tensor], xs: Sequence[Tensor]) -> tuple[Any, ...]:
    """Everything :func:`hessian_pattern` reads from the graph: equal signatures have equal patterns.

    Per node: its op, and per input either the number of the node it is (input k is -1 - k) or,
    for a constant, its shape; options (indices, axes, shapes) of ops that are not elementwise.
    """
    where = {id(x): -1 - k for k, x in enumerate(xs)}
    parts: list[Any] = [tuple(x.data.shape for x in xs)]
    for k, node in enumerate(nodes):
        where[id(node)] = k
        op = node._op
        ins = tuple(where.get(id(a), ("const", a.data.shape)) if isinstance(a, Tensor)
                    else (None if op.elementwise else _frozen(a)) for a in node._inputs)
        parts.append((op, node.data.shape, ins, None if op.elementwise else _frozen(node._kwargs)))
    return tuple(parts)


class PatternCache:
    """Patterns and colourings of recently seen graphs, keyed by :func:`_signature` (a few entries)."""

    def __init__(self, size: int = 8) -> None:
        self.size = size
        self.entries: dict[Any, tuple[np.ndarray, np.ndarray, np.ndarray] | None] = {}

    def colouring(self, output: Tensor, xs: Sequence[Tensor]) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """``(rows, cols, colours)`` of the graph's Hessian pattern in ``xs``; None when it is dense."""
        nodes = _nodes(output, xs)
        try:
            key = _signature(nodes, xs)
            hash(key)
        except TypeError:  # an option that cannot be compared: no caching
            key = None
        if key is not None and key in self.entries:
            return self.entries[key]
        pairs = hessian_pattern(output, xs, nodes)
        n = sum(x.data.size for x in xs)
        found = None if pairs is None else (*pairs, colour(*pairs, n))
        if found is not None and found[2].size and found[2].max() + 1 >= n:
            found = None  # one product per column: no saving
        if key is not None:
            if len(self.entries) >= self.size:
                del self.entries[next(iter(self.entries))]
            self.entries[key] = found
        return found

    def given(self, pattern: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(rows, cols, colours)`` of an explicit boolean pattern, coloured once."""
        if n not in self.entries:
            rows, cols = pattern_pairs(pattern, n)
            self.entries[n] = (rows, cols, colour(rows, cols, n))
        return self.entries[n]


# ----------------------------------------------------------------------------- colouring and recovery

def pattern_pairs(pattern: Any, n: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The symmetric (row, col) pairs of a boolean pattern of shape (n, n) or ``x.shape + x.shape``."""
    p = np.asarray(pattern, dtype=bool)
    n = int(np.sqrt(p.size)) if n is None else n
    p = p.reshape(n, n)
    rows, cols = np.nonzero(p | p.T)
    return rows.astype(np.int64), cols.astype(np.int64)


def colour(rows: np.ndarray, cols: np.ndarray, n: int) -> np.ndarray:
    """A colour per column such that no two columns of one colour have a nonzero in the same row.

    A banded pattern (half-bandwidth b) is coloured j mod (2b + 1) when that is as few colours as the
    fullest row needs; otherwise a greedy colouring in column order is compared with it.
    """
    if rows.size == 0:
        return np.zeros(n, dtype=np.int64)
    width = int(np.abs(rows - cols).max())
    fullest = int(np.bincount(rows, minlength=n).max())
    banded = np.arange(n) % (2 * width + 1)
    if 2 * width + 1 <= fullest:
        return banded
    greedy = _greedy(rows, cols, n)
    return greedy if greedy.max() < banded.max() else banded


def _greedy(rows: np.ndarray, cols: np.ndarray, n: int) -> np.ndarray:
    order = np.lexsort((cols, rows))
    by_row = np.split(cols[order], np.cumsum(np.bincount(rows, minlength=n))[:-1])
    order = np.lexsort((rows, cols))
    col_rows = np.split(rows[order], np.cumsum(np.bincount(cols, minlength=n))[:-1])
    colours = np.full(n, -1, dtype=np.int64)
    listed = [r.tolist() for r in by_row]
    for j in range(n):
        used = {colours[k] for i in col_rows[j].tolist() for k in listed[i]}
        c = 0
        while c in used:
            c += 1
        colours[j] = c
    return colours


def seeds(colours: np.ndarray, dtype: Any) -> np.ndarray:
    """One tangent per colour: the sum of that colour's basis vectors, shape (colours, n)."""
    k = int(colours.max()) + 1 if colours.size else 0
    s = np.zeros((k, colours.size), dtype=dtype)
    s[colours, np.arange(colours.size)] = 1
    return s


def recover(products: np.ndarray, rows: np.ndarray, cols: np.ndarray, colours: np.ndarray) -> np.ndarray:
    """The dense Hessian from ``products[c] = H @ seed_c``: entry (i, j) of the pattern is products[colour j, i]."""
    n = colours.size
    h = np.zeros((n, n), dtype=products.dtype)
    h[rows, cols] = products[colours[cols], rows]
    return h

