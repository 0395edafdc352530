"""The Tensor API of API.md section 1: attributes, constructors, dtypes, operators, NumPy interop,
indexing, concatenate/stack, custom primitives (section 2) and the error messages.

NumPy on the same data is the oracle for values and shapes; gradients are checked against their
analytic form (each written next to its test) or against NumPy scatter-adds for indexing.
"""

from __future__ import annotations

import operator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_mvc as tg
from tinygrad_mvc import Tensor


def leaf(value: object, **kw: object) -> Tensor:
    return tg.tensor(value, requires_grad=True, **kw)


A = np.array([[0.5, -1.2, 2.0], [1.5, 0.3, -0.7]])
B = np.array([0.8, 1.7, 2.5])  # positive: a valid base for ** and a safe divisor


# =============================================================================== attributes

class TestAttributes:
    def test_basic_attributes(self):
        x = tg.tensor(A, name="w")
        assert isinstance(x.data, np.ndarray)
        np.testing.assert_array_equal(x.data, A)
        assert x.grad is None
        assert x.requires_grad is False
        assert x.is_leaf
        assert x.shape == (2, 3) and x.ndim == 2 and x.size == 6
        assert x.dtype == np.float64
        assert x.name == "w"
        assert tg.tensor(1.0).name is None

    def test_scalar_attributes(self):
        x = tg.tensor(2.5)
        assert x.shape == () and x.ndim == 0 and x.size == 1
        assert x.item() == 2.5 and isinstance(x.item(), float)

    def test_result_of_an_op_is_not_a_leaf(self):
        x = leaf(A)
        y = x * 2.0
        assert y.requires_grad and not y.is_leaf
        assert y.op == "mul"
        z = tg.tensor(A) * 2.0
        assert not z.requires_grad and z.is_leaf

    def test_T(self):
        x = leaf(A)
        np.testing.assert_array_equal(x.T.data, A.T)
        w = np.arange(6.0).reshape(3, 2)
        (x.T * w).sum().backward()
        np.testing.assert_array_equal(x.grad.data, w.T)
        c = np.arange(24.0).reshape(2, 3, 4)
        assert tg.tensor(c).T.shape == (4, 3, 2)
        np.testing.assert_array_equal(tg.tensor(c).T.data, c.T)

    def test_numpy_item_tolist(self):
        x = tg.tensor(A)
        assert x.numpy() is x.data or np.shares_memory(x.numpy(), x.data)
        assert x.tolist() == A.tolist()
        assert tg.tensor(3.0).tolist() == 3.0
        with pytest.raises(ValueError):
            x.item()

    def test_detach(self):
        x = leaf(B)
        d = x.detach()
        assert not d.requires_grad and d.is_leaf
        np.testing.assert_array_equal(d.data, B)
        # the gradient does not flow through the detached factor: d/dx (c * x) = c
        (d * x).sum().backward()
        np.testing.assert_array_equal(x.grad.data, B)

    def test_requires_grad_flag_propagates(self):
        x, c = leaf(B), tg.tensor(B)
        assert (x + c).requires_grad and (c + x).requires_grad
        assert not (c + c).requires_grad


# =============================================================================== dtypes

class TestDtypes:
    @pytest.mark.parametrize("data", [3, [1, 2], True, [True, False], np.array([1, 2], dtype=np.int32),
                                      np.array([1, 2], dtype=np.uint8), np.int64(4), [[1, 2], [3, 4]]])
    def test_integers_and_bools_become_float64(self, data):
        t = Tensor(data)
        assert t.dtype == np.float64
        np.testing.assert_array_equal(t.data, np.asarray(data, dtype=np.float64))
        assert leaf(data).dtype == np.float64

    def test_float_python_and_lists_are_float64(self):
        assert Tensor(1.5).dtype == np.float64
        assert Tensor([1.5, 2]).dtype == np.float64

    @pytest.mark.parametrize("data", [np.float32(1.5), np.array([1.0, 2.0], dtype=np.float32)])
    def test_float32_stays_float32(self, data):
        assert Tensor(data).dtype == np.float32
        assert Tensor(Tensor(data)).dtype == np.float32

    @pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.int32, np.bool_])
    def test_dtype_argument_is_respected(self, dtype):
        t = Tensor([1, 0, 2], dtype=dtype)
        assert t.dtype == dtype
        np.testing.assert_array_equal(t.data, np.array([1, 0, 2], dtype=dtype))

    @pytest.mark.parametrize("dtype", [np.int64, np.int32, np.bool_])
    def test_requires_grad_on_non_float_is_type_error(self, dtype):
        with pytest.raises(TypeError):
            Tensor([1, 2], dtype=dtype, requires_grad=True)

    def test_float32_end_to_end(self):
        x = leaf([0.5, 1.5, -2.0], dtype=np.float32)
        y = ((x * 2.0 + 1.0).exp() / (x * x + 1.0)).tanh().sum()
        assert y.dtype == np.float32
        y.backward()
        assert x.grad.dtype == np.float32
        # oracle: the same function in float64
        x64 = leaf(x.data.astype(np.float64))
        ((x64 * 2.0 + 1.0).exp() / (x64 * x64 + 1.0)).tanh().sum().backward()
        np.testing.assert_allclose(x.grad.data, x64.grad.data, rtol=1e-4, atol=1e-6)

    def test_float32_gradient_keeps_input_dtype_when_output_upcasts(self):
        # float32 * float64 array promotes to float64 like NumPy; the float32 leaf still gets a float32 gradient
        x = leaf([1.0, 2.0], dtype=np.float32)
        y = x * tg.tensor([3.0, 4.0])
        assert y.dtype == np.result_type(np.float32, np.float64)
        y.sum().backward()
        assert x.grad.dtype == np.float32
        np.testing.assert_array_equal(x.grad.data, [3.0, 4.0])

    def test_float32_two_layer_tanh_mlp(self):
        rng = np.random.default_rng(0)
        X = rng.standard_normal((5, 3)).astype(np.float32)
        T = rng.standard_normal((5, 2)).astype(np.float32)
        shapes = [(3, 4), (4,), (4, 2), (2,)]
        params32 = [leaf(rng.standard_normal(s).astype(np.float32)) for s in shapes]
        params64 = [leaf(p.data.astype(np.float64)) for p in params32]

        def loss(ps, x, t):
            w1, b1, w2, b2 = ps
            h = (x @ w1 + b1).tanh()  # bias broadcast over the batch
            out = h @ w2 + b2
            return ((out - t) ** 2).mean(), h, out

        l32, h32, o32 = loss(params32, tg.tensor(X), tg.tensor(T))
        assert h32.dtype == o32.dtype == l32.dtype == np.float32
        l32.backward()
        assert [p.grad.dtype for p in params32] == [np.float32] * 4
        assert [p.grad.shape for p in params32] == shapes

        l64, _, _ = loss(params64, tg.tensor(X.astype(np.float64)), tg.tensor(T.astype(np.float64)))
        l64.backward()
        for p32, p64 in zip(params32, params64):
            np.testing.assert_allclose(p32.grad.data, p64.grad.data, rtol=1e-4, atol=1e-5)

        # and the float64 gradient of the first weight against finite differences
        from tinygrad_mvc.finite_diff import numerical_grad

        def f(w1):
            ps = [tg.tensor(w1)] + [tg.tensor(p.data) for p in params64[1:]]
            return loss(ps, tg.tensor(X.astype(np.float64)), tg.tensor(T.astype(np.float64)))[0].item()

        np.testing.assert_allclose(params64[0].grad.data, numerical_grad(f, params64[0].data), rtol=1e-6, atol=1e-8)


# =============================================================================== constructors

class TestConstructors:
    def test_tensor(self):
        t = tg.tensor([1, 2, 3], requires_grad=True, name="t")
        assert isinstance(t, Tensor) and t.requires_grad and t.name == "t" and t.dtype == np.float64
        assert tg.tensor([1, 2], dtype=np.float32).dtype == np.float32

    @pytest.mark.parametrize("make, ref", [(tg.zeros, np.zeros), (tg.ones, np.ones)])
    def test_zeros_ones(self, make, ref):
        for args, shape in [((2, 3), (2, 3)), (((2, 3),), (2, 3)), ((4,), (4,)), (((),), ())]:
            t = make(*args)
            assert t.shape == shape and t.dtype == np.float64
            np.testing.assert_array_equal(t.data, ref(shape))
        assert make(2, dtype=np.float32).dtype == np.float32
        assert make(2, requires_grad=True).requires_grad

    def test_full(self):
        t = tg.full((2, 3), 7)
        assert t.dtype == np.float64
        np.testing.assert_array_equal(t.data, np.full((2, 3), 7.0))
        assert tg.full(4, 0.5).shape == (4,)
        assert tg.full((2,), 1.0, dtype=np.float32).dtype == np.float32

    def test_eye(self):
        np.testing.assert_array_equal(tg.eye(3).data, np.eye(3))
        np.testing.assert_array_equal(tg.eye(2, 3).data, np.eye(2, 3))
        assert tg.eye(3).dtype == np.float64

    @pytest.mark.parametrize("args", [(5,), (1, 4), (0.0, 1.0, 0.25), (3, -3, -1)])
    def test_arange(self, args):
        t = tg.arange(*args)
        assert t.dtype == np.float64
        np.testing.assert_array_equal(t.data, np.arange(*args).astype(np.float64))

    def test_linspace(self):
        np.testing.assert_array_equal(tg.linspace(0, 1, 5).data, np.linspace(0, 1, 5))
        assert tg.linspace(-2, 2).shape == (50,)
        assert tg.linspace(0, 1, 3, dtype=np.float32).dtype == np.float32

    @pytest.mark.parametrize("make, draw", [(tg.randn, "standard_normal"), (tg.rand, "random")])
    def test_random_reproducible(self, make, draw):
        a = make(2, 3, rng=42)
        b = make((2, 3), rng=42)
        assert a.shape == b.shape == (2, 3) and a.dtype == np.float64
        np.testing.assert_array_equal(a.data, b.data)
        np.testing.assert_array_equal(a.data, getattr(np.random.default_rng(42), draw)((2, 3)))
        assert not np.array_equal(make(2, 3, rng=43).data, a.data)
        # a Generator is used (and advanced) as given
        gen, ref = np.random.default_rng(7), np.random.default_rng(7)
        first, second = make(4, rng=gen), make(4, rng=gen)
        np.testing.assert_array_equal(first.data, getattr(ref, draw)(4))
        np.testing.assert_array_equal(second.data, getattr(ref, draw)(4))
        assert make(3, rng=0, dtype=np.float32).dtype == np.float32
        assert make(3, rng=0, requires_grad=True).requires_grad

    def test_rand_range(self):
        u = tg.rand(1000, rng=0).data
        assert u.min() >= 0.0 and u.max() < 1.0


# =============================================================================== operators

# (name, forward, d/da, d/db) for elementwise binary operators
BINARY = [
    ("add", lambda a, b: a + b, lambda a, b: np.ones_like(a * b), lambda a, b: np.ones_like(a * b)),
    ("sub", lambda a, b: a - b, lambda a, b: np.ones_like(a * b), lambda a, b: -np.ones_like(a * b)),
    ("mul", lambda a, b: a * b, lambda a, b: b + 0 * a, lambda a, b: a + 0 * b),
    ("div", lambda a, b: a / b, lambda a, b: 1 / b + 0 * a, lambda a, b: -a / b ** 2),
    ("pow", lambda a, b: a ** b, lambda a, b: b * a ** (b - 1), lambda a, b: a ** b * np.log(a)),
]


def _sum_to(g: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    return g.sum(axis=tuple(i for i, n in enumerate(shape) if n == 1), keepdims=True) if shape else g


class TestOperators:
    @pytest.mark.parametrize("name, f, da, db", BINARY, ids=[b[0] for b in BINARY])
    @pytest.mark.parametrize("kinds", ["tt", "ta", "at", "ts", "st"])
    def test_binary_with_reflected_forms(self, name, f, da, db, kinds):
        # a: positive base of shape (2, 3); b: exponent/divisor of shape (3,) (broadcast) or a Python scalar
        a = np.abs(A) + 0.5
        b = 1.7 if "s" in kinds else B
        left = leaf(a) if kinds[0] == "t" else (a if kinds[0] == "a" else 1.7)
        right = leaf(b) if kinds[1] == "t" else b
        if kinds == "st":
            left, right = 1.7, leaf(a)
        out = f(left, right)
        assert isinstance(out, Tensor), type(out)
        av = 1.7 if kinds == "st" else a
        bv = a if kinds == "st" else b
        np.testing.assert_allclose(out.data, f(av, bv), rtol=1e-15)
        assert out.shape == np.shape(f(av, bv))
        out.sum().backward()
        if isinstance(left, Tensor):
            np.testing.assert_allclose(left.grad.data, _sum_to(da(av, bv), np.shape(av)), rtol=1e-13)
        if isinstance(right, Tensor):
            np.testing.assert_allclose(right.grad.data, _sum_to(db(av, bv), np.shape(bv)), rtol=1e-13)

    def test_numpy_scalar_on_the_left(self):
        x = leaf(B)
        out = np.float64(2.0) * x
        assert isinstance(out, Tensor)
        out.sum().backward()
        np.testing.assert_array_equal(x.grad.data, np.full(3, 2.0))

    def test_ndarray_on_the_left_is_not_an_object_array(self):
        x = leaf(B)
        for out in (np.ones(3) + x, np.ones(3) * x, np.ones(3) - x, np.ones(3) / x, np.ones(3) ** x,
                    np.ones((2, 3)) @ x):
            assert isinstance(out, Tensor) and out.dtype == np.float64 and out.requires_grad

    @pytest.mark.parametrize("kinds", ["tt", "at", "ta"])
    def test_matmul_with_reflected_forms(self, kinds):
        # loss = sum(W * (a @ b)): d/da = W @ b^T, d/db = a^T @ W
        a, b = A, np.arange(12.0).reshape(3, 4) / 5
        w = np.linspace(-1, 1, 8).reshape(2, 4)
        left = leaf(a) if kinds[0] == "t" else a
        right = leaf(b) if kinds[1] == "t" else b
        out = left @ right
        assert isinstance(out, Tensor)
        np.testing.assert_allclose(out.data, a @ b, rtol=1e-15)
        (out * w).sum().backward()
        if isinstance(left, Tensor):
            np.testing.assert_allclose(left.grad.data, w @ b.T, rtol=1e-14)
        if isinstance(right, Tensor):
            np.testing.assert_allclose(right.grad.data, a.T @ w, rtol=1e-14)

    def test_unary_minus_and_abs(self):
        x = leaf(A)
        np.testing.assert_array_equal((-x).data, -A)
        np.testing.assert_array_equal(abs(x).data, np.abs(A))
        np.testing.assert_array_equal(x.abs().data, np.abs(A))
        (-x + abs(x)).sum().backward()
        np.testing.assert_array_equal(x.grad.data, -1 + np.sign(A))
        assert (+x) is x or np.array_equal((+x).data, A)

    @pytest.mark.parametrize("cmp", [operator.lt, operator.le, operator.gt, operator.ge, operator.eq, operator.ne],
                             ids=["<", "<=", ">", ">=", "==", "!="])
    def test_comparisons_give_bool_tensors_without_grad(self, cmp):
        x = leaf([1.0, 2.0, 3.0])
        y = leaf([3.0, 2.0, 1.0])
        for left, right, lv, rv in [(x, y, x.data, y.data), (x, 2.0, x.data, 2.0), (2.0, x, 2.0, x.data),
                                    (np.array([2.0, 2.0, 2.0]), x, np.full(3, 2.0), x.data)]:
            out = cmp(left, right)
            assert isinstance(out, Tensor)
            assert out.dtype == np.bool_
            assert not out.requires_grad and out.is_leaf
            np.testing.assert_array_equal(out.data, cmp(lv, rv))

    def test_eq_is_elementwise_but_tensors_hash_by_identity(self):
        x, y = leaf([1.0, 2.0]), leaf([1.0, 2.0])
        np.testing.assert_array_equal((x == y).data, [True, True])
        s = {x, y}
        assert len(s) == 2 and x in s and y in s
        d = {x: "x", y: "y"}
        assert d[x] == "x" and d[y] == "y"

    def test_len_and_iteration(self):
        x = leaf(A)
        assert len(x) == 2
        rows = list(x)
        assert all(isinstance(r, Tensor) for r in rows)
        np.testing.assert_array_equal(rows[1].data, A[1])


# =============================================================================== NumPy interop

class TestNumpyInterop:
    def test_asarray(self):
        x = leaf(A)
        arr = np.asarray(x)
        assert isinstance(arr, np.ndarray)
        np.testing.assert_array_equal(arr, A)
        assert np.shares_memory(arr, x.data)
        assert np.asarray(x, dtype=np.float32).dtype == np.float32

    @pytest.mark.parametrize("fn, ref, grad", [
        (np.exp, np.exp, np.exp),
        (np.sin, np.sin, np.cos),
        (np.tanh, np.tanh, lambda v: 1 - np.tanh(v) ** 2),
        (np.square, np.square, lambda v: 2 * v),
        (np.negative, np.negative, lambda v: -np.ones_like(v)),
    ])
    def test_ufuncs_are_differentiable(self, fn, ref, grad):
        x = leaf(A)
        out = fn(x)
        assert isinstance(out, Tensor) and out.requires_grad
        np.testing.assert_allclose(out.data, ref(A), rtol=1e-15)
        out.sum().backward()
        np.testing.assert_allclose(x.grad.data, grad(A), rtol=1e-14)

    def test_binary_ufunc_with_array(self):
        x = leaf(B)
        out = np.multiply(A, x)
        assert isinstance(out, Tensor)
        out.sum().backward()
        np.testing.assert_allclose(x.grad.data, A.sum(axis=0), rtol=1e-15)

    def test_np_sum(self):
        x = leaf(A)
        out = np.sum(x)
        assert isinstance(out, Tensor) and out.shape == ()
        np.testing.assert_allclose(out.item(), A.sum(), rtol=1e-15)
        out.backward()
        np.testing.assert_array_equal(x.grad.data, np.ones_like(A))

    def test_np_mean_axis(self):
        x = leaf(A)
        out = np.mean(x, axis=0)
        assert isinstance(out, Tensor) and out.shape == (3,)
        np.testing.assert_allclose(out.data, A.mean(axis=0), rtol=1e-15)
        out.sum().backward()
        np.testing.assert_allclose(x.grad.data, np.full_like(A, 1 / 2), rtol=1e-15)

    def test_np_concatenate(self):
        x, y = leaf(A), leaf(A[:1] * 3)
        out = np.concatenate([x, y])
        assert isinstance(out, Tensor) and out.shape == (3, 3)
        np.testing.assert_array_equal(out.data, np.concatenate([A, A[:1] * 3]))
        w = np.arange(9.0).reshape(3, 3)
        (out * w).sum().backward()
        np.testing.assert_array_equal(x.grad.data, w[:2])
        np.testing.assert_array_equal(y.grad.data, w[2:])

    @pytest.mark.parametrize("call", [
        lambda t: np.cbrt(t),
        lambda t: np.diff(t),
        lambda t: np.add.reduce(t),
        lambda t: np.exp(t, out=np.empty(t.shape)),
    ], ids=["cbrt", "diff", "add.reduce", "exp-out"])
    def test_unsupported_numpy_raises_on_requires_grad(self, call):
        x = leaf(A)
        with pytest.raises(TypeError) as info:
            call(x)
        assert "differentiable" in str(info.value)

    @pytest.mark.parametrize("call, ref", [
        (lambda t: np.cbrt(t), np.cbrt(A)),
        (lambda t: np.diff(t), np.diff(A)),
        (lambda t: np.add.reduce(t), np.add.reduce(A)),
    ], ids=["cbrt", "diff", "add.reduce"])
    def test_unsupported_numpy_works_on_plain_tensor(self, call, ref):
        out = call(tg.tensor(A))
        np.testing.assert_array_equal(np.asarray(out), ref)
        out = call(leaf(A).detach())
        np.testing.assert_array_equal(np.asarray(out), ref)


# =============================================================================== indexing

X3 = np.arange(60.0).reshape(3, 4, 5) / 7 - 3


def _check_index(index: object, base: np.ndarray = X3) -> None:
    """Values and shape as NumPy's; the gradient of sum(w * x[index]) is w scattered back with repeats added."""
    ref = base[index]
    x = leaf(base)
    out = x[index]
    assert out.shape == ref.shape
    np.testing.assert_array_equal(out.data, ref)
    w = np.arange(1.0, ref.size + 1).reshape(ref.shape)
    (out * w).sum().backward()
    expected = np.zeros_like(base)
    np.add.at(expected, index, w)
    np.testing.assert_array_equal(x.grad.data, expected)


class TestIndexing:
    @pytest.mark.parametrize("index", [
        0, -1, (1, 2), (1, 2, 3), (-1, -2, -3), slice(1, None), (slice(None), 1), (Ellipsis, 2), (None, 1),
        (1, None, slice(None, None, -2)), (slice(None), None, Ellipsis), (), Ellipsis,
        (slice(None, None, -1), slice(1, 3), slice(None, None, 2)),
    ], ids=repr)
    def test_basic_indices(self, index):
        _check_index(index)

    @pytest.mark.parametrize("index", [
        [0, 2], np.array([2, 0, 2, 2]), (np.array([0, 0, 1]), np.array([1, 1, 3])),
        (slice(None), np.array([3, 3, 0])), (0, [1, 1, 2], [4, 4, 0]), np.array([[0, 1], [1, 0]]),
        (np.array([1, 1]), slice(None), np.array([0, 0])), (Ellipsis, np.array([-1, -1, 0])),
    ], ids=repr)
    def test_integer_arrays_with_repeats(self, index):
        _check_index(index)

    @pytest.mark.parametrize("index", [
        X3 > 0, (X3[:, :, 0] > -2,), (slice(None), X3[0, :, 0] > -2.5), X3[:, 0, 0] > -100,
        np.zeros(3, dtype=bool),
    ], ids=["full", "leading2d", "axis1", "all-true", "none"])
    def test_boolean_masks(self, index):
        _check_index(index)

    def test_repeated_index_accumulates(self):
        # x[[1, 1, 1, 0]].sum(): d/dx = counts of each index, bincount as an independent oracle
        x = leaf(B)
        idx = [1, 1, 1, 0]
        x[idx].sum().backward()
        np.testing.assert_array_equal(x.grad.data, np.bincount(idx, minlength=3))

    def test_index_with_tensors(self):
        x = leaf(B)
        np.testing.assert_array_equal(x[tg.tensor([2, 0])].data, B[[2, 0]])
        mask = x > 1.0
        out = x[mask]
        np.testing.assert_array_equal(out.data, B[B > 1.0])
        out.sum().backward()
        np.testing.assert_array_equal(x.grad.data, (B > 1.0).astype(float))

    def test_out_of_range_raises_index_error(self):
        with pytest.raises(IndexError):
            tg.tensor(B)[3]

    @settings(max_examples=40, deadline=None)
    @given(st.data())
    def test_random_slices_match_numpy(self, data):
        parts = []
        for n in X3.shape:
            kind = data.draw(st.sampled_from(["int", "slice", "full"]))
            if kind == "int":
                parts.append(data.draw(st.integers(-n, n - 1)))
            elif kind == "slice":
                bound = st.none() | st.integers(-n - 2, n + 2)
                step = st.none() | st.integers(-3, 3).filter(bool)
                parts.append(slice(data.draw(bound), data.draw(bound), data.draw(step)))
            else:
                parts.append(slice(None))
        if data.draw(st.booleans()):
            parts.insert(data.draw(st.integers(0, len(parts))), None)
        _check_index(tuple(parts))

    @settings(max_examples=25, deadline=None)
    @given(st.lists(st.integers(-4, 3), max_size=8))
    def test_random_integer_arrays_accumulate(self, idx):
        x = leaf(np.array([0.5, -1.0, 2.0, 3.5]))
        index = np.array(idx, dtype=np.intp)
        out = x[index]
        np.testing.assert_array_equal(out.data, x.data[index])
        out.sum().backward()
        np.testing.assert_array_equal(x.grad.data, np.bincount(index % 4, minlength=4))

    def test_setitem_follows_pytorch(self):
        x = leaf(B)
        with pytest.raises(RuntimeError, match="no_grad"):
            x[0] = 1.0  # a leaf that requires grad: only inside no_grad
        with tg.no_grad():
            x[0] = 1.0
        assert x.data[0] == 1.0 and x.is_leaf and x.requires_grad
        c = tg.tensor(B)
        c[1:] = 0.0  # a constant changes in place anywhere
        np.testing.assert_array_equal(c.data, [B[0], 0.0, 0.0])


# =============================================================================== concatenate / stack

class TestJoin:
    @pytest.mark.parametrize("axis", [0, 1, -1, None])
    def test_concatenate(self, axis):
        a, b = np.arange(6.0).reshape(2, 3), np.arange(10.0, 14.0).reshape(2, 2)
        if axis == 0:
            b = np.arange(10.0, 16.0).reshape(2, 3)
        x, y = leaf(a), leaf(b)
        out = tg.concatenate([x, y], axis=axis)
        ref = np.concatenate([a, b], axis=axis)
        assert out.shape == ref.shape
        np.testing.assert_array_equal(out.data, ref)
        w = np.arange(1.0, ref.size + 1).reshape(ref.shape)
        (out * w).sum().backward()
        # the gradient of each input is its block of w
        wa, wb = np.split(w.reshape(-1) if axis is None else w, [a.size if axis is None else a.shape[axis]],
                          axis=0 if axis is None else axis)
        np.testing.assert_array_equal(x.grad.data, wa.reshape(a.shape))
        np.testing.assert_array_equal(y.grad.data, wb.reshape(b.shape))

    def test_concatenate_three_with_constant(self):
        x = leaf(B)
        out = tg.concatenate([x, np.array([9.0]), x])
        np.testing.assert_array_equal(out.data, np.concatenate([B, [9.0], B]))
        (out * np.arange(7.0)).sum().backward()
        np.testing.assert_array_equal(x.grad.data, np.arange(3.0) + np.arange(4.0, 7.0))

    @pytest.mark.parametrize("axis", [0, 1, 2, -1, -3])
    def test_stack(self, axis):
        arrays = [np.arange(6.0).reshape(2, 3) + 10 * k for k in range(3)]
        xs = [leaf(a) for a in arrays]
        out = tg.stack(xs, axis=axis)
        ref = np.stack(arrays, axis=axis)
        assert out.shape == ref.shape
        np.testing.assert_array_equal(out.data, ref)
        w = np.arange(1.0, ref.size + 1).reshape(ref.shape)
        (out * w).sum().backward()
        for k, x in enumerate(xs):
            np.testing.assert_array_equal(x.grad.data, np.take(w, k, axis=axis))


# =============================================================================== custom primitives

class TestCustomPrimitive:
    def test_cube_first_second_third(self):
        @tg.primitive
        def cube(x):
            return x ** 3

        cube.defvjp(lambda g, ans, x: g * 3 * x ** 2)
        v = np.array([-1.5, 0.5, 2.0])
        x = leaf(v)
        y = cube(x)
        np.testing.assert_array_equal(y.data, v ** 3)
        assert y.requires_grad
        expected = [3 * v ** 2, 6 * v, np.full_like(v, 6.0)]
        out = y.sum()
        for k, exact in enumerate(expected):
            x.grad = None
            out.backward(create_graph=k < 2)
            np.testing.assert_allclose(x.grad.data, exact, rtol=1e-15)
            out = x.grad.sum()

    def test_rule_using_the_answer_and_two_inputs(self):
        @tg.primitive
        def hypot(x, y):
            return np.sqrt(x ** 2 + y ** 2)

        hypot.defvjp(lambda g, ans, x, y: g * x / ans, lambda g, ans, x, y: g * y / ans)
        xv, yv = 3.0, -4.0
        r = np.hypot(xv, yv)
        x, y = leaf(xv), leaf(yv)
        hypot(x, y).backward(create_graph=True)
        gx, gy = x.grad, y.grad
        np.testing.assert_allclose([gx.item(), gy.item()], [xv / r, yv / r], rtol=1e-15)
        # d/dy (x / r) = -x y / r^3, d/dx (x / r) = y^2 / r^3
        x.grad = y.grad = None
        gx.backward()
        np.testing.assert_allclose([x.grad.item(), y.grad.item()], [yv ** 2 / r ** 3, -xv * yv / r ** 3],
                                   rtol=1e-14)

    def test_constant_argument_and_none_rule(self):
        @tg.primitive
        def scale(x, k):
            return x * k

        scale.defvjp(lambda g, ans, x, k: g * k, None)
        x = leaf(B)
        scale(x, 2.5).sum().backward()
        np.testing.assert_array_equal(x.grad.data, np.full(3, 2.5))

    def test_missing_rule_names_the_op(self):
        @tg.primitive
        def mystery(x):
            return x * 2

        x = leaf(B)
        y = mystery(x).sum()
        with pytest.raises(Exception, match="mystery"):
            y.backward()


# =============================================================================== errors

def _mentions(msg: str, *parts: str) -> bool:
    """Whether ``msg`` contains every part, ignoring spaces (NumPy prints shapes as (4,2))."""
    flat = msg.replace(" ", "")
    return all(p.replace(" ", "") in flat for p in parts)


class TestErrors:
    @pytest.mark.parametrize("name, f", [
        ("add", lambda a, b: a + b), ("sub", lambda a, b: a - b), ("mul", lambda a, b: a * b),
        ("div", lambda a, b: a / b), ("pow", lambda a, b: a ** b),
        ("maximum", tg.maximum), ("minimum", tg.minimum), ("where", lambda a, b: tg.where(a > 0, a, b)),
    ])
    @pytest.mark.parametrize("grad", [False, True])
    def test_binary_shape_mismatch(self, name, f, grad):
        a, b = tg.tensor(np.ones((2, 3)), requires_grad=grad), tg.tensor(np.ones(4))
        with pytest.raises(ValueError) as info:
            f(a, b)
        msg = str(info.value)
        assert _mentions(msg, name, "(2, 3)", "(4,)")

    def test_ndarray_op_tensor_shape_mismatch(self):
        with pytest.raises(ValueError) as info:
            np.ones((2, 3)) * leaf(np.ones(4))
        msg = str(info.value)
        assert _mentions(msg, "mul", "(2, 3)", "(4,)")

    def test_matmul_shape_mismatch(self):
        with pytest.raises(ValueError) as info:
            leaf(np.ones((2, 3))) @ tg.tensor(np.ones((4, 5)))
        msg = str(info.value)
        assert _mentions(msg, "matmul", "(2, 3)", "(4, 5)")

    def test_concatenate_shape_mismatch(self):
        with pytest.raises(ValueError) as info:
            tg.concatenate([leaf(np.ones((2, 3))), tg.tensor(np.ones((3, 4)))])
        msg = str(info.value)
        assert _mentions(msg, "concatenate", "(2, 3)", "(3, 4)")

    def test_stack_shape_mismatch(self):
        with pytest.raises(ValueError) as info:
            tg.stack([leaf(np.ones(2)), tg.tensor(np.ones(3))])
        msg = str(info.value)
        assert _mentions(msg, "stack", "(2,)", "(3,)")

    def test_reshape_shape_mismatch(self):
        with pytest.raises(ValueError) as info:
            leaf(np.ones((2, 3))).reshape(4, 2)
        msg = str(info.value)
        assert _mentions(msg, "reshape", "(2, 3)", "(4, 2)")

    def test_broadcast_to_shape_mismatch(self):
        with pytest.raises(ValueError) as info:
            leaf(np.ones((2, 3))).broadcast_to((3, 3))
        msg = str(info.value)
        assert _mentions(msg, "broadcast_to", "(2, 3)", "(3, 3)")

    @pytest.mark.parametrize("items", [
        lambda: [tg.tensor(1.0), tg.tensor(2.0)],
        lambda: [leaf(1.0), leaf(2.0)],
        lambda: [tg.tensor([1.0, 2.0]), tg.tensor([3.0, 4.0])],
        lambda: [[tg.tensor(1.0)], [2.0]],
    ], ids=["scalars", "requires-grad", "vectors", "nested"])
    def test_tensor_of_a_list_of_tensors(self, items):
        # would silently cut every element from its graph: use tg.stack instead
        with pytest.raises(TypeError) as info:
            Tensor(items())
        assert "stack" in str(info.value)

    def test_tensor_of_an_object(self):
        with pytest.raises(TypeError):
            Tensor(object())
        with pytest.raises(TypeError):
            Tensor(None)
