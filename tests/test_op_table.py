"""The derivative table: every exposed op is a primitive of ``ops.TABLE``, and every primitive has rules.

Also: missing rules fail loudly with the op's name, comparisons carry no gradient, and the
gradient checker catches deliberately wrong custom rules at first and at second order.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

import tinygrad_mvc as tg
from tinygrad_mvc import ops
from tinygrad_mvc.engine import TRANSPOSE_VJP, Primitive

Tensor = tg.Tensor

X = np.array([[0.3, -1.2, 0.7], [1.9, -0.4, 0.15]])
Y = np.array([[0.8, 1.1, -0.6], [0.5, 2.0, -1.3]])


def x_leaf() -> Tensor:
    return Tensor(X, requires_grad=True)


def graph_ops(t: Tensor) -> Iterator[Primitive]:
    """Every primitive recorded in the graph behind ``t`` (iteratively)."""
    seen: set[int] = set()
    stack = [t]
    while stack:
        node = stack.pop()
        if id(node) in seen or node._op is None:
            continue
        seen.add(id(node))
        prim, args = node._op, node._inputs
        yield prim
        stack.extend(a for a in (args or ()) if isinstance(a, Tensor))
        for a in args or ():
            if isinstance(a, (list, tuple)):
                stack.extend(b for b in a if isinstance(b, Tensor))


def assert_from_table(result: Any, what: str, expected_op: str | None = None) -> set[str]:
    """``result`` was made by a differentiable primitive of TABLE, and so was its whole graph."""
    assert isinstance(result, Tensor), f"{what} returned {type(result).__name__}, not a Tensor"
    assert result.requires_grad, f"{what} dropped requires_grad"
    assert result.op in ops.TABLE, f"{what} was made by op {result.op!r}, which is not in ops.TABLE"
    assert result._op is ops.TABLE[result.op], f"{what}: {result._op!r} is not TABLE[{result.op!r}]"
    if expected_op is not None:
        assert result.op == expected_op, f"{what} was made by {result.op!r}, expected {expected_op!r}"
    names = set()
    for prim in graph_ops(result):
        assert ops.TABLE.get(prim.name) is prim, f"{what}: graph holds {prim!r}, which is not in ops.TABLE"
        assert prim.differentiable
        names.add(prim.name)
    return names


def backprop_ops(result: Tensor, leaves: list[Tensor], allow_unused: bool = False) -> set[str]:
    """Backpropagate with ``create_graph=True``; return the ops recorded by the rules themselves."""
    (result * result).sum().backward(create_graph=True)
    names: set[str] = set()
    for leaf in leaves:
        if allow_unused and leaf.grad is None:
            continue
        assert leaf.grad is not None and leaf.grad.shape == leaf.shape
        assert np.all(np.isfinite(leaf.grad.data))
        if leaf.grad.requires_grad:
            names |= {prim.name for prim in graph_ops(leaf.grad)}
    return names


# =============================================================================== Tensor methods

# Methods and properties that are not ops.
NON_OPS = {"numpy", "item", "tolist", "detach", "backward", "zero_grad", "requires_grad_", "shape", "ndim", "size",
           "dtype", "is_leaf", "op", "data", "grad", "requires_grad", "name",
           # in-place updates (tested in test_modes_inplace.py)
           "zero_", "fill_", "copy_"}

# How to call each op method that needs arguments, and the op it must record.
METHOD_CALLS: dict[str, tuple[tuple[Any, ...], str]] = {
    "exp": ((), "exp"), "log": ((), "log"), "sqrt": ((), "sqrt"), "sin": ((), "sin"), "cos": ((), "cos"),
    "tan": ((), "tan"), "tanh": ((), "tanh"), "sigmoid": ((), "sigmoid"), "relu": ((), "relu"),
    "softplus": ((), "softplus"), "abs": ((), "abs"), "clip": ((-0.5, 0.5), "clip"),
    "sum": ((), "sum"), "mean": ((), "mean"), "max": ((), "max"), "min": ((), "min"), "prod": ((), "prod"),
    "var": ((), "var"), "logsumexp": ((), "logsumexp"), "softmax": ((), "softmax"),
    "log_softmax": ((), "log_softmax"), "reshape": ((3, 2), "reshape"), "transpose": ((), "transpose"),
    "T": ((), "transpose"), "flatten": ((), "reshape"), "squeeze": ((), "reshape"),
    "expand_dims": ((0,), "reshape"), "broadcast_to": (((4, 2, 3),), "broadcast_to"),
    "astype": ((np.float32,), "cast"), "clone": ((), "clone"),
    "dot": ((Y.T,), "einsum"), "trace": ((), "sum"), "diagonal": ((1,), "diagonal"),  # issue 15
}

ABSOLUTE = {"log", "sqrt"}  # called on |x| + 0.5


# ------------------------------------------------------------------ vocabulary (issue 15)
NON_OPS |= {"argmax", "argmin"}  # integer results with no gradient, like comparisons
NON_OPS |= {"retain_grad", "retains_grad"}  # backward bookkeeping (tests/test_retain_grad.py)
ABSOLUTE |= {"log1p", "log2", "log10", "reciprocal"}
DOMAINS: dict[str, Callable[[Tensor], Tensor]] = {  # inputs inside each function's domain
    "arcsin": lambda t: t * 0.4, "arccos": lambda t: t * 0.4, "arctanh": lambda t: t * 0.4,
    "arccosh": lambda t: abs(t) + 1.5,
}
_VOCABULARY_UNARY = ["sinh", "cosh", "arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh", "log1p", "expm1",
                     "log2", "log10", "exp2", "square", "reciprocal", "sinc", "floor", "ceil", "trunc", "round"]
METHOD_CALLS.update({name: ((), name) for name in _VOCABULARY_UNARY})
METHOD_CALLS.update({
    "std": ((), "sqrt"), "cumsum": ((), "cumsum"), "cumprod": ((1,), "cumprod"), "swapaxes": ((0, 1), "transpose"),
    "repeat": ((2,), "getitem"), "ravel": ((), "reshape"),
})

def public_tensor_ops() -> list[str]:
    names = [n for n in dir(Tensor) if not n.startswith("_") and n not in NON_OPS]
    return sorted(names)


def call_method(name: str, x: Tensor) -> Tensor:
    if name in ABSOLUTE:
        x = abs(x) + 0.5
    x = DOMAINS.get(name, lambda t: t)(x)
    attr = getattr(x, name)
    args = METHOD_CALLS.get(name, ((), None))[0]
    return attr(*args) if callable(attr) else attr


def test_every_public_tensor_method_has_a_recipe() -> None:
    """A new op method must be added to METHOD_CALLS (and so to this test); non-ops to NON_OPS."""
    missing = [n for n in public_tensor_ops() if n not in METHOD_CALLS]
    assert not missing, f"Tensor methods not covered by the op-table test: {missing}"


@pytest.mark.parametrize("name", public_tensor_ops())
def test_tensor_method_records_a_table_op(name: str) -> None:
    x = x_leaf()
    out = call_method(name, x)
    expected = METHOD_CALLS.get(name, ((), None))[1]
    assert_from_table(out, f"Tensor.{name}", expected)
    backprop_ops(out, [x])


# =============================================================================== operators

OPERATORS: dict[str, tuple[Callable[[Tensor, Tensor], Any], str]] = {
    "a + b": (lambda a, b: a + b, "add"),
    "a - b": (lambda a, b: a - b, "sub"),
    "a * b": (lambda a, b: a * b, "mul"),
    "a / b": (lambda a, b: a / b, "div"),
    "a ** b": (lambda a, b: abs(a) ** b, "pow"),
    "a @ b.T": (lambda a, b: a @ b.T, "matmul"),
    "-a": (lambda a, b: -a, "neg"),
    "+a * b": (lambda a, b: +a * b, "mul"),
    "abs(a)": (lambda a, b: abs(a), "abs"),
    "a + 2": (lambda a, b: a + 2.0, "add"),
    "2 + a": (lambda a, b: 2.0 + a, "add"),
    "2 - a": (lambda a, b: 2.0 - a, "sub"),
    "2 * a": (lambda a, b: 2.0 * a, "mul"),
    "2 / a": (lambda a, b: 2.0 / a, "div"),
    "2 ** a": (lambda a, b: 2.0 ** a, "pow"),
    "a ** 2": (lambda a, b: a ** 2, "pow"),
    "ndarray + a": (lambda a, b: Y + a, "add"),
    "ndarray - a": (lambda a, b: Y - a, "sub"),
    "ndarray * a": (lambda a, b: Y * a, "mul"),
    "ndarray / a": (lambda a, b: Y / a, "div"),
    "ndarray ** a": (lambda a, b: np.abs(Y) ** a, "pow"),
    "ndarray @ a": (lambda a, b: Y.T @ a, "matmul"),
}


@pytest.mark.parametrize("expr", list(OPERATORS))
def test_operator_records_a_table_op(expr: str) -> None:
    fn, expected = OPERATORS[expr]
    a, b = x_leaf(), Tensor(Y, requires_grad=True)
    out = fn(a, b)
    assert_from_table(out, expr, expected)
    backprop_ops(out, [a])


# =============================================================================== module functions

NON_OP_FUNCTIONS = {"Tensor", "Primitive", "primitive", "no_grad", "enable_grad", "is_grad_enabled",
                    "detect_anomaly", "set_grad_enabled", "is_anomaly_enabled",
                    "tensor", "zeros", "ones", "full", "eye", "arange", "linspace", "randn",
                    "rand", "as_rng", "finite_diff", "gradcheck", "GradcheckError",
                    # transforms take functions, not tensors (tested in test_transforms.py)
                    "grad", "value_and_grad", "vjp", "jvp", "linearize", "jacobian", "hessian", "hvp", "taylor",
                    "elementwise_grad",
                    "TaylorApproximation",
                    # submodules built on the ops (tested in test_nn.py, test_losses.py, test_optim.py)
                    "nn", "losses", "optim", "datasets",
                    "zeros_like", "ones_like", "full_like", "randn_like",  # constructors, like zeros
                    "compile", "Compiled", "tune_allocator",  # speed tools (test_compile.py, test_memory.py)
                    "linalg"}  # its primitives are reached in test_every_table_op_is_reached
NOT_DIFFERENTIABLE: set[str] = set()

FUNCTION_CALLS: dict[str, tuple[Callable[[Tensor, Tensor], Any], str]] = {
    **{name: (lambda a, b, name=name: getattr(tg, name)(a), name)
       for name in ["exp", "sin", "cos", "tan", "tanh", "sigmoid", "relu", "softplus", "abs", "sum", "mean", "max",
                    "min", "prod", "var", "logsumexp", "softmax", "log_softmax", "sign"]},
    "log": (lambda a, b: tg.log(abs(a) + 0.5), "log"),
    "sqrt": (lambda a, b: tg.sqrt(abs(a) + 0.5), "sqrt"),
    "clip": (lambda a, b: tg.clip(a, -0.5, b), "clip"),
    "maximum": (lambda a, b: tg.maximum(a, b), "maximum"),
    "minimum": (lambda a, b: tg.minimum(a, b), "minimum"),
    "where": (lambda a, b: tg.where(a > 0, a, b), "where"),
    "reshape": (lambda a, b: tg.reshape(a, (3, 2)), "reshape"),
    "transpose": (lambda a, b: tg.transpose(a), "transpose"),
    "squeeze": (lambda a, b: tg.squeeze(a[None]), "reshape"),
    "expand_dims": (lambda a, b: tg.expand_dims(a, -1), "reshape"),
    "broadcast_to": (lambda a, b: tg.broadcast_to(a, (5, 2, 3)), "broadcast_to"),
    "concatenate": (lambda a, b: tg.concatenate([a, b], axis=1), "concatenate"),
    "cat": (lambda a, b: tg.cat([a, b], axis=1), "concatenate"),  # PyTorch's name
    "stack": (lambda a, b: tg.stack([a, b]), "stack"),
    "matmul": (lambda a, b: tg.matmul(a, b.T), "matmul"),
    "astype": (lambda a, b: tg.astype(a, np.float32), "cast"),
    # issue 15: the contractions
    "dot": (lambda a, b: tg.dot(a, b.T), "einsum"), "inner": (lambda a, b: tg.inner(a, b), "einsum"),
    "outer": (lambda a, b: tg.outer(a, b), "einsum"), "tensordot": (lambda a, b: tg.tensordot(a, b), "einsum"),
    "einsum": (lambda a, b: tg.einsum("ij,ij->i", a, b), "einsum"), "trace": (lambda a, b: tg.trace(a), "sum"),
    "diag": (lambda a, b: tg.diag(a[0]), "diag_embed"), "diagonal": (lambda a, b: tg.diagonal(a, 1), "diagonal"),
    "tril": (lambda a, b: tg.tril(a), "tril"), "triu": (lambda a, b: tg.triu(a, 1), "triu"),
}


# ------------------------------------------------------------------ vocabulary (issue 15), functions
NOT_DIFFERENTIABLE |= {"argmax", "argmin"}
FUNCTION_CALLS.update({name: (lambda a, b, name=name: getattr(tg, name)(DOMAINS.get(name, lambda t: t)(
    abs(a) + 0.5 if name in ABSOLUTE else a)), name) for name in _VOCABULARY_UNARY})
FUNCTION_CALLS.update({
    "mod": (lambda a, b: tg.mod(a, b), "mod"), "remainder": (lambda a, b: tg.remainder(a, b), "mod"),
    "fmod": (lambda a, b: tg.fmod(a, b), "fmod"), "arctan2": (lambda a, b: tg.arctan2(a, b), "arctan2"),
    "hypot": (lambda a, b: tg.hypot(a, b), "hypot"), "power": (lambda a, b: tg.power(abs(a) + 0.5, b), "pow"),
    "round, decimals": (lambda a, b: tg.round(a, 2), "round_decimals"),
    "std": (lambda a, b: tg.std(a, axis=1), "sqrt"), "cumsum": (lambda a, b: tg.cumsum(a, axis=0), "cumsum"),
    "cumprod": (lambda a, b: tg.cumprod(a), "cumprod"), "swapaxes": (lambda a, b: tg.swapaxes(a, 0, 1), "transpose"),
    "moveaxis": (lambda a, b: tg.moveaxis(a, 0, -1), "transpose"), "flip": (lambda a, b: tg.flip(a, 1), "getitem"),
    "roll": (lambda a, b: tg.roll(a, 1, axis=1), "concatenate"), "repeat": (lambda a, b: tg.repeat(a, 2, 0), "getitem"),
    "tile": (lambda a, b: tg.tile(a, (2, 1)), "reshape"),
    "pad": (lambda a, b: tg.pad(a, 1, constant_values=2.0), "add"),
    "split": (lambda a, b: tg.split(a, 3, axis=1)[1], "getitem"),
    "array_split": (lambda a, b: tg.array_split(a, 2, axis=1)[0], "getitem"),
    "hstack": (lambda a, b: tg.hstack([a, b]), "concatenate"),
    "vstack": (lambda a, b: tg.vstack([a, b]), "concatenate"),
    "ravel": (lambda a, b: tg.ravel(a), "reshape"), "atleast_1d": (lambda a, b: tg.atleast_1d(a[0, 0]), "reshape"),
    "atleast_2d": (lambda a, b: tg.atleast_2d(a[0]), "reshape"),
})


def public_functions() -> list[str]:
    return sorted(n for n in tg.__all__ if n not in NON_OP_FUNCTIONS and n not in NOT_DIFFERENTIABLE)


def test_every_public_function_has_a_recipe() -> None:
    missing = [n for n in public_functions() if n not in FUNCTION_CALLS]
    assert not missing, f"tg functions not covered by the op-table test: {missing}"


@pytest.mark.parametrize("name", public_functions())
def test_module_function_records_a_table_op(name: str) -> None:
    fn, expected = FUNCTION_CALLS[name]
    a, b = x_leaf(), Tensor(Y, requires_grad=True)
    out = fn(a, b)
    assert_from_table(out, f"tg.{name}", expected)
    backprop_ops(out, [a, b] if name in {"maximum", "minimum", "where", "concatenate", "stack", "matmul", "clip",
                                         "mod", "remainder", "fmod", "arctan2", "hypot", "power", "hstack", "vstack"}
                 else [a])


def test_every_table_op_is_reached() -> None:
    """Every differentiable primitive is made by some exposed op or by some rule of another op."""
    reached: set[str] = set()
    for name in public_tensor_ops():
        x = x_leaf()
        out = call_method(name, x)
        reached |= assert_from_table(out, name) | backprop_ops(out, [x])
    for fn, _ in [*OPERATORS.values(), *FUNCTION_CALLS.values()]:
        a, b = x_leaf(), Tensor(Y, requires_grad=True)
        out = fn(a, b)
        reached |= assert_from_table(out, "op") | backprop_ops(out, [a, b], allow_unused=True)
    x = x_leaf()
    for index in (1, [0, 0], x.data > 0):
        out = x[index]
        reached |= assert_from_table(out, "getitem", "getitem") | backprop_ops(out, [x])
    x = x_leaf()
    out = tg.grad(lambda v: (v * v).sum())(x)  # the transforms differentiate through an identity node
    reached |= assert_from_table(out, "tg.grad") | backprop_ops(out, [x])
    # Fused ops that tg.nn and tg.losses make: the dense layer and the hinge loss.
    x, layer = x_leaf(), tg.nn.Linear(3, 2, rng=0)
    out = layer(x)
    reached |= assert_from_table(out, "nn.Linear", "linear") | backprop_ops(out, [x, *layer.parameters()])
    x = x_leaf()
    out = tg.losses.hinge(x, np.sign(Y), reduction="none")
    reached |= assert_from_table(out, "losses.hinge", "hinge") | backprop_ops(out, [x])
    x = x_leaf()
    out = tg.losses.cross_entropy(x, [2, 0], reduction="none")
    reached |= assert_from_table(out, "losses.cross_entropy", "softmax_cross_entropy") | backprop_ops(out, [x])
    # tg.linalg (issue 15): its primitives, through its functions
    for make in (tg.linalg.inv, lambda s: tg.linalg.solve(s, s), tg.linalg.det, lambda s: tg.linalg.slogdet(s)[1],
                 lambda s: tg.linalg.cholesky(s @ s.T), lambda s: tg.linalg.eigh(s + s.T)[0],
                 lambda s: tg.linalg.eigh(s + s.T)[1], lambda s: tg.linalg.norm(s, ord=3, axis=1)):
        x = x_leaf()
        out = make(x[:, :2] + 3 * np.eye(2))
        reached |= assert_from_table(out, "tg.linalg") | backprop_ops(out, [x])
    differentiable = {name for name, prim in ops.TABLE.items() if prim.differentiable}
    assert differentiable - reached == set(), f"primitives no exposed op reaches: {differentiable - reached}"


def ops_without_jvp_rules(table: dict[str, Primitive]) -> list[str]:
    """Differentiable ops whose forward mode would have to be derived by transposing the VJP rule.

    Elementwise ops need no JVP rule of their own (a diagonal Jacobian is its own transpose); every
    other op must declare one with ``defjvp`` (or ``defjvp_argnum``) beside its ``defvjp``.
    """
    missing = []
    for name, prim in table.items():
        if not prim.differentiable:
            continue
        nin = max(len(prim.vjps), 1) if prim.vjp_argnum is None else 3
        try:
            rules = [prim.jvp_rule(i) for i in range(nin)]
        except NotImplementedError:
            missing.append(name)
            continue
        if any(r is TRANSPOSE_VJP for r in rules):
            missing.append(name)
    return missing


def test_every_differentiable_op_has_a_jvp_rule_beside_its_vjp_rule() -> None:
    assert ops_without_jvp_rules(ops.TABLE) == []
    for name, prim in ops.TABLE.items():
        if prim.differentiable and not prim.elementwise:
            assert prim.jvps or prim.jvp_argnum, f"{name}: a non-elementwise op declares its own JVP rules"
            assert prim.batchable, f"{name}: built-in rules accept batches"


def test_the_jvp_check_names_an_op_without_a_jvp_rule() -> None:
    reshape_like = Primitive(lambda x: x.reshape(-1), "flat_no_jvp")
    reshape_like.defvjp(lambda g, out, x: g.reshape(x.shape))
    assert ops_without_jvp_rules({"flat_no_jvp": reshape_like}) == ["flat_no_jvp"]
    reshape_like.defjvp(lambda t, out, x: t.reshape(out.shape))
    assert ops_without_jvp_rules({"flat_no_jvp": reshape_like}) == []


# =============================================================================== every op has a rule


def ops_without_rules(table: dict[str, Primitive]) -> list[str]:
    """Names of differentiable primitives in ``table`` without a derivative rule for every input."""
    missing = []
    for name, prim in table.items():
        if not prim.differentiable or prim.vjp_argnum is not None:
            continue
        rules = [r for r in prim.vjps if r is not None]
        nin = getattr(prim.fun, "nin", None)  # NumPy ufuncs know their number of inputs
        if not rules or (nin is not None and len(prim.vjps) < nin):
            missing.append(name)
    return missing


def assert_every_op_has_rules(table: dict[str, Primitive]) -> None:
    missing = ops_without_rules(table)
    assert not missing, f"ops with no derivative rule: {', '.join(missing)}"


def test_table_is_consistent() -> None:
    assert ops.TABLE, "ops.TABLE is empty"
    for name, prim in ops.TABLE.items():
        assert isinstance(prim, Primitive), name
        assert prim.name == name, f"TABLE[{name!r}] is named {prim.name!r}"
        for rule in prim.vjps:
            assert rule is None or callable(rule), name


def test_every_differentiable_op_has_rules() -> None:
    assert_every_op_has_rules(ops.TABLE)
    for name, prim in ops.TABLE.items():
        if prim.differentiable and prim.vjp_argnum is None:
            for i, rule in enumerate(prim.vjps):
                if rule is not None:
                    assert prim.rule(i) is rule, f"{name}: rule({i})"
    for name in ["add", "sub", "mul", "div", "pow", "maximum", "minimum", "matmul", "tanh_grad", "sigmoid_grad"]:
        prim = ops.TABLE[name]
        assert len(prim.vjps) == 2 and all(callable(r) for r in prim.vjps), f"{name} needs a rule for each input"
    assert len(ops.TABLE["clip"].vjps) == 3 and all(ops.TABLE["clip"].vjps)
    where = ops.TABLE["where"]
    assert where.vjps[0] is None and callable(where.vjps[1]) and callable(where.vjps[2])


def test_the_rule_check_names_an_op_without_rules() -> None:
    table = dict(ops.TABLE)
    table["fake_op"] = Primitive(lambda x: x + 1, "fake_op")
    with pytest.raises(AssertionError, match="fake_op"):
        assert_every_op_has_rules(table)
    half = Primitive(np.add, "half_add")
    half.defvjp(lambda g, out, x, y: g)  # a rule for x only
    with pytest.raises(AssertionError, match="half_add"):
        assert_every_op_has_rules({"half_add": half})


def test_backward_through_a_primitive_without_rules_names_it() -> None:
    @tg.primitive
    def twice(x: np.ndarray) -> np.ndarray:
        return 2 * x

    out = twice(Tensor([1.0, 2.0], requires_grad=True))
    assert out.requires_grad and out.op == "twice"
    with pytest.raises(NotImplementedError, match="twice"):
        out.sum().backward()


def test_backward_through_a_missing_second_rule_names_the_op_and_input() -> None:
    lopsided = tg.primitive(lambda x, y: x * y, name="lopsided")
    lopsided.defvjp(lambda g, ans, x, y: g * y)
    x, y = Tensor(2.0, requires_grad=True), Tensor(3.0, requires_grad=True)
    with pytest.raises(NotImplementedError, match=r"lopsided.*input 1|input 1.*lopsided"):
        lopsided(x, y).backward()
    x2 = Tensor(2.0, requires_grad=True)
    lopsided(x2, 3.0).backward()  # no gradient wanted for y: fine
    assert x2.grad.item() == 3.0


# =============================================================================== no gradient

COMPARISONS: dict[str, tuple[Callable[[Any, Any], Any], Callable[[Any, Any], Any]]] = {
    "<": (lambda a, b: a < b, np.less),
    "<=": (lambda a, b: a <= b, np.less_equal),
    ">": (lambda a, b: a > b, np.greater),
    ">=": (lambda a, b: a >= b, np.greater_equal),
    "==": (lambda a, b: a == b, np.equal),
    "!=": (lambda a, b: a != b, np.not_equal),
}


@pytest.mark.parametrize("op", list(COMPARISONS))
@pytest.mark.parametrize("other", ["tensor", "float", "ndarray on the left"])
def test_comparisons_give_bool_tensors_without_gradient(op: str, other: str) -> None:
    compare, reference = COMPARISONS[op]
    a = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = np.array([3.0, 2.0, 1.0])
    if other == "tensor":
        out, expected = compare(a, Tensor(b, requires_grad=True)), reference(a.data, b)
    elif other == "float":
        out, expected = compare(a, 2.0), reference(a.data, 2.0)
    else:
        out, expected = compare(b, a), reference(b, a.data)
    assert isinstance(out, Tensor), f"{op} gave {type(out).__name__}"
    assert out.dtype == np.bool_
    assert out.requires_grad is False and out.grad is None and out.is_leaf and out.op is None
    np.testing.assert_array_equal(out.data, expected)


def test_logical_ops_carry_no_gradient_and_sign_a_zero_one() -> None:
    a = Tensor([-1.0, 0.0, 2.0], requires_grad=True)
    for out in [(a > 0) & (a < 3), (a > 0) | (a < 0), ~(a > 0)]:
        assert isinstance(out, Tensor) and out.requires_grad is False and out.op is None
    s = tg.sign(a)  # as in torch: a recorded node whose derivative is 0, so backward() through it works
    np.testing.assert_array_equal(s.data, [-1.0, 0.0, 1.0])
    assert s.requires_grad and s.op == "sign"
    s.sum().backward()
    np.testing.assert_array_equal(a.grad.data, [0.0, 0.0, 0.0])
    a.grad = None
    y = (a * (a > 0)).sum()  # a mask inside a product: the gradient goes through a only
    y.backward()
    np.testing.assert_array_equal(a.grad.data, [0.0, 0.0, 1.0])
    for name, prim in ops.TABLE.items():
        if not prim.differentiable:
            assert not prim.vjps and prim.vjp_argnum is None, f"{name} is not differentiable but has rules"


# =============================================================================== the checker catches wrong rules


def cube_with(rule: Callable[..., Any], name: str = "cube") -> Primitive:
    @tg.primitive
    def cube(x: np.ndarray) -> np.ndarray:
        return x ** 3

    cube.name = name
    cube.defvjp(rule)
    return cube


def test_gradcheck_accepts_a_correct_custom_rule() -> None:
    cube = cube_with(lambda g, ans, x: g * 3 * x ** 2)
    assert tg.gradcheck(cube, np.array([0.5, -1.0, 2.0]), order=2) is True
    assert tg.gradcheck(lambda a, b: a * cube(b), np.array([0.5, 1.5]), np.array([-1.0, 2.0]), order=2) is True


def test_gradcheck_catches_a_wrong_first_derivative() -> None:
    cube = cube_with(lambda g, ans, x: g * 2 * x ** 2)
    with pytest.raises(tg.GradcheckError) as err:
        tg.gradcheck(cube, np.array([0.5, -1.0, 2.0]))
    message = str(err.value)
    assert "input 0" in message and "analytic" in message and "numerical" in message, message
    with pytest.raises(tg.GradcheckError, match=r"input 1.*analytic.*numerical"):
        tg.gradcheck(lambda a, b: a * cube(b), np.array([0.5, 1.5]), np.array([-1.0, 2.0]))


def test_gradcheck_names_the_worst_entry() -> None:
    # Right everywhere except where x > 1.5, i.e. at index (1, 0).
    cube = cube_with(lambda g, ans, x: g * 3 * x ** 2 * tg.where(x > 1.5, 1.1, 1.0))
    with pytest.raises(tg.GradcheckError) as err:
        tg.gradcheck(cube, np.array([[0.5, -1.0], [2.0, 0.25]]))
    message = str(err.value)
    assert "input 0" in message and "(1, 0)" in message, message
    assert "analytic" in message and "numerical" in message, message


def test_gradcheck_catches_a_rule_wrong_only_at_second_order() -> None:
    # The value of 3 x^2 is right, but as a constant it has no derivative: the Hessian is 0, not 6x.
    cube = cube_with(lambda g, ans, x: g * Tensor(3 * x.data ** 2))
    x = np.array([0.5, -1.0, 2.0])
    assert tg.gradcheck(cube, x, order=1) is True
    with pytest.raises(tg.GradcheckError, match="input 0"):
        tg.gradcheck(cube, x, order=2)
    with pytest.raises(tg.GradcheckError):
        tg.gradcheck(lambda a: cube(a).sum() * 2.0, x, order=2)


def test_gradcheck_handles_0d_inputs_to_tensor_methods() -> None:
    """Scalars are inputs like any other: ``f`` always receives Tensors, never NumPy scalars."""
    assert tg.gradcheck(lambda a: a.exp(), np.array(0.5), order=2) is True
    assert tg.gradcheck(lambda a: a.sum(), 0.5, order=2) is True
    assert tg.gradcheck(lambda a, b: a.exp() * b, np.array(0.5), np.array([1.0, 2.0]), order=2) is True


def test_primitive_signature_is_the_documented_one() -> None:
    """Rules receive ``(g, ans, *inputs)`` with Tensors, so rules written with Tensor ops nest."""
    seen: dict[str, Any] = {}

    def rule(g: Any, ans: Any, x: Any) -> Any:
        seen.update(g=g, ans=ans, x=x)
        return g * 3 * x ** 2

    cube = cube_with(rule)
    x = Tensor(2.0, requires_grad=True)
    cube(x).backward()
    assert isinstance(seen["g"], Tensor) and isinstance(seen["ans"], Tensor) and seen["x"] is x
    assert seen["ans"].item() == 8.0 and x.grad.item() == 12.0
    assert len(inspect.signature(rule).parameters) == 3
