"""Linear algebra and contractions: ``tg.linalg`` and ``tg.einsum``/``dot``/``trace``/``diag``/... .

Every primitive here is declared into the one derivative table, ``ops.TABLE``, with ``ops.op``, next to
its rule and its forward rule; each rule is written with differentiable Tensor operations, so second
derivatives (the Hessian of ``log det``, say) come from the same table. Rules count axes from the end,
so a gradient with extra leading batch axes (Jacobians, Hessians) goes through in one call.

The contractions are one primitive, ``einsum``: ``dot``, ``inner``, ``outer`` and ``tensordot`` are
spelled with it, and its rule for each operand is an einsum too (of ``g`` with the other operands, an
identity matrix per repeated subscript and a vector of ones per subscript summed in that operand only).
``diagonal`` and its transpose ``diag_embed`` move entries (``trace`` and ``diag`` are built on them);
``tril``/``triu`` keep them.

Matrices are stacked as in NumPy: every ``tg.linalg`` function acts on the last two axes and
broadcasts over the others. Conventions (written down here and in docs/API.md):

- ``cholesky`` and ``eigh`` read only one triangle of their input, so their gradients are given for a
  symmetric input: the gradient is symmetrised, ``(G + Gᵀ) / 2`` (PyTorch's and JAX's convention).
- ``eigh``: the eigenvector gradient has ``1 / (w_j - w_i)`` in it, so at (nearly) repeated eigenvalues
  it is not defined; backward raises ``ValueError`` when a result needs it, never returns inf/NaN.
  Functions of the eigenvalues alone are fine there.
- ``det``/``slogdet``/``inv``/``solve`` differentiate through ``A⁻¹``: at an exactly singular matrix
  ``inv`` and ``solve`` raise ``LinAlgError``, and the gradient of ``det`` there is NaN (not defined by
  the formula det · A⁻ᵀ; a known limit).
- ``norm``: the derivative in an entry that is 0 is 0 (the 2-norm at the zero vector has gradient 0,
  the subgradient PyTorch uses); ``max``/``min`` ties (ord=inf) share the gradient equally.
"""

from __future__ import annotations

import builtins
import contextlib
import string
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from . import ops
from .ops import _keep, _reduce_jvp, _reduced_zeros, _shape, op
from .tensor import Tensor, _wrap

__all__ = ["inv", "solve", "det", "slogdet", "cholesky", "eigh", "norm", "EighResult", "SlogdetResult"]

CONTRACTIONS = ["dot", "inner", "outer", "tensordot", "einsum", "trace", "diag", "diagonal", "tril", "triu"]
"""The functions of this module exported at the top level (``tg.einsum``...)."""


def _ndim(a: Any) -> int:
    return len(_shape(a))


def _mT(a: Any) -> Tensor:
    """Swap the last two axes (a matrix transpose that keeps stack and batch axes in front)."""
    n = _ndim(a)
    return ops.transpose(a, tuple(range(n - 2)) + (n - 1, n - 2))


def _per_matrix(core: int) -> Any:
    """zero_map of an op on whole matrices whose result has ``core`` axes per matrix (0 for det, 2 for inv):
    a matrix's gradient is known zero when all of g for it is."""

    def zero_map(argnum: int, zeros: np.ndarray, out: Tensor, *args: Any, **kwargs: Any) -> np.ndarray:
        dead = zeros.all(axis=tuple(range(zeros.ndim - core, zeros.ndim))) if core else zeros
        return np.broadcast_to(dead[..., None, None], dead.shape + _shape(args[argnum])[-2:])

    return zero_map


# =============================================================================== einsum

_LETTERS = string.ascii_letters


def _fresh(used: str) -> Any:
    return iter(c for c in _LETTERS if c not in used)


def _parse(subscripts: str, shapes: Sequence[tuple[int, ...]]) -> str:
    """``subscripts`` as NumPy reads them, made explicit (``'ij,j'`` -> ``'ij,j->i'``, ellipses spelled out)."""
    spec = subscripts.replace(" ", "")
    ins, arrow, out = spec.partition("->")
    subs = ins.split(",")
    if len(subs) != len(shapes):
        raise ValueError(f"tg.einsum: subscripts {subscripts!r} name {len(subs)} operand(s), got {len(shapes)}")
    bad = set(spec) - set(_LETTERS) - set(",->.")
    if bad:
        raise ValueError(f"tg.einsum: subscripts {subscripts!r} may hold only letters, ',', '->' and '...', "
                         f"not {''.join(sorted(bad))!r}")
    fresh = _fresh(spec)
    n_ell = builtins.max([len(sh) - (len(s) - 3) for s, sh in zip(subs, shapes) if "..." in s] + [0])
    ell = "".join(next(fresh) for _ in range(n_ell))
    for i, (s, sh) in enumerate(zip(subs, shapes)):
        if "..." in s:
            k = len(sh) - (len(s) - 3)
            if k < 0:
                raise ValueError(f"tg.einsum: operand {i} of shape {sh} has fewer axes than subscripts {s!r}")
            subs[i] = s.replace("...", ell[n_ell - k:])
        if len(subs[i]) != len(sh) or "." in subs[i]:
            raise ValueError(f"tg.einsum: operand {i} has shape {sh} ({len(sh)} axes) but subscripts {s!r}")
    letters = "".join(subs)
    if arrow:
        out = out.replace("...", ell)
        if "." in out or len(set(out)) != len(out) or set(out) - set(letters):
            raise ValueError(f"tg.einsum: output {out!r} of {subscripts!r} must name distinct input subscripts")
    else:
        out = ell + "".join(sorted(c for c in set(letters) if letters.count(c) == 1 and c not in ell))
    sizes: dict[str, tuple[int, int]] = {}
    for i, (s, sh) in enumerate(zip(subs, shapes)):
        for c, n in zip(s, sh):
            m, j = sizes.get(c, (1, i))
            if n != 1 and m != 1 and n != m:
                raise ValueError(f"tg.einsum: subscript {c!r} of {subscripts!r} has size {m} in operand {j} "
                                 f"and {n} in operand {i} (shapes {', '.join(map(str, shapes))})")
            if n != 1:
                sizes[c] = (n, i)
    return ",".join(subs) + "->" + out


def _einsum(*xs: np.ndarray, spec: str) -> np.ndarray:
    # NumPy's own loop for a few small operands; contraction paths (BLAS) for more or larger ones.
    big = len(xs) > 2 or builtins.sum(np.size(x) for x in xs) > 4096
    return np.einsum(spec, *xs, optimize=big)


einsum_ = op(_einsum, "einsum")


def _einsum_vjp(argnum: int, g: Any, out: Any, *xs: Any, spec: str) -> Tensor:
    """d/dx_k: the einsum of g with the other operands onto x_k's subscripts (g may carry batch axes)."""
    ins, outs = spec.split("->")
    subs = ins.split(",")
    target, shape = subs[argnum], _shape(xs[argnum])
    fresh = _fresh(spec)
    batch = "".join(next(fresh) for _ in range(_ndim(g) - len(outs)))
    operands: list[Any] = [g] + [x for j, x in enumerate(xs) if j != argnum]
    terms = [batch + outs] + [s for j, s in enumerate(subs) if j != argnum]
    result = ""
    for c, n in zip(target, shape):
        if c in result:  # a repeated subscript (a diagonal): an identity matrix puts g back on it
            c2 = next(fresh)
            operands.append(np.eye(n))
            terms.append(c + c2)
            c = c2
        result += c
    for c, n in zip(target, shape):
        if c not in "".join(terms):  # summed in x_k alone: its gradient is the same along that axis
            operands.append(np.ones(n))
            terms.append(c)
    return einsum_(*operands, spec=",".join(terms) + "->" + batch + result)


def _einsum_jvp(argnum: int, t: Any, out: Any, *xs: Any, spec: str) -> Tensor:
    """Linear in each operand: the einsum with the tangent in x_k's place, its batch axes in front."""
    ins, outs = spec.split("->")
    subs = ins.split(",")
    fresh = _fresh(spec)
    batch = "".join(next(fresh) for _ in range(_ndim(t) - len(subs[argnum])))
    subs[argnum] = batch + subs[argnum]
    return einsum_(*[t if j == argnum else x for j, x in enumerate(xs)], spec=",".join(subs) + "->" + batch + outs)


def _einsum_zeros(argnum: int, zeros: np.ndarray, out: Tensor, *xs: Any, spec: str) -> np.ndarray:
    """The rule is a sum of products of g with the operands: with ones for them it counts the live terms."""
    ones = [_wrap(np.ones(_shape(x))) for x in xs]
    return _einsum_vjp(argnum, _wrap((~zeros).astype(np.float64)), out, *ones, spec=spec).data == 0


einsum_.defvjp_argnum(_einsum_vjp)
einsum_.defjvp_argnum(_einsum_jvp)
einsum_.zero_map = _einsum_zeros


def einsum(subscripts: str, *operands: Any) -> Tensor:
    """Einstein summation as ``np.einsum``: explicit (``'ij,jk->ik'``) or implicit (``'ij,jk'``) mode,
    repeated subscripts in one operand (``'ii->i'``, ``'ii'``) and ``...`` included.

    >>> tg.einsum("ij,j->i", tg.eye(2), tg.tensor([1.0, 2.0]))
    Tensor([1., 2.])
    """
    if not isinstance(subscripts, str):
        raise TypeError("tg.einsum: give the subscripts as a string first (einsum('ij,j->i', a, x)); "
                        "the sublist form is not supported")
    return einsum_(*operands, spec=_parse(subscripts, [_shape(o) for o in operands]))


def tensordot(a: Any, b: Any, axes: int | Sequence[Any] = 2) -> Tensor:
    """Sum products over ``axes`` of ``a`` and ``b``, as ``np.tensordot``; the free axes of ``a``, then ``b``.

    >>> tg.tensordot(tg.ones(2, 3), tg.ones(3, 4), axes=1).shape
    (2, 4)
    """
    na, nb = _ndim(a), _ndim(b)
    if isinstance(axes, (int, np.integer)):
        pairs = (list(range(na - int(axes), na)), list(range(int(axes))))
    else:
        xa, xb = axes
        pairs = ([xa] if isinstance(xa, (int, np.integer)) else list(xa),
                 [xb] if isinstance(xb, (int, np.integer)) else list(xb))
    try:
        ia = [int(i) % na for i in pairs[0]] if na else list(pairs[0])
        ib = [int(i) % nb for i in pairs[1]] if nb else list(pairs[1])
        ok = len(ia) == len(ib) and len(ia) <= builtins.min(na, nb) and all(
            _shape(a)[i] == _shape(b)[j] for i, j in zip(ia, ib))
    except (TypeError, ValueError):
        ok = False
    if not ok or len(set(ia)) != len(ia) or len(set(ib)) != len(ib):
        raise ValueError(f"tg.tensordot: cannot contract axes {axes} of shapes {_shape(a)} and {_shape(b)}; "
                         f"the paired axes must have equal sizes")
    la = _LETTERS[:na]
    lb = list(_LETTERS[na:na + nb])
    for i, j in zip(ia, ib):
        lb[j] = la[i]
    out = "".join(c for k, c in enumerate(la) if k not in ia) + "".join(c for k, c in enumerate(lb) if k not in ib)
    return einsum_(a, b, spec=f"{la},{''.join(lb)}->{out}")


def _scalar_or(a: Any, b: Any) -> Tensor | None:
    if _ndim(a) == 0 or _ndim(b) == 0:
        return ops.mul(a, b)
    return None


def dot(a: Any, b: Any) -> Tensor:
    """``np.dot``: a product over the last axis of ``a`` and the last (1-D ``b``) or second-to-last axis of ``b``.

    >>> tg.dot(tg.tensor([1.0, 2.0]), tg.tensor([3.0, 4.0]))
    Tensor(11.)
    """
    scaled = _scalar_or(a, b)
    if scaled is not None:
        return scaled
    bax = -1 if _ndim(b) == 1 else -2
    if _shape(a)[-1] != _shape(b)[bax]:
        raise ValueError(f"tg.dot: shapes {_shape(a)} and {_shape(b)} not aligned: {_shape(a)[-1]} (last axis of "
                         f"the first) != {_shape(b)[bax]} (axis {bax} of the second)")
    return tensordot(a, b, axes=([-1], [bax]))


def inner(a: Any, b: Any) -> Tensor:
    """``np.inner``: a product over the last axes of ``a`` and ``b``.

    >>> tg.inner(tg.ones(2, 3), tg.ones(3)).tolist()
    [3.0, 3.0]
    """
    scaled = _scalar_or(a, b)
    if scaled is not None:
        return scaled
    if _shape(a)[-1] != _shape(b)[-1]:
        raise ValueError(f"tg.inner: the last axes of shapes {_shape(a)} and {_shape(b)} differ")
    return tensordot(a, b, axes=([-1], [-1]))


def outer(a: Any, b: Any) -> Tensor:
    """``np.outer``: ``out[i, j] = a.ravel()[i] * b.ravel()[j]``.

    >>> tg.outer(tg.tensor([1.0, 2.0]), tg.tensor([1.0, 10.0]))
    Tensor([[ 1., 10.],
            [ 2., 20.]])
    """
    return einsum_(ops.reshape(a, (-1,)), ops.reshape(b, (-1,)), spec="i,j->ij")


# =============================================================================== diagonals and triangles


def _diagonal_index(n1: int, n2: int, offset: int) -> tuple[np.ndarray, np.ndarray]:
    length = builtins.max(0, builtins.min(n1 - builtins.max(-offset, 0), n2 - builtins.max(offset, 0)))
    rows = np.arange(length)
    return rows + builtins.max(-offset, 0), rows + builtins.max(offset, 0)


def _diag_embed(x: np.ndarray, shape: tuple[int, ...], offset: int = 0, axis1: int = 0, axis2: int = 1) -> np.ndarray:
    """Zeros of ``shape`` (behind the batch axes of ``x``) with ``x``'s last axis on the diagonal:
    the transpose of ``np.diagonal(z, offset, axis1, axis2)``."""
    nd = len(shape)
    lead = x.shape[:x.ndim - (nd - 1)]
    z = np.zeros(lead + tuple(shape), dtype=x.dtype)
    a1, a2 = axis1 % nd - nd, axis2 % nd - nd
    moved = np.moveaxis(z, (a1, a2), (-2, -1))  # a view: writing it writes z
    rows, cols = _diagonal_index(shape[a1], shape[a2], offset)
    moved[..., rows, cols] = x
    return z


def _diagonal(x: np.ndarray, offset: int = 0, axis1: int = 0, axis2: int = 1) -> np.ndarray:
    return np.diagonal(x, offset, axis1, axis2).copy()  # NumPy's view is read-only


def _neg(axis: int, ndim: int) -> int:
    return axis % ndim - ndim


diagonal_ = op(_diagonal, "diagonal", structural=True)
diag_embed = op(_diag_embed, "diag_embed", structural=True)
diagonal_.defvjp(lambda g, out, x, offset=0, axis1=0, axis2=1: diag_embed(
    g, shape=x.shape, offset=offset, axis1=_neg(axis1, x.ndim), axis2=_neg(axis2, x.ndim)))
diagonal_.defjvp(lambda t, out, x, offset=0, axis1=0, axis2=1: diagonal_(
    t, offset=offset, axis1=_neg(axis1, x.ndim), axis2=_neg(axis2, x.ndim)))
diag_embed.defvjp(lambda g, out, x, shape, offset=0, axis1=0, axis2=1: diagonal_(
    g, offset=offset, axis1=_neg(axis1, len(shape)), axis2=_neg(axis2, len(shape))))
diag_embed.defjvp(lambda t, out, x, shape, offset=0, axis1=0, axis2=1: diag_embed(
    t, shape=shape, offset=offset, axis1=axis1, axis2=axis2))


def _check_axes(name: str, a: Any, axis1: int, axis2: int) -> None:
    nd = _ndim(a)
    if nd < 2:
        raise ValueError(f"tg.{name}: needs at least 2 axes, got shape {_shape(a)}")
    if not (-nd <= axis1 < nd and -nd <= axis2 < nd) or axis1 % nd == axis2 % nd:
        raise ValueError(f"tg.{name}: axis1={axis1} and axis2={axis2} must be two different axes of shape "
                         f"{_shape(a)}")


def diagonal(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """The diagonal of ``a`` over ``axis1, axis2`` as its last axis, as ``np.diagonal``.

    >>> tg.diagonal(tg.tensor([[1.0, 2.0], [3.0, 4.0]]), offset=1)
    Tensor([2.])
    """
    _check_axes("diagonal", a, axis1, axis2)
    return diagonal_(a, offset=int(offset), axis1=int(axis1), axis2=int(axis2))


def trace(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """The sum of the diagonal, as ``np.trace`` (stacked over the other axes).

    >>> tg.trace(tg.eye(3))
    Tensor(3.)
    """
    _check_axes("trace", a, axis1, axis2)
    return ops.sum(diagonal_(a, offset=int(offset), axis1=int(axis1), axis2=int(axis2)), axis=-1)


def diag(v: Any, k: int = 0) -> Tensor:
    """``np.diag``: a 1-D ``v`` on the ``k``-th diagonal of a square matrix, or the ``k``-th diagonal of a 2-D ``v``.

    >>> tg.diag(tg.tensor([1.0, 2.0]))
    Tensor([[1., 0.],
            [0., 2.]])
    """
    shape = _shape(v)
    if len(shape) == 1:
        n = shape[0] + builtins.abs(int(k))
        return diag_embed(v, shape=(n, n), offset=int(k), axis1=0, axis2=1)
    if len(shape) == 2:
        return diagonal_(v, offset=int(k), axis1=0, axis2=1)
    raise ValueError(f"tg.diag: input must be 1-D or 2-D, got shape {shape}; for stacks use tg.diagonal")


tril_ = op(lambda x, k=0: np.tril(x, k), "tril", structural=True)
triu_ = op(lambda x, k=0: np.triu(x, k), "triu", structural=True)
# Both keep entries of the last two axes in place, so each is its own rule and its own forward rule.
tril_.defvjp(lambda g, out, x, k=0: tril_(g, k=k))
tril_.defjvp(lambda t, out, x, k=0: tril_(t, k=k))
triu_.defvjp(lambda g, out, x, k=0: triu_(g, k=k))
triu_.defjvp(lambda t, out, x, k=0: triu_(t, k=k))


def _triangle(prim: Any, m: Any, k: int) -> Tensor:
    if _ndim(m) == 0:
        raise ValueError(f"tg.{prim.name}: needs at least 1 axis, got a scalar")
    if _ndim(m) == 1:  # NumPy repeats a vector into a square matrix first
        m = ops.broadcast_to(m, _shape(m) * 2)
    return prim(m, k=int(k))


def tril(m: Any, k: int = 0) -> Tensor:
    """The lower triangle (entries with ``j <= i + k``) of the last two axes, as ``np.tril``.

    >>> tg.tril(tg.ones(2, 2))
    Tensor([[1., 0.],
            [1., 1.]])
    """
    return _triangle(tril_, m, k)


def triu(m: Any, k: int = 0) -> Tensor:
    """The upper triangle (entries with ``j >= i + k``) of the last two axes, as ``np.triu``.

    >>> tg.triu(tg.ones(2, 2), k=1)
    Tensor([[0., 1.],
            [0., 0.]])
    """
    return _triangle(triu_, m, k)


# =============================================================================== matrix functions
# The forward functions never raise on a singular matrix (the rules run them on matrices the engine
# has zeroed below a ``where``); they give NaN there, and the public functions refuse such input.


def _total(fn: Any, core: Any) -> Any:
    """``fn`` over a stack, with NaN for the matrices where LAPACK fails; ``core(*shapes)`` is one result's shape."""

    def run(*arrays: np.ndarray, **options: Any) -> np.ndarray:
        try:
            return fn(*arrays, **options)
        except np.linalg.LinAlgError:
            pass
        stack = np.broadcast_shapes(*(a.shape[:-2] for a in arrays))
        parts = [np.broadcast_to(a, stack + a.shape[-2:]) for a in arrays]
        out = np.full(stack + core(*(a.shape[-2:] for a in arrays)), np.nan, dtype=np.result_type(*arrays, 1.0))
        for i in np.ndindex(*stack):
            with contextlib.suppress(np.linalg.LinAlgError):
                out[i] = fn(*(p[i] for p in parts), **options)
        return out

    return run


_inv = op(_total(np.linalg.inv, lambda s: s), "inv")
_inv.defvjp(lambda g, out, x: -ops.matmul_nt(ops.matmul_tn(out, g), out))   # -A⁻ᵀ g A⁻ᵀ
_inv.defjvp(lambda t, out, x: -ops.matmul(ops.matmul(out, t), out))        # -A⁻¹ t A⁻¹
_inv.zero_map = _per_matrix(2)

_solve = op(_total(np.linalg.solve, lambda sa, sb: sb), "solve")  # b is a stack of (n, k) matrices here
_solve.defvjp(lambda g, out, a, b: -ops.matmul_nt(_solve(_mT(a), g), out),  # -(A⁻ᵀ g) xᵀ
              lambda g, out, a, b: _solve(_mT(a), g))                        # A⁻ᵀ g
# A tangent's batch axes go in front of the result's whole stack (a and b may have shorter stacks).
_solve.defjvp(lambda t, out, a, b: -_solve(a, ops.matmul(ops._align(t, _ndim(a), out.ndim), out)),
              lambda t, out, a, b: _solve(a, ops._align(t, _ndim(b), out.ndim)))
_solve.zero_map = _per_matrix(2)


def _trace_with_inverse(t: Any, x: Any) -> Tensor:
    """tr(A⁻¹ t) for each matrix (t may carry batch axes): the derivative of log|det A| along t."""
    return ops.sum(_mT(_inv(x)) * t, axis=(-2, -1))


_det = op(np.linalg.det, "det")
_det.defvjp(lambda g, out, x: ops.expand_dims(g * out, (-2, -1)) * _mT(_inv(x)))   # g · det · A⁻ᵀ
_det.defjvp(lambda t, out, x: out * _trace_with_inverse(t, x))
_det.zero_map = _per_matrix(0)

_logabsdet = op(lambda x: np.linalg.slogdet(x)[1], "logabsdet")
_logabsdet.defvjp(lambda g, out, x: ops.expand_dims(g, (-2, -1)) * _mT(_inv(x)))   # g · A⁻ᵀ
_logabsdet.defjvp(lambda t, out, x: _trace_with_inverse(t, x))
_logabsdet.zero_map = _per_matrix(0)


def _sym(a: Any) -> Tensor:
    return (a + _mT(a)) * 0.5


def _phi(a: Any) -> Tensor:
    """The lower triangle of the last two axes, its diagonal halved."""
    n = _shape(a)[-1]
    return a * (np.tril(np.ones((n, n))) - 0.5 * np.eye(n))


def _cholesky_vjp(g: Any, out: Any, x: Any) -> Tensor:
    """sym(L⁻ᵀ Φ(Lᵀ g) L⁻¹), Murray (2016), for L = out."""
    p = _solve(_mT(out), _phi(ops.matmul_tn(out, g)))         # L⁻ᵀ Φ(Lᵀ g)
    return _sym(_mT(_solve(_mT(out), _mT(p))))                 # ... L⁻¹


def _cholesky_jvp(t: Any, out: Any, x: Any) -> Tensor:
    """L Φ(L⁻¹ sym(t) L⁻ᵀ)."""
    y = _solve(out, _sym(t))
    return ops.matmul(out, _phi(_mT(_solve(out, _mT(y)))))


_cholesky = op(_total(np.linalg.cholesky, lambda s: s), "cholesky")
_cholesky.defvjp(_cholesky_vjp)
_cholesky.defjvp(_cholesky_jvp)
_cholesky.zero_map = _per_matrix(2)

_eigvalsh = op(_total(lambda x, UPLO="L": np.linalg.eigh(x, UPLO)[0], lambda s: s[-1:]), "eigvalsh")
_eigvecsh = op(_total(lambda x, UPLO="L": np.linalg.eigh(x, UPLO)[1], lambda s: s), "eigvecsh")

DEGENERATE = 1e-9
"""Eigenvalues closer than this (relative to the largest magnitude, at least 1) count as repeated."""


def _gaps(w: Tensor, coupling: np.ndarray, what: str) -> Tensor:
    """F with F_ij = 1 / (w_j - w_i) off the diagonal; raises where a repeated pair would need it."""
    d = ops.expand_dims(w, -2) - ops.expand_dims(w, -1)
    scale = np.maximum(1.0, np.abs(w.data).max(axis=-1, keepdims=True))[..., None]
    n = w.data.shape[-1]
    off = ~np.eye(n, dtype=bool)
    close = (np.abs(d.data) <= DEGENERATE * scale) & off
    if close.any():
        c = np.broadcast_to(np.abs(coupling), np.broadcast_shapes(coupling.shape, close.shape))
        if (c[np.broadcast_to(close, c.shape)] > 1e-10 * builtins.max(1.0, float(c.max()))).any():
            i, j = np.argwhere(close)[0][-2:]
            raise ValueError(
                f"eigh: the {what} of the eigenvectors is not defined at repeated eigenvalues (w[{i}] and w[{j}] "
                f"differ by {abs(float(d.data[..., i, j].flat[0])):.3g}); differentiate a function of the "
                f"eigenvalues, or of the whole eigenspace, or perturb the matrix")
    skip = np.broadcast_to(close | ~off, d.data.shape)
    return ops.where(skip, 0.0, 1.0 / ops.where(skip, 1.0, d))


def _eigvecsh_vjp(g: Any, out: Any, x: Any, UPLO: str = "L") -> Tensor:
    """sym(V (F ∘ Vᵀ g) Vᵀ); only the antisymmetric part of Vᵀ g survives, so that is what must vanish
    at repeated eigenvalues."""
    k = ops.matmul_tn(out, g)
    f = _gaps(_eigvalsh(x, UPLO=UPLO), (k - _mT(k)).data, "gradient")
    return _sym(ops.matmul_nt(ops.matmul(out, f * k), out))


def _eigvecsh_jvp(t: Any, out: Any, x: Any, UPLO: str = "L") -> Tensor:
    """V (F ∘ Vᵀ sym(t) V)."""
    k = ops.matmul_tn(out, ops.matmul(_sym(t), out))
    return ops.matmul(out, _gaps(_eigvalsh(x, UPLO=UPLO), k.data, "derivative") * k)


_eigvalsh.defvjp(lambda g, out, x, UPLO="L": ops.matmul_nt(
    _eigvecsh(x, UPLO=UPLO) * ops.expand_dims(g, -2), _eigvecsh(x, UPLO=UPLO)))      # V diag(g) Vᵀ
_eigvalsh.defjvp(lambda t, out, x, UPLO="L": ops.sum(
    _eigvecsh(x, UPLO=UPLO) * ops.matmul(t, _eigvecsh(x, UPLO=UPLO)), axis=-2))      # vᵢᵀ t vᵢ
_eigvalsh.zero_map = _per_matrix(1)
_eigvecsh.defvjp(_eigvecsh_vjp)
_eigvecsh.defjvp(_eigvecsh_jvp)
_eigvecsh.zero_map = _per_matrix(2)


# The p-norm of a vector (and Frobenius of a matrix: p = 2 over two axes); p finite and nonzero.

def _pnorm(x: np.ndarray, p: float, axis: Any = None, keepdims: bool = False) -> np.ndarray:
    with np.errstate(divide="ignore"):
        if p == 2:
            return np.sqrt(np.add.reduce(x * x, axis=axis, keepdims=keepdims))
        return np.add.reduce(np.abs(x) ** p, axis=axis, keepdims=keepdims) ** (1.0 / p)


def _norm_slope(out: Tensor, x: Tensor, p: float, axis: Any, keepdims: bool) -> Tensor:
    """d norm / d x = sign(x) |x|^(p-1) / norm^(p-1), and 0 where x or the norm is 0 (the convention)."""
    o = _keep(out, x.shape, axis, keepdims)
    zero = o.data == 0
    safe = ops.where(zero, 1.0, o)
    if p == 2:
        s = x / safe
    else:
        at0 = x.data == 0
        s = ops.sign(x) * ops.where(at0, 0.0, ops.abs(ops.where(at0, 1.0, x)) ** (p - 1)) / safe ** (p - 1)
    return ops.where(zero, 0.0, s) if zero.any() else s


_norm = op(_pnorm, "norm")
_norm.defvjp(lambda g, out, x, p, axis=None, keepdims=False:
             _keep(g, x.shape, axis, keepdims) * _norm_slope(out, x, p, axis, keepdims))
_norm.defjvp(lambda t, out, x, p, axis=None, keepdims=False:
             _reduce_jvp(t, x, axis, keepdims, _norm_slope(out, x, p, axis, keepdims)))
_norm.zero_map = _reduced_zeros


# =============================================================================== tg.linalg


def _square(name: str, a: Any) -> None:
    shape = _shape(a)
    if len(shape) < 2 or shape[-1] != shape[-2]:
        raise ValueError(f"tg.linalg.{name}: needs square matrices in the last two axes, got shape {shape}")


def _refuse_failed(name: str, out: Tensor, why: str, fix: str, *inputs: Any) -> Tensor:
    """Raise LinAlgError naming the first matrix the forward could not handle (finite inputs, NaN result)."""
    bad = ~np.isfinite(out.data)
    if bad.any():
        failed = bad.any(axis=(-2, -1))
        for a in inputs:
            data = np.asarray(a.data if isinstance(a, Tensor) else a)
            failed &= np.broadcast_to(np.isfinite(data).all(axis=(-2, -1)), failed.shape)
        if failed.any():
            where = tuple(int(i) for i in np.argwhere(failed)[0])
            which = f"matrix {where} of the stack" if where else "the matrix"
            raise np.linalg.LinAlgError(f"tg.linalg.{name}: {which} of shape {_shape(inputs[0])} is {why}; {fix}")
    return out


def inv(a: Any) -> Tensor:
    """The inverse of each matrix in the last two axes; LinAlgError for a singular one.

    >>> tg.linalg.inv(tg.tensor([[2.0, 0.0], [0.0, 4.0]]))
    Tensor([[0.5 , 0.  ],
            [0.  , 0.25]])
    """
    _square("inv", a)
    return _refuse_failed("inv", _inv(a), "singular", "add a small multiple of the identity", a)


def solve(a: Any, b: Any) -> Tensor:
    """x with ``a @ x = b``: ``b`` of shape (n,) or (..., n, k), as ``np.linalg.solve`` (NumPy 2 rules).

    >>> tg.linalg.solve(tg.tensor([[2.0, 0.0], [0.0, 4.0]]), tg.tensor([2.0, 2.0]))
    Tensor([1. , 0.5])
    """
    _square("solve", a)
    n, sb = _shape(a)[-1], _shape(b)
    vector = len(sb) == 1
    if not sb or sb[-2 if not vector else 0] != n:
        raise ValueError(f"tg.linalg.solve: b of shape {sb} does not match a of shape {_shape(a)}; b needs "
                         f"shape ({n},) or (..., {n}, k)")
    bm = ops.expand_dims(b, -1) if vector else b
    try:
        x = _solve(a, bm)
    except ValueError as e:
        raise ValueError(f"tg.linalg.solve: the stacks of a {_shape(a)} and b {sb} do not broadcast") from e
    x = _refuse_failed("solve", x, "singular", "add a small multiple of the identity", a, bm)
    return ops.reshape(x, x.shape[:-1]) if vector else x


def det(a: Any) -> Tensor:
    """The determinant of each matrix (gradient det · A⁻ᵀ; NaN at an exactly singular matrix).

    >>> tg.linalg.det(tg.tensor([[2.0, 1.0], [1.0, 3.0]]))
    Tensor(5.)
    """
    _square("det", a)
    return _det(a)


class SlogdetResult(NamedTuple):
    """``(sign, logabsdet)`` of :func:`slogdet`, as NumPy's."""

    sign: Tensor
    logabsdet: Tensor


class EighResult(NamedTuple):
    """``(eigenvalues, eigenvectors)`` of :func:`eigh`, as NumPy's."""

    eigenvalues: Tensor
    eigenvectors: Tensor


def slogdet(a: Any) -> SlogdetResult:
    """``(sign, log|det|)`` of each matrix; ``sign`` is a constant (no gradient), ``logabsdet`` differentiable.

    >>> sign, logdet = tg.linalg.slogdet(tg.tensor([[-2.0, 0.0], [0.0, 3.0]]))
    >>> sign, round(logdet.item(), 6)
    (Tensor(-1.), 1.791759)
    """
    _square("slogdet", a)
    data = np.asarray(a.data if isinstance(a, Tensor) else a)
    return SlogdetResult(_wrap(np.linalg.slogdet(data)[0]), _logabsdet(a))


def cholesky(a: Any, upper: bool = False) -> Tensor:
    """L (lower triangular) with ``L @ L.T = a`` for symmetric positive-definite ``a`` (its lower triangle is
    read); ``upper=True`` gives ``L.T``. The gradient is symmetrised. LinAlgError if not positive definite.

    >>> tg.linalg.cholesky(tg.tensor([[4.0, 2.0], [2.0, 2.0]]))
    Tensor([[2., 0.],
            [1., 1.]])
    """
    _square("cholesky", a)
    low = _refuse_failed("cholesky", _cholesky(a), "not positive definite",
                         "cholesky needs a symmetric positive-definite matrix (such as B @ B.T + n * I)", a)
    return _mT(low) if upper else low


def eigh(a: Any, UPLO: str = "L") -> EighResult:
    """Eigenvalues (ascending) and eigenvectors (columns) of each symmetric matrix; the ``UPLO`` triangle is
    read and gradients are symmetrised. The eigenvector gradient raises ValueError at repeated eigenvalues.

    >>> w, v = tg.linalg.eigh(tg.tensor([[2.0, 0.0], [0.0, 1.0]]))
    >>> w, abs(v)
    (Tensor([1., 2.]), Tensor([[0., 1.],
            [1., 0.]]))
    """
    _square("eigh", a)
    if UPLO not in ("L", "U"):
        raise ValueError(f"tg.linalg.eigh: UPLO must be 'L' or 'U', got {UPLO!r}")
    return EighResult(_eigvalsh(a, UPLO=UPLO), _eigvecsh(a, UPLO=UPLO))


_MATRIX_ORDS = ("fro", 1, -1, np.inf, -np.inf)


def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Vector and matrix norms, as ``np.linalg.norm``.

    Vectors (``axis`` an int, or a 1-D ``x``): ``ord`` None or 2, 1, inf, -inf, 0 (a count: no gradient)
    or any other p. Matrices (``axis`` a pair, or a 2-D ``x`` with ``ord`` given): 'fro' (default), 1, -1,
    inf, -inf; 2, -2 and 'nuc' (singular values) are refused. ``axis=None, ord=None``: the 2-norm of all
    entries. The derivative in an entry that is 0 is 0 (so the 2-norm at 0 has gradient 0).

    >>> tg.linalg.norm(tg.tensor([3.0, 4.0])), tg.linalg.norm(tg.tensor([3.0, -4.0]), ord=1)
    (Tensor(5.), Tensor(7.))
    """
    nd = _ndim(x)
    if axis is None and ord is None:
        return _norm(x, p=2, axis=None, keepdims=keepdims)
    if axis is None:
        if nd not in (1, 2):
            raise ValueError(f"tg.linalg.norm: ord={ord!r} without axis needs a 1-D or 2-D input, got shape "
                             f"{_shape(x)}; give axis")
        axis = tuple(range(nd))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    try:
        axes = tuple(int(a) % nd for a in axes) if nd else ()
        ok = len(axes) in (1, 2) and len(set(axes)) == len(axes) and builtins.all(
            -nd <= int(a) < nd for a in ((axis,) if isinstance(axis, (int, np.integer)) else axis))
    except TypeError:
        ok = False
    if not ok:
        raise ValueError(f"tg.linalg.norm: axis={axis!r} must name one or two axes of shape {_shape(x)}")
    if len(axes) == 1:
        return _vector_norm(x, ord, axes[0], keepdims)
    return _matrix_norm(x, ord, axes, keepdims)


def _vector_norm(x: Any, ord: Any, axis: int, keepdims: bool) -> Tensor:
    if isinstance(ord, str):
        raise ValueError(f"tg.linalg.norm: ord={ord!r} is a matrix norm; vectors take a number (1, 2, inf, ...)")
    p = 2.0 if ord is None else float(ord)
    if p == np.inf:
        return ops.max(ops.abs(x), axis=axis, keepdims=keepdims)
    if p == -np.inf:
        return ops.min(ops.abs(x), axis=axis, keepdims=keepdims)
    if p == 0:  # a count of the nonzero entries: piecewise constant, so its derivative is 0
        return ops.sum(ops.sign(ops.abs(x)), axis=axis, keepdims=keepdims)
    if p == 1:
        return ops.sum(ops.abs(x), axis=axis, keepdims=keepdims)
    return _norm(x, p=p, axis=axis, keepdims=keepdims)


def _matrix_norm(x: Any, ord: Any, axes: tuple[int, int], keepdims: bool) -> Tensor:
    row, col = axes
    if ord is None or ord == "fro":
        return _norm(x, p=2, axis=axes, keepdims=keepdims)
    if isinstance(ord, str) or ord not in _MATRIX_ORDS:
        why = ("needs singular values, which tinygrad_mvc does not compute" if ord in (2, -2, "nuc")
               else "is not a matrix norm (NumPy's are 'fro', 'nuc', 1, -1, 2, -2, inf, -inf)")
        raise ValueError(f"tg.linalg.norm: ord={ord!r} {why}; use ord='fro', 1, -1, inf or -inf")
    summed, over = (row, col) if abs(ord) == 1 else (col, row)  # 1: column sums; inf: row sums
    sums = ops.sum(ops.abs(x), axis=summed, keepdims=True)
    pick = ops.max if ord > 0 else ops.min
    out = pick(sums, axis=over, keepdims=True)
    return out if keepdims else ops.squeeze(out, axis=axes)


# =============================================================================== NumPy interop


def _no_extras(name: str, **given: Any) -> None:
    extra = [k for k, v in given.items() if v is not None and v is not False]
    if extra:
        raise TypeError(f"np.{name} on Tensors does not take {', '.join(extra)}=; leave them at their defaults")


def _np_einsum(*operands: Any, out: Any = None, optimize: Any = False, dtype: Any = None, order: str = "K",
               casting: str = "safe", **kwargs: Any) -> Tensor:
    if kwargs:  # NumPy's own einsum refuses these too; say so in its words
        raise TypeError(f"np.einsum: unexpected keyword argument {next(iter(kwargs))!r}")
    _no_extras("einsum", out=out, dtype=dtype)
    return einsum(*operands)


def _np_dot(a: Any, b: Any, out: Any = None) -> Tensor:
    _no_extras("dot", out=out)
    return dot(a, b)


def _np_outer(a: Any, b: Any, out: Any = None) -> Tensor:
    _no_extras("outer", out=out)
    return outer(a, b)


def _np_trace(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1, dtype: Any = None, out: Any = None) -> Tensor:
    _no_extras("trace", dtype=dtype, out=out)
    return trace(a, offset, axis1, axis2)


INTEROP_FUNCTIONS: dict[Any, Any] = {
    np.linalg.inv: inv, np.linalg.solve: solve, np.linalg.det: det, np.linalg.slogdet: slogdet,
    np.linalg.cholesky: cholesky, np.linalg.eigh: eigh, np.linalg.norm: norm,
    np.linalg.eigvalsh: lambda a, UPLO="L": eigh(a, UPLO=UPLO).eigenvalues,  # noqa: N803  (NumPy's name)
    np.einsum: _np_einsum, np.dot: _np_dot, np.inner: inner, np.outer: _np_outer, np.tensordot: tensordot,
    np.trace: _np_trace, np.diag: diag, np.diagonal: diagonal, np.tril: tril, np.triu: triu,
}
"""NumPy's functions that return differentiable Tensors through these ops (merged into the interop table)."""
