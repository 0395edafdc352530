"""The engine: backward semantics, gradient modes and the canonical graphs.

Oracles are analytic derivatives (written next to each test), NumPy, and finite differences.
Per-op gradient properties live in test_op_gradients.py; here the subject is the graph walk itself:
fan-out, diamonds through shared non-leaf nodes, constants, nesting, depth, memory and accumulation.
"""

from __future__ import annotations

import gc
import sys
import weakref

import numpy as np
import pytest

import tinygrad_mvc as tg
from tinygrad_mvc import Tensor
from tinygrad_mvc.finite_diff import numerical_grad


def grads(out: Tensor, *wrt: Tensor, create_graph: bool = False) -> list[Tensor | None]:
    """d out / d wrt by one backward, leaving every ``.grad`` of ``wrt`` cleared again."""
    for w in wrt:
        w.grad = None
    out.backward(create_graph=create_graph)
    result = [w.grad for w in wrt]
    for w in wrt:
        w.grad = None
    return result


def leaf(value: object) -> Tensor:
    return tg.tensor(value, requires_grad=True)


X0 = np.array([-1.3, 0.2, 0.7, 2.1])


# =============================================================================== canonical graphs

class TestFanOut:
    def test_same_op_applied_twice(self):
        x = leaf(X0)
        (tg.sin(x) + tg.sin(x)).sum().backward()
        np.testing.assert_allclose(x.grad.data, 2 * np.cos(X0), rtol=1e-14)

    def test_one_node_used_twice(self):
        x = leaf(X0)
        y = tg.sin(x)
        (y + y).sum().backward()
        np.testing.assert_allclose(x.grad.data, 2 * np.cos(X0), rtol=1e-14)

    def test_one_node_multiplied_by_itself(self):
        # d/dx sin(x)^2 = 2 sin(x) cos(x)
        x = leaf(X0)
        y = tg.sin(x)
        (y * y).sum().backward()
        np.testing.assert_allclose(x.grad.data, 2 * np.sin(X0) * np.cos(X0), rtol=1e-14)

    def test_wide_fan_out(self):
        # y used by 50 consumers with weights k: d/dx sum_k k*exp(x) = (sum k) exp(x)
        x = leaf(X0)
        y = x.exp()
        total = y * 0.0
        for k in range(1, 51):
            total = total + y * float(k)
        total.sum().backward()
        np.testing.assert_allclose(x.grad.data, 1275.0 * np.exp(X0), rtol=1e-13)

    def test_leaf_used_by_both_operands(self):
        x = leaf(X0)
        (x * x * x).sum().backward()
        np.testing.assert_allclose(x.grad.data, 3 * X0 ** 2, rtol=1e-14)


class TestDiamond:
    def test_shared_nonleaf_added(self):
        # a = sin x, b = a + a, c = b + b = 4 sin x
        x = leaf(X0)
        a = tg.sin(x)
        b = a + a
        c = b + b
        c.sum().backward()
        np.testing.assert_allclose(x.grad.data, 4 * np.cos(X0), rtol=1e-14)

    def test_shared_nonleaf_squared(self):
        # c = (2 sin x)^2 = 4 sin^2 x, dc/dx = 8 sin x cos x
        x = leaf(X0)
        a = tg.sin(x)
        b = a + a
        c = b * b
        c.sum().backward()
        np.testing.assert_allclose(x.grad.data, 8 * np.sin(X0) * np.cos(X0), rtol=1e-13)

    def test_paths_of_different_depth(self):
        # a = x y; d = exp(a) * sin(3a): dd/da = exp(a) (sin 3a + 3 cos 3a); dd/dx = y dd/da, dd/dy = x dd/da
        xv, yv = np.array([0.3, -0.4, 1.1]), np.array([1.5, 0.8, -0.6])
        x, y = leaf(xv), leaf(yv)
        a = x * y
        b = a.exp()
        c = (a * 3.0).sin().tanh().tanh()  # a longer path on one side, so the join is out of step
        d = b * c
        d.sum().backward()
        av = xv * yv
        cv = np.tanh(np.tanh(np.sin(3 * av)))
        dc_da = (1 - cv ** 2) * (1 - np.tanh(np.sin(3 * av)) ** 2) * 3 * np.cos(3 * av)
        dd_da = np.exp(av) * cv + np.exp(av) * dc_da
        np.testing.assert_allclose(x.grad.data, yv * dd_da, rtol=1e-13)
        np.testing.assert_allclose(y.grad.data, xv * dd_da, rtol=1e-13)

    def test_diamond_matches_finite_differences(self):
        def f(v):
            a = v * v
            b = a.sin() + a.cos() * a
            return (b * a + b.exp()).sum()

        x = leaf(X0)
        f(x).backward()
        numeric = numerical_grad(lambda z: f(Tensor(z)).item(), X0)
        np.testing.assert_allclose(x.grad.data, numeric, rtol=1e-7, atol=1e-9)

    def test_nonleaf_grads_stay_none(self):
        x = leaf(X0)
        a = tg.sin(x)
        b = a + a
        c = (b * b).sum()
        c.backward()
        assert x.grad is not None
        assert a.grad is None and b.grad is None and c.grad is None


class TestConstantOutput:
    def test_no_requires_grad_anywhere(self):
        y = (tg.tensor(X0) * 2.0).sum()
        assert not y.requires_grad
        with pytest.raises(RuntimeError, match="requires_grad|require grad"):
            y.backward()

    def test_output_independent_of_the_input(self):
        x = leaf(X0)
        y = tg.tensor(3.0) * 2.0
        with pytest.raises(RuntimeError):
            y.backward()
        assert x.grad is None

    def test_only_through_nondifferentiable_ops(self):
        # comparisons carry no gradient, so nothing downstream of them requires grad
        x = leaf(X0)
        y = tg.where(x > 0, 1.0, 2.0).sum()
        assert not y.requires_grad
        with pytest.raises(RuntimeError):
            y.backward()

    def test_times_zero_gives_zero_gradient(self):
        x = leaf(X0)
        (x * 0.0).sum().backward()
        assert x.grad is not None
        np.testing.assert_array_equal(x.grad.data, np.zeros_like(X0))

    def test_x_minus_x_gives_zero_gradient(self):
        x = leaf(X0)
        (x - x).sum().backward()
        np.testing.assert_array_equal(x.grad.data, np.zeros_like(X0))

    def test_unused_leaf_keeps_grad_none(self):
        x, unused = leaf(X0), leaf(1.0)
        (x * 2.0).sum().backward()
        np.testing.assert_array_equal(x.grad.data, np.full_like(X0, 2.0))
        assert unused.grad is None

    def test_backward_on_a_leaf(self):
        x = leaf(2.5)
        x.backward()
        assert x.grad.item() == 1.0


class TestNested:
    def test_gradient_closing_over_an_outer_variable(self):
        # z = sin(x y); inner gradient gx = y cos(xy), built with create_graph so it depends on y.
        # d gx / dy = cos(xy) - x y sin(xy);  d gx / dx = -y^2 sin(xy)
        xv, yv = 0.7, -1.9
        x, y = leaf(xv), leaf(yv)
        (gx,) = grads((x * y).sin(), x, create_graph=True)
        np.testing.assert_allclose(gx.item(), yv * np.cos(xv * yv), rtol=1e-14)
        assert gx.requires_grad
        gx_x, gx_y = grads(gx, x, y)
        np.testing.assert_allclose(gx_y.item(), np.cos(xv * yv) - xv * yv * np.sin(xv * yv), rtol=1e-13)
        np.testing.assert_allclose(gx_x.item(), -yv ** 2 * np.sin(xv * yv), rtol=1e-13)

    def test_gradient_used_inside_a_new_expression(self):
        # h(x, y) = x * d/dx[x^2 y] = 2 x^2 y:  dh/dx = 4 x y, dh/dy = 2 x^2
        xv, yv = 1.3, -0.6
        x, y = leaf(xv), leaf(yv)
        (gx,) = grads(x * x * y, x, create_graph=True)
        h = x * gx
        hx, hy = grads(h, x, y)
        np.testing.assert_allclose(hx.item(), 4 * xv * yv, rtol=1e-14)
        np.testing.assert_allclose(hy.item(), 2 * xv ** 2, rtol=1e-14)

    def test_no_perturbation_confusion(self):
        # d/dx [x * d/dy (x + y)] = d/dx [x * 1] = 1 (not 2: the inner derivative does not depend on x)
        x, y = leaf(1.0), leaf(1.0)
        (gy,) = grads(x + y, y, create_graph=True)
        (hx,) = grads(x * gy, x)
        assert hx.item() == 1.0


def test_deep_chain_without_recursion():
    # 50 000 rounds of y = y * c + 0.0 is a chain of 100 000 ops; dy/dx = c ** 50 000 (up to rounding of
    # the repeated product, relative 50 000 * eps).
    n, c = 50_000, 1.0000001
    x = leaf(0.5)
    y = x
    for _ in range(n):
        y = y * c + 0.0
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)  # the interpreter default: a recursive walk would need 100 000 frames
    try:
        y.backward(retain_graph=True)
        np.testing.assert_allclose(x.grad.item(), c ** n, rtol=1e-10)
        y.backward()  # through the retained graph again, then freed
    finally:
        sys.setrecursionlimit(limit)
    np.testing.assert_allclose(x.grad.item(), 2 * c ** n, rtol=1e-10)
    assert y._inputs is None
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()


# =============================================================================== memory

def _chain_with_refs(n: int = 20):
    x = leaf(X0)
    refs = []
    y = x
    for i in range(n):
        y = y.sin() if i % 2 else y * 1.5
        refs.append(weakref.ref(y))
    loss = y.sum()
    return x, loss, refs


class TestGraphFreed:
    def test_intermediates_collected_after_backward(self):
        x, loss, refs = _chain_with_refs()
        assert all(r() is not None for r in refs)  # held by the graph behind loss
        loss.backward()
        # no gc.collect(): freeing the graph must drop the references, not leave cycles for the collector
        assert [r() for r in refs] == [None] * len(refs)
        assert loss._op is not None and loss._inputs is None
        assert x.grad is not None

    def test_intermediates_kept_with_retain_graph(self):
        x, loss, refs = _chain_with_refs()
        loss.backward(retain_graph=True)
        gc.collect()
        assert all(r() is not None for r in refs)
        first = x.grad.data.copy()
        loss.backward()
        np.testing.assert_allclose(x.grad.data, 2 * first, rtol=1e-15)
        assert [r() for r in refs] == [None] * len(refs)

    @staticmethod
    def _live() -> int:
        gc.collect()
        return sum(1 for o in gc.get_objects() if type(o) is Tensor)

    def _tanh_chain_loss(self) -> tuple[Tensor, int]:
        """A 400-op graph; returns its loss and the live-Tensor count from before it was built."""
        x = leaf(X0)
        before = self._live()
        y = x
        for _ in range(200):
            y = (y * 1.01).tanh()
        return y.sum(), before

    def test_live_tensor_count_after_backward(self):
        loss, before = self._tanh_chain_loss()
        live = self._live
        assert live() - before >= 400  # the recorded graph
        loss.backward()
        # what remains beyond `before`: the loss itself and x.grad
        assert live() - before <= 2

    def test_live_tensor_count_with_retain_graph(self):
        loss, before = self._tanh_chain_loss()
        live = self._live
        loss.backward(retain_graph=True)
        assert live() - before >= 400


# =============================================================================== accumulation and reuse

class TestAccumulation:
    def test_twice_with_retain_graph_doubles(self):
        x = leaf(X0)
        y = (x.sin() * x).sum()
        expected = np.sin(X0) + X0 * np.cos(X0)
        y.backward(retain_graph=True)
        np.testing.assert_allclose(x.grad.data, expected, rtol=1e-14)
        y.backward()
        np.testing.assert_allclose(x.grad.data, 2 * expected, rtol=1e-14)

    def test_two_roots_accumulate(self):
        x = leaf(X0)
        (x * 2.0).sum().backward()
        (x * x).sum().backward()
        np.testing.assert_allclose(x.grad.data, 2.0 + 2 * X0, rtol=1e-15)

    def test_zero_by_setting_none(self):
        x = leaf(X0)
        (x * 2.0).sum().backward()
        x.grad = None
        (x * 3.0).sum().backward()
        np.testing.assert_array_equal(x.grad.data, np.full_like(X0, 3.0))

    def test_second_backward_through_freed_graph(self):
        x = leaf(X0)
        y = (x.exp() * 2.0).sum()
        y.backward()
        with pytest.raises(RuntimeError, match="retain_graph"):
            y.backward()

    def test_freed_subgraph_reused_by_a_new_root(self):
        x = leaf(X0)
        shared = x.exp()
        (shared * 2.0).sum().backward()
        with pytest.raises(RuntimeError, match="retain_graph"):
            (shared * 3.0).sum().backward()

    def test_retained_subgraph_reused_by_a_new_root(self):
        x = leaf(X0)
        shared = x.exp()
        (shared * 2.0).sum().backward(retain_graph=True)
        (shared * 3.0).sum().backward()
        np.testing.assert_allclose(x.grad.data, 5.0 * np.exp(X0), rtol=1e-14)

    def test_leaves_do_not_share_gradient_memory(self):
        # both leaves receive the same upstream gradient through add; each must own its own array
        a, b = leaf(X0), leaf(X0 + 1.0)
        (a + b).sum().backward()
        assert not np.shares_memory(a.grad.data, b.grad.data)
        a.grad.data[...] = 0.0
        np.testing.assert_array_equal(b.grad.data, np.ones_like(X0))


class TestBackwardArguments:
    def test_nonscalar_with_gradient_is_a_vjp(self):
        xv = np.arange(6.0).reshape(2, 3) / 3
        v = np.array([[1.0, -2.0, 0.5], [3.0, 0.0, -1.0]])
        x = leaf(xv)
        (x ** 2).backward(gradient=v)
        np.testing.assert_allclose(x.grad.data, 2 * xv * v, rtol=1e-15)

    def test_gradient_given_as_tensor(self):
        x = leaf(X0)
        v = tg.tensor([1.0, 2.0, 3.0, 4.0])
        x.sin().backward(gradient=v)
        np.testing.assert_allclose(x.grad.data, np.cos(X0) * v.data, rtol=1e-15)

    def test_nonscalar_without_gradient(self):
        x = leaf(np.ones((3, 4)))
        with pytest.raises(ValueError) as info:
            (x * 2.0).backward()
        msg = str(info.value)
        assert "(3, 4)" in msg and "gradient" in msg

    def test_gradient_of_wrong_shape(self):
        x = leaf(np.ones((3, 4)))
        with pytest.raises(ValueError) as info:
            (x * 2.0).backward(gradient=np.ones((4, 3)))
        msg = str(info.value)
        assert "(3, 4)" in msg and "(4, 3)" in msg


# =============================================================================== higher order

class TestHigherOrder:
    def test_first_order_records_nothing(self):
        x = leaf(X0)
        (x.sin() * x.exp()).sum().backward()
        assert x.grad.requires_grad is False
        assert x.grad.is_leaf

    def test_create_graph_gradients_require_grad(self):
        x = leaf(X0)
        (x.sin() * x.exp()).sum().backward(create_graph=True)
        assert x.grad.requires_grad
        assert not x.grad.is_leaf

    @pytest.mark.parametrize("name, f, derivs", [
        ("cube", lambda x: x ** 3, [lambda v: 3 * v ** 2, lambda v: 6 * v, lambda v: 6.0 + 0 * v]),
        ("cube_by_mul", lambda x: x * x * x, [lambda v: 3 * v ** 2, lambda v: 6 * v, lambda v: 6.0 + 0 * v]),
        ("sin", lambda x: x.sin(), [np.cos, lambda v: -np.sin(v), lambda v: -np.cos(v)]),
        ("exp", lambda x: x.exp(), [np.exp, np.exp, np.exp]),
        ("log", lambda x: x.log(), [lambda v: 1 / v, lambda v: -1 / v ** 2, lambda v: 2 / v ** 3]),
        # t = tanh: t' = 1 - t^2, t'' = -2 t (1 - t^2), t''' = (1 - t^2)(6 t^2 - 2)
        ("tanh", lambda x: x.tanh(), [lambda v: 1 - np.tanh(v) ** 2,
                                      lambda v: -2 * np.tanh(v) * (1 - np.tanh(v) ** 2),
                                      lambda v: (1 - np.tanh(v) ** 2) * (6 * np.tanh(v) ** 2 - 2)]),
        # s = sigmoid: s' = s(1-s), s'' = s'(1-2s), s''' = s''(1-2s) - 2 s'^2
        ("sigmoid", lambda x: x.sigmoid(), [
            lambda v: _sig(v) * (1 - _sig(v)),
            lambda v: _sig(v) * (1 - _sig(v)) * (1 - 2 * _sig(v)),
            lambda v: _sig(v) * (1 - _sig(v)) * (1 - 2 * _sig(v)) ** 2 - 2 * (_sig(v) * (1 - _sig(v))) ** 2]),
    ])
    def test_first_second_third_derivatives(self, name, f, derivs):
        v = np.array([0.4, 1.3, 2.2])
        x = leaf(v)
        out = f(x).sum()
        for k, exact in enumerate(derivs, start=1):
            last = k == len(derivs)
            (g,) = grads(out, x, create_graph=not last)
            np.testing.assert_allclose(g.data, exact(v), rtol=1e-12, atol=1e-14, err_msg=f"{name}: order {k}")
            assert g.requires_grad is (not last)
            out = g.sum()

    def test_mixed_partials_of_exp_xy(self):
        # f = e^{xy}: f_x = y f, f_xy = (1 + xy) f, f_xx = y^2 f, f_xyx = y (2 + xy) f, f_xyy = x (2 + xy) f,
        # f_xxx = y^3 f
        xv, yv = 0.7, -1.3
        e = np.exp(xv * yv)
        x, y = leaf(xv), leaf(yv)
        fx, fy = grads((x * y).exp(), x, y, create_graph=True)
        np.testing.assert_allclose([fx.item(), fy.item()], [yv * e, xv * e], rtol=1e-14)
        fxx, fxy = grads(fx, x, y, create_graph=True)
        np.testing.assert_allclose([fxx.item(), fxy.item()], [yv ** 2 * e, (1 + xv * yv) * e], rtol=1e-14)
        fxyx, fxyy = grads(fxy, x, y, create_graph=True)  # keeps the graph shared with fxx
        np.testing.assert_allclose([fxyx.item(), fxyy.item()],
                                   [yv * (2 + xv * yv) * e, xv * (2 + xv * yv) * e], rtol=1e-13)
        (fxxx,) = grads(fxx, x)
        np.testing.assert_allclose(fxxx.item(), yv ** 3 * e, rtol=1e-13)

    def test_create_graph_accumulates_differentiably(self):
        # two backward passes of y = x^3 accumulate 2 * 3x^2 into x.grad, whose derivative is 12x
        x = leaf(1.5)
        y = x ** 3
        y.backward(create_graph=True)
        y.backward(create_graph=True)
        g = x.grad
        np.testing.assert_allclose(g.item(), 2 * 3 * 1.5 ** 2, rtol=1e-15)
        assert g.requires_grad
        (h,) = grads(g, x)
        np.testing.assert_allclose(h.item(), 12 * 1.5, rtol=1e-15)

    def test_create_graph_without_retain_frees(self):
        x = leaf(1.5)
        y = x.sin() * 2.0
        y.backward(create_graph=True, retain_graph=False)
        with pytest.raises(RuntimeError, match="retain_graph"):
            y.backward()

    def test_hessian_of_a_vector_function_by_rows(self):
        # f = a^2 b + b^2 c + sin(a c); each Hessian row is the backward of one gradient entry
        v = np.array([0.5, -1.0, 2.0])

        def f(x):
            return (x[:-1] ** 2 * x[1:]).sum() + (x[0] * x[2]).sin()

        def hess(v):
            a, b, c = v
            s, co = np.sin(a * c), np.cos(a * c)
            return np.array([
                [2 * b - c * c * s, 2 * a, co - a * c * s],
                [2 * a, 2 * c, 2 * b],
                [co - a * c * s, 2 * b, -a * a * s],
            ])

        x = leaf(v)
        (g,) = grads(f(x), x, create_graph=True)
        rows = []
        for i in range(3):
            x.grad = None
            g[i].backward(retain_graph=True)  # each row reuses the graph of g
            rows.append(x.grad.data)
        np.testing.assert_allclose(np.array(rows), hess(v), rtol=1e-13, atol=1e-14)


def _sig(v):
    return 1 / (1 + np.exp(-v))


# =============================================================================== gradient modes

class TestNoGrad:
    def test_context_manager_records_nothing(self):
        x = leaf(X0)
        with tg.no_grad():
            assert not tg.is_grad_enabled()
            y = (x * 2.0).sin()
        assert tg.is_grad_enabled()
        assert not y.requires_grad and y.is_leaf
        np.testing.assert_allclose(y.data, np.sin(2 * X0))
        with pytest.raises(RuntimeError):
            y.sum().backward()

    def test_decorator(self):
        @tg.no_grad()
        def f(t):
            return t.exp() * 3.0

        x = leaf(X0)
        y = f(x)
        assert not y.requires_grad and y.is_leaf
        assert tg.is_grad_enabled()
        assert (x.exp() * 3.0).requires_grad

    def test_enable_grad_inside_no_grad(self):
        x = leaf(X0)
        with tg.no_grad():
            with tg.enable_grad():
                y = x.sin()
            z = x.sin()
        assert y.requires_grad and not z.requires_grad
        y.sum().backward()
        np.testing.assert_allclose(x.grad.data, np.cos(X0))

    def test_restored_after_an_exception(self):
        with pytest.raises(KeyError), tg.no_grad():
            raise KeyError("inside no_grad")
        assert tg.is_grad_enabled()
        assert (leaf(1.0) * 2.0).requires_grad


class TestDetectAnomaly:
    def test_forward_log_of_negative(self):
        x = leaf([1.0, -1.0])
        with np.errstate(all="ignore"), pytest.raises(FloatingPointError, match="'log'"), tg.detect_anomaly():
            (x * 2.0).log().exp()

    def test_forward_sqrt_of_minus_one(self):
        with np.errstate(all="ignore"), pytest.raises(FloatingPointError, match="'sqrt'"), tg.detect_anomaly():
            tg.sqrt(tg.tensor(-1.0))

    def test_first_offender_is_named(self):
        # exp(1000) overflows first; the later ops see Inf inputs and are not to blame
        x = leaf([1000.0, 1.0])
        with np.errstate(all="ignore"), pytest.raises(FloatingPointError) as info, tg.detect_anomaly():
            (x.exp() - x.exp()).log()
        assert "'exp'" in str(info.value)

    def test_backward_sqrt_at_zero(self):
        # sqrt(0) = 0 is fine forward; d sqrt/dx = 1 / (2 sqrt x) is Inf at 0: backward of 'sqrt' is to blame
        x = leaf([0.0, 4.0])
        y = tg.sqrt(x).sum()
        with np.errstate(all="ignore"), pytest.raises(FloatingPointError) as info, tg.detect_anomaly():
            y.backward()
        msg = str(info.value)
        assert "'sqrt'" in msg and "backward" in msg

    def test_no_error_outside_the_context(self):
        x = leaf([0.0, 4.0])
        with np.errstate(all="ignore"):
            y = tg.sqrt(x).sum()
            y.backward()
            z = tg.log(tg.tensor(-1.0))
        assert np.isinf(x.grad.data[0]) and x.grad.data[1] == 0.25
        assert np.isnan(z.item())

    def test_clean_computation_passes(self):
        x = leaf(X0)
        with tg.detect_anomaly():
            (x.sin() * x.exp()).sum().backward()
        np.testing.assert_allclose(x.grad.data, np.exp(X0) * (np.sin(X0) + np.cos(X0)), rtol=1e-14)

    def test_restored_after_the_context(self):
        with pytest.raises(FloatingPointError), np.errstate(all="ignore"), tg.detect_anomaly():
            tg.log(tg.tensor(-1.0))
        with np.errstate(all="ignore"):
            assert np.isnan(tg.log(tg.tensor(-1.0)).item())
