"""Course topic 1, functions and derivatives: f, f', f'' and f''' of f(x) = sin(x)·exp(-x²/4) by autodiff.

What calculus is: the derivative as the slope of a function, and the rules (product, chain) that give it.
The job ``derivatives`` computes the derivatives with the engine and checks them against the rules by hand.

Higher derivatives come from the one derivative table: ``tg.elementwise_grad(f)`` gives f′ at every
point of a grid, and nesting it, ``elementwise_grad(elementwise_grad(f))``, records the backward pass
(``create_graph``) so the gradient is itself differentiated again.
Each derivative is checked two ways:

- against the analytic formula (autodiff is exact up to rounding, so the error is ~1e-16);
- against central finite differences (:mod:`tinygrad_mvc.finite_diff`) of the derivative one order
  below, so every order is checked independently of the formulas (error ~1e-10: truncation and
  round-off of the difference quotient, not of autodiff).

Run it as ``python demos/derivatives.py`` or ``tinygrad-mvc demo --job derivatives``; it writes two PNGs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

import tinygrad_mvc as tg
from tinygrad_mvc.finite_diff import directional

from .jobs import Job, JobResult

__all__ = ["TITLE", "SUMMARY", "JOBS", "NAME", "f", "analytic", "autodiff_derivatives",
           "finite_diff_derivatives", "run"]

TITLE = "Functions and derivatives"
SUMMARY = "what calculus is: the derivative as a slope, and the product and chain rules that give it"

NAME = "derivatives"
FORMULA = "f(x) = sin(x)·exp(−x²/4)"
FORMULA_ASCII = "f(x) = sin(x)*exp(-x^2/4)"  # for the terminal, whatever its encoding
ORDER = 3
PRIMES = ["f", "f′", "f″", "f‴"]
# Autodiff must match the formulas to rounding, and the differences to their own accuracy.
TOL_ANALYTIC = 1e-12
TOL_FINITE_DIFF = 1e-6


def f(x: tg.Tensor) -> tg.Tensor:
    """The demo's function, written with Tensor ops (elementwise)."""
    return tg.sin(x) * tg.exp(-(x * x) / 4)


def analytic(x: np.ndarray) -> list[np.ndarray]:
    """``[f, f', f'', f''']`` at ``x`` from the formulas worked out by hand (product and chain rule)."""
    s, c, e = np.sin(x), np.cos(x), np.exp(-x * x / 4)
    return [
        s * e,
        e * (c - x / 2 * s),
        e * ((x * x / 4 - 1.5) * s - x * c),
        e * ((9 * x / 4 - x ** 3 / 8) * s + (3 * x * x / 4 - 2.5) * c),
    ]


def autodiff_derivatives(fn: Callable[[tg.Tensor], tg.Tensor], x: np.ndarray, order: int = ORDER) -> list[np.ndarray]:
    """``[fn(x), fn'(x), ..., fn^(order)(x)]`` for an elementwise ``fn``, each of shape ``x.shape``.

    ``tg.elementwise_grad(fn)`` is the derivative at every grid point at once (for an elementwise ``fn``
    it is the gradient of ``fn(x).sum()``), and it nests: ``elementwise_grad(elementwise_grad(fn))`` is
    f″, recorded with ``create_graph`` so the engine differentiates its own backward pass again.

    >>> [float(d[0]) for d in autodiff_derivatives(lambda t: t * t * t, np.array([2.0]))]
    [8.0, 12.0, 12.0, 6.0]
    """
    with tg.no_grad():
        values = [np.asarray(fn(tg.tensor(x)).data, dtype=float).copy()]
    derivative = fn
    for _ in range(order):
        derivative = tg.elementwise_grad(derivative)
        values.append(np.asarray(derivative(x), dtype=float))
    return values


def finite_diff_derivatives(fn: Callable[[tg.Tensor], tg.Tensor], x: np.ndarray,
                            order: int = ORDER) -> list[np.ndarray]:
    """``[fn', ..., fn^(order)]`` at ``x``: central differences of the autodiff derivative one order below.

    For an elementwise function the derivative along the all-ones direction is the derivative at each
    grid point, so one :func:`tinygrad_mvc.finite_diff.directional` call differentiates the whole grid.
    """
    ones = np.ones_like(x)
    return [directional(lambda z, k=k: autodiff_derivatives(fn, z, k)[k], x, ones, method="central")
            for k in range(order)]


def _figure(**kwargs: object):  # -> matplotlib.figure.Figure
    # A bare Figure on the Agg canvas: no pyplot, so no GUI backend and no global state is touched.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(**kwargs)
    FigureCanvasAgg(fig)
    return fig


def plot_derivatives(x: np.ndarray, ad: list[np.ndarray], exact: list[np.ndarray], path: Path) -> Path:
    """f and its derivatives by autodiff (lines) with the analytic formulas (dots) on top."""
    fig = _figure(figsize=(9, 5.2), layout="constrained")
    ax = fig.add_subplot()
    colors = ["black", "tab:blue", "tab:orange", "tab:green"]
    every = max(1, len(x) // 40)
    for k, (vals, ref) in enumerate(zip(ad, exact)):
        ax.plot(x, vals, color=colors[k], lw=2 if k == 0 else 1.6, label=f"{PRIMES[k]}(x)  autodiff")
        ax.plot(x[::every], ref[::every], "o", ms=3.5, mfc="none", color=colors[k], alpha=0.8)
    ax.plot([], [], "o", ms=3.5, mfc="none", color="gray", label="analytic formula")
    ax.axhline(0, color="0.6", lw=0.8, zorder=0)
    ax.set_xlabel("x")
    ax.set_ylabel("value")
    ax.set_xlim(x[0], x[-1])
    ax.set_title(f"{FORMULA} and its first three derivatives\n"
                 "by nested tg.elementwise_grad, dots: formulas worked out by hand")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right", ncol=1, framealpha=0.9)
    fig.savefig(path, dpi=120)
    return path


def plot_errors(x: np.ndarray, err_exact: list[np.ndarray], err_fd: list[np.ndarray], path: Path) -> Path:
    """|autodiff − formula| (points) and |autodiff − finite differences| (lines) per order, on a log scale."""
    fig = _figure(figsize=(11, 4.8), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    colors = ["tab:blue", "tab:orange", "tab:green"]
    eps = np.finfo(float).eps
    ax = axes[0]
    for k, e in enumerate(err_exact):
        hit = e > 0  # exact zeros have no logarithm: they are counted in the legend instead
        ax.semilogy(x[hit], e[hit], ".", ms=3.5, alpha=0.7, color=colors[k],
                    label=f"{PRIMES[k + 1]}: max {np.max(e):.1e}, exactly 0 at {np.sum(~hit)}/{e.size} points")
    ax.set_title("autodiff vs analytic formula\nagree to rounding: a few units of machine ε", fontsize=10.5)
    ax = axes[1]
    for k, e in enumerate(err_fd):
        ax.semilogy(x, np.where(e > 0, e, np.nan), color=colors[k], lw=1.3,
                    label=f"{PRIMES[k + 1]}: max {np.max(e):.1e}")
    ax.set_title("autodiff vs central finite differences of the order below\n"
                 "the error is the difference quotient's (truncation ∝ h², round-off ∝ ε/h)", fontsize=10.5)
    for ax in axes:
        ax.axhline(eps, color="0.4", ls="--", lw=0.9)
        ax.text(x[0] + 0.15, eps * 1.7, "machine ε", color="0.3", fontsize=8.5)
        ax.set_xlabel("x")
        ax.set_xlim(x[0], x[-1])
        ax.grid(alpha=0.3)
        ax.legend(loc="upper right", fontsize=8.5, framealpha=0.9)
    axes[0].set_ylabel("absolute error")
    axes[0].set_ylim(1e-20, 1e-5)
    fig.suptitle(f"How exact are the autodiff derivatives of {FORMULA}?")
    fig.savefig(path, dpi=120)
    return path


def run(out_dir: Path, n: int = 601) -> JobResult:
    """Compute f..f''' on ``n`` points of [-6, 6], check them, and write two PNGs into ``out_dir``."""
    x = np.linspace(-6.0, 6.0, n)
    ad = autodiff_derivatives(f, x)
    exact = analytic(x)
    fd = finite_diff_derivatives(f, x)
    err_exact = [np.abs(ad[k] - exact[k]) for k in range(1, ORDER + 1)]
    err_fd = [np.abs(ad[k + 1] - fd[k]) for k in range(ORDER)]

    result = JobResult(NAME)
    result.summary.append(f"{FORMULA_ASCII} on {n} points of [-6, 6]; derivatives by nested tg.elementwise_grad")
    result.summary.append(f"{'':4}  {'max |autodiff - formula|':>26}  {'max |autodiff - finite diff|':>30}")
    for k in range(ORDER):
        name = "f" + "'" * (k + 1)
        result.summary.append(f"{name:4}  {np.max(err_exact[k]):26.2e}  {np.max(err_fd[k]):30.2e}")
    worst_exact, worst_fd = max(map(np.max, err_exact)), max(map(np.max, err_fd))
    if not (worst_exact <= TOL_ANALYTIC and worst_fd <= TOL_FINITE_DIFF):  # also catches NaN
        result.ok = False
        result.failure = (f"autodiff derivatives disagree: max error {worst_exact:.2e} against the formulas "
                          f"(tolerance {TOL_ANALYTIC:.0e}), {worst_fd:.2e} against finite differences "
                          f"(tolerance {TOL_FINITE_DIFF:.0e})")

    result.add(plot_derivatives(x, ad, exact, Path(out_dir) / "derivatives.png"),
               "f(x) = sin(x)·exp(−x²/4) and its first three derivatives: the lines come from the engine, the "
               "dots from the product and chain rules worked out by hand.")
    result.add(plot_errors(x, err_exact, err_fd, Path(out_dir) / "derivative_errors.png"),
               "How far the engine's derivatives are from the formulas (rounding, about 1e-16) and from finite "
               "differences (the difference quotient's own error, about 1e-10).")
    return result


JOBS = (Job(NAME, "f, f′, f″ and f‴ of sin(x)·exp(−x²/4) by autodiff, checked against the formulas and "
                  "finite differences", run),)
