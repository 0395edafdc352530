"""Function transforms in the style of JAX: grad, value_and_grad, vjp, jvp, linearize, jacobian, hessian, hvp.

Each takes a Python function of Tensors and returns a function. Called with NumPy arrays or floats,
that function returns NumPy arrays; called with Tensors it returns Tensors connected to the caller's
graph, so the transforms nest: ``grad(grad(f))``, ``jacobian(grad(f))``, or a ``grad`` of a function
that calls ``grad`` itself.

All of them are thin wrappers over two passes of the engine: :func:`engine.gradients` (reverse
mode, vector-Jacobian products) and :func:`forward.push_forward` (forward mode, Jacobian-vector
products), both of which push a whole batch of vectors through the graph at once. The function is
differentiated with respect to fresh tensors that stand for its arguments (an ``identity`` node when
the argument is itself part of a graph), so an inner ``grad`` never confuses its own input with the
same tensor used by an enclosing computation.

Containers (pytrees): a differentiated argument may be a nested tuple, list, namedtuple or dict of
arrays, Tensors and numbers (:mod:`.pytree`); its gradient comes back in the same structure, as in
JAX and HIPS autograd. ``vjp``, ``jvp``, ``linearize`` and ``jacobian`` also accept a function that
returns a container: the Jacobian is then that container, each leaf holding the Jacobian of that
output with respect to the arguments in their structure (leaf ``out_k.shape + in_j.shape``), and
``hessian`` of a dict argument is a dict of dicts. A plain array argument takes the plain path.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import engine, ops, pytree
from . import sparsity as sparsity_
from .forward import push_forward
from .tensor import Tensor, _wrap

__all__ = ["grad", "value_and_grad", "vjp", "jvp", "linearize", "jacobian", "hessian", "hvp", "elementwise_grad"]

ArgNums = int | Sequence[int]

_CONTAINERS = (tuple, list, dict)  # the containers pytree flattens (checked inline on the plain path)

BATCH_BUDGET = 1 << 22
"""Most array entries per intermediate of a batched pass (32 MB in float64); larger batches go in chunks."""


# ----------------------------------------------------------------------------- preparing a call

@dataclass
class _Call:
    """A call of the user's function, with the differentiated arguments replaced by fresh tensors."""

    args: list[Any]
    inputs: list[Tensor]
    tensor_mode: bool  # some differentiated argument was a Tensor: return Tensors
    create_graph: bool  # record the derivative passes, so the caller can differentiate the results
    # Only when a differentiated argument is a container: per argnums entry, its structure and how many
    # of ``inputs`` are its leaves (None for a plain argument, one input).
    trees: list[tuple[pytree.TreeDef | None, int]] | None = None
    # Only when ``f`` returned a container: its structure and its leaves (the traced output is their
    # flattened concatenation).
    out_tree: tuple[pytree.TreeDef, list[Tensor]] | None = None


def _argnums(name: str, argnums: Any, nargs: int) -> tuple[int, ...]:
    many = isinstance(argnums, (tuple, list))
    nums = tuple(argnums) if many else (argnums,)
    if not nums or not all(isinstance(i, (int, np.integer)) and not isinstance(i, bool) for i in nums):
        raise TypeError(f"{name}: argnums must be an int or a tuple of ints, got {argnums!r}")
    for i in nums:
        if not -nargs <= i < nargs:
            raise ValueError(f"{name}: argnums={argnums!r} but the function was called with {nargs} positional "
                             f"argument{'s' if nargs != 1 else ''}")
    return tuple(int(i) % nargs for i in nums)


def _fresh(data: np.ndarray) -> Tensor:
    t = _wrap(data)
    t.requires_grad = True
    t._seq = next(engine._sequence)
    return t


def _as_input(name: str, a: Any) -> tuple[Tensor, bool]:
    """The tensor to differentiate with respect to in place of ``a``, and whether ``a`` was a Tensor."""
    if isinstance(a, Tensor):
        if a.data.dtype.kind != "f":
            raise TypeError(f"{name}: cannot differentiate with respect to a Tensor of dtype {a.data.dtype}")
        if a.requires_grad and engine.is_grad_enabled():
            return ops.identity(a), True  # a node of its own, still connected to the caller's graph
        return _fresh(a.data), True
    try:
        arr = np.asarray(a)
    except Exception as e:  # noqa: BLE001 - report any conversion failure as the argument's fault
        raise TypeError(f"{name}: cannot differentiate with respect to {type(a).__name__}: {e}") from e
    if arr.dtype.kind in "biu":
        arr = arr.astype(np.float64)
    if arr.dtype.kind != "f":
        raise TypeError(f"{name}: cannot differentiate with respect to an argument of dtype {arr.dtype}; "
                        f"pass floats, a NumPy float array or a Tensor")
    return _fresh(arr), False


def _prepare(name: str, args: Sequence[Any], nums: tuple[int, ...]) -> _Call:
    """Replace the differentiated arguments by fresh input tensors, and NumPy arrays among the others by
    constant Tensors: the function is a function of Tensors, whichever arguments are differentiated.
    An argument named twice in ``argnums`` is one input, and its gradient comes back twice."""
    args = list(args)
    for i in nums:
        if isinstance(args[i], _CONTAINERS):
            return _prepare_trees(name, args, nums)
    made: dict[int, Tensor] = {}
    inputs, tensor_mode = [], False
    for i in nums:
        if i not in made:
            made[i], was_tensor = _as_input(name, args[i])
            args[i] = made[i]
            tensor_mode = tensor_mode or was_tensor
        inputs.append(made[i])
    _constants(args, made)
    return _Call(args, inputs, tensor_mode, tensor_mode and engine.is_grad_enabled())


def _constants(args: list[Any], made: Any) -> None:
    for i, a in enumerate(args):
        if i not in made and isinstance(a, (np.ndarray, np.number, np.bool_)):
            args[i] = _wrap(np.asarray(a))


def _prepare_trees(name: str, args: list[Any], nums: tuple[int, ...]) -> _Call:
    """:func:`_prepare` when some differentiated argument is a container: every leaf becomes an input."""
    made: dict[int, tuple[pytree.TreeDef | None, list[Tensor]]] = {}
    inputs: list[Tensor] = []
    trees: list[tuple[pytree.TreeDef | None, int]] = []
    tensor_mode = False
    for i in nums:
        if i not in made:
            if pytree.is_container(args[i]):
                leaves, tree = pytree.flatten(args[i])
                fresh = []
                for k, leaf in enumerate(leaves):
                    t, was_tensor = _as_input(f"{name} (argument {i}, leaf {k} of {tree!r})", leaf)
                    fresh.append(t)
                    tensor_mode = tensor_mode or was_tensor
                made[i] = (tree, fresh)
                args[i] = pytree.unflatten(tree, fresh)
            else:
                t, was_tensor = _as_input(name, args[i])
                made[i] = (None, [t])
                args[i] = t
                tensor_mode = tensor_mode or was_tensor
        tree, fresh = made[i]
        inputs.extend(fresh)
        trees.append((tree, len(fresh)))
    _constants(args, made)
    return _Call(args, inputs, tensor_mode, tensor_mode and engine.is_grad_enabled(), trees)


def _grouped(call: _Call, flat: list[Any]) -> list[Any]:
    """Per-input results regrouped per argnums entry: a container of the argument's structure, or one result."""
    if call.trees is None:
        return flat
    groups, start = [], 0
    for tree, count in call.trees:
        part = flat[start:start + count]
        groups.append(part[0] if tree is None else pytree.unflatten(tree, part))
        start += count
    return groups


def _flat_tangents(name: str, what: str, call: _Call, vs: Sequence[Any]) -> list[Any]:
    """Tangents given per argnums entry (containers like their arguments), as one per input."""
    if call.trees is None:
        return list(vs)
    flat = []
    for k, (v, (tree, _count)) in enumerate(zip(vs, call.trees, strict=True)):
        flat.extend([v] if tree is None else pytree.flatten_like(tree, v, f"{name}: {what} {k}"))
    return flat


def _trace(name: str, f: Callable[..., Any], call: _Call, kwargs: dict[str, Any], *, real: bool = False,
           tree: bool = False) -> Tensor:
    """Run ``f`` recording its graph (even inside ``no_grad``: the transform needs it).

    While ``f`` runs, turning a Tensor that depends on the inputs into a number or an array raises
    (:func:`engine.check_conversion`): it would cut the derivative silently. ``real`` (for ``grad``)
    refuses a boolean or integer output, whose derivative is not defined.

    When ``f`` closes over a Tensor that requires grad (a variable of an enclosing transform, a model
    parameter) the results must stay connected to it, so they come back as Tensors even for NumPy
    arguments: otherwise an outer derivative would silently miss that dependence.

    ``tree`` (vjp, jvp, jacobian) accepts an output that is a container: its leaves are kept in
    ``call.out_tree`` and the traced output is their flattened concatenation.
    """
    token = engine.begin_trace(name, call.inputs)
    try:
        with engine.enable_grad():
            out = f(*call.args, **kwargs)
    finally:
        engine.end_trace(token)
    if isinstance(out, _CONTAINERS):
        if not tree:
            raise TypeError(f"{name}: the function returned a {type(out).__name__}; it must return one Tensor")
        leaves, structure = pytree.flatten(out)
        parts = [_output(name, leaf, call, real) for leaf in leaves]
        call.out_tree = (structure, parts)
        if not parts:
            return _wrap(np.zeros(0))
        return ops.concatenate([ops.reshape(p, (-1,)) for p in parts])
    return _output(name, out, call, real)


def _output(name: str, out: Any, call: _Call, real: bool) -> Tensor:
    """The traced function's output (or one leaf of it) as a Tensor, with the checks of :func:`_trace`."""
    arr = out.data if isinstance(out, Tensor) else np.asarray(out)
    if arr.dtype.kind == "c":
        raise TypeError(f"{name}: the function returned a complex value ({arr.dtype}); complex numbers are out of "
                        f"scope in tinygrad_mvc (no complex derivatives): differentiate the real and imaginary "
                        f"parts as real functions")
    if real and arr.dtype.kind in "biu":
        raise TypeError(f"{name}: the function returned a {'boolean' if arr.dtype.kind == 'b' else 'integer'} value, "
                        f"which has no derivative; return a float (comparisons and rounding carry no gradient)")
    if isinstance(out, Tensor):
        if not call.tensor_mode and engine.is_grad_enabled() and engine.reaches_outside(out, call.inputs):
            call.tensor_mode = call.create_graph = True
        return out
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name}: the function returned {type(out).__name__}, not a Tensor or number")
    return _wrap(arr.astype(np.float64) if arr.dtype.kind != "f" else arr)


def _result(t: Tensor, call: _Call) -> Any:
    """A Tensor in tensor mode; otherwise a NumPy array the caller owns (a NumPy scalar for 0-d)."""
    if call.tensor_mode:
        return t
    data = t.data
    if not (data.flags.owndata and data.flags.writeable):
        data = np.array(data)
    return data[()] if data.ndim == 0 else data


def _single(results: list[Any], argnums: Any) -> Any:
    return results[0] if isinstance(argnums, (int, np.integer)) else tuple(results)


def _check_tangent(name: str, what: str, v: Any, x: Tensor) -> Any:
    shape = v.shape if isinstance(v, Tensor) else np.shape(v)
    if shape != x.data.shape:
        raise ValueError(f"{name}: {what} has shape {shape} but its argument has shape {x.data.shape}")
    return v


# ----------------------------------------------------------------------------- reverse mode

def value_and_grad(f: Callable[..., Any], argnums: ArgNums = 0) -> Callable[..., tuple[Any, Any]]:
    """``f`` and its gradient together: ``(f(*args), ∂f/∂args[argnums])``, for one forward and one backward pass.

    ``f`` must return a scalar. With a tuple ``argnums`` the gradient is a tuple, one per argument,
    each of its argument's shape.

    >>> import tinygrad_mvc as tg
    >>> tg.value_and_grad(lambda x: (x ** 2).sum())(np.array([1.0, 2.0]))
    (np.float64(5.0), array([2., 4.]))
    """

    @functools.wraps(f)
    def value_and_grad_f(*args: Any, **kwargs: Any) -> tuple[Any, Any]:
        call = _prepare("grad", args, _argnums("grad", argnums, len(args)))
        out = _trace("grad", f, call, kwargs, real=True)
        if out.data.size != 1:
            raise ValueError(
                f"grad: the function returned shape {out.data.shape}, not a scalar; use tg.elementwise_grad(f) for "
                f"the derivative at every point of an elementwise f, tg.jacobian(f) for the Jacobian of a vector "
                f"output, tg.vjp for a vector-Jacobian product, or reduce it (e.g. .sum())")
        grads = engine.gradients(out, call.inputs, create_graph=call.create_graph)
        return _result(out, call), _single(_grouped(call, [_result(g, call) for g in grads]), argnums)

    return value_and_grad_f


def grad(f: Callable[..., Any], argnums: ArgNums = 0) -> Callable[..., Any]:
    """The gradient of a scalar function: ``grad(f)(x)`` has ``x``'s shape. Cost: about 2-3 evaluations of ``f``.

    A non-scalar output is a ``ValueError`` (use :func:`jacobian`). Nest it for higher derivatives.

    >>> import tinygrad_mvc as tg
    >>> tg.grad(lambda x: x ** 3)(2.0)               # 3 x²
    np.float64(12.0)
    >>> tg.grad(tg.grad(lambda x: x ** 3))(2.0)      # 6 x
    np.float64(12.0)
    >>> tg.grad(lambda p: p["w"] * p["b"])({"w": 2.0, "b": 3.0})   # containers: same structure back
    {'w': np.float64(3.0), 'b': np.float64(2.0)}
    """
    value_and_grad_f = value_and_grad(f, argnums)

    @functools.wraps(f)
    def grad_f(*args: Any, **kwargs: Any) -> Any:
        return value_and_grad_f(*args, **kwargs)[1]

    return grad_f


def vjp(f: Callable[..., Any], *primals: Any) -> tuple[Any, Callable[[Any], tuple[Any, ...]]]:
    """``(f(*primals), vjp_fn)`` where ``vjp_fn(u)`` is ``uᵀ J``: a tuple, one gradient per primal.

    ``u`` has the output's shape; each call costs one backward pass (the graph is kept for reuse).

    >>> out, vjp_fn = vjp(lambda x: x * x, np.array([1.0, 2.0]))
    >>> vjp_fn(np.array([1.0, 10.0]))
    (array([ 2., 40.]),)
    """
    call = _prepare("vjp", primals, tuple(range(len(primals))))
    out = _trace("vjp", f, call, {}, tree=True)

    def vjp_fn(cotangent: Any) -> tuple[Any, ...]:
        if call.out_tree is not None:
            cotangent = _flat_cotangent(call.out_tree, cotangent)
        shape = cotangent.shape if isinstance(cotangent, Tensor) else np.shape(cotangent)
        if shape != out.data.shape:
            raise ValueError(f"vjp: the cotangent has shape {shape} but the output has shape {out.data.shape}")
        create = call.create_graph or (isinstance(cotangent, Tensor) and cotangent.requires_grad)
        grads = engine.gradients(out, call.inputs, cotangent, create_graph=create, retain_graph=True)
        return tuple(_grouped(call, [_result(g, call) for g in grads]))

    return _out_result(out, call), vjp_fn


def _flat_cotangent(out_tree: tuple[pytree.TreeDef, list[Tensor]], cotangent: Any) -> Any:
    """A cotangent shaped like a container output, as one vector of the flattened output."""
    structure, parts = out_tree
    leaves = pytree.flatten_like(structure, cotangent, "vjp: the cotangent")
    for k, (u, p) in enumerate(zip(leaves, parts)):
        shape = u.shape if isinstance(u, Tensor) else np.shape(u)
        if shape != p.data.shape:
            raise ValueError(f"vjp: leaf {k} of the cotangent has shape {shape} but that output has shape "
                             f"{p.data.shape}")
    if not leaves:
        return np.zeros(0)
    if any(isinstance(u, Tensor) for u in leaves):
        return ops.concatenate([ops.reshape(u, (-1,)) for u in leaves])
    return np.concatenate([np.ravel(u) for u in leaves])


def _out_result(out: Tensor, call: _Call) -> Any:
    """The function's value for the caller: :func:`_result`, in the output's container when it returned one."""
    if call.out_tree is None:
        return _result(out, call)
    structure, parts = call.out_tree
    return pytree.unflatten(structure, [_result(p, call) for p in parts])


def _split_output(flat: Tensor, call: _Call, trailing: tuple[int, ...] = ()) -> Any:
    """A result whose leading axis runs over the flattened output, cut into the output's container.

    Leaf k gets the shape ``leaf_k.shape + trailing``; the pieces are Tensor ops, so they stay
    differentiable in tensor mode.
    """
    structure, parts = call.out_tree
    pieces, start = [], 0
    for p in parts:
        stop = start + p.data.size
        pieces.append(_result(ops.reshape(flat[start:stop], p.data.shape + trailing), call))
        start = stop
    return structure, pieces


# ----------------------------------------------------------------------------- forward mode

def jvp(f: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[Any, Any]:
    """``(f(*primals), J·tangents)`` by forward mode: one evaluation of ``f`` plus one tangent pass.

    Each tangent has its primal's shape; the result has the output's shape.

    >>> import tinygrad_mvc as tg
    >>> tg.jvp(tg.sin, (0.0,), (2.0,))                # cos(0) · 2
    (np.float64(0.0), np.float64(2.0))
    """
    primals, tangents = _pair("jvp", primals, tangents)
    out, jvp_fn = linearize(f, *primals)
    return out, jvp_fn(*tangents)


def _pair(name: str, primals: Any, tangents: Any) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError(f"{name}: primals and tangents must be tuples, e.g. {name}(f, (x,), (v,))")
    if len(primals) != len(tangents):
        raise ValueError(f"{name}: {len(primals)} primals but {len(tangents)} tangents; give one tangent per primal")
    return tuple(primals), tuple(tangents)


def linearize(f: Callable[..., Any], *primals: Any) -> tuple[Any, Callable[..., Any]]:
    """``(f(*primals), jvp_fn)``: ``f`` is evaluated once, then ``jvp_fn(*tangents)`` is J·tangents.

    Each call of ``jvp_fn`` is one forward tangent pass over the recorded graph: the linear map
    ``v ↦ f(x₀) + J v`` approximates ``f(x₀ + v)``.

    >>> y, f_jvp = linearize(lambda x: x ** 2, 3.0)
    >>> y, f_jvp(0.5)                                 # 9 and 2·3·0.5
    (np.float64(9.0), np.float64(3.0))
    """
    call = _prepare("linearize", primals, tuple(range(len(primals))))
    out = _trace("linearize", f, call, {}, tree=True)

    def jvp_fn(*tangents: Any) -> Any:
        if len(tangents) != len(primals):
            raise ValueError(f"jvp: {len(primals)} primals but {len(tangents)} tangents")
        tangents = tuple(_flat_tangents("jvp", "tangent", call, tangents))
        for v, x in zip(tangents, call.inputs, strict=True):
            _check_tangent("jvp", "a tangent", v, x)
        create = call.create_graph or any(isinstance(v, Tensor) and v.requires_grad for v in tangents)
        tangent_out = push_forward(out, call.inputs, tangents, create_graph=create)
        if call.out_tree is None:
            return _result(tangent_out, call)
        return pytree.unflatten(*_split_output(tangent_out, call))

    return _out_result(out, call), jvp_fn


# ----------------------------------------------------------------------------- Jacobians and Hessians

def jacobian(f: Callable[..., Any], argnums: ArgNums = 0, mode: str = "auto") -> Callable[..., Any]:
    """The Jacobian of ``f``, of shape ``out.shape + in.shape`` (a tuple of them for a tuple ``argnums``).

    ``mode="rev"`` pushes the m output basis vectors backward (m VJPs), ``"fwd"`` pushes the n input
    basis vectors forward (n JVPs); either way they go through the graph as one batch (in chunks of at
    most ``BATCH_BUDGET`` entries per intermediate), not one by one. ``"auto"`` picks forward mode when
    the inputs are fewer than the outputs (n < m: tall Jacobians) and reverse mode otherwise.

    >>> import tinygrad_mvc as tg
    >>> tg.jacobian(lambda x: x[:2] * x[1:])(np.array([1.0, 2.0, 3.0]))
    array([[2., 1., 0.],
           [0., 3., 2.]])
    """
    if mode not in ("auto", "rev", "fwd"):
        raise ValueError(f"jacobian: mode must be 'auto', 'rev' or 'fwd', got {mode!r}")

    @functools.wraps(f)
    def jacobian_f(*args: Any, **kwargs: Any) -> Any:
        call = _prepare("jacobian", args, _argnums("jacobian", argnums, len(args)))
        out = _trace("jacobian", f, call, kwargs, tree=True)
        n = sum(x.data.size for x in call.inputs)
        use = mode if mode != "auto" else ("fwd" if n < out.data.size else "rev")
        with engine._set_grad_enabled(call.create_graph):
            blocks = (_jacobian_fwd if use == "fwd" else _jacobian_rev)(out, call)
        if call.out_tree is None:
            return _single(_grouped(call, [_result(b, call) for b in blocks]), argnums)
        return _jacobian_tree(blocks, call, argnums)

    return jacobian_f


def _jacobian_tree(blocks: list[Tensor], call: _Call, argnums: Any) -> Any:
    """The Jacobian of a container output: that container, each leaf holding the Jacobian of that output
    (with respect to the arguments, in their structure), as JAX gives it."""
    per_input = []  # per input: its block cut into one piece per output leaf
    for b, x in zip(blocks, call.inputs, strict=True):
        per_input.append(_split_output(b, call, x.data.shape)[1])
    columns = list(zip(*per_input)) if per_input else [() for _ in call.out_tree[1]]
    per_output = [_single(_grouped(call, list(column)), argnums) for column in columns]
    return pytree.unflatten(call.out_tree[0], per_output)


def _basis(start: int, stop: int, n: int, dtype: Any) -> np.ndarray:
    """Rows ``start..stop`` of the n×n identity."""
    rows = np.zeros((stop - start, n), dtype=dtype)
    rows[np.arange(stop - start), np.arange(start, stop)] = 1
    return rows


def _chunks(count: int, width: int) -> list[tuple[int, int]]:
    step = max(1, min(count, BATCH_BUDGET // max(1, width)))
    return [(s, min(s + step, count)) for s in range(0, count, step)]


def _empty(out: Tensor, call: _Call) -> list[Tensor]:
    """The Jacobian when the output or an input has no entries: zeros of the right shape."""
    dtype = out.data.dtype if out.data.dtype.kind == "f" else np.float64
    return [_wrap(np.zeros(out.data.shape + x.data.shape, dtype=dtype)) for x in call.inputs]


def _jacobian_rev(out: Tensor, call: _Call) -> list[Tensor]:
    m, shape = out.data.size, out.data.shape
    dtype = out.data.dtype if out.data.dtype.kind == "f" else np.float64
    if m == 0 or any(x.data.size == 0 for x in call.inputs):
        return _empty(out, call)
    width = max([m] + [x.data.size for x in call.inputs])
    parts: list[list[Tensor]] = [[] for _ in call.inputs]
    for start, stop in _chunks(m, width):
        cotangents = _basis(start, stop, m, dtype).reshape((stop - start,) + shape)
        grads = engine.gradients(out, call.inputs, cotangents, batch_ndim=1, create_graph=call.create_graph,
                                 retain_graph=True)
        for p, g in zip(parts, grads, strict=True):
            p.append(g)
    return [ops.reshape(_join(p), shape + x.data.shape) for p, x in zip(parts, call.inputs, strict=True)]


def _jacobian_fwd(out: Tensor, call: _Call) -> list[Tensor]:
    m, shape = out.data.size, out.data.shape
    if m == 0 or any(x.data.size == 0 for x in call.inputs):
        return _empty(out, call)
    blocks = []
    for j, x in enumerate(call.inputs):
        n = x.data.size
        width = max(m, n)
        parts = []
        for start, stop in _chunks(n, width):
            tangents: list[Any] = [None] * len(call.inputs)
            tangents[j] = _basis(start, stop, n, x.data.dtype).reshape((stop - start,) + x.data.shape)
            parts.append(push_forward(out, call.inputs, tangents, batch_ndim=1, create_graph=call.create_graph))
        columns = ops.reshape(_join(parts), (n, m))  # row i: the derivative along input entry i
        blocks.append(ops.reshape(ops.transpose(columns), shape + x.data.shape))
    return blocks


def _join(parts: list[Tensor]) -> Tensor:
    return parts[0] if len(parts) == 1 else ops.concatenate(parts, axis=0)


def hessian(f: Callable[..., Any], argnums: ArgNums = 0, sparsity: Any = None) -> Callable[..., Any]:
    """The Hessian of a scalar ``f``, of shape ``in.shape + in.shape``, by forward mode over reverse mode.

    The gradient's graph is recorded once, then the n input basis vectors are pushed forward through
    it as one batch: about the cost of n Hessian-vector products done at array speed, with no Python
    loop over n. A tuple ``argnums`` gives the blocks ``H[i][j] = ∂²f / ∂args[i] ∂args[j]``.

    ``sparsity="auto"`` reads the Hessian's sparsity pattern from the recorded graph (which input
    entries meet in a non-linear op, :mod:`.sparsity`), colours the columns so that columns with no
    common nonzero row share one Hessian-vector product, and fills the same dense array from those
    few products (3 for a tridiagonal Hessian, whatever n). A pattern too dense to pay gives the
    dense Hessian. ``sparsity`` may instead be a boolean array of shape ``(n, n)`` or
    ``in.shape + in.shape``, True where the Hessian may be nonzero (entries outside it come back as
    0). Sparsity applies to one array argument (an int ``argnums``); a container or a Tensor argument
    takes the dense path.

    >>> import tinygrad_mvc as tg
    >>> tg.hessian(lambda x: x[0] ** 2 * x[1])(np.array([1.0, 3.0]))
    array([[6., 2.],
           [2., 0.]])
    >>> tg.hessian(lambda x: (x[1:] * x[:-1] ** 2).sum(), sparsity="auto")(np.array([1.0, 2.0, 3.0]))
    array([[4., 2., 0.],
           [2., 6., 4.],
           [0., 4., 0.]])
    """
    auto = isinstance(sparsity, str)
    if auto and sparsity != "auto":
        raise ValueError(f"hessian: sparsity must be None, 'auto' or a boolean pattern array, got {sparsity!r}")
    if isinstance(argnums, (int, np.integer)):
        dense = jacobian(grad(f, argnums), argnums, mode="fwd")
        if sparsity is None:
            return dense
        pattern = None if auto else np.asarray(sparsity, dtype=bool)
        cache = sparsity_.PatternCache()  # the graph's pattern and colouring, reused while the graph is alike

        @functools.wraps(f)
        def sparse_hessian_f(*args: Any, **kwargs: Any) -> Any:
            h = _sparse_hessian(f, argnums, pattern, cache, args, kwargs)
            return dense(*args, **kwargs) if h is None else h

        return sparse_hessian_f
    if sparsity is not None:
        raise ValueError(f"hessian: sparsity= needs one argument (an int argnums), got argnums={argnums!r}; "
                         f"differentiate one argument, or drop sparsity=")
    nums = tuple(argnums)

    @functools.wraps(f)
    def hessian_blocks(*args: Any, **kwargs: Any) -> tuple[tuple[Any, ...], ...]:
        grad_f = grad(f, nums)
        return tuple(jacobian(lambda *a, i=i: grad_f(*a, **kwargs)[i], nums, mode="fwd")(*args)
                     for i in range(len(nums)))

    return hessian_blocks


def _sparse_hessian(f: Callable[..., Any], argnums: int, pattern: np.ndarray | None,
                    cache: sparsity_.PatternCache, args: Sequence[Any], kwargs: dict[str, Any]) -> Any:
    """The Hessian from a few Hessian-vector products along coloured columns; None to take the dense path."""
    nums = _argnums("hessian", argnums, len(args))
    if isinstance(args[nums[0]], (*_CONTAINERS, Tensor)):
        return None
    call = _prepare("hessian", args, nums)
    x = call.inputs[0]
    n = x.data.size
    if pattern is not None and pattern.shape not in ((n, n), x.data.shape * 2):
        raise ValueError(f"hessian: the sparsity pattern has shape {pattern.shape} but the argument has shape "
                         f"{x.data.shape}; give a boolean array of shape {(n, n)} or {x.data.shape * 2}")
    out = _trace("hessian", f, call, kwargs, real=True)
    if call.tensor_mode or out.data.size != 1 or n == 0:
        return None  # the dense path gives Tensors, or the error for a non-scalar output
    found = cache.colouring(out, [x]) if pattern is None else cache.given(pattern, n)
    if found is None:
        return None
    rows, cols, colours = found
    g = engine.gradients(out, [x], create_graph=True)[0]
    tangents = sparsity_.seeds(colours, x.data.dtype)
    products = [push_forward(g, [x], [tangents[a:b].reshape((b - a,) + x.data.shape)], batch_ndim=1).data
                for a, b in _chunks(len(tangents), n)]
    products = (products[0] if len(products) == 1 else np.concatenate(products)).reshape(len(tangents), n)
    return sparsity_.recover(products, rows, cols, colours).reshape(x.data.shape * 2)


def hvp(f: Callable[..., Any], x: Any, v: Any) -> Any:
    """The Hessian-vector product H(x)·v of a scalar ``f``, without forming H; shape ``x.shape``.

    One gradient pass recorded, then one pass through it: a small constant times the cost of the
    gradient. For array arguments that pass is a backward one with cotangent v (reverse over
    reverse: vᵀH = (Hv)ᵀ, H being symmetric); for Tensors and containers it is forward mode over
    reverse mode (``jvp(grad(f))``), so the result stays differentiable.

    >>> import tinygrad_mvc as tg
    >>> tg.hvp(lambda x: (x ** 3).sum(), np.array([1.0, 2.0]), np.array([1.0, 1.0]))   # 6 x ⊙ v
    array([ 6., 12.])
    """
    if pytree.is_container(x):
        return jvp(grad(f), (x,), (v,))[1]  # the tangent pass checks v's structure and shapes, leaf by leaf
    if (v.shape if isinstance(v, Tensor) else np.shape(v)) != (x.shape if isinstance(x, Tensor) else np.shape(x)):
        raise ValueError(f"hvp: v has shape {np.shape(v)} but x has shape {np.shape(x)}; they must be equal")
    if not isinstance(x, Tensor) and not isinstance(v, Tensor):
        # Arrays in, an array out: one trace of f, its gradient's graph recorded, and one backward pass
        # through that graph with cotangent v, vᵀH = (Hv)ᵀ since H is symmetric: reverse over reverse
        # runs the engine's backward loop, cheaper here than a tangent pass, and skips the second
        # trace and conversion checks that jvp(grad(f)) adds around the gradient.
        call = _prepare("hvp", (x,), (0,))
        out = _trace("hvp", f, call, {}, real=True)
        if not call.tensor_mode and out.data.size == 1:  # else: the general path (its errors, its Tensors)
            g = engine.gradients(out, call.inputs, create_graph=True)[0]
            return _result(engine.gradients(g, call.inputs, v)[0], call)
    return jvp(grad(f), (x,), (v,))[1]


# ----- issue 16 "The course, exactly": derivatives on a grid (HIPS autograd's elementwise_grad) -----

def elementwise_grad(f: Callable[..., Any], argnums: ArgNums = 0) -> Callable[..., Any]:
    """The derivative of an elementwise ``f`` at every entry: ``elementwise_grad(tg.sin)(xs)`` is ``cos(xs)``.

    HIPS autograd's name. One backward pass with a cotangent of ones, so the result is the gradient
    of ``f(x).sum()``: for an elementwise ``f`` (output entry i depends on input entry i only) that is
    f′ at each entry, the way the course tabulates a derivative over a grid of points. The output
    must have the input's shape; anything else is a ``ValueError``, since the sum of a Jacobian's rows
    is then not a derivative per point (use :func:`jacobian`). Nest it for higher derivatives.

    >>> import tinygrad_mvc as tg
    >>> xs = np.array([0.0, np.pi / 2, np.pi])
    >>> tg.elementwise_grad(tg.sin)(xs).round(12)
    array([ 1.,  0., -1.])
    >>> tg.elementwise_grad(tg.elementwise_grad(lambda x: x ** 3))(np.array([1.0, 2.0]))   # 6x
    array([ 6., 12.])
    """
    name = "elementwise_grad"

    @functools.wraps(f)
    def elementwise_grad_f(*args: Any, **kwargs: Any) -> Any:
        nums = _argnums(name, argnums, len(args))
        call = _prepare(name, args, nums)
        out = _trace(name, f, call, kwargs, real=True)
        for x in call.inputs:
            if out.data.shape != x.data.shape:
                raise ValueError(
                    f"{name}: f maps an input of shape {x.data.shape} to shape {out.data.shape}, so it is not "
                    f"elementwise over that input; use tg.jacobian(f) for every partial derivative, or "
                    f"tg.grad(lambda x: f(x).sum()) for the gradient of the sum")
        ones = np.ones(out.data.shape, dtype=out.data.dtype)
        grads = engine.gradients(out, call.inputs, ones, create_graph=call.create_graph)
        return _single(_grouped(call, [_result(g, call) for g in grads]), argnums)

    return elementwise_grad_f
