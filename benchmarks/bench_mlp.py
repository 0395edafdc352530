"""Training steps of small networks against hand-written NumPy with hand-derived gradients.

(a) micrograd's moons network: a 2-16-16-1 ReLU MLP on 100 points, max-margin (hinge) loss plus
    1e-4·Σp², one full-batch step (forward, backward, SGD update). Target: at most 2.0x NumPy.
    Columns: the step written with ``tg.nn``/``tg.losses``/``tg.optim`` (the L2 term in the loss, as
    micrograd writes it), the same with the L2 folded into SGD's ``weight_decay`` (the identical
    update), and a per-scalar engine of micrograd's design, written below, to show what
    vectorising buys (timed on fewer repeats: one step takes about a second).
(b) a 784-256-256-10 tanh MLP with softmax cross-entropy on a (256, 784) float32 batch, one SGD
    step. Target: at most 1.0x NumPy; gradients stay float32.
(b') the same step with the cross-entropy written by hand, ``tg.logsumexp(z, axis=1) - z[rows, labels]``
    (as users of JAX and HIPS autograd write it), against the same hand-written NumPy. Target (issue
    18): at most 1.15x NumPy in a default process.

Malloc: a default process, as users get it (``--malloc tuned`` raises glibc's thresholds for every
column; ``--malloc both``, the default of a full run, adds a tuned run in a second process, labelled).

Every column's updated parameters are checked against the hand-written step before it is timed.
Optional columns: PyTorch and HIPS autograd when installed, timed in a second phase (importing
torch slows every Python-level framework timed after it; see bench_overhead.py). BLAS and OpenMP
run one thread for every column (TG_BENCH_THREADS to change).

    python benchmarks/bench_mlp.py [--quick] [--tiny] [--malloc default|tuned|both]
"""

from __future__ import annotations

import os

THREADS = os.environ.get("TG_BENCH_THREADS", "1")
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = THREADS  # before NumPy loads its BLAS

import argparse  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import (  # noqa: E402
    add_malloc_option,
    add_options,
    gate,
    installed_peers,
    machine,
    malloc_setting,
    peers_note,
    report,
    time_columns,
    tuned_rerun,
)

import tinygrad_mvc as tg  # noqa: E402

MOONS_SIZES, MOONS_N, ALPHA, MOONS_LR = (2, 16, 16, 1), 100, 1e-4, 0.5
BIG_SIZES, BIG_BATCH, BIG_LR = (784, 256, 256, 10), 256, 0.01
TARGETS = {"a": 2.0, "b": 1.0, "b_lse": 1.15}  # issues 5 and 18: ratios to hand-written NumPy
TINY = {"moons_n": 12, "big_sizes": (20, 8, 8, 3), "big_batch": 6}  # --tiny: only checks that all runs

Params = list[np.ndarray]


def _peers() -> list[str]:
    return installed_peers(("torch", "autograd"))


def _flat(params: Params) -> np.ndarray:
    """All parameters as one vector: what the correctness gate compares."""
    return np.concatenate([np.asarray(p, dtype=np.float64).ravel() for p in params])


def _torch_columns(step: Callable[..., Params], base: Params, X: np.ndarray, y: np.ndarray,
                   first: dict[str, Callable[[], object]], timed: dict[str, Callable[[], object]]) -> None:
    """Add the torch column: one step from ``base`` for the gate, and a model that keeps stepping for the timing."""
    import torch

    torch.set_num_threads(int(THREADS))
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

    def fresh() -> list:
        return [torch.tensor(p, requires_grad=True) for p in base]

    first["torch (peer)"] = lambda: _flat(step(fresh(), Xt, yt))
    params = fresh()
    timed["torch (peer)"] = lambda: step(params, Xt, yt)


def _init(sizes: tuple[int, ...], rng: np.random.Generator, dtype: type) -> Params:
    params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        bound = 1 / math.sqrt(n_in)
        params.append(rng.uniform(-bound, bound, (n_in, n_out)).astype(dtype))
        params.append(rng.uniform(-bound, bound, n_out).astype(dtype))
    return params


# ------------------------------------------------------------------------ (a) the moons network

def moons_step_numpy(params: Params, X: np.ndarray, signs: np.ndarray) -> Params:
    """The step with gradients derived by hand (chain rule through relu, matmul and the hinge)."""
    W1, b1, W2, b2, W3, b3 = params
    z1 = X @ W1 + b1
    h1 = np.maximum(z1, 0)
    z2 = h1 @ W2 + b2
    h2 = np.maximum(z2, 0)
    s = (h2 @ W3 + b3)[:, 0]
    margin = 1 - signs * s
    ds = np.where(margin > 0, -signs / len(s), 0.0)[:, None]  # d mean(relu(margin)) / ds
    dz2 = (ds @ W3.T) * (z2 > 0)
    dz1 = (dz2 @ W2.T) * (z1 > 0)
    grads = [X.T @ dz1, dz1.sum(0), h1.T @ dz2, dz2.sum(0), h2.T @ ds, ds.sum(0)]
    for p, g in zip(params, grads):
        p -= MOONS_LR * (g + 2 * ALPHA * p)
    return params


class MoonsTg:
    """The step as a user writes it: ``tg.nn.MLP``, ``tg.losses.hinge`` and ``tg.optim.SGD``."""

    def __init__(self, base: Params, weight_decay: bool) -> None:
        self.model = tg.nn.MLP(MOONS_SIZES, activation="relu", rng=0)
        for p, value in zip(self.model.parameters(), base):
            p.data[...] = value
        self.params = self.model.parameters()
        self.weight_decay = weight_decay
        self.opt = tg.optim.SGD(self.params, lr=MOONS_LR, weight_decay=2 * ALPHA if weight_decay else 0.0)

    def step(self, X: np.ndarray, signs: np.ndarray) -> Params:
        loss = tg.losses.hinge(self.model(X).reshape(-1), signs)
        if not self.weight_decay:
            loss = loss + ALPHA * sum((p * p).sum() for p in self.params)
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        return [p.data for p in self.params]


# ---- issue 18: the moons step under tg.compile (its own columns; the eager ones are unchanged)
COMPILED_TARGET = 1.3  # issue 18: the compiled moons step, L2 in the loss, at most 1.3x hand-written NumPy


def _compiled_moons(base: Params, X: np.ndarray, signs: np.ndarray, first: dict[str, Callable[[], object]],
                    timed: dict[str, Callable[[], object]]) -> None:
    """Columns for MoonsTg.step under tg.compile. The gate checks a replay: one traced step, the parameters
    put back to ``base``, then the replayed step from there."""
    for label, decay in (("tinygrad_mvc, tg.compile (L2 in the loss)", False),
                         ("tinygrad_mvc, tg.compile (L2 as weight_decay)", True)):
        def replayed(d: bool = decay) -> np.ndarray:
            model = MoonsTg(base, d)
            step = tg.compile(model.step)
            step(X, signs)
            for p, value in zip(model.params, base):
                p.data[...] = value
            got = _flat(step(X, signs))
            if step.traces != 1:
                raise AssertionError("the compiled step traced more than once")
            return got
        first[label] = replayed
        compiled = tg.compile(MoonsTg(base, decay).step)
        timed[label] = lambda s=compiled: s(X, signs)
# ---- end of issue 18


class Value:
    """A scalar of micrograd's design: data, grad, the inputs it came from, and a closure for backward."""

    __slots__ = ("data", "grad", "_backward", "_prev")

    def __init__(self, data: float, prev: tuple[Value, ...] = ()) -> None:
        self.data, self.grad, self._prev = data, 0.0, prev
        self._backward: Callable[[], None] = lambda: None

    def __add__(self, other: Value | float) -> Value:
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other))

        def backward() -> None:
            self.grad += out.grad
            other.grad += out.grad
        out._backward = backward
        return out

    def __mul__(self, other: Value | float) -> Value:
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other))

        def backward() -> None:
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = backward
        return out

    def relu(self) -> Value:
        out = Value(self.data if self.data > 0 else 0.0, (self,))

        def backward() -> None:
            self.grad += (out.data > 0) * out.grad
        out._backward = backward
        return out

    __radd__ = __add__
    __rmul__ = __mul__

    def backward(self) -> None:
        order, seen, stack = [], set(), [(self, False)]
        while stack:  # iterative topological sort: the graph is deeper than Python's recursion limit
            v, done = stack.pop()
            if done:
                order.append(v)
            elif id(v) not in seen:
                seen.add(id(v))
                stack.append((v, True))
                stack.extend((p, False) for p in v._prev)
        self.grad = 1.0
        for v in reversed(order):
            v._backward()


class MoonsScalar:
    """The step on :class:`Value` scalars: one graph node per multiply and add, as micrograd does."""

    def __init__(self, base: Params) -> None:
        self.params = [np.vectorize(Value, otypes=[object])(p) for p in base]

    def step(self, X: np.ndarray, signs: np.ndarray) -> Params:
        W1, b1, W2, b2, W3, b3 = (p.tolist() for p in self.params)
        data_loss = Value(0.0)
        for x, sign in zip(X.tolist(), signs.tolist()):
            h = [xi for xi in x]
            for W, b, act in ((W1, b1, True), (W2, b2, True), (W3, b3, False)):
                h = [sum((h[i] * W[i][j] for i in range(len(h))), b[j]) for j in range(len(b))]
                h = [v.relu() for v in h] if act else h
            data_loss = data_loss + (1 + h[0] * (-sign)).relu()
        flat = [v for p in self.params for v in p.ravel()]
        loss = data_loss * (1.0 / len(X)) + sum((v * v for v in flat), Value(0.0)) * ALPHA
        for v in flat:
            v.grad = 0.0
        loss.backward()
        for v in flat:
            v.data -= MOONS_LR * v.grad
        return [np.vectorize(lambda v: v.data, otypes=[float])(p) for p in self.params]


def moons_step_torch(params: list, X: object, signs: object) -> Params:
    import torch
    W1, b1, W2, b2, W3, b3 = params
    h = torch.relu(torch.relu(X @ W1 + b1) @ W2 + b2)
    s = (h @ W3 + b3)[:, 0]
    loss = torch.relu(1 - signs * s).mean() + ALPHA * sum((p * p).sum() for p in params)
    loss.backward()
    with torch.no_grad():
        for p in params:
            p -= MOONS_LR * p.grad
            p.grad = None
    return [p.detach().numpy() for p in params]


def moons_step_autograd(params: Params, X: np.ndarray, signs: np.ndarray) -> Params:
    import autograd
    import autograd.numpy as anp

    def loss(ps: Params) -> float:
        W1, b1, W2, b2, W3, b3 = ps
        h = anp.maximum(anp.maximum(X @ W1 + b1, 0) @ W2 + b2, 0)
        s = (h @ W3 + b3)[:, 0]
        return anp.mean(anp.maximum(1 - signs * s, 0)) + ALPHA * sum(anp.sum(p * p) for p in ps)
    grads = autograd.grad(loss)(params)
    for p, g in zip(params, grads):
        p -= MOONS_LR * g
    return params


def bench_moons(repeat: int, peers: bool, n: int = MOONS_N) -> list[str]:
    X, y = tg.datasets.make_moons(n, noise=0.1, rng=0)
    signs = 2.0 * y - 1.0
    base = _init(MOONS_SIZES, np.random.default_rng(0), np.float64)
    want = _flat(moons_step_numpy([p.copy() for p in base], X, signs))
    reference = [p.copy() for p in base]
    title = (f"(a) one SGD step, micrograd's moons MLP {'-'.join(map(str, MOONS_SIZES))} relu, {n} points, "
             "hinge loss + 1e-4·L2, float64")
    # The gate runs each column's first step from the same start; the timed columns step on from there.
    first: dict[str, Callable[[], object]] = {}
    timed: dict[str, Callable[[], object]] = {}
    if not peers:
        for label, decay in (("tinygrad_mvc (L2 in the loss)", False), ("tinygrad_mvc (L2 as weight_decay)", True)):
            first[label] = lambda d=decay: _flat(MoonsTg(base, d).step(X, signs))
            model = MoonsTg(base, decay)
            timed[label] = lambda m=model: m.step(X, signs)
        _compiled_moons(base, X, signs, first, timed)  # issue 18
        first["per-scalar engine"] = lambda: _flat(MoonsScalar(base).step(X, signs))
    else:
        title += ": peers, timed after ours"
        if "torch" in _peers():
            _torch_columns(moons_step_torch, base, X, signs, first, timed)
        if "autograd" in _peers():
            first["HIPS autograd (peer)"] = lambda: _flat(moons_step_autograd([p.copy() for p in base], X, signs))
            ap = [p.copy() for p in base]
            timed["HIPS autograd (peer)"] = lambda: moons_step_autograd(ap, X, signs)
    if not first:
        return []
    passed, failed = gate(first, want, rtol=1e-10)
    scalar = MoonsScalar(base) if "per-scalar engine" in passed else None
    columns = {"hand-written NumPy": lambda: moons_step_numpy(reference, X, signs)}
    columns.update({k: fn for k, fn in timed.items() if k in passed})
    results = time_columns(columns, repeat=repeat)
    targets = None if peers else {k: TARGETS["a"] for k in first if k.startswith("tinygrad_mvc")
                                  and "tg.compile" not in k}
    if not peers:
        targets["tinygrad_mvc, tg.compile (L2 in the loss)"] = COMPILED_TARGET  # issue 18
    lines = report(title, results, "hand-written NumPy", failed, targets=targets, case="step (a)")
    if scalar is not None:  # about a second a step: timed on its own, a few times
        per_scalar = time_columns({"s": lambda: scalar.step(X, signs)}, repeat=3, warmup=0, min_time=0)["s"][0]
        ours = results["tinygrad_mvc (L2 in the loss)"][0]
        lines += ["", "Per-scalar engine of micrograd's design (in this file), same step: "
                  f"{per_scalar * 1e3:.0f} ms ({per_scalar / results['hand-written NumPy'][0]:.0f}x NumPy); "
                  f"tinygrad_mvc with the same loss is {per_scalar / ours:.0f}x faster."]
    return lines


# ------------------------------------------------------------------------ (b) a wider MLP, float32

def big_step_numpy(params: Params, X: np.ndarray, y: np.ndarray) -> Params:
    """The step with gradients derived by hand: softmax cross-entropy through three tanh layers."""
    W1, b1, W2, b2, W3, b3 = params
    h1 = np.tanh(X @ W1 + b1)
    h2 = np.tanh(h1 @ W2 + b2)
    z = h2 @ W3 + b3
    z -= z.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    n = X.shape[0]
    dz = p
    dz[np.arange(n), y] -= 1
    dz /= n
    d2 = (dz @ W3.T) * (1 - h2 * h2)
    d1 = (d2 @ W2.T) * (1 - h1 * h1)
    grads = [X.T @ d1, d1.sum(axis=0), h1.T @ d2, d2.sum(axis=0), h2.T @ dz, dz.sum(axis=0)]
    for p_, g in zip(params, grads):
        p_ -= BIG_LR * g
    return params


class BigTg:
    """The step with ``tg.nn.MLP``, ``tg.losses.cross_entropy`` and ``tg.optim.SGD``, in float32."""

    def __init__(self, base: Params, sizes: tuple[int, ...] = BIG_SIZES) -> None:
        self.model = tg.nn.MLP(sizes, activation="tanh", rng=0, dtype=np.float32)
        for p, value in zip(self.model.parameters(), base):
            p.data[...] = value
        self.opt = tg.optim.SGD(self.model.parameters(), lr=BIG_LR)

    def step(self, X: np.ndarray, y: np.ndarray) -> Params:
        loss = tg.losses.cross_entropy(self.model(X), y)
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        return [p.data for p in self.opt.params]


def big_step_torch(params: list, X: object, y: object) -> Params:
    import torch
    W1, b1, W2, b2, W3, b3 = params
    h2 = torch.tanh(torch.tanh(X @ W1 + b1) @ W2 + b2)
    torch.nn.functional.cross_entropy(h2 @ W3 + b3, y).backward()
    with torch.no_grad():
        for p in params:
            p -= BIG_LR * p.grad
            p.grad = None
    return [p.detach().numpy() for p in params]


def _big_case(sizes: tuple[int, ...], batch: int) -> tuple[np.ndarray, np.ndarray, Params, np.ndarray, Params]:
    """The data, the start and the hand-written step's result shared by tables (b) and (b')."""
    rng = np.random.default_rng(1)
    X = rng.standard_normal((batch, sizes[0])).astype(np.float32)
    y = rng.integers(0, sizes[-1], batch)
    base = _init(sizes, rng, np.float32)
    want = _flat(big_step_numpy([p.copy() for p in base], X, y))
    return X, y, base, want, [p.copy() for p in base]


def bench_big(repeat: int, peers: bool, sizes: tuple[int, ...] = BIG_SIZES, batch: int = BIG_BATCH) -> list[str]:
    X, y, base, want, reference = _big_case(sizes, batch)
    title = f"(b) one SGD step, MLP {'-'.join(map(str, sizes))} tanh, batch {batch}, float32, cross-entropy"
    first: dict[str, Callable[[], object]] = {}
    timed: dict[str, Callable[[], object]] = {}
    if not peers:
        def first_tg() -> np.ndarray:
            got = BigTg(base, sizes).step(X, y)
            if any(p.dtype != np.float32 for p in got):
                raise AssertionError("float32 parameters did not stay float32")
            return _flat(got)
        first["tinygrad_mvc"] = first_tg
        model = BigTg(base, sizes)
        timed["tinygrad_mvc"] = lambda: model.step(X, y)
    elif "torch" in _peers():
        _torch_columns(big_step_torch, base, X, y, first, timed)
        title += ": peers, timed after ours"
    if not first:
        return []
    passed, failed = gate(first, want, rtol=1e-5)
    columns = {"hand-written NumPy": lambda: big_step_numpy(reference, X, y)}
    columns.update({k: fn for k, fn in timed.items() if k in passed})
    targets = None if peers else {"tinygrad_mvc": TARGETS["b"]}
    return report(title, time_columns(columns, repeat=repeat, min_time=0.05), "hand-written NumPy", failed,
                  targets=targets, case="step (b)")


# ------------------------------------------------------------------------ (b') cross-entropy written by hand (issue 18)

class BigLseTg(BigTg):
    """Step (b) with the loss as users of JAX and HIPS autograd write it: logsumexp minus the picked logit."""

    def step(self, X: np.ndarray, y: np.ndarray) -> Params:
        z = self.model(X)
        loss = (tg.logsumexp(z, axis=1) - z[np.arange(len(y)), y]).mean()
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        return [p.data for p in self.opt.params]


def bench_big_lse(repeat: int, sizes: tuple[int, ...] = BIG_SIZES, batch: int = BIG_BATCH) -> list[str]:
    """Table (b'): the logsumexp form against the hand-written step of (b), same data, same start."""
    X, y, base, want, reference = _big_case(sizes, batch)
    title = (f"(b') one SGD step, MLP {'-'.join(map(str, sizes))} tanh, batch {batch}, float32, "
             "logsumexp(z) − z[rows, labels] written by hand")
    label = "tinygrad_mvc (logsumexp − picked logit)"

    def first() -> np.ndarray:
        got = BigLseTg(base, sizes).step(X, y)
        if any(p.dtype != np.float32 for p in got):
            raise AssertionError("float32 parameters did not stay float32")
        return _flat(got)
    passed, failed = gate({label: first}, want, rtol=1e-5)
    model = BigLseTg(base, sizes)
    columns = {"hand-written NumPy": lambda: big_step_numpy(reference, X, y)}
    if label in passed:
        columns[label] = lambda: model.step(X, y)
    return report(title, time_columns(columns, repeat=repeat, min_time=0.05), "hand-written NumPy", failed,
                  targets={label: TARGETS["b_lse"]}, case="step (b')")


def main(argv: list[str] | None = None) -> list[str]:
    parser = add_malloc_option(add_options(argparse.ArgumentParser(description=__doc__.splitlines()[0])), None)
    args = parser.parse_args(argv)
    malloc = args.malloc or ("default" if args.tiny else "both")  # a full run shows a tuned run beside
    repeat = 2 if args.tiny else 5 if args.quick else 25
    moons = {"n": TINY["moons_n"]} if args.tiny else {}
    big = {"sizes": TINY["big_sizes"], "batch": TINY["big_batch"]} if args.tiny else {}
    note = malloc_setting(malloc)
    lines = ["## Training steps (bench_mlp.py)", "", machine() + "; " + note, "",
             f"Targets: (a) at most {TARGETS['a']:g}x hand-written NumPy, (b) at most {TARGETS['b']:g}x, "
             f"(b') at most {TARGETS['b_lse']:g}x.", ""]
    lines += peers_note(("torch", "autograd"))
    for peers in (False, True):  # ours first: the peer phase imports torch (see the module docstring)
        tables = [bench_moons(repeat, peers, **moons), bench_big(repeat, peers, **big)]
        if not peers:
            tables.append(bench_big_lse(repeat, **big))
        if args.tuned_rerun and peers:
            tables = []  # the tuned run of --malloc both is about our columns: no peers
        for table in tables:
            lines += table + ([""] if table else [])
    if malloc == "both":
        lines += tuned_rerun(__file__, argv)
    print("\n".join(lines))
    return lines


if __name__ == "__main__":
    main()
