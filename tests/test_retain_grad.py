"""Tensor.retain_grad: PyTorch's semantics, no effect on gradients()/tg.grad, and no leak (weak references)."""

from __future__ import annotations

import gc

import numpy as np
import pytest

import tinygrad_mvc as tg
from tinygrad_mvc import _retain, engine


def test_a_retained_non_leaf_gets_its_grad_and_others_do_not():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    z = tg.tanh(y)
    y.retain_grad()
    assert y.retains_grad and not z.retains_grad and not x.retains_grad
    z.sum().backward()
    expected = 1 - np.tanh(np.array([1.0, 4.0])) ** 2
    np.testing.assert_allclose(y.grad.data, expected)
    np.testing.assert_allclose(x.grad.data, expected * 2 * x.data)  # the leaf is unaffected
    assert z.grad is None


def test_retained_grad_accumulates_over_two_backward_calls():
    x = tg.tensor(3.0, requires_grad=True)
    y = x * 2.0
    y.retain_grad()
    out = y * y
    out.backward(retain_graph=True)
    assert y.grad.item() == 12.0
    out.backward()
    assert y.grad.item() == 24.0 and x.grad.item() == 48.0


def test_the_retained_grad_is_its_own_copy():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = x + 0.0
    y.retain_grad()
    (y * 3.0).sum().backward()
    y.grad.data[...] = 100.0  # must not have been shared with what flowed on to x
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0])


def test_create_graph_gives_a_differentiable_retained_grad():
    x = tg.tensor(2.0, requires_grad=True)
    y = x * x
    y.retain_grad()
    (y ** 3).backward(create_graph=True)  # d/dy y³ = 3y² = 3x⁴
    assert y.grad.item() == 48.0 and y.grad.requires_grad
    x.grad = None
    y.grad.backward()  # d/dx 3x⁴ = 12x³
    assert x.grad.item() == 96.0


def test_on_a_leaf_it_is_a_no_op_and_without_requires_grad_an_error():
    x = tg.tensor(2.0, requires_grad=True)
    x.retain_grad()
    assert not x.retains_grad and not _retain.retains(x)
    (x * 5.0).backward()
    assert x.grad.item() == 5.0
    c = tg.tensor(1.0)
    with pytest.raises(RuntimeError, match=r"retain_grad\(\).*does not require grad.*requires_grad=True"):
        c.retain_grad()
    with pytest.raises(RuntimeError, match="retain_grad"):
        (c * 2.0).retain_grad()


def test_gradients_and_tg_grad_do_not_fill_it():
    x = tg.tensor(2.0, requires_grad=True)
    y = x * x
    y.retain_grad()
    (g,) = engine.gradients(y * 3.0, [x])
    assert g.item() == 12.0 and y.grad is None and x.grad is None
    seen = []

    def f(v):
        inner = v * v
        inner.retain_grad()
        seen.append(inner)
        return tg.sin(inner)

    assert tg.grad(f)(tg.tensor(0.5)).item() == pytest.approx(np.cos(0.25) * 1.0)
    assert seen[0].grad is None


def test_a_retained_tensor_that_dies_frees_its_entry():
    x = tg.tensor(1.0, requires_grad=True)
    y = x * 2.0
    y.retain_grad()
    key = id(y)
    assert _retain.retained[key]() is y
    del y
    gc.collect()
    assert key not in _retain.retained


def test_no_leak_after_many_retained_tensors_die():
    x = tg.tensor(1.0, requires_grad=True)
    for _ in range(200):
        y = tg.tanh(x * 3.0)
        y.retain_grad()
        y.backward()
    del y
    gc.collect()
    assert _retain.retained == {}
    assert x.grad.item() == pytest.approx(200 * 3 * (1 - np.tanh(3.0) ** 2))


def test_a_new_tensor_reusing_a_dead_ones_id_is_not_retained():
    x = tg.tensor(1.0, requires_grad=True)
    y = x * 2.0
    y.retain_grad()
    key = id(y)
    del y
    gc.collect()
    for _ in range(50):  # CPython reuses ids quickly: whoever gets it must not inherit the flag
        z = x * 3.0
        if id(z) == key:
            break
    assert not z.retains_grad
    z.backward()
    assert z.grad is None
