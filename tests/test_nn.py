"""tg.nn: parameter discovery, order and sharing; layers; state, save and load."""

from __future__ import annotations

import os
from pathlib import Path

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


# --------------------------------------------------------------------------- hostile and damaged model files

SMALL = [2, 3, 1]


def saved_small(tmp_path):
    net = nn.MLP(SMALL, rng=0)
    return net, net.save(tmp_path / "net.npz")


def assert_refused(path, match=None):
    """``load`` raises ValueError naming the file, and the module it was loading into is unchanged."""
    target = nn.MLP(SMALL, rng=7)
    before = target.state_dict()
    with pytest.raises(ValueError) as info:
        target.load(path)
    message = str(info.value)
    assert str(path) in message, message
    if match is not None:
        assert __import__("re").search(match, message), message
    for name, value in target.state_dict().items():
        np.testing.assert_array_equal(value, before[name])
    return message


@pytest.mark.parametrize("cut", [0, 1, 4, 8, 30, 64, 120, 200, "half", "-46", "-22", "-1"])
def test_truncated_files_are_value_errors_naming_the_file(tmp_path, cut):
    _, path = saved_small(tmp_path)
    data = path.read_bytes()
    n = len(data) // 2 if cut == "half" else len(data) + int(cut) if isinstance(cut, str) else cut
    path.write_bytes(data[:n])
    message = assert_refused(path)
    assert ("empty" if n == 0 else "not a parameter file" if n < 4 else "truncated or damaged") in message


@pytest.mark.parametrize("mask", [0xFF, 0x01])
def test_every_flipped_byte_is_refused_or_changes_nothing_that_is_read(tmp_path, mask):
    net, path = saved_small(tmp_path)
    data = path.read_bytes()
    want = net.state_dict()
    bad = tmp_path / "flipped.npz"
    refused = 0
    for i in range(len(data)):
        flipped = bytearray(data)
        flipped[i] ^= mask
        bad.write_bytes(bytes(flipped))
        target = nn.MLP(SMALL, rng=7)
        before = target.state_dict()
        try:
            target.load(bad)
        except ValueError as e:  # never BadZipFile, zlib.error, EOFError, NotImplementedError, ...
            assert str(bad) in str(e)
            for name, value in target.state_dict().items():
                np.testing.assert_array_equal(value, before[name])
            refused += 1
        else:  # a byte nobody reads (a timestamp, a version field): the values must be exactly the saved ones
            for name, value in target.state_dict().items():
                np.testing.assert_array_equal(value, want[name], err_msg=f"byte {i} flipped")
    assert refused > len(data) // 2  # every byte of the arrays and their headers is covered by the CRC


def test_a_npy_file_is_refused_saying_npz_is_expected(tmp_path):
    path = tmp_path / "weights.npy"
    np.save(path, np.zeros((2, 3)))
    assert_refused(path, r"\.npy file.*\.npz archive")


@pytest.mark.parametrize("content", [b"hello", b"\x00" * 100, b"\x1f\x8b\x08\x00gzip", b"PK\x03\x04" + b"\x00" * 10])
def test_files_that_are_not_npz_archives(tmp_path, content):
    path = tmp_path / "other.npz"
    path.write_bytes(content)
    assert_refused(path, "not a parameter file|truncated or damaged")


def test_a_folder_or_a_missing_file_is_an_oserror_not_a_format_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        nn.MLP(SMALL).load(tmp_path / "missing.npz")
    (tmp_path / "dir.npz").mkdir()
    with pytest.raises(IsADirectoryError):
        nn.MLP(SMALL).load(tmp_path / "dir.npz")


def npy_bytes(header: dict, data: bytes = b"") -> bytes:
    """A .npy member written by hand: a header that may claim anything, then ``data``."""
    import io

    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, header)
    return buf.getvalue() + data


def write_zip(path, members: dict[str, bytes]):
    import zipfile

    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def honest_members(net) -> dict[str, bytes]:
    members = {}
    for name, value in net.state_dict().items():
        members[f"{name}.npy"] = npy_bytes(np.lib.format.header_data_from_array_1_0(value), value.tobytes())
    return members


def test_a_tiny_file_whose_header_claims_1e11_entries_allocates_nothing(tmp_path):
    import tracemalloc

    net = nn.MLP(SMALL, rng=0)
    members = honest_members(net)
    huge = {"descr": "<f8", "fortran_order": False, "shape": (10 ** 11,)}
    for name in ["layers.0.weight", "layers.2.bias"]:  # the first entry, and the last
        crafted = dict(members, **{f"{name}.npy": npy_bytes(huge)})
        path = write_zip(tmp_path / f"huge_{name}.npz", crafted)
        assert path.stat().st_size < 1500
        tracemalloc.start()
        try:
            message = assert_refused(path, rf"'{name}' has shape \(\d, \d\)|'{name}' has shape \(\d,\)")
        finally:
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        assert "100000000000" in message
        assert peak < 2 ** 20, f"load allocated {peak} bytes for a {path.stat().st_size}-byte file"


def test_a_right_header_with_missing_data_is_cut_short(tmp_path):
    net = nn.MLP(SMALL, rng=0)
    members = honest_members(net)
    w = net.state_dict()["layers.0.weight"]
    members["layers.0.weight.npy"] = npy_bytes(np.lib.format.header_data_from_array_1_0(w), w.tobytes()[:-8])
    assert_refused(write_zip(tmp_path / "short.npz", members), "'layers.0.weight'.*cut short")
    members["layers.0.weight.npy"] = npy_bytes(np.lib.format.header_data_from_array_1_0(w), w.tobytes() + b"x" * 8)
    assert_refused(write_zip(tmp_path / "long.npz", members), "'layers.0.weight'.*more data")


def test_a_zip_directory_claiming_gigabytes_allocates_nothing(tmp_path):
    import struct
    import tracemalloc

    _, path = saved_small(tmp_path)
    data = bytearray(path.read_bytes())
    end = data.rindex(b"PK\x05\x06")
    for offset, value in [(12, 0xFFFFFF00), (16, 0xFFFFFF00), (12, 0x7FFFFFFF)]:  # directory size, its offset
        bad = bytearray(data)
        bad[end + offset:end + offset + (4 if value > 0xFFFF else 2)] = struct.pack(
            "<I" if value > 0xFFFF else "<H", value)
        crafted = tmp_path / f"eocd{offset}.npz"
        crafted.write_bytes(bytes(bad))
        tracemalloc.start()
        try:
            assert_refused(crafted)
        finally:
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        assert peak < 2 ** 20, f"offset {offset}: load allocated {peak} bytes"


@pytest.mark.parametrize("array, match", [
    (np.array([[None, 1, 2], [3, 4, 5]], dtype=object), "objects"),
    (np.zeros((2, 3), dtype=bool), "not numbers"),
    (np.zeros((2, 3), dtype="U3"), "not numbers"),
    (np.zeros((2, 3), dtype=[("a", "<f8")]), "not numbers"),
])
def test_object_string_and_structured_entries_are_refused(tmp_path, array, match):
    net = nn.MLP(SMALL, rng=0)
    state = dict(net.state_dict(), **{"layers.0.weight": array})
    path = tmp_path / "odd.npz"
    np.savez(path, **state)  # an object array goes in as a pickle
    message = assert_refused(path, match)
    assert "'layers.0.weight'" in message


def test_entries_that_are_not_arrays_or_appear_twice_are_refused(tmp_path):
    import warnings

    net = nn.MLP(SMALL, rng=0)
    members = honest_members(net)
    assert_refused(write_zip(tmp_path / "extra.npz", dict(members, **{"README.txt": b"hi"})), "'README.txt'")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name it is asked to write
        import zipfile

        with zipfile.ZipFile(tmp_path / "twice.npz", "w") as z:
            for name, data in members.items():
                z.writestr(name, data)
            z.writestr("layers.0.bias.npy", members["layers.0.bias.npy"])
    assert_refused(tmp_path / "twice.npz", "appears twice")


def test_compressed_and_big_endian_files_still_load(tmp_path):
    net = nn.MLP(SMALL, rng=0)
    np.savez_compressed(tmp_path / "c.npz", **{k: v.astype(">f8") for k, v in net.state_dict().items()})
    target = nn.MLP(SMALL, rng=1).load(tmp_path / "c.npz")
    for name, value in target.state_dict().items():
        np.testing.assert_array_equal(value, net.state_dict()[name])


# --------------------------------------------------------------------------- how save writes

def test_save_fsyncs_the_file_renames_it_then_fsyncs_the_folder(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def replace(src, dst):
        events.append(("replace", str(src), str(dst)))
        real_replace(src, dst)

    if not os.path.isdir("/proc/self/fd"):
        pytest.skip("needs /proc/self/fd to see which file was flushed")
    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    path = nn.MLP(SMALL, rng=0).save(tmp_path / "net.npz")
    assert [e[0] for e in events] == ["fsync", "replace", "fsync"], events
    tmp = events[1][1]
    assert events[0][1] == tmp and events[1][2] == str(path) and tmp != str(path)
    assert Path(tmp).parent == tmp_path and events[2][1] == str(tmp_path)


def test_save_keeps_the_permission_bits_of_the_file_it_replaces(tmp_path):
    path = tmp_path / "net.npz"
    for mode in (0o640, 0o604, 0o444):
        path.unlink(missing_ok=True)
        path.write_bytes(b"old")
        path.chmod(mode)
        nn.MLP(SMALL, rng=0).save(path)
        assert path.stat().st_mode & 0o7777 == mode
        nn.MLP(SMALL, rng=1).load(path)  # the whole new file is there


@pytest.mark.parametrize("umask", [0o022, 0o027, 0o002])
def test_a_new_file_gets_the_usual_permissions_not_0600(tmp_path, umask):
    old = os.umask(umask)
    try:
        path = nn.MLP(SMALL, rng=0).save(tmp_path / "net.npz")
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o7777 == 0o666 & ~umask


def test_save_errors_name_the_users_path_not_the_temporary_file(tmp_path):
    path = tmp_path / "no" / "such" / "folder" / "net.npz"
    with pytest.raises(FileNotFoundError) as info:
        nn.MLP(SMALL).save(path)
    assert info.value.filename == str(path) and str(path) in str(info.value) and ".tmp" not in str(info.value)


def test_save_into_a_read_only_folder_names_the_path(tmp_path):
    from fs_helpers import read_only_folder

    folder = read_only_folder(tmp_path / "ro")
    try:
        with pytest.raises(PermissionError) as info:
            nn.MLP(SMALL).save(folder / "net.npz")
        assert str(folder / "net.npz") in str(info.value) and ".tmp" not in str(info.value)
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o755)


TMPFS_SCRIPT = r'''
import json, os, subprocess, sys
from pathlib import Path
import numpy as np
import tinygrad_mvc as tg

folder = Path(sys.argv[1])
path = folder / "net.npz"
small = tg.nn.MLP([2, 3, 1], rng=0)
small.save(path)
before = path.read_bytes()
out = {}

def attempt(key, net):
    try:
        net.save(path)
        out[key] = None
    except OSError as e:
        out[key] = [type(e).__name__, e.errno, str(e), e.filename]
    out[key + "_intact"] = path.read_bytes() == before
    out[key + "_listing"] = sorted(os.listdir(folder))

attempt("full", tg.nn.MLP([100, 100, 1], rng=1))  # 80 kB of parameters on a 64 KiB file system
restored = tg.nn.MLP([2, 3, 1], rng=5).load(path)
out["restored"] = bool(np.array_equal(restored[0].weight.data, small[0].weight.data))
subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
attempt("ro", tg.nn.MLP([2, 3, 1], rng=2))
print(json.dumps(out))
'''


def test_save_on_a_full_and_on_a_read_only_tmpfs(tmp_path):
    import errno

    from fs_helpers import run_on_tmpfs

    folder = tmp_path / "mnt"
    out = run_on_tmpfs(folder, TMPFS_SCRIPT, size_kib=64)
    path = str(folder / "net.npz")
    for key, code, cls in [("full", errno.ENOSPC, "OSError"), ("ro", errno.EROFS, "OSError")]:
        assert out[key] is not None, f"{key}: the save did not fail"
        name, got, message, filename = out[key]
        assert (name, got) == (cls, code), out[key]
        assert filename == path and path in message and ".tmp" not in message, message
        assert out[key + "_intact"] and out[key + "_listing"] == ["net.npz"], out
    assert out["restored"]
