"""Transforms on the Rosenbrock function against hand-written NumPy with the analytic derivatives.

    f(x) = Σ 100 (x[i+1] − x[i]²)² + (1 − x[i])²,  float64

(a) gradient and Hessian-vector product at n = 1 000 and n = 100 000 (targets: hvp ≤ 15x the
    hand-written HVP at n = 1 000, ≤ 2.5x at n = 100 000; hvp/grad ≤ 3);
(b) jvp against one evaluation of f (target jvp/f ≤ 3);
(c) the full Hessian at n = 100 and n = 500 against the hand-written dense tridiagonal Hessian
    (target ≤ 100x at n = 500);
(d) the sparse Hessian, ``tg.hessian(f, sparsity="auto")`` (pattern from the graph, 3 coloured HVPs,
    the same dense array), at n = 100, 500, 1 000 and 10 000 against the same hand-written dense
    Hessian (target ≤ 10x at n = 500; the pattern is found once and reused, as a Newton loop does).

Every column's result is checked against the hand-written one before it is timed. Optional peer
columns: PyTorch (double backward, ``torch.func``) and HIPS autograd, timed in a second phase after
ours (see bench_overhead.py for why). BLAS threads are pinned to 1 (TG_BENCH_THREADS). Malloc: a
default process, as users get it, where page faults of the large temporaries dominate at n = 100 000
for hand-written NumPy and us alike; a full run (``--malloc both``, the default without ``--tiny``)
adds the same cases with glibc's thresholds raised (``tg.tune_allocator()``) from a second process,
labelled; ``--malloc tuned`` runs only that.

    python benchmarks/bench_transforms.py [--quick] [--tiny] [--malloc default|tuned|both]
"""

from __future__ import annotations

import os

THREADS = os.environ.get("TG_BENCH_THREADS", "1")
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = THREADS  # before NumPy loads its BLAS

import argparse  # noqa: E402
import sys  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import (  # noqa: E402
    add_malloc_option,
    add_options,
    installed_peers,
    machine,
    malloc_setting,
    peers_note,
    report,
    target,
    time_columns,
    tuned_rerun,
)

import tinygrad_mvc as tg  # noqa: E402

REF = "hand-written NumPy"
# Issue 3's targets: hvp against the hand-written HVP at the smaller and the larger n, hvp / grad and jvp / f
# at every n, and the dense Hessian at the largest n.
TARGETS = {"hvp small n": 15.0, "hvp large n": 2.5, "hvp / grad": 3.0, "jvp / f": 3.0, "hessian": 100.0,
           "sparse hessian": 10.0}  # the sparse Hessian at n = 500 (issue 18)


# ------------------------------------------------------------------------ Rosenbrock, by hand

def rosen_numpy(x: np.ndarray) -> float:
    a = x[:-1]
    d = np.subtract(x[1:], a * a)
    e = np.subtract(1.0, a)
    return float(np.dot(d, d) * 100 + np.dot(e, e))


def grad_numpy(x: np.ndarray) -> np.ndarray:
    a, b = x[:-1], x[1:]
    d = np.subtract(b, a * a)
    g = np.zeros_like(x)
    g[:-1] = -400 * a * d - 2 * (1 - a)
    g[1:] += 200 * d
    return g


def hvp_numpy(x: np.ndarray, v: np.ndarray) -> np.ndarray:
    a, b = x[:-1], x[1:]
    r = np.zeros_like(x)
    r[:-1] = (1200 * a * a - 400 * b + 2) * v[:-1] - 400 * a * v[1:]
    r[1:] += 200 * v[1:] - 400 * a * v[:-1]
    return r


def hessian_numpy(x: np.ndarray) -> np.ndarray:
    """The dense Hessian, filled from its three diagonals."""
    n = x.size
    a, b = x[:-1], x[1:]
    diag = np.zeros(n)
    diag[:-1] = 1200 * a * a - 400 * b + 2
    diag[1:] += 200
    off = -400 * a
    H = np.zeros((n, n))
    i = np.arange(n - 1)
    H[np.arange(n), np.arange(n)] = diag
    H[i, i + 1] = off
    H[i + 1, i] = off
    return H


# ------------------------------------------------------------------------ the same with tinygrad_mvc

def rosen(x: tg.Tensor) -> tg.Tensor:
    a = x[:-1]
    return (100 * (x[1:] - a * a) ** 2 + (1 - a) ** 2).sum()


rosen_grad = tg.grad(rosen)
rosen_hessian = tg.hessian(rosen)
rosen_sparse_hessian = tg.hessian(rosen, sparsity="auto")


# ------------------------------------------------------------------------ peers (optional)

def _peers() -> list[str]:
    return installed_peers(("torch", "autograd"))


def _torch_columns(x: np.ndarray, v: np.ndarray, what: str) -> dict[str, Callable[[], np.ndarray]]:
    import torch
    from torch.func import grad, hessian, jvp

    torch.set_num_threads(int(THREADS))
    xt, vt = torch.from_numpy(x), torch.from_numpy(v)

    def f(z: torch.Tensor) -> torch.Tensor:
        a = z[:-1]
        return (100 * (z[1:] - a * a) ** 2 + (1 - a) ** 2).sum()

    def autograd_grad() -> np.ndarray:
        z = xt.detach().requires_grad_()
        return torch.autograd.grad(f(z), z)[0].numpy()

    def double_backward() -> np.ndarray:
        z = xt.detach().requires_grad_()
        (g,) = torch.autograd.grad(f(z), z, create_graph=True)
        return torch.autograd.grad(g, z, vt)[0].numpy()

    if what == "grad":
        return {"torch autograd.grad (peer)": autograd_grad}
    if what == "hvp":
        return {"torch double backward (peer)": double_backward,
                "torch.func jvp(grad) (peer)": lambda: jvp(grad(f), (xt,), (vt,))[1].numpy()}
    if what == "jvp":
        return {"torch.func.jvp (peer)": lambda: np.asarray(jvp(f, (xt,), (vt,))[1].item())}
    return {"torch.func.hessian (peer)": lambda: hessian(f)(xt).numpy(),
            "torch.autograd.functional.hessian (peer)": lambda: torch.autograd.functional.hessian(f, xt).numpy()}


def _autograd_columns(x: np.ndarray, v: np.ndarray, what: str) -> dict[str, Callable[[], np.ndarray]]:
    import autograd
    import autograd.numpy as anp

    def f(z: np.ndarray) -> float:
        a = z[:-1]
        return anp.sum(100 * (z[1:] - a * a) ** 2 + (1 - a) ** 2)

    if what == "grad":
        g = autograd.grad(f)
        return {"autograd (peer)": lambda: g(x)}
    if what == "hvp":
        hvp = autograd.hessian_tensor_product(f)
        return {"autograd (peer)": lambda: hvp(x, v)}
    if what == "jvp":
        return {}
    h = autograd.hessian(f)
    return {"autograd (peer)": lambda: h(x)}


# ------------------------------------------------------------------------ the cases

def _check(name: str, got: object, want: object) -> None:
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    scale = float(np.abs(want).max()) + 1e-30
    if got.shape != want.shape or not np.allclose(got, want, rtol=1e-9, atol=1e-12 * scale):
        raise AssertionError(f"{name}: result differs from the hand-written NumPy one")


def _point(n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(n)
    return rng.uniform(-1.2, 1.2, n), rng.standard_normal(n)


def _columns(what: str, n: int, peers: bool) -> tuple[dict[str, Callable[[], object]], object]:
    x, v = _point(n)
    xt = tg.Tensor(x)
    ours: dict[str, tuple[Callable[[], object], Callable[[], object]]] = {
        "grad": (lambda: grad_numpy(x), lambda: rosen_grad(x)),
        "hvp": (lambda: hvp_numpy(x, v), lambda: tg.hvp(rosen, x, v)),
        "jvp": (lambda: float(grad_numpy(x) @ v), lambda: tg.jvp(rosen, (x,), (v,))[1]),
        "hessian": (lambda: hessian_numpy(x), lambda: rosen_hessian(x)),
        "sparse hessian": (lambda: hessian_numpy(x), lambda: rosen_sparse_hessian(x)),
    }
    reference, mine = ours[what]
    want = reference()
    columns: dict[str, Callable[[], object]] = {REF: reference}
    if what == "jvp":
        columns = {REF + " f": lambda: rosen_numpy(x)}
        _check("f", rosen(xt).data, rosen_numpy(x))
        columns["tinygrad_mvc f (no graph)"] = lambda: rosen(xt)
    if not peers:
        _check(f"tinygrad_mvc {what}", mine(), want)
        columns[f"tinygrad_mvc {what}"] = mine
        return columns, want
    if what == "sparse hessian":
        return columns, want  # no peer computes a sparse Hessian from the graph
    for name in _peers():
        extra = (_torch_columns if name == "torch" else _autograd_columns)(x, v, what)
        for label, fn in extra.items():
            _check(label, fn(), want)
            columns[label] = fn
    return columns, want


def bench(what: str, n: int, repeat: int, peers: bool) -> tuple[list[str], dict[str, tuple[float, float]]]:
    columns, _ = _columns(what, n, peers)
    if len(columns) == 1 or (what == "jvp" and len(columns) == 2 and peers):
        return [], {}
    ref = next(iter(columns))
    results = time_columns(columns, repeat=repeat, min_time=0.05 if "hessian" in what else 0.02)
    title = {"grad": "gradient", "hvp": "Hessian-vector product", "jvp": "jvp against one evaluation of f",
             "hessian": "full Hessian (dense)",
             "sparse hessian": "sparse Hessian (sparsity=\"auto\", 3 HVPs) against the hand-written dense "
                               "tridiagonal Hessian"}[what] + ", n = " + f"{n:,}".replace(",", " ")
    if peers:
        title += ": peers, timed after ours"
    return report(title, results, ref), results


def main(argv: list[str] | None = None) -> list[str]:
    parser = add_malloc_option(add_options(argparse.ArgumentParser(description=__doc__.splitlines()[0])), None)
    args = parser.parse_args(argv)
    malloc = args.malloc or ("default" if args.tiny else "both")  # a full run shows a tuned run beside
    note = malloc_setting(malloc)
    repeat = 2 if args.tiny else 5 if args.quick else 15
    big, hess = ((1000, 10_000), (100,)) if args.quick else ((1000, 100_000), (100, 500))
    sparse = (100, 500, 1000) if args.quick else (100, 500, 1000, 10_000)  # dense Hessians of 80 MB at 10 000
    if args.tiny:
        big, hess, sparse = (100, 1000), (20,), (20, 100)
    lines = ["## Transforms on Rosenbrock (bench_transforms.py)", "", machine() + "; " + note, ""]
    lines += peers_note(("torch", "autograd"))
    summary = []
    for peers in (False, True)[:1 if args.tuned_rerun else 2]:  # the tuned run of --malloc both: ours only
        timings: dict[tuple[str, int], dict[str, tuple[float, float]]] = {}
        for n in big:
            for what in ("grad", "hvp", "jvp"):
                table, timings[what, n] = bench(what, n, repeat, peers)
                lines += table + ([""] if table else [])
        for n in hess:
            table, timings["hessian", n] = bench("hessian", n, repeat, peers)
            lines += table + ([""] if table else [])
        if not peers:
            for n in sparse:
                table, timings["sparse hessian", n] = bench("sparse hessian", n, max(2, repeat // 3), peers)
                lines += table + ([""] if table else [])
        if not peers:
            for k, n in enumerate(big):
                grad_t = timings["grad", n]["tinygrad_mvc grad"][0]
                hvp_t = timings["hvp", n]["tinygrad_mvc hvp"][0]
                jvp = timings["jvp", n]
                size = f"n = {n:,}".replace(",", " ")
                summary.append(target(f"hvp / hand-written HVP, {size}", hvp_t / timings["hvp", n][REF][0],
                                      TARGETS["hvp small n" if k == 0 else "hvp large n"]))
                summary.append(target(f"hvp / grad, {size}", hvp_t / grad_t, TARGETS["hvp / grad"], unit=""))
                summary.append(target(f"jvp / f, {size}",
                                      jvp["tinygrad_mvc jvp"][0] / jvp["tinygrad_mvc f (no graph)"][0],
                                      TARGETS["jvp / f"], unit="")
                               + f" (jvp / NumPy f = {jvp['tinygrad_mvc jvp'][0] / jvp[REF + ' f'][0]:.1f})")
            for n in hess:
                h = timings["hessian", n]
                ratio = h["tinygrad_mvc hessian"][0] / h[REF][0]
                if n == hess[-1]:
                    summary.append(target(f"dense Hessian / hand-written dense tridiagonal Hessian, n = {n}", ratio,
                                          TARGETS["hessian"]))
                else:
                    summary.append(f"- Hessian n = {n}: {ratio:.0f}x the hand-written dense tridiagonal Hessian "
                                   f"(no target at this n)")
            growth = []
            for n in sparse:
                h = timings["sparse hessian", n]
                ratio = h["tinygrad_mvc sparse hessian"][0] / h[REF][0]
                growth.append(f"n = {n}: {h['tinygrad_mvc sparse hessian'][0] * 1e3:.3g} ms, {ratio:.1f}x")
                if n == 500:
                    summary.append(target("sparse Hessian (sparsity=\"auto\") / hand-written dense tridiagonal "
                                          "Hessian, n = 500", ratio, TARGETS["sparse hessian"]))
            summary.append("- Sparse Hessian growth: " + "; ".join(growth))
    lines += ["### Summary against the targets", "", *summary, ""]
    if malloc == "both":
        lines += tuned_rerun(__file__, argv)
    print("\n".join(lines))
    return lines


if __name__ == "__main__":
    main()
