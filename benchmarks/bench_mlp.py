"""Training steps of small networks against hand-written NumPy with hand-derived gradients.

(a) micrograd's moons network: a 2-16-16-1 ReLU MLP on 100 points, max-margin (hinge) loss plus
    1e-4·Σp², one full-batch step (forward, backward, SGD update). Target: at most 2.0x NumPy.
    Columns: the step written with ``tg.nn``/``tg.losses``/``tg.optim`` (the L2 term in the loss, as
    micrograd writes it), the same with the L2 folded into SGD's ``weight_decay`` (the identical
    update), and a per-scalar engine of micrograd's design, written below, to show what
    vectorising buys (timed on fewer repeats: one step takes about a second).
(b) a 784-256-256-10 tanh MLP with softmax cross-entropy on a (256, 784) float32 batch, one SGD
    step. Target: at most 1.0x NumPy; gradients stay float32.

Every column's updated parameters are checked against the hand-written step before it is timed.
Optional columns: PyTorch and HIPS autograd when installed, timed in a second phase (importing
torch slows every Python-level framework timed after it; see bench_overhead.py). BLAS and OpenMP
run one thread for every column (TG_BENCH_THREADS to change).

    python benchmarks/bench_mlp.py [--quick]
"""

from __future__ import annotations

import os

THREADS = os.environ.get("TG_BENCH_THREADS", "1")
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = THREADS  # before NumPy loads its BLAS

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import machine, report, time_columns, tune_malloc  # noqa: E402

import tinygrad_mvc as tg  # noqa: E402

MOONS_SIZES, MOONS_N, ALPHA, MOONS_LR = (2, 16, 16, 1), 100, 1e-4, 0.5
BIG_SIZES, BIG_BATCH, BIG_LR = (784, 256, 256, 10), 256, 0.01

Params = list[np.ndarray]


def _peers() -> list[str]:
    return [name for name in ("torch", "autograd") if importlib.util.find_spec(name) is not None]


def _check_same(name: str, got: Params, want: Params, rtol: float) -> None:
    for i, (a, b) in enumerate(zip(got, want, strict=True)):
        a = np.asarray(a)
        if a.shape != b.shape or not np.allclose(a, b, rtol=rtol, atol=rtol * float(np.abs(b).max() + 1e-30)):
            raise AssertionError(f"{name}: parameter {i} after one step differs from the hand-written NumPy step")


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


def bench_moons(repeat: int, peers: bool) -> list[str]:
    X, y = tg.datasets.make_moons(MOONS_N, noise=0.1, rng=0)
    signs = 2.0 * y - 1.0
    base = _init(MOONS_SIZES, np.random.default_rng(0), np.float64)
    want = moons_step_numpy([p.copy() for p in base], X, signs)
    reference = [p.copy() for p in base]
    columns = {"hand-written NumPy": lambda: moons_step_numpy(reference, X, signs)}
    title = (f"(a) one SGD step, micrograd's moons MLP {'-'.join(map(str, MOONS_SIZES))} relu, {MOONS_N} points, "
             "hinge loss + 1e-4·L2, float64")
    scalar_line: list[str] = []
    if not peers:
        for label, decay in (("tinygrad_mvc (L2 in the loss)", False), ("tinygrad_mvc (L2 as weight_decay)", True)):
            check = MoonsTg(base, decay)
            _check_same(label, check.step(X, signs), want, 1e-10)
            timed = MoonsTg(base, decay)
            columns[label] = lambda m=timed: m.step(X, signs)
        scalar = MoonsScalar(base)
        _check_same("per-scalar engine", scalar.step(X, signs), want, 1e-10)
        scalar_times = time_columns({"scalar": lambda: scalar.step(X, signs)}, repeat=3, warmup=0, min_time=0)
    else:
        title += ": peers, timed after ours"
        if "torch" in _peers():
            import torch
            torch.set_num_threads(int(THREADS))
            Xt, st = torch.from_numpy(X), torch.from_numpy(signs)
            fresh = lambda: [torch.tensor(p, requires_grad=True) for p in base]  # noqa: E731
            _check_same("torch", moons_step_torch(fresh(), Xt, st), want, 1e-10)
            tp = fresh()
            columns["torch (peer)"] = lambda: moons_step_torch(tp, Xt, st)
        if "autograd" in _peers():
            _check_same("autograd", moons_step_autograd([p.copy() for p in base], X, signs), want, 1e-10)
            ap = [p.copy() for p in base]
            columns["HIPS autograd (peer)"] = lambda: moons_step_autograd(ap, X, signs)
    if len(columns) == 1:
        return []
    results = time_columns(columns, repeat=repeat)
    lines = report(title, results, "hand-written NumPy")
    if not peers:
        ours = results["tinygrad_mvc (L2 in the loss)"][0]
        per_scalar = scalar_times["scalar"][0]
        scalar_line = ["", "Per-scalar engine of micrograd's design (in this file), same step: "
                       f"{per_scalar * 1e3:.0f} ms "
                       f"({per_scalar / results['hand-written NumPy'][0]:.0f}x NumPy); tinygrad_mvc is "
                       f"{per_scalar / ours:.0f}x faster."]
    return lines + scalar_line


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

    def __init__(self, base: Params) -> None:
        self.model = tg.nn.MLP(BIG_SIZES, activation="tanh", rng=0, dtype=np.float32)
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


def bench_big(repeat: int, peers: bool) -> list[str]:
    rng = np.random.default_rng(1)
    X = rng.standard_normal((BIG_BATCH, BIG_SIZES[0])).astype(np.float32)
    y = rng.integers(0, BIG_SIZES[-1], BIG_BATCH)
    base = _init(BIG_SIZES, rng, np.float32)
    want = big_step_numpy([p.copy() for p in base], X, y)
    reference = [p.copy() for p in base]
    columns = {"hand-written NumPy": lambda: big_step_numpy(reference, X, y)}
    title = f"(b) one SGD step, MLP {'-'.join(map(str, BIG_SIZES))} tanh, batch {BIG_BATCH}, float32, cross-entropy"
    if not peers:
        check = BigTg(base)
        got = check.step(X, y)
        if any(p.dtype != np.float32 for p in got):
            raise AssertionError("tinygrad_mvc: float32 parameters did not stay float32")
        _check_same("tinygrad_mvc", got, want, 1e-4)
        timed = BigTg(base)
        columns["tinygrad_mvc"] = lambda: timed.step(X, y)
    elif "torch" in _peers():
        import torch
        torch.set_num_threads(int(THREADS))
        Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
        fresh = lambda: [torch.tensor(p, requires_grad=True) for p in base]  # noqa: E731
        _check_same("torch", big_step_torch(fresh(), Xt, yt), want, 1e-4)
        tp = fresh()
        columns["torch (peer)"] = lambda: big_step_torch(tp, Xt, yt)
        title += ": peers, timed after ours"
    if len(columns) == 1:
        return []
    return report(title, time_columns(columns, repeat=repeat, min_time=0.05), "hand-written NumPy")


def main(argv: list[str] | None = None) -> list[str]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--malloc", choices=("tuned", "default"), default="tuned",
                        help="raise glibc's mmap/trim thresholds for every column (default) or not")
    args = parser.parse_args(argv)
    repeat = 5 if args.quick else 25
    note = tune_malloc() if args.malloc == "tuned" else "malloc: default"
    lines = ["## Training steps (bench_mlp.py)", "", machine() + "; " + note, "",
             "Targets: (a) at most 2.0x hand-written NumPy, (b) at most 1.0x.", ""]
    if not _peers():
        lines += ["Peers (torch, HIPS autograd) not installed: `pip install -e '.[bench]'` adds their columns.", ""]
    for peers in (False, True):  # ours first: the peer phase imports torch (see the module docstring)
        for bench in (bench_moons, bench_big):
            table = bench(repeat, peers)
            lines += table + ([""] if table else [])
    print("\n".join(lines))
    return lines


if __name__ == "__main__":
    main()
