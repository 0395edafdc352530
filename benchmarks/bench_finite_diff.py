"""Finite differences against autodiff: accuracy, cost of a full gradient, and Hessians.

(1) Accuracy: the relative gradient error of forward, central and complex-step differences as the
    step h goes from 1e-1 to 1e-14, for exp(x)·sin(x), x^(3/2) and a function of three variables,
    next to the error of reverse-mode autodiff (all against the hand-derived gradient). Figure
    ``fd_accuracy.png``: the V-shaped curves with their measured slopes.
(2) Cost: a full gradient of the Rosenbrock function by central differences (2n evaluations of
    the NumPy f, perturbing x in place: the cheapest honest way) against reverse mode (``tg.grad``)
    and the hand-written NumPy gradient, as n grows from 2 to 100 000. Prints the crossover n and
    the asymptotic ratio; figure ``fd_cost.png``.
(3) Hessians: central differences of gradients (2n gradient evaluations) and second differences of
    f (``tg.finite_diff.numerical_hessian``) against ``tg.hessian`` and the hand-written dense
    Hessian, accuracy and time; figure ``fd_hessian.png``.

Every column's result passes the correctness gate (``_timing.gate``) before it is timed: exact
derivatives to 1e-9 relative to the largest entry, differences to their own truncation and
round-off tolerance. Optional peer columns (HIPS autograd, torch, JAX), timed in a second phase
after ours. BLAS/OpenMP/XLA threads are pinned to TG_BENCH_THREADS (default 1).

    python benchmarks/bench_finite_diff.py [--quick] [--tiny] [--out DIR] [--malloc default|tuned]
"""

from __future__ import annotations

import os

THREADS = os.environ.get("TG_BENCH_THREADS", "1")
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = THREADS  # before NumPy loads its BLAS
# JAX (when installed) runs XLA's CPU client single-threaded too, like every other column
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=" + THREADS)

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
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
    time_columns,
)
from bench_transforms import grad_numpy, hessian_numpy, rosen, rosen_numpy  # noqa: E402

import tinygrad_mvc as tg  # noqa: E402
from tinygrad_mvc.viz.fd_error import (  # noqa: E402
    FDErrorCurves,
    fd_error_curves,
    legend_below,
    plot_fd_error,
    summary_rows,
)

REF = "hand-written NumPy"
F_UNIT = "NumPy f (one evaluation)"
REVERSE = "tinygrad_mvc reverse mode"
FD = "central differences (2n f evaluations)"
FD_LIB = "tg.finite_diff.numerical_grad"
PEER_NAMES = ("autograd", "torch", "jax")

Timings = dict[str, tuple[float, float]]


def log(msg: str) -> None:
    """Progress on stderr: stdout (and the returned lines) carry only the results."""
    print(f"[bench_finite_diff] {msg}", file=sys.stderr, flush=True)


def _peers() -> list[str]:
    return installed_peers(PEER_NAMES)


def _fmt_ms(t: float) -> str:
    return f"{t * 1e3:.3f} ms" if t < 10 else f"{t:.2f} s"


# ------------------------------------------------------------------------ (1) accuracy

def _f3(x):
    """A function of three variables, written with NumPy functions: runs on arrays, complex ones and Tensors."""
    return np.log(1 + x[0] ** 2) + x[0] * np.sin(x[1] * x[2]) + np.exp(x[2] / 2)


def _f3_grad(x: np.ndarray) -> np.ndarray:
    c = np.cos(x[1] * x[2])
    return np.array([2 * x[0] / (1 + x[0] ** 2) + np.sin(x[1] * x[2]), x[0] * x[2] * c,
                     x[0] * x[1] * c + np.exp(x[2] / 2) / 2])


ACCURACY: dict[str, tuple[Callable, object, Callable]] = {
    "exp(x)·sin(x) at x = 1": (lambda x: np.exp(x) * np.sin(x), 1.0,
                               lambda x: np.exp(x) * (np.sin(x) + np.cos(x))),
    "x^(3/2) at x = 0.5": (lambda x: x ** 1.5, 0.5, lambda x: 1.5 * np.sqrt(x)),
    "log(1+x²) + x·sin(yz) + exp(z/2) at (0.6, −0.8, 0.9)": (_f3, np.array([0.6, -0.8, 0.9]), _f3_grad),
}


def bench_accuracy(out: Path) -> tuple[list[str], dict[str, FDErrorCurves]]:
    import matplotlib.pyplot as plt

    log("accuracy: error against step for 3 functions")
    curves = {name: fd_error_curves(f, x, exact=g, label=name.split(" at ")[0]) for name, (f, x, g) in
              ACCURACY.items()}
    fig, axes = plt.subplots(1, len(curves), figsize=(6.6 * len(curves), 5.0), layout="constrained")
    for ax, (name, c) in zip(axes, curves.items()):
        plot_fd_error(c, ax=ax, title=name)
    path = out / "fd_accuracy.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    lines = ["### (1) Accuracy: relative gradient error against the step h (1e-1 to 1e-14)", "",
             "Errors are max |g − g_exact| / max |g_exact| against the hand-derived gradient; the best step "
             "of each method, the error there, and the least-squares slopes of log(error) against log(h) on "
             "the truncation arm (right of the V) and the round-off arm (left). 0.0e+00: exact to the last bit.",
             "", *summary_rows(curves), "", f"Figure: `{path.name}`.", ""]
    return lines, curves


# ------------------------------------------------------------------------ (2) cost of a full gradient

def central_differences(f: Callable[[np.ndarray], float], x: np.ndarray, h: float | None = None) -> np.ndarray:
    """The gradient by central differences, 2n evaluations of ``f``, moving one entry of a copy of x at a time.

    Steps ``h · max(1, |x_i|)`` with ``h = eps^(1/3)``, rounded so that ``x_i ± s`` is exact.
    """
    z = np.array(x, dtype=np.float64)
    h = np.finfo(np.float64).eps ** (1 / 3) if h is None else h
    steps = (z + h * np.maximum(1.0, np.abs(z))) - z
    g = np.empty_like(z)
    for i in range(z.size):
        zi, s = z[i], steps[i]
        z[i] = zi + s
        fp = f(z)
        z[i] = zi - s
        fm = f(z)
        z[i] = zi
        g[i] = (fp - fm) / (2 * s)
    return g


rosen_grad = tg.grad(rosen)


def _point(n: int) -> np.ndarray:
    return np.random.default_rng(n).uniform(-1.2, 1.2, n)


def _raise(e: Exception) -> None:
    raise e


def _peer_grad_columns(x: np.ndarray) -> dict[str, Callable[[], object]]:
    cols: dict[str, Callable[[], object]] = {}
    for name in _peers():
        try:
            if name == "autograd":
                import autograd
                import autograd.numpy as anp

                g = autograd.grad(lambda z: anp.sum(100 * (z[1:] - z[:-1] ** 2) ** 2 + (1 - z[:-1]) ** 2))
                cols["HIPS autograd (peer)"] = lambda g=g: g(x)
            elif name == "torch":
                import torch

                torch.set_num_threads(int(THREADS))
                xt = torch.from_numpy(x)

                def torch_grad(xt=xt) -> np.ndarray:
                    z = xt.detach().requires_grad_()
                    a = z[:-1]
                    return torch.autograd.grad((100 * (z[1:] - a * a) ** 2 + (1 - a) ** 2).sum(), z)[0].numpy()
                cols["torch autograd.grad (peer)"] = torch_grad
            elif name == "jax":
                import jax

                jax.config.update("jax_enable_x64", True)
                import jax.numpy as jnp

                jg = jax.jit(jax.grad(lambda z: jnp.sum(100 * (z[1:] - z[:-1] ** 2) ** 2 + (1 - z[:-1]) ** 2)))
                xj = jnp.asarray(x)
                # np.asarray waits for JAX's asynchronous result, so the time is the computation's
                cols["JAX jit(grad) (peer)"] = lambda jg=jg, xj=xj: np.asarray(jg(xj))
        except Exception as e:  # a peer that cannot be set up fails the gate; the benchmark goes on
            cols[f"{name} (peer)"] = lambda e=e: _raise(e)
    return cols


def _time_sizes(ns: tuple[int, ...], make: Callable[[int, bool], tuple[dict, dict[str, float], object]],
                repeat: int, peers: bool, what: str) -> tuple[dict[int, Timings], dict[int, dict[str, str]]]:
    """Gate then time the columns ``make(n, peers)`` gives at each n; a column whose gated call took over
    a second is not repeated: its gated call is its one sample (spread 0)."""
    timings: dict[int, Timings] = {}
    failures: dict[int, dict[str, str]] = {}
    for n in ns:
        t0 = time.perf_counter()
        columns, rtol, want = make(n, peers)
        ref = next(iter(columns))
        outs: dict[str, object] = {}
        passed, failures[n] = gate({k: v for k, v in columns.items() if k != ref and k != F_UNIT}, want, rtol, outs)
        slow = {k: outs[k][1] for k in passed if outs[k][1] > 1.0}
        timed = {ref: columns[ref], **({F_UNIT: columns[F_UNIT]} if F_UNIT in columns else {}),
                 **{k: v for k, v in passed.items() if k not in slow}}
        timings[n] = time_columns(timed, repeat=repeat if n < 30_000 else min(repeat, 5), warmup=1,
                                  min_time=0.02)
        timings[n].update({k: (t, 0.0) for k, t in slow.items()})
        log(f"{what}{' peers' if peers else ''}: n = {n} done in {time.perf_counter() - t0:.1f} s")
    return timings, failures


def _size_table(title: str, timings: dict[int, Timings], failures: dict[int, dict[str, str]],
                extra: Callable[[int, Timings], str] | None = None) -> list[str]:
    lines = [f"### {title}", "", "| n | implementation | median | IQR | ratio to hand-written NumPy |",
             "|---|---|---|---|---|"]
    for n, res in timings.items():
        ref = res[next(iter(res))][0]
        for name, (med, iqr) in res.items():
            spread = "1 call" if iqr == 0.0 and name != next(iter(res)) else _fmt_ms(iqr)
            lines.append(f"| {n} | {name} | {_fmt_ms(med)} | {spread} | {med / ref:.2f}x |")
        for name, reason in failures.get(n, {}).items():
            lines.append(f"| {n} | {name} | FAILED the correctness gate, not timed: {reason} | | |")
    return lines + [""]


def crossover(ns: list[int], fd: list[float], rev: list[float]) -> float | None:
    """The n where central differences become slower than reverse mode (log-log interpolation), or None.

    >>> crossover([10, 100], [1.0, 10.0], [2.0, 2.0])
    20.0
    """
    r = np.log(np.asarray(fd) / np.asarray(rev))
    for k in range(1, len(ns)):
        if r[k - 1] < 0 <= r[k]:
            t = -r[k - 1] / (r[k] - r[k - 1])
            return float(np.exp(np.log(ns[k - 1]) + t * (np.log(ns[k]) - np.log(ns[k - 1]))).round(1))
    return None


def bench_cost(ns: tuple[int, ...], repeat: int, out: Path) -> tuple[list[str], dict[str, object]]:
    def make(n: int, peers: bool) -> tuple[dict, dict[str, float], object]:
        x = _point(n)
        cols: dict[str, Callable[[], object]] = {REF + " gradient": lambda: grad_numpy(x)}
        if peers:
            cols.update(_peer_grad_columns(x))
        else:
            cols[F_UNIT] = lambda: rosen_numpy(x)
            cols[REVERSE + " (tg.grad)"] = lambda: rosen_grad(x)
            cols[FD] = lambda: central_differences(rosen_numpy, x)
            if n <= 3000:  # the library's loop copies x twice per entry: O(n^2) memory traffic beyond f
                cols[FD_LIB] = lambda: tg.finite_diff.numerical_grad(rosen_numpy, x)
        # differences carry truncation (f''' h^2) and round-off (eps |f| / h): ~1e-7 of max |g| at n = 1e5
        return cols, {FD: 1e-5, FD_LIB: 1e-5}, grad_numpy(x)

    log(f"cost: full gradient, n = {', '.join(map(str, ns))}")
    timings, failures = _time_sizes(ns, make, repeat, False, "cost")
    lines = ["### (2) Cost of a full gradient: central differences against reverse mode (Rosenbrock)", ""]
    lines += _size_table("full gradient against n", timings, failures)
    rev_name = REVERSE + " (tg.grad)"
    ok = [n for n in ns if FD in timings[n] and rev_name in timings[n]]
    fd = [timings[n][FD][0] for n in ok]
    rev = [timings[n][rev_name][0] for n in ok]
    summary: dict[str, object] = {}
    if ok:
        cross = crossover(ok, fd, rev)
        big = ok[-1]
        k = fd[-1] / rev[-1] / big
        f_unit = timings[big][F_UNIT][0]
        summary = {"crossover": cross, "n_max": big, "ratio_at_max": fd[-1] / rev[-1], "ratio_per_n": k,
                   "rev_over_f": rev[-1] / f_unit, "fd_over_2nf": fd[-1] / (2 * big * f_unit)}
        if cross is not None:
            where = f"central differences are faster below n ≈ {cross:g}, reverse mode above"
        elif fd[0] > rev[0]:
            where = f"reverse mode is faster at every n measured, already at n = {ok[0]}"
        else:
            where = f"central differences stay faster up to n = {big} (no crossover measured)"
        lines += ["Summary:", "",
                  f"- Crossover: {where}.",
                  f"- Asymptotic ratio: at n = {big}, central differences take {fd[-1] / rev[-1]:.0f}x the time of "
                  f"reverse mode, i.e. {k:.3f}·n: differences cost 2n evaluations of f "
                  f"(measured {fd[-1] / f_unit:.0f} f-evaluations = {summary['fd_over_2nf']:.2f} × 2n), reverse "
                  f"mode a constant number ({rev[-1] / f_unit:.1f} f-evaluations at n = {big}), so the ratio "
                  f"grows in proportion to n.", ""]
    peer_t, peer_f = ({}, {})
    if _peers():
        peer_t, peer_f = _time_sizes(ns, make, repeat, True, "cost")
        lines += _size_table("full gradient against n: peers, timed after ours", peer_t, peer_f)
    path = _plot_cost(timings, peer_t, summary, out)
    lines += [f"Figure: `{path.name}`.", ""]
    return lines, summary


def _plot_cost(timings: dict[int, Timings], peer_t: dict[int, Timings], summary: dict[str, object],
               out: Path) -> Path:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.6, 6.2), layout="constrained")
    names: list[str] = []
    for res in [*timings.values(), *peer_t.values()]:
        names += [k for k in res if k not in names]
    styles = {FD: ("tab:blue", "o-"), REVERSE + " (tg.grad)": ("crimson", "s-"), REF + " gradient": ("black", "^-"),
              F_UNIT: ("gray", ":"), FD_LIB: ("tab:cyan", "o--")}
    for name in names:
        src = peer_t if "(peer)" in name else timings
        ns = [n for n, r in src.items() if name in r]
        color, style = styles.get(name, (None, "d--"))
        ax.plot(ns, [src[n][name][0] for n in ns], style, color=color, ms=4, lw=1.3, label=name)
    ax.set_xscale("log")
    ax.set_yscale("log")
    cross = summary.get("crossover")
    if cross:  # labelled at the top, right of the line: above the curves there, and inside the axes
        ax.axvline(float(cross), color="gray", lw=1, ls="--")
        ax.text(float(cross), 0.98, f"  crossover n ≈ {float(cross):g}\n  reverse mode faster →",
                transform=ax.get_xaxis_transform(), ha="left", va="top", fontsize="small", color="dimgray")
    if summary:  # in the legend, under the axes: in the picture it would cross a curve at some n
        ax.plot([], [], " ", label=f"at n = {summary['n_max']}: differences / reverse = {summary['ratio_at_max']:.0f}x"
                f" ≈ {summary['ratio_per_n']:.3f}·n\n(2n f-evaluations against a constant)")
    ax.set_xlabel("input size n")
    ax.set_ylabel("seconds per full gradient (median)")
    ax.set_title("Full gradient of Rosenbrock: central differences against reverse mode")
    ax.grid(alpha=0.3, which="both")
    legend_below(ax, ncols=2)  # timing curves cross every corner as n grows
    path = out / "fd_cost.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# ------------------------------------------------------------------------ (3) Hessians

rosen_hessian = tg.hessian(rosen)
HESS_REF = REF + " (dense tridiagonal)"
HESS_AD = "tinygrad_mvc tg.hessian"
HESS_FD_NP = "central differences of the hand-written gradient (2n gradients)"
HESS_FD_AD = "central differences of tg.grad (2n reverse passes)"
HESS_FD2 = "tg.finite_diff.numerical_hessian (second differences of f)"


# one colour per method in both panels
HESS_COLORS = {HESS_REF: "black", HESS_AD: "crimson", HESS_FD_NP: "tab:green", HESS_FD_AD: "tab:blue",
               HESS_FD2: "tab:purple"}


def hessian_by_gradient_differences(grad: Callable[[np.ndarray], np.ndarray], x: np.ndarray) -> np.ndarray:
    """The Hessian by central differences of a gradient: column j is (∇f(x + s e_j) − ∇f(x − s e_j)) / 2s."""
    z = np.array(x, dtype=np.float64)
    h = np.finfo(np.float64).eps ** (1 / 3)
    steps = (z + h * np.maximum(1.0, np.abs(z))) - z
    H = np.empty((z.size, z.size))
    for j in range(z.size):
        zj, s = z[j], steps[j]
        z[j] = zj + s
        gp = np.asarray(grad(z))
        z[j] = zj - s
        gm = np.asarray(grad(z))
        z[j] = zj
        H[:, j] = (gp - gm) / (2 * s)
    return (H + H.T) / 2  # the exact Hessian is symmetric; averaging halves the error of the differences


def _peer_hessian_columns(x: np.ndarray) -> dict[str, Callable[[], object]]:
    cols: dict[str, Callable[[], object]] = {}
    for name in _peers():
        try:
            if name == "autograd":
                import autograd
                import autograd.numpy as anp

                h = autograd.hessian(lambda z: anp.sum(100 * (z[1:] - z[:-1] ** 2) ** 2 + (1 - z[:-1]) ** 2))
                cols["HIPS autograd hessian (peer)"] = lambda h=h: h(x)
            elif name == "torch":
                import torch
                from torch.func import hessian

                torch.set_num_threads(int(THREADS))
                xt = torch.from_numpy(x)
                th = hessian(lambda z: (100 * (z[1:] - z[:-1] ** 2) ** 2 + (1 - z[:-1]) ** 2).sum())
                cols["torch.func.hessian (peer)"] = lambda th=th, xt=xt: th(xt).numpy()
            elif name == "jax":
                import jax

                jax.config.update("jax_enable_x64", True)
                import jax.numpy as jnp

                jh = jax.jit(jax.hessian(lambda z: jnp.sum(100 * (z[1:] - z[:-1] ** 2) ** 2 + (1 - z[:-1]) ** 2)))
                xj = jnp.asarray(x)
                cols["JAX jit(hessian) (peer)"] = lambda jh=jh, xj=xj: np.asarray(jh(xj))
        except Exception as e:  # a peer that cannot be set up fails the gate; the benchmark goes on
            cols[f"{name} (peer)"] = lambda e=e: _raise(e)
    return cols


def bench_hessian(ns: tuple[int, ...], repeat: int, fd2_max: int, out: Path) -> list[str]:
    errors: dict[int, dict[str, float]] = {}

    def make(n: int, peers: bool) -> tuple[dict, dict[str, float], object]:
        x = _point(n)
        cols: dict[str, Callable[[], object]] = {HESS_REF: lambda: hessian_numpy(x)}
        if peers:
            cols.update(_peer_hessian_columns(x))
        else:
            cols[HESS_AD] = lambda: rosen_hessian(x)
            cols[HESS_FD_NP] = lambda: hessian_by_gradient_differences(grad_numpy, x)
            cols[HESS_FD_AD] = lambda: hessian_by_gradient_differences(rosen_grad, x)
            if n <= fd2_max:  # 2n^2 evaluations of f
                cols[HESS_FD2] = lambda: tg.finite_diff.numerical_hessian(rosen_numpy, x)
            want = hessian_numpy(x)
            scale = float(np.abs(want).max())
            errors[n] = {k: float(np.abs(np.asarray(fn()) - want).max()) / scale for k, fn in cols.items()
                         if k != HESS_REF}
        return cols, {HESS_FD_NP: 1e-6, HESS_FD_AD: 1e-6, HESS_FD2: 1e-4}, hessian_numpy(x)

    log(f"Hessians: n = {', '.join(map(str, ns))}")
    timings, failures = _time_sizes(ns, make, repeat, False, "hessian")
    lines = ["### (3) Hessians: differences of gradients against the engine's Hessian (Rosenbrock)", "",
             "Accuracy: max |H − H_exact| / max |H_exact|.", "",
             "| n | " + " | ".join([HESS_AD, HESS_FD_NP, HESS_FD_AD, HESS_FD2]) + " |", "|---|---|---|---|---|"]
    for n, errs in errors.items():
        lines.append(f"| {n} | " + " | ".join(f"{errs[k]:.1e}" if k in errs else "—"
                                              for k in [HESS_AD, HESS_FD_NP, HESS_FD_AD, HESS_FD2]) + " |")
    lines += ["", *_size_table("full Hessian against n", timings, failures)]
    peer_t: dict[int, Timings] = {}
    if _peers():
        peer_t, peer_f = _time_sizes(ns, make, repeat, True, "hessian")
        lines += _size_table("full Hessian against n: peers, timed after ours", peer_t, peer_f)
    big = ns[-1]
    if HESS_AD in timings[big] and HESS_FD_AD in timings[big]:
        lines += [f"At n = {big}: differences of tg.grad take "
                  f"{timings[big][HESS_FD_AD][0] / timings[big][HESS_AD][0]:.1f}x the time of tg.hessian, and "
                  f"differences of the hand-written gradient "
                  f"{timings[big][HESS_FD_NP][0] / timings[big][HESS_AD][0]:.2f}x.", ""]
    path = _plot_hessian(timings, peer_t, errors, out)
    return lines + [f"Figure: `{path.name}`.", ""]


def _plot_hessian(timings: dict[int, Timings], peer_t: dict[int, Timings], errors: dict[int, dict[str, float]],
                  out: Path) -> Path:
    import matplotlib.pyplot as plt

    fig, (ax_t, ax_e) = plt.subplots(1, 2, figsize=(12.5, 6.0), layout="constrained")
    names: list[str] = []
    for res in [*timings.values(), *peer_t.values()]:
        names += [k for k in res if k not in names]
    for name in names:
        src = peer_t if "(peer)" in name else timings
        ns = [n for n, r in src.items() if name in r]
        ax_t.plot(ns, [src[n][name][0] for n in ns], "o-" if "(peer)" not in name else "d--", ms=4, label=name,
                  color=HESS_COLORS.get(name))
    for name in [HESS_AD, HESS_FD_NP, HESS_FD_AD, HESS_FD2]:
        ns = [n for n, e in errors.items() if name in e]
        ax_e.plot(ns, [max(errors[n][name], 1e-17) for n in ns], "o-", ms=4, label=name, color=HESS_COLORS[name])
    for ax, ylabel, title in ((ax_t, "seconds per Hessian (median)", "time"),
                              (ax_e, "max |H − H_exact| / max |H_exact| (0 drawn at 1e-17)", "accuracy")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("input size n")
        ax.set_ylabel(ylabel)
        ax.set_title(f"Rosenbrock Hessian: {title}")
        ax.grid(alpha=0.3, which="both")
        legend_below(ax, ncols=1)
    path = out / "fd_hessian.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# ------------------------------------------------------------------------ main

def main(argv: list[str] | None = None) -> list[str]:
    parser = add_malloc_option(add_options(argparse.ArgumentParser(description=__doc__.splitlines()[0])),
                               choices=("default", "tuned"))
    args = parser.parse_args(argv)
    import matplotlib

    matplotlib.use("Agg")  # files only, never a window
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    note = malloc_setting(args.malloc)
    if args.tiny:
        ns, hess_ns, repeat, fd2_max = (2, 10, 100), (5, 10), 2, 10
    elif args.quick:
        ns, hess_ns, repeat, fd2_max = (2, 5, 10, 30, 100, 300, 1000, 3000, 10_000), (10, 30, 100), 5, 30
    else:
        ns = (2, 5, 10, 30, 100, 300, 1000, 3000, 10_000, 30_000, 100_000)
        hess_ns, repeat, fd2_max = (10, 30, 100, 300), 15, 100
    lines = ["## Finite differences against autodiff (bench_finite_diff.py)", "", machine() + "; " + note, ""]
    lines += peers_note(PEER_NAMES, "`pip install -e '.[bench]'` adds torch and HIPS autograd; JAX: `pip install jax`")
    acc_lines, _ = bench_accuracy(out)
    cost_lines, _ = bench_cost(ns, repeat, out)
    lines += acc_lines + cost_lines + bench_hessian(hess_ns, repeat, fd2_max, out)
    print("\n".join(lines))
    return lines


if __name__ == "__main__":
    main()
