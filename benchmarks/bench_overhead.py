"""Framework overhead against hand-written NumPy with hand-derived gradients.

(a) forward + backward of a chain of 1 000 elementwise ops, ``x = tanh(x * 1.01 + 0.1)`` then
    ``sum``, on a shape-(8,) vector: almost pure bookkeeping. Target: at most 3x NumPy.
(b) one SGD step (forward, backward, update) of a 784-256-256-10 tanh MLP with softmax
    cross-entropy on a (256, 784) float32 batch. Target: at most 1.0x; gradients stay float32.

Every column's result is checked against the hand-written one before it is timed. Optional
columns: PyTorch and HIPS autograd, when installed. BLAS and OpenMP run one thread for every
column (set TG_BENCH_THREADS to change), so no column's threads fight another's. Peers are timed in
a second phase, each phase against its own hand-written NumPy run: importing torch puts hundreds
of thousands of objects under Python's cyclic garbage collector, which would slow every
Python-level framework timed after it.

    python benchmarks/bench_overhead.py [--quick] [--tiny]
"""

from __future__ import annotations

import os

THREADS = os.environ.get("TG_BENCH_THREADS", "1")
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = THREADS  # before NumPy loads its BLAS

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import add_options, machine, report, time_columns  # noqa: E402

import tinygrad_mvc as tg  # noqa: E402

DEPTH, WIDTH = 1000, 8
SIZES, BATCH, LR = (784, 256, 256, 10), 256, 0.01


# ------------------------------------------------------------------------ (a) elementwise chain

def chain_numpy(x0: np.ndarray) -> np.ndarray:
    t, saved = x0, []
    for _ in range(DEPTH):
        t = np.tanh(t * 1.01 + 0.1)
        saved.append(t)
    g = np.ones_like(t)
    for t in reversed(saved):
        g = g * (1 - t * t) * 1.01
    return g


def chain_tg(x0: np.ndarray) -> np.ndarray:
    x = tg.Tensor(x0, requires_grad=True)
    t = x
    for _ in range(DEPTH):
        t = tg.tanh(t * 1.01 + 0.1)
    t.sum().backward()
    return x.grad.data


def chain_torch(x0: np.ndarray) -> np.ndarray:
    import torch
    x = torch.tensor(x0, requires_grad=True)
    t = x
    for _ in range(DEPTH):
        t = torch.tanh(t * 1.01 + 0.1)
    t.sum().backward()
    return x.grad.numpy()


def chain_autograd(x0: np.ndarray) -> np.ndarray:
    import autograd
    import autograd.numpy as anp

    def f(x):
        for _ in range(DEPTH):
            x = anp.tanh(x * 1.01 + 0.1)
        return anp.sum(x)
    return autograd.grad(f)(x0)


# ------------------------------------------------------------------------ (b) MLP SGD step

def init_mlp(rng: np.random.Generator) -> list[np.ndarray]:
    params = []
    for n_in, n_out in zip(SIZES[:-1], SIZES[1:]):
        params.append((rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)).astype(np.float32))
        params.append(np.zeros(n_out, dtype=np.float32))
    return params


def mlp_step_numpy(params: list[np.ndarray], X: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    W1, b1, W2, b2, W3, b3 = params
    h1 = np.tanh(X @ W1 + b1)
    h2 = np.tanh(h1 @ W2 + b2)
    z = h2 @ W3 + b3
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    p = e / e.sum(axis=1, keepdims=True)
    n = X.shape[0]
    dz = p
    dz[np.arange(n), y] -= 1
    dz /= n
    grads = [None] * 6
    grads[4], grads[5] = h2.T @ dz, dz.sum(axis=0)
    d2 = (dz @ W3.T) * (1 - h2 * h2)
    grads[2], grads[3] = h1.T @ d2, d2.sum(axis=0)
    d1 = (d2 @ W2.T) * (1 - h1 * h1)
    grads[0], grads[1] = X.T @ d1, d1.sum(axis=0)
    for p_, g in zip(params, grads):
        p_ -= LR * g
    return grads


def mlp_step_tg(params: list[tg.Tensor], X: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    W1, b1, W2, b2, W3, b3 = params
    h1 = tg.tanh(X @ W1 + b1)
    h2 = tg.tanh(h1 @ W2 + b2)
    logp = tg.log_softmax(h2 @ W3 + b3, axis=1)
    loss = -logp[np.arange(X.shape[0]), y].mean()
    loss.backward()
    grads = []
    for p in params:
        grads.append(p.grad.data)
        p.data -= LR * p.grad.data
        p.grad = None
    return grads


def mlp_step_torch(params, X, y):
    import torch
    W1, b1, W2, b2, W3, b3 = params
    h1 = torch.tanh(X @ W1 + b1)
    h2 = torch.tanh(h1 @ W2 + b2)
    loss = torch.nn.functional.cross_entropy(h2 @ W3 + b3, y)
    loss.backward()
    grads = []
    with torch.no_grad():
        for p in params:
            grads.append(p.grad.numpy().copy())
            p -= LR * p.grad
            p.grad = None
    return grads


def _check_same(name: str, got: list[np.ndarray], want: list[np.ndarray], rtol: float) -> None:
    for i, (a, b) in enumerate(zip(got, want)):
        if not np.allclose(a, b, rtol=rtol, atol=rtol * 1e-2 * float(np.abs(b).max() + 1e-30)):
            raise AssertionError(f"{name}: gradient {i} differs from the hand-written NumPy one")


def _peers() -> list[str]:
    return [name for name in ("torch", "autograd") if importlib.util.find_spec(name) is not None]


def bench_chain(repeat: int, peers: bool) -> list[str]:
    x0 = np.random.default_rng(0).standard_normal(WIDTH)
    want = chain_numpy(x0)
    title = f"(a) chain of {DEPTH} x (tanh, mul, add) on shape ({WIDTH},), forward + backward"
    columns = {"hand-written NumPy": lambda: chain_numpy(x0)}
    if not peers:
        _check_same("tinygrad_mvc", [chain_tg(x0)], [want], 1e-10)
        columns["tinygrad_mvc"] = lambda: chain_tg(x0)
    else:
        impls = {"torch": chain_torch, "autograd": chain_autograd}
        for name in _peers():
            _check_same(name, [impls[name](x0)], [want], 1e-10)
            columns[f"{name} (peer)"] = lambda fn=impls[name]: fn(x0)
        title += ": peers, timed after ours"
    return report(title, time_columns(columns, repeat=repeat), "hand-written NumPy") if len(columns) > 1 else []


def bench_mlp(repeat: int, peers: bool) -> list[str]:
    rng = np.random.default_rng(1)
    X = rng.standard_normal((BATCH, SIZES[0])).astype(np.float32)
    y = rng.integers(0, SIZES[-1], BATCH)
    base = init_mlp(rng)
    # Check the first step of each column against the hand-written one, then time many steps.
    want = mlp_step_numpy([p.copy() for p in base], X, y)
    np_params = [p.copy() for p in base]
    title = f"(b) one SGD step, MLP {'-'.join(map(str, SIZES))} tanh, batch {BATCH}, float32"
    columns = {"hand-written NumPy": lambda: mlp_step_numpy(np_params, X, y)}
    if not peers:
        tg_params = [tg.Tensor(p, requires_grad=True) for p in base]
        got = mlp_step_tg(tg_params, X, y)
        if any(g.dtype != np.float32 for g in got):
            raise AssertionError("tinygrad_mvc: gradients of float32 parameters are not float32")
        _check_same("tinygrad_mvc", got, want, 1e-4)
        columns["tinygrad_mvc"] = lambda: mlp_step_tg(tg_params, X, y)
    elif "torch" in _peers():
        import torch
        torch.set_num_threads(int(THREADS))
        tp = [torch.tensor(p, requires_grad=True) for p in base]
        Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
        _check_same("torch", mlp_step_torch(tp, Xt, yt), want, 1e-4)
        columns["torch (peer)"] = lambda: mlp_step_torch(tp, Xt, yt)
        title += ": peers, timed after ours"
    if len(columns) == 1:
        return []
    return report(title, time_columns(columns, repeat=repeat, min_time=0.05), "hand-written NumPy")


def main(argv: list[str] | None = None) -> list[str]:
    parser = add_options(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    args = parser.parse_args(argv)
    repeat = 2 if args.tiny else 5 if args.quick else 25
    lines = ["## Framework overhead (bench_overhead.py)", "", machine(), ""]
    if not _peers():
        lines += ["Peers (torch, HIPS autograd) not installed: `pip install -e '.[bench]'` adds their columns.", ""]
    # Our columns first: the peer phases import torch/autograd (see the module docstring).
    for peers in (False, True):
        for bench in (bench_chain, bench_mlp):
            table = bench(repeat, peers)
            lines += table + ([""] if table else [])
    print("\n".join(lines))
    return lines


if __name__ == "__main__":
    main()
