"""tg.nn: parameter discovery, order and sharing; layers; state, save and load."""

from __future__ import annotations

import os

import numpy as np
import pytest

import tinygrad_mvc as tg
from tinygrad_mvc import nn
from tinygrad_mvc.tensor import Tensor


class Pair(nn.Module):
    """Two layers, one of them reachable three times (attribute, list and dict)."""

    def __init__(self) -> None:
        self.first = nn.Linear(3, 4, rng=1)
        self.second = nn.Linear(4, 2, rng=2)
        self.again = [self.first, {"alias": self.first}]
        self.scale = Tensor(2.0, requires_grad=True)
        self.frozen = Tensor(5.0)  # no requires_grad: not a parameter

    def forward(self, x):
        return self.second(tg.tanh(self.first(x))) * self.scale


def test_parameter_order_is_attribute_order_depth_first_without_duplicates():
    m = Pair()
    names = [n for n, _ in m.named_parameters()]
    assert names == ["first.weight", "first.bias", "second.weight", "second.bias", "scale"]
    params = m.parameters()
    assert [id(p) for p in params] == [id(p) for _, p in m.named_parameters()]
    assert len({id(p) for p in params}) == len(params)
    assert m.num_parameters() == 3 * 4 + 4 + 4 * 2 + 2 + 1


def test_a_layer_used_twice_is_one_set_of_weights():
    layer = nn.Linear(2, 2, rng=0)
    net = nn.Sequential(layer, nn.Tanh(), layer)
    assert [n for n, _ in net.named_parameters()] == ["layers.0.weight", "layers.0.bias"]
    out = net(np.ones((3, 2))).sum()
    out.backward()
    # Both uses contribute to the one gradient: compare with the same computation written out.
    w, b = Tensor(layer.weight.data, requires_grad=True), Tensor(layer.bias.data, requires_grad=True)
    ((tg.tanh(np.ones((3, 2)) @ w + b) @ w + b).sum()).backward()
    np.testing.assert_allclose(layer.weight.grad.data, w.grad.data, rtol=1e-12)
    np.testing.assert_allclose(layer.bias.grad.data, b.grad.data, rtol=1e-12)


def test_mlp_names_shapes_and_last_layer_linear():
    net = nn.MLP([2, 5, 3, 1], activation="relu", rng=0)
    assert [(n, p.shape) for n, p in net.named_parameters()] == [
        ("layers.0.weight", (2, 5)), ("layers.0.bias", (5,)), ("layers.2.weight", (5, 3)), ("layers.2.bias", (3,)),
        ("layers.4.weight", (3, 1)), ("layers.4.bias", (1,))]
    assert [type(m).__name__ for m in net.layers] == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]
    x = np.random.default_rng(0).standard_normal((7, 2))
    h = np.maximum(np.maximum(x @ net[0].weight.data + net[0].bias.data, 0) @ net[2].weight.data
                   + net[2].bias.data, 0)
    want = h @ net[4].weight.data + net[4].bias.data  # no activation after the last layer
    np.testing.assert_allclose(net(x).data, want, rtol=1e-12)
    assert "Linear(2, 5, bias=True)" in repr(net)


@pytest.mark.parametrize("activation, fn", [("tanh", np.tanh), ("sigmoid", lambda z: 1 / (1 + np.exp(-z))),
                                            ("relu", lambda z: np.maximum(z, 0)), (nn.Tanh, np.tanh),
                                            ("identity", lambda z: z)])
def test_mlp_activations(activation, fn):
    net = nn.MLP([3, 4, 2], activation=activation, rng=3)
    x = np.random.default_rng(1).standard_normal((5, 3))
    want = fn(x @ net[0].weight.data + net[0].bias.data) @ net[2].weight.data + net[2].bias.data
    np.testing.assert_allclose(net(x).data, want, rtol=1e-12)


def test_linear_initialisation_is_seeded_and_bounded():
    a, b, c = nn.Linear(50, 30, rng=7), nn.Linear(50, 30, rng=7), nn.Linear(50, 30, rng=8)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    assert not np.array_equal(a.weight.data, c.weight.data)
    bound = 1 / np.sqrt(50)
    for p in (a.weight, a.bias):
        assert np.abs(p.data).max() <= bound
        assert np.abs(p.data).max() > 0.8 * bound  # uniform over the whole range, not a narrower one
    assert abs(a.weight.data.std() - bound / np.sqrt(3)) < 0.1 * bound  # the std of U(-b, b)
    assert nn.Linear(2, 2, bias=False).bias is None


def test_mlp_with_the_same_seed_is_the_same_network():
    x = np.ones((2, 3))
    np.testing.assert_array_equal(nn.MLP([3, 8, 1], rng=5)(x).data, nn.MLP([3, 8, 1], rng=5)(x).data)


def test_linear_gradients_against_finite_differences():
    layer = nn.Linear(3, 2, rng=0)
    x = np.random.default_rng(2).standard_normal((4, 3))
    assert tg.gradcheck(lambda w, b: tg.tanh(x @ w + b).sum(), layer.weight.data, layer.bias.data, order=2)
    out = tg.tanh(layer(x)).sum()
    out.backward()
    want_w = tg.grad(lambda w: tg.tanh(x @ w + layer.bias.data).sum())(layer.weight.data)
    np.testing.assert_allclose(layer.weight.grad.data, want_w, rtol=1e-12)


def test_linear_accepts_1d_and_batched_inputs():
    layer = nn.Linear(3, 2, rng=0)
    v = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(layer(v).data, v @ layer.weight.data + layer.bias.data, rtol=1e-12)
    batch = np.random.default_rng(0).standard_normal((2, 4, 3))
    assert layer(batch).shape == (2, 4, 2)


@pytest.mark.parametrize("bad, match", [(np.ones((4, 2)), r"Linear\(3, 2\): input of shape \(4, 2\)"),
                                        (np.float64(1.0), r"input of shape \(\)")])
def test_linear_rejects_the_wrong_input_size(bad, match):
    with pytest.raises(ValueError, match=match):
        nn.Linear(3, 2)(bad)


@pytest.mark.parametrize("call, match", [
    (lambda: nn.Linear(0, 2), "in_features must be a positive integer"),
    (lambda: nn.Linear(2, 2.5), "out_features"),
    (lambda: nn.MLP([3]), "at least the input and output sizes"),
    (lambda: nn.MLP([2, 2], activation="swish"), "unknown activation 'swish'"),
    (lambda: nn.Sequential(nn.Tanh(), 3), "item 1 is a int"),
])
def test_bad_construction_is_a_clear_error(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


def test_zero_grad():
    m = Pair()
    m(np.ones((2, 3))).sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())


# --------------------------------------------------------------------------- state, save, load

def test_state_dict_round_trip_reproduces_outputs_exactly():
    x = np.random.default_rng(0).standard_normal((6, 3))
    source, target = nn.MLP([3, 7, 2], rng=1), nn.MLP([3, 7, 2], rng=2)
    assert not np.array_equal(source(x).data, target(x).data)
    state = source.state_dict()
    assert list(state) == [n for n, _ in source.named_parameters()]
    assert target.load_state_dict(state) is target
    np.testing.assert_array_equal(source(x).data, target(x).data)
    state["layers.0.weight"][...] = 0  # a copy: changing it leaves the module alone
    assert np.abs(source[0].weight.data).max() > 0


def test_save_and_load_round_trip(tmp_path):
    x = np.random.default_rng(0).standard_normal((6, 3))
    source, target = nn.MLP([3, 7, 2], rng=1), nn.MLP([3, 7, 2], rng=2)
    path = source.save(tmp_path / "net.npz")
    assert path == tmp_path / "net.npz" and path.is_file()
    assert target.load(path) is target
    np.testing.assert_array_equal(source(x).data, target(x).data)
    assert os.listdir(tmp_path) == ["net.npz"]  # no temporary files left behind


def test_a_failed_save_leaves_the_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "net.npz"
    old = nn.MLP([2, 3, 1], rng=1)
    old.save(path)
    before = path.read_bytes()

    def broken_savez(f, **arrays):
        f.write(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        nn.MLP([2, 3, 1], rng=2).save(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["net.npz"]
    monkeypatch.undo()
    restored = nn.MLP([2, 3, 1], rng=3).load(path)
    np.testing.assert_array_equal(restored[0].weight.data, old[0].weight.data)


def test_loading_the_wrong_architecture_names_the_parameter_and_changes_nothing(tmp_path):
    path = nn.MLP([2, 8, 1], rng=1).save(tmp_path / "wide.npz")
    narrow = nn.MLP([2, 4, 1], rng=2)
    before = narrow.state_dict()
    with pytest.raises(ValueError, match=r"'layers.0.weight' has shape \(2, 4\).*gives shape \(2, 8\)"):
        narrow.load(path)
    for name, value in narrow.state_dict().items():
        np.testing.assert_array_equal(value, before[name])  # nothing half-loaded
    deeper = nn.MLP([2, 8, 8, 1], rng=2)
    with pytest.raises(ValueError, match=r"missing layers.4.weight, layers.4.bias"):
        deeper.load(path)
    with pytest.raises(ValueError, match=r"unexpected layers.4.weight"):
        nn.MLP([2, 8, 1]).load_state_dict(deeper.state_dict())


def test_loading_a_file_that_is_not_a_parameter_file(tmp_path):
    bad = tmp_path / "notes.npz"
    bad.write_text("hello")
    with pytest.raises(ValueError, match="not a parameter file"):
        nn.MLP([2, 2]).load(bad)
    with pytest.raises(FileNotFoundError):
        nn.MLP([2, 2]).load(tmp_path / "missing.npz")


def test_float32_network_stays_float32():
    net = nn.MLP([3, 4, 2], rng=0, dtype=np.float32)
    out = net(np.ones((2, 3), dtype=np.float32))
    assert out.dtype == np.float32
    out.sum().backward()
    assert all(p.grad.dtype == np.float32 for p in net.parameters())
