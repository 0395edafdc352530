"""Course topic 6, regression: fitting a straight line and a Gaussian peak by least squares (χ²).

Job ``chi_squared_fit``: a Gaussian peak fitted to a histogram of heights, with Poisson error bars.
The course's height-distribution example, with data generated here: 2000 heights drawn from a normal
distribution (mean 175 cm, spread 7 cm, fixed seed), counted in 2 cm bins. Each count n has the Poisson
uncertainty σ = √n. The model N·exp(−(h − μ)²/(2s²)) is fitted by minimising χ² = Σ((n − model)/σ)² with
Levenberg-Marquardt on autodiff Jacobians (tg.fit.curve_fit); the uncertainties come from (JᵀWJ)⁻¹.
The demo checks that the fitted μ and s lie within 3 standard errors of the truth and of the sample's
own mean, that χ²/ν is plausible (p-value above 0.001), that the area under the fitted peak counts the
heights, and that the closed-form straight-line fit agrees with curve_fit on the same line.

- chi2_fit_heights.png   the histogram with error bars, the fitted peak, and the residuals in σ units
- chi2_fit_line.png      tg.fit.linear_regression of a straight line to noisy points with error bars

The heart of it:  r = tg.fit.curve_fit(model, h, n, p0, sigma=np.sqrt(n)); print(r.report()); tg.viz.plot_fit(r)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import tinygrad_mvc as tg

from .jobs import Job, JobResult, finish

__all__ = ["TITLE", "SUMMARY", "JOBS", "peak", "histogram", "run"]

TITLE = "Regression"
SUMMARY = "fitting models to data: linear regression and χ² fits with uncertainties"

NAME = "chi_squared_fit"
TRUE_MEAN, TRUE_SPREAD, COUNT, BIN = 175.0, 7.0, 2000, 2.0


def peak(h: tg.Tensor, p: tg.Tensor) -> tg.Tensor:
    """N · exp(−(h − μ)² / (2 s²)), params (N, μ, s)."""
    return p[0] * tg.exp(-(h - p[1]) ** 2 / (2 * p[2] ** 2))


def histogram(seed: int = 7) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bin centres, counts and the raw heights; empty bins are dropped (σ = √0 would be no uncertainty)."""
    heights = np.random.default_rng(seed).normal(TRUE_MEAN, TRUE_SPREAD, COUNT)
    edges = np.arange(145.0, 205.0 + BIN, BIN)
    counts, _ = np.histogram(heights, edges)
    centres = 0.5 * (edges[1:] + edges[:-1])
    keep = counts > 0
    return centres[keep], counts[keep].astype(float), heights


def run(out_dir: Path) -> JobResult:
    import matplotlib

    matplotlib.use("Agg")

    result = JobResult(NAME)
    failures = []
    h, n, heights = histogram()
    p0 = [n.max(), float(h[np.argmax(n)]), 5.0]
    r = tg.fit.curve_fit(peak, h, n, p0, sigma=np.sqrt(n), param_names=("N", "mu", "s"))
    result.summary += [f"{COUNT} heights, {h.size} non-empty bins of {BIN:g} cm; Gaussian peak fitted by chi-squared:",
                       r.report()]
    N, mu, s = r.params
    dN, dmu, ds = r.stderr
    result.summary.append(f"sample moments: mean {heights.mean():.3f} cm, standard deviation {heights.std():.3f} cm; "
                          f"truth {TRUE_MEAN:g} and {TRUE_SPREAD:g}")
    if not r.converged:
        failures.append(f"the fit did not converge: {r.message}")
    if abs(mu - TRUE_MEAN) > 3 * dmu or abs(abs(s) - TRUE_SPREAD) > 3 * ds:
        failures.append(f"mu = {mu:.3f} ± {dmu:.3f}, s = {s:.3f} ± {ds:.3f} are not within 3σ of the truth")
    if not r.p_value > 1e-3:
        failures.append(f"chi2/dof = {r.reduced_chi2:.3g} has p-value {r.p_value:.3g}: an implausible fit")
    if abs(mu - heights.mean()) > 3 * dmu:
        failures.append(f"mu = {mu:.3f} disagrees with the sample mean {heights.mean():.3f}")
    # The area under the peak, N·s·√(2π)/bin width, must count the heights that fell in the bins.
    area = N * abs(s) * np.sqrt(2 * np.pi) / BIN
    if abs(area - n.sum()) > 0.05 * n.sum():
        failures.append(f"the fitted peak holds {area:.0f} heights, the histogram {n.sum():.0f}")
    fig = tg.viz.plot_fit(r, title=f"{COUNT} heights: Gaussian fit with Poisson errors √n", xlabel="height (cm)",
                          ylabel=f"count per {BIN:g} cm bin")
    files = {"chi2_fit_heights.png": (fig, f"A histogram of {COUNT} heights with Poisson error bars √n and the "
                                           "Gaussian peak fitted by minimising χ²; below, each bin's residual in "
                                           "units of its σ.")}

    rng = np.random.default_rng(3)
    x = np.linspace(0.0, 10.0, 12)
    sigma = rng.uniform(0.3, 0.8, x.size)
    y = 0.8 * x + 1.5 + rng.normal(0.0, sigma)
    line = tg.fit.linear_regression(x, y, sigma=sigma)
    result.summary += ["straight line by closed-form weighted least squares (truth: slope 0.8, intercept 1.5):",
                       line.report()]
    check = tg.fit.curve_fit(lambda x, p: p[0] * x + p[1], x, y, [1.0, 0.0], sigma=sigma)
    if not (np.allclose(check.params, line.params, rtol=1e-9) and np.allclose(check.covariance, line.covariance,
                                                                              rtol=1e-9)):
        failures.append("linear_regression and curve_fit disagree on the straight line")
    files["chi2_fit_line.png"] = (tg.viz.plot_fit(line, title="linear_regression: y = slope·x + intercept"),
                                  "Linear regression: the straight line through points with error bars, from the "
                                  "closed-form weighted least squares; below, the residuals.")

    return finish(result, out_dir, files, failures)


JOBS = (Job(NAME, "a Gaussian fitted by χ² to a histogram of heights with Poisson errors, and a weighted "
                  "straight-line fit", run),)
