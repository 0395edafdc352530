"""tg.hessian(f, sparsity=...): the pattern read from the graph, coloured HVPs, the same dense array.

Every sparse Hessian is compared with the dense ``tg.hessian`` of the same function, and the
pattern with the dense Hessian's nonzeros: a pattern that misses one (an unsound analysis) or a
colouring that mixes two columns fails here.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_mvc as tg
from tinygrad_mvc import optim, optimize, sparsity, transforms


def rosen(x):
    a = x[:-1]
    return (100 * (x[1:] - a * a) ** 2 + (1 - a) ** 2).sum()


def rosen_hessian(x):
    n = x.size
    h = np.zeros((n, n))
    i = np.arange(n - 1)
    h[i, i] += 1200 * x[:-1] ** 2 - 400 * x[1:] + 2
    h[i + 1, i + 1] += 200
    h[i, i + 1] = h[i + 1, i] = -400 * x[:-1]
    return h


def pattern_of(f, x):
    """The analysed pattern (dense boolean) and its colouring, or None when called dense."""
    xi = transforms._fresh(np.asarray(x, dtype=float))
    found = sparsity.PatternCache().colouring(f(xi), [xi])
    if found is None:
        return None
    rows, cols, colours = found
    p = np.zeros((xi.size, xi.size), dtype=bool)
    p[rows, cols] = True
    return p, colours


def check(f, x):
    """Sparse equals dense; the pattern covers every nonzero; returns the pattern (or None)."""
    dense = tg.hessian(f)(x)
    got = tg.hessian(f, sparsity="auto")(x)
    assert got.shape == dense.shape
    np.testing.assert_allclose(got, dense, rtol=1e-11, atol=1e-11 * (1 + np.abs(dense).max()))
    found = pattern_of(f, x)
    if found is not None:
        p, colours = found
        assert not np.any(dense.reshape(p.shape)[~p]), "a nonzero of the Hessian lies outside the pattern"
        for c in range(colours.max() + 1):  # structurally orthogonal columns in every colour
            assert p[:, colours == c].sum(axis=1).max() <= 1
    return found


# ----------------------------------------------------------------------------- Rosenbrock

@pytest.mark.parametrize("n", [10, 57, 200])
def test_rosenbrock_three_hvps(n):
    x = np.random.default_rng(n).uniform(-1.2, 1.2, n)
    h = tg.hessian(rosen, sparsity="auto")(x)
    np.testing.assert_allclose(h, rosen_hessian(x), rtol=1e-12, atol=1e-9)
    p, colours = check(rosen, x)
    assert colours.max() + 1 == 3  # tridiagonal: 3 colours whatever n
    assert p.sum() == 3 * n - 2


def test_rosenbrock_takes_three_products(monkeypatch):
    """One batched forward pass of 3 tangents, not n."""
    seen = []
    real = transforms.push_forward

    def spy(out, inputs, tangents, **kw):
        seen.append(np.shape(tangents[0]))
        return real(out, inputs, tangents, **kw)

    monkeypatch.setattr(transforms, "push_forward", spy)
    tg.hessian(rosen, sparsity="auto")(np.linspace(-1, 1, 50))
    assert seen == [(3, 50)]


# ----------------------------------------------------------------------------- random functions

def _band(k):
    return lambda x: (tg.sin(x[k:]) * x[:-k] ** 2).sum()


def _blocks(b):
    return lambda x: (tg.tanh(x.reshape(-1, b).sum(axis=1)) ** 2).sum()


PIECES = {
    "cube": lambda x: (x ** 3).sum(),
    "band1": _band(1),
    "band2": _band(2),
    "block2": _blocks(2),
    "block3": _blocks(3),
    "arrow": lambda x: (x[:, None] * tg.exp(x[None, :2])).sum(),  # broadcasting: every x_i meets x_0, x_1
    "softmax": lambda x: (tg.softmax(x.reshape(-1, 3), axis=1) * np.arange(3.0)).sum(),
    "logsumexp": lambda x: tg.logsumexp(x.reshape(-1, 2), axis=1).sum(),
    "prod": lambda x: tg.prod(x.reshape(-1, 3) * 0.5 + 1, axis=1).sum(),
    "matmul": lambda x: (x.reshape(-1, 2) @ x.reshape(-1, 2).T).sum() * 0.1,
    "tril": lambda x: (tg.tril(x.reshape(-1, 3)[:, :, None] * x.reshape(-1, 3)[:, None, :]) ** 2).sum(),
    "where": lambda x: tg.where(x > 0, x ** 2, tg.sin(x)).sum(),
    "flip": lambda x: (tg.flip(x) * x).sum(),
    "cumsum": lambda x: (tg.cumsum(x) ** 2).sum() * 0.01,
    "concat": lambda x: (tg.concatenate([x[-1:], x[:-1]]) * tg.cos(x)).sum(),
    "linear": lambda x: (3 * x - x[::-1]).sum(),
    "pad": lambda x: (tg.pad(x, 2) ** 3 * np.arange(x.size + 4.0)).sum(),
    "roll": lambda x: (tg.roll(x, 2) * x ** 2).sum(),
    "mean_max": lambda x: (x.reshape(-1, 3).mean(axis=1) * x.reshape(-1, 2).max(axis=1).sum()).sum(),
    "var": lambda x: x.reshape(-1, 2).var(axis=1, keepdims=True).sum(),
    "float32": lambda x: (x.astype(np.float32) ** 3).sum().astype(np.float64),
    "grad_inside": lambda x: (tg.grad(lambda u: (tg.sin(u) * u).sum())(x) ** 2).sum(),
    "dense": lambda x: x.sum() ** 2,
}


@settings(max_examples=100, deadline=None)
@given(names=st.lists(st.sampled_from(sorted(PIECES)), min_size=1, max_size=3),
       blocks=st.integers(1, 4), seed=st.integers(0, 2 ** 16))
def test_random_functions_match_dense(names, blocks, seed):
    n = 6 * blocks  # divisible by every block size above
    x = np.random.default_rng(seed).uniform(-1.5, 1.5, n)

    def f(v):
        total = PIECES[names[0]](v)
        for name in names[1:]:
            total = total + PIECES[name](v)
        return total

    found = check(f, x)
    if found is not None and set(names) <= {"cube", "band1", "where", "linear"}:
        assert found[1].max() + 1 <= 3  # tridiagonal at most


def test_matrix_argument_and_broadcast_constant():
    x = np.random.default_rng(0).uniform(-1, 1, (4, 3))
    w = np.array([1.0, -2.0, 0.5])
    check(lambda m: (tg.exp(m * w) * m[:, :1]).sum(), x)
    h = tg.hessian(lambda m: (m ** 3).sum(), sparsity="auto")(x)
    assert h.shape == (4, 3, 4, 3)
    np.testing.assert_allclose(h.reshape(12, 12), np.diag(6 * x.ravel()))


def test_patterns_of_known_structures():
    x = np.linspace(-1, 1, 12)
    p, colours = pattern_of(PIECES["block3"], x)
    assert np.array_equal(p, np.kron(np.eye(4), np.ones((3, 3))).astype(bool))
    assert colours.max() + 1 == 3
    assert pattern_of(PIECES["dense"], x) is None  # too dense to pay: the dense path
    p, _ = pattern_of(PIECES["linear"], x)
    assert not p.any()  # linear: the Hessian is zero, no product is needed
    np.testing.assert_array_equal(tg.hessian(PIECES["linear"], sparsity="auto")(x), np.zeros((12, 12)))


def test_opaque_user_primitive_is_taken_as_dense():
    mix = tg.Primitive(lambda a: np.full(a.shape, np.sum(a * a)), "mix")  # not elementwise: unknown to the analysis
    mix.defvjp(lambda g, out, a: 2 * a * g.sum(axis=-1, keepdims=True))
    mix.defjvp(lambda t, out, a: tg.broadcast_to((2 * a * t).sum(axis=-1, keepdims=True), t.shape))
    x = np.linspace(0.1, 1, 8)
    f = lambda v: (mix(v[:4]) ** 2).sum() + (v[4:] ** 3).sum()  # noqa: E731
    p, _ = check(f, x)
    assert p[:4, :4].all() and not p[:4, 4:].any()


def test_cached_pattern_follows_the_graph():
    """The pattern is reused only for the same graph: a closure that changes the graph gets a new one."""
    k = {"band": 1}
    f = lambda v: (v[k["band"]:] * v[:-k["band"]] ** 2).sum()  # noqa: E731
    h = tg.hessian(f, sparsity="auto")
    x = np.linspace(-1, 1, 9)
    for band in (1, 3, 1):
        k["band"] = band
        np.testing.assert_allclose(h(x), tg.hessian(f)(x), rtol=1e-12)
    np.testing.assert_allclose(h(x + 1), tg.hessian(f)(x + 1), rtol=1e-12)


# ----------------------------------------------------------------------------- explicit patterns, errors

def test_explicit_pattern():
    x = np.linspace(-1, 1, 7)
    band = np.abs(np.subtract.outer(np.arange(7), np.arange(7))) <= 1
    np.testing.assert_allclose(tg.hessian(rosen, sparsity=band)(x), rosen_hessian(x), rtol=1e-12, atol=1e-9)
    m = np.random.default_rng(1).uniform(-1, 1, (2, 3))
    diagonal = np.eye(6, dtype=bool).reshape(2, 3, 2, 3)
    quartic = lambda v: (v ** 4).sum()  # noqa: E731
    np.testing.assert_allclose(tg.hessian(quartic, sparsity=diagonal)(m), tg.hessian(quartic)(m))


def test_errors():
    with pytest.raises(ValueError, match="hessian: sparsity must be None, 'auto' or a boolean pattern"):
        tg.hessian(rosen, sparsity="yes")
    with pytest.raises(ValueError, match=r"hessian: the sparsity pattern has shape \(3, 3\) but the argument has "
                                         r"shape \(4,\); give a boolean array of shape \(4, 4\)"):
        tg.hessian(rosen, sparsity=np.eye(3, dtype=bool))(np.ones(4))
    with pytest.raises(ValueError, match="sparsity= needs one argument"):
        tg.hessian(lambda a, b: (a * b).sum(), argnums=(0, 1), sparsity="auto")
    with pytest.raises(ValueError, match="not a scalar"):
        tg.hessian(lambda v: v ** 2, sparsity="auto")(np.ones(3))


def test_tensor_and_container_arguments_take_the_dense_path():
    x = tg.tensor(np.linspace(-1, 1, 5), requires_grad=True)
    h = tg.hessian(rosen, sparsity="auto")(x)
    assert isinstance(h, tg.Tensor)
    np.testing.assert_allclose(h.data, rosen_hessian(x.data), rtol=1e-12, atol=1e-9)
    d = tg.hessian(lambda p: (p["a"] ** 3).sum(), sparsity="auto")({"a": np.array([1.0, 2.0])})
    np.testing.assert_allclose(d["a"]["a"], np.diag([6.0, 12.0]))


# ----------------------------------------------------------------------------- Newton and newton_minimize

def test_newton_steps_match_the_dense_ones(monkeypatch):
    start = np.linspace(-1, 0.5, 80)
    runs = []
    for threshold in (optim.SPARSE_MIN_PARAMS, 10 ** 9):
        monkeypatch.setattr(optim, "SPARSE_MIN_PARAMS", threshold)
        w = tg.tensor(start.copy(), requires_grad=True)
        b = tg.tensor(np.zeros(3), requires_grad=True)  # a second parameter: entries numbered after w's
        opt = optim.Newton([w, b])
        loss = lambda w=w, b=b: rosen(w) + ((b - w[:3]) ** 2).sum()  # noqa: E731
        for _ in range(3):
            opt.step(loss)
        runs.append(np.concatenate([w.data, b.data]))
    np.testing.assert_allclose(runs[0], runs[1], rtol=1e-12, atol=1e-12)


def test_newton_uses_the_sparse_hessian(monkeypatch):
    calls = []
    real = sparsity.recover
    monkeypatch.setattr(sparsity, "recover", lambda *a: calls.append(1) or real(*a))
    w = tg.tensor(np.linspace(-1, 0.5, 80), requires_grad=True)
    optim.Newton([w]).step(lambda: rosen(w))
    assert calls


def test_newton_minimize_matches_dense(monkeypatch):
    x0 = np.linspace(-1, 0.5, 70)
    sparse = optimize.newton_minimize(rosen, x0, max_iter=5)
    monkeypatch.setattr(optimize, "SPARSE_MIN_SIZE", 10 ** 9)
    dense = optimize.newton_minimize(rosen, x0, max_iter=5)
    np.testing.assert_allclose(sparse.x, dense.x, rtol=1e-12, atol=1e-12)


def test_sparsity_module_examples():
    import doctest

    assert doctest.testmod(sparsity).failed == 0
