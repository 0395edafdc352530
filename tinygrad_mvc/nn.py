"""Neural-network building blocks: Module, Linear, MLP, Sequential and activation modules.

A :class:`Module` finds its parameters by looking at its attributes: a Tensor that requires grad is a
parameter, a Module is a child, and lists, tuples and dicts of those are searched too. There is no
registration step and no special Parameter class.

>>> import tinygrad_mvc as tg
>>> net = tg.nn.MLP([2, 4, 1], activation="tanh", rng=0)
>>> [name for name, _ in net.named_parameters()]
['layers.0.weight', 'layers.0.bias', 'layers.2.weight', 'layers.2.bias']
>>> net(tg.zeros(5, 2)).shape
(5, 1)
"""

from __future__ import annotations

import errno
import io
import math
import os
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from . import engine, ops
from ._atomic import write_atomic
from .creation import as_rng
from .tensor import Tensor

__all__ = ["Module", "Linear", "MLP", "Sequential", "Tanh", "ReLU", "Sigmoid", "Identity", "Dropout",
           "activation_module"]


class Module:
    """Base class of layers and networks: subclasses set attributes in ``__init__`` and define ``forward``.

    ``parameters()`` walks the attributes in the order they were set, depth first, and yields each
    Tensor once even when it is reachable twice (a layer used twice is one set of weights).

    >>> class Affine(Module):
    ...     def __init__(self):
    ...         self.scale = Tensor([2.0], requires_grad=True)
    ...         self.shift = Tensor([1.0], requires_grad=True)
    ...     def forward(self, x):
    ...         return x * self.scale + self.shift
    >>> m = Affine()
    >>> m(Tensor([3.0])).item()
    7.0
    >>> list(m.state_dict())
    ['scale', 'shift']
    """

    training: bool = True  # a class default: subclasses need not call Module.__init__

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # ------------------------------------------------------------------ parameters
    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Tensor]]:
        """``(dotted name, tensor)`` for every parameter, in a fixed order, each tensor once."""
        seen: set[int] = set()
        # An explicit stack, not recursion: the walk order is attribute order, depth first.
        stack: list[tuple[str, Any]] = [(prefix, self)]
        while stack:
            name, obj = stack.pop()
            if isinstance(obj, Tensor):
                if obj.requires_grad and id(obj) not in seen:
                    seen.add(id(obj))
                    yield name, obj
                continue
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            children = _children(obj)
            stack.extend((f"{name}.{key}" if name else str(key), child) for key, child in reversed(children))

    def parameters(self) -> list[Tensor]:
        """Every parameter once, in the order of :meth:`named_parameters`."""
        return [p for _, p in self.named_parameters()]

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients of every parameter: ``.grad = None``, or zeros with ``set_to_none=False``
        (PyTorch's option)."""
        for p in self.parameters():
            if set_to_none or p.grad is None:
                p.grad = None
            elif p.grad.requires_grad:  # a gradient made with create_graph: replaced, not changed in place
                p.grad = Tensor(np.zeros_like(p.grad.data))
            else:
                p.grad.zero_()

    def num_parameters(self) -> int:
        """The number of scalar parameters."""
        return sum(p.size for p in self.parameters())

    # ------------------------------------------------------------------ training and evaluation modes
    def train(self, mode: bool = True) -> Module:
        """Set ``training = mode`` on this module and every module inside it; returns the module.

        Layers that behave differently while training (:class:`Dropout`) read ``self.training``.

        >>> net = Sequential(Linear(2, 2, rng=0), Dropout(0.5))
        >>> net.eval() is net, net[1].training, net.train().layers[1].training
        (True, False, True)
        """
        if not isinstance(mode, bool):
            raise TypeError(f"{type(self).__name__}.train: mode must be True or False, got {mode!r}")
        for module in _all_modules(self):
            module.training = mode
        return self

    def eval(self) -> Module:
        """``train(False)``: evaluation mode (dropout off); returns the module."""
        return self.train(False)

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, np.ndarray]:
        """A copy of every parameter's values, by name (the order of :meth:`named_parameters`)."""
        return {name: p.data.copy() for name, p in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, Any]) -> Module:
        """Copy ``state``'s values into the parameters in place; names and shapes must match exactly.

        Nothing is changed unless everything matches, so a failed load leaves the module as it was.
        """
        mine = dict(self.named_parameters())
        mismatch = _name_mismatch(mine, state, type(self).__name__)
        if mismatch:
            raise ValueError(f"load_state_dict: {mismatch}")
        values = {}
        for name, p in mine.items():
            value = np.asarray(state[name])
            if value.shape != p.shape:
                raise ValueError(f"load_state_dict: parameter {name!r} has shape {p.shape} in "
                                 f"{type(self).__name__}, but the state gives shape {value.shape}")
            if value.dtype.kind not in "fiu":
                raise ValueError(f"load_state_dict: parameter {name!r}: values of dtype {value.dtype} are not numbers")
            values[name] = value
        for name, p in mine.items():
            p.data[...] = values[name]
            engine.mark_modified(p)  # a graph recorded with the old values refuses to backpropagate
        return self

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the parameters to ``path`` as ``.npz``, atomically and durably; returns the path written.

        The file is written beside its destination under a temporary name, flushed to the disk
        (``fsync``) and renamed over it, and the folder is flushed after the rename: a failure part-way
        (full disk, interrupt, power cut) leaves any previous file intact. A replaced file keeps its
        permission bits; a new one gets ``0o666 & ~umask``. An ``OSError`` names ``path``.

        >>> import tempfile
        >>> MLP([2, 3, 1], rng=0).save(Path(tempfile.mkdtemp()) / "net.npz").name
        'net.npz'
        """
        state = self.state_dict()
        return write_atomic(path, lambda f: np.savez(f, **state))

    def load(self, path: str | os.PathLike[str]) -> Module:
        """Fill this module's parameters from a file written by :meth:`save`; returns the module.

        Checked before any data is read: the file is a ``.npz`` archive (a ``.npy`` file, a
        truncated, corrupt or foreign file is a ``ValueError`` naming the file and what is wrong),
        its entries are exactly this module's parameters, and each entry's header gives the
        parameter's shape and a numeric dtype (no objects, no pickles). So a small file cannot make
        ``load`` allocate more than the module's own size. Nothing is changed unless everything
        matches: a failed load leaves the module as it was. A missing file is ``FileNotFoundError``;
        other I/O errors are ``OSError``.
        """
        state = _read_npz(path, self)
        try:
            return self.load_state_dict(state)
        except ValueError as e:
            raise ValueError(f"load: {path}: {str(e).removeprefix('load_state_dict: ')}") from None

    def __repr__(self) -> str:
        inner = [f"  ({key}): {_indent(repr(child))}" for key, child in _submodules(self)]
        extra = self._extra_repr()
        if not inner:
            return f"{type(self).__name__}({extra})"
        return f"{type(self).__name__}({extra}\n" + "\n".join(inner) + "\n)"

    def _extra_repr(self) -> str:
        return ""


def _name_mismatch(mine: Mapping[str, Any], given: Any, owner: str) -> str:
    """'' if ``given`` (names) are exactly the parameter names of ``mine``, else what is missing and unexpected."""
    missing = [name for name in mine if name not in given]
    unexpected = [name for name in given if name not in mine]
    if not missing and not unexpected:
        return ""
    parts = []
    if missing:
        parts.append(f"missing {', '.join(missing)}")
    if unexpected:
        parts.append(f"unexpected {', '.join(unexpected)}")
    return f"the state does not fit {owner}: {'; '.join(parts)}"


# ---------------------------------------------------------------------- reading parameter files

NPY_MAGIC = b"\x93NUMPY"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")  # a zip starts with a member, or is empty


class _Refused(ValueError):
    """A parameter file that does not fit the module, with the reason (the caller adds the file's name)."""


class _Capped(io.BufferedReader):
    """A file whose reads never ask for more bytes than are left in it.

    zipfile reads sizes straight from the archive's directory (``read(size_cd)``), and a buffered
    ``read(n)`` allocates ``n`` bytes first: a corrupt or hostile size field in a tiny file must not
    become a gigabyte allocation.
    """

    def __init__(self, raw: io.FileIO) -> None:
        super().__init__(raw)
        self._size = os.fstat(raw.fileno()).st_size

    def read(self, size: int | None = -1) -> bytes:
        rest = max(self._size - self.tell(), 0)
        return super().read(rest if size is None or size < 0 else min(size, rest))


def _read_npz(path: str | os.PathLike[str], module: Module) -> dict[str, np.ndarray]:
    """The arrays of a ``.npz`` file written by :meth:`Module.save`, checked against ``module`` entry by entry.

    Each entry's ``.npy`` header (shape, dtype) is read and checked before its data, and exactly
    the bytes that shape and dtype need are read, so nothing bigger than the module is allocated.
    """
    where = f"load: {path}"
    mine = dict(module.named_parameters())
    with _Capped(io.FileIO(path, "rb")) as f:  # a missing file, a folder, no permission: OSError as usual
        head = f.read(8)
        if not head:
            raise ValueError(f"{where}: the file is empty; expected a .npz archive written by Module.save")
        if head.startswith(NPY_MAGIC):
            raise ValueError(f"{where}: this is a .npy file (a single array); Module.load expects a .npz archive "
                             f"written by Module.save")
        if not head.startswith(ZIP_MAGICS):
            raise ValueError(f"{where}: not a parameter file written by Module.save (a .npz archive is expected, "
                             f"and this file does not start with the zip signature)")
        f.seek(0)
        try:
            return _read_entries(f, mine, type(module).__name__)
        except _Refused as e:
            raise ValueError(f"{where}: {e}") from None
        except OSError as e:
            if e.errno not in (None, errno.EINVAL):  # a real I/O error, not a bad offset in the file
                raise
            raise ValueError(f"{where}: the file is damaged ({_why(e)}); it is not a complete file written by "
                             f"Module.save") from None
        except Exception as e:  # BadZipFile, zlib.error, EOFError, struct.error, a bad .npy header, ...
            raise ValueError(f"{where}: the file is truncated or damaged ({_why(e)}); it is not a complete file "
                             f"written by Module.save") from None


def _why(err: BaseException) -> str:
    text = " ".join(str(err).split())
    if isinstance(err, zipfile.BadZipFile) and text == "File is not a zip file":
        text = "the zip directory at its end is missing"
    return f"{type(err).__name__}: {text[:200]}" if text else type(err).__name__


def _read_entries(f: BinaryIO, mine: dict[str, Tensor], owner: str) -> dict[str, np.ndarray]:
    import warnings

    with zipfile.ZipFile(f) as archive:
        infos = archive.infolist()
        names = [info.filename for info in infos]
        for name in names:
            if not name.endswith(".npy"):
                raise _Refused(f"entry {name!r} is not a .npy array; not a file written by Module.save")
            if names.count(name) > 1:
                raise _Refused(f"entry {name!r} appears twice")
        keys = [name[:-len(".npy")] for name in names]
        mismatch = _name_mismatch(mine, keys, owner)
        if mismatch:
            raise _Refused(mismatch)
        state = {}
        for info, key in zip(infos, keys):
            want = mine[key].shape
            with archive.open(info) as member:
                version = np.lib.format.read_magic(member)
                with warnings.catch_warnings():
                    warnings.simplefilter("error")  # a header that needs numpy's Python 2 repairs is damaged
                    if version == (1, 0):
                        shape, fortran, dtype = np.lib.format.read_array_header_1_0(member)
                    elif version == (2, 0):
                        shape, fortran, dtype = np.lib.format.read_array_header_2_0(member)
                    else:
                        raise _Refused(f"entry {key!r}: .npy format version {version} is not one Module.save writes")
                if dtype.hasobject:
                    raise _Refused(f"parameter {key!r}: entries of dtype {dtype} hold Python objects (pickles), "
                                   f"which are never loaded")
                if dtype.kind not in "fiu" or dtype.fields is not None or dtype.subdtype is not None:
                    raise _Refused(f"parameter {key!r}: values of dtype {dtype} are not numbers")
                if tuple(shape) != want:
                    raise _Refused(f"parameter {key!r} has shape {want} in {owner}, but the file gives shape "
                                   f"{tuple(shape)}")
                nbytes = math.prod(want) * dtype.itemsize
                # One byte more than needed: a longer entry is wrong too, and reaching the end checks the CRC.
                data = member.read(nbytes + 1)
            if len(data) != nbytes:
                what = "is cut short" if len(data) < nbytes else "holds more data than"
                raise _Refused(f"parameter {key!r}: the entry {what} its header's shape {want} and dtype {dtype} "
                               f"({nbytes} bytes); the file is damaged")
            state[key] = np.frombuffer(data, dtype=dtype).reshape(want, order="F" if fortran else "C")
        return state


def _children(obj: Any) -> list[tuple[str, Any]]:
    """The named things inside a module, list, tuple or dict that may hold parameters."""
    if isinstance(obj, Module):
        items = list(vars(obj).items())
    elif isinstance(obj, (list, tuple)):
        items = [(str(i), v) for i, v in enumerate(obj)]
    elif isinstance(obj, dict):
        items = [(str(k), v) for k, v in obj.items()]
    else:
        return []
    return [(k, v) for k, v in items if isinstance(v, (Tensor, Module, list, tuple, dict))]


def _all_modules(root: Module) -> Iterator[Module]:
    """``root`` and every module inside it (in attributes, lists, tuples and dicts), each once."""
    seen: set[int] = set()
    stack: list[Any] = [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, Tensor):
            continue
        seen.add(id(obj))
        if isinstance(obj, Module):
            yield obj
        stack.extend(child for _, child in _children(obj))


def _submodules(module: Module) -> list[tuple[str, Module]]:
    """Direct child modules by name, looking inside lists and dicts (``layers.0``, ``layers.1``, ...)."""
    found, todo = [], list(_children(module))
    while todo:
        key, child = todo.pop(0)
        if isinstance(child, Module):
            found.append((key, child))
        elif not isinstance(child, Tensor):
            todo[:0] = [(f"{key}.{k}", v) for k, v in _children(child)]
    return found


def _indent(text: str) -> str:
    return text.replace("\n", "\n  ")


# ---------------------------------------------------------------------- layers

class Linear(Module):
    """``y = x @ weight + bias``, with ``weight`` of shape ``(in_features, out_features)``.

    Initialisation: every entry of ``weight`` and ``bias`` is drawn uniformly from
    ``[-1/√in_features, 1/√in_features]`` (PyTorch's default for ``nn.Linear``), from ``rng`` (a seed or
    a ``np.random.Generator``; None draws fresh entropy). The weight is stored input-major, so the
    forward pass is one ``matmul`` with no transpose.

    **The course's notation.** The course writes a layer as ``a⁽ᴸ⁾ = σ(W⁽ᴸ⁾ a⁽ᴸ⁻¹⁾ + b⁽ᴸ⁾)`` with
    ``W`` of shape (out, in), ``b`` a column and the m examples as the columns of ``A`` (shape
    (in, m)). Here examples are rows (PyTorch's and NumPy's habit): ``X = A.T``, ``weight = W.T``,
    ``bias = b.ravel()``, and ``layer(X) = (W A + b).T``. :meth:`from_course` builds a layer from the
    course's ``W`` and ``b``; ``layer.weight.data.T`` gives ``W`` back.

    >>> layer = Linear(3, 2, rng=0)
    >>> layer.weight.shape, layer.bias.shape
    ((3, 2), (2,))
    >>> layer(np.ones((4, 3))).shape
    (4, 2)
    >>> W, b, A = np.array([[1.0, 2.0, 0.0], [0.0, 1.0, -1.0]]), np.array([[0.5], [0.0]]), np.ones((3, 4))
    >>> course = Linear.from_course(W, b)
    >>> np.array_equal(course(A.T).data.T, W @ A + b)
    True
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, rng: Any = None,
                 dtype: Any = np.float64) -> None:
        for what, n in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
                raise ValueError(f"Linear: {what} must be a positive integer, got {n!r}")
        self.in_features, self.out_features = int(in_features), int(out_features)
        gen = as_rng(rng)
        bound = 1.0 / np.sqrt(in_features)
        self.weight = Tensor(gen.uniform(-bound, bound, (in_features, out_features)).astype(dtype),
                             requires_grad=True)
        self.bias = (Tensor(gen.uniform(-bound, bound, out_features).astype(dtype), requires_grad=True)
                     if bias else None)

    @classmethod
    def from_course(cls, W: Any, b: Any = None) -> Linear:
        """A layer from the course's ``W`` (shape (out, in)) and ``b`` (a column (out, 1) or a vector).

        ``layer(A.T).T`` then equals ``W @ A + b`` for examples in the columns of ``A``.
        """
        W = np.array(W.data if isinstance(W, Tensor) else W, dtype=np.float64)
        if W.ndim != 2:
            raise ValueError(f"Linear.from_course: W must be a matrix of shape (out, in), got shape {W.shape}")
        out_features, in_features = W.shape
        layer = cls(in_features, out_features, bias=b is not None, rng=0)
        layer.weight.data[...] = W.T
        if b is not None:
            b = np.array(b.data if isinstance(b, Tensor) else b, dtype=np.float64)
            if b.size != out_features or (b.ndim == 2 and b.shape[1] != 1) or b.ndim > 2:
                raise ValueError(f"Linear.from_course: b must be a column of shape ({out_features}, 1) or a vector "
                                 f"of {out_features} entries for W of shape {W.shape}, got shape {b.shape}")
            layer.bias.data[...] = b.reshape(-1)
        return layer

    def forward(self, x: Any) -> Tensor:
        shape = x.data.shape if isinstance(x, Tensor) else np.shape(x)
        if not shape or shape[-1] != self.in_features:
            raise ValueError(f"Linear({self.in_features}, {self.out_features}): input of shape {shape} needs "
                             f"its last axis of size {self.in_features}")
        if self.bias is None:
            return ops.matmul(x, self.weight)
        if len(shape) >= 2:
            return ops.linear(x, self.weight, self.bias)  # one node for x @ weight + bias
        return ops.matmul(x, self.weight) + self.bias

    def _extra_repr(self) -> str:
        return f"{self.in_features}, {self.out_features}, bias={self.bias is not None}"


class Sequential(Module):
    """Modules (or functions of one Tensor) applied one after another.

    >>> net = Sequential(Linear(2, 3, rng=0), Tanh(), Linear(3, 1, rng=1))
    >>> net(np.zeros((4, 2))).shape
    (4, 1)
    """

    def __init__(self, *modules: Module | Callable[[Tensor], Tensor]) -> None:
        for i, m in enumerate(modules):
            if not callable(m):
                raise TypeError(f"Sequential: item {i} is a {type(m).__name__}, not a module or function")
        self.layers = list(modules)

    def forward(self, x: Any) -> Any:
        for layer in self.layers:
            x = layer(x)
        return x

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, i: int) -> Any:
        return self.layers[i]


class Tanh(Module):
    """Elementwise ``tanh``."""

    def forward(self, x: Any) -> Tensor:
        return ops.tanh(x)


class ReLU(Module):
    """Elementwise ``max(x, 0)``; its derivative at 0 is taken as 0."""

    def forward(self, x: Any) -> Tensor:
        return ops.relu(x)


class Sigmoid(Module):
    """Elementwise ``1 / (1 + exp(-x))``."""

    def forward(self, x: Any) -> Tensor:
        return ops.sigmoid(x)


class Identity(Module):
    """Returns its input: the activation of a linear network."""

    def forward(self, x: Any) -> Any:
        return x


class Dropout(Module):
    """Inverted dropout: while training, each entry is zeroed with probability ``p`` and the others are
    scaled by ``1 / (1 - p)``, so the expected output is the input; in evaluation mode it is the identity.

    ``rng`` (a seed or a ``np.random.Generator``) draws the masks, so a seeded network drops the same
    entries every run. The mask is a constant of the graph: the gradient is the same mask times ``g``.

    >>> drop, x = Dropout(0.5, rng=0), Tensor(np.ones(6))
    >>> drop(x)
    Tensor([2., 0., 0., 0., 2., 2.])
    >>> drop.eval()(x) is x
    True
    """

    def __init__(self, p: float = 0.5, rng: Any = None) -> None:
        if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)) or not 0 <= p <= 1:
            raise ValueError(f"Dropout: p is the probability of zeroing an entry and must lie in [0, 1], got {p!r}")
        self.p = float(p)
        self.rng = as_rng(rng)

    def forward(self, x: Any) -> Any:
        if not self.training or self.p == 0:
            return x
        data = x.data if isinstance(x, Tensor) else np.asarray(x)
        dtype = data.dtype if data.dtype.kind == "f" else np.float64
        if self.p == 1:
            scale = np.zeros(data.shape, dtype=dtype)
        else:
            keep = self.rng.random(data.shape) >= self.p
            scale = (keep / (1 - self.p)).astype(dtype)
        return ops.mul(x, scale)

    def _extra_repr(self) -> str:
        return f"p={self.p}"


ACTIVATIONS: dict[str, type[Module]] = {"tanh": Tanh, "relu": ReLU, "sigmoid": Sigmoid, "identity": Identity,
                                        "linear": Identity}


def activation_module(spec: str | Module | type[Module]) -> Module:
    """An activation module from its name (``"tanh"``, ``"relu"``, ``"sigmoid"``, ``"identity"``) or class."""
    if isinstance(spec, Module):
        return spec
    if isinstance(spec, type) and issubclass(spec, Module):
        return spec()
    if isinstance(spec, str) and spec.lower() in ACTIVATIONS:
        return ACTIVATIONS[spec.lower()]()
    raise ValueError(f"activation_module: unknown activation {spec!r}; use one of {', '.join(ACTIVATIONS)} or a Module")


class MLP(Sequential):
    """A multilayer perceptron: ``Linear`` layers of the given sizes with an activation between them.

    The last layer is linear unless ``output_activation`` names one (``"sigmoid"`` for probabilities,
    say), so by default the network outputs scores or logits. ``rng`` seeds all the layers in turn,
    so ``MLP(sizes, rng=0)`` is the same network every time.

    >>> net = MLP([2, 16, 16, 1], activation="relu", rng=0)
    >>> net.num_parameters()
    337
    >>> float(MLP([2, 3, 1], "tanh", "sigmoid", rng=0)(np.zeros((1, 2))).data[0, 0]) < 1
    True
    """

    def __init__(self, sizes: Sequence[int], activation: str | Module | type[Module] = "tanh",
                 output_activation: str | Module | type[Module] | None = None, *, rng: Any = None,
                 dtype: Any = np.float64) -> None:
        sizes = list(sizes)
        if len(sizes) < 2:
            raise ValueError(f"MLP: sizes must list at least the input and output sizes, got {sizes}")
        if isinstance(output_activation, (int, np.integer, np.random.Generator)):
            raise TypeError(f"MLP: the third argument is output_activation, got {output_activation!r}; "
                            f"give the seed as rng=... (MLP(sizes, activation, rng=0))")
        activation_module(activation)  # checked even when there is no hidden layer to use it
        last = None if output_activation is None else activation_module(output_activation)
        gen = as_rng(rng)
        layers: list[Module] = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(Linear(n_in, n_out, rng=gen, dtype=dtype))
            if i < len(sizes) - 2:
                layers.append(activation_module(activation))
        if last is not None:
            layers.append(last)
        super().__init__(*layers)
        self.sizes = sizes

    def _extra_repr(self) -> str:
        return f"sizes={self.sizes}"
