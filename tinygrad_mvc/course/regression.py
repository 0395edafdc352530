"""Course topic 6, regression: the course's heights fitted by χ², a Poisson-weighted fit, and a straight line.

Job ``chi_squared_fit``, three fits:

The course's own heights (Week 6): the fraction of people in each 2.5 cm bin from 160 to 202.5 cm
(``tg.datasets.heights_histogram()``), fitted as the course does by a Gaussian pdf

    f(x) = exp(−(x − μ)²/(2σ²)) / (σ√(2π)),    χ²(μ, σ) = Σᵢ (f(xᵢ) − freqᵢ)²,

written ``f(x, mu, sigma)`` and ``chi_squared(mu, sigma)`` with separate arguments as the course writes
them. From the course's start (μ, σ) = (155, 6) ``tg.optimize.newton_minimize`` reaches the minimum in
7 steps and steepest descent with the course's step 50 in a fixed 400 (``tol=None``, the course's
loop); ``tg.fit.curve_fit(f, x, freq, p0)`` (SciPy's model form) finds the same μ and σ by
Levenberg-Marquardt. The job fails unless all three agree. As in the course, a density (area 1) is
fitted to fractions per 2.5 cm bin (area 2.5 × 0.995), so the fitted curve lies below most bars.

A simulated histogram with Poisson errors: 2000 heights drawn here (mean 175 cm, spread 7 cm,
fixed seed) and counted in 2 cm bins, each count n with its uncertainty √n. Counts have error bars
where the course's frequencies have none, so this fit weights each bin by 1/σ² and can say how
uncertain μ and s are ((JᵀWJ)⁻¹) and whether χ²/ν is plausible; the job checks μ and s against the
truth (within 3 standard errors), the p-value, and that the fitted peak holds every height.

A straight line by ``tg.fit.linear_regression`` (closed form) with Pearson's r and r², checked
against ``curve_fit`` on the same points.

- heights_fit.png        the course's histogram, the fitted Gaussian, over- and undershoot coloured
- heights_chi2.png       the χ² landscape over (μ, σ) with Newton's and steepest descent's paths
- chi2_fit_poisson.png   the simulated counts with error bars √n, the fitted peak, residuals in σ units
- chi2_fit_line.png      the weighted straight line, with r and r² in its title

The heart of it:  r = tg.optimize.newton_minimize(chi_squared, (155, 6));
tg.viz.plot_histogram_fit(starts, freq, f, params=r.x); tg.viz.plot_descent(chi_squared, {"Newton": r})
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import tinygrad_mvc as tg

from .jobs import Job, JobResult, finish

__all__ = ["TITLE", "SUMMARY", "JOBS", "gaussian", "chi_squared", "HEIGHTS_START", "peak", "histogram", "run"]

TITLE = "Regression"
SUMMARY = "fitting models to data: the course's heights by χ², linear regression, and fits with uncertainties"

NAME = "chi_squared_fit"
TRUE_MEAN, TRUE_SPREAD, COUNT, BIN = 175.0, 7.0, 2000, 2.0

HEIGHTS_X, HEIGHTS_FREQ = tg.datasets.heights_histogram()
HEIGHTS_BIN = 2.5  # cm; HEIGHTS_X are the bins' centres
HEIGHTS_START = (155.0, 6.0)  # the course's (μ, σ) to start from
DESCENT_STEP, DESCENT_STEPS = 50.0, 500  # the course's steepest-descent step and a fixed number of steps


def gaussian(x: tg.Tensor, mu: tg.Tensor, sigma: tg.Tensor) -> tg.Tensor:
    """The course's model, the normal pdf: exp(−(x − μ)²/(2σ²)) / (σ√(2π))."""
    return tg.exp(-(x - mu) ** 2 / (2 * sigma ** 2)) / (sigma * np.sqrt(2 * np.pi))


def chi_squared(mu: tg.Tensor, sigma: tg.Tensor) -> tg.Tensor:
    """The course's χ² of the heights: Σᵢ (f(xᵢ) − freqᵢ)², a function of (μ, σ) only."""
    return ((gaussian(tg.tensor(HEIGHTS_X), mu, sigma) - HEIGHTS_FREQ) ** 2).sum()


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


def _course_heights(result: JobResult, failures: list[str]) -> dict[str, tuple[object, str]]:
    """The course's histogram fitted three ways; the histogram and the χ² landscape figures."""
    newton = tg.optimize.newton_minimize(chi_squared, HEIGHTS_START)
    descent = tg.optimize.gradient_descent(chi_squared, HEIGHTS_START, lr=DESCENT_STEP, max_iter=DESCENT_STEPS,
                                           tol=None)
    fit = tg.fit.curve_fit(gaussian, HEIGHTS_X, HEIGHTS_FREQ, list(HEIGHTS_START))
    mu, sigma = newton.x
    result.summary += [
        f"the course's heights: {HEIGHTS_X.size} bins of {HEIGHTS_BIN:g} cm, Gaussian pdf fitted by "
        f"chi^2 = sum (f(x_i) - freq_i)^2 from (mu, sigma) = {HEIGHTS_START}:",
        f"  newton_minimize:                 mu = {mu:.6f}, sigma = {sigma:.6f}, chi^2 = {newton.fun:.6g}, "
        f"{newton.n_iter} steps ({newton.message})",
        f"  steepest descent, step {DESCENT_STEP:g}:      mu = {descent.x[0]:.6f}, sigma = {descent.x[1]:.6f}, "
        f"{descent.message}",
        f"  curve_fit(f, x, freq, p0), LM:   mu = {fit.params[0]:.6f}, sigma = {fit.params[1]:.6f}, "
        f"{fit.n_iter} iterations",
        f"  (f is a density per cm with area 1; the bars are fractions per {HEIGHTS_BIN:g} cm bin with area "
        f"{HEIGHTS_BIN * HEIGHTS_FREQ.sum():.3g}: the course's model, so the curve lies below most bars)",
    ]
    if not (newton.converged and newton.classification == "minimum"):
        failures.append(f"Newton on the heights' chi^2 did not reach a minimum: {newton.message}")
    for label, x, rtol in (("steepest descent", descent.x, 1e-5), ("curve_fit", fit.params, 1e-5)):
        if not np.allclose(x, newton.x, rtol=rtol):
            failures.append(f"{label} ends at {np.round(x, 6).tolist()}, Newton at {np.round(newton.x, 6).tolist()}")

    fig = tg.viz.plot_histogram_fit(HEIGHTS_X - HEIGHTS_BIN / 2, HEIGHTS_FREQ, gaussian, params=newton.x,
                                    width=HEIGHTS_BIN, xlabel="height (cm)",
                                    ylabel=f"fraction of people per {HEIGHTS_BIN:g} cm",
                                    curve_label=f"Gaussian fit: μ = {mu:.2f} cm, σ = {sigma:.2f} cm",
                                    title="the course's heights and the Gaussian fitted by least squares")
    files = {"heights_fit.png": (fig, f"The course's heights, the fraction of people per {HEIGHTS_BIN:g} cm, with "
                                      f"the Gaussian pdf fitted by χ² (μ = {mu:.1f} cm, σ = {sigma:.2f} cm): blue "
                                      "where the curve undershoots a bar, red where it overshoots; the pdf has "
                                      f"area 1, the bars {HEIGHTS_BIN:g} × 0.995, so it mostly lies below.")}

    paths = {f"Newton: {newton.n_iter} steps": newton,
             f"steepest descent, step {DESCENT_STEP:g}: {DESCENT_STEPS} steps": descent}
    # resolution 90: chi_squared takes one (μ, σ) at a time, so the contours cost one call per grid point;
    # log levels: χ² soars where σ → 0, and even spacing would leave the valley with two contours
    fig = tg.viz.plot_descent(chi_squared, paths, xlim=(148, 192), ylim=(2.5, 22.5), levels=30, log=True,
                              resolution=90, title=f"χ²(μ, σ) of the heights: Newton and steepest descent from "
                                                   f"{HEIGHTS_START}")
    for bar in fig.axes[0].child_axes:  # plot_descent's colourbar, which it labels "f"
        bar.set_ylabel("χ² (log scale)")
        lo, hi = bar.get_ylim()
        ticks = [t for t in (0.03, 0.04, 0.06, 0.1, 0.15, 0.2, 0.3) if lo <= t <= hi]  # within one decade
        bar.set_yticks(ticks, labels=[f"{t:g}" for t in ticks], minor=False)
        bar.set_yticks([], minor=True)
    files["heights_chi2.png"] = (fig, f"The χ² landscape over (μ, σ) with the paths from the course's start "
                                      f"{HEIGHTS_START}: Newton reaches the minimum in {newton.n_iter} steps, "
                                      f"steepest descent with step {DESCENT_STEP:g} in a few hundred.")
    return files


def run(out_dir: Path) -> JobResult:
    import matplotlib

    matplotlib.use("Agg")

    result = JobResult(NAME)
    failures: list[str] = []
    files = _course_heights(result, failures)

    h, n, heights = histogram()
    p0 = [n.max(), float(h[np.argmax(n)]), 5.0]
    r = tg.fit.curve_fit(peak, h, n, p0, sigma=np.sqrt(n), param_names=("N", "mu", "s"))
    result.summary += [f"simulated: {COUNT} heights, {h.size} non-empty bins of {BIN:g} cm; Gaussian peak fitted by "
                       "chi-squared with Poisson errors sqrt(n):",
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
    fig = tg.viz.plot_fit(r, title=f"{COUNT} simulated heights: Gaussian fit with Poisson errors √n",
                          xlabel="height (cm)", ylabel=f"count per {BIN:g} cm bin")
    files["chi2_fit_poisson.png"] = (fig, f"{COUNT} simulated heights counted per {BIN:g} cm with Poisson error "
                                          "bars √n, the Gaussian peak fitted by the weighted χ²; below, each "
                                          "bin's residual in units of its σ.")

    rng = np.random.default_rng(3)
    x = np.linspace(0.0, 10.0, 12)
    sigma = rng.uniform(0.3, 0.8, x.size)
    y = 0.8 * x + 1.5 + rng.normal(0.0, sigma)
    line = tg.fit.linear_regression(x, y, sigma=sigma)
    result.summary += ["straight line by closed-form weighted least squares (truth: slope 0.8, intercept 1.5):",
                       line.report(), f"Pearson's r = {line.r:.6f}, r^2 = {line.r2:.6f}"]
    if not abs(line.r ** 2 - line.r2) < 1e-12:
        failures.append(f"r^2 = {line.r ** 2:.15g} differs from the coefficient of determination {line.r2:.15g}")
    check = tg.fit.curve_fit(lambda x, p: p[0] * x + p[1], x, y, [1.0, 0.0], sigma=sigma)
    if not (np.allclose(check.params, line.params, rtol=1e-9) and np.allclose(check.covariance, line.covariance,
                                                                              rtol=1e-9)):
        failures.append("linear_regression and curve_fit disagree on the straight line")
    title = f"linear_regression: y = slope·x + intercept;  r = {line.r:.4f}, r² = {line.r2:.4f}"
    files["chi2_fit_line.png"] = (tg.viz.plot_fit(line, title=title),
                                  f"Linear regression: the straight line through points with error bars by closed-"
                                  f"form weighted least squares, Pearson's r = {line.r:.3f} and r² = "
                                  f"{line.r2:.3f}; below, the residuals.")

    return finish(result, out_dir, files, failures)


JOBS = (Job(NAME, "the course's heights fitted by a Gaussian and χ² (Newton, steepest descent, curve_fit), a "
                  "Poisson-weighted fit, and a straight line with r and r²", run),)
