"""tg.fit: curve_fit against scipy.optimize.curve_fit, linear_regression against numpy.polyfit, the chi-squared
p-value against scipy.stats.chi2.sf, the covariance warnings, and every bad-input error.

scipy is the oracle (a test-only dependency). Its curve_fit is given the analytic Jacobian and tight
tolerances here, so that the reference parameters and covariance are exact to ~1e-10, not limited by its
finite differences.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_mvc as tg
from tinygrad_mvc.fit import FitWarning, chi2_sf, curve_fit, format_uncertainty, gammaincc, linear_regression

scipy_optimize = pytest.importorskip("scipy.optimize")
scipy_stats = pytest.importorskip("scipy.stats")


def peak(x, p):
    return p[0] * tg.exp(-(x - p[1]) ** 2 / (2 * p[2] ** 2)) + p[3]


def peak_np(x, a, b, c, d):
    return a * np.exp(-(x - b) ** 2 / (2 * c ** 2)) + d


def peak_jac(x, a, b, c, d):
    e = np.exp(-(x - b) ** 2 / (2 * c ** 2))
    return np.stack([e, a * e * (x - b) / c ** 2, a * e * (x - b) ** 2 / c ** 3, np.ones_like(x)], axis=1)


def peak_data(n=60, seed=0):
    rng = np.random.default_rng(seed)
    x = np.linspace(-4, 6, n)
    sigma = rng.uniform(0.05, 0.2, n)
    y = peak_np(x, 2.0, 1.0, 1.3, 0.4) + rng.normal(0, sigma)
    return x, y, sigma


P0 = [1.0, 0.0, 1.0, 0.0]


def scipy_fit(x, y, p0, sigma=None, absolute_sigma=False):
    return scipy_optimize.curve_fit(peak_np, x, y, p0=p0, sigma=sigma, absolute_sigma=absolute_sigma, jac=peak_jac,
                                    xtol=1e-15, ftol=1e-15, gtol=1e-15, maxfev=10_000)


# =============================================================================== against scipy

@pytest.mark.parametrize("method", ["lm", "gauss-newton"])
@pytest.mark.parametrize("errors", ["absolute", "relative"])
def test_curve_fit_agrees_with_scipy(method, errors):
    x, y, sigma = peak_data()
    r = curve_fit(peak, x, y, P0, sigma=sigma, errors=errors, method=method)
    p, cov = scipy_fit(x, y, P0, sigma, absolute_sigma=errors == "absolute")
    assert r.converged, r.message
    np.testing.assert_allclose(r.params, p, rtol=1e-6)
    np.testing.assert_allclose(r.covariance, cov, rtol=1e-6, atol=1e-6 * np.abs(cov).max())
    np.testing.assert_allclose(r.stderr, np.sqrt(np.diag(cov)), rtol=1e-6)
    chi2 = float(np.sum(((y - peak_np(x, *p)) / sigma) ** 2))
    assert r.chi2 == pytest.approx(chi2, rel=1e-10)
    assert r.dof == x.size - 4 and r.reduced_chi2 == pytest.approx(chi2 / r.dof, rel=1e-10)
    assert r.p_value == pytest.approx(scipy_stats.chi2.sf(chi2, r.dof), rel=1e-8)
    assert r.errors == errors and r.method == method


def test_sigma_given_defaults_to_absolute_errors():
    x, y, sigma = peak_data(seed=1)
    r = curve_fit(peak, x, y, P0, sigma=sigma)
    assert r.errors == "absolute"
    _, cov = scipy_fit(x, y, P0, sigma, absolute_sigma=True)
    np.testing.assert_allclose(r.covariance, cov, rtol=1e-6, atol=1e-6 * np.abs(cov).max())


def test_without_sigma_errors_are_relative_like_scipy():
    x, y, _ = peak_data(seed=2)
    r = curve_fit(peak, x, y, P0)
    p, cov = scipy_fit(x, y, P0)
    assert r.errors == "relative"
    np.testing.assert_allclose(r.params, p, rtol=1e-6)
    np.testing.assert_allclose(r.covariance, cov, rtol=1e-6, atol=1e-6 * np.abs(cov).max())
    np.testing.assert_allclose(r.residuals, y - peak_np(x, *p), atol=1e-6)


def test_scalar_sigma_scales_like_per_point_sigma():
    x, y, _ = peak_data(seed=3)
    a = curve_fit(peak, x, y, P0, sigma=0.1)
    b = curve_fit(peak, x, y, P0, sigma=np.full(x.size, 0.1))
    np.testing.assert_allclose(a.params, b.params, rtol=1e-12)
    np.testing.assert_allclose(a.covariance, b.covariance, rtol=1e-10)


def test_history_and_counts():
    x, y, sigma = peak_data()
    r = curve_fit(peak, x, y, P0, sigma=sigma)
    assert r.history.shape == (r.n_iter + 1, 4)
    np.testing.assert_array_equal(r.history[0], P0)
    np.testing.assert_array_equal(r.history[-1], r.params)
    assert 0 < r.n_jac <= r.n_eval
    chi2s = [np.sum(((y - peak_np(x, *p)) / sigma) ** 2) for p in r.history]
    assert np.all(np.diff(chi2s) < 0)  # only decreasing steps are accepted


def test_gradient_descent_method_on_a_line():
    rng = np.random.default_rng(5)
    x = np.linspace(-1, 1, 30)
    y = 2 * x + 0.5 + rng.normal(0, 0.1, x.size)
    r = curve_fit(lambda x, p: p[0] * x + p[1], x, y, [0.0, 0.0], sigma=0.1, method="gd", tol=1e-14)
    ref = linear_regression(x, y, sigma=0.1)
    assert r.converged, r.message
    np.testing.assert_allclose(r.params, ref.params, rtol=1e-6)
    np.testing.assert_allclose(r.covariance, ref.covariance, rtol=1e-6, atol=1e-9)


def test_many_parameters_polynomial_matches_polyfit():
    # Nine parameters: polyfit's weighted least squares is the oracle.
    rng = np.random.default_rng(6)
    x = np.linspace(-1, 1, 50)
    y = np.polyval(rng.normal(size=9), x) + rng.normal(0, 0.05, x.size)
    model = lambda x, p: sum(p[k] * x ** (8 - k) for k in range(9))
    r = curve_fit(model, x, y, np.zeros(9), sigma=0.05, tol=1e-14)  # tight: compare beyond 1e-5 of a std error
    coef, cov = np.polyfit(x, y, 8, w=np.full(x.size, 1 / 0.05), cov="unscaled")
    np.testing.assert_allclose(r.params, coef, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(r.covariance, cov, rtol=1e-6, atol=1e-9)


def test_report_reads_well():
    x, y, sigma = peak_data()
    r = curve_fit(peak, x, y, P0, sigma=sigma, param_names=["A", "mu", "s", "bg"])
    text = r.report()
    assert isinstance(text, str) and repr(text) == text
    for name, p, s in zip(["A", "mu", "s", "bg"], r.params, r.stderr, strict=True):
        assert f"  {name:2} = {format_uncertainty(p, s)}\n" in text
    assert f"chi2 = {r.chi2:.6g}, dof = {r.dof}" in text and "p-value" in text and "chi2/dof" in text
    full = r.report(digits=17)  # full precision stays available, as do the attributes
    for p, s in zip(r.params, r.stderr, strict=True):
        assert f"{p:.17g} ± {s:.17g}" in full
    np.testing.assert_allclose(r.predict(x), peak_np(x, *r.params), rtol=1e-12)


@pytest.mark.parametrize("value, err, text", [
    (2.00612, 0.03421, "2.006 ± 0.034"),
    (-2.00612, 0.03421, "-2.006 ± 0.034"),
    (1.94, 0.0894427, "1.940 ± 0.089"),
    (0.99, 0.0996, "0.99 ± 0.10"),        # the uncertainty rounds up to the next decade
    (123456.0, 789.0, "123460 ± 790"),
    (3.0, 12.6, "3 ± 13"),
    (1.23456e-3, 2.1e-5, "0.001235 ± 0.000021"),
    (1.23456e-4, 2.1e-6, "(1.235 ± 0.021)e-04"),
    (2.0061e-7, 3.42e-9, "(2.006 ± 0.034)e-07"),
    (6.02214e23, 1.2e20, "(6.0221 ± 0.0012)e+23"),
    (-0.0001, 0.05, "0.000 ± 0.050"),     # no "-0.000"
    (1.5, 0.0, "1.5 ± 0"),
    (1.5, math.inf, "1.5 ± inf"),
])
def test_format_uncertainty_rounds_the_value_to_the_uncertainty(value, err, text):
    assert format_uncertainty(value, err) == text


def test_report_without_sigma_is_not_a_goodness_of_fit():
    x = np.arange(10.0)
    y = 2 * x + 1 + 0.01 * (-1) ** np.arange(10)
    for r in (curve_fit(lambda x, p: p[0] * x + p[1], x, y, [1.0, 0.0]), linear_regression(x, y)):
        text = r.report()
        assert "p-value" not in text.replace("no p-value", "") and "chi2/dof = " not in text.replace(
            "scaled by chi2/dof = ", "")
        assert "no sigma given" in text and "residual sum of squares" in text
        assert f"scaled by chi2/dof = {r.reduced_chi2:.6g} (errors: relative)" in text
    with_sigma = linear_regression(x, y, sigma=0.01)
    assert "p-value = " in with_sigma.report() and "no sigma" not in with_sigma.report()
    relative = linear_regression(x, y, sigma=0.01, errors="relative")
    assert "errors relative: sigma only weights the points; the covariance is scaled by chi2/dof" in relative.report()


# =============================================================================== linear regression

@given(seed=st.integers(0, 10_000), n=st.integers(3, 40), offset=st.floats(-1e3, 1e3))
def test_linear_regression_matches_polyfit(seed, n, offset):
    rng = np.random.default_rng(seed)
    x = offset + np.sort(rng.uniform(-5, 5, n))
    sigma = rng.uniform(0.1, 2.0, n)
    y = rng.normal(size=2) @ np.stack([x, np.ones(n)]) + rng.normal(0, sigma)
    absolute = linear_regression(x, y, sigma=sigma)
    coef, cov = np.polyfit(x, y, 1, w=1 / sigma, cov="unscaled")
    np.testing.assert_allclose(absolute.params, coef, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(absolute.covariance, cov, rtol=1e-6, atol=1e-12)
    relative = linear_regression(x, y, sigma=sigma, errors="relative")
    _, cov_scaled = np.polyfit(x, y, 1, w=1 / sigma, cov=True)
    np.testing.assert_allclose(relative.covariance, cov_scaled, rtol=1e-6, atol=1e-12)
    plain = linear_regression(x, y)
    coef, cov = np.polyfit(x, y, 1, cov=True)
    np.testing.assert_allclose(plain.params, coef, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(plain.covariance, cov, rtol=1e-6, atol=1e-12)


def test_linear_regression_equals_curve_fit_on_a_line():
    rng = np.random.default_rng(9)
    x = np.linspace(0, 10, 15)
    sigma = rng.uniform(0.2, 0.6, x.size)
    y = 0.7 * x - 2 + rng.normal(0, sigma)
    a = linear_regression(x, y, sigma)
    b = curve_fit(lambda x, p: p[0] * x + p[1], x, y, [0.0, 0.0], sigma=sigma, tol=1e-14)
    np.testing.assert_allclose(a.params, b.params, rtol=1e-9)
    np.testing.assert_allclose(a.covariance, b.covariance, rtol=1e-9)
    assert a.chi2 == pytest.approx(b.chi2, rel=1e-9) and a.p_value == pytest.approx(b.p_value, rel=1e-8)
    assert a.param_names == ("slope", "intercept") and "slope" in a.report()


# =============================================================================== the p-value

@given(dof=st.integers(1, 3000), scale=st.floats(0.0, 4.0))
def test_chi2_sf_matches_scipy(dof, scale):
    chi2 = scale * dof + scale * 10
    want = scipy_stats.chi2.sf(chi2, dof)
    got = chi2_sf(chi2, dof)
    if want > 1e-280:
        assert got == pytest.approx(want, rel=1e-9, abs=0)
    else:
        assert got < 1e-270


@pytest.mark.parametrize("chi2, dof", [(1e5, 100_000), (1.02e5, 100_000), (3.0, 1), (0.001, 1), (700.0, 10),
                                       (30.0, 60), (200.0, 100)])
def test_chi2_sf_hard_cases(chi2, dof):
    assert chi2_sf(chi2, dof) == pytest.approx(scipy_stats.chi2.sf(chi2, dof), rel=1e-9)


def test_gammaincc_edges():
    assert gammaincc(2.5, 0.0) == 1.0 and gammaincc(2.5, math.inf) == 0.0
    assert gammaincc(1.0, 3.0) == pytest.approx(math.exp(-3.0), rel=1e-14)
    for a, x in [(0.0, 1.0), (-1.0, 1.0), (1.0, -0.5)]:
        with pytest.raises(ValueError):
            gammaincc(a, x)
    with pytest.raises(ValueError, match="dof"):
        chi2_sf(1.0, 0)


# =============================================================================== conditioning warnings

def test_degenerate_parameters_warn_and_give_inf_not_none():
    x = np.linspace(0, 1, 10)
    y = 3 * x
    with pytest.warns(FitWarning, match="singular|degenerate"):
        r = curve_fit(lambda x, p: p[0] * x + p[1] * x, x, y, [1.0, 1.0], sigma=0.1)
    assert r.covariance is not None and np.all(np.isinf(r.covariance))


def test_a_parameter_the_model_ignores_is_named():
    x = np.linspace(0, 1, 10)
    with pytest.warns(FitWarning, match=r"does not depend on b"):
        r = curve_fit(lambda x, p: p[0] * x + 0 * p[1], x, 2 * x + 0.01 * np.sin(20 * x), [1.0, 1.0],
                      param_names=["a", "b"])
    assert np.all(np.isinf(r.covariance))


def test_ill_conditioned_but_invertible_warns_with_the_reason():
    # Polynomial terms on x far from 0: nearly collinear columns.
    x = np.linspace(1000, 1001, 20)
    y = 1 + 2 * (x - 1000) + 0.001 * np.cos(x)
    with pytest.warns(FitWarning, match="condition number"):
        r = curve_fit(lambda x, p: p[0] + p[1] * x + p[2] * x ** 2, x, y, [0.0, 0.0, 0.0], sigma=0.01)
    assert np.all(np.isfinite(r.covariance))


def test_no_degrees_of_freedom_with_relative_errors():
    with pytest.warns(FitWarning, match="no degrees of freedom"):
        r = curve_fit(lambda x, p: p[0] * x + p[1], [0.0, 1.0], [1.0, 3.0], [0.0, 0.0])
    assert r.dof == 0 and np.all(np.isinf(r.covariance)) and math.isnan(r.reduced_chi2)
    np.testing.assert_allclose(r.params, [2.0, 1.0], atol=1e-10)


def test_not_converging_warns_and_says_so():
    x, y, sigma = peak_data()
    with pytest.warns(FitWarning, match="max_iter=2"):
        r = curve_fit(peak, x, y, P0, sigma=sigma, max_iter=2)
    assert not r.converged and "NOT CONVERGED" in r.report()


def test_a_well_posed_fit_does_not_warn():
    x, y, sigma = peak_data()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        curve_fit(peak, x, y, P0, sigma=sigma)


# =============================================================================== bad input

LINE = lambda x, p: p[0] * x + p[1]  # noqa: E731
X5, Y5 = np.arange(5.0), np.arange(5.0) * 2 + 1


@pytest.mark.parametrize("kwargs, match", [
    ({"x": np.arange(4.0)}, r"x has shape \(4,\) but y has shape \(5,\)"),
    ({"y": np.ones((5, 1))}, r"y must be 1-D"),
    ({"sigma": np.ones(4)}, r"sigma has shape \(4,\) but y has shape \(5,\)"),
    ({"y": np.array([1.0, 2.0, np.nan, 4.0, 5.0])}, r"y contains NaN at index 2"),
    ({"x": np.array([0.0, np.inf, 2.0, 3.0, 4.0])}, r"x contains an infinity at index 1"),
    ({"sigma": np.array([1.0, 1.0, 0.0, 1.0, 1.0])}, r"sigma must be positive, but sigma\[2\] = 0"),
    ({"sigma": -1.0}, r"sigma must be positive"),
    ({"p0": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]}, r"5 data points but 6 parameters"),
    ({"p0": [[1.0, 2.0]]}, r"p0 must be a non-empty 1-D array"),
    ({"p0": [1.0, np.nan]}, r"p0 contains NaN"),
    ({"method": "newton"}, r"method must be one of"),
    ({"errors": "both", "sigma": 1.0}, r"errors must be 'absolute' or 'relative'"),
    ({"errors": "absolute"}, r"errors='absolute' needs sigma"),
    ({"model": lambda x, p: (p[0] * x + p[1])[:3]}, r"returned shape \(3,\) but y has shape \(5,\)"),
    ({"model": lambda x, p: p[0] + p[1]}, r"returned shape \(\) but y has shape \(5,\)"),
    ({"model": lambda x, p: np.asarray(x) * 2.0}, r"returned ndarray, not a Tensor"),
    ({"model": lambda x, p: x * 2.0 + 0.0}, r"does not depend on params"),
    ({"model": lambda x, p: tg.log(p[0] * x - 100)}, r"not finite at point 0"),
    ({"param_names": ["a"]}, r"1 param_names for 2 parameters"),
])
def test_bad_input_is_a_clear_value_error(kwargs, match):
    args = {"model": LINE, "x": X5, "y": Y5, "p0": [1.0, 0.0]}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        curve_fit(args.pop("model"), args.pop("x"), args.pop("y"), args.pop("p0"), **args)


@pytest.mark.parametrize("args, match", [
    ((np.arange(3.0), np.arange(4.0)), r"x has shape \(3,\) but y has shape \(4,\)"),
    ((np.ones(4), np.arange(4.0)), r"every x is 1"),
    ((np.array([1.0]), np.array([2.0])), r"at least 2"),
    ((np.arange(3.0), np.array([1.0, np.nan, 2.0])), r"y contains NaN at index 1"),
    ((np.arange(3.0).reshape(1, 3), np.arange(3.0)), r"x must be 1-D"),
])
def test_linear_regression_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        linear_regression(*args)
    with pytest.raises(ValueError, match=r"sigma must be positive, but sigma\[1\]"):
        linear_regression(np.arange(3.0), np.arange(3.0), sigma=[1.0, -2.0, 1.0])


def test_model_must_be_callable():
    with pytest.raises(TypeError, match="model must be a function"):
        curve_fit("a*x", X5, Y5, [1.0])


# =============================================================================== the picture

def test_plot_fit_has_the_data_the_curve_and_the_pulls():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x, y, sigma = peak_data()
    r = curve_fit(peak, x, y, P0, sigma=sigma)
    fig = tg.viz.plot_fit(r)
    top, bottom = fig.axes
    pulls = [line for line in bottom.lines if len(line.get_xdata()) == x.size]
    np.testing.assert_allclose(pulls[0].get_ydata(), (y - peak_np(x, *r.params)) / sigma, rtol=1e-9, atol=1e-9)
    curve = max(top.lines, key=lambda line: len(line.get_xdata()))
    np.testing.assert_allclose(curve.get_ydata(), peak_np(curve.get_xdata(), *r.params), rtol=1e-12)
    plt.close(fig)
    legend = [t.get_text() for t in top.get_legend().get_texts()]
    assert any("χ²/ν" in t for t in legend)
    assert any(f"A = {format_uncertainty(r.params[0], r.stderr[0])}" in t.replace("p[0]", "A") for t in legend)
    plt.close(fig)
    no_sigma = curve_fit(peak, x, y, P0)
    fig = tg.viz.plot_fit(no_sigma)
    legend = " ".join(t.get_text() for t in fig.axes[0].get_legend().get_texts())
    assert "χ²" not in legend and "no σ given" in legend and "residual sum of squares" in legend
    plt.close(fig)
    two_d = curve_fit(lambda x, p: p[0] * x[0] + p[1] * x[1], np.stack([x, x ** 2]), y, [1.0, 1.0])
    with pytest.raises(ValueError, match="1-D x"):
        tg.viz.plot_fit(two_d)
