"""Transforms over containers (pytrees): gradients, tangents and Jacobians in the arguments' structure.

Every structured result is checked against the same transform applied to the flat leaves (the plain
path, itself tested against finite differences) and, for the Hessian, against finite differences.
"""

from __future__ import annotations

import doctest
from collections import OrderedDict, namedtuple

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import shapes

import tinygrad_mvc as tg
from tinygrad_mvc import pytree
from tinygrad_mvc.finite_diff import numerical_hessian, numerical_jacobian
from tinygrad_mvc.tensor import Tensor

Pair = namedtuple("Pair", "w b")

W = np.array([[1.0, 2.0, -1.0], [3.0, 4.0, 0.5]])
B = np.array([0.5, -0.5, 0.25])
X = np.array([[1.0, -1.0], [0.5, 2.0]])


def loss(p):
    r = X @ p["w"] + p["b"]
    return (r * r).sum()


def loss_grads(w, b):
    r = X @ w + b
    return {"w": X.T @ (2 * r), "b": (2 * r).sum(axis=0)}


# ----------------------------------------------------------------------------- grad and value_and_grad

def test_grad_of_a_dict_is_a_dict_of_the_same_keys_and_shapes():
    g = tg.grad(loss)({"w": W, "b": B})
    assert list(g) == ["w", "b"]
    want = loss_grads(W, B)
    np.testing.assert_allclose(g["w"], want["w"], rtol=1e-13)
    np.testing.assert_allclose(g["b"], want["b"], rtol=1e-13)


def test_value_and_grad_with_argnums_selecting_a_container_and_a_plain_argument():
    def f(scale, p, unused):
        return scale * loss(p)

    value, (g_scale, g_p) = tg.value_and_grad(f, argnums=(0, 1))(2.0, {"w": W, "b": B}, "text")
    assert value == pytest.approx(2 * loss({"w": Tensor(W), "b": Tensor(B)}).item())
    assert g_scale == pytest.approx(loss({"w": Tensor(W), "b": Tensor(B)}).item())
    np.testing.assert_allclose(g_p["w"], 2 * loss_grads(W, B)["w"], rtol=1e-13)
    # argnums=1 alone: just the container
    g = tg.grad(f, argnums=1)(2.0, {"w": W, "b": B}, None)
    np.testing.assert_allclose(g["b"], 2 * loss_grads(W, B)["b"], rtol=1e-13)


def test_lists_tuples_namedtuples_nesting_and_none_keep_their_structure():
    tree = {"layers": [Pair(np.array([1.0, 2.0]), 3.0), Pair(np.array([-1.0]), None)], "t": (0.5,)}

    def f(p):
        (a, b), (c, _none) = p["layers"]
        return (a * a).sum() * b + (c ** 3).sum() + p["t"][0] ** 2

    g = tg.grad(f)(tree)
    assert isinstance(g["layers"], list) and isinstance(g["layers"][0], Pair) and isinstance(g["t"], tuple)
    assert g["layers"][1].b is None
    np.testing.assert_allclose(g["layers"][0].w, [6.0, 12.0])
    assert g["layers"][0].b == pytest.approx(5.0)
    np.testing.assert_allclose(g["layers"][1].w, [3.0])
    assert g["t"][0] == pytest.approx(1.0)


def test_a_list_argument_is_a_container_not_an_array():
    assert tg.grad(lambda v: v[0] * v[1])([2.0, 3.0]) == [3.0, 2.0]
    assert type(tg.grad(lambda v: v[0] * v[1])([2.0, 3.0])) is list
    od = tg.grad(lambda d: d["a"] * 2)(OrderedDict(a=1.0))
    assert type(od) is OrderedDict and od["a"] == 2.0


def test_tensor_leaves_give_tensors_connected_to_the_caller_so_grad_nests():
    a = tg.tensor([1.0, 2.0], requires_grad=True)
    g = tg.grad(lambda p: (p["a"] ** 3).sum() * p["c"])({"a": a, "c": 2.0})
    assert isinstance(g["a"], Tensor) and isinstance(g["c"], Tensor)
    np.testing.assert_allclose(g["a"].data, 6 * a.data ** 2)
    g["a"].sum().backward()  # d/da Σ 6a² = 12 a
    np.testing.assert_allclose(a.grad.data, 12 * a.data)
    # grad of grad over a container, NumPy in and out
    second = tg.grad(lambda p: tg.grad(lambda q: (q["x"] ** 3).sum())(p)["x"].sum())({"x": np.array([1.0, 2.0])})
    np.testing.assert_allclose(second["x"], [6.0, 12.0])


tree_shapes = st.recursive(
    shapes(max_dims=2).map(lambda s: ("leaf", s)),
    lambda children: st.one_of(
        st.lists(children, min_size=1, max_size=3).map(lambda c: ("list", c)),
        st.lists(children, min_size=1, max_size=3).map(lambda c: ("tuple", c)),
        st.dictionaries(st.sampled_from("abcd"), children, min_size=1, max_size=3).map(lambda c: ("dict", c)),
    ),
    max_leaves=5,
)


def build(spec, rng):
    kind, body = spec
    if kind == "leaf":
        return rng.uniform(-1.5, 1.5, body)
    if kind == "dict":
        return {k: build(v, rng) for k, v in body.items()}
    items = [build(v, rng) for v in body]
    return items if kind == "list" else tuple(items)


@settings(max_examples=10)
@given(spec=tree_shapes, seed=st.integers(0, 2 ** 16))
def test_structured_grad_equals_the_flat_grad_leaf_by_leaf(spec, seed):
    tree = build(spec, np.random.default_rng(seed))
    leaves, structure = pytree.flatten(tree)

    def flat_f(*xs):
        return sum(((k + 1.0) * tg.sin(x) * x).sum() for k, x in enumerate(xs))

    g = tg.grad(lambda t: flat_f(*pytree.flatten(t)[0]))(tree)
    g_leaves, g_structure = pytree.flatten(g)
    assert g_structure == structure
    want = tg.grad(flat_f, argnums=tuple(range(len(leaves))))(*leaves)
    for got, w, x in zip(g_leaves, want, leaves, strict=True):
        assert np.shape(got) == np.shape(x)
        np.testing.assert_allclose(got, w, rtol=1e-13, atol=1e-15)


# ----------------------------------------------------------------------------- vjp, jvp, linearize

def test_vjp_with_container_primals_and_a_container_output():
    out, vjp_fn = tg.vjp(lambda p, s: {"y": p["w"] * s, "z": [p["w"].sum()]}, {"w": np.array([1.0, 2.0])}, 3.0)
    np.testing.assert_allclose(out["y"], [3.0, 6.0])
    assert out["z"][0] == pytest.approx(3.0)
    g_p, g_s = vjp_fn({"y": np.array([1.0, 10.0]), "z": [2.0]})
    np.testing.assert_allclose(g_p["w"], [3.0 + 2.0, 30.0 + 2.0])  # s·u_y + u_z
    assert g_s == pytest.approx(1.0 + 20.0)
    with pytest.raises(ValueError, match="structure"):
        vjp_fn({"y": np.array([1.0, 10.0])})
    with pytest.raises(ValueError, match=r"leaf 0 of the cotangent has shape \(3,\)"):
        vjp_fn({"y": np.ones(3), "z": [2.0]})


def test_jvp_and_linearize_take_tangents_of_the_primals_structure():
    f = lambda p: tg.sin(p["a"]) * p["b"]  # noqa: E731
    primal = {"a": np.array([0.3, -0.7]), "b": np.array([2.0, 0.5])}
    tangent = {"a": np.array([1.0, 2.0]), "b": np.array([-1.0, 0.25])}
    out, t_out = tg.jvp(f, (primal,), (tangent,))
    np.testing.assert_allclose(out, np.sin(primal["a"]) * primal["b"])
    want = np.cos(primal["a"]) * tangent["a"] * primal["b"] + np.sin(primal["a"]) * tangent["b"]
    np.testing.assert_allclose(t_out, want, rtol=1e-13)
    _, f_jvp = tg.linearize(f, primal)
    np.testing.assert_allclose(f_jvp(tangent), want, rtol=1e-13)
    with pytest.raises(ValueError, match="tangent 0 has the structure"):
        f_jvp({"a": np.ones(2)})
    with pytest.raises(ValueError, match="shape"):
        f_jvp({"a": np.ones(3), "b": np.ones(2)})
    # a container output: the tangent comes back in it
    _, t = tg.jvp(lambda p: (p["a"] * 2, [p["b"].sum()]), (primal,), (tangent,))
    np.testing.assert_allclose(t[0], 2 * tangent["a"])
    assert t[1][0] == pytest.approx(tangent["b"].sum())


# ----------------------------------------------------------------------------- jacobian, hessian, hvp

@pytest.mark.parametrize("mode", ["rev", "fwd", "auto"])
def test_jacobian_of_a_dict_input_is_a_dict_of_out_shape_plus_leaf_shape(mode):
    def f(p):
        return tg.tanh(p["w"].sum(axis=0) * p["b"])

    p = {"w": np.array([[0.5, -1.0, 0.2], [0.1, 0.3, -0.4]]), "b": np.array([1.0, 2.0, -0.5])}
    jac = tg.jacobian(f, mode=mode)(p)
    assert jac["w"].shape == (3, 2, 3) and jac["b"].shape == (3, 3)
    flat = np.concatenate([p["w"].ravel(), p["b"]])

    def f_np(v):
        w, b = v[:6].reshape(2, 3), v[6:]
        return np.tanh(w.sum(axis=0) * b)

    numeric = numerical_jacobian(f_np, flat)
    np.testing.assert_allclose(jac["w"].reshape(3, 6), numeric[:, :6], rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(jac["b"], numeric[:, 6:], rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("mode", ["rev", "fwd"])
def test_jacobian_of_a_container_output_nests_outputs_outside_inputs(mode):
    def f(x, p):
        return {"sum": (x * p["s"]).sum(), "parts": (x * 2, p["s"] ** 2)}

    x, p = np.array([1.0, 2.0, 3.0]), {"s": np.array([0.5, -1.0, 2.0])}
    jac = tg.jacobian(f, argnums=(0, 1), mode=mode)(x, p)
    d_sum_dx, d_sum_dp = jac["sum"]
    np.testing.assert_allclose(d_sum_dx, p["s"])
    np.testing.assert_allclose(d_sum_dp["s"], x)
    assert isinstance(jac["parts"], tuple)
    np.testing.assert_allclose(jac["parts"][0][0], 2 * np.eye(3))
    np.testing.assert_allclose(jac["parts"][0][1]["s"], np.zeros((3, 3)))
    np.testing.assert_allclose(jac["parts"][1][1]["s"], np.diag(2 * p["s"]))
    # plain argnums: one level of nesting less
    assert tg.jacobian(lambda v: (v.sum(), v * 2), mode=mode)(x)[0].shape == (3,)


def test_hessian_of_a_dict_is_a_dict_of_dicts_matching_finite_differences():
    def f(p):
        return (tg.sin(p["a"]) * p["b"] ** 2).sum() + (p["a"] * p["a"]).sum() * p["c"]

    p = {"a": np.array([0.3, -1.2]), "b": np.array([0.7, 1.5]), "c": 0.8}
    hess = tg.hessian(f)(p)
    keys = ["a", "b", "c"]
    assert list(hess) == keys and all(list(hess[k]) == keys for k in keys)
    assert hess["a"]["b"].shape == (2, 2) and hess["a"]["c"].shape == (2,) and np.shape(hess["c"]["c"]) == ()

    def f_np(v):
        a, b, c = v[:2], v[2:4], v[4]
        return (np.sin(a) * b ** 2).sum() + (a * a).sum() * c

    numeric = numerical_hessian(f_np, np.array([0.3, -1.2, 0.7, 1.5, 0.8]))
    blocks = {"a": slice(0, 2), "b": slice(2, 4), "c": slice(4, 5)}
    for i in keys:
        for j in keys:
            got = np.reshape(hess[i][j], (blocks[i].stop - blocks[i].start, blocks[j].stop - blocks[j].start))
            np.testing.assert_allclose(got, numeric[blocks[i], blocks[j]], rtol=1e-5, atol=1e-6)


def test_hvp_on_a_container_is_the_hessian_contracted_with_v():
    f = lambda p: (p["a"] ** 3).sum() * p["b"]  # noqa: E731
    p = {"a": np.array([1.0, -2.0]), "b": 1.5}
    v = {"a": np.array([0.5, 1.0]), "b": 2.0}
    hv = tg.hvp(f, p, v)
    # H_aa = diag(6 a b), H_ab = 3 a², H_bb = 0
    np.testing.assert_allclose(hv["a"], 6 * p["a"] * p["b"] * v["a"] + 3 * p["a"] ** 2 * v["b"])
    assert hv["b"] == pytest.approx((3 * p["a"] ** 2 * v["a"]).sum())
    with pytest.raises(ValueError, match="structure"):
        tg.hvp(f, p, {"a": v["a"]})


# ----------------------------------------------------------------------------- errors and the module itself

def test_grad_still_refuses_a_container_output_and_complex_outputs():
    with pytest.raises(TypeError, match="returned a tuple"):
        tg.grad(lambda p: (p["a"], p["a"]))({"a": 1.0})
    with pytest.raises(TypeError, match="integer|boolean"):
        tg.grad(lambda p: p["a"] > 0)({"a": 1.0})
    with pytest.raises(TypeError, match="leaf 1"):
        tg.grad(lambda p: p[0])([1.0, "x"])


def test_pytree_flatten_unflatten_round_trip_and_mismatch_errors():
    tree = {"a": [1, (2, None)], "b": Pair(3, 4)}
    leaves, structure = pytree.flatten(tree)
    assert leaves == [1, 2, 3, 4] and structure.num_leaves == 4
    assert pytree.unflatten(structure, leaves) == tree
    assert repr(structure) == "{'a': [*, (*, None)], 'b': Pair(*, *)}"
    with pytest.raises(ValueError, match="fewer leaves"):
        pytree.unflatten(structure, [1, 2])
    with pytest.raises(ValueError, match="more leaves"):
        pytree.unflatten(structure, [1, 2, 3, 4, 5])
    with pytest.raises(ValueError, match="must match"):
        pytree.flatten_like(structure, {"a": [1, (2, None)], "b": (3, 4)}, "x")
    assert pytree.tree_map(lambda a: a * 10, tree) == {"a": [10, (20, None)], "b": Pair(30, 40)}
    result = doctest.testmod(pytree)
    assert result.failed == 0 and result.attempted >= 3
