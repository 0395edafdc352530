"""``tg.compile``: a replay is bit-identical to eager code, retraces on a new signature, and falls back to eager,
warning once, wherever a trace cannot stand for later calls.

Bit-identical means equal bytes (``tobytes``), not ``allclose``: the replay calls the same NumPy functions on the
same arrays in the same order. Every op of the table is covered through the where-leak cases (a meta-test there
checks that every op has one), with values drawn by hypothesis; the elementwise ops also with drawn broadcasting
shapes.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import arrays as drawn_arrays
from strategies import broadcast_shapes, positives, shapes
from test_op_gradients import BINARY, UNARY
from test_where_leaks import CASES, Case, ids

import tinygrad_mvc as tg

Tensor = tg.Tensor


def same_bytes(a: Any, b: Any, what: str = "") -> None:
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape, f"{what}: {a.dtype}{a.shape} against {b.dtype}{b.shape}"
    assert a.tobytes() == b.tobytes(), f"{what}: the replay differs from eager:\n{a}\n{b}"


def grad_step(f: Callable[[Any], Tensor], weights: np.ndarray) -> Callable[[np.ndarray], tuple[Tensor, Tensor]]:
    """x -> (loss, dloss/dx) with a backward() inside: what is compiled and compared."""
    def step(x: np.ndarray) -> tuple[Tensor, Tensor]:
        t = Tensor(x, requires_grad=True)
        loss = (f(t) * weights).sum()
        loss.backward()
        return loss, t.grad
    return step


def check_replay(f: Callable[[Any], Tensor], xs: list[np.ndarray], eager: str | None = None) -> None:
    """Trace on xs[0], replay on the others: forward values and gradients equal eager's, byte for byte.

    ``eager``: the reason a trace must give up (an op that branches on data); the results are eager's then.
    """
    out_shape = f(Tensor(xs[0])).shape
    weights = np.linspace(0.5, 1.5, int(np.prod(out_shape))).reshape(out_shape)
    forward, step = tg.compile(lambda x: f(x)), tg.compile(grad_step(f, weights))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for x in xs:
            with tg.no_grad():  # else an output that requires grad still has its graph: eager, rightly
                same_bytes(forward(Tensor(x)).data, f(Tensor(x)).data, "forward")
            (loss, g), (loss_e, g_e) = step(x), grad_step(f, weights)(x)
            same_bytes(loss.data, loss_e.data, "loss")
            same_bytes(g.data, g_e.data, "gradient")
    fallbacks = [str(w.message) for w in caught if "tg.compile" in str(w.message)]
    if eager is None:
        assert not fallbacks, fallbacks
    else:
        assert fallbacks and all(eager in m for m in fallbacks), fallbacks
    assert forward.traces == step.traces == 1


# ------------------------------------------------------------------------------ every op of the table

BRANCHING = "bool() of a traced value"  # the op's code asks a question of the data (a check, a special case)
EAGER_CASES = {
    "where inside the branch": "tg.where whose condition is computed from traced values",
    "inv": BRANCHING, "solve, a": BRANCHING, "solve, b": BRANCHING, "cholesky": BRANCHING,  # singular-matrix checks
    "eigh, vectors": BRANCHING,  # the check for repeated eigenvalues
    "norm, rows": BRANCHING, "norm, p = 3, matrices": BRANCHING,  # the special case of a zero vector
}


def test_the_eager_cases_exist() -> None:
    assert set(EAGER_CASES) <= {c.name for c in CASES}


@pytest.mark.parametrize("c", CASES, ids=ids(CASES))
@settings(max_examples=2)
@given(data=st.data())
def test_every_op_replays_bit_identically(c: Case, data: Any) -> None:
    xs = [data.draw(positives(c.shape, 1.1, 1.6), label=f"x{i}") for i in range(2)]  # 0 < log(x) < 0.5
    check_replay(c.f, xs, EAGER_CASES.get(c.name))


@pytest.mark.parametrize("name", sorted(UNARY))
@settings(max_examples=3)
@given(data=st.data())
def test_unary_ops_of_drawn_shapes(name: str, data: Any) -> None:
    fn, domain = UNARY[name]
    shape = data.draw(shapes(), label="shape")
    check_replay(fn, [data.draw(drawn_arrays(domain, shape), label=f"x{i}") for i in range(2)])


@pytest.mark.parametrize("name", sorted(BINARY))
@settings(max_examples=3)
@given(data=st.data())
def test_binary_ops_with_broadcasting(name: str, data: Any) -> None:
    fn, dx, dy = BINARY[name]
    sx, sy = data.draw(broadcast_shapes(2), label="shapes")
    y = data.draw(drawn_arrays(dy, sy), label="y")  # a parameter: read at every call
    w = Tensor(y, requires_grad=True)
    check_replay(lambda x: fn(x, w), [data.draw(drawn_arrays(dx, sx), label=f"x{i}") for i in range(2)])


# ------------------------------------------------------------------------------ training steps

def moons_step(weight_decay: bool = False, optimizer: str = "sgd") -> tuple[tg.nn.MLP, Callable[..., Any], Any]:
    """micrograd's moons network: tg.nn.MLP, hinge loss, L2 in the loss (or as weight decay), one step."""
    model = tg.nn.MLP((2, 16, 16, 1), activation="relu", rng=0)
    params = model.parameters()
    opt = (tg.optim.SGD(params, lr=0.5, weight_decay=2e-4 if weight_decay else 0.0) if optimizer == "sgd" else
           tg.optim.SGD(params, lr=0.1, momentum=0.9, nesterov=True) if optimizer == "nesterov" else
           tg.optim.Adam(params, lr=0.01))

    def step(X: np.ndarray, signs: np.ndarray) -> dict[str, Any]:
        loss = tg.losses.hinge(model(X).reshape(-1), signs)
        if not weight_decay:
            loss = loss + 1e-4 * sum((p * p).sum() for p in params)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return {"loss": loss, "scores": (1.0, [params[0]])}
    return model, step, opt


@pytest.mark.parametrize(("weight_decay", "optimizer"), [(False, "sgd"), (True, "sgd"), (False, "nesterov"),
                                                         (False, "adam")])
def test_moons_training_step_equals_eager(weight_decay: bool, optimizer: str) -> None:
    X, y = tg.datasets.make_moons(40, noise=0.1, rng=0)
    signs = 2.0 * y - 1.0
    (eager_model, eager, eager_opt), (model, step, opt) = moons_step(weight_decay, optimizer), \
        moons_step(weight_decay, optimizer)
    compiled = tg.compile(step)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for k in range(5):
            eager_opt.lr = opt.lr = 0.5 - 0.05 * k  # read at every call: set outside the compiled step
            want, got = eager(X, signs), compiled(X, signs)
            same_bytes(got["loss"].data, want["loss"].data, f"loss, step {k}")
            assert got["scores"][0] == 1.0 and got["scores"][1][0] is model.parameters()[0]
            for p, q in zip(eager_model.parameters(), model.parameters()):
                same_bytes(q.data, p.data, f"parameter, step {k}")
                same_bytes(q.grad.data, p.grad.data, f"gradient, step {k}")
                assert type(q.data) is type(q.grad.data) is type(got["loss"].data) is np.ndarray  # no traced views left
    assert compiled.traces == 1 and opt.step_count == eager_opt.step_count == 5
    assert "SGD.step()" in compiled.source or "Adam.step()" in compiled.source


def test_inline_sgd_step_follows_changed_settings_as_eager() -> None:
    """The replay's own SGD lines read lr and weight_decay at every call; momentum switched on, weight decay
    switched on or off, or a group added make it call the real step() instead: every step equals eager's."""
    X, y = tg.datasets.make_moons(30, noise=0.1, rng=1)
    signs = 2.0 * y - 1.0
    (eager_model, eager, eager_opt), (model, step, opt) = moons_step(), moons_step()
    compiled = tg.compile(step)
    settings_by_step = [{}, {"lr": 0.3}, {"weight_decay": 0.01}, {"weight_decay": 0.02, "lr": 0.2},
                        {"momentum": 0.5, "weight_decay": 0.0}, {}, {"momentum": 0.0}, {}]
    extra = [tg.tensor([1.0, 2.0], requires_grad=True) for _ in range(2)]
    for k, changes in enumerate(settings_by_step):
        for o in (eager_opt, opt):
            o.param_groups[0].update(changes)
        if k == 6:  # a group of a parameter the step does not use: eager and replay alike leave it alone
            for o, e in zip((eager_opt, opt), extra):
                o.add_param_group({"params": [e]})
        want, got = eager(X, signs), compiled(X, signs)
        same_bytes(got["loss"].data, want["loss"].data, f"loss, step {k}")
        for p, q in zip(eager_model.parameters(), model.parameters()):
            same_bytes(q.data, p.data, f"parameter, step {k} ({changes})")
    assert compiled.traces == 1 and opt.step_count == eager_opt.step_count == len(settings_by_step)
    assert "_p -= _lr * v" in compiled.source  # the inline update, not only the host call
    same_bytes(extra[1].data, extra[0].data, "the added parameter")


def test_replay_writes_small_ops_out_and_keeps_their_function_otherwise() -> None:
    """relu, hinge, reshape, linear, the transposed matmuls and sum_to become NumPy expressions in the
    replay (2-d operands); a batched matmul_nt keeps its op's function; both replay as eager."""
    _, step, _ = moons_step()
    compiled = tg.compile(step)
    X, y = tg.datasets.make_moons(20, noise=0.1, rng=2)
    compiled(X, 2.0 * y - 1.0)
    body = compiled.source
    assert "out=_m)" in body and ".reshape(" in body and ".T)" in body and ", 0)" in body
    w = Tensor(np.random.default_rng(3).normal(size=(2, 4, 3)), requires_grad=True)
    check_replay(lambda x: tg.ops.matmul_nt(x, w).sum(), [np.full((2, 5, 3), 0.5), np.full((2, 5, 3), -1.5)])
    batched = tg.compile(lambda x: tg.ops.matmul_nt(x, w.detach()))
    batched(np.ones((2, 5, 3)))
    assert ".T)" not in batched.source and "(a0, c" in batched.source


def test_two_leaves_given_one_gradient_array_own_copies_in_the_replay() -> None:
    """add hands one gradient to both leaves; backward copies it for the second, and so does the replay."""
    u, w = (Tensor(np.linspace(0.1, 0.5, 3), requires_grad=True) for _ in range(2))

    def f(x: np.ndarray) -> Tensor:
        u.grad = w.grad = None
        loss = tg.sin((u + w) * x).sum()
        loss.backward()
        return loss

    compiled = tg.compile(f)
    for x in (np.ones(3), np.full(3, 2.0)):
        compiled(x)
        assert u.grad.data is not w.grad.data and not np.shares_memory(u.grad.data, w.grad.data)
        got = u.grad.data.copy()
        f(x)
        same_bytes(got, u.grad.data, "gradient")


def test_leaf_made_inside_fn_by_detach_follows_each_call() -> None:
    """t = Tensor(x).detach() with requires_grad switched on: a leaf of each call holding that call's x (was:
    the first call's value, and gradients summed over calls)."""
    def by_attribute(x: np.ndarray) -> Tensor:
        t = tg.Tensor(x).detach()
        t.requires_grad = True
        (t * t * 2.0).sum().backward()
        return t.grad

    def by_method(x: np.ndarray) -> Tensor:
        t = tg.Tensor(x).detach().requires_grad_()
        (tg.sin(t) * t).sum().backward()
        return t.grad

    for fn in (by_attribute, by_method):
        compiled = tg.compile(fn)
        for x in (np.ones(2), np.array([3.0, -0.5]), np.array([3.0, -0.5])):
            same_bytes(compiled(x).data, fn(x).data, fn.__name__)
        assert compiled.traces == 1


def test_gradients_of_tensor_arguments_accumulate_as_eager() -> None:
    """Without zero_grad, each call adds to .grad of the caller's leaves, as backward() does."""
    def f(x: Tensor, w: Tensor) -> Tensor:
        loss = (tg.sin(x) * w).sum()
        loss.backward()
        return loss

    compiled = tg.compile(f)
    x0, w0 = np.random.default_rng(0).normal(size=(2, 3))
    pairs = [(Tensor(x0, requires_grad=True), Tensor(w0, requires_grad=True)) for _ in range(2)]
    for _ in range(3):
        for (x, w), copy in zip(pairs, (f, compiled)):
            copy(x, w)
    same_bytes(pairs[1][0].grad.data, pairs[0][0].grad.data, "x.grad")
    same_bytes(pairs[1][1].grad.data, pairs[0][1].grad.data, "w.grad")
    assert compiled.traces == 1


def test_a_new_shape_or_dtype_retraces_and_a_known_one_replays() -> None:
    compiled = tg.compile(lambda x: tg.exp(x).sum(axis=0))
    for shape, dtype in [((3,), np.float64), ((3,), np.float64), ((2, 3), np.float64), ((3,), np.float32),
                         ((2, 3), np.float64)]:
        x = np.arange(np.prod(shape), dtype=dtype).reshape(shape) / 7
        same_bytes(compiled(x).data, tg.exp(Tensor(x)).sum(axis=0).data, str(shape))
    assert compiled.traces == 3 and len(compiled.cache) == 3


def test_the_cache_is_bounded() -> None:
    compiled = tg.compile(lambda x: x * 2, cache_size=2)
    for n in range(1, 5):
        compiled(np.ones(n))
    assert len(compiled.cache) == 2 and compiled.traces == 4


def test_non_array_arguments_are_part_of_the_signature() -> None:
    compiled = tg.compile(lambda x, k, axis=None: (x * k).sum(axis=axis))
    x = np.arange(6.0).reshape(2, 3)
    assert compiled(x, 2.0).item() == 30.0 and compiled(x, 3.0).item() == 45.0
    np.testing.assert_array_equal(compiled(x, 2.0, axis=0).data, [6.0, 10.0, 14.0])
    assert compiled.traces == 3


def test_the_replay_has_no_tensors_and_decorates() -> None:
    @tg.compile
    def chain(x: np.ndarray) -> Tensor:
        t = Tensor(x, requires_grad=True)
        y = t
        for _ in range(20):
            y = tg.tanh(y * 1.01 + 0.1)
        y.sum().backward()
        return t.grad

    x = np.linspace(-1, 1, 8)
    first, second = chain(x), chain(x)
    same_bytes(second.data, first.data, "chain")
    assert chain.__name__ == "chain" and "Tensor(" not in chain.source and "backward" not in chain.source


# ------------------------------------------------------------------------------ fallbacks

W = Tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)


def _item(x: Any) -> Tensor:
    y = (x * W).sum()
    return y * 2 if y.item() > 0 else y


def _bool(x: Any) -> Tensor:
    y = (x * W).sum()
    return y * 2 if y > 0 else y


def _float(x: Any) -> Tensor:
    return W * float((x * 2).sum())


def _numpy(x: Any) -> Tensor:
    return W * np.asarray((tg.tensor(x) * 2).numpy()).sum()


def _raw_numpy(x: Any) -> Tensor:
    y = tg.exp(tg.tensor(x))
    y.data[0] = 0.0
    return (W * y).detach()


def _no_grad(x: Any) -> Tensor:
    loss = (W * x).sum()
    loss.backward()
    with tg.no_grad():
        W.grad.data  # noqa: B018 (the switch is the point)
    return loss


def _random_tg(x: Any) -> Tensor:
    return W * x + tg.randn(3, rng=0)


def _random_np(x: Any) -> Tensor:
    return W * x + np.random.default_rng(0).normal(size=3)


DROPOUT = tg.nn.Dropout(0.5, rng=0)


def _dropout(x: Any) -> Tensor:
    return DROPOUT(W * x)


def _in_place(x: Any) -> Tensor:
    y = tg.tensor(x) * 2
    y += 1
    return W * y


def _traced_where(x: Any) -> Tensor:
    loss = tg.where(W * x > 0, W * x, 0.0).sum()
    loss.backward()
    return loss


def _live_graph(x: Any) -> Tensor:
    return (W * x).sum()


def _odd_output(x: Any) -> Any:
    return (W * x).sum().detach(), object


def _second_order(x: Any) -> tuple[Tensor, Tensor]:
    loss = (tg.tanh(W * x) ** 2).sum()
    loss.backward(create_graph=True)
    g, W.grad = W.grad, None
    penalty = (g * g).sum()
    penalty.backward()
    return loss.detach(), penalty.detach()


def _closure_step(x: Any) -> Tensor:
    opt = tg.optim.SGD([W], lr=0.0)
    return opt.step(lambda: (W * x).sum())


FALLBACKS: dict[str, tuple[Callable[..., Any], str]] = {
    "item()": (_item, ".item()"),
    "bool()": (_bool, "bool()"),
    "float()": (_float, "float()"),
    "numpy()": (_numpy, "t.numpy()"),
    "NumPy on t.data": (_raw_numpy, "in-place write"),
    "no_grad": (_no_grad, "gradient-mode switch (no_grad)"),
    "tg.randn": (_random_tg, "random numbers"),
    "np.random": (_random_np, "random numbers"),
    "Dropout": (_dropout, "nn.Dropout"),
    "in place": (_in_place, "in-place change"),
    "where on traced data": (_traced_where, "tg.where whose condition"),
    "output with a graph": (_live_graph, "graph is still alive"),
    "output structure": (_odd_output, "returns a type"),
    "step(closure)": (_closure_step, "closure"),
    "create_graph": (_second_order, "create_graph=True"),
}


def _values(out: Any) -> list[np.ndarray]:
    leaves = tg.pytree.flatten(out)[0]
    return [np.asarray(x.data if isinstance(x, Tensor) else x) for x in leaves if not isinstance(x, type)]


@pytest.mark.parametrize("name", list(FALLBACKS))
def test_each_fallback_warns_once_and_gives_eager_results(name: str) -> None:
    fn, reason = FALLBACKS[name]
    compiled = tg.compile(fn)
    xs = [np.array([1.0, 2.0, 3.0]), np.array([-1.0, 0.5, 2.0]), np.array([0.1, -3.0, 1.0])]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for x in xs:
            W.grad, DROPOUT.rng = None, np.random.default_rng(0)
            got = _values(compiled(x))
            W.grad, DROPOUT.rng = None, np.random.default_rng(0)
            want = _values(fn(x))
            for a, b in zip(got, want, strict=True):
                same_bytes(a, b, name)
    mine = [str(w.message) for w in caught if "tg.compile" in str(w.message)]
    assert len(mine) == 1, mine
    assert reason in mine[0] and "runs eagerly" in mine[0], mine[0]
    assert compiled.traces == 1  # the signature is remembered as eager: no second trace


def test_an_argument_with_a_graph_runs_eagerly() -> None:
    x = Tensor(np.ones(3), requires_grad=True) * 2
    with pytest.warns(RuntimeWarning, match="part of a graph outside fn"):
        out = tg.compile(lambda t: (t * 3).sum())(x)
    out.backward()  # eager: connected to the caller's graph


def test_anomaly_mode_runs_eagerly() -> None:
    compiled = tg.compile(lambda x: tg.log(x))
    with tg.detect_anomaly(), pytest.warns(RuntimeWarning, match="detect_anomaly"), \
            pytest.raises(FloatingPointError), np.errstate(divide="ignore"):
        compiled(np.zeros(2))


def test_hooks_are_removed_after_a_trace_even_when_fn_raises() -> None:
    def bad(x: np.ndarray) -> Tensor:
        raise KeyError("boom")

    call, grad = tg.engine.Primitive.__call__, Tensor.__dict__["grad"]
    with pytest.raises(KeyError):
        tg.compile(bad)(np.ones(2))
    assert tg.engine.Primitive.__call__ is call and Tensor.__dict__["grad"] is grad
    assert tg.compile.__module__ == "tinygrad_mvc.compile"


# --------------------------------------------------------------------------- arguments read through NumPy
# Found by the playground's Network tab (issue 17): tg.losses read labels with np.asarray, the replay took the
# first batch's labels for constants, and minibatch training silently stalled. The losses now keep the traced
# argument; and any array fn makes from an argument out of the trace's sight is caught on the second call.

def _loss_step(loss_fn):
    w = Tensor(np.array([[0.5, -0.25, 0.1], [0.3, 0.2, -0.4]]), requires_grad=True)
    opt = tg.optim.SGD([w], lr=0.1)

    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(x @ w, y)
        loss.backward()
        opt.step()
        return loss

    return w, step


LOSSES_WITH_TARGETS = {
    "mse": (lambda z, y: tg.losses.mse(z, y), lambda r: r.normal(size=(4, 3))),
    "chi_squared": (lambda z, y: tg.losses.chi_squared(z, y, sigma=np.abs(y) + 0.5), lambda r: r.normal(size=(4, 3))),
    "bce": (lambda z, y: tg.losses.binary_cross_entropy_with_logits(z, y), lambda r: r.integers(0, 2, (4, 3)) * 1.0),
    "cross_entropy (indices)": (lambda z, y: tg.losses.cross_entropy(z, y), lambda r: r.integers(0, 3, 4)),
    "cross_entropy (probabilities)": (lambda z, y: tg.losses.cross_entropy(z, y),
                                      lambda r: np.eye(3)[r.integers(0, 3, 4)]),
    "hinge": (lambda z, y: tg.losses.hinge(z, y), lambda r: r.choice([-1.0, 1.0], (4, 3))),
}


@pytest.mark.parametrize("name", sorted(LOSSES_WITH_TARGETS))
def test_a_loss_reads_each_calls_targets(name) -> None:
    loss_fn, targets = LOSSES_WITH_TARGETS[name]
    rng = np.random.default_rng(3)
    batches = [(rng.normal(size=(4, 2)), targets(rng)) for _ in range(5)]
    w_eager, eager = _loss_step(loss_fn)
    w_comp, step = _loss_step(loss_fn)
    compiled = tg.compile(step)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback: the losses are fully traceable
        for x, y in batches:
            same_bytes(compiled(x, y).data, eager(x, y).data, name)
    same_bytes(w_comp.data, w_eager.data, name)
    assert type(next(iter(compiled.cache.values()))).__name__ == "_Plan"  # replaying, not eager
    assert compiled.traces == 1


@pytest.mark.parametrize("how", ["astype", "arithmetic", "Tensor"])
def test_an_array_made_from_an_argument_with_numpy_is_caught(how) -> None:
    def loss_fn(z, y):
        made = {"astype": lambda: np.asarray(y).astype(float), "arithmetic": lambda: np.asarray(y) * 2.0,
                "Tensor": lambda: Tensor(np.asarray(y).copy())}[how]()
        return ((z - made) ** 2).mean()

    rng = np.random.default_rng(4)
    batches = [(rng.normal(size=(4, 2)), rng.normal(size=(4, 3))) for _ in range(4)]
    w_eager, eager = _loss_step(loss_fn)
    w_comp, step = _loss_step(loss_fn)
    compiled = tg.compile(step)
    with pytest.warns(RuntimeWarning, match="changed between calls"):
        got = [compiled(x, y).data for x, y in batches]
    for g, (x, y) in zip(got, batches):
        same_bytes(g, eager(x, y).data, how)
    same_bytes(w_comp.data, w_eager.data, how)
