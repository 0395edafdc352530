"""tg.linalg and the contractions: values against NumPy (and SciPy), derivatives against finite differences.

Every op goes through ``check`` of test_op_gradients: the gradient and Hessian-vector products against
central differences (``tg.gradcheck(order=2)``), the Jacobian by batched JVPs against batched VJPs and
differences, and Hessians forward-over-reverse against reverse-over-reverse: first and second order,
forward mode and the batched rules. Matrices are well conditioned: diagonally dominant for inv/solve/det,
``B Bᵀ + n I`` for cholesky/eigh/slogdet, eigenvalues well apart for eigh.
"""

from __future__ import annotations

import doctest
from typing import Any

import numpy as np
import pytest
import scipy.linalg
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import reals
from test_op_gradients import check

import tinygrad_mvc as tg
from tinygrad_mvc import linalg, ops

Tensor = tg.Tensor
RNG = np.random.default_rng(15)


def dominant(*shape: int) -> np.ndarray:
    """Diagonally dominant matrices: far from singular."""
    a = RNG.uniform(-1.0, 1.0, shape)
    return a + shape[-1] * np.eye(shape[-1])


def spd(*shape: int) -> np.ndarray:
    b = RNG.standard_normal(shape)
    return b @ np.swapaxes(b, -1, -2) + shape[-1] * np.eye(shape[-1])


def sym(x: Any) -> Tensor:
    return (x + ops.transpose(x, tuple(range(x.ndim - 2)) + (x.ndim - 1, x.ndim - 2))) * 0.5


# =============================================================================== einsum

EINSUM_CASES = [
    ("ij,jk->ik", [(2, 3), (3, 2)]),
    ("ij,j", [(2, 3), (3,)]),
    ("i,i", [(3,), (3,)]),
    ("i,j->ij", [(2,), (3,)]),
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("iij->ij", [(2, 2, 3)]),
    ("ii,i->i", [(3, 3), (3,)]),
    ("ij->", [(2, 3)]),
    ("ij->j", [(2, 3)]),
    ("ba", [(2, 3)]),
    ("Ab,b", [(2, 3), (3,)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]),
    ("ijk,jil->kl", [(2, 3, 2), (3, 2, 2)]),
    ("ij,ij->ij", [(1, 3), (2, 3)]),  # size 1 against 2: broadcast, summed back
    ("i,i,i->", [(3,), (3,), (3,)]),
    ("ab,bc,cd->ad", [(2, 3), (3, 2), (2, 2)]),  # three operands: NumPy's contraction path
    ("...ij,...jk->...ik", [(2, 1, 2, 3), (3, 3, 2)]),
    ("i...->...", [(2, 3)]),
    (",i->i", [(), (3,)]),
]


@pytest.mark.parametrize(("spec", "shapes"), EINSUM_CASES, ids=[c[0] for c in EINSUM_CASES])
def test_einsum_cases(spec: str, shapes: list[tuple[int, ...]]) -> None:
    xs = [RNG.uniform(-1.5, 1.5, s) for s in shapes]
    out = tg.einsum(spec, *[Tensor(x) for x in xs])
    np.testing.assert_allclose(out.data, np.einsum(spec, *xs), rtol=1e-12, atol=1e-14)
    check(lambda *ts: tg.einsum(spec, *ts), *xs)


def test_einsum_repeated_index_gradient_is_on_the_diagonal() -> None:
    a = Tensor(RNG.standard_normal((3, 3)), requires_grad=True)
    (tg.einsum("ii->i", a) * np.array([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_array_equal(a.grad.data, np.diag([1.0, 2.0, 3.0]))
    b = Tensor(RNG.standard_normal((2, 3)), requires_grad=True)
    tg.einsum("ij->", b).backward()  # summed in one operand only: ones everywhere
    np.testing.assert_array_equal(b.grad.data, np.ones((2, 3)))


@st.composite
def einsum_problems(draw: Any) -> tuple[str, list[np.ndarray]]:
    """1 to 3 operands over the subscripts 'abcd' (repeats within an operand included), output implicit or explicit."""
    sizes = dict(zip("abcd", draw(st.lists(st.integers(1, 3), min_size=4, max_size=4))))
    n_ops = draw(st.integers(1, 3))
    subs = [draw(st.lists(st.sampled_from("abcd"), min_size=0, max_size=3)) for _ in range(n_ops)]
    used = sorted(set("".join("".join(s) for s in subs)))
    spec = ",".join("".join(s) for s in subs)
    if draw(st.booleans()):
        spec += "->" + "".join(draw(st.permutations(used))[:draw(st.integers(0, len(used)))])
    xs = [draw(reals(tuple(sizes[c] for c in s), -1.5, 1.5)) for s in subs]
    return spec, xs


@settings(max_examples=12)
@given(problem=einsum_problems())
def test_einsum_drawn(problem: tuple[str, list[np.ndarray]]) -> None:
    spec, xs = problem
    np.testing.assert_allclose(tg.einsum(spec, *[Tensor(x) for x in xs]).data, np.einsum(spec, *xs),
                               rtol=1e-12, atol=1e-13)
    check(lambda *ts: tg.einsum(spec, *ts), *xs)


@pytest.mark.parametrize(("spec", "shapes", "message"), [
    ("ij,jk", [(2, 3), (4, 2)], "subscript 'j'"),
    ("ij", [(2, 3), (3,)], "name 1 operand"),
    ("ijk", [(2, 3)], "shape (2, 3)"),
    ("ij->ii", [(2, 3)], "distinct"),
    ("ij->k", [(2, 3)], "distinct"),
    ("i1", [(2, 3)], "only letters"),
])
def test_einsum_errors_name_the_subscripts(spec: str, shapes: list[tuple[int, ...]], message: str) -> None:
    with pytest.raises(ValueError, match="tg.einsum") as e:
        tg.einsum(spec, *[tg.ones(*s) for s in shapes])
    assert message in str(e.value)


# =============================================================================== dot, inner, outer, tensordot

PRODUCT_CASES = [
    ("dot", (3,), (3,)), ("dot", (2, 3), (3,)), ("dot", (3,), (3, 2)), ("dot", (2, 3), (3, 2)),
    ("dot", (), (2, 3)), ("dot", (2, 2, 3), (2, 3, 2)), ("inner", (3,), (3,)), ("inner", (2, 3), (2, 3)),
    ("inner", (2, 2, 3), (3,)), ("inner", (2,), ()), ("outer", (3,), (2,)), ("outer", (2, 2), (3,)),
]


@pytest.mark.parametrize(("name", "sa", "sb"), PRODUCT_CASES, ids=[f"{n}{a}{b}" for n, a, b in PRODUCT_CASES])
def test_products(name: str, sa: tuple[int, ...], sb: tuple[int, ...]) -> None:
    a, b = RNG.standard_normal(sa), RNG.standard_normal(sb)
    fn = getattr(tg, name)
    np.testing.assert_allclose(fn(Tensor(a), Tensor(b)).data, getattr(np, name)(a, b), rtol=1e-12)
    check(fn, a, b)


@pytest.mark.parametrize("axes", [0, 1, 2, ([1, 0], [0, 1]), (2, 0), ([-1], [-3])], ids=str)
def test_tensordot(axes: Any) -> None:
    a, b = RNG.standard_normal((2, 2, 2)), RNG.standard_normal((2, 2, 2))
    np.testing.assert_allclose(tg.tensordot(Tensor(a), Tensor(b), axes).data, np.tensordot(a, b, axes), rtol=1e-12)
    check(lambda x, y: tg.tensordot(x, y, axes), a, b)


def test_product_errors() -> None:
    with pytest.raises(ValueError, match=r"tg.dot: shapes \(2, 3\) and \(4,\) not aligned"):
        tg.dot(tg.ones(2, 3), tg.ones(4))
    with pytest.raises(ValueError, match="tg.inner"):
        tg.inner(tg.ones(2, 3), tg.ones(2))
    with pytest.raises(ValueError, match="tg.tensordot: cannot contract"):
        tg.tensordot(tg.ones(2, 3), tg.ones(2, 3), axes=1)


# =============================================================================== diagonals and triangles

DIAGONAL_CASES = [((3, 3), 0, 0, 1), ((3, 4), 1, 0, 1), ((4, 3), -2, 0, 1), ((2, 3, 3), 0, 1, 2),
                  ((3, 2, 3), -1, 2, 0), ((2, 3, 4), 1, -1, -2), ((2, 2), 5, 0, 1)]


@pytest.mark.parametrize(("shape", "offset", "axis1", "axis2"), DIAGONAL_CASES, ids=str)
def test_diagonal_and_trace(shape: tuple[int, ...], offset: int, axis1: int, axis2: int) -> None:
    x = RNG.standard_normal(shape)
    np.testing.assert_array_equal(tg.diagonal(Tensor(x), offset, axis1, axis2).data,
                                  np.diagonal(x, offset, axis1, axis2))
    np.testing.assert_allclose(tg.trace(Tensor(x), offset, axis1, axis2).data, np.trace(x, offset, axis1, axis2),
                               rtol=1e-12)
    check(lambda a: tg.diagonal(a, offset, axis1, axis2) * tg.diagonal(a, offset, axis1, axis2), x)
    check(lambda a: a.trace(offset, axis1, axis2) * a.diagonal(offset, axis1, axis2).sum(), x)


@pytest.mark.parametrize(("shape", "k"), [((3,), 0), ((2,), 1), ((3,), -2), ((3, 3), 0), ((3, 4), 1), ((4, 3), -1)],
                         ids=str)
def test_diag(shape: tuple[int, ...], k: int) -> None:
    x = RNG.standard_normal(shape)
    np.testing.assert_array_equal(tg.diag(Tensor(x), k).data, np.diag(x, k))
    check(lambda a: tg.diag(a, k) ** 2, x)


@pytest.mark.parametrize("name", ["tril", "triu"])
@pytest.mark.parametrize(("shape", "k"), [((3, 3), 0), ((3, 4), 1), ((2, 3, 3), -1), ((3,), 0)], ids=str)
def test_triangles(name: str, shape: tuple[int, ...], k: int) -> None:
    x = RNG.standard_normal(shape)
    fn = getattr(tg, name)
    np.testing.assert_array_equal(fn(Tensor(x), k).data, getattr(np, name)(x, k))
    check(lambda a: fn(a, k) * fn(a, k), x)


def test_diagonal_errors() -> None:
    with pytest.raises(ValueError, match="tg.trace: needs at least 2 axes"):
        tg.trace(tg.ones(3))
    with pytest.raises(ValueError, match="tg.diagonal: axis1=0 and axis2=0"):
        tg.diagonal(tg.ones(2, 2), axis1=0, axis2=0)
    with pytest.raises(ValueError, match="tg.diag: input must be 1-D or 2-D"):
        tg.diag(tg.ones(2, 2, 2))


# =============================================================================== tg.linalg


@pytest.mark.parametrize("shape", [(3, 3), (2, 2, 2)], ids=str)
def test_inv_det_slogdet(shape: tuple[int, ...]) -> None:
    a = dominant(*shape)
    a[..., 0, :] *= -1  # a negative determinant somewhere
    np.testing.assert_allclose(tg.linalg.inv(Tensor(a)).data, np.linalg.inv(a), rtol=1e-12)
    np.testing.assert_allclose(tg.linalg.det(Tensor(a)).data, np.linalg.det(a), rtol=1e-12)
    sign, logdet = tg.linalg.slogdet(Tensor(a, requires_grad=True))
    np.testing.assert_array_equal(sign.data, np.linalg.slogdet(a)[0])
    assert not sign.requires_grad and logdet.requires_grad
    np.testing.assert_allclose(logdet.data, np.linalg.slogdet(a)[1], rtol=1e-12)
    check(tg.linalg.inv, a)
    check(tg.linalg.det, a)
    check(lambda x: tg.linalg.slogdet(x)[1], a)


def test_det_and_solve_against_scipy() -> None:
    a, b = dominant(4, 4), RNG.standard_normal((4, 2))
    assert np.isclose(tg.linalg.det(a).item(), scipy.linalg.det(a), rtol=1e-12)
    np.testing.assert_allclose(tg.linalg.solve(a, b).data, scipy.linalg.solve(a, b), rtol=1e-12)
    g = tg.grad(lambda x: tg.linalg.det(x))(a)
    np.testing.assert_allclose(g, scipy.linalg.det(a) * scipy.linalg.inv(a).T, rtol=1e-10)


def test_hessian_of_log_det() -> None:
    """d² log det A [dA, dA'] = -tr(A⁻¹ dA A⁻¹ dA'): H[i, j, k, l] = -A⁻¹[l, i] A⁻¹[j, k]."""
    a = spd(3, 3)
    ainv = np.linalg.inv(a)
    expected = -np.einsum("li,jk->ijkl", ainv, ainv)
    np.testing.assert_allclose(tg.hessian(lambda x: tg.linalg.slogdet(x).logabsdet)(a), expected, rtol=1e-10,
                               atol=1e-13)
    np.testing.assert_allclose(tg.hessian(lambda x: tg.log(tg.linalg.det(x)))(a), expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(("sa", "sb"), [((3, 3), (3,)), ((3, 3), (3, 2)), ((2, 3, 3), (3,)), ((3, 3), (2, 3, 1)),
                                        ((2, 1, 2, 2), (3, 2, 2))], ids=str)
def test_solve(sa: tuple[int, ...], sb: tuple[int, ...]) -> None:
    a, b = dominant(*sa), RNG.standard_normal(sb)
    out = tg.linalg.solve(Tensor(a), Tensor(b))
    np.testing.assert_allclose(out.data, np.linalg.solve(a, b), rtol=1e-12)
    check(tg.linalg.solve, a, b)


def test_cholesky() -> None:
    a = spd(2, 3, 3)
    np.testing.assert_allclose(tg.linalg.cholesky(a).data, np.linalg.cholesky(a), rtol=1e-12)
    np.testing.assert_allclose(tg.linalg.cholesky(a[0]).data, scipy.linalg.cholesky(a[0], lower=True), rtol=1e-12)
    np.testing.assert_allclose(tg.linalg.cholesky(a, upper=True).data, np.linalg.cholesky(a, upper=True), rtol=1e-12)
    b = RNG.standard_normal((3, 3))
    check(lambda x: tg.linalg.cholesky(x @ x.T + 3 * np.eye(3)), b)  # through a symmetric parametrisation
    check(lambda x: tg.linalg.cholesky(sym(x)), a)
    # The gradient is symmetrised: with respect to a symmetric perturbation it is the derivative.
    g = tg.grad(lambda x: (tg.linalg.cholesky(x) * b).sum())(a[0])
    np.testing.assert_allclose(g, g.T, rtol=1e-12)


def distinct_spd(*shape: int) -> np.ndarray:
    q = np.linalg.qr(RNG.standard_normal(shape))[0]
    w = np.arange(1.0, shape[-1] + 1.0) * 1.5
    return q @ (w[:, None] * np.swapaxes(q, -1, -2))


def test_eigh() -> None:
    a = distinct_spd(2, 3, 3)
    w, v = tg.linalg.eigh(Tensor(a))
    ws, vs = scipy.linalg.eigh(a[1])
    np.testing.assert_allclose(w.data[1], ws, rtol=1e-12)
    np.testing.assert_allclose(np.abs(v.data[1]), np.abs(vs), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(v.data @ (w.data[..., None] * np.swapaxes(v.data, -1, -2)), a, atol=1e-12)
    check(lambda x: tg.linalg.eigh(sym(x)).eigenvalues, a)
    # Eigenvectors are defined up to sign: differentiate functions that do not see the sign.
    check(lambda x: tg.linalg.eigh(sym(x))[1] ** 2, a)
    check(lambda x: tg.einsum("...ij,...kj->...ik", tg.linalg.eigh(sym(x))[1][..., :, :1],
                              tg.linalg.eigh(sym(x))[1][..., :, :1]), a)


def test_eigh_gradient_at_repeated_eigenvalues_raises() -> None:
    a = np.diag([1.0, 1.0, 2.0])
    # the eigenvalues alone are fine there: d(sum w) = tr
    np.testing.assert_allclose(tg.grad(lambda x: tg.linalg.eigh(x)[0].sum())(a), np.eye(3), atol=1e-12)
    c = RNG.standard_normal((3, 3))
    with pytest.raises(ValueError, match="eigh: the gradient of the eigenvectors is not defined at repeated"):
        tg.grad(lambda x: (tg.linalg.eigh(x)[1] * c).sum())(a)
    with pytest.raises(ValueError, match="eigh: the derivative of the eigenvectors"):
        tg.jvp(lambda x: tg.linalg.eigh(x)[1], (a,), (c + c.T,))


NORM_CASES = [
    ((4,), None, None, False), ((4,), 1, None, False), ((4,), 3, None, True), ((4,), 0.5, None, False),
    ((4,), -1.5, None, False), ((4,), np.inf, None, False), ((4,), -np.inf, None, False),
    ((2, 3), None, None, True), ((2, 3, 2), None, None, False), ((2, 3), 2, 1, False), ((2, 3), 1, 0, True),
    ((2, 3), "fro", None, False), ((2, 3, 2), "fro", (0, 2), True), ((3, 2), 1, None, False),
    ((3, 2), -1, None, False), ((2, 3, 2), np.inf, (2, 1), False), ((3, 2), -np.inf, None, True),
]


@pytest.mark.parametrize(("shape", "ord", "axis", "keepdims"), NORM_CASES, ids=str)
def test_norm(shape: tuple[int, ...], ord: Any, axis: Any, keepdims: bool) -> None:
    x = RNG.permutation(np.prod(shape)).reshape(shape) / 4 - 1.1  # distinct, none at 0: no ties, no kinks
    expected = np.linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims)
    out = tg.linalg.norm(Tensor(x), ord=ord, axis=axis, keepdims=keepdims)
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12)
    check(lambda a: tg.linalg.norm(a, ord=ord, axis=axis, keepdims=keepdims), x)


def test_norm_gradient_at_zero_is_zero() -> None:
    for ord in (None, 2, 1, 3, 0.5, np.inf):
        g = tg.grad(lambda x, o=ord: tg.linalg.norm(x, ord=o))(np.zeros(3))
        np.testing.assert_array_equal(g, np.zeros(3), err_msg=f"ord={ord}")
    g = tg.grad(lambda x: tg.linalg.norm(x, ord=0.5))(np.array([0.0, 4.0]))  # an entry at 0: derivative 0 there
    np.testing.assert_array_equal(g, [0.0, 1.0])
    np.testing.assert_array_equal(tg.grad(lambda x: tg.linalg.norm(x, "fro"))(np.zeros((2, 2))), np.zeros((2, 2)))
    x = Tensor(np.array([0.0, 2.0, 0.0]), requires_grad=True)
    tg.linalg.norm(x, ord=0).backward()  # a count: gradient 0
    np.testing.assert_array_equal(x.grad.data, np.zeros(3))


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda: tg.linalg.inv(np.ones((2, 2))), np.linalg.LinAlgError, "tg.linalg.inv: the matrix of shape (2, 2) is "
                                                                    "singular"),
    (lambda: tg.linalg.inv(np.stack([np.eye(2), np.ones((2, 2))])), np.linalg.LinAlgError, "matrix (1,) of the stack"),
    (lambda: tg.linalg.solve(np.zeros((2, 2)), np.ones(2)), np.linalg.LinAlgError, "singular"),
    (lambda: tg.linalg.cholesky(-np.eye(2)), np.linalg.LinAlgError, "not positive definite"),
    (lambda: tg.linalg.inv(np.ones((2, 3))), ValueError, "tg.linalg.inv: needs square matrices"),
    (lambda: tg.linalg.det(np.ones(3)), ValueError, "got shape (3,)"),
    (lambda: tg.linalg.solve(np.eye(2), np.ones(3)), ValueError, "b of shape (3,)"),
    (lambda: tg.linalg.norm(np.ones((2, 2)), ord=2), ValueError, "needs singular values"),
    (lambda: tg.linalg.norm(np.ones((2, 2)), ord="nuc"), ValueError, "needs singular values"),
    (lambda: tg.linalg.norm(np.ones(2), ord="fro"), ValueError, "is a matrix norm"),
    (lambda: tg.linalg.norm(np.ones((2, 2)), axis=(0, 0)), ValueError, "must name one or two axes"),
])
def test_linalg_errors(call: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error) as e:
        call()
    assert message in str(e.value)


# =============================================================================== NumPy interop and methods


def test_numpy_functions_return_differentiable_tensors() -> None:
    a, x = dominant(3, 3), RNG.standard_normal(3)
    ta, tx = Tensor(a, requires_grad=True), Tensor(x, requires_grad=True)
    calls = {
        "np.linalg.inv": (lambda: np.linalg.inv(ta), np.linalg.inv(a)),
        "np.linalg.solve": (lambda: np.linalg.solve(ta, tx), np.linalg.solve(a, x)),
        "np.linalg.det": (lambda: np.linalg.det(ta), np.linalg.det(a)),
        "np.linalg.slogdet": (lambda: np.linalg.slogdet(ta)[1], np.linalg.slogdet(a)[1]),
        "np.linalg.cholesky": (lambda: np.linalg.cholesky(ta @ ta.T), np.linalg.cholesky(a @ a.T)),
        "np.linalg.eigh": (lambda: np.linalg.eigh(ta + ta.T)[0], np.linalg.eigh(a + a.T)[0]),
        "np.linalg.norm": (lambda: np.linalg.norm(tx), np.linalg.norm(x)),
        "np.linalg.norm ord=1 axis=0": (lambda: np.linalg.norm(ta, ord=1, axis=0), np.linalg.norm(a, 1, axis=0)),
        "np.einsum": (lambda: np.einsum("ij,j", ta, tx), np.einsum("ij,j", a, x)),
        "np.dot": (lambda: np.dot(ta, x), np.dot(a, x)),
        "np.inner": (lambda: np.inner(a, tx), np.inner(a, x)),
        "np.outer": (lambda: np.outer(tx, x), np.outer(x, x)),
        "np.tensordot": (lambda: np.tensordot(ta, ta, axes=2), np.tensordot(a, a, axes=2)),
        "np.trace": (lambda: np.trace(ta), np.trace(a)),
        "np.diag": (lambda: np.diag(tx, k=1), np.diag(x, k=1)),
        "np.diagonal": (lambda: np.diagonal(ta, 1), np.diagonal(a, 1)),
        "np.tril": (lambda: np.tril(ta, -1), np.tril(a, -1)),
        "np.triu": (lambda: np.triu(ta), np.triu(a)),
    }
    for name, (call, expected) in calls.items():
        out = call()
        assert isinstance(out, Tensor) and out.requires_grad, name
        np.testing.assert_allclose(out.data, expected, rtol=1e-12, err_msg=name)
        out.sum().backward()
    assert ta.grad is not None and tx.grad is not None


def test_numpy_keywords_refused_clearly() -> None:
    t = Tensor(np.eye(2), requires_grad=True)
    with pytest.raises(TypeError, match="np.trace on Tensors does not take dtype="):
        np.trace(t, dtype=np.float32)
    with pytest.raises(TypeError, match="np.einsum on Tensors does not take out="):
        np.einsum("ii", t, out=np.zeros(()))


def test_tensor_methods() -> None:
    a = RNG.standard_normal((3, 3))
    t = Tensor(a)
    np.testing.assert_allclose(t.dot(a).data, a.dot(a), rtol=1e-12)
    assert t.trace().item() == pytest.approx(a.trace(), rel=1e-12)
    np.testing.assert_array_equal(t.diagonal(1).data, a.diagonal(1))
    check(lambda x: x.dot(x) + x.trace() * x.diagonal(), a)


def test_every_primitive_is_in_the_table() -> None:
    for name in ("einsum", "diagonal", "diag_embed", "tril", "triu", "inv", "solve", "det", "logabsdet", "cholesky",
                 "eigvalsh", "eigvecsh", "norm"):
        prim = ops.TABLE[name]
        assert prim.batchable and (prim.jvps or prim.jvp_argnum), name
    assert tg.linalg is linalg and tg.einsum is linalg.einsum


def test_docstring_examples() -> None:
    result = doctest.testmod(linalg, extraglobs={"tg": tg, "np": np},
                             optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted >= 15
