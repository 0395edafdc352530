"""``where`` never leaks a NaN or Inf of the branch it did not select, through every op of ``ops.TABLE``.

Each case is ``where(cond, branch(x), safe)`` where ``branch`` runs one op of the table (or two, for a
shape op handing known zeros to a row-wise one) on ``log`` of some entries of ``x``. The entries of
``x`` that feed only unselected outputs are found at a clean point (from the pattern of the branch's
Jacobian by forward mode, which needs no known-zero bookkeeping, and by probing), then set to 0 and
-1, where ``log`` is -Inf or NaN and its derivative Inf or -1. Every derivative of the masked graph must be
finite there and equal, entry by entry, to the derivative at the clean point: the unselected branch
cannot matter. Checked in reverse mode (``backward``, ``tg.grad``), at second order
(``create_graph``, grad of grad), in forward mode (``tg.jvp``, ``tg.jacobian(mode="fwd")``) and for
Hessians (``tg.hessian``, ``tg.hvp``).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from strategies import axes, matmul_shapes, shapes

import tinygrad_mvc as tg
from tinygrad_mvc import engine, ops

Tensor = tg.Tensor
log = tg.log

CONSERVATIVE: frozenset[str] = frozenset()
"""Differentiable ops of the table that stop known zeros (no elementwise, structural or zero_map
declaration): a ``where`` above them may leak. Empty: every built-in op maps them."""


@dataclass
class Case:
    name: str
    ops: tuple[str, ...]  # the ops of the table this case is about
    branch: Callable[[Any], Tensor]
    shape: tuple[int, ...]  # of x
    cond: np.ndarray  # broadcasts against the branch's output
    safe: Any = 0.0

    def f(self, x: Any) -> Tensor:
        return tg.where(self.cond, self.branch(x), self.safe)

    def plain(self, x: Any) -> Tensor:
        """The same function written without ``where`` (so without known zeros), for clean inputs only."""
        return self.branch(x) * self.cond + (1.0 - self.cond) * self.safe


CASES: list[Case] = []


def case(name: str, op_names: str, branch: Callable[[Any], Tensor], shape: tuple[int, ...], cond: Any,
         safe: Any = 0.0) -> None:
    CASES.append(Case(name, tuple(op_names.split()), branch, shape, np.asarray(cond, dtype=bool), safe))


ROWS3 = [[True], [False], [True]]  # row 1 unselected, broadcast along the columns
COLS4 = [[True, False, True, True]]  # column 1 unselected, broadcast along the rows
ENTRY34 = np.ones((3, 4), dtype=bool)
ENTRY34[1, 2] = False  # one entry unselected

# ------------------------------------------------------------------------------ elementwise
UNARY = {
    "identity": ops.identity, "neg": ops.neg, "exp": tg.exp, "log": tg.log, "sqrt": tg.sqrt, "sin": tg.sin,
    "cos": tg.cos, "tan": tg.tan, "tanh": tg.tanh, "sigmoid": tg.sigmoid, "relu": tg.relu,
    "softplus": tg.softplus, "abs": tg.abs, "clip": lambda a: tg.clip(a, -0.5, 0.5), "clone": ops.clone,
    "sign": tg.sign,
}
for _name, _fn in UNARY.items():
    case(f"{_name}, rows", _name, lambda x, fn=_fn: fn(log(x)), (3, 4), ROWS3)
    case(f"{_name}, one entry", _name, lambda x, fn=_fn: fn(log(x)), (3, 4), ENTRY34)

BINARY = {
    "add": ops.add, "sub": ops.sub, "mul": ops.mul, "div": ops.div, "pow": ops.pow, "maximum": tg.maximum,
    "minimum": tg.minimum, "hinge": ops.hinge, "tanh_grad": ops.tanh_grad, "sigmoid_grad": ops.sigmoid_grad,
    "relu_grad": ops.relu_grad,
}
for _name, _fn in BINARY.items():
    # (3, 4) against a broadcast (3, 1) operand: one entry of the first is unselected, none of the second.
    case(f"{_name}, one entry, broadcast", _name, lambda x, fn=_fn: fn(log(x[:, :4]), x[:, 4:]), (3, 5), ENTRY34)
    case(f"{_name}, rows, broadcast operand", _name, lambda x, fn=_fn: fn(x[:, :4], log(x[:, 4:])), (3, 5), ROWS3)
case("where inside the branch", "where", lambda x: tg.where(x[:, :1] > 1.35, log(x[:, 1:]), -x[:, 1:]), (3, 5),
     ROWS3)
case("where, safe branch uses x", "where", lambda x: log(x) * 2.0, (3, 4), ENTRY34,
     safe=np.arange(12.0).reshape(3, 4))

# ------------------------------------------------------------------------------ reductions
for _name in ("sum", "mean", "max", "min", "prod", "var", "logsumexp"):
    def _reduce(a: Tensor, axis: Any, keepdims: bool = False, name: str = _name) -> Tensor:
        return getattr(a, name)(axis=axis, keepdims=keepdims)

    case(f"{_name}, rows", _name, lambda x, r=_reduce: r(log(x), 1), (3, 4), [True, False, True])
    case(f"{_name}, columns", _name, lambda x, r=_reduce: r(log(x), 0), (3, 4), COLS4[0])
    case(f"{_name}, keepdims", _name, lambda x, r=_reduce: r(log(x), -1, True), (3, 4), ROWS3)
    case(f"{_name}, two axes", _name, lambda x, r=_reduce: r(log(x), (0, 2)), (2, 3, 2), [True, False, True])
    case(f"{_name}, everything", _name, lambda x, r=_reduce: tg.stack([r(log(x[:2]), None), x[2, 0]]), (3, 2),
         [False, True])
case("var, ddof=1", "var", lambda x: log(x).var(axis=1, ddof=1), (3, 4), [True, False, True])

for _name in ("softmax", "log_softmax"):
    case(f"{_name}, rows", _name, lambda x, n=_name: getattr(log(x), n)(axis=1), (3, 4), ROWS3)
    case(f"{_name}, columns", _name, lambda x, n=_name: getattr(log(x), n)(axis=0), (3, 4), COLS4)
    case(f"{_name}, one row of a batch", _name, lambda x, n=_name: getattr(log(x), n)(axis=-1), (2, 3, 4),
         np.array([[[True], [False], [True]], [[True], [True], [False]]]))
    # One entry of the output unselected: no whole slice is known zero, and none needs to be.
    case(f"{_name}, one entry (nothing known)", _name,
         lambda x, n=_name: getattr(x[:, 4:] * np.arange(1.0, 5.0), n)(axis=1) * log(x[:, :4]), (3, 5), ENTRY34)
case("softmax_cross_entropy, rows", "softmax_cross_entropy",
     lambda x: ops.softmax_cross_entropy(log(x), np.array([0, 3, 1])), (3, 4), [True, False, True])

# ------------------------------------------------------------------------------ shape ops
# Each hands known zeros on to a row-wise op (or takes them from one): the shape op alone never leaked.
RESHAPED = np.ones((2, 6), dtype=bool)
RESHAPED[0, 4:], RESHAPED[1, :2] = False, False  # row 1 of the (3, 4) softmax
case("reshape", "reshape softmax", lambda x: log(x).softmax(axis=1).reshape(2, 6), (3, 4), RESHAPED)
case("reshape, before", "reshape max", lambda x: log(x).reshape(2, 2, 3).max(axis=2), (3, 4),
     [[True, False], [True, True]])
case("transpose", "transpose log_softmax", lambda x: log(x).log_softmax(axis=1).T, (3, 4), [[True, False, True]])
case("transpose, before", "transpose logsumexp", lambda x: log(x).transpose(1, 0).logsumexp(axis=0), (3, 4),
     [True, False, True])
case("broadcast_to", "broadcast_to softmax", lambda x: ops.broadcast_to(log(x).softmax(axis=1), (2, 3, 4)),
     (3, 4), [[[True], [False], [True]]])
case("broadcast_to, before", "broadcast_to prod",
     lambda x: ops.broadcast_to(log(x[:, None, :]), (3, 2, 4)).prod(axis=(1, 2)), (3, 4), [True, False, True])
case("sum_to", "sum_to var", lambda x: ops.sum_to(log(x).var(axis=2, keepdims=True), (3, 1)), (2, 3, 4), ROWS3)
case("sum_to, before", "sum_to softmax", lambda x: ops.sum_to(log(x), (3, 4)).softmax(axis=1), (2, 3, 4), ROWS3)
case("cast", "cast softmax", lambda x: ops.cast(log(x), np.float32).softmax(axis=1), (3, 4), ROWS3)
case("cast, after", "cast min", lambda x: ops.cast(log(x).min(axis=1), np.float32), (3, 4), [True, False, True])
case("getitem", "getitem logsumexp", lambda x: log(x).logsumexp(axis=1)[[0, 1, 1, 2]], (3, 4),
     [True, False, False, True])
case("getitem, before", "getitem softmax", lambda x: log(x)[[2, 1, 1, 0]].softmax(axis=1), (3, 4),
     [[True], [False], [False], [True]])
case("index_add", "index_add max", lambda x: ops.index_add(log(x).max(axis=1), (np.array([0, 2, 3]),), (4,)),
     (3, 4), [True, True, False, True])
case("index_add, before", "index_add log_softmax",
     lambda x: ops.index_add(log(x), (np.array([0, 2, 3]),), (4, 4)).log_softmax(axis=1)[[0, 2, 3]], (3, 4),
     ROWS3)
case("concatenate", "concatenate softmax", lambda x: tg.concatenate([log(x[:2]).softmax(axis=1), x[2:]]),
     (3, 4), ROWS3)
case("concatenate, before", "concatenate max", lambda x: tg.concatenate([log(x[:, :2]), x[:, 2:]], axis=1).max(axis=1),
     (3, 4), [True, False, True])
case("stack", "stack log_softmax", lambda x: tg.stack([log(x).log_softmax(axis=1), Tensor(np.ones((3, 4)))]), (3, 4),
     [[[True], [False], [True]], [[True], [True], [True]]])
case("stack, before", "stack var", lambda x: tg.stack([log(x[:, :2]), x[:, 2:]], axis=1).var(axis=(1, 2)),
     (3, 4), [True, False, True])

# ------------------------------------------------------------------------------ linear algebra
W23 = np.array([[1.0, -2.0, 0.5], [0.3, 4.0, -1.0]])
case("matmul, the issue's example", "matmul", lambda x: log(x) @ W23, (3, 2), ROWS3)
case("matmul, rows", "matmul", lambda x: log(x[:, :2]) @ x[:2, 2:], (3, 5), ROWS3)
case("matmul, columns", "matmul", lambda x: x[:, :2] @ log(x[:2, 2:]), (3, 5), [[True, False, True]])
case("matmul, vector @ matrix", "matmul", lambda x: x[0, :2] @ log(x[1:, :].T), (3, 2), [True, False])
case("matmul, matrix @ vector", "matmul", lambda x: log(x[:, :2]) @ x[0, 2:], (3, 4), [True, False, True])
case("matmul, broadcast batch", "matmul", lambda x: log(x[:6].reshape(2, 3, 2)) @ x[6:8].T, (8, 2),
     [[[True], [False], [True]], [[True], [False], [False]]])
case("matmul, broadcast batch, other side", "matmul", lambda x: x[:2, :] @ log(x[2:].reshape(2, 2, 2)), (6, 2),
     [[[True, False]], [[False, True]]])
case("matmul_nt, rows", "matmul_nt", lambda x: ops.matmul_nt(log(x[:3]), x[3:]), (5, 2), ROWS3)
case("matmul_nt, columns", "matmul_nt", lambda x: ops.matmul_nt(x[:3], log(x[3:])), (5, 2), [[False, True]])
case("matmul_tn, rows", "matmul_tn", lambda x: ops.matmul_tn(log(x[:, :3]), x[:, 3:]), (2, 5), ROWS3)
case("matmul_tn, columns", "matmul_tn", lambda x: ops.matmul_tn(x[:, :3], log(x[:, 3:])), (2, 5), [[True, False]])
case("linear, rows", "linear", lambda x: ops.linear(log(x[:3, :2]), x[3:5, :], x[5]), (6, 2), ROWS3)
case("linear, columns", "linear", lambda x: ops.linear(x[:3, :], log(x[3:5, :]), x[5]), (6, 2), [[True, False]])
case("linear, bias", "linear", lambda x: ops.linear(x[:3, :], x[3:5, :], log(x[5])), (6, 2), [[False, True]])
CROSS = np.ones((3, 3), dtype=bool)
CROSS[1, :], CROSS[:, 1] = False, False  # only the entry (1, 1) feeds nothing but unselected outputs
case("matmul, one operand twice", "matmul", lambda x: log(x) @ log(x), (3, 3), CROSS)
case("softmax of a matmul, masked rows", "matmul softmax", lambda x: (log(x[:, :2]) @ x[:2, 2:]).softmax(axis=1),
     (3, 5), ROWS3)

# ---- issue 15: tg.linalg and the contractions (helper linalg15)
I2 = 2.0 * np.eye(2)  # keeps the (2, 2) matrices made of logs far from singular
SECOND = np.array([[[True]], [[False]]])  # the second matrix of a (2, 2, 2) stack unselected
case("einsum, rows", "einsum", lambda x: tg.einsum("ij,jk->ik", log(x[:, :2]), x[:2, 2:]), (3, 5), ROWS3)
case("einsum, columns", "einsum", lambda x: tg.einsum("ij,jk", x[:, :2], log(x[:2, 2:])), (3, 5), [[True, False, True]])
case("einsum, a repeated index", "einsum", lambda x: tg.einsum("ii->i", log(x)), (3, 3), [True, False, True])
case("einsum, summed in one operand", "einsum", lambda x: tg.stack([tg.einsum("ij->", log(x[:2])), x[2, 0]]),
     (3, 2), [False, True])
case("diagonal", "diagonal", lambda x: tg.diagonal(log(x)), (3, 3), [True, False, True])
case("diagonal, before", "diagonal softmax", lambda x: tg.diagonal(log(x), axis1=1, axis2=2).softmax(axis=1),
     (3, 2, 2), ROWS3)
case("diag_embed", "diag_embed", lambda x: tg.diag(log(x)), (3,), ROWS3)
case("tril", "tril", lambda x: tg.tril(log(x)), (3, 3), ROWS3)
case("triu", "triu softmax", lambda x: tg.triu(log(x), k=-1).softmax(axis=1), (3, 3), ROWS3)
case("inv", "inv", lambda x: tg.linalg.inv(log(x) + I2), (2, 2, 2), SECOND)
case("solve, a", "solve", lambda x: tg.linalg.solve(log(x[..., :2]) + I2, x[..., 2:]), (2, 2, 3), SECOND)
case("solve, b", "solve", lambda x: tg.linalg.solve(x[..., :2] + I2, log(x[..., 2:])), (2, 2, 3), SECOND)
case("det", "det", lambda x: tg.linalg.det(log(x) + I2), (2, 2, 2), [True, False])
case("slogdet", "logabsdet", lambda x: tg.linalg.slogdet(log(x) + I2)[1], (2, 2, 2), [True, False])
case("cholesky", "cholesky", lambda x: tg.linalg.cholesky(log(x) + 1.5 * I2), (2, 2, 2), SECOND)
case("eigh, values", "eigvalsh", lambda x: tg.linalg.eigh(log(x) + I2)[0], (2, 2, 2), [[True], [False]])
case("eigh, vectors", "eigvecsh", lambda x: tg.linalg.eigh(log(x) + I2)[1] ** 2, (2, 2, 2), SECOND)
case("norm, rows", "norm", lambda x: tg.linalg.norm(log(x), axis=1), (3, 4), [True, False, True])
case("norm, p = 3, matrices", "norm", lambda x: tg.linalg.norm(log(x), ord="fro", axis=(1, 2)) +
     tg.linalg.norm(log(x), ord=3, axis=1).sum(axis=1), (3, 2, 2), [True, False, True])
# ---- end of tg.linalg


# ------------------------------------------------------------------------------ vocabulary (issue 15)
# log(x) lies in (0.09, 0.47) at the clean point: inside every domain below once shifted.
VOCABULARY_UNARY = {
    "sinh": tg.sinh, "cosh": tg.cosh, "arcsin": tg.arcsin, "arccos": tg.arccos, "arctan": tg.arctan,
    "arcsinh": tg.arcsinh, "arccosh": lambda a: tg.arccosh(a + 1.5), "arctanh": tg.arctanh, "log1p": tg.log1p,
    "expm1": tg.expm1, "log2": tg.log2, "log10": tg.log10, "exp2": tg.exp2, "square": tg.square,
    "reciprocal": tg.reciprocal, "sinc": tg.sinc, "floor": lambda a: tg.floor(a * 10),
    "ceil": lambda a: tg.ceil(a * 10), "round": lambda a: tg.round(a * 10), "trunc": lambda a: tg.trunc(a * 10),
    "sinc_derivative": lambda a: ops.sinc_derivative(a, n=2), "round_decimals": lambda a: tg.round(a, 1),
}
for _name, _fn in VOCABULARY_UNARY.items():
    case(f"{_name}, rows", _name, lambda x, fn=_fn: fn(log(x)), (3, 4), ROWS3)
    case(f"{_name}, one entry", _name, lambda x, fn=_fn: fn(log(x)), (3, 4), ENTRY34)
VOCABULARY_BINARY = {"mod": tg.mod, "fmod": tg.fmod, "arctan2": tg.arctan2, "hypot": tg.hypot}
for _name, _fn in VOCABULARY_BINARY.items():
    case(f"{_name}, one entry, broadcast", _name, lambda x, fn=_fn: fn(log(x[:, :4]), x[:, 4:]), (3, 5), ENTRY34)
    case(f"{_name}, rows, broadcast operand", _name, lambda x, fn=_fn: fn(x[:, :4], log(x[:, 4:])), (3, 5), ROWS3)
for _name, _scan in (("cumsum", tg.cumsum), ("cumprod", tg.cumprod)):
    case(f"{_name}, rows", _name, lambda x, s=_scan: s(log(x), axis=1), (3, 4), ROWS3)
    case(f"{_name}, the tail of each column", _name, lambda x, s=_scan: s(log(x), axis=0), (3, 4),
         [[True], [True], [False]])
    case(f"{_name}, flattened", _name, lambda x, s=_scan: s(log(x)), (2, 3), [True, True, True, True, False, False])
    case(f"{_name}, then softmax", f"{_name} softmax", lambda x, s=_scan: s(log(x), axis=1).softmax(axis=1), (3, 4),
         ROWS3)
    case(f"{_name} of a row-wise op", f"{_name} log_softmax", lambda x, s=_scan: s(log(x).log_softmax(axis=1), axis=1),
         (3, 4), ROWS3)


# ------------------------------------------------------------------------------ the checks

def prepared(c: Case) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x_bad, x_clean, weights of the output, a direction) for a case."""
    rng = np.random.default_rng(zlib.crc32(c.name.encode()))
    clean = rng.uniform(1.1, 1.6, c.shape)  # 0 < log(x) < 0.5: every branch finite, off every kink
    feeds = selected_inputs(c, clean)
    if not c.ops:  # drawn by hypothesis
        assume(not feeds.all())
    assert not feeds.all(), f"{c.name}: every entry of x feeds a selected output; the case tests nothing"
    bad = clean.copy()
    bad[~feeds] = np.resize([0.0, -1.0], int((~feeds).sum()))
    out_shape = c.branch(Tensor(clean)).shape
    weights = rng.uniform(0.5, 1.5, np.broadcast_shapes(out_shape, np.shape(c.safe)))
    return bad, clean, weights, rng.uniform(-1.0, 1.0, c.shape)


def selected_inputs(c: Case, clean: np.ndarray) -> np.ndarray:
    """The entries of x that reach a selected output: through a non-zero derivative at the clean point
    (forward mode, which keeps no known zeros), or because setting them to NaN, -1 or 0 changes one."""
    jac = np.asarray(tg.jacobian(c.branch, mode="fwd")(clean))
    out_shape = jac.shape[:jac.ndim - clean.ndim]
    selected = np.broadcast_to(c.cond, out_shape)
    feeds = (jac.reshape(selected.size, -1)[selected.reshape(-1)] != 0).any(axis=0)
    reference = c.branch(Tensor(clean)).data[selected]
    for i in np.flatnonzero(~feeds):
        for value in (np.nan, -1.0, 0.0):
            probe = clean.copy().reshape(-1)
            probe[i] = value
            with np.errstate(all="ignore"):
                changed = c.branch(Tensor(probe.reshape(clean.shape))).data[selected]
            if not np.array_equal(changed, reference):
                feeds[i] = True
                break
    return feeds.reshape(clean.shape)


def same(name: str, what: str, at_bad: Any, at_clean: Any) -> None:
    at_bad, at_clean = np.asarray(at_bad, dtype=np.float64), np.asarray(at_clean, dtype=np.float64)
    assert np.all(np.isfinite(at_bad)), f"{name}: {what} leaks NaN/Inf from the unselected branch:\n{at_bad}"
    np.testing.assert_allclose(at_bad, at_clean, rtol=1e-12, atol=1e-13, err_msg=f"{name}: {what}")


def compare(c: Case, *modes: Callable[..., Any]) -> None:
    """Each mode at the bad point equals the mode at the clean point, which equals the mode of the
    where-free spelling there (so a known zero forced where the gradient is not zero would show)."""
    x_bad, x_clean, weights, v = prepared(c)

    def loss(x: Any) -> Tensor:
        return (c.f(x) * weights).sum()

    def plain_loss(x: Any) -> Tensor:
        return (c.plain(x) * weights).sum()

    for mode in modes:
        with np.errstate(all="ignore"):  # the unselected branch's own forward makes NaN/Inf
            at_bad = mode(c.f, loss, x_bad, v)
        at_clean = mode(c.f, loss, x_clean, v)
        same(c.name, mode.__name__, at_bad, at_clean)
        same(c.name, f"{mode.__name__} on clean inputs, where against no where", at_clean,
             mode(c.plain, plain_loss, x_clean, v))


def backward(f: Any, loss: Any, x: np.ndarray, v: np.ndarray) -> np.ndarray:
    t = Tensor(x, requires_grad=True)
    loss(t).backward()
    return t.grad.data


def grad(f: Any, loss: Any, x: np.ndarray, v: np.ndarray) -> np.ndarray:
    return tg.grad(loss)(x)


def create_graph(f: Any, loss: Any, x: np.ndarray, v: np.ndarray) -> np.ndarray:
    """H v from a backward(create_graph=True) differentiated by a second backward."""
    t = Tensor(x, requires_grad=True)
    loss(t).backward(create_graph=True)
    first, t.grad = t.grad, None
    (first * v).sum().backward()
    return np.zeros(x.shape) if t.grad is None else t.grad.data  # None: the gradient does not depend on x


def grad_of_grad(f: Any, loss: Any, x: np.ndarray, v: np.ndarray) -> np.ndarray:
    return tg.grad(lambda y: (tg.grad(loss)(y) * v).sum())(x)


def hessian_rev(f: Any, loss: Any, x: np.ndarray, v: np.ndarray) -> np.ndarray:
    return tg.jacobian(tg.grad(loss), mode="rev")(x)  # batched reverse over reverse


def hessian(f: Any, loss: Any, x: np.ndarray, v: np.ndarray) -> np.ndarray:
    return tg.hessian(loss)(x)  # forward over reverse


def hvp(f: Any, loss: Any, x: np.ndarray, v: np.ndarray) -> np.ndarray:
    return tg.hvp(loss, x, v)


def ids(cases: list[Case]) -> list[str]:
    return [c.name for c in cases]


def jacobian_rev(f: Any, loss: Any, x: np.ndarray, v: np.ndarray) -> np.ndarray:
    return tg.jacobian(f, mode="rev")(x)  # a batch of VJPs through the graph at once


@pytest.mark.parametrize("c", CASES, ids=ids(CASES))
def test_first_order(c: Case) -> None:
    compare(c, backward, grad, jacobian_rev)


@pytest.mark.parametrize("c", CASES, ids=ids(CASES))
def test_second_order(c: Case) -> None:
    compare(c, create_graph, grad_of_grad, hessian_rev)


@pytest.mark.parametrize("c", CASES, ids=ids(CASES))
def test_forward_mode(c: Case) -> None:
    """A tangent made by the unselected branch (``t / x`` at ``x = 0``) never reaches a selected output."""
    x_bad, x_clean, _, v = prepared(c)
    for name, run in (("jvp", lambda x, f: tg.jvp(f, (x,), (v,))[1]),
                      ("jacobian fwd", lambda x, f: tg.jacobian(f, mode="fwd")(x))):
        with np.errstate(all="ignore"):
            at_bad = run(x_bad, c.f)
        same(c.name, name, at_bad, run(x_clean, c.f))
        same(c.name, f"{name} on clean inputs, where against no where", run(x_clean, c.f), run(x_clean, c.plain))


@pytest.mark.parametrize("c", CASES, ids=ids(CASES))
def test_hessians(c: Case) -> None:
    compare(c, hessian, hvp)


def test_float32() -> None:
    x = np.array([[1.0, 2.0], [-1.0, 0.0], [0.5, 3.0]], dtype=np.float32)
    t = Tensor(x, requires_grad=True)
    with np.errstate(all="ignore"):
        (tg.where(np.array(ROWS3), log(t) @ W23.astype(np.float32), 0.0).softmax(axis=1) * 1.5).sum().backward()
    assert t.grad.dtype == np.float32
    assert np.all(np.isfinite(t.grad.data)) and np.all(t.grad.data[1] == 0), t.grad


def test_constant_operand_with_nan_in_an_unselected_column() -> None:
    """A constant operand's NaN/Inf that only feeds unselected outputs stays out of the other's gradient."""
    with np.errstate(all="ignore"):
        w = np.log(np.array([[1.0, 0.0, 2.0], [3.0, -1.0, 0.5]]))  # column 1: -inf and NaN
    cond = np.array([[True, False, True]])

    def gradient(w: np.ndarray) -> np.ndarray:
        x = Tensor(np.array([[1.0, 2.0], [0.5, -1.0]]), requires_grad=True)
        (tg.where(cond, x @ w, 0.0).softmax(axis=1) * np.arange(1.0, 7.0).reshape(2, 3)).sum().backward()
        return x.grad.data

    clean = w.copy()
    clean[:, 1] = 1.0
    same("constant operand", "backward", gradient(w), gradient(clean))


# ------------------------------------------------------------------------------ random shapes

def reference_check(branch: Callable[[Any], Tensor], cond: np.ndarray, shape: tuple[int, ...]) -> None:
    c = Case("drawn", (), branch, shape, cond)
    compare(c, grad, hessian)


@given(data=st.data())
def test_reductions_of_drawn_shapes(data: Any) -> None:
    shape = data.draw(shapes(min_dims=1), label="shape")
    axis = data.draw(axes(len(shape)), label="axis")
    keepdims = data.draw(st.booleans(), label="keepdims")
    name = data.draw(st.sampled_from(["max", "min", "prod", "var", "logsumexp", "sum", "mean"]), label="op")
    out_shape = np.empty(shape).sum(axis=axis, keepdims=keepdims).shape
    cond = np.asarray(data.draw(st.lists(st.booleans(), min_size=int(np.prod(out_shape)),
                                         max_size=int(np.prod(out_shape))), label="cond")).reshape(out_shape)
    reference_check(lambda x: getattr(log(x), name)(axis=axis, keepdims=keepdims), cond, shape)


@given(data=st.data())
def test_softmax_of_drawn_shapes(data: Any) -> None:
    shape = data.draw(shapes(min_dims=1), label="shape")
    axis = data.draw(st.integers(-len(shape), len(shape) - 1), label="axis")
    name = data.draw(st.sampled_from(["softmax", "log_softmax"]), label="op")
    cond_shape = tuple(1 if i == axis % len(shape) else n for i, n in enumerate(shape))
    cond = data.draw(st.lists(st.booleans(), min_size=int(np.prod(cond_shape)), max_size=int(np.prod(cond_shape))),
                     label="cond")
    reference_check(lambda x: getattr(log(x), name)(axis=axis), np.reshape(cond, cond_shape), shape)


@given(data=st.data())
def test_matmul_of_drawn_shapes(data: Any) -> None:
    """Rows or columns of a (batched, broadcast, possibly 1-D) product unselected, the logarithm on either side."""
    sx, sy = data.draw(matmul_shapes(), label="shapes")
    left = data.draw(st.booleans(), label="log of the left operand")
    out_shape = np.matmul(np.empty(sx), np.empty(sy)).shape
    cond = np.asarray(data.draw(st.lists(st.booleans(), min_size=int(np.prod(out_shape)),
                                         max_size=int(np.prod(out_shape))), label="cond")).reshape(out_shape)
    n = int(np.prod(sx))

    def branch(x: Any) -> Tensor:
        a, b = x[:n].reshape(sx), x[n:].reshape(sy)
        return (log(a) @ b) if left else (a @ log(b))

    reference_check(branch, cond, (n + int(np.prod(sy)),))


# ------------------------------------------------------------------------------ the declarations

def test_every_op_declares_how_known_zeros_pass() -> None:
    """A new op must say how known-zero gradient entries map to its inputs, or be listed as conservative."""
    missing = [name for name, prim in ops.TABLE.items()
               if prim.differentiable and not (prim.elementwise or prim.structural or prim.zero_map is not None)
               and name not in CONSERVATIVE]
    assert not missing, (
        f"ops {missing} do not declare how known zeros below a where reach their inputs: give each one a "
        f"zero_map next to its rule in ops.py (or mark it elementwise/structural), or add it to CONSERVATIVE "
        f"in tests/test_where_leaks.py")


def test_every_op_has_a_case() -> None:
    covered = {name for c in CASES for name in c.ops}
    untested = sorted(name for name, prim in ops.TABLE.items() if prim.differentiable and name not in covered)
    assert not untested, f"no where-leak case exercises ops {untested}; add one to CASES"


def test_user_primitive_without_zero_map_stays_conservative() -> None:
    """A user's op without a zero_map stops known zeros (as before); declaring one lets them through."""

    @tg.primitive
    def rowsum(x: np.ndarray) -> np.ndarray:
        return x.sum(axis=1)

    rowsum.defvjp(lambda g, ans, x: tg.Tensor(np.ones(x.shape)) * ops.expand_dims(g, -1))
    x0 = np.array([[1.0, 2.0], [0.0, -1.0]])

    def gradient() -> np.ndarray:
        t = Tensor(x0, requires_grad=True)
        with np.errstate(all="ignore"):
            tg.where(np.array([True, False]), rowsum(log(t)), 0.0).sum().backward()
        return t.grad.data

    assert np.isnan(gradient()[1]).any()  # conservative: 0 / 0 from log's rule in the unselected row
    rowsum.zero_map = lambda argnum, zeros, out, x: np.broadcast_to(zeros[:, None], x.shape)
    np.testing.assert_array_equal(gradient(), [[1.0, 0.5], [0.0, 0.0]])


def test_no_where_no_mask_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a where in the graph, backward never runs the known-zero machinery (first order pays nothing)."""

    def refuse(*args: Any) -> None:
        raise AssertionError("known-zero bookkeeping ran without a where in the graph")

    monkeypatch.setattr(engine, "_map_zeros", refuse)
    monkeypatch.setattr(engine, "_masked_rule", refuse)
    x = Tensor(np.array([[0.5, 1.0], [2.0, 3.0]]), requires_grad=True)
    (ops.linear(tg.log(x), x, x[0]).softmax(axis=1).max(axis=0) * 2).sum().backward()
    assert np.all(np.isfinite(x.grad.data))
