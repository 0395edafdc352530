"""The vocabulary of issue 15: NumPy's elementwise functions, scans and shape ops, and NumPy's own keywords.

Each op goes through the property check of test_op_gradients (first and second order against finite
differences, forward mode against reverse mode, batched Jacobians and Hessians) on hypothesis-drawn
shapes, with domains that respect each function; exact values pin down the conventions (floor and
friends have derivative 0, ``mod``'s slope in ``y``, ``hypot`` at the origin, ``cumprod`` at zeros,
``sinc`` at 0 to high order). The NumPy interop is checked against NumPy's own signatures.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from strategies import arrays, axes, broadcast_shapes, grid, nonzeros, reals, reduced_count, shapes
from test_op_gradients import check, grads

import tinygrad_mvc as tg
from tinygrad_mvc import interop, ops

Tensor = tg.Tensor
FEW = settings(max_examples=4)  # every op has its own test; a few drawn shapes each keep the file fast


# =============================================================================== elementwise, one input

def domain(name: str, shape: tuple[int, ...]) -> Any:
    if name in ("arcsin", "arccos", "arctanh"):
        return reals(shape, -0.8, 0.8)
    if name == "arccosh":
        return reals(shape, 1.2, 3.0)
    if name == "log1p":
        return reals(shape, -0.5, 2.0)
    if name in ("log2", "log10"):
        return arrays("positive", shape)
    if name == "reciprocal":
        return arrays("nonzero", shape)
    if name in ("floor", "ceil", "trunc", "round"):
        return grid(shape)  # k/10 + 0.05: never within 0.05 of an integer or a half
    return arrays("wide", shape)


UNARY = ["sinh", "cosh", "arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh", "log1p", "expm1", "log2",
         "log10", "exp2", "square", "reciprocal", "sinc", "floor", "ceil", "trunc", "round"]
NUMPY = {"reciprocal": lambda x: 1.0 / x, "round": np.round}


@pytest.mark.parametrize("name", UNARY)
@FEW
@given(data=st.data())
def test_unary(name: str, data: Any) -> None:
    x = data.draw(domain(name, data.draw(shapes())), label="x")
    fn = getattr(tg, name)
    expected = NUMPY.get(name, getattr(np, name, None))(x)
    np.testing.assert_allclose(fn(Tensor(x)).data, expected, rtol=1e-13, atol=1e-15)
    np.testing.assert_array_equal(getattr(Tensor(x), name)().data, fn(Tensor(x)).data)
    np.testing.assert_array_equal(getattr(np, name)(Tensor(x, requires_grad=True)).data, fn(Tensor(x)).data)
    assert getattr(np, name)(Tensor(x, requires_grad=True)).requires_grad
    check(fn, x)


DERIVATIVES: dict[str, Callable[[float], float]] = {
    "sinh": math.cosh, "cosh": math.sinh, "arcsin": lambda t: 1 / math.sqrt(1 - t * t),
    "arccos": lambda t: -1 / math.sqrt(1 - t * t), "arctan": lambda t: 1 / (1 + t * t),
    "arcsinh": lambda t: 1 / math.sqrt(t * t + 1), "arccosh": lambda t: 1 / math.sqrt(t * t - 1),
    "arctanh": lambda t: 1 / (1 - t * t), "log1p": lambda t: 1 / (1 + t), "expm1": math.exp,
    "log2": lambda t: 1 / (t * math.log(2)), "log10": lambda t: 1 / (t * math.log(10)),
    "exp2": lambda t: 2 ** t * math.log(2), "square": lambda t: 2 * t, "reciprocal": lambda t: -1 / t ** 2,
    "sinc": lambda t: (math.cos(math.pi * t) - math.sin(math.pi * t) / (math.pi * t)) / t,
}


@pytest.mark.parametrize("name", sorted(DERIVATIVES))
def test_unary_derivative_is_the_textbook_one(name: str) -> None:
    x0 = 1.7 if name == "arccosh" else 0.35
    (g,) = grads(getattr(tg, name), [x0])
    assert g[0] == pytest.approx(DERIVATIVES[name](x0), rel=1e-13)


def test_piecewise_constant_ops_have_derivative_zero_and_record_a_node() -> None:
    x = np.array([-1.5, -0.5, 0.5, 1.5, 2.5, 2.675])
    for name in ("floor", "ceil", "trunc", "round"):
        out = getattr(tg, name)(Tensor(x, requires_grad=True))
        assert out.requires_grad and out.op == name
        np.testing.assert_array_equal(grads(getattr(tg, name), x)[0], np.zeros(6))
    np.testing.assert_array_equal(tg.round(Tensor(x)).data, [-2.0, -0.0, 0.0, 2.0, 2.0, 3.0])  # halves to even
    for decimals in (1, 2, -1):
        np.testing.assert_array_equal(tg.round(Tensor(x * 7.3), decimals).data, np.round(x * 7.3, decimals))
        np.testing.assert_array_equal(np.round(Tensor(x * 7.3), decimals).data, np.round(x * 7.3, decimals))
        np.testing.assert_array_equal(np.around(Tensor(x), decimals).data, np.around(x, decimals))
    assert round(tg.tensor(2.675), 2) == round(2.675, 2) and round(tg.tensor(3.5)) == 4  # Python's round stays
    np.testing.assert_array_equal(np.rint(Tensor(x, requires_grad=True)).data, np.rint(x))


def test_sinc_is_exact_at_zero_to_high_order() -> None:
    # sinc(x) = Σ (-1)^k (πx)^(2k) / (2k+1)!: the Taylor coefficients at 0, through the quotient rule's 0/0
    approx = tg.taylor(tg.sinc, 0.0, 8)
    expected = [0.0 if n % 2 else (-1) ** (n // 2) * math.pi ** n / math.factorial(n + 1) for n in range(9)]
    np.testing.assert_allclose(approx.coefficients, expected, rtol=1e-12, atol=1e-14)
    (g,) = grads(tg.sinc, [0.0, 1.0, -2.0])
    np.testing.assert_allclose(g, [0.0, -1.0, -0.5], atol=1e-15)
    # the n-th derivative by the series near 0 meets Leibniz's rule beyond |πx| = n + 1 without a jump
    for n in (1, 2, 5):
        edge = (n + 1) / np.pi
        inside, outside = ops._sinc_derivative(np.array([edge * (1 - 1e-12), edge * (1 + 1e-12)]), n)
        assert inside == pytest.approx(outside, rel=1e-9, abs=1e-12)
    assert tg.sinc(Tensor(np.float32(0.3), requires_grad=True)).dtype == np.float32


# =============================================================================== elementwise, two inputs

@st.composite
def mod_inputs(draw: Any) -> tuple[np.ndarray, np.ndarray]:
    """x on the grid k/10 + 0.05 and y in ±0.3, ±0.7: x / y never within 0.07 of an integer (no jump)."""
    sx, sy = draw(broadcast_shapes(2))
    y = draw(st.lists(st.sampled_from([-0.7, -0.3, 0.3, 0.7]), min_size=math.prod(sy), max_size=math.prod(sy)))
    return draw(grid(sx)), np.reshape(np.array(y), sy)


BINARY = {"mod": np.mod, "remainder": np.remainder, "fmod": np.fmod, "arctan2": np.arctan2, "hypot": np.hypot}


@pytest.mark.parametrize("name", sorted(BINARY))
@FEW
@given(data=st.data())
def test_binary_broadcasting(name: str, data: Any) -> None:
    if name in ("mod", "remainder", "fmod"):
        x, y = data.draw(mod_inputs(), label="x, y")
    else:
        sx, sy = data.draw(broadcast_shapes(2), label="shapes")
        x, y = data.draw(nonzeros(sx), label="x"), data.draw(nonzeros(sy), label="y")  # off arctan2's branch cut
    fn = getattr(tg, name)
    out = fn(Tensor(x), Tensor(y))
    np.testing.assert_allclose(out.data, BINARY[name](x, y), rtol=1e-13, atol=1e-15)
    np.testing.assert_array_equal(BINARY[name](Tensor(x, requires_grad=True), y).data, out.data)
    check(fn, x, y)


def test_mod_slopes_and_operators() -> None:
    x, y = [5.5, -5.5, 5.5, -5.5], [2.0, 2.0, -2.0, -2.0]
    gx, gy = grads(tg.mod, x, y)
    np.testing.assert_array_equal(gx, [1.0] * 4)
    np.testing.assert_array_equal(gy, -np.floor(np.divide(x, y)))  # NumPy's remainder takes y's sign
    gx, gy = grads(tg.fmod, x, y)
    np.testing.assert_array_equal(gy, -np.trunc(np.divide(x, y)))  # C's fmod takes x's sign
    t = Tensor([5.5, -5.5], requires_grad=True)
    assert (t % 2).op == "mod" and (7.0 % t).op == "mod" and (np.array([7.0, 1.0]) % t).op == "mod"
    np.testing.assert_array_equal((t % 2).data, np.mod([5.5, -5.5], 2))
    np.testing.assert_array_equal((7.0 % t).data, np.mod(7.0, [5.5, -5.5]))
    check(lambda a: a % 1.3 + 2.0 % (a + 3.0), np.array([0.45, -0.25, 1.05]))


def test_hypot_at_the_origin_and_arctan2_quadrants() -> None:
    gx, gy = grads(tg.hypot, [0.0, 3.0], [0.0, 4.0])
    np.testing.assert_array_equal(gx, [0.0, 0.6])
    np.testing.assert_array_equal(gy, [0.0, 0.8])
    y, x = np.array([1.0, 1.0, -1.0, -1.0]), np.array([1.0, -1.0, -1.0, 1.0])
    gy, gx = grads(tg.arctan2, y, x)
    np.testing.assert_allclose(gy, x / 2, rtol=1e-15)
    np.testing.assert_allclose(gx, -y / 2, rtol=1e-15)


def test_power_is_pow_with_a_tensor_exponent() -> None:
    b, e = np.array([0.5, 2.0, 3.0]), np.array([1.5, -0.5, 2.0])
    assert tg.power(Tensor(b, requires_grad=True), Tensor(e)).op == "pow"
    np.testing.assert_allclose(tg.power(b, Tensor(e)).data, b ** e, rtol=1e-15)
    check(lambda u, v: tg.power(u, v), b, e)
    check(lambda v: tg.power(2.0, v), e)
    np.testing.assert_allclose(np.power(Tensor(b, requires_grad=True), e).data, b ** e, rtol=1e-15)


# =============================================================================== reductions and scans

@pytest.mark.parametrize("ddof", [0, 1])
@FEW
@given(data=st.data())
def test_std(ddof: int, data: Any) -> None:
    shape = data.draw(shapes(min_dims=1), label="shape")
    axis = data.draw(axes(len(shape)), label="axis")
    assume(reduced_count(shape, axis) >= ddof + 2)  # no slice of one entry, where std is 0 and its slope NaN
    x = data.draw(grid(shape, unique=True), label="x")
    keepdims = data.draw(st.booleans(), label="keepdims")
    np.testing.assert_allclose(tg.std(Tensor(x), axis=axis, keepdims=keepdims, ddof=ddof).data,
                               np.std(x, axis=axis, keepdims=keepdims, ddof=ddof), rtol=1e-13)
    np.testing.assert_allclose(np.std(Tensor(x, requires_grad=True), axis=axis, ddof=ddof).data,
                               np.std(x, axis=axis, ddof=ddof), rtol=1e-13)
    check(lambda a: a.std(axis=axis, keepdims=keepdims, ddof=ddof), x)


@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
@settings(max_examples=8)
@given(data=st.data())
def test_scans(name: str, data: Any) -> None:
    shape = data.draw(shapes(), label="shape")
    x = data.draw(arrays("nearone" if name == "cumprod" else "real", shape), label="x")
    axis = data.draw(st.none() | (st.integers(-len(shape), len(shape) - 1) if shape else st.none()), label="axis")
    expected = getattr(np, name)(x, axis=axis)
    for out in (getattr(tg, name)(Tensor(x), axis), getattr(Tensor(x), name)(axis),
                getattr(np, name)(Tensor(x, requires_grad=True), axis=axis)):
        assert out.shape == expected.shape
        np.testing.assert_allclose(out.data, expected, rtol=1e-13, atol=1e-15)
    check(lambda a: getattr(tg, name)(a, axis), x)


@pytest.mark.parametrize("x", [[2.0, 0.0, 3.0, 4.0], [0.0, 2.0, 0.0, 3.0], [0.0, 0.0, 0.0, 1.0], [1.0, 2.0, 3.0, 0.0]],
                         ids=str)
def test_cumprod_at_zeros(x: list[float]) -> None:
    """First derivatives (both modes) exact whatever the zeros; second derivatives with one zero per slice."""
    x0, w = np.array(x), np.arange(1.0, 5.0)
    jac = tg.finite_diff.numerical_jacobian(np.cumprod, x0)
    np.testing.assert_allclose(tg.jacobian(tg.cumprod, mode="rev")(x0), jac, atol=1e-8)
    np.testing.assert_allclose(tg.jacobian(tg.cumprod, mode="fwd")(x0), jac, atol=1e-8)

    def loss(a: Any) -> Tensor:
        return (tg.cumprod(a) * w).sum()

    if np.count_nonzero(x0 == 0) == 1:
        hess = tg.finite_diff.numerical_jacobian(tg.grad(loss), x0)  # differences of the exact gradient
        np.testing.assert_allclose(tg.hessian(loss)(x0), hess, atol=1e-6)
        np.testing.assert_allclose(tg.jacobian(tg.grad(loss), mode="rev")(x0), hess, atol=1e-6)
    rows = np.array([x, [1.5, 2.0, 0.5, 3.0]]).T  # zeros in one column only, scanned along axis 0
    np.testing.assert_allclose(tg.jacobian(lambda a: tg.cumprod(a, 0), mode="rev")(rows).reshape(8, 8),
                               tg.finite_diff.numerical_jacobian(lambda a: np.cumprod(a, 0), rows).reshape(8, 8),
                               atol=1e-8)


def test_argmax_argmin_are_integer_tensors_without_gradient() -> None:
    x = Tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 7.0]], requires_grad=True)
    for name in ("argmax", "argmin"):
        for kwargs in ({}, {"axis": 1}, {"axis": 0, "keepdims": True}):
            for out in (getattr(tg, name)(x, **kwargs), getattr(x, name)(**kwargs), getattr(np, name)(x, **kwargs)):
                assert out.dtype.kind == "i" and not out.requires_grad and out.op is None
                np.testing.assert_array_equal(out.data, getattr(np, name)(x.data, **kwargs))


# =============================================================================== shape

SHAPE_CASES: dict[str, tuple[Callable[[Any], Any], Callable[[np.ndarray], Any]]] = {
    "swapaxes": (lambda a: tg.swapaxes(a, 0, -1), lambda a: np.swapaxes(a, 0, -1)),
    "t.swapaxes": (lambda a: a.swapaxes(2, 1), lambda a: a.swapaxes(2, 1)),
    "moveaxis": (lambda a: tg.moveaxis(a, 0, -1), lambda a: np.moveaxis(a, 0, -1)),
    "moveaxis, several": (lambda a: tg.moveaxis(a, (0, 2), (2, 0)), lambda a: np.moveaxis(a, (0, 2), (2, 0))),
    "flip": (tg.flip, np.flip),
    "flip, axis": (lambda a: tg.flip(a, (0, 2)), lambda a: np.flip(a, (0, 2))),
    "roll": (lambda a: tg.roll(a, 2), lambda a: np.roll(a, 2)),
    "roll, axes": (lambda a: tg.roll(a, (1, -4, 2), axis=(0, 2, 0)), lambda a: np.roll(a, (1, -4, 2), axis=(0, 2, 0))),
    "repeat": (lambda a: tg.repeat(a, 2), lambda a: np.repeat(a, 2)),
    "repeat, axis": (lambda a: tg.repeat(a, [1, 0, 3], axis=1), lambda a: np.repeat(a, [1, 0, 3], axis=1)),
    "t.repeat": (lambda a: a.repeat(3, -1), lambda a: a.repeat(3, -1)),
    "tile": (lambda a: tg.tile(a, 2), lambda a: np.tile(a, 2)),
    "tile, more axes": (lambda a: tg.tile(a, (2, 1, 1, 2)), lambda a: np.tile(a, (2, 1, 1, 2))),
    "pad": (lambda a: tg.pad(a, 1), lambda a: np.pad(a, 1)),
    "pad, per axis": (lambda a: tg.pad(a, ((0, 1), (2, 0), (1, 1)), constant_values=((1, 2), (3, 4), (5, 6))),
                      lambda a: np.pad(a, ((0, 1), (2, 0), (1, 1)), constant_values=((1, 2), (3, 4), (5, 6)))),
    "split": (lambda a: tg.split(a, 2, axis=0)[1], lambda a: np.split(a, 2, axis=0)[1]),
    "split, indices": (lambda a: tg.split(a, [1, 2], axis=1)[2], lambda a: np.split(a, [1, 2], axis=1)[2]),
    "array_split": (lambda a: tg.array_split(a, 3, axis=2)[0], lambda a: np.array_split(a, 3, axis=2)[0]),
    "hstack": (lambda a: tg.hstack([a, a[:, :1]]), lambda a: np.hstack([a, a[:, :1]])),
    "vstack": (lambda a: tg.vstack([a[0], a[1]]), lambda a: np.vstack([a[0], a[1]])),
    "ravel": (tg.ravel, np.ravel),
    "t.ravel": (lambda a: a.ravel(), np.ravel),
    "atleast_1d": (lambda a: tg.atleast_1d(a[0, 0, 0]), lambda a: np.atleast_1d(a[0, 0, 0])),
    "atleast_2d": (lambda a: tg.atleast_2d(a[0, 0]), lambda a: np.atleast_2d(a[0, 0])),
}


@pytest.mark.parametrize("name", list(SHAPE_CASES))
def test_shape_ops(name: str) -> None:
    fn, reference = SHAPE_CASES[name]
    x = np.random.default_rng(len(name)).standard_normal((2, 3, 4))
    expected = reference(x)
    out = fn(Tensor(x, requires_grad=True))
    assert isinstance(out, Tensor) and out.requires_grad and out.shape == expected.shape
    np.testing.assert_array_equal(out.data, expected)
    w = np.random.default_rng(1).standard_normal(expected.shape)
    (g,) = grads(fn, x, weights=w)
    # each entry of x gets the weights of the output entries it was copied to: the transpose, by NumPy
    index = reference(np.arange(x.size, dtype=float).reshape(x.shape))
    copied = index == np.round(index)  # the padding's constants are no entries of x (they are not whole numbers)
    if name.startswith("pad"):
        copied = np.pad(np.ones(x.shape, dtype=bool), ((0, 1), (2, 0), (1, 1)) if "axis" in name else 1)
    oracle = np.zeros(x.size)
    np.add.at(oracle, index[copied].astype(int), w[copied])
    np.testing.assert_allclose(g, oracle.reshape(x.shape), rtol=1e-14, atol=1e-15)
    check(fn, x)


@FEW
@given(data=st.data())
def test_shape_ops_of_drawn_shapes(data: Any) -> None:
    shape = data.draw(shapes(min_dims=1), label="shape")
    x = data.draw(reals(shape), label="x")
    ax = data.draw(st.integers(-len(shape), len(shape) - 1), label="axis")
    other = data.draw(st.integers(-len(shape), len(shape) - 1), label="other axis")
    cases = [
        (lambda a: tg.swapaxes(a, ax, other), np.swapaxes(x, ax, other)),
        (lambda a: tg.moveaxis(a, ax, other), np.moveaxis(x, ax, other)),
        (lambda a: tg.flip(a, ax), np.flip(x, ax)),
        (lambda a: tg.roll(a, 3, ax), np.roll(x, 3, ax)),
        (lambda a: tg.repeat(a, 2, ax), np.repeat(x, 2, ax)),
        (lambda a: tg.tile(a, (2,) * len(shape)), np.tile(x, (2,) * len(shape))),
        (lambda a: tg.pad(a, (1, 0), constant_values=0.5), np.pad(x, (1, 0), constant_values=0.5)),
        (lambda a: tg.stack(tg.array_split(a, 2, ax)[:1]), np.stack(np.array_split(x, 2, ax)[:1])),
    ]
    for fn, expected in cases:
        np.testing.assert_array_equal(fn(Tensor(x)).data, expected)
    fn = data.draw(st.sampled_from([fn for fn, _ in cases]), label="checked")
    check(fn, x)


def test_shape_ops_refuse_clearly() -> None:
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(ValueError, match=r"pad: mode='reflect' is not supported; only mode='constant'"):
        tg.pad(x, 1, mode="reflect")
    with pytest.raises(ValueError, match=r"split: the 3 entries along axis 1 of shape \(2, 3\) do not split into 2"):
        tg.split(x, 2, axis=1)
    with pytest.raises(ValueError, match=r"swapaxes: axis 2 is out of range for shape \(2, 3\)"):
        tg.swapaxes(x, 0, 2)
    with pytest.raises(ValueError, match=r"moveaxis: axis -3 is out of range"):
        tg.moveaxis(x, -3, 0)
    with pytest.raises(ValueError, match=r"repeat: cannot repeat the 3 entries along axis 1"):
        tg.repeat(x, [1, 2], axis=1)
    with pytest.raises(ValueError, match=r"pad: cannot pad shape \(2, 3\)"):
        tg.pad(x, -1)
    with pytest.raises(TypeError, match="pad: constant_values must be numbers"):
        tg.pad(x, 1, constant_values=Tensor(1.0, requires_grad=True))
    with pytest.raises(TypeError, match=r"np.pad\(..., mode='edge'\) is not supported on a Tensor that requires grad"):
        np.pad(x, 1, mode="edge")
    np.testing.assert_array_equal(np.pad(x.detach(), 1, mode="edge"), np.pad(np.ones((2, 3)), 1, mode="edge"))


def test_new_ops_keep_float32() -> None:
    x = Tensor(np.array([0.3, 0.6, 0.2], dtype=np.float32), requires_grad=True)
    others = [lambda a: tg.arccosh(a + 1.5), tg.cumsum, tg.cumprod, tg.std, lambda a: tg.mod(a, 0.25),
              lambda a: tg.hypot(a, 1.0), lambda a: tg.arctan2(a, 2.0)]
    for fn in [getattr(tg, n) for n in UNARY if n != "arccosh"] + others:
        out = fn(x)
        assert out.dtype == np.float32, fn
        x.grad = None
        (out * out).sum().backward()
        assert x.grad.dtype == np.float32, fn


# =============================================================================== NumPy's own keywords

def test_numpy_keyword_names_work() -> None:
    a = np.array([[1.0, -2.0, 3.0], [4.0, 5.0, -6.0]])
    t = Tensor(a, requires_grad=True)
    np.testing.assert_array_equal(np.clip(t, a_min=0.0, a_max=2.0).data, np.clip(a, a_min=0.0, a_max=2.0))
    np.testing.assert_array_equal(np.clip(t, min=-1.0).data, np.clip(a, min=-1.0))
    assert np.clip(t, a_min=0.0, a_max=2.0).requires_grad
    same = [
        (np.sum(t, dtype=None, out=None), np.sum(a)), (np.max(t, initial=10.0), np.max(a, initial=10.0)),
        (np.min(t, axis=1, initial=-3.0), np.min(a, axis=1, initial=-3.0)),
        (np.sum(t, axis=0, initial=1.5), np.sum(a, axis=0, initial=1.5)),
        (np.prod(t, axis=1, initial=2.0), np.prod(a, axis=1, initial=2.0)),
        (np.sum(t, axis=1, where=a > 0), np.sum(a, axis=1, where=a > 0)),
        (np.mean(t, axis=1, where=a > 0), np.mean(a, axis=1, where=a > 0)),
        (np.max(t, axis=0, where=a < 5, initial=-9.0), np.max(a, axis=0, where=a < 5, initial=-9.0)),
        (np.var(t, correction=1), np.var(a, correction=1)), (np.std(t, axis=0, ddof=1), np.std(a, axis=0, ddof=1)),
        (np.mean(t, dtype=np.float32), np.mean(a, dtype=np.float32)),
        (np.cumsum(t, axis=1, dtype=None), np.cumsum(a, axis=1)),
        (np.reshape(t, shape=(3, 2)), np.reshape(a, shape=(3, 2))), (np.exp(t, out=None), np.exp(a)),
        (np.concatenate([t, t], axis=None), np.concatenate([a, a], axis=None)),
        (np.ravel(t, order="C"), np.ravel(a)), (np.hstack((t, t), dtype=None), np.hstack((a, a))),
    ]
    for got, want in same:
        assert isinstance(got, Tensor) and got.requires_grad
        np.testing.assert_allclose(got.data, want, rtol=1e-6)
    (g,) = grads(lambda u: np.max(u, initial=4.5), a)
    np.testing.assert_array_equal(g, np.where(a == 5.0, 1.0, 0.0))


@pytest.mark.parametrize("call, option", [
    (lambda t: np.sum(t, out=np.zeros(())), "out=..."),
    (lambda t: np.sum(t, dtype=np.int64), "dtype=int64"),
    (lambda t: np.max(t, where=np.array([True, False, True])), "where=..."),
    (lambda t: np.var(t, mean=np.zeros((2, 1))), "mean=..."),
    (lambda t: np.reshape(t, (3, 2), order="F"), "order='F'"),
    (lambda t: np.cumsum(t, out=np.zeros(6)), "out=..."),
    (lambda t: np.clip(t, 0, 1, casting="unsafe"), "casting=..."),
], ids=["sum out", "sum int dtype", "max where without initial", "var mean", "reshape F", "cumsum out", "clip casting"])
def test_numpy_options_without_a_gradient_are_refused_clearly_or_left_to_numpy(call: Any, option: str) -> None:
    a = np.array([[1.0, -2.0, 3.0], [4.0, 5.0, -6.0]])
    refusal = rf"^np\.\w+\(\.\.\., {option}\) is not supported on a Tensor that requires grad"
    with pytest.raises(TypeError, match=refusal):
        call(Tensor(a, requires_grad=True))
    try:
        expected = call(a.copy())
    except (TypeError, ValueError) as e:  # NumPy itself refuses (max with where= needs initial=)
        with pytest.raises(type(e)):
            call(Tensor(a))
    else:
        np.testing.assert_allclose(np.asarray(call(Tensor(a))), np.asarray(expected))


def test_every_interop_function_takes_numpys_parameter_names() -> None:
    """Each adapter accepts every parameter NumPy's function has, by the same name and kind."""
    _, functions = interop._tables()
    for func, adapter in functions.items():
        theirs = inspect.signature(func).parameters
        ours = inspect.signature(adapter).parameters
        has_var_keyword = any(p.kind is p.VAR_KEYWORD for p in ours.values())
        for name, p in theirs.items():
            if p.kind is p.VAR_KEYWORD:
                assert has_var_keyword, f"np.{func.__name__}: **{name}"
                continue
            assert name in ours or has_var_keyword, f"np.{func.__name__}: the adapter lacks parameter {name!r}"
            if name in ours and ours[name].kind is not p.POSITIONAL_OR_KEYWORD:  # that kind takes either use
                assert ours[name].kind == p.kind, f"np.{func.__name__}: {name!r} is {ours[name].kind}, NumPy {p.kind}"
    mapped = {f.__name__ for f in functions}
    for name in ("round", "around", "cumsum", "cumprod", "std", "argmax", "argmin", "sinc", "swapaxes", "moveaxis",
                 "flip", "roll", "repeat", "tile", "pad", "split", "array_split", "hstack", "vstack", "ravel",
                 "atleast_1d", "atleast_2d", "clip", "sum", "max"):
        assert name in mapped, name
