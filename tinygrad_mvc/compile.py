"""``tg.compile(fn)``: trace a function once per input signature, then replay a flat schedule of NumPy calls.

JAX's ``jit`` and tinygrad's ``TinyJit`` are the models. The first call with a given signature (the
shapes and dtypes of the array and Tensor arguments, the values of the others, and the gradient
mode) runs ``fn`` eagerly while recording every primitive it calls: the forward functions of the ops,
the ops that a ``backward()`` inside ``fn`` runs for its rules, the gradients it accumulates into
leaves, ``.grad`` resets (``zero_grad``) and ``SGD``/``Adam`` steps. That record becomes one Python
function of straight-line NumPy calls (``compiled.source`` shows it): later calls with the same
signature run it, with no Tensor objects, no graph and no heap, and give bit-identical results, since
they call the same NumPy functions on the same arrays in the same order. A plain ``SGD`` step (no
momentum) becomes the replay's own NumPy lines on the gradients it just computed, reading ``lr`` and
``weight_decay`` at every call; any other step, or settings changed out of the traced form, call the
real ``step()``.

What is read when: arguments and the ``.data`` of Tensors that require grad (parameters) are read at
every call; other arrays, Tensors and Python values that ``fn`` reads from outside are constants of the
trace (as in JAX). Outputs come back in the same structure, Tensors without a graph.

Where a trace cannot stand for later calls, the call that traced runs as eager code did and ``fn``
stays eager for that signature, with a one-time ``RuntimeWarning`` naming the reason: a Python value or
NumPy array taken from traced data (``bool()``, ``float()``, ``.item()``, ``.numpy()``, ``np.asarray``,
NumPy arithmetic on ``t.data``), a gradient-mode switch, random numbers, an in-place change of a
Tensor, a ``where`` whose condition is traced under ``backward()``, an optimizer step that is not a plain
``SGD``/``Adam`` ``step()``, an output that still carries a graph or cannot be rebuilt.

>>> import tinygrad_mvc as tg
>>> @tg.compile
... def f(x):
...     return (tg.tanh(x) * 2).sum()
>>> round(float(f(np.array([0.5, 1.0]))), 6), round(float(f(np.array([0.0, 1.0]))), 6)  # traced, then replayed
(2.447423, 1.523188)
>>> print(f.source.splitlines()[2])
        v1 = f0(a0)
"""

from __future__ import annotations

import builtins
import functools
import hashlib
import operator
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np

from . import creation, engine, nn, ops, optim, pytree
from .tensor import Tensor, _wrap

__all__ = ["compile", "Compiled"]

_new = object.__new__
_GRAD = Tensor.__dict__["grad"]  # the slot's member descriptor: reads and writes that bypass the trace's hooks
_GRAD_GET, _GRAD_SET = _GRAD.__get__, _GRAD.__set__
_REQUIRES = Tensor.__dict__["requires_grad"]
_REQUIRES_GET, _REQUIRES_SET = _REQUIRES.__get__, _REQUIRES.__set__
_ACTIVE: _Recorder | None = None  # the trace in progress (one at a time, in one thread)
_LOCK = threading.Lock()
_DEBUG = False  # True: print where each trace gave up


# ----------------------------------------------------------------------------- traced arrays
# Every array a recorded op makes (and every argument) is a view of class _Traced while the trace runs.
# Inside an op's forward function it behaves as any array; outside (in fn, in the engine) taking a number
# or doing NumPy arithmetic with it means the value leaves the recorded ops, so the trace gives up.

_SHAPE_ONLY = frozenset({np.shape, np.ndim, np.size, np.iscomplexobj, np.isrealobj, np.may_share_memory,
                         np.shares_memory})


def _watching() -> _Recorder | None:
    rec = _ACTIVE
    if rec is not None and rec.watching():
        return rec
    return None


def _plain(x: Any) -> Any:
    return x.view(np.ndarray) if isinstance(x, _Traced) else x


class _Traced(np.ndarray):
    """An array made by a recorded op during a trace (see the banner above).

    NumPy on it outside an op (``x[:, :2]``, ``x * 2``, ``x.reshape(...)`` on an array argument, or on
    ``t.data``) is recorded as one more call of the replay; what would leave the arrays (a Python number,
    a NumPy scalar, an in-place write) abandons the trace.
    """

    def _check(self, what: str) -> None:
        rec = _watching()
        if rec is not None:
            rec.fail(f"{what} of a traced value inside fn (control flow or a Python number taken from data)")

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if any(isinstance(x, Tensor) for x in inputs):
            return NotImplemented  # ndarray <op> Tensor: the Tensor's own __array_ufunc__ makes it an op
        out = kwargs.get("out")
        if out is not None:
            kwargs["out"] = tuple(_plain(o) for o in out)
        rec = _watching()
        if rec is not None and out is not None:
            rec.fail(f"an in-place NumPy {ufunc.__name__} (out=...) on a traced value inside fn")
        result = getattr(ufunc, method)(*(_plain(x) for x in inputs), **kwargs)
        if out is not None:
            return out[0] if len(out) == 1 else result
        if rec is not None:
            return rec.numpy_call(getattr(ufunc, method), inputs, kwargs, result, f"NumPy's {ufunc.__name__}")
        return result

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        if Tensor in types:
            return NotImplemented  # np.f(..., Tensor, ...): the Tensor's __array_function__ makes it an op
        rec = _watching() if func not in _SHAPE_ONLY else None
        if rec is None:
            return super().__array_function__(func, types, args, kwargs)
        rec.depth += 1  # the NumPy calls inside func are part of this one
        try:
            result = super().__array_function__(func, types, args, kwargs)
        finally:
            rec.depth -= 1
        return rec.numpy_call(func, args, kwargs, result, f"np.{func.__name__}")

    def _method(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        method = getattr(np.ndarray, name)
        result = method(self.view(np.ndarray), *args, **kwargs)
        rec = _watching()
        if rec is not None:
            return rec.numpy_call(method, (self, *args), kwargs, result, f"ndarray.{name}")
        return result

    def reshape(self, *args: Any, **kwargs: Any) -> Any:
        return self._method("reshape", args, kwargs)

    def astype(self, *args: Any, **kwargs: Any) -> Any:
        return self._method("astype", args, kwargs)

    def copy(self, *args: Any, **kwargs: Any) -> Any:
        return self._method("copy", args, kwargs)

    def transpose(self, *args: Any) -> Any:
        return self._method("transpose", args, {})

    def ravel(self, *args: Any) -> Any:
        return self._method("ravel", args, {})

    def flatten(self, *args: Any) -> Any:
        return self._method("flatten", args, {})

    def squeeze(self, *args: Any, **kwargs: Any) -> Any:
        return self._method("squeeze", args, kwargs)

    @property
    def T(self) -> Any:  # noqa: N802 (NumPy's name)
        return self._method("transpose", (), {})

    def __getitem__(self, index: Any) -> Any:
        result = super().__getitem__(index)
        rec = _watching()
        if rec is not None:
            return rec.numpy_call(operator.getitem, (self, index), {}, result, "an entry (t.data[i])")
        return result

    def __setitem__(self, index: Any, value: Any) -> None:
        self._check("an in-place write (t.data[...] = ...)")
        super().__setitem__(index, value)

    def __bool__(self) -> bool:
        self._check("bool()")
        return bool(self.view(np.ndarray))

    def __float__(self) -> float:
        self._check("float()")
        return float(self.view(np.ndarray))

    def __int__(self) -> int:
        self._check("int()")
        return int(self.view(np.ndarray))

    def __index__(self) -> int:
        self._check("an index from")
        return self.view(np.ndarray).__index__()

    def item(self, *args: Any) -> Any:
        self._check(".item()")
        return self.view(np.ndarray).item(*args)

    def tolist(self) -> Any:
        self._check(".tolist()")
        return self.view(np.ndarray).tolist()


def _root(arr: np.ndarray) -> np.ndarray:
    """The array that owns ``arr``'s memory."""
    while isinstance(arr.base, np.ndarray):
        arr = arr.base
    return arr


def _tensor_data(data: Any, dtype: Any) -> np.ndarray:
    """What ``Tensor(data, dtype=dtype)`` stores, without its checks (the trace made them)."""
    arr = np.array(data, dtype=dtype)
    return arr.astype(np.float64) if dtype is None and arr.dtype.kind in "biu" else arr


def _acc(t: Tensor, g: np.ndarray, handed: set[int]) -> np.ndarray:
    """Accumulate ``g`` into leaf ``t``'s ``.grad`` exactly as ``backward()`` does; returns the new gradient."""
    if id(g) in handed or not g.flags.writeable:  # leaves own their gradients (engine._accumulate_leaf)
        g = np.array(g)
    handed.add(id(g))
    cur = _GRAD_GET(t)
    if cur is not None:
        g = cur.data + g
    _GRAD_SET(t, _wrap(g))
    return g


# ----------------------------------------------------------------------------- the recorder

# ----------------------------------------------------------------------------- ops written out in the replay
# The forward functions of a few built-in ops as NumPy expressions for the traced operands ({0}, {1}: the
# operands; {matmul} ...: NumPy's functions), so the replay makes one Python call fewer per op (the op's
# lambda or wrapper). Recorder._inline keeps a form only if it reproduces the traced array exactly.

_NUMPY = {"maximum": np.maximum, "multiply": np.multiply, "matmul": np.matmul, "add": np.add,
          "reduce": np.add.reduce}


def _sum_to_form(x: np.ndarray, shape: tuple[int, ...]) -> str | None:
    lead = x.ndim - len(shape)
    if lead < 0:
        return None
    form = "{0}"
    if lead:
        form = f"{{reduce}}({{0}}, axis={0 if lead == 1 else tuple(range(lead))!r})"
    ones = tuple(i for i, n in enumerate(shape) if n == 1 and x.shape[lead + i] != 1)
    if ones:
        form += f".sum(axis={ones!r}, keepdims=True)"
    return form


def _linear_form(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> str | None:
    if np.result_type(np.result_type(x, w), b) != np.result_type(x, w):
        return None
    return "{add}((_m := {matmul}({0}, {1})), {2}, out=_m)"


_INLINE: dict[str, Callable[..., str | None]] = {
    "relu": lambda x: "{maximum}({0}, 0)",
    "relu_grad": lambda g, x: "{multiply}({0}, {1} > 0)",
    "hinge": lambda s, y: "{maximum}(1 - {0} * {1}, 0)",
    "reshape": lambda x, shape: "{0}.reshape({1})" if isinstance(x, np.ndarray) else None,
    "matmul_nt": lambda x, y: "{matmul}({0}, {1}.T)" if np.ndim(y) == 2 else None,
    "matmul_tn": lambda x, y: "{matmul}({0}.T, {1})" if np.ndim(x) == 2 else None,
    "sum_to": lambda x, shape: _sum_to_form(x, shape) if isinstance(x, np.ndarray) else None,
    "linear": _linear_form,
}


_NO_GRAD, _UNKNOWN = object(), object()  # a leaf's .grad in the replay: known to be None / not known


class _Fallback(Exception):
    """Raised inside the recorder when an operand cannot be expressed (the trace is abandoned)."""


class _Recorder:
    """The record of one tracing call: slots (arrays made by recorded ops), bindings and code lines."""

    def __init__(self) -> None:
        self.thread = threading.get_ident()
        self.depth = 0  # > 0 inside an op's forward function or the recorder's own work
        self.in_backward = 0
        self.in_step = 0
        self.failed: str | None = None
        self.slots: dict[int, str] = {}  # id(array) -> the name of the variable holding it in the replay
        self.keep: list[np.ndarray] = []  # keeps the slot arrays alive, so their ids stay theirs
        self.tensors: list[Tensor] = []  # Tensors whose data was made a _Traced view: made plain again at the end
        self.names: dict[int, str] = {}  # id(object) -> its binding's name
        self.bindings: dict[str, Any] = {}
        # (target, code, uses, has an effect, NumPy's error state if not the caller's): the replay's lines
        self.lines: list[tuple[str | None, str, set[str], bool, Any]] = []
        self.errors = np.geterr()
        self.arg_tensors: dict[int, str] = {}  # id(traced stand-in) -> the argument's name
        self.fresh: set[int] = set()  # leaves that fn made itself (Tensor(..., requires_grad=True))
        self.user_create_graph: list[bool] = []
        self.handed: set[int] = set()
        self.param_data: dict[int, str] = {}  # id(a parameter's array) -> the expression that reads it
        self.reset: set[str] = set()  # leaves made inside fn: their .grad is cleared at the start of a replay
        self.computed: dict[str, str] = {}  # code of a built-in op's call -> its slot (common subexpressions)
        self.plain_acc: dict[int, str] = {}  # index of a line that sets a first gradient -> its _acc form
        self.grad_of: dict[str, Any] = {}  # a leaf's name -> the slot holding its .grad array now, or _NO_GRAD
        self.uses_handed = False

    def watching(self) -> bool:
        return (self.failed is None and self.depth == 0 and self.in_step == 0
                and threading.get_ident() == self.thread)

    def active(self) -> bool:
        return self.failed is None and threading.get_ident() == self.thread

    def fail(self, reason: str) -> None:
        if self.failed is None:
            self.failed = reason
            if _DEBUG:
                import traceback
                traceback.print_stack()

    # ------------------------------------------------------------------ names
    def bind(self, obj: Any, prefix: str) -> str:
        name = self.names.get(id(obj))
        if name is None:
            name = self.names[id(obj)] = f"{prefix}{len(self.bindings)}"
            self.bindings[name] = obj
        return name

    def new_slot(self, t: Tensor | None, arr: np.ndarray, code: str | None, uses: set[str],
                 effect: bool = False, name: str | None = None) -> np.ndarray:
        """Register ``arr`` as a new slot computed by ``code``; ``t.data`` becomes its traced view."""
        view = arr.view(_Traced)
        name = name or f"v{len(self.keep)}"
        self.keep.append(view)
        self.slots[id(view)] = name
        if code is not None:
            self.line(name, code, uses, effect)
        if t is not None:
            t.data = view
            self.tensors.append(t)
        return view

    def tensor_ref(self, t: Tensor) -> str:
        name = self.arg_tensors.get(id(t)) or self.bind(t, "t")
        if id(t) in self.fresh:
            self.reset.add(name)  # a leaf fn makes itself starts each eager call without a gradient
        return name

    def is_slot_tensor(self, t: Any) -> bool:
        return isinstance(t, Tensor) and id(t.data) in self.slots

    # ------------------------------------------------------------------ operands
    def expr(self, obj: Any, uses: set[str]) -> tuple[str, bool]:
        """A Python expression for ``obj`` in the replay, and whether it changes from call to call."""
        if isinstance(obj, Tensor):
            data = obj.data
            name = self.slots.get(id(data))
            if name is not None:
                uses.add(name)
                return name, True
            if obj.requires_grad and id(obj) in self.fresh and id(obj) not in self.arg_tensors:
                # A leaf fn made (or switched requires_grad on for) from traced data, t = x.detach(), say:
                # its value is that data at every call, not the first call's (a parameter would be read).
                alias = self._same_as_slot(data) if isinstance(data, np.ndarray) else None
                if alias is not None:
                    uses.add(alias)
                    return alias, True
            if obj.requires_grad:
                if obj._op is not None:
                    raise _Fallback(f"fn uses a Tensor of shape {obj.shape} made by op '{obj._op.name}' outside the "
                                    f"recorded ops (a graph from outside fn, or an op with its own __call__)")
                ref = self.arg_tensors.get(id(obj)) or self.bind(obj, "t")
                if id(data) not in self.param_data:  # fn may use the array itself too ([p.data for p in ...])
                    self.param_data[id(data)] = f"{ref}.data"
                    self.keep.append(data)
                return f"{ref}.data", True  # a parameter: read at every call
            return self.expr(data, uses)
        if isinstance(obj, np.ndarray):
            name = self.slots.get(id(obj))
            if name is not None:
                uses.add(name)
                return name, True
            name = self.param_data.get(id(obj))
            if name is not None:
                return name, True
            alias = self._alias(obj)
            if alias is not None:
                uses.add(alias)
                return alias, True
            return self.bind(obj, "c"), False
        kind = type(obj)
        if kind in (int, bool) or obj is None or obj is Ellipsis or kind is str:
            return repr(obj), False
        if kind is float and np.isfinite(obj):
            return repr(obj), False
        if kind in (tuple, list):
            parts = [self.expr(x, uses) for x in obj]
            if not any(d for _, d in parts):
                return self.bind(obj, "c"), False
            body = ", ".join(p for p, _ in parts)
            return (f"({body},)" if kind is tuple else f"[{body}]"), True
        if kind is dict:
            parts = {k: self.expr(v, uses) for k, v in obj.items()}
            if not any(d for _, d in parts.values()):
                return self.bind(obj, "c"), False
            return "{" + ", ".join(f"{self.expr(k, uses)[0]}: {p}" for k, (p, _) in parts.items()) + "}", True
        return self.bind(obj, "c"), False

    def _same_as_slot(self, arr: np.ndarray) -> str | None:
        """The slot whose array is ``arr`` viewed again (same memory, shape, strides, dtype), if any."""
        name = self.slots.get(id(arr))
        if name is not None:
            return name
        root, key = _root(arr), (arr.__array_interface__["data"][0], arr.shape, arr.strides, arr.dtype)
        for view in self.keep:
            if (isinstance(view, _Traced) and id(view) in self.slots and _root(view) is root
                    and (view.__array_interface__["data"][0], view.shape, view.strides, view.dtype) == key):
                return self.slots[id(view)]
        return None

    def _alias(self, arr: np.ndarray) -> str | None:
        """The slot ``arr`` is a full view of (``np.asarray(t.data)``), None for an unrelated array."""
        base = arr.base
        while base is not None:
            name = self.slots.get(id(base))
            if name is not None or isinstance(base, _Traced):
                same = (name is not None and base.shape == arr.shape and base.strides == arr.strides
                        and base.dtype == arr.dtype
                        and base.__array_interface__["data"][0] == arr.__array_interface__["data"][0])
                if not same:
                    raise _Fallback("fn passes an op an array computed from traced data with NumPy (a view, a copy "
                                    "or arithmetic on t.data); use Tensor operations")
                return name
            base = getattr(base, "base", None)
        if isinstance(arr, _Traced):
            raise _Fallback("fn passes an op an array computed from traced data with NumPy (a view, a copy or "
                            "arithmetic on t.data); use Tensor operations")
        return None

    # ------------------------------------------------------------------ events
    def op(self, prim: engine.Primitive, args: tuple[Any, ...], kwargs: dict[str, Any], out: Any) -> None:
        if not isinstance(out, Tensor) or id(out.data) in self.slots:
            return  # recorded already (an op that retried itself with stacked operands)
        if getattr(prim, "replayable", True) is False:
            raise _Fallback(f"op '{prim.name}' is marked replayable=False")
        uses: set[str] = set()
        parts = [self.expr(a, uses) for a in args]
        kw = [(k, self.expr(v, uses)) for k, v in kwargs.items()]
        if not any(d for _, d in parts) and not any(d for _, (_, d) in kw):
            return  # only constants: the result is a constant too
        text = ", ".join([p for p, _ in parts] + [f"{k}={p}" for k, (p, _) in kw])
        code = f"{self.bind(prim.fun, 'f')}({text})"
        builtin = ops.TABLE.get(prim.name) is prim
        if builtin and not kwargs and prim.name in _INLINE:
            code = self._inline(prim.name, args, [p for p, _ in parts], out.data) or code
        if builtin:  # a built-in op is a pure function: the same call gives the same array
            same = self.computed.get(code)
            if same is not None:
                self.new_slot(out, out.data, None, set(), name=same)
                return
            self.computed[code] = f"v{len(self.keep)}"
        self.new_slot(out, out.data, code, uses)

    def _inline(self, name: str, args: tuple[Any, ...], exprs: list[str], want: np.ndarray) -> str | None:
        """The op's forward function written out as NumPy calls for the traced shapes (one Python call fewer
        per op in the replay), or None. Kept only if it gives this call's array bit for bit, strides too."""
        raw = [_plain(a.data if isinstance(a, Tensor) else a) for a in args]
        form = _INLINE[name](*raw)
        if form is None:
            return None
        fns = {k: self.bind(f, "f") for k, f in _NUMPY.items()}
        try:
            with np.errstate(**self.errors):
                got = eval(form.format(*[f"_{i}" for i in range(len(raw))], **{k: k for k in fns}),  # noqa: S307
                           {**_NUMPY, **{f"_{i}": r for i, r in enumerate(raw)}})
        except Exception:  # noqa: BLE001 - any failure: keep the op's own function
            return None
        want = _plain(want)
        if not (type(got) is np.ndarray and got.dtype == want.dtype and got.shape == want.shape
                and got.strides == want.strides and got.tobytes() == want.tobytes()):
            return None
        return form.format(*exprs, **fns)

    def numpy_call(self, fn: Any, args: Any, kwargs: dict[str, Any], result: Any, what: str) -> Any:
        """NumPy called on traced arrays outside an op: one more call of the replay (its result a new slot)."""
        if isinstance(result, np.generic):  # kept as a 0-d traced array, so control flow on it is still seen
            result = np.asarray(result)
        if not isinstance(result, np.ndarray):
            self.fail(f"{what} of a traced value gives a {type(result).__name__} inside fn; use Tensor operations")
            return result
        try:
            uses: set[str] = set()
            parts = [self.expr(a, uses)[0] for a in args] + [f"{k}={self.expr(v, uses)[0]}" for k, v in kwargs.items()]
        except _Fallback as e:
            self.fail(str(e))
            return result
        return self.new_slot(None, result, f"{self.bind(fn, 'f')}({', '.join(parts)})", uses)

    def tensor_made(self, t: Tensor, data: Any, dtype: Any) -> None:
        """``Tensor(data)`` inside fn: a copy of a traced value is recorded as an op."""
        if t.requires_grad:
            self.fresh.add(id(t))
        if isinstance(data, (Tensor, np.ndarray)):
            uses: set[str] = set()
            src, dynamic = self.expr(data, uses)
            if dynamic:
                dt = self.expr(dtype, uses)[0]
                self.new_slot(t, t.data, f"{self.bind(_tensor_data, 'f')}({src}, {dt})", uses)
        elif isinstance(data, (list, tuple)) and any(isinstance(x, _Traced) for x in pytree.flatten(data)[0]):
            raise _Fallback("Tensor(...) of a list holding traced arrays; use tg.stack")

    def accumulate(self, t: Tensor, g: Tensor) -> None:
        uses: set[str] = set()
        ref = self.tensor_ref(t)
        src = self.expr(g, uses)[0]
        state = self.grad_of.get(ref, _NO_GRAD if id(t) in self.fresh else _UNKNOWN)
        arr = g.data
        # The first gradient of a leaf known to have none, an array this trace's ops made (owning its data,
        # writeable, given to no other leaf): the leaf takes it as it is, as _acc would, without the call.
        plain = (state is _NO_GRAD and src.startswith("v") and arr.base is not None
                 and arr.base.base is None and type(arr.base) is np.ndarray
                 and arr.flags.writeable and id(arr) not in self.handed)
        self.depth += 1
        try:
            new = _acc(t, arr, self.handed)
        finally:
            self.depth -= 1
        if plain:
            self.new_slot(_GRAD_GET(t), new, None, set(), name=src)
            # build() turns this back into _acc(...) if any later gradient goes through _acc: that one must
            # know which arrays leaves already hold (the replay's _handed), as eager's backward does.
            self.plain_acc[len(self.lines)] = f"_acc({ref}, {src}, _handed)"
            self.line(None, f"_grad_set({ref}, _wrap({src}))", uses, True)
        else:
            self.uses_handed = True
            self.new_slot(_GRAD_GET(t), new, f"_acc({ref}, {src}, _handed)", uses, effect=True)
        self.grad_of[ref] = self.slots[id(_GRAD_GET(t).data)]

    def set_grad(self, t: Tensor, value: Any) -> None:
        uses: set[str] = set()
        ref = self.tensor_ref(t)
        if value is None:
            code = "None"
            self.grad_of[ref] = _NO_GRAD
        elif isinstance(value, Tensor) and id(value.data) in self.slots:
            code = f"_wrap({self.expr(value, uses)[0]})"
            self.grad_of[ref] = self.slots[id(value.data)]
        else:
            code = self.bind(value, "c")
            self.grad_of[ref] = _UNKNOWN
        self.line(None, f"{ref}.grad = {code}", uses, True)

    def sgd_step(self, opt: optim.SGD, call: Callable[[], Any]) -> None:
        """``opt.step()`` of a plain SGD (no momentum) as NumPy lines on the gradient slots; else a host call.

        The lines read each group's ``lr`` and ``weight_decay`` at every replay (schedulers change them);
        a replay whose groups no longer match the traced form (momentum, weight decay switched on or off,
        groups added) calls the real ``step()`` instead."""
        groups = opt.param_groups
        plan = []
        for group in groups:
            if group["momentum"] or type(opt) is not optim.SGD:
                return self.host(call, "SGD.step()")
            for p in group["params"]:
                state = self.grad_of.get(self.names.get(id(p)) or self.arg_tensors.get(id(p)), _UNKNOWN)
                if state is _UNKNOWN:  # e.g. a gradient from before the call: the real step reads it
                    return self.host(call, "SGD.step()")
            plan.append(bool(group["weight_decay"]))
        self.computed.clear()
        o, h = self.bind(groups, "c"), self.bind(call, "h")
        mark = self.bind(engine.mark_modified, "f")
        guard = " and ".join(f"len({o}[{k}]['params']) == {len(g['params'])} and not {o}[{k}]['momentum'] and "
                             f"{'' if wd else 'not '}{o}[{k}]['weight_decay']" for k, (g, wd) in
                             enumerate(zip(groups, plan)))
        code, uses = [f"if not (len({o}) == {len(groups)} and {guard}):", f"    {h}()  # SGD.step()", "else:"], set()
        for k, (group, wd) in enumerate(zip(groups, plan)):
            code.append(f"    _lr = {o}[{k}]['lr']")
            if wd:
                code.append(f"    _wd = 1 - _lr * {o}[{k}]['weight_decay']")
            for p in group["params"]:
                ref = self.tensor_ref(p)
                slot = self.grad_of[ref]
                if slot is _NO_GRAD:
                    continue
                uses.add(slot)
                code.append(f"    _p = {ref}.data")
                if wd:
                    code.append("    _p *= _wd")
                code += [f"    _p -= _lr * {slot}", f"    {mark}({ref})"]
        code.append(f"    {self.bind(opt, 'o')}.step_count += 1")
        self.line(None, "\n".join(code), uses, True)

    def host(self, call: Callable[[], Any], label: str) -> None:
        self.computed.clear()  # a step changes parameters in place: reading them again gives new values
        self.line(None, f"{self.bind(call, 'h')}()  # {label}", set(), True)

    def line(self, target: str | None, code: str, uses: set[str], effect: bool) -> None:
        errors = np.geterr()  # the engine silences NumPy's warnings in places (known zeros): so does the replay
        self.lines.append((target, code, uses, effect, None if errors == self.errors else tuple(errors.items())))

    # ------------------------------------------------------------------ the replay
    def build(self, args: list[str], result: str, result_uses: set[str]) -> tuple[str, Any]:
        """The replay's source (dead code dropped, each slot deleted after its last use) and the function."""
        live = set(result_uses)
        kept = []
        lines = self.lines
        if self.uses_handed:
            lines = [(t, self.plain_acc.get(i, c), u, e, err) for i, (t, c, u, e, err) in enumerate(lines)]
        for target, code, uses, effect, errors in reversed(lines):
            if effect or target in live:
                kept.append((target, code, uses, errors))
                live |= uses
        kept.reverse()
        last: dict[str, int] = {}
        for i, (_, _, uses, _) in enumerate(kept):
            for u in uses:
                last[u] = i
        body = [f"{name}.grad = None" for name in sorted(self.reset)]
        if self.uses_handed:
            body.append("_handed = set()")
        used = set(result_uses).union(*(uses for _, _, uses, _ in kept))
        state = None
        for i, (target, code, uses, errors) in enumerate(kept):
            if errors != state:
                if errors is not None:
                    body.append(f"with {self.bind(np.errstate, 'f')}(**{self.bind(dict(errors), 'c')}):")
                state = errors
            pad = "    " if state is not None else ""
            body += [pad + part for part in (f"{target} = {code}" if target in used else code).split("\n")]
            dead = sorted(u for u in uses if last[u] == i and u.startswith("v") and u not in result_uses)
            if dead:
                body.append(pad + f"del {', '.join(dead)}")
        body.append(f"return {result}")
        names = ["_acc", "_wrap", "_grad_set", *self.bindings]
        src = (f"def _make({', '.join(names)}):\n    def replay({', '.join(args)}):\n"
               + "".join(f"        {line}\n" for line in body) + "    return replay\n")
        namespace: dict[str, Any] = {}
        exec(builtins.compile(src, "<tg.compile replay>", "exec"), namespace)  # noqa: S102 (our own generated code)
        return src, namespace["_make"](_acc, _wrap, _GRAD_SET, *self.bindings.values())


# ----------------------------------------------------------------------------- hooks installed while tracing
# Each wrapper acts only in the tracing thread and outside op forwards; anywhere else it is the original.

def _hooks(rec: _Recorder) -> list[tuple[Any, str, Any]]:
    """(owner, attribute, replacement) for every hook of a trace."""
    hooks: list[tuple[Any, str, Any]] = []

    def guarded(event: Callable[[], None]) -> None:
        try:
            event()
        except _Fallback as e:
            rec.fail(str(e))

    for cls in (engine.Primitive, engine.UnaryPrimitive, engine.BinaryPrimitive):
        def call(self: Any, *args: Any, _orig: Any = cls.__dict__["__call__"], **kwargs: Any) -> Any:
            if not rec.active() or rec.depth:
                return _orig(self, *args, **kwargs)
            if any(type(a) in (list, tuple) and engine._holds_grad_tensor(a) for a in args):
                rec.fail(f"op '{self.name}' got a list of Tensors as an operand; join them with tg.stack")
                return _orig(self, *args, **kwargs)
            rec.depth += 1
            try:
                out = _orig(self, *args, **kwargs)
            finally:
                rec.depth -= 1
            guarded(lambda: rec.op(self, args, kwargs, out))
            return out
        hooks.append((cls, "__call__", call))

    orig_init = Tensor.__init__

    def init(self: Tensor, data: Any, requires_grad: bool = False, dtype: Any = None, name: str | None = None) -> None:
        if not rec.active() or rec.depth:
            return orig_init(self, data, requires_grad, dtype, name)
        rec.depth += 1
        try:
            orig_init(self, data, requires_grad, dtype, name)
        finally:
            rec.depth -= 1
        guarded(lambda: rec.tensor_made(self, data, dtype))
    hooks.append((Tensor, "__init__", init))

    def grad_get(self: Tensor) -> Any:
        g = _GRAD_GET(self)
        if g is not None and rec.watching() and not rec.is_slot_tensor(g):
            rec.fail("fn reads a .grad computed before the call; zero the gradients inside fn or outside it")
        return g

    def grad_set(self: Tensor, value: Any) -> None:
        if rec.watching():
            try:
                _GRAD_GET(self)
            except AttributeError:  # a Tensor being made: its grad starts as None
                pass
            else:
                guarded(lambda: rec.set_grad(self, value))
        _GRAD_SET(self, value)
    hooks.append((Tensor, "grad", property(grad_get, grad_set)))

    for name, original in (("_converted", Tensor._converted), ("__array__", Tensor.__array__)):
        def convert(self: Tensor, *args: Any, _orig: Any = original, _name: str = name, **kwargs: Any) -> Any:
            if rec.watching() and (isinstance(self.data, _Traced) or (self.requires_grad and self._op is None)):
                what = args[0] if _name == "_converted" and args else "np.asarray()"
                rec.fail(f"{what} of a traced value inside fn (control flow or a NumPy array taken from data)")
            return _orig(self, *args, **kwargs)
        hooks.append((Tensor, name, convert))

    def requires_grad_get(self: Tensor) -> bool:
        return _REQUIRES_GET(self)

    def requires_grad_set(self: Tensor, value: bool) -> None:
        # Switched on inside fn (t.requires_grad = True, t.requires_grad_()): a leaf of this call, as one made
        # by Tensor(..., requires_grad=True), so each replay starts it without a gradient.
        if value and rec.watching():
            try:
                before = _REQUIRES_GET(self)
            except AttributeError:  # a Tensor being made
                before = False
            if not before:
                rec.fresh.add(id(self))
                rec.tensors.append(self)  # keeps the id its own
        _REQUIRES_SET(self, value)
    hooks.append((Tensor, "requires_grad", property(requires_grad_get, requires_grad_set)))

    orig_run = engine._run_backward

    def run_backward(root: Tensor, g: Tensor, create_graph: bool, retain_graph: bool, check: bool,
                     stop: Any = None, floor: int = 0, nb: int = 0) -> Any:
        if not rec.active():
            return orig_run(root, g, create_graph, retain_graph, check, stop, floor, nb)
        if engine._retain.retained and stop is None:
            rec.fail("backward() inside fn while some tensor retains its gradient (retain_grad)")
            return orig_run(root, g, create_graph, retain_graph, check, stop, floor, nb)
        # create_graph=True makes the engine add gradients with ops (recorded) rather than raw NumPy;
        # the mode stays as the caller set it, so nothing more is recorded into graphs.
        rec.in_backward += 1
        rec.user_create_graph.append(create_graph)
        try:
            return orig_run(root, g, True, retain_graph, check, stop, floor, nb)
        finally:
            rec.in_backward -= 1
            rec.user_create_graph.pop()
    hooks.append((engine, "_run_backward", run_backward))

    orig_acc = engine._accumulate_leaf

    def accumulate_leaf(t: Tensor, g: Tensor, create_graph: bool, handed_out: set[int]) -> None:
        user = rec.user_create_graph[-1] if rec.user_create_graph else create_graph
        if user and rec.active():  # the gradients must carry their graphs, for the caller's next backward()
            rec.fail("backward(create_graph=True) inside fn: higher-order gradients are not replayed")
        if rec.active():
            try:
                return rec.accumulate(t, g)
            except _Fallback as e:
                rec.fail(str(e))
        orig_acc(t, g, user, handed_out)
    hooks.append((engine, "_accumulate_leaf", accumulate_leaf))

    orig_mask = ops.where.zero_mask

    def where_zero_mask(argnum: int, args: tuple[Any, ...], out_shape: tuple[int, ...]) -> np.ndarray:
        if rec.active():
            try:
                dynamic = rec.expr(args[0], set())[1]
            except _Fallback:
                dynamic = True
            if dynamic:
                rec.fail("backward() through tg.where whose condition is computed from traced values (which "
                         "gradient entries are exactly zero depends on the data)")
        return orig_mask(argnum, args, out_shape)
    hooks.append((ops.where, "zero_mask", where_zero_mask))

    orig_switch = engine._ModeSwitch._switch

    def switch(self: Any) -> Any:
        if rec.watching() and not rec.in_backward:
            rec.fail(f"a gradient-mode switch ({type(self).__name__}) inside fn; only an optimizer's step() may "
                     f"update in place")
        return orig_switch(self)
    hooks.append((engine._ModeSwitch, "_switch", switch))

    orig_mark = engine.mark_modified

    def mark_modified(t: Tensor) -> None:
        if rec.active() and not rec.in_step:
            rec.fail(f"an in-place change of a Tensor of shape {t.shape} inside fn")
        orig_mark(t)
    hooks.append((engine, "mark_modified", mark_modified))

    for cls in (optim.SGD, optim.Adam):
        def step(self: Any, closure: Any = None, _orig: Any = cls.__dict__["step"], _cls: Any = cls) -> Any:
            if not rec.active() or rec.depth or rec.in_step:
                return _orig(self, closure)
            if closure is not None or type(self).step is not _cls.step:
                rec.fail(f"{type(self).__name__}.step with a closure or an overridden step() inside fn")
                return _orig(self, closure)
            rec.in_step += 1
            try:
                out = _orig(self, None)
            finally:
                rec.in_step -= 1
            if isinstance(self, optim.SGD):
                rec.sgd_step(self, functools.partial(_orig, self))
            else:
                rec.host(functools.partial(_orig, self), f"{type(self).__name__}.step()")
            return out
        hooks.append((cls, "step", step))

    def refuse_random(owner: Any, name: str) -> None:
        orig = getattr(owner, name)

        @functools.wraps(orig)
        def random(*args: Any, **kwargs: Any) -> Any:
            if rec.watching():
                rec.fail(f"random numbers inside fn ({getattr(owner, '__name__', owner)}.{name}): a replay would "
                         f"reuse the first call's draws")
            return orig(*args, **kwargs)
        hooks.append((owner, name, random))

    refuse_random(creation, "as_rng")
    refuse_random(nn, "as_rng")
    for name in ("default_rng", "rand", "randn", "random", "random_sample", "normal", "uniform", "randint", "choice",
                 "permutation", "shuffle", "standard_normal", "binomial", "seed"):
        refuse_random(np.random, name)

    orig_dropout = nn.Dropout.forward

    def dropout(self: Any, x: Any) -> Any:
        if rec.watching() and self.training and self.p > 0:
            rec.fail("random numbers inside fn (nn.Dropout in training mode): a replay would reuse the first "
                     "call's mask")
        return orig_dropout(self, x)
    hooks.append((nn.Dropout, "forward", dropout))
    return hooks


class _Installed:
    """Installs a recorder's hooks for the length of a ``with`` block, and puts the originals back."""

    def __init__(self, rec: _Recorder) -> None:
        self.rec = rec
        self.saved: list[tuple[Any, str, Any]] = []

    def __enter__(self) -> None:
        global _ACTIVE
        for owner, name, new in _hooks(self.rec):
            # Classes and modules: their own entry (a slot's descriptor, not its value); objects: the attribute.
            old = vars(owner)[name] if isinstance(owner, type) else getattr(owner, name)
            self.saved.append((owner, name, old))
            setattr(owner, name, new)
        _ACTIVE = self.rec

    def __exit__(self, *exc: Any) -> None:
        global _ACTIVE
        _ACTIVE = None
        for owner, name, old in reversed(self.saved):
            setattr(owner, name, old)


# ----------------------------------------------------------------------------- tg.compile

class _Plan:
    """A cached trace: the replay function and the structure of its outputs."""

    __slots__ = ("replay", "source", "outputs")

    def __init__(self, replay: Callable[..., Any], source: str, outputs: pytree.TreeDef) -> None:
        self.replay, self.source, self.outputs = replay, source, outputs


class _Pending:
    """A signature's first trace, replayed only once a second call's trace has bound the same constants.

    Why: NumPy can take an argument out of the trace's sight (``np.asarray(y).astype(float)``,
    ``Tensor(np.asarray(y))``: the result is a new array no recorded op made), and the replay would then use
    the first call's values for ever. Two calls whose traces bind different constants reveal it.
    """

    __slots__ = ("source", "constants")

    def __init__(self, source: str, constants: dict[str, Any]) -> None:
        self.source, self.constants = source, constants


def _fingerprint(obj: Any) -> Any:
    """What must not change between two traces for a constant: an array's bytes (hashed), else the object."""
    if isinstance(obj, np.ndarray):
        arr = np.ascontiguousarray(obj)
        return ("array", arr.dtype.str, arr.shape, hashlib.blake2b(arr.view(np.uint8).reshape(-1)).digest())
    if type(obj) in (tuple, list):  # made afresh at each call, (np.array([0, 2]),) say: compare what they hold
        return ("items", type(obj).__name__, tuple(_fingerprint(x) for x in obj))
    return ("object", obj)


def _constants(rec: _Recorder) -> dict[str, Any]:
    return {name: _fingerprint(obj) for name, obj in rec.bindings.items() if name.startswith("c")}


def _same_constants(a: dict[str, Any], b: dict[str, Any]) -> bool:
    if a.keys() != b.keys():
        return False
    for name, (kind, *first) in a.items():
        second_kind, *second = b[name]
        if kind != second_kind:
            return False
        if kind == "object" and first[0] is second[0]:
            continue
        try:
            if not bool(first == second):
                return False
        except Exception:  # noqa: BLE001 - no usable ==: not the same constant
            return False
    return True


CHANGED_CONSTANT = ("an array fn made from an argument outside Tensor ops (np.asarray(x).astype(...), "
                    "np.asarray(x) * 2, Tensor(np.asarray(x)), ...) changed between calls, and a replay would keep "
                    "the first call's; give the argument to Tensor operations directly")


class Compiled:
    """``fn`` traced once per signature and replayed (see :func:`compile`). ``source`` is the last replay's code."""

    def __init__(self, fn: Callable[..., Any], cache_size: int = 16) -> None:
        functools.update_wrapper(self, fn)
        self.fn = fn
        self.cache_size = int(cache_size)
        self.cache: OrderedDict[Any, _Plan | str] = OrderedDict()  # signature -> plan, or why it runs eagerly
        self.traces = 0
        self.source = ""
        self._warned: set[str] = set()

    def __repr__(self) -> str:
        return f"<tg.compile of {getattr(self.fn, '__qualname__', self.fn)!r}: {len(self.cache)} signature(s)>"

    def _eager(self, reason: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        self._warn(reason)
        return self.fn(*args, **kwargs)

    def _warn(self, reason: str) -> None:
        if reason not in self._warned:
            self._warned.add(reason)
            name = getattr(self.fn, "__qualname__", repr(self.fn))
            warnings.warn(f"tg.compile({name}): runs eagerly: {reason}", RuntimeWarning, stacklevel=4)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if _ACTIVE is not None:  # inside another trace (which records this call), or another thread's
            return self.fn(*args, **kwargs)
        if engine.is_anomaly_enabled():
            return self._eager("detect_anomaly is on (it checks every op as it runs)", args, kwargs)
        if not kwargs and all(type(a) is np.ndarray or type(a) is Tensor for a in args):
            leaves, tree = list(args), len(args)  # the common case, without flattening
        else:
            leaves, tree = pytree.flatten((args, kwargs))
        try:
            key = (tree, engine.is_grad_enabled(), *[_signature(x) for x in leaves])
            hash(key)
        except TypeError as e:
            return self._eager(f"an argument cannot be part of a signature ({e})", args, kwargs)
        plan = self.cache.get(key)
        if plan is None or type(plan) is _Pending:
            return self._trace(key, leaves, tree, plan)
        if isinstance(plan, str):
            return self._eager(plan, args, kwargs)
        return plan.replay(*leaves)

    def _trace(self, key: Any, leaves: list[Any], tree: pytree.TreeDef, pending: _Pending | None = None) -> Any:
        """Run fn once, recording; the first trace of a signature waits for a second that agrees (_Pending)."""
        if not _LOCK.acquire(blocking=False):
            args, kwargs = _unflatten(tree, leaves)
            return self.fn(*args, **kwargs)
        try:
            rec = _Recorder()
            stand_ins = self._stand_ins(rec, leaves)
            args, kwargs = _unflatten(tree, stand_ins)
            if pending is None:
                self.traces += 1
            try:
                with _Installed(rec):
                    out = self.fn(*args, **kwargs)
                    result, uses, out_tree, outputs = self._outputs(rec, out)
            finally:
                self._hand_back(rec, leaves, stand_ins)
            if rec.failed is None:
                self.source, replay = rec.build([f"a{i}" for i in range(len(leaves))], result, uses)
                constants = _constants(rec)
                if pending is None:
                    self._store(key, _Pending(self.source, constants))
                elif pending.source == self.source and _same_constants(pending.constants, constants):
                    self._store(key, _Plan(replay, self.source, out_tree))
                else:
                    self._store(key, CHANGED_CONSTANT)
                    self._warn(CHANGED_CONSTANT)
                return pytree.unflatten(out_tree, outputs)
            self._store(key, rec.failed)
            self._warn(rec.failed)
            return _clean(out)
        finally:
            _LOCK.release()

    def _store(self, key: Any, plan: _Plan | str) -> None:
        self.cache[key] = plan
        while len(self.cache) > self.cache_size:
            self.cache.popitem(last=False)

    @staticmethod
    def _stand_ins(rec: _Recorder, leaves: list[Any]) -> list[Any]:
        """The arguments fn sees while tracing: arrays as traced views, Tensors as fresh leaves holding them."""
        stand_ins: list[Any] = []
        for i, x in enumerate(leaves):
            if isinstance(x, Tensor):
                if x.requires_grad and x._op is not None:
                    rec.fail(f"argument {i} is a Tensor made by op '{x._op.name}' (part of a graph outside fn); "
                             f"compile the whole step, or pass x.detach()")
                t = _new(Tensor)
                t.data, t.requires_grad, t.name, t._op = x.data, x.requires_grad, x.name, None
                _GRAD_SET(t, x.grad)
                rec.arg_tensors[id(t)] = f"a{i}"
                rec.new_slot(t, x.data, f"a{i}.data", set())
                stand_ins.append(t)
            elif isinstance(x, np.ndarray) or (isinstance(x, np.generic) and x.dtype.kind in "biuf"):
                stand_ins.append(rec.new_slot(None, np.asarray(x), None, set(), name=f"a{i}"))
            else:
                stand_ins.append(x)
        return stand_ins

    @staticmethod
    def _hand_back(rec: _Recorder, leaves: list[Any], stand_ins: list[Any]) -> None:
        """After the trace: plain arrays everywhere again, and the stand-ins' gradients on the caller's Tensors."""
        for t in rec.tensors:
            if isinstance(t.data, _Traced):
                t.data = t.data.view(np.ndarray)
        for x, t in zip(leaves, stand_ins):
            if isinstance(x, Tensor):
                g = _GRAD_GET(t)
                if isinstance(g, Tensor) and isinstance(g.data, _Traced):
                    g = _wrap(g.data.view(np.ndarray))
                _GRAD_SET(x, g)

    @staticmethod
    def _outputs(rec: _Recorder, out: Any) -> tuple[str, set[str], pytree.TreeDef, list[Any]]:
        """The replay's return expression (rebuilding fn's output structure) and this call's outputs."""
        leaves, tree = pytree.flatten(out)
        exprs, values, uses = [], [], set()
        for x in leaves:
            if isinstance(x, Tensor):
                if x._op is not None and x._inputs is not None and not rec.failed:
                    rec.fail("fn returns a Tensor whose graph is still alive (it did not backpropagate through it); "
                             "compile the whole training step, or call it under tg.no_grad() for inference")
                if isinstance(x.data, _Traced) and id(x.data) in rec.slots:
                    name = rec.expr(x, uses)[0]
                    exprs.append(f"_wrap({name})")
                    values.append(_wrap(x.data.view(np.ndarray)))
                    continue
                exprs.append(rec.bind(x, "t"))
                values.append(x)
            elif isinstance(x, (np.ndarray, int, float, complex, str, bool, np.generic)):
                try:
                    e, _ = rec.expr(x, uses)
                except _Fallback as err:
                    rec.fail(str(err))
                    e = "None"
                exprs.append(e)
                values.append(_plain(x))
            else:
                rec.fail(f"fn returns a {type(x).__name__}, which a replay cannot rebuild (return Tensors, arrays, "
                         f"numbers, and tuples, lists or dicts of them)")
                exprs.append("None")
                values.append(x)
        if tree.kind == "leaf":
            return exprs[0], uses, tree, values
        if tree.kind in ("list", "tuple") and all(c.kind == "leaf" for c in tree.children):  # without unflatten
            body = ", ".join(exprs)
            return (f"[{body}]" if tree.kind == "list" else f"({body},)"), uses, tree, values
        return (f"{rec.bind(pytree.unflatten, 'u')}({rec.bind(tree, 'c')}, [{', '.join(exprs)}])",
                uses, tree, values)


def _signature(x: Any) -> Any:
    if type(x) is np.ndarray:
        return x.shape, x.dtype
    if isinstance(x, Tensor):
        return x.data.shape, x.data.dtype, x.requires_grad, x._op is None
    if isinstance(x, np.ndarray):
        return type(x), x.shape, x.dtype
    if isinstance(x, np.generic) and x.dtype.kind in "biuf":  # a NumPy scalar is a 0-d array: its value is data
        return type(x), "scalar"
    return type(x), x


def _unflatten(tree: Any, leaves: list[Any]) -> tuple[Any, dict[str, Any]]:
    """``(args, kwargs)`` back from the leaves (``tree`` is an int for positional arrays and Tensors only)."""
    if type(tree) is int:
        return tuple(leaves), {}
    return pytree.unflatten(tree, leaves)


def _clean(out: Any) -> Any:
    """fn's outputs with any traced views made plain again (a trace that fell back)."""
    leaves, tree = pytree.flatten(out)
    return pytree.unflatten(tree, [_plain(x) for x in leaves])


def compile(fn: Callable[..., Any] | None = None, *, cache_size: int = 16) -> Any:
    """``fn`` traced on its first call per signature and replayed as straight-line NumPy after (JAX's ``jit``).

    A signature is the structure of the arguments, the shape and dtype of each array and Tensor, the value of
    every other argument, and whether gradients are recorded; a new one traces again (up to ``cache_size`` are
    kept). The second call of a signature is recorded once more, and the replay is used from the third call
    only if both records bound the same constants: an array that fn made from an argument with NumPy, out of
    the trace's sight, shows up as a constant that changed, and that signature then runs eagerly with a
    warning (``traces`` counts the signatures traced). ``fn`` may run a whole training step: forward,
    ``backward()``, ``zero_grad`` and an ``SGD``/``Adam`` ``step()``; the replay fills ``.grad`` and updates
    parameters as eager code does, bit for bit. Outputs keep their structure; Tensors come back without a
    graph. Where a trace cannot be replayed (see the module docstring), ``fn`` runs eagerly, with a one-time
    warning naming why. Usable as ``@tg.compile`` or ``tg.compile(fn)``; ``compiled.source`` shows the
    replay's code.

    >>> import tinygrad_mvc as tg
    >>> w = tg.tensor([1.0, -1.0], requires_grad=True)
    >>> opt = tg.optim.SGD([w], lr=0.1)
    >>> @tg.compile
    ... def step(x):
    ...     opt.zero_grad()
    ...     loss = ((w * x).sum() - 1.0) ** 2
    ...     loss.backward()
    ...     opt.step()
    ...     return loss
    >>> [round(float(step(np.array([1.0, 2.0]))), 6) for _ in range(3)]
    [4.0, 0.0, 0.0]
    >>> w
    Tensor([ 1.4, -0.2], requires_grad=True)
    """
    if fn is None:
        return lambda f: Compiled(f, cache_size)
    return Compiled(fn, cache_size)
