"""Every op's first and second derivatives against finite differences, and exact values at known points.

The property tests draw shapes (0-d scalars and size-1 axes included), broadcasting pairs, axes and
values with hypothesis and run ``tg.gradcheck(f, *inputs, order=2)``: the gradient entry by entry
and Hessian-vector products, both against central differences. The exact tests pin down the
conventions of API.md at kinks, the ``where`` guarantee, numerical stability and float32.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import scipy.special
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from strategies import (
    arrays,
    axes,
    broadcast_shapes,
    grid,
    indices,
    matmul_shapes,
    positives,
    reals,
    reduced_count,
    shapes,
)

import tinygrad_mvc as tg
from tinygrad_mvc import ops

Tensor = tg.Tensor


def check(f: Callable[..., Any], *inputs: Any) -> None:
    """Gradient and Hessian-vector products of ``f`` against central differences, then forward mode."""
    assert tg.gradcheck(f, *inputs, order=2) is True
    check_modes(f, *inputs)


def check_modes(f: Callable[..., Any], *inputs: Any) -> None:
    """Forward mode and batched passes agree with reverse mode and with differences, to second order.

    For each input: the Jacobian by batched JVPs (``mode="fwd"``) equals the one by batched VJPs
    (``mode="rev"``) and central differences; the Hessian of a random weighting of the output by
    forward-over-reverse (``tg.hessian``) equals reverse-over-reverse and differences of the gradient.
    """
    xs = [np.asarray(v, dtype=float) for v in inputs]
    rng = np.random.default_rng(len(xs))
    for j in range(len(xs)):
        def fj(xj: Any, j: int = j) -> Tensor:
            return f(*[xj if i == j else Tensor(x) for i, x in enumerate(xs)])

        out_shape = np.shape(fj(Tensor(xs[j])).data)
        forward = tg.jacobian(fj, mode="fwd")(xs[j])
        reverse = tg.jacobian(fj, mode="rev")(xs[j])
        assert np.shape(forward) == out_shape + xs[j].shape
        np.testing.assert_allclose(forward, reverse, rtol=1e-9, atol=1e-12, err_msg=f"Jacobian fwd vs rev, input {j}")
        numeric = tg.finite_diff.numerical_jacobian(lambda z: np.asarray(fj(Tensor(z)).data), xs[j])
        np.testing.assert_allclose(forward, numeric, rtol=1e-4, atol=1e-5, err_msg=f"Jacobian vs FD, input {j}")
        w = rng.uniform(0.5, 1.5, out_shape)

        def weighted(xj: Any, w: np.ndarray = w, fj: Any = fj) -> Tensor:
            return (fj(xj) * w).sum()

        h_fwd = tg.hessian(weighted)(xs[j])
        h_rev = tg.jacobian(tg.grad(weighted), mode="rev")(xs[j])
        np.testing.assert_allclose(h_fwd, h_rev, rtol=1e-8, atol=1e-10, err_msg=f"Hessian fwd-over-rev, input {j}")
        h_num = tg.finite_diff.numerical_jacobian(tg.grad(weighted), xs[j])
        np.testing.assert_allclose(h_fwd, h_num, rtol=1e-4, atol=1e-4, err_msg=f"Hessian vs differences, input {j}")


def grads(f: Callable[..., Any], *values: Any, weights: Any = None) -> list[np.ndarray]:
    """The gradient of ``sum(weights * f(*inputs))`` for each input, as float64 arrays."""
    leaves = [Tensor(np.asarray(v, dtype=float), requires_grad=True) for v in values]
    out = f(*leaves)
    (out * (1.0 if weights is None else weights)).sum().backward()
    return [np.zeros(leaf.shape) if leaf.grad is None else leaf.grad.data for leaf in leaves]


# =============================================================================== unary

UNARY: dict[str, tuple[Callable[[Tensor], Tensor], str]] = {
    "neg": (lambda x: -x, "real"),
    "exp": (tg.exp, "real"),
    "log": (tg.log, "positive"),
    "sqrt": (tg.sqrt, "positive"),
    "sin": (tg.sin, "wide"),
    "cos": (tg.cos, "wide"),
    "tan": (tg.tan, "tan"),
    "tanh": (tg.tanh, "wide"),
    "sigmoid": (tg.sigmoid, "wide"),
    "relu": (tg.relu, "kinkfree"),
    "softplus": (tg.softplus, "wide"),
    "abs": (tg.abs, "kinkfree"),
    "abs()": (abs, "kinkfree"),
}

NUMPY_UNARY = {
    "neg": np.negative, "exp": np.exp, "log": np.log, "sqrt": np.sqrt, "sin": np.sin, "cos": np.cos,
    "tan": np.tan, "tanh": np.tanh, "sigmoid": scipy.special.expit, "relu": lambda x: np.maximum(x, 0),
    "softplus": lambda x: np.logaddexp(0, x), "abs": np.abs, "abs()": np.abs,
}


@pytest.mark.parametrize("name", sorted(UNARY))
@given(data=st.data())
def test_unary(name: str, data: Any) -> None:
    fn, domain = UNARY[name]
    x = data.draw(arrays(domain, data.draw(shapes())), label="x")
    np.testing.assert_allclose(fn(Tensor(x)).data, NUMPY_UNARY[name](x), rtol=1e-12, atol=1e-15)
    check(fn, x)


@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "sin", "cos", "tan", "tanh", "sigmoid", "relu",
                                  "softplus", "abs"])
def test_unary_method_matches_function(name: str) -> None:
    x = Tensor([0.3, 1.7, 0.9], requires_grad=True)
    by_method, by_function = getattr(x, name)(), getattr(tg, name)(x)
    assert by_method.op == by_function.op == name
    np.testing.assert_array_equal(by_method.data, by_function.data)


@given(data=st.data())
def test_clip_constant_bounds(data: Any) -> None:
    x = data.draw(grid(data.draw(shapes())), label="x")
    lo, hi = data.draw(st.sampled_from([(-0.5, 0.6), (-1.0, None), (None, 0.3), (0.0, 1.0)]), label="bounds")
    np.testing.assert_array_equal(Tensor(x).clip(lo, hi).data, np.clip(x, lo, hi))
    check(lambda a: a.clip(lo, hi), x)
    check(lambda a: tg.clip(a, lo, hi), x)


@given(data=st.data())
def test_clip_tensor_bounds(data: Any) -> None:
    """Gradients reach ``lo`` where ``x < lo`` and ``hi`` where ``x > hi``, summed over broadcasting."""
    sx, slo, shi = data.draw(broadcast_shapes(3), label="shapes")
    x = data.draw(grid(sx), label="x")  # k/10 + 0.05: never on a bound
    lo = data.draw(grid(slo, offset=0.0, lo=-10, hi=-1), label="lo")
    hi = data.draw(grid(shi, offset=0.0, lo=1, hi=10), label="hi")
    np.testing.assert_array_equal(tg.clip(Tensor(x), Tensor(lo), Tensor(hi)).data, np.clip(x, lo, hi))
    check(lambda a, b, c: tg.clip(a, b, c), x, lo, hi)
    check(lambda a, b: a.clip(b, 0.7), x, lo)
    check(lambda a, c: a.clip(None, c), x, hi)


def test_clip_tensor_bounds_exact() -> None:
    gx, glo, ghi = grads(lambda x, lo, hi: tg.clip(x, lo, hi), [-2.0, 0.5, 3.0, 4.0], 0.0, 2.0)
    np.testing.assert_array_equal(gx, [0.0, 1.0, 0.0, 0.0])
    assert glo == 1.0 and ghi == 2.0


# =============================================================================== binary

BINARY: dict[str, tuple[Callable[[Any, Any], Tensor], str, str]] = {
    "add": (lambda x, y: x + y, "real", "real"),
    "sub": (lambda x, y: x - y, "real", "real"),
    "mul": (lambda x, y: x * y, "real", "real"),
    "div": (lambda x, y: x / y, "real", "nonzero"),
    "pow": (lambda x, y: x ** y, "positive", "exponent"),
    "maximum": (tg.maximum, "above", "below"),
    "minimum": (tg.minimum, "above", "below"),
    "maximum_rev": (tg.maximum, "below", "above"),
    "minimum_rev": (tg.minimum, "below", "above"),
}

NUMPY_BINARY = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide, "pow": np.power,
                "maximum": np.maximum, "minimum": np.minimum, "maximum_rev": np.maximum,
                "minimum_rev": np.minimum}


@pytest.mark.parametrize("name", sorted(BINARY))
@given(data=st.data())
def test_binary_broadcasting(name: str, data: Any) -> None:
    fn, dx, dy = BINARY[name]
    sx, sy = data.draw(broadcast_shapes(2), label="shapes")
    x = data.draw(arrays(dx, sx), label="x")
    y = data.draw(arrays(dy, sy), label="y")
    out = fn(Tensor(x), Tensor(y))
    expected = NUMPY_BINARY[name](x, y)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.data, expected, rtol=1e-12)
    check(fn, x, y)


# Each operator with a constant on either side: Python float, and a NumPy array on the left.
SCALAR_FORMS: dict[str, tuple[Callable[[Tensor], Tensor], str]] = {
    "t+c": (lambda t: t + 1.5, "real"),
    "c+t": (lambda t: 1.5 + t, "real"),
    "t-c": (lambda t: t - 1.5, "real"),
    "c-t": (lambda t: 1.5 - t, "real"),
    "t*c": (lambda t: t * -1.5, "real"),
    "c*t": (lambda t: -1.5 * t, "real"),
    "t/c": (lambda t: t / -1.5, "real"),
    "c/t": (lambda t: -1.5 / t, "nonzero"),
    "t**2": (lambda t: t ** 2, "real"),
    "t**3": (lambda t: t ** 3, "real"),
    "t**-1": (lambda t: t ** -1, "nonzero"),
    "t**0.5": (lambda t: t ** 0.5, "positive"),
    "t**-1.5": (lambda t: t ** -1.5, "positive"),
    "2**t": (lambda t: 2.0 ** t, "real"),
    "0.5**t": (lambda t: 0.5 ** t, "real"),
    "tg.maximum(t,c)": (lambda t: tg.maximum(t, 0.0), "kinkfree"),
    "tg.minimum(c,t)": (lambda t: tg.minimum(0.0, t), "kinkfree"),
    "ndarray+t": (lambda t: np.full(t.shape, 0.5) + t, "real"),
    "ndarray-t": (lambda t: np.full(t.shape, 0.5) - t, "real"),
    "ndarray*t": (lambda t: np.full(t.shape, 0.5) * t, "real"),
    "ndarray/t": (lambda t: np.full(t.shape, 0.5) / t, "nonzero"),
    "ndarray**t": (lambda t: np.full(t.shape, 1.5) ** t, "real"),
}


@pytest.mark.parametrize("form", sorted(SCALAR_FORMS))
@given(data=st.data())
def test_operator_with_constant(form: str, data: Any) -> None:
    fn, domain = SCALAR_FORMS[form]
    x = data.draw(arrays(domain, data.draw(shapes())), label="x")
    out = fn(Tensor(x, requires_grad=True))
    assert isinstance(out, Tensor) and out.requires_grad
    check(fn, x)


@given(data=st.data())
def test_pow_scalar_base_and_exponent(data: Any) -> None:
    """``Tensor ** Tensor`` with a 0-d base or exponent, both differentiated."""
    shape = data.draw(shapes(), label="shape")
    base = data.draw(positives(()), label="base")
    exponent = data.draw(reals(shape, -2.0, 2.0), label="exponent")
    check(lambda b, e: b ** e, base, exponent)
    check(lambda e, b: b ** e, data.draw(reals((), -2.0, 2.0)), data.draw(positives(shape)))


@given(data=st.data())
def test_where(data: Any) -> None:
    sc, sa, sb = data.draw(broadcast_shapes(3), label="shapes")
    cond = data.draw(arrays("real", sc), label="cond") > 0
    a = data.draw(arrays("real", sa), label="a")
    b = data.draw(arrays("real", sb), label="b")
    np.testing.assert_array_equal(tg.where(cond, Tensor(a), Tensor(b)).data, np.where(cond, a, b))
    check(lambda x, y: tg.where(cond, x, y), a, b)
    check(lambda x, y: tg.where(Tensor(cond, dtype=bool), x * y, tg.exp(x)), a, b)  # a bool Tensor condition
    check(lambda x: tg.where(cond, x, 0.0), a)
    check(lambda y: tg.where(cond, -1.0, y), b)


# =============================================================================== matmul

MATMUL_CASES = [
    ((3,), (3,)),
    ((3,), (3, 2)),
    ((2, 3), (3,)),
    ((2, 3), (3, 4)),
    ((1, 1), (1, 1)),
    ((4, 2, 3), (3, 2)),
    ((3,), (4, 3, 2)),
    ((4, 2, 3), (3,)),
    ((2, 1, 3, 4), (5, 4, 2)),
    ((5, 3, 4), (2, 1, 4, 2)),
]


@pytest.mark.parametrize(("sx", "sy"), MATMUL_CASES, ids=[f"{a}@{b}" for a, b in MATMUL_CASES])
def test_matmul_named_cases(sx: tuple[int, ...], sy: tuple[int, ...]) -> None:
    rng = np.random.default_rng(len(sx) * 10 + len(sy))
    x, y = rng.standard_normal(sx), rng.standard_normal(sy)
    out = Tensor(x) @ Tensor(y)
    assert out.shape == np.matmul(x, y).shape
    np.testing.assert_allclose(out.data, np.matmul(x, y), rtol=1e-12)
    check(lambda a, b: a @ b, x, y)
    check(lambda a, b: tg.matmul(a, b), x, y)


@given(data=st.data())
def test_matmul_drawn_shapes(data: Any) -> None:
    sx, sy = data.draw(matmul_shapes(), label="shapes")
    x = data.draw(reals(sx), label="x")
    y = data.draw(reals(sy), label="y")
    np.testing.assert_allclose((Tensor(x) @ Tensor(y)).data, np.matmul(x, y), rtol=1e-12, atol=1e-12)
    check(lambda a, b: a @ b, x, y)


def test_matmul_with_constant_operands() -> None:
    rng = np.random.default_rng(3)
    m, v = rng.standard_normal((3, 4)), rng.standard_normal(4)
    check(lambda a: m @ a, rng.standard_normal((4, 2)))  # ndarray @ Tensor
    check(lambda a: a @ v, rng.standard_normal((2, 3, 4)))
    check(lambda a: v @ a, rng.standard_normal((4,)))


# =============================================================================== reductions

REDUCTIONS: dict[str, tuple[Callable[..., Any], str]] = {
    "sum": (np.sum, "real"),
    "mean": (np.mean, "real"),
    "max": (np.max, "distinct"),
    "min": (np.min, "distinct"),
    "prod": (np.prod, "nearone"),
    "var": (np.var, "real"),
    "logsumexp": (lambda x, axis, keepdims:  # scipy gives shape (1,) for a 0-d input with keepdims
                  np.reshape(scipy.special.logsumexp(x, axis=axis, keepdims=keepdims),
                             np.sum(x, axis=axis, keepdims=keepdims).shape), "wide"),
}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@settings(max_examples=2 * settings.default.max_examples)  # axis and keepdims multiply the cases
@given(data=st.data())
def test_reduction(name: str, data: Any) -> None:
    reference, domain = REDUCTIONS[name]
    shape = data.draw(shapes(), label="shape")
    x = data.draw(arrays(domain, shape), label="x")
    axis = data.draw(axes(len(shape)), label="axis")
    keepdims = data.draw(st.booleans(), label="keepdims")
    by_method = getattr(Tensor(x), name)(axis=axis, keepdims=keepdims)
    by_function = getattr(tg, name)(Tensor(x), axis=axis, keepdims=keepdims)
    expected = np.asarray(reference(x, axis=axis, keepdims=keepdims))
    assert by_method.shape == by_function.shape == expected.shape
    np.testing.assert_allclose(by_method.data, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(by_function.data, expected, rtol=1e-12, atol=1e-12)
    check(lambda a: getattr(a, name)(axis=axis, keepdims=keepdims), x)
    check(lambda a: getattr(tg, name)(a, axis=axis, keepdims=keepdims), x)


# A fixed grid as well: small random samples favour 0-d and 1-D shapes, where every axis choice is the same.
AXIS_GRID = [None, 0, 1, -1, (0, 2), (-1, -3), (2, 0, 1)]


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", AXIS_GRID, ids=str)
@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reduction_axis_grid(name: str, axis: Any, keepdims: bool) -> None:
    reference, domain = REDUCTIONS[name]
    rng = np.random.default_rng(11)
    x = rng.permutation(24).reshape(2, 3, 4) / 10 - 1.15  # distinct, none at 0
    if name == "prod":
        x = np.sign(x) * (0.7 + np.abs(x) / 2)
    expected = np.asarray(reference(x, axis=axis, keepdims=keepdims))
    out = getattr(Tensor(x), name)(axis=axis, keepdims=keepdims)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)
    check(lambda a: getattr(a, name)(axis=axis, keepdims=keepdims), x)


@pytest.mark.parametrize("ddof", [0, 1])
@given(data=st.data())
def test_var_ddof(ddof: int, data: Any) -> None:
    shape = data.draw(shapes(min_dims=1), label="shape")
    axis = data.draw(axes(len(shape)), label="axis")
    if reduced_count(shape, axis) <= ddof:
        axis = None
        x = data.draw(reals((2,) + shape), label="x")
    else:
        x = data.draw(reals(shape), label="x")
    keepdims = data.draw(st.booleans(), label="keepdims")
    np.testing.assert_allclose(Tensor(x).var(axis=axis, keepdims=keepdims, ddof=ddof).data,
                               np.var(x, axis=axis, keepdims=keepdims, ddof=ddof), rtol=1e-12, atol=1e-14)
    check(lambda a: a.var(axis=axis, keepdims=keepdims, ddof=ddof), x)
    check(lambda a: tg.var(a, axis=axis, keepdims=keepdims, ddof=ddof), x)


SOFTMAXES = {
    "softmax": scipy.special.softmax,
    "log_softmax": scipy.special.log_softmax,
}


@pytest.mark.parametrize("name", sorted(SOFTMAXES))
@given(data=st.data())
def test_softmax(name: str, data: Any) -> None:
    shape = data.draw(shapes(min_dims=1), label="shape")
    x = data.draw(reals(shape, -3.0, 3.0), label="x")
    axis = data.draw(axes(len(shape)), label="axis")
    expected = SOFTMAXES[name](x, axis=axis)
    np.testing.assert_allclose(getattr(Tensor(x), name)(axis=axis).data, expected, rtol=1e-12, atol=1e-14)
    check(lambda a: getattr(a, name)(axis=axis), x)
    check(lambda a: getattr(tg, name)(a, axis=axis), x)


@pytest.mark.parametrize("axis", AXIS_GRID, ids=str)
@pytest.mark.parametrize("name", sorted(SOFTMAXES))
def test_softmax_axis_grid(name: str, axis: Any) -> None:
    x = np.random.default_rng(12).uniform(-3.0, 3.0, (2, 3, 4))
    np.testing.assert_allclose(getattr(Tensor(x), name)(axis=axis).data, SOFTMAXES[name](x, axis=axis), rtol=1e-12,
                               atol=1e-14)
    check(lambda a: getattr(a, name)(axis=axis), x)


def test_softmax_default_axis_is_last() -> None:
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(Tensor(x).softmax().data, scipy.special.softmax(x, axis=-1), rtol=1e-14)
    np.testing.assert_allclose(tg.log_softmax(Tensor(x)).data, scipy.special.log_softmax(x, axis=-1), rtol=1e-14)
    check(lambda a: a.softmax() * a, x)
    check(lambda a: a.log_softmax(), x)


# =============================================================================== shape


@st.composite
def reshape_targets(draw: Any, shape: tuple[int, ...]) -> tuple[int, ...]:
    size = int(np.prod(shape, dtype=np.int64))
    candidates = [shape[::-1], (size,), (-1,), (1, size), (size, 1, -1)] + ([(), (1, 1, 1)] if size == 1 else [])
    return draw(st.sampled_from(candidates))


@given(data=st.data())
def test_reshape(data: Any) -> None:
    shape = data.draw(shapes(), label="shape")
    x = data.draw(reals(shape), label="x")
    target = data.draw(reshape_targets(shape), label="target")
    assert Tensor(x).reshape(target).shape == x.reshape(target).shape
    check(lambda a: a.reshape(target), x)
    if target:  # like ndarray.reshape, the star form needs at least one size
        check(lambda a: a.reshape(*target), x)
    check(lambda a: tg.reshape(a, target) * a.sum(), x)


@given(data=st.data())
def test_transpose(data: Any) -> None:
    shape = data.draw(shapes(), label="shape")
    x = data.draw(reals(shape), label="x")
    perm = tuple(data.draw(st.permutations(range(len(shape))), label="perm"))
    signed = tuple(data.draw(st.sampled_from([a, a - len(shape)])) for a in perm)  # NumPy takes -1 for the last
    np.testing.assert_array_equal(Tensor(x).transpose(*signed).data, np.transpose(x, signed))
    check(lambda a: a.transpose(), x)
    check(lambda a: a.T, x)
    check(lambda a: tg.transpose(a), x)
    check(lambda a: a.transpose(*perm), x)
    check(lambda a: a.transpose(perm), x)
    check(lambda a: a.transpose(*signed), x)
    check(lambda a: tg.transpose(a, signed), x)


def test_transpose_negative_axes() -> None:
    """``transpose(-1, 0, 1)`` means ``transpose(2, 0, 1)``; its gradient must be the same."""
    x = np.arange(24.0).reshape(2, 3, 4)
    w = np.random.default_rng(0).standard_normal((4, 2, 3))
    (by_negative,) = grads(lambda a: a.transpose(-1, 0, 1), x, weights=w)
    (by_positive,) = grads(lambda a: a.transpose(2, 0, 1), x, weights=w)
    np.testing.assert_array_equal(by_negative, np.transpose(w, (1, 2, 0)))
    np.testing.assert_array_equal(by_positive, np.transpose(w, (1, 2, 0)))


@given(data=st.data())
def test_flatten_squeeze_expand_dims(data: Any) -> None:
    shape = data.draw(shapes(max_dims=4, max_side=3), label="shape")
    x = data.draw(reals(shape), label="x")
    ones = [i for i, n in enumerate(shape) if n == 1]
    squeeze_axis = data.draw(st.none() | (st.sampled_from(ones) if ones else st.none()), label="squeeze_axis")
    expand_axis = data.draw(st.integers(-len(shape) - 1, len(shape)), label="expand_axis")
    assert Tensor(x).squeeze(squeeze_axis).shape == np.squeeze(x, squeeze_axis).shape
    assert Tensor(x).expand_dims(expand_axis).shape == np.expand_dims(x, expand_axis).shape
    check(lambda a: a.flatten(), x)
    check(lambda a: a.squeeze(squeeze_axis), x)
    check(lambda a: tg.squeeze(a, squeeze_axis), x)
    check(lambda a: a.expand_dims(expand_axis), x)
    check(lambda a: tg.expand_dims(a, (0, -1)), x)


@given(data=st.data())
def test_broadcast_to(data: Any) -> None:
    shape, other = data.draw(broadcast_shapes(2), label="shapes")
    target = np.broadcast_shapes(shape, other)
    x = data.draw(reals(shape), label="x")
    np.testing.assert_array_equal(Tensor(x).broadcast_to(target).data, np.broadcast_to(x, target))
    check(lambda a: a.broadcast_to(target), x)
    check(lambda a: tg.broadcast_to(a, target), x)
    check(lambda a: a.broadcast_to((2,) + tuple(target)), x)


# =============================================================================== indexing


def oracle_index_grad(shape: tuple[int, ...], index: Any, w: np.ndarray) -> np.ndarray:
    """d sum(w * x[index]) / dx by NumPy: every use of an entry adds its weight."""
    z = np.zeros(shape)
    np.add.at(z, index, w)
    return z


@given(data=st.data())
def test_getitem(data: Any) -> None:
    shape = data.draw(shapes(), label="shape")
    x = data.draw(reals(shape), label="x")
    index = data.draw(indices(shape), label="index")
    expected = x[index]
    out = Tensor(x)[index]
    assert out.shape == expected.shape
    np.testing.assert_array_equal(out.data, expected)
    w = np.random.default_rng(0).standard_normal(expected.shape)
    (g,) = grads(lambda a: a[index], x, weights=w)
    np.testing.assert_allclose(g, oracle_index_grad(shape, index, w), rtol=1e-13, atol=1e-13)
    check(lambda a: a[index], x)
    check(lambda a: a[index] * a[index], x)


INDEX_CASES: dict[str, Any] = {  # all on an array of shape (4, 3, 5)
    "int": 2,
    "negative int": -1,
    "slice": slice(1, None),
    "reversed slice": slice(None, None, -1),
    "negative step": (slice(None), slice(3, 0, -2)),
    "None": None,
    "Ellipsis": (Ellipsis, 1),
    "int array with repeats": np.array([0, 2, 0, 0]),
    "2-D int array with repeats": np.array([[1, 1], [3, -3]]),
    "list with repeats": [1, 1, 1],
    "boolean mask": np.array([True, False, True, True]),
    "2-D boolean mask": np.arange(12).reshape(4, 3) % 3 == 0,
    "pair of int arrays": (np.array([0, 0, 3]), np.array([2, 2, 1])),
    "int array after slice": (slice(None, None, -1), np.array([2, 2, 0])),
    "int arrays apart": (np.array([1, 1]), slice(0, 2), np.array([0, 0])),
    "mask, Ellipsis, None": (np.array([True, True, False, True]), Ellipsis, None),
    "int, None, int array": (1, None, np.array([2, 2, 2, 1])),
}


@pytest.mark.parametrize("name", list(INDEX_CASES))
def test_getitem_kinds(name: str) -> None:
    index = INDEX_CASES[name]
    x = np.arange(60.0).reshape(4, 3, 5) / 7
    expected = x[index]
    w = np.random.default_rng(1).standard_normal(expected.shape)
    np.testing.assert_array_equal(Tensor(x)[index].data, expected)
    (g,) = grads(lambda a: a[index], x, weights=w)
    np.testing.assert_allclose(g, oracle_index_grad(x.shape, index, w), rtol=1e-13)
    check(lambda a: a[index], x)


def test_getitem_repeats_accumulate() -> None:
    (g,) = grads(lambda a: a[[0, 0, 2, 0]], [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(g, [3.0, 0.0, 1.0])
    (g,) = grads(lambda a: a[tg.tensor([1, 1])], [1.0, 2.0, 3.0])  # a float Tensor of whole numbers
    np.testing.assert_array_equal(g, [0.0, 2.0, 0.0])


# =============================================================================== joining


@st.composite
def concat_inputs(draw: Any) -> tuple[list[np.ndarray], Any]:
    shape = list(draw(shapes(min_dims=1)))
    axis = draw(st.integers(-len(shape), len(shape) - 1) | st.none())
    parts = []
    for _ in range(draw(st.integers(1, 3))):
        if axis is None:
            piece_shape = draw(shapes())
        else:
            shape[axis] = draw(st.integers(1, 3))
            piece_shape = tuple(shape)
        parts.append(draw(reals(piece_shape)))
    return parts, axis


@given(inputs=concat_inputs())
def test_concatenate(inputs: tuple[list[np.ndarray], Any]) -> None:
    parts, axis = inputs
    np.testing.assert_array_equal(tg.concatenate([Tensor(p) for p in parts], axis=axis).data,
                                  np.concatenate(parts, axis=axis))
    check(lambda *ts: tg.concatenate(ts, axis=axis), *parts)
    check(lambda *ts: tg.concatenate(list(ts) + [np.ones_like(parts[0])], axis=axis), *parts)  # a constant part


@given(data=st.data())
def test_stack(data: Any) -> None:
    shape = data.draw(shapes(), label="shape")
    axis = data.draw(st.integers(-len(shape) - 1, len(shape)), label="axis")
    parts = [data.draw(reals(shape)) for _ in range(data.draw(st.integers(1, 3)))]
    np.testing.assert_array_equal(tg.stack([Tensor(p) for p in parts], axis=axis).data, np.stack(parts, axis=axis))
    check(lambda *ts: tg.stack(ts, axis=axis), *parts)
    check(lambda *ts: tg.stack([ts[0], np.zeros(shape), *ts[1:]], axis=axis), *parts)
    check(lambda t: tg.stack([t, t * t], axis=axis), parts[0])  # one input twice: gradients add


# =============================================================================== internal primitives


@pytest.mark.parametrize("name", ["tanh_grad", "sigmoid_grad"])
@given(data=st.data())
def test_fused_activation_grads(name: str, data: Any) -> None:
    """``tanh_grad(g, y) = g (1 - y^2)`` and ``sigmoid_grad(g, y) = g y (1 - y)``, in both inputs."""
    prim = ops.TABLE[name]
    sg, sy = data.draw(broadcast_shapes(2), label="shapes")
    g = data.draw(reals(sg), label="g")
    y = data.draw(reals(sy, -0.95, 0.95), label="y")
    expected = g * (1 - y * y) if name == "tanh_grad" else g * y * (1 - y)
    np.testing.assert_allclose(prim(Tensor(g), Tensor(y)).data, expected, rtol=1e-12, atol=1e-15)
    check(lambda a, b: prim(a, b), g, y)


@given(data=st.data())
def test_relu_grad(data: Any) -> None:
    """``relu_grad(g, x) = g·[x > 0]``: linear in g, and zero derivative in x (away from 0)."""
    sg, sx = data.draw(broadcast_shapes(2), label="shapes")
    g = data.draw(reals(sg), label="g")
    x = data.draw(grid(sx), label="x")  # never within 0.05 of the kink
    np.testing.assert_array_equal(ops.relu_grad(Tensor(g), Tensor(x)).data, g * (x > 0))
    check(lambda a, b: ops.relu_grad(a, b), g, x)


@pytest.mark.parametrize("name", ["matmul_nt", "matmul_tn"])
@given(data=st.data())
def test_products_with_a_transposed_operand(name: str, data: Any) -> None:
    """``matmul_nt(x, y) = x @ yᵀ`` and ``matmul_tn(x, y) = xᵀ @ y`` over broadcast batch axes."""
    batch_x, batch_y = data.draw(broadcast_shapes(2, max_dims=2), label="batch shapes")
    m, k, n = (data.draw(st.integers(1, 3), label=side) for side in "mkn")
    if name == "matmul_nt":
        sx, sy, want = (*batch_x, m, k), (*batch_y, n, k), lambda a, b: a @ np.swapaxes(b, -1, -2)
    else:
        sx, sy, want = (*batch_x, k, m), (*batch_y, k, n), lambda a, b: np.swapaxes(a, -1, -2) @ b
    x, y = data.draw(reals(sx), label="x"), data.draw(reals(sy), label="y")
    prim = ops.TABLE[name]
    np.testing.assert_allclose(prim(Tensor(x), Tensor(y)).data, want(x, y), rtol=1e-12, atol=1e-12)
    check(lambda a, b: prim(a, b), x, y)


@given(data=st.data())
def test_linear(data: Any) -> None:
    """``linear(x, w, b) = x @ w + b`` for x of shape (..., n, in), in every input."""
    lead = data.draw(shapes(min_dims=1, max_dims=3, max_side=3), label="leading axes of x")
    n_in, n_out = data.draw(st.integers(1, 3), label="in"), data.draw(st.integers(1, 3), label="out")
    x = data.draw(reals((*lead, n_in)), label="x")
    w, b = data.draw(reals((n_in, n_out)), label="w"), data.draw(reals((n_out,)), label="b")
    np.testing.assert_allclose(ops.linear(Tensor(x), Tensor(w), Tensor(b)).data, x @ w + b, rtol=1e-12, atol=1e-12)
    check(lambda a, c, d: ops.linear(a, c, d), x, w, b)
    check(lambda a, c, d: tg.tanh(ops.linear(a, c, d)), x, w, b)  # a curved use: nonzero second derivatives


@given(data=st.data())
def test_hinge(data: Any) -> None:
    """``hinge(s, y) = max(0, 1 - s·y)`` and its slope, in both inputs, away from the kink s·y = 1."""
    ss, sy = data.draw(broadcast_shapes(2), label="shapes")
    s = data.draw(grid(ss, offset=0.03, spacing=0.2), label="s")
    y = data.draw(grid(sy, offset=0.03, spacing=0.2), label="y")
    assume(np.abs(1 - s * y).min(initial=1.0) > 0.02)
    np.testing.assert_array_equal(ops.hinge(Tensor(s), Tensor(y)).data, np.maximum(1 - s * y, 0))
    check(lambda a, b: ops.hinge(a, b), s, y)
    check(lambda a, b: ops.hinge(a, b) ** 2, s, y)  # squared: a nonzero second derivative


@given(data=st.data())
def test_softmax_cross_entropy(data: Any) -> None:
    """One loss per row, logsumexp(x_i) − x_i[label_i], in the logits (labels are data)."""
    n, c = data.draw(st.integers(1, 4), label="rows"), data.draw(st.integers(1, 4), label="classes")
    x = data.draw(reals((n, c), -3, 3), label="logits")
    labels = np.array(data.draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n), label="labels"))
    want = scipy.special.logsumexp(x, axis=1) - x[np.arange(n), labels]
    np.testing.assert_allclose(ops.softmax_cross_entropy(Tensor(x), labels).data, want, rtol=1e-12, atol=1e-12)
    check(lambda a: ops.softmax_cross_entropy(a, labels), x)


@given(data=st.data())
def test_sum_to(data: Any) -> None:
    shape, other = data.draw(broadcast_shapes(2), label="shapes")
    big = np.broadcast_shapes(shape, other)
    x = data.draw(reals(big), label="x")
    out = ops.sum_to(Tensor(x), shape)
    assert out.shape == tuple(shape)
    np.testing.assert_allclose(out.data.sum(), x.sum(), atol=1e-12)
    check(lambda a: ops.sum_to(a, shape), x)


@given(data=st.data())
def test_index_add(data: Any) -> None:
    """``index_add(g, index, shape)`` scatters ``g`` into zeros of ``shape``; repeats accumulate."""
    shape = data.draw(shapes(), label="shape")
    index = data.draw(indices(shape), label="index")
    g = data.draw(reals(np.zeros(shape)[index].shape), label="g")
    np.testing.assert_allclose(ops.index_add(Tensor(g), index, shape).data, oracle_index_grad(shape, index, g),
                               rtol=1e-13, atol=1e-13)
    check(lambda a: ops.index_add(a, index, shape), g)


def test_index_add_repeats_exact() -> None:
    out = ops.index_add(Tensor([1.0, 2.0, 4.0]), (np.array([0, 0, 2]),), (3,))
    np.testing.assert_array_equal(out.data, [3.0, 0.0, 4.0])


@given(x=reals((3,)) | reals((2, 2)) | reals(()))
def test_cast(x: np.ndarray) -> None:
    """``cast`` to a wider float and back is exact, so finite differences apply."""
    check(lambda a: ops.cast(a, np.longdouble) * 3.0, x)
    check(lambda a: ops.cast(ops.cast(a, np.longdouble), np.float64) ** 2, x)
    check(lambda a: a.astype(np.float64) * a, x)


def test_cast_gradient_dtype() -> None:
    x = Tensor([1.0, 2.0], dtype=np.float32, requires_grad=True)
    y = ops.cast(x, np.float64)
    assert y.dtype == np.float64
    (y * Tensor([3.0, 5.0])).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.data, [3.0, 5.0])
    z = Tensor([1.5, -2.0], requires_grad=True)
    w = z.astype(np.float32)
    assert w.dtype == np.float32
    (w * w).sum().backward()
    assert z.grad.dtype == np.float64
    np.testing.assert_allclose(z.grad.data, [3.0, -4.0])


# =============================================================================== exact derivatives


def test_tanh_derivative_is_one_minus_tanh_squared() -> None:
    x = np.linspace(-4.0, 4.0, 17)
    (g,) = grads(tg.tanh, x)
    np.testing.assert_allclose(g, 1 - np.tanh(x) ** 2, rtol=1e-14, atol=1e-16)
    (g,) = grads(tg.sigmoid, x)
    s = scipy.special.expit(x)
    np.testing.assert_allclose(g, s * (1 - s), rtol=1e-14, atol=1e-16)


def nth_derivatives(f: Callable[[Tensor], Tensor], x0: Any, n: int) -> list[np.ndarray]:
    """The first ``n`` derivatives of ``sum(f(x))`` by repeated ``backward(create_graph=True)``."""
    x = Tensor(x0, requires_grad=True)
    y = f(x).sum()
    found = []
    for _ in range(n):
        x.grad = None
        y.backward(create_graph=True)
        found.append(x.grad.data.copy())
        y = x.grad.sum()
    return found


def test_third_derivative_of_cube_is_six() -> None:
    d1, d2, d3 = nth_derivatives(lambda x: x ** 3, 2.0, 3)
    assert (float(d1), float(d2), float(d3)) == (12.0, 12.0, 6.0)
    d1, d2, d3 = nth_derivatives(lambda x: x * x * x, [-1.0, 0.5, 3.0], 3)
    np.testing.assert_allclose(d1, [3.0, 0.75, 27.0])
    np.testing.assert_allclose(d2, [-6.0, 3.0, 18.0])
    np.testing.assert_array_equal(d3, [6.0, 6.0, 6.0])


@pytest.mark.parametrize(("f", "derivatives"), [
    (tg.exp, [np.exp(0.5)] * 4),
    (tg.sin, [np.cos(0.5), -np.sin(0.5), -np.cos(0.5), np.sin(0.5)]),
    (tg.log, [2.0, -4.0, 16.0, -96.0]),
    (tg.tanh, [1 - np.tanh(0.5) ** 2, -2 * np.tanh(0.5) * (1 - np.tanh(0.5) ** 2),
               -2 * (1 - np.tanh(0.5) ** 2) ** 2 + 4 * np.tanh(0.5) ** 2 * (1 - np.tanh(0.5) ** 2), None]),
], ids=["exp", "sin", "log", "tanh"])
def test_higher_derivatives_exact(f: Callable[[Tensor], Tensor], derivatives: list[Any]) -> None:
    found = nth_derivatives(f, 0.5, len(derivatives))
    for k, (got, want) in enumerate(zip(found, derivatives)):
        if want is not None:
            np.testing.assert_allclose(got, want, rtol=1e-12, err_msg=f"derivative {k + 1}")


def test_max_min_reductions_share_ties_equally() -> None:
    np.testing.assert_array_equal(grads(lambda x: x.max(), [1.0, 3.0, 3.0])[0], [0.0, 0.5, 0.5])
    np.testing.assert_array_equal(grads(lambda x: x.min(), [2.0, 2.0, 2.0, 5.0])[0], [1 / 3, 1 / 3, 1 / 3, 0.0])
    x = [[1.0, 4.0, 4.0], [7.0, 0.0, 7.0]]
    np.testing.assert_array_equal(grads(lambda a: a.max(axis=1), x)[0], [[0.0, 0.5, 0.5], [0.5, 0.0, 0.5]])
    np.testing.assert_array_equal(grads(lambda a: a.max(axis=0, keepdims=True), [[2.0, 1.0], [2.0, 3.0]])[0],
                                  [[0.5, 0.0], [0.5, 1.0]])
    np.testing.assert_array_equal(grads(lambda a: tg.min(a, axis=-1), x)[0], [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


def test_maximum_minimum_split_ties() -> None:
    ga, gb = grads(tg.maximum, [1.0, 2.0, 3.0], [1.0, 3.0, 0.0])
    np.testing.assert_array_equal(ga, [0.5, 0.0, 1.0])
    np.testing.assert_array_equal(gb, [0.5, 1.0, 0.0])
    ga, gb = grads(tg.minimum, [1.0, 2.0, 3.0], [1.0, 3.0, 0.0])
    np.testing.assert_array_equal(ga, [0.5, 1.0, 0.0])
    np.testing.assert_array_equal(gb, [0.5, 0.0, 1.0])
    ga, gb = grads(tg.maximum, [2.0, 2.0], 2.0)  # a tie against a broadcast scalar
    np.testing.assert_array_equal(ga, [0.5, 0.5])
    assert gb == 1.0


def test_relu_and_abs_at_zero() -> None:
    np.testing.assert_array_equal(grads(tg.relu, [-1.0, 0.0, 2.0])[0], [0.0, 0.0, 1.0])
    np.testing.assert_array_equal(grads(tg.abs, [-1.0, 0.0, 2.0])[0], [-1.0, 0.0, 1.0])
    np.testing.assert_array_equal(grads(abs, [0.0])[0], [0.0])


def test_prod_gradient_with_zeros() -> None:
    np.testing.assert_array_equal(grads(lambda x: x.prod(), [2.0, 0.0, 3.0])[0], [0.0, 6.0, 0.0])
    np.testing.assert_array_equal(grads(lambda x: x.prod(), [2.0, 0.0, 0.0])[0], [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(grads(lambda x: x.prod(axis=1), [[2.0, 0.0], [3.0, 4.0]])[0],
                                  [[0.0, 2.0], [4.0, 3.0]])


def test_pow_at_zero_base() -> None:
    """``x**0`` is constant (no ``0 * inf``), and ``d/dy 0**y = 0`` for ``y > 0``."""
    np.testing.assert_array_equal(grads(lambda x: x ** 0, [0.0, 2.0])[0], [0.0, 0.0])
    np.testing.assert_array_equal(grads(lambda x: x ** 2, [0.0, -1.5])[0], [0.0, -3.0])
    np.testing.assert_array_equal(grads(lambda x: x ** 1, [0.0, 3.0])[0], [1.0, 1.0])
    gb, ge = grads(lambda b, e: b ** e, [0.0, 0.0], [2.0, 3.0])
    np.testing.assert_array_equal(gb, [0.0, 0.0])
    np.testing.assert_array_equal(ge, [0.0, 0.0])


# =============================================================================== where never leaks

# Each case: f(x) whose unselected branch is NaN or Inf (or has an infinite derivative) at some x,
# the points, and the exact gradient there.
WHERE_CASES = {
    "sqrt": (lambda x: tg.where(x > 0, tg.sqrt(x), 0.0), [-1.0, 0.0, 4.0], [0.0, 0.0, 0.25]),
    "log": (lambda x: tg.where(x > 0, tg.log(x), 0.0), [-1.0, 0.0, 2.0], [0.0, 0.0, 0.5]),
    "log, other side": (lambda x: tg.where(x <= 0, x * 2, tg.log(x)), [-1.0, 0.0, 2.0], [2.0, 2.0, 0.5]),
    "1/x": (lambda x: tg.where(x != 0, 1 / x, 0.0), [0.0, 2.0], [0.0, -0.25]),
    "pow": (lambda x: tg.where(x > 0, x ** 0.5, x), [0.0, -2.0, 1.0], [1.0, 1.0, 0.5]),
    "nested chain": (lambda x: tg.where(x > 0, tg.exp(tg.log(tg.sqrt(x)) * 2) + tg.log(x) * tg.sqrt(x), 0.0),
                     [-1.0, 0.0, 1.0], [0.0, 0.0, 2.0]),
    "where in where": (lambda x: tg.where(x > -1, tg.where(x > 0, tg.sqrt(x), 0.0), tg.log(-x - 1)),
                       [-0.5, 0.0, 4.0], [0.0, 0.0, 0.25]),
    "tensor cond": (lambda x: tg.where(tg.tensor([False, True]), tg.log(x), x * 3), [0.0, 1.0], [3.0, 1.0]),
    "unselected branch reshaped": (lambda x: tg.where(x > 0, tg.sqrt(x).reshape(3), 0.0),
                                   [-1.0, 0.0, 4.0], [0.0, 0.0, 0.25]),
    "unselected branch indexed": (lambda x: tg.where(x > 0, tg.sqrt(x)[None, :], 0.0)[0],
                                  [-1.0, 0.0, 4.0], [0.0, 0.0, 0.25]),
    "unselected branch broadcast": (
        lambda x: tg.where(np.array([[True, False, True], [True, False, True]]), tg.sqrt(x), 0.0),
        [1.0, 0.0, 4.0], [1.0, 0.0, 0.5]),
    "unselected branch concatenated": (
        lambda x: tg.where(np.array([False, False, True, True]), tg.concatenate([tg.log(x[:1]), tg.sqrt(x[1:])]), 0.0),
        [-1.0, -1.0, 1.0, 4.0], [0.0, 0.0, 0.5, 0.25]),
    "unselected branch stacked": (
        lambda x: tg.where(np.array([[True, False, True]] * 2), tg.stack([tg.sqrt(x), tg.log(x)]), 0.0),
        [1.0, -1.0, 4.0], [1.5, 0.0, 0.5]),
    "unselected branch summed": (
        lambda x: tg.where(x > 0, (tg.sqrt(x)[:, None] * np.ones((1, 2))).sum(axis=1), 0.0),
        [1.0, -1.0, 0.0], [1.0, 0.0, 0.0]),
    "product of wheres": (lambda x: tg.where(x > 0, tg.sqrt(x), 0.0) * tg.where(x > 0, tg.log(x), 1.0),
                          [1.0, -1.0, 0.0], [1.0, 0.0, 0.0]),
    "sin(x)/x": (lambda x: tg.where(x != 0, tg.sin(x) / x, 1.0), [0.0, np.pi], [0.0, -1 / np.pi]),
}


@pytest.mark.parametrize("name", list(WHERE_CASES))
def test_where_never_leaks_nan_or_inf(name: str) -> None:
    f, x, expected = WHERE_CASES[name]
    with np.errstate(all="ignore"):  # the forward pass of the unselected branch makes NaN/Inf
        (g,) = grads(f, x)
    assert np.all(np.isfinite(g)), f"{name}: gradient {g}"
    np.testing.assert_allclose(g, expected, rtol=1e-14, atol=0)  # zeros exactly


def test_where_division_guard_gradients_of_both_inputs() -> None:
    with np.errstate(all="ignore"):
        gx, gy = grads(lambda x, y: tg.where(y != 0, x / y, 0.0), [1.0, 2.0, 3.0], [0.0, 2.0, 0.0])
    np.testing.assert_array_equal(gx, [0.0, 0.5, 0.0])
    np.testing.assert_array_equal(gy, [0.0, -0.5, 0.0])


WHERE_SECOND = {
    "sqrt**3": (lambda x: tg.where(x > 0, tg.sqrt(x) ** 3, 0.0), [-1.0, 0.0, 4.0], [0.0, 0.0, 3.0],
                [0.0, 0.0, 0.375]),
    "reshaped": (lambda x: tg.where(x > 0, (tg.sqrt(x) ** 3).reshape(3), 0.0), [-1.0, 0.0, 4.0],
                 [0.0, 0.0, 3.0], [0.0, 0.0, 0.375]),
    "broadcast": (lambda x: tg.where(np.array([[True, False, True]] * 2), tg.sqrt(x) ** 3, 0.0), [1.0, -1.0, 4.0],
                  [3.0, 0.0, 6.0], [1.5, 0.0, 0.75]),
    "indexed with repeats": (lambda x: tg.where(x[[0, 0, 2]] > 0, tg.log(x)[[0, 0, 2]], 0.0), [-1.0, 0.0, 4.0],
                             [0.0, 0.0, 0.25], [0.0, 0.0, -1 / 16]),
}


@pytest.mark.parametrize("name", list(WHERE_SECOND))
def test_where_second_derivative_does_not_leak(name: str) -> None:
    f, x, first, second = WHERE_SECOND[name]
    with np.errstate(all="ignore"):
        d1, d2 = nth_derivatives(f, x, 2)
    np.testing.assert_array_equal(d1, first)
    np.testing.assert_array_equal(d2, second)


# =============================================================================== numerical stability


def test_softmax_family_stable_at_large_inputs() -> None:
    x = np.array([1000.0, -1000.0, 0.0])
    w = np.array([1.0, 2.0, 3.0])
    p = np.array([1.0, 0.0, 0.0])  # exp(-1000) and exp(-2000) underflow to exactly 0
    t = Tensor(x)
    np.testing.assert_array_equal(t.softmax().data, p)
    np.testing.assert_array_equal(t.log_softmax().data, [0.0, -2000.0, -1000.0])
    assert t.logsumexp().item() == 1000.0
    np.testing.assert_array_equal(grads(lambda a: a.softmax(), x, weights=w)[0], p * (w - w @ p))
    np.testing.assert_array_equal(grads(lambda a: a.log_softmax(), x, weights=w)[0], w - p * w.sum())
    np.testing.assert_array_equal(grads(lambda a: a.logsumexp(), x)[0], p)
    np.testing.assert_array_equal(grads(lambda a: tg.logsumexp(-a), x)[0], [0.0, -1.0, 0.0])
    y = np.array([[1000.0, 1000.0], [-1000.0, -1001.0]])
    lse = Tensor(y).logsumexp(axis=1)
    np.testing.assert_allclose(lse.data, [1000 + np.log(2), -1000 + np.log1p(np.exp(-1))], rtol=1e-14)
    (g,) = grads(lambda a: a.logsumexp(axis=1), y)
    np.testing.assert_allclose(g, scipy.special.softmax(y, axis=1), rtol=1e-14)
    check(lambda a: a.logsumexp(axis=1) + a.softmax(axis=0).sum(axis=1), y)


def test_logsumexp_of_all_negative_infinity() -> None:
    x = Tensor([-np.inf, -np.inf], requires_grad=True)
    out = x.logsumexp()
    assert out.item() == -np.inf
    out.backward()
    assert np.all(np.isfinite(x.grad.data)), x.grad
    y = Tensor([[-np.inf, -np.inf], [0.0, np.log(3.0)]], requires_grad=True)
    out = y.logsumexp(axis=1)
    np.testing.assert_allclose(out.data, [-np.inf, np.log(4.0)])
    (out * Tensor([1.0, 1.0])).sum().backward()
    np.testing.assert_allclose(y.grad.data, [[0.0, 0.0], [0.25, 0.75]])
    assert not np.any(np.isnan(Tensor([-np.inf, 0.0]).softmax().data))
    np.testing.assert_array_equal(Tensor([-np.inf, 0.0]).softmax().data, [0.0, 1.0])
    np.testing.assert_array_equal(Tensor([-np.inf, 0.0]).log_softmax().data, [-np.inf, 0.0])


# =============================================================================== float32 end to end

RNG = np.random.default_rng(7)
POS = RNG.uniform(0.5, 2.0, (2, 3))
ANY = RNG.uniform(-1.0, 1.0, (2, 3))
DISTINCT = np.array([[0.15, -0.35, 0.55], [-0.75, 0.95, 0.25]])

FLOAT32_CASES: dict[str, tuple[Callable[..., Tensor], list[np.ndarray]]] = {
    **{name: (fn, [POS if domain == "positive" else DISTINCT]) for name, (fn, domain) in UNARY.items()},
    "clip": (lambda x: x.clip(-0.5, 0.5), [DISTINCT]),
    "clip tensors": (lambda x, lo, hi: tg.clip(x, lo, hi), [DISTINCT, -np.full(3, 0.4), np.full((2, 1), 0.5)]),
    **{name: (fn, [POS if dx == "positive" else DISTINCT, (DISTINCT - 0.03)[:1] if dy == "below" else POS[0]])
       for name, (fn, dx, dy) in BINARY.items()},
    "t**2": (lambda x: x ** 2, [ANY]),
    "2**t": (lambda x: 2.0 ** x, [ANY]),
    "t*c": (lambda x: x * 1.5 + 0.5, [ANY]),
    "c/t": (lambda x: 1.5 / x, [POS]),
    "where": (lambda x, y: tg.where(DISTINCT > 0, x, y), [ANY, POS[:, :1]]),
    "matmul 2-D": (lambda x, y: x @ y, [ANY, POS.T]),
    "matmul 1-D": (lambda x, y: x @ y, [ANY[0], POS[1]]),
    "matmul batched": (lambda x, y: x @ y, [RNG.standard_normal((2, 1, 2, 3)), RNG.standard_normal((4, 3, 2))]),
    **{name: (lambda x, name=name: getattr(x, name)(axis=1), [POS if name == "prod" else DISTINCT])
       for name in REDUCTIONS},
    "sum all": (lambda x: x.sum(), [ANY]),
    "mean keepdims": (lambda x: x.mean(axis=0, keepdims=True), [ANY]),
    "var ddof": (lambda x: x.var(ddof=1), [ANY]),
    "softmax": (lambda x: x.softmax() * Tensor(ANY, dtype=np.float32), [ANY]),
    "log_softmax": (lambda x: x.log_softmax(axis=0), [ANY]),
    "reshape": (lambda x: x.reshape(3, 2) * x.T, [ANY]),
    "transpose": (lambda x: x.transpose(1, 0), [ANY]),
    "flatten": (lambda x: x.flatten(), [ANY]),
    "squeeze": (lambda x: x[:1].squeeze(0), [ANY]),
    "expand_dims": (lambda x: x.expand_dims(1), [ANY]),
    "broadcast_to": (lambda x: x.broadcast_to((4, 2, 3)), [ANY]),
    "getitem": (lambda x: x[[1, 1, 0], ::-1], [ANY]),
    "getitem mask": (lambda x: x[ANY > 0], [ANY]),
    "concatenate": (lambda x, y: tg.concatenate([x, y], axis=0), [ANY, POS]),
    "stack": (lambda x, y: tg.stack([x, y], axis=-1), [ANY, POS]),
    "tanh_grad": (lambda g, y: ops.tanh_grad(g, y), [ANY, ANY]),
    "sigmoid_grad": (lambda g, y: ops.sigmoid_grad(g, y), [ANY, ANY]),
    "sum_to": (lambda x: ops.sum_to(x, (1, 3)), [ANY]),
    "index_add": (lambda g: ops.index_add(g, (np.array([0, 0]),), (2, 3)), [ANY]),
}


@pytest.mark.parametrize("name", list(FLOAT32_CASES))
def test_float32_stays_float32(name: str) -> None:
    fn, values = FLOAT32_CASES[name]
    leaves = [Tensor(v, dtype=np.float32, requires_grad=True) for v in values]
    out = fn(*leaves)
    assert out.dtype == np.float32, f"{name}: output is {out.dtype}"
    (out * out).sum().backward(create_graph=True)
    for k, leaf in enumerate(leaves):
        assert leaf.grad is not None and leaf.grad.dtype == np.float32, f"{name}: gradient {k} is {leaf.grad}"
    second = leaves[0].grad.sum()
    for leaf in leaves:
        leaf.grad = None
    second.backward()
    for k, leaf in enumerate(leaves):
        if leaf.grad is not None:
            assert leaf.grad.dtype == np.float32, f"{name}: second derivative {k} is {leaf.grad.dtype}"
