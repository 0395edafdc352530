"""The picture of a chi-squared fit: data with error bars, the fitted curve, residuals in σ units below."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["plot_fit"]


def plot_fit(result: Any, title: str | None = None, xlabel: str = "x", ylabel: str = "y",
             xs: Sequence[float] | None = None) -> Any:
    """Two panels for a :class:`~tinygrad_mvc.fit.FitResult`: the fit above, the pulls below; returns the Figure.

    Top: the data with error bars (σ; none without ``sigma``), the fitted model on a fine grid
    ``xs`` (default: 400 points over the data's range), and the fitted parameters ± uncertainties
    (rounded to the uncertainty's two significant digits) with χ²/ν in the legend; without
    ``sigma`` the legend gives the residual sum of squares instead and says that no σ was given
    (no χ²/ν: nothing to test the fit against). Bottom: the residuals (y − model)/σ with the ±1 band, where a good fit
    scatters about 68% of the points (without ``sigma``, the plain residuals). The legend sits above the
    top panel, under the title, never on the data.

    >>> import tinygrad_mvc as tg
    >>> r = tg.fit.linear_regression([0.0, 1.0, 2.0, 3.0], [0.1, 1.1, 1.9, 3.2], sigma=0.1)
    >>> fig = plot_fit(r)
    >>> len(fig.axes)
    2
    """
    import matplotlib.pyplot as plt

    from tinygrad_mvc.fit import format_uncertainty

    x = np.asarray(result.x, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"plot_fit: x has shape {x.shape}; only a single independent variable (1-D x) can be drawn")
    y, sigma = np.asarray(result.y), result.sigma
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7.0, 6.8), sharex=True, layout="constrained",
                                      gridspec_kw={"height_ratios": (3, 1)})
    if sigma is None:
        top.plot(x, y, "o", color="black", ms=3.5, label="data")
    else:
        top.errorbar(x, y, yerr=sigma, fmt="o", color="black", ms=3.5, lw=1, capsize=2, label="data ± σ")
    grid = np.linspace(x.min(), x.max(), 400) if xs is None else np.asarray(xs, dtype=np.float64)
    names = list(result.param_names) or [f"p[{i}]" for i in range(result.params.size)]
    summary = ", ".join(f"{n} = {format_uncertainty(p, s)}"
                        for n, p, s in zip(names, result.params, result.stderr, strict=True))
    if sigma is None:
        label = (f"fit (no σ given: residual sum of squares {result.chi2:.3g},\n"
                 f"uncertainties scaled by it over ν = {result.dof})")
    else:
        label = f"fit: χ²/ν = {result.chi2:.4g}/{result.dof} = {result.reduced_chi2:.3g}"
    top.plot(grid, result.predict(grid), color="crimson", lw=2, label=label)
    top.plot([], [], " ", label=_wrap(summary))
    top.set_ylabel(ylabel)
    # above the axes, under the title: a peak, a step or a decay leaves no corner of the data free
    top.legend(loc="lower left", bbox_to_anchor=(0.0, 1.02, 1.0, 0.2), mode="expand", borderaxespad=0.0,
               fontsize="small")
    top.grid(alpha=0.3)
    fig.suptitle(title or "chi-squared fit")
    pulls = np.asarray(result.residuals)
    bottom.axhline(0, color="crimson", lw=1)
    if sigma is not None:
        bottom.axhspan(-1, 1, color="crimson", alpha=0.12, lw=0)
    bottom.plot(x, pulls, "o", color="black", ms=3)
    bottom.set_ylabel("(y − fit)/σ" if sigma is not None else "y − fit")
    bottom.set_xlabel(xlabel)
    bottom.grid(alpha=0.3)
    return fig


def _wrap(text: str, width: int = 60) -> str:
    """Break a long parameter list into lines at its commas."""
    lines, line = [], ""
    for part in text.split(", "):
        if line and len(line) + len(part) + 2 > width:
            lines.append(line)
            line = part
        else:
            line = f"{line}, {part}" if line else part
    lines.append(line)
    return "\n".join(lines)
