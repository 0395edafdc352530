"""The autodiff engine: primitives, gradient modes and the backward pass.

A :class:`Primitive` wraps a NumPy function and carries its derivative rules. Calling it on
Tensors records the result's parents on the result itself, so the graph is the web of Tensors.
:func:`backward` walks that graph once in reverse topological order (no recursion) and applies
each node's rules, which are written with Tensor operations: run under ``no_grad`` they are plain
arithmetic, run with ``create_graph=True`` they record a graph of their own, so higher derivatives
come from the same rules.

Every built-in op is declared in :mod:`tinygrad_mvc.ops` through this same mechanism.
"""

from __future__ import annotations

import contextvars
import functools
import heapq
import inspect
import itertools
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .tensor import Tensor, _wrap

_new = object.__new__
# Creation order is a topological order: an op's inputs always exist before its output.
_sequence = itertools.count(1)

__all__ = ["Primitive", "UnaryPrimitive", "BinaryPrimitive", "primitive",
           "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "detect_anomaly",
           "is_anomaly_enabled", "backward", "gradients", "reaches_outside", "mark_modified", "tune_allocator"]



class Mode:
    """The recording modes of one thread: ``grad`` (record the graph) and ``anomaly`` (check every op).

    The modes live in one context variable, so each thread (and each asyncio task) has its own: a
    ``no_grad`` block in one thread never stops another thread from recording. A new thread starts
    with the default, recording on and anomaly checks off. An op reads both flags with one call and
    two slot loads, a few instructions more than the module globals of a process-wide mode. There
    are four instances, one per combination; :meth:`with_flag` picks another.
    """

    __slots__ = ("grad", "anomaly")

    def __init__(self, grad: bool, anomaly: bool) -> None:
        self.grad, self.anomaly = grad, anomaly

    def with_flag(self, name: str, value: bool) -> Mode:
        grad, anomaly = (value, self.anomaly) if name == "grad" else (self.grad, value)
        return _MODES[grad, anomaly]

    def __repr__(self) -> str:
        return f"Mode(grad={self.grad}, anomaly={self.anomaly})"


_MODES = {(g, a): Mode(g, a) for g in (True, False) for a in (True, False)}
_RECORD, _NO_RECORD = _MODES[True, False], _MODES[False, False]  # the modes backward() runs the rules in
_MODE: contextvars.ContextVar[Mode] = contextvars.ContextVar("tinygrad_mvc.mode", default=_RECORD)
_mode = _MODE.get
# Backward puts the previous mode back with ``reset`` rather than ``set``: left unset, the variable
# keeps the context's table of variables empty, and NumPy, which reads its own error-state variable
# on every ufunc call, finds nothing faster in an empty table (measured: 2% of a chain of small ops).

Rule = Callable[..., Any]


class Primitive:
    """A differentiable function on NumPy arrays, with one derivative rule per input.

    ``fun`` receives NumPy arrays (and any constants) and returns a NumPy array. Rules have the
    signature ``rule(g, out, *args, **kwargs)`` where ``g`` is the gradient flowing into ``out``
    and ``args`` are the inputs as they were passed (Tensors stay Tensors, so rules written with
    Tensor operations are differentiable). A rule returns the gradient for its input, or ``None``
    for zero.

    >>> cube = Primitive(lambda x: x ** 3, "cube")
    >>> _ = cube.defvjp(lambda g, out, x: g * 3 * x ** 2)
    >>> cube(Tensor(2.0)).item()
    8.0
    """

    __slots__ = ("fun", "name", "vjps", "vjp_argnum", "jvps", "jvp_argnum", "elementwise", "structural",
                 "differentiable", "batchable", "zero_mask", "zero_map", "__dict__")

    def __init__(self, fun: Callable[..., Any], name: str | None = None, *, elementwise: bool = False,
                 structural: bool = False, differentiable: bool = True, batchable: bool | None = None) -> None:
        self.fun = fun
        self.name = name or getattr(fun, "__name__", "primitive")
        self.vjps: tuple[Rule | None, ...] = ()
        self.vjp_argnum: Callable[..., Any] | None = None
        self.jvps: tuple[Rule | None, ...] = ()
        self.jvp_argnum: Callable[..., Any] | None = None
        # batchable: the rules accept a g (or tangent t) with extra leading batch axes, so a whole
        # batch of basis vectors goes through in one call (Jacobians, Hessians). Built-in rules are
        # written that way; a user's rule is trusted to be only when the op is elementwise, and
        # otherwise runs once per batch entry.
        self.batchable = elementwise if batchable is None else batchable
        # elementwise: out[i] depends on inputs at i only (after broadcasting).
        # structural: the rules only move, copy or sum entries of g (reshape, indexing, sum...).
        # The engine uses both to keep known-zero gradient entries zero below a ``where``.
        self.elementwise = elementwise
        self.structural = structural
        self.differentiable = differentiable
        # For ops like ``where``: zero_mask(argnum, args, out_shape) -> boolean mask of the entries
        # whose gradient is structurally zero, so NaN/Inf there cannot leak (see backward()).
        self.zero_mask: Callable[..., np.ndarray] | None = None
        # For ops neither elementwise nor structural (reductions, softmax, matmul...):
        # zero_map(argnum, zeros, out, *args, **kwargs) -> the entries of input ``argnum``'s gradient
        # (as the rule returns it, before broadcasting is undone) that are zero whenever the entries
        # ``zeros`` of g are, whatever the values; None when nothing is known. Without it (a user's
        # primitive) the op is conservative: known zeros stop there, as if no ``where`` were above.
        self.zero_map: Callable[..., np.ndarray | None] | None = None
        functools.update_wrapper(self, fun, updated=())

    def defvjp(self, *rules: Rule | None) -> Primitive:
        """Set one rule per positional input; ``None`` declares a zero gradient (e.g. a condition)."""
        self.vjps = rules
        return self

    def defvjp_argnum(self, rule: Callable[..., Any]) -> Primitive:
        """Set a single rule ``rule(argnum, g, out, *args, **kwargs)`` for ops with any number of inputs."""
        self.vjp_argnum = rule
        return self

    def defjvp(self, *rules: Rule | None) -> Primitive:
        """Set one forward-mode rule per input, ``rule(t, out, *args, **kwargs)`` with ``t`` the input's
        tangent; the output's tangent is the sum over inputs. ``None`` declares a zero contribution.

        Without JVP rules, forward mode uses the VJP rules: an elementwise op's Jacobian is diagonal, so
        its VJP rule is its JVP rule; for other ops the engine transposes the (linear) VJP rule.

        >>> twice = Primitive(lambda x: 2 * x, "twice")
        >>> _ = twice.defvjp(lambda g, out, x: 2 * g).defjvp(lambda t, out, x: 2 * t)
        """
        self.jvps = rules
        return self

    def defjvp_argnum(self, rule: Callable[..., Any]) -> Primitive:
        """Set a single forward rule ``rule(argnum, t, out, *args, **kwargs)`` for ops with any number of inputs."""
        self.jvp_argnum = rule
        return self

    def __call__(self, *args: Any, **kwargs: Any) -> Tensor:
        record = False
        raw = []
        for a in args:
            if isinstance(a, Tensor):
                raw.append(a.data)
                record = record or a.requires_grad
            else:
                raw.append(a)
        try:
            out = self.fun(*raw, **kwargs) if kwargs else self.fun(*raw)
        except (ValueError, IndexError, TypeError, AttributeError) as e:
            if _holds_sequence(args):  # a list of Tensors among the operands: see ListOperand
                return self(*_stacked(self.name, args), **kwargs)
            if isinstance(e, AttributeError):  # a forward function that expects arrays got something else
                raise
            raise _describe_failure(self.name, e, raw) from e
        mode = _mode()
        if mode.anomaly:
            _check_forward(self.name, out, args)
        if type(out) is not np.ndarray:
            out = np.asarray(out)
        t = _new(Tensor)  # _result(), written out: this is every op's path
        t.data = out
        t.grad = None
        t.name = None
        if record and mode.grad and self.differentiable:
            t.requires_grad = True
            t._op = self
            t._inputs = args
            t._kwargs = kwargs
            t._seq = next(_sequence)
        else:
            t.requires_grad = False
            t._op = None
        return t

    def rule(self, argnum: int) -> Callable[..., Any]:
        """The derivative rule for input ``argnum``; raises naming the op if there is none."""
        if argnum < len(self.vjps) and self.vjps[argnum] is not None:
            return self.vjps[argnum]
        if self.vjp_argnum is not None:
            return functools.partial(self.vjp_argnum, argnum)
        raise NotImplementedError(
            f"op '{self.name}' has no derivative rule for its input {argnum}; "
            f"declare one with {self.name}.defvjp(...)")

    def jvp_rule(self, argnum: int) -> Any:
        """The forward-mode rule for input ``argnum`` (None for a zero contribution).

        Falls back to the VJP rule for elementwise ops (a diagonal Jacobian is its own transpose);
        returns :data:`TRANSPOSE_VJP` for other ops without a JVP rule, so the forward pass derives it.
        """
        if argnum < len(self.jvps):
            return self.jvps[argnum]
        if self.jvp_argnum is not None:
            return functools.partial(self.jvp_argnum, argnum)
        if argnum < len(self.vjps) and self.vjps[argnum] is None:
            return None
        vjp = self.rule(argnum)  # raises, naming the op, when there is no rule at all
        return vjp if self.elementwise else TRANSPOSE_VJP

    def __repr__(self) -> str:
        return f"<primitive {self.name}>"


TRANSPOSE_VJP: Any = object()
"""Returned by :meth:`Primitive.jvp_rule` in place of a rule: derive the JVP by transposing the VJP rule."""


# The ops of the table with one or two array inputs and no options: their calls are the
# framework's hot path, so the argument handling and the result are written out in full here
# (no *args tuple, no **kwargs dict, no helper call), which saves about a sixth of an op's cost.

_NO_KWARGS: dict[str, Any] = {}


class UnaryPrimitive(Primitive):
    """A :class:`Primitive` of exactly one input and no keyword options."""

    __slots__ = ()

    def __call__(self, x: Any) -> Tensor:  # type: ignore[override]
        record = False
        xd = x
        if isinstance(x, Tensor):
            record = x.requires_grad
            xd = x.data
        try:
            out = self.fun(xd)
        except (ValueError, IndexError, TypeError) as e:
            if _holds_sequence((x,)):  # a list of Tensors as the operand: see ListOperand
                return self(*_stacked(self.name, (x,)))
            raise _describe_failure(self.name, e, (xd,)) from e
        mode = _mode()
        if mode.anomaly:
            _check_forward(self.name, out, (x,))
        if type(out) is not np.ndarray:
            out = np.asarray(out)
        t = _new(Tensor)
        t.data = out
        t.grad = None
        t.name = None
        if record and mode.grad and self.differentiable:
            t.requires_grad = True
            t._op = self
            t._inputs = (x,)
            t._kwargs = _NO_KWARGS
            t._seq = next(_sequence)
        else:
            t.requires_grad = False
            t._op = None
        return t


class BinaryPrimitive(Primitive):
    """A :class:`Primitive` of exactly two inputs and no keyword options."""

    __slots__ = ()

    def __call__(self, x: Any, y: Any) -> Tensor:  # type: ignore[override]
        record = False
        xd, yd = x, y
        if isinstance(x, Tensor):
            record = x.requires_grad
            xd = x.data
        if isinstance(y, Tensor):
            record = record or y.requires_grad
            yd = y.data
        try:
            out = self.fun(xd, yd)
        except (ValueError, IndexError, TypeError) as e:
            if _holds_sequence((x, y)):  # a list of Tensors among the operands: see ListOperand
                return self(*_stacked(self.name, (x, y)))
            raise _describe_failure(self.name, e, (xd, yd)) from e
        mode = _mode()
        if mode.anomaly:
            _check_forward(self.name, out, (x, y))
        if type(out) is not np.ndarray:
            out = np.asarray(out)
        t = _new(Tensor)
        t.data = out
        t.grad = None
        t.name = None
        if record and mode.grad and self.differentiable:
            t.requires_grad = True
            t._op = self
            t._inputs = (x, y)
            t._kwargs = _NO_KWARGS
            t._seq = next(_sequence)
        else:
            t.requires_grad = False
            t._op = None
        return t


_OP_CALLS = frozenset(cls.__call__.__code__ for cls in (Primitive, UnaryPrimitive, BinaryPrimitive))


def primitive(fun: Callable[..., Any] | None = None, *, name: str | None = None,
              elementwise: bool = False, batchable: bool | None = None) -> Any:
    """Declare a differentiable primitive: ``@tg.primitive`` then ``f.defvjp(rule, ...)``.

    The function receives and returns NumPy arrays; each rule ``rule(g, ans, *inputs)`` returns the
    gradient of one input and is written with Tensor operations, so higher derivatives work.
    ``f.defjvp(...)`` adds forward-mode rules (optional: forward mode derives them otherwise).
    ``batchable=True`` promises the rules accept ``g`` with extra leading batch axes (default: only
    for ``elementwise`` ops); other rules run once per basis vector inside ``tg.jacobian``.

    >>> @primitive
    ... def cube(x):
    ...     return x ** 3
    >>> _ = cube.defvjp(lambda g, ans, x: g * 3 * x ** 2)
    """
    if fun is None:
        return lambda f: Primitive(f, name, elementwise=elementwise, batchable=batchable)
    return Primitive(fun, name, elementwise=elementwise, batchable=batchable)


# A list operand holding Tensors (``x * [y, y]``) reaches NumPy as a list, and NumPy makes an array
# of it by calling ``Tensor.__array__`` on each Tensor, which would cut them from the graph. So
# ``__array__`` of a Tensor that requires grad asks :func:`converting_operand` whether an op's call is
# what is converting it, and if so raises :class:`ListOperand`; the op, in its error path, finds the
# list and runs again with it stacked, as ``tg.stack`` would. Nothing of this is on the hot path.


class ListOperand(TypeError):
    """An op's operand is a list holding Tensors that require grad (caught by the op, which stacks it)."""


def converting_operand() -> bool:
    """Whether ``Tensor.__array__`` runs inside an op's forward function (NumPy's own Python code may lie between).

    An op hands its forward function the arrays of its Tensor operands, so a Tensor that NumPy converts
    there came in some other way: in a list operand (stacked by the op), a keyword or a closure.
    """
    frame = sys._getframe(2)  # 0: this function, 1: Tensor.__array__
    while frame is not None:
        if frame.f_code in _OP_CALLS:
            return True
        frame = frame.f_back
    return False


def _holds_sequence(args: tuple[Any, ...]) -> bool:
    return any((type(a) is list or type(a) is tuple) and _holds_grad_tensor(a) for a in args)


def _stacked(name: str, args: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(sequence_operand(name, a) if type(a) is list or type(a) is tuple else a for a in args)


def sequence_operand(name: str, items: list[Any] | tuple[Any, ...]) -> Any:
    """A list or tuple holding Tensors that require grad, stacked as ``tg.stack`` would (nested lists give
    more axes); any other list is returned as it is. A ``ValueError`` naming ``tg.stack`` if it cannot be.
    """
    if not _holds_grad_tensor(items):
        return items
    from .ops import stack

    try:
        return stack([sequence_operand(name, p) if type(p) is list or type(p) is tuple else p for p in items])
    except ValueError as e:
        raise ValueError(f"{name}: a list of Tensors as an operand is stacked, as tg.stack would, but these cannot "
                         f"be ({e}); join them yourself with tg.stack or tg.concatenate") from e


def _holds_grad_tensor(items: Any) -> bool:
    todo = [items]
    while todo:
        for p in todo.pop():
            if isinstance(p, Tensor):
                if p.requires_grad:
                    return True
            elif type(p) is list or type(p) is tuple:
                todo.append(p)
    return False


def _describe_failure(name: str, err: Exception, raw: Any) -> Exception:
    """The error of a failed forward, with the op and the shapes: as the built-in class it derives from.

    NumPy's own exception classes (``_UFuncNoLoopError``, ``AxisError``...) take other constructor
    arguments, so the message goes into the plain ValueError/TypeError/IndexError base, with the
    original chained as its cause.
    """
    numeric = [isinstance(a, (np.ndarray, np.number, np.bool_, int, float)) for a in raw]
    shapes = " and ".join(str(np.shape(a)) for a, n in zip(raw, numeric) if n)
    kinds = [type(a).__name__ for a, n in zip(raw, numeric) if not n]
    what = f"input shapes {shapes}" if shapes else "its inputs"
    if kinds:
        what += " and " + ", ".join(kinds)
    return builtin_class(err)(f"{name}: cannot apply to {what}: {err}")


def builtin_class(err: Exception) -> type[Exception]:
    """The built-in IndexError/ValueError/TypeError that ``err``'s class derives from, to re-raise a message with.

    NumPy's own exception classes (``_UFuncNoLoopError``, ``AxisError``...) take other constructor arguments.
    """
    return next(c for c in type(err).__mro__ if c in (IndexError, ValueError, TypeError))


def _check_forward(name: str, out: Any, args: tuple[Any, ...]) -> None:
    if np.all(np.isfinite(out)):
        return
    arrays = [np.asarray(a.data if isinstance(a, Tensor) else a) for a in args]
    inputs_finite = all(np.all(np.isfinite(a)) for a in arrays if a.dtype.kind in "fc")
    if inputs_finite:
        raise FloatingPointError(f"detect_anomaly: forward of op '{name}' produced NaN/Inf from finite inputs")


# ----------------------------------------------------------------------------- gradient modes

_Saved = tuple[contextvars.Token[Mode], Mode, bool]  # (token of the switch, the mode it set, the flag before)


class _ModeSwitch:
    """Sets one mode flag inside a ``with`` block or a decorated function, then puts that flag back.

    Only its own flag is restored, so switches of different modes nest in any order. The flag to
    restore is kept per thread: one instance shared by several threads (a decorated function called
    from many at once) restores each thread's own mode.
    """

    _flag: str  # the Mode attribute it switches

    def __init__(self, value: bool) -> None:
        self._value = bool(value)
        self._saved: dict[int, list[_Saved]] = {}

    def _switch(self) -> _Saved:
        """Set the flag; return what :meth:`_restore` needs to put it back."""
        mode = _MODE.get()
        mine = mode.with_flag(self._flag, self._value)
        return _MODE.set(mine), mine, getattr(mode, self._flag)

    def _restore(self, saved: _Saved) -> None:
        token, mine, before = saved
        if _MODE.get() is mine:
            # Nothing else switched meanwhile: go back exactly, to "unset" too (see the note at _mode).
            try:
                _MODE.reset(token)
                return
            except (ValueError, RuntimeError):  # the token belongs to another context
                pass
        _MODE.set(_MODE.get().with_flag(self._flag, before))

    def __enter__(self) -> None:
        self._saved.setdefault(threading.get_ident(), []).append(self._switch())

    def __exit__(self, *exc: Any) -> None:
        key = threading.get_ident()
        stack = self._saved[key]
        self._restore(stack.pop())
        if not stack:
            del self._saved[key]

    def __call__(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Use as a decorator: the mode holds for every call of ``func``."""
        if not callable(func):
            raise TypeError(f"{type(self).__name__}(...) decorates a function, got {type(func).__name__}")

        if inspect.isgeneratorfunction(func):
            return self._decorate_generator(func)

        @functools.wraps(func)
        def with_mode(*args: Any, **kwargs: Any) -> Any:
            before = self._switch()
            try:
                return func(*args, **kwargs)
            finally:
                self._restore(before)

        return with_mode

    def _decorate_generator(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """A generator function: the mode holds while its body runs, between the yields (as in PyTorch)."""

        @functools.wraps(func)
        def generator_with_mode(*args: Any, **kwargs: Any) -> Any:
            gen = func(*args, **kwargs)
            sent = None
            try:
                while True:
                    before = self._switch()
                    try:
                        item = gen.send(sent)
                    except StopIteration as stop:
                        return stop.value
                    finally:
                        self._restore(before)
                    sent = yield item
            finally:
                gen.close()

        return generator_with_mode

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class no_grad(_ModeSwitch):
    """Operations inside record no graph: ``with tg.no_grad():``, ``@tg.no_grad`` or ``@tg.no_grad()``.

    The mode belongs to the current thread (and asyncio task): other threads keep recording.

    >>> with no_grad():
    ...     y = Tensor(1.0, requires_grad=True) * 2
    >>> y.requires_grad
    False
    """

    _flag = "grad"

    def __new__(cls, func: Callable[..., Any] | None = None) -> Any:
        if func is not None:  # the bare decorator, @tg.no_grad
            return cls()(func)
        return super().__new__(cls)

    def __init__(self, func: Callable[..., Any] | None = None) -> None:
        super().__init__(False)


class enable_grad(no_grad):
    """Turn recording back on inside ``no_grad``: ``with tg.enable_grad():``, or as a decorator."""

    def __init__(self, func: Callable[..., Any] | None = None) -> None:
        _ModeSwitch.__init__(self, True)


class set_grad_enabled(_ModeSwitch):
    """Switch recording on or off, as PyTorch's ``set_grad_enabled``: a call, a context manager or a decorator.

    Called on its own it takes effect at once for the current thread; as ``with
    set_grad_enabled(mode):`` the previous mode comes back at the end of the block.

    >>> _ = set_grad_enabled(False); is_grad_enabled()
    False
    >>> _ = set_grad_enabled(True)
    >>> with set_grad_enabled(False):
    ...     is_grad_enabled()
    False
    """

    _flag = "grad"

    def __init__(self, mode: bool) -> None:
        super().__init__(mode)
        self._before: _Saved | None = self._switch()  # takes effect now, as a plain call

    def __enter__(self) -> None:
        if self._before is None:  # entered again later: an ordinary switch
            super().__enter__()
        else:  # ``with set_grad_enabled(m):`` the call has switched already; restore what came before it
            self._saved.setdefault(threading.get_ident(), []).append(self._before)
            self._before = None

    def __call__(self, func: Callable[..., Any]) -> Callable[..., Any]:
        if self._before is not None:  # as a decorator it changes nothing until the function runs
            self._restore(self._before)
            self._before = None
        return super().__call__(func)

    def __repr__(self) -> str:
        return f"set_grad_enabled({self._value})"


def is_grad_enabled() -> bool:
    """Whether operations in the current thread record the graph."""
    return _MODE.get().grad


class detect_anomaly(_ModeSwitch):
    """Raise ``FloatingPointError`` naming the first op whose forward or backward makes NaN/Inf.

    It checks every op's output, so it is slow: use it to find a bug, not in training. Like the
    gradient mode it holds for the current thread only. A context manager and a decorator.

    >>> import tinygrad_mvc as tg
    >>> with tg.detect_anomaly(), np.errstate(divide="ignore"):
    ...     tg.log(tg.tensor(0.0))
    Traceback (most recent call last):
    FloatingPointError: detect_anomaly: forward of op 'log' produced NaN/Inf from finite inputs
    """

    _flag = "anomaly"

    def __init__(self) -> None:
        super().__init__(True)


def is_anomaly_enabled() -> bool:
    """Whether ``detect_anomaly`` is on in the current thread."""
    return _MODE.get().anomaly


def _set_grad_enabled(mode: bool) -> _ModeSwitch:
    """Internal: a context manager that sets the gradient mode (no effect before ``with``)."""
    return enable_grad() if mode else no_grad()


# ----------------------------------------------------------------------------- inside a transform
# While a transform runs the user's function, converting a Tensor that depends on the differentiated
# input into a number or a NumPy array would hand the function a constant: the derivative through it
# would silently be lost (JAX refuses the same with its tracers). The transforms register their
# inputs here and Tensor's conversions ask :func:`check_conversion`.

_TRACED: contextvars.ContextVar[tuple[tuple[str, frozenset[int], int], ...]] = contextvars.ContextVar(
    "tinygrad_mvc.traced_inputs", default=())
tracing = _TRACED.get
"""Non-empty while a transform runs a function: ``(transform name, input ids, creation floor)`` per level."""


def begin_trace(name: str, inputs: Sequence[Tensor]) -> contextvars.Token[Any]:
    """Register the inputs of a transform around its call of the user's function; :func:`end_trace` undoes it."""
    ids = frozenset(id(t) for t in inputs)
    floor = min((getattr(t, "_seq", 0) for t in inputs), default=0)
    return _TRACED.set(_TRACED.get() + ((name, ids, floor),))


def end_trace(token: contextvars.Token[Any]) -> None:
    _TRACED.reset(token)


def check_conversion(t: Tensor, what: str) -> None:
    """Raise ``TypeError`` if ``t`` depends on the input of a running transform (see the banner above)."""
    for name, ids, floor in reversed(_TRACED.get()):
        if _depends_on(t, ids, floor):
            if what == "float()":
                what = "float() (which math.* functions call)"
            raise TypeError(
                f"{what} of a Tensor that depends on the input of tg.{name} would lose its derivative "
                f"(the function would see a constant); use differentiable ops instead: tg.sin, tg.exp, ... "
                f"rather than math.*, tg.stack rather than np.array([...]); or t.detach() for a value "
                f"meant only for printing or logging")


def _depends_on(t: Tensor, ids: frozenset[int], floor: int) -> bool:
    """Whether the graph behind ``t`` reaches one of ``ids`` (nodes made before ``floor`` cannot)."""
    if id(t) in ids:
        return True
    todo, seen = [t], set()
    while todo:
        args = todo.pop()._inputs
        for a in args or ():
            if isinstance(a, Tensor) and a.requires_grad and id(a) not in seen:
                if id(a) in ids:
                    return True
                if a._op is not None and a._seq >= floor:
                    seen.add(id(a))
                    todo.append(a)
    return False


# ----------------------------------------------------------------------------- in-place changes
# A recorded node reads its inputs' (and its own) arrays when backward reaches it. Changing one of
# them in place after the node was recorded would give a wrong gradient, so every in-place change
# stamps the tensor with a fresh creation number, and backward refuses a node older than a stamp on
# one of its tensors. Nodes made after the newest stamp (the usual training step) are not checked.

_newest_stamp = 0


def mark_modified(t: Tensor) -> None:
    """Record that ``t``'s data was changed in place (in-place operators, optimizers' steps)."""
    global _newest_stamp
    t._stamp = _newest_stamp = next(_sequence)


def _check_unmodified(node: Tensor, where: str = "backward()") -> None:
    seq = node._seq
    for a in (node, *node._inputs):
        if isinstance(a, Tensor) and getattr(a, "_stamp", 0) > seq:
            what = "the output" if a is node else f"an input (shape {a.shape})"
            raise RuntimeError(
                f"{where}: {what} of op '{node._op.name}' was modified in place after the op recorded it, so the "
                f"derivative would be wrong; do the in-place update after {where}, or update a t.clone()")


# ----------------------------------------------------------------------------- backward

def backward(root: Tensor, gradient: Any = None, retain_graph: bool | None = None,
             create_graph: bool = False) -> None:
    """Accumulate d(root)/d(leaf) into ``leaf.grad`` for every leaf that requires grad.

    ``gradient`` is the vector of the vector-Jacobian product (needed when ``root`` is not a
    scalar). ``create_graph=True`` records the backward pass so the gradients are differentiable;
    it also keeps the graph unless ``retain_graph=False`` is given. Without ``retain_graph`` each
    node's inputs are released as soon as its rules have run, so memory falls during backward.
    """
    if not root.requires_grad:
        raise RuntimeError("backward(): this tensor does not require grad and has no graph; "
                           "create the inputs with requires_grad=True")
    g = _initial_gradient(root, gradient, create_graph)
    if retain_graph is None:
        retain_graph = create_graph
    # Ops inside rules are checked as the node's backward, not as forwards. The modes are set and reset
    # by hand rather than with a context manager object, which would cost as much as a small op.
    check = _MODE.get().anomaly
    token = _MODE.set(_RECORD if create_graph else _NO_RECORD)
    try:
        _run_backward(root, g, create_graph, retain_graph, check)
    finally:
        _MODE.reset(token)


def _initial_gradient(root: Tensor, gradient: Any, create_graph: bool) -> Tensor:
    if gradient is None:
        if root.data.size != 1:
            raise ValueError(
                f"backward() on a {root.shape} output needs gradient=... (an array of that shape); "
                f"use .sum() for a scalar, or tg.jacobian for the full Jacobian")
        return _wrap(np.array(1, dtype=root.data.dtype).reshape(root.data.shape))  # cheaper than ones_like
    if isinstance(gradient, Tensor):
        g = gradient if create_graph else gradient.detach()
        _check_cotangent("backward()", "gradient", g.data, root)
    else:
        try:
            arr = np.asarray(gradient)
        except (TypeError, ValueError) as e:
            raise TypeError(f"backward(): gradient must be an array of numbers of the output's shape "
                            f"{root.shape}, got {type(gradient).__name__}") from e
        _check_cotangent("backward()", "gradient", arr, root)
        g = _wrap(arr.astype(root.data.dtype, copy=False))
    if g.shape != root.shape:
        raise ValueError(f"backward(): gradient has shape {g.shape} but the output has shape {root.shape}; "
                         f"they must be equal")
    return g


def _check_cotangent(where: str, what: str, arr: np.ndarray, out: Tensor) -> None:
    """A cotangent must be real numbers for a real output (a complex one would be cast to 0 with a warning)."""
    if arr.dtype.kind == "c" and out.data.dtype.kind != "c":
        raise TypeError(f"{where}: {what} is complex ({arr.dtype}) but the output is real ({out.data.dtype}); "
                        f"pass a real array (complex numbers are outside tinygrad_mvc)")
    if arr.dtype.kind not in "biufc":
        raise TypeError(f"{where}: {what} must be an array of numbers of the output's shape {out.data.shape}, "
                        f"got dtype {arr.dtype}")


def _freed_error(op: Primitive) -> RuntimeError:
    return RuntimeError(
        f"backward(): the graph through op '{op.name}' was already freed by an earlier backward(); "
        f"pass retain_graph=True to that earlier backward() to backpropagate through it again")


def gradients(output: Tensor, inputs: Sequence[Tensor], cotangent: Any = None, *, batch_ndim: int = 0,
              create_graph: bool = False, retain_graph: bool | None = None) -> list[Tensor]:
    """Vector-Jacobian products of ``output`` with respect to ``inputs``, leaving every ``.grad`` alone.

    ``inputs`` may be any tensors of the graph, leaves or not: backpropagation stops at them, and nodes
    made before the earliest of them are never visited (they cannot depend on it), so a caller's
    enclosing graph is neither walked nor freed. ``cotangent`` has shape ``batch + output.shape`` with
    ``batch_ndim`` leading batch axes: a batch of cotangents goes through the graph in one pass, and
    each result has shape ``batch + input.shape`` (zeros for an input the output does not depend on).
    The transforms of :mod:`tinygrad_mvc.transforms` are thin wrappers over this.
    """
    if retain_graph is None:
        retain_graph = create_graph
    dtype = output.data.dtype if output.data.dtype.kind in "fc" else np.dtype(np.float64)
    if cotangent is None:
        g = _wrap(np.ones(output.data.shape, dtype=dtype))
    elif isinstance(cotangent, Tensor):
        g = cotangent if create_graph else cotangent.detach()
        _check_cotangent("gradients", "the cotangent", g.data, output)
    else:
        arr = np.asarray(cotangent)
        _check_cotangent("gradients", "the cotangent", arr, output)
        g = _wrap(arr.astype(dtype, copy=False))
    batch = g.data.shape[:batch_ndim]
    if g.data.shape[batch_ndim:] != output.data.shape:
        raise ValueError(f"gradients: cotangent has shape {g.data.shape}, expected {batch_ndim} batch axes and then "
                         f"the output's shape {output.data.shape}")
    stop = {id(t): t for t in inputs}
    found: dict[int, Tensor] = {}
    if output.requires_grad and id(output) in stop:
        found[id(output)] = g
    elif output.requires_grad and output._op is not None:
        # A leaf without a creation number (made by Tensor()) may be older than anything: no pruning by it.
        floor = min((getattr(t, "_seq", 1) for t in inputs if t.requires_grad), default=None)
        if floor is not None and output._seq >= floor:
            check = _MODE.get().anomaly
            token = _MODE.set(_RECORD if create_graph else _NO_RECORD)
            try:
                found = _run_backward(output, g, create_graph, retain_graph, check, stop, floor, batch_ndim)
            finally:
                _MODE.reset(token)
    results = []
    for t in inputs:
        r = found.get(id(t))
        if r is None:
            r = _wrap(np.zeros(batch + t.data.shape, dtype=t.data.dtype if t.data.dtype.kind in "fc" else dtype))
        results.append(r)
    return results


def reaches_outside(output: Tensor, inputs: Sequence[Tensor]) -> bool:
    """Whether the graph from ``inputs`` to ``output`` also uses a tensor that requires grad and was made
    outside it: a function closing over a Tensor of an enclosing computation (or a model parameter).
    """
    stop = {id(t) for t in inputs}
    floor = min((getattr(t, "_seq", 1) for t in inputs), default=1)
    if output.requires_grad and id(output) not in stop and output._op is None:
        return getattr(output, "_seq", 0) < floor
    seen: set[int] = set()
    todo = [output] if output._op is not None and id(output) not in stop else []
    while todo:
        args = todo.pop()._inputs
        if args is None:
            continue
        for a in args:
            if isinstance(a, Tensor) and a.requires_grad and id(a) not in stop and id(a) not in seen:
                if getattr(a, "_seq", 0) < floor:  # made before the inputs (leaves of an inner transform are not)
                    return True
                if a._op is None:
                    continue
                seen.add(id(a))
                todo.append(a)
    return False


def _run_backward(root: Tensor, g: Tensor, create_graph: bool, retain_graph: bool, check: bool,
                  stop: dict[int, Tensor] | None = None, floor: int = 0, nb: int = 0) -> dict[int, Tensor]:
    """Apply the rules in reverse creation order, which is a topological order of the graph.

    A max-heap on the creation number hands out each node only after every node that uses it, with
    no recursion and no separate sorting pass. Gradients wait in ``grads`` (keyed by id) and are
    popped when used; ``.grad`` is written on leaves only, at the end.

    With ``stop`` (see :func:`gradients`) the walk ends at those tensors, skips anything made before
    ``floor``, writes no ``.grad`` and returns the gradients of the ``stop`` tensors instead. ``nb``
    leading axes of every gradient are batch axes.
    """
    cast, sum_to = _ops.cast, _ops.sum_to
    # Retained gradients (Tensor.retain_grad) are caught as they are popped, by a dict subclass used only
    # when some tensor retains: the loop itself carries no test for them.
    grads: dict[int, Tensor] = (_retain.GradsKeepingRetained(create_graph) if _retain.retained and stop is None
                                else {})
    grads[id(root)] = g
    leaves: list[Tensor] = []
    found: dict[int, Tensor] = {}
    batch = g.data.shape[:nb]
    # id -> boolean mask of entries known to be exactly zero (from ``where``); see Primitive.zero_mask.
    masks: dict[int, np.ndarray] = {}
    heap: list[tuple[int, Tensor]] = []
    if root._op is None:
        leaves.append(root)
    else:
        heap.append((-root._seq, root))
    pop, push = heapq.heappop, heapq.heappush
    while heap:
        t = pop(heap)[1]
        op, args, kwargs = t._op, t._inputs, t._kwargs
        if args is None:
            raise _freed_error(op)
        if t._seq < _newest_stamp:
            _check_unmodified(t)
        g = grads.pop(id(t))
        rules = op.vjps
        if masks:
            mask = masks.pop(id(t), None)
            if mask is not None and not mask.any():
                mask = None  # nothing known (a where whose condition is all True, say): no bookkeeping
            elif mask is not None and op.zero_map is not None:
                mask = _map_zeros(op, mask, t, args, kwargs)
            special = mask is not None or op.zero_mask is not None
        else:
            mask = None
            special = op.zero_mask is not None
        for i, a in enumerate(args):
            if not (isinstance(a, Tensor) and a.requires_grad):
                continue
            if floor and (a._seq < floor if a._op is not None else id(a) not in stop):
                continue  # cannot lead to an input of gradients()
            rule = rules[i] if i < len(rules) else op.rule(i)
            if rule is None:  # declared zero
                continue
            if nb and not op.batchable:
                ga = per_batch_entry(lambda gb, r=rule, t=t, a=args, k=kwargs: r(gb, t, *a, **k), g, nb)
                zeros = None
            elif special:
                ga, zeros = _masked_rule(rule, op, i, g, t, args, kwargs, mask)
            else:
                ga = rule(g, t, *args, **kwargs) if kwargs else rule(g, t, *args)
                zeros = None
            if ga is None:
                continue
            if check:
                _check_backward(op.name, i, g, ga)
            # The one place where broadcasting is undone and dtypes are matched.
            gdata, adata = ga.data, a.data
            if gdata.shape != adata.shape:
                if not nb:
                    ga = sum_to(ga, adata.shape)
                elif gdata.shape != batch + adata.shape:
                    ga = unbroadcast_batched(ga, adata.shape, nb)
                if zeros is not None and zeros.shape != adata.shape:
                    zeros = _sum_to_mask(zeros, adata.shape)
            if gdata.dtype is not adata.dtype and gdata.dtype != adata.dtype:
                ga = cast(ga, adata.dtype)
            k = id(a)
            prev = grads.get(k)
            if prev is None:
                grads[k] = ga
                if a._op is None:
                    leaves.append(a)
                elif stop is None or k not in stop:
                    push(heap, (-a._seq, a))
                if zeros is not None:
                    masks[k] = zeros
            else:
                grads[k] = prev + ga if create_graph else _wrap(prev.data + ga.data)
                if masks:
                    _merge_mask(masks, k, zeros)
        if not retain_graph:
            t._inputs = t._kwargs = None
    if stop is not None:
        for k in stop:
            r = grads.get(k)
            if r is not None:
                found[k] = r
        return found
    handed_out: set[int] = set()
    for leaf in leaves:
        _accumulate_leaf(leaf, grads.pop(id(leaf)), create_graph, handed_out)
    return found


def unbroadcast_batched(g: Tensor, shape: tuple[int, ...], nb: int) -> Tensor:
    """Sum ``g`` (``nb`` batch axes, then a shape that broadcasts from ``shape``) down to ``batch + shape``."""
    from .ops import reshape, sum

    extra = g.ndim - nb - len(shape)
    axes = tuple(range(nb, nb + extra)) + tuple(
        nb + extra + i for i, n in enumerate(shape) if n == 1 and g.data.shape[nb + extra + i] != 1)
    if axes:
        g = sum(g, axis=axes, keepdims=True)
    return reshape(g, g.data.shape[:nb] + tuple(shape)) if extra else g


def per_batch_entry(fn: Callable[[Tensor], Tensor | None], g: Tensor, nb: int) -> Tensor | None:
    """Apply ``fn``, which only knows unbatched arrays, to each entry of ``g``'s ``nb`` batch axes; stack the results.

    Used for rules that are not ``batchable``, in both the backward and the forward pass.
    """
    from .ops import getitem, reshape, stack

    if nb == 0:
        return fn(g)
    flat = reshape(g, (-1,) + g.data.shape[nb:])
    parts = [fn(getitem(flat, b)) for b in range(flat.data.shape[0])]
    if any(p is None for p in parts):
        return None
    out = stack(parts)
    return reshape(out, g.data.shape[:nb] + out.data.shape[1:])


def _masked_rule(rule: Rule, op: Primitive, i: int, g: Tensor, t: Tensor, args: tuple[Any, ...],
                 kwargs: dict[str, Any], mask: np.ndarray | None) -> tuple[Tensor | None, np.ndarray | None]:
    """Run a rule where some entries of the gradient are structurally zero (below a ``where``).

    Those entries must stay exactly zero even where the rule's local derivative is NaN or Inf
    (``0 * inf``), so the unselected branch of a ``where`` never leaks into the gradient. An entry
    of an input's gradient is structurally zero when every contribution to it is: elementwise ops
    keep the mask, structural ops move it the way their rule moves ``g``, and every other op of the
    table maps it with its ``zero_map`` (see :func:`_map_zeros`); the rule's result is forced to exact
    zeros there with a ``where``, recorded under ``create_graph`` so the next order keeps them too.
    An op with none of these (a user's primitive without a ``zero_map``) hands on nothing: below it
    the gradient is what its rule computes, as if there were no ``where`` (conservative).
    Returns the gradient and the mask of zero entries to hand on to the input (None when nothing is known).
    """
    from .ops import where

    zeros = op.zero_mask(i, args, t.data.shape) if op.zero_mask is not None else None
    if mask is None:
        return rule(g, t, *args, **kwargs), zeros
    if type(mask) is _MappedZeros:  # an op with a zero_map: see _map_zeros
        with np.errstate(all="ignore"):
            ga = rule(g, t, *mask.args, **kwargs)
        known = mask.zeros[i]
        if known is not None and not known.any():
            known = None  # nothing known: the chain of masks ends here
        if ga is not None and known is not None:
            ga = where(known, 0.0, ga)
        if zeros is not None:
            known = zeros if known is None else known | zeros
        return ga, known
    if op.elementwise:
        with np.errstate(all="ignore"):
            ga = rule(g, t, *args, **kwargs)
        if ga is not None:
            ga = where(mask, 0.0, ga)
        return ga, (mask if zeros is None else zeros | mask)
    ga = rule(g, t, *args, **kwargs)
    if op.structural and ga is not None:
        with _set_grad_enabled(False):
            live = rule(_wrap((~mask).astype(np.float64)), t, *args, **kwargs)
        return ga, live.data == 0
    return ga, None


def _sum_to_mask(zeros: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """The known-zero entries after summing a gradient down to ``shape`` (all summed entries zero)."""
    from .ops import _sum_to

    return _sum_to((~zeros).astype(np.int64), shape) == 0


def _merge_mask(masks: dict[int, np.ndarray], k: int, zeros: np.ndarray | None) -> None:
    """A second gradient arrived for ``k``: an entry stays known-zero only if it is zero in both."""
    m = masks.get(k)
    if m is None:
        return
    if zeros is None:
        del masks[k]
    else:
        masks[k] = m & zeros


class _MappedZeros:
    """A node's known zeros mapped through its op's ``zero_map``: one mask per input, and the inputs
    the rules see, in which values that only feed known-zero entries of g are replaced by 0."""

    __slots__ = ("zeros", "args")

    def __init__(self, zeros: list[np.ndarray | None], args: tuple[Any, ...]) -> None:
        self.zeros, self.args = zeros, args


def _map_zeros(op: Primitive, mask: np.ndarray, t: Tensor, args: tuple[Any, ...],
               kwargs: dict[str, Any]) -> _MappedZeros:
    """Map the known zeros of ``t``'s gradient to its inputs' gradients, once per node.

    An input entry whose gradient is known to be zero influences only outputs whose gradient is
    known to be zero: its value cannot change any other entry of any input's gradient. Replacing it
    by 0 keeps a NaN or Inf there out of the sums inside the rules (``xᵀ @ g`` adds ``0 * inf``
    from a row of ``x`` that only fed an unselected row of the output). The replacement is a
    ``where``, so with ``create_graph`` the next pass keeps those entries out as well.
    """
    from .ops import where

    with _set_grad_enabled(False), np.errstate(all="ignore"):
        zeros = [op.zero_map(j, mask, t, *args, **kwargs) if _is_float_array(a) else None
                 for j, a in enumerate(args)]
    rule_args = list(args)
    for j, (a, z) in enumerate(zip(args, zeros, strict=True)):
        if z is None or not z.any():
            continue
        shape = a.data.shape if isinstance(a, Tensor) else np.shape(a)
        dead = z if z.shape == shape else _sum_to_mask(z, shape)
        if dead.any():
            rule_args[j] = where(dead, 0.0, a) if isinstance(a, Tensor) else np.where(dead, 0.0, a)
    return _MappedZeros(zeros, tuple(rule_args))


def _is_float_array(a: Any) -> bool:
    data = a.data if isinstance(a, Tensor) else a
    return isinstance(data, np.ndarray) and data.dtype.kind == "f"


def _accumulate_leaf(t: Tensor, g: Tensor, create_graph: bool, handed_out: set[int]) -> None:
    if not create_graph:
        # Leaves own their gradients: never share one array between two leaves or with a broadcast view.
        if id(g) in handed_out or not g.data.flags.writeable:
            g = _wrap(np.array(g.data))
        handed_out.add(id(g))
    if t.grad is None:
        t.grad = g
    elif create_graph:
        t.grad = t.grad + g
    else:
        t.grad = _wrap(t.grad.data + g.data)


def _check_backward(name: str, argnum: int, g: Tensor, ga: Tensor) -> None:
    if not np.all(np.isfinite(ga.data)) and np.all(np.isfinite(g.data)):
        raise FloatingPointError(
            f"detect_anomaly: backward of op '{name}' produced NaN/Inf in the gradient of its input {argnum}")


# ---- issue 18 (malloc18): an opt-in allocator setting for large arrays

def tune_allocator(mmap_threshold: int = 1 << 25, trim_threshold: int = 1 << 30, top_pad: int = 1 << 26) -> bool:
    """Keep freed array memory inside the process (glibc's malloc only); True if it was applied.

    Opt-in and process-wide: it changes how every later allocation of the process is served, not
    only this library's, and cannot be undone (glibc then stops adjusting its thresholds itself).
    Without it glibc maps an array above its mmap threshold (128 KB at start, raised to the largest
    array freed so far) afresh, and gives the top of its heap back to the system once more than
    twice that threshold is free there. Code that frees two or three of its largest arrays at once
    (hand-written NumPy as much as a backward pass: ``(1 - a) ** 2`` on 100 000 floats) then has
    their pages faulted in again on the next call, which can cost more than the arithmetic. This
    raises the mmap threshold to ``mmap_threshold`` bytes (glibc ignores more than 32 MiB), the trim threshold
    to ``trim_threshold`` and the heap's growth step to ``top_pad``; results do not change. It returns
    False, and changes nothing, on other C libraries (macOS, musl, Windows). Environment variables do
    the same before Python starts: ``MALLOC_MMAP_THRESHOLD_``, ``MALLOC_TRIM_THRESHOLD_``, ``MALLOC_TOP_PAD_``.

    >>> tune_allocator(mmap_threshold=-1)  # a call with valid sizes changes the whole process: see docs/API.md
    Traceback (most recent call last):
    ...
    ValueError: tune_allocator: mmap_threshold must be a number of bytes (an int >= 0), got -1
    """
    import ctypes
    import platform

    for name, value in (("mmap_threshold", mmap_threshold), ("trim_threshold", trim_threshold), ("top_pad", top_pad)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= value < 1 << 62:
            raise ValueError(f"tune_allocator: {name} must be a number of bytes (an int >= 0), got {value!r}")
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    int_max = (1 << 31) - 1  # mallopt takes a C int; glibc's malloc.h numbers the parameters
    for name, param, value in (("mmap_threshold", -3, mmap_threshold), ("trim_threshold", -1, trim_threshold),
                               ("top_pad", -2, top_pad)):
        if not mallopt(param, min(int(value), int_max)):
            raise ValueError(f"tune_allocator: glibc's mallopt refused {name}={value}; pass a smaller {name}")
    return True


from . import _retain  # noqa: E402
from . import ops as _ops  # noqa: E402  (the table imports this module; bound once both exist)
