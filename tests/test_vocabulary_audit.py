"""Issue 15 audit: the vocabulary used the way HIPS autograd, JAX and PyTorch users use it.

Each test here failed before its fix (a silently wrong gradient, a dropped graph, a refusal of a
name the contract offers, a misleading message, or a PyTorch habit behaving unlike PyTorch).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.linalg

import tinygrad_mvc as tg

X = np.array([0.3, 1.2, -0.5])


def needs_grad(data=X):
    return tg.tensor(data, requires_grad=True)


# ----------------------------------------------------------------------------- complex numbers never leak

@pytest.mark.parametrize("f", [
    lambda x: abs(x * (1 + 1j)).sum(),           # a real result of complex intermediates
    lambda x: np.absolute(x + 1j).sum(),
    lambda x: ((x + 1j) * (x - 1j)).sum(),      # complex dtype, real values
])
def test_a_complex_intermediate_is_refused_not_a_silently_wrong_gradient(f):
    # Before: gradient 0 (the imaginary part cast away with a ComplexWarning) for the first two.
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a ComplexWarning would mean the value was silently cast
        with pytest.raises(TypeError, match="complex .* out of scope"):
            f(needs_grad()).backward()
        with pytest.raises(TypeError, match="complex .* out of scope"):
            tg.grad(f)(X)
        with pytest.raises(TypeError, match="complex .* out of scope"):
            tg.jvp(f, (X,), (X,))  # forward mode: the tangent is complex


def test_astype_complex_is_refused_not_a_dropped_graph():
    with pytest.raises(TypeError, match=r"astype\(complex128\).* out of scope"):
        needs_grad().astype(np.complex128)
    assert needs_grad().astype(np.int64).dtype == np.int64  # integers: a constant, as before


# ----------------------------------------------------------------------------- functions that would drop the graph

@pytest.mark.parametrize("call, name", [
    (lambda m: scipy.linalg.expm(m), "scipy.linalg.expm"),
    (lambda m: scipy.linalg.inv(m), "scipy.linalg.inv"),
    (lambda m: scipy.linalg.det(m), "scipy.linalg.det"),
    (lambda m: scipy.linalg.solve_triangular(m, np.ones(2)), "scipy.linalg.solve_triangular"),
])
def test_scipy_linalg_on_a_tensor_that_requires_grad_is_refused(call, name):
    m = np.array([[2.0, 0.0], [1.0, 3.0]])
    with pytest.raises(TypeError, match=rf"{name.replace('.', '[.]')} on a Tensor that requires grad: "
                                        r"scipy\.linalg is out of scope .* tg\.linalg"):
        call(needs_grad(m))
    np.testing.assert_allclose(call(tg.tensor(m)), call(m))  # a constant: computed on the data


def test_np_vectorize_on_a_tensor_that_requires_grad_is_refused():
    with pytest.raises(TypeError, match=r"np\.vectorize on a Tensor that requires grad"):
        np.vectorize(lambda a: a * 2)(needs_grad())
    np.testing.assert_allclose(np.vectorize(lambda a: a * 2)(tg.tensor(X)), X * 2)


# ----------------------------------------------------------------------------- names reachable through NumPy

@pytest.mark.parametrize("np_call, tg_call", [
    (lambda x: np.zeros_like(x), lambda x: tg.zeros_like(x)),
    (lambda x: np.ones_like(x), lambda x: tg.ones_like(x)),
    (lambda x: np.full_like(x, 2.5), lambda x: tg.full_like(x, 2.5)),
    (lambda x: np.zeros_like(x, dtype=np.float32), lambda x: tg.zeros_like(x, dtype=np.float32)),
    (lambda x: np.ones_like(x, shape=(2, 2)), lambda x: tg.ones(2, 2)),
])
def test_numpy_like_constructors_work_on_a_tensor_that_requires_grad(np_call, tg_call):
    got, want = np_call(needs_grad()), tg_call(needs_grad())
    assert isinstance(got, tg.Tensor) and not got.requires_grad
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got.data, want.data)
    # HIPS autograd's habit: a zeros_like accumulator inside the differentiated function
    assert tg.grad(lambda x: (np.zeros_like(x) + x * x).sum())(X) == pytest.approx(2 * X)


def test_numpy_eigvalsh_fliplr_flipud_are_differentiable():
    a = np.array([[2.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 4.0]])
    w = np.linalg.eigvalsh(needs_grad(a))
    assert isinstance(w, tg.Tensor) and w.requires_grad
    np.testing.assert_allclose(w.data, np.linalg.eigvalsh(a))
    np.testing.assert_allclose(np.linalg.eigvalsh(needs_grad(a), UPLO="U").data, np.linalg.eigvalsh(a, UPLO="U"))
    g = tg.grad(lambda m: np.linalg.eigvalsh(m)[-1])(a)
    v = np.linalg.eigh(a)[1][:, -1]
    np.testing.assert_allclose(g, np.outer(v, v), atol=1e-12)
    m = np.arange(6.0).reshape(2, 3)
    for f in (np.fliplr, np.flipud):
        out = f(needs_grad(m))
        assert isinstance(out, tg.Tensor) and out.requires_grad
        np.testing.assert_array_equal(out.data, f(m))
        np.testing.assert_array_equal(tg.grad(lambda t, f=f: (f(t) * m).sum())(m), f(m))  # the flip's transpose


# ----------------------------------------------------------------------------- refusals say what is true

@pytest.mark.parametrize("call, name", [
    (lambda x: np.cbrt(x), "np.cbrt"),
    (lambda x: np.deg2rad(x), "np.deg2rad"),
    (lambda x: np.logaddexp(x, x), "np.logaddexp"),
])
def test_a_refused_ufunc_does_not_point_to_a_tg_function_that_does_not_exist(call, name):
    with pytest.raises(TypeError, match=rf"{name.replace('.', '[.]')} is not differentiable") as info:
        call(needs_grad())
    assert "of the same name" not in str(info.value)  # before: "use the tg.* function of the same name"


def test_a_refused_ufunc_with_a_tg_twin_names_it():
    with pytest.raises(TypeError, match=r"np\.sin with keyword arguments .* tg\.sin"):
        np.sin(needs_grad(), out=np.empty(3))


@pytest.mark.parametrize("call, name", [
    (lambda m: np.linalg.svd(m), "np.linalg.svd"),
    (lambda m: np.linalg.qr(m), "np.linalg.qr"),
    (lambda m: np.linalg.pinv(m), "np.linalg.pinv"),
])
def test_a_refused_linalg_function_is_named_with_its_module(call, name):
    with pytest.raises(TypeError, match=rf"^{name.replace('.', '[.]')} is not differentiable"):
        call(needs_grad(np.eye(2) * 2))


def test_a_matrix_norm_order_that_does_not_exist_is_called_so():
    with pytest.raises(ValueError, match=r"ord=2\.5 is not a matrix norm"):
        tg.linalg.norm(tg.ones(2, 2), ord=2.5)
    with pytest.raises(ValueError, match="singular values"):  # ord=2 exists, it is just not computed here
        tg.linalg.norm(tg.ones(2, 2), ord=2)


# ----------------------------------------------------------------------------- PyTorch habits

def test_requires_grad_false_on_a_non_leaf_is_refused_as_in_pytorch():
    y = needs_grad() * 2
    with pytest.raises(RuntimeError, match=r"requires_grad_\(False\) .* leaf.*detach\(\)"):
        y.requires_grad_(False)
    assert y.requires_grad  # the graph is intact
    assert y.requires_grad_() is y  # True on a non-leaf is harmless, as in PyTorch


def test_module_zero_grad_takes_set_to_none():
    net = tg.nn.Linear(2, 1, rng=0)
    net(np.ones((1, 2))).sum().backward()
    net.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not np.any(p.grad.data) for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_tensor_clip_takes_ndarrays_keyword_names():
    x = needs_grad()
    np.testing.assert_array_equal(x.clip(min=0.0, max=1.0).data, X.clip(min=0.0, max=1.0))
    np.testing.assert_array_equal(x.clip(max=0.5).data, X.clip(max=0.5))
    assert tg.grad(lambda t: t.clip(min=0.0).sum())(X).tolist() == [1.0, 1.0, 0.0]
    with pytest.raises(TypeError, match="not both"):
        x.clip(0.0, min=0.0)
