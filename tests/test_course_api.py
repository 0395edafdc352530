"""Issue 16's small API points: ``tg.elementwise_grad``, ``r``/``r2`` of linear_regression, SciPy-style models.

The oracles: finite differences and the diagonal of the Jacobian for ``elementwise_grad``,
``scipy.stats.linregress`` and hand-written weighted formulas for ``r``, ``scipy.optimize.curve_fit``
for the model written ``model(x, a, b)``.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.optimize
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import arrays, shapes
from test_op_gradients import UNARY

import tinygrad_mvc as tg
from tinygrad_mvc.arguments import positional_arity, spread_model, vector_function

# ----------------------------------------------------------------------------- elementwise_grad


@settings(max_examples=4, deadline=None)
@given(data=st.data())
@pytest.mark.parametrize("name", sorted(UNARY))
def test_elementwise_grad_is_the_derivative_at_every_entry(name, data):
    fn, domain = UNARY[name]
    x = data.draw(arrays(domain, data.draw(shapes(max_side=3))))
    got = tg.elementwise_grad(fn)(x)
    assert np.shape(got) == x.shape
    h = 1e-6
    with tg.no_grad():
        fd = (fn(tg.tensor(x + h)).data - fn(tg.tensor(x - h)).data) / (2 * h)
    np.testing.assert_allclose(got, fd, rtol=1e-6, atol=1e-6)
    if x.size:  # and it is the Jacobian's diagonal, the Jacobian being diagonal
        J = tg.jacobian(fn)(x).reshape(x.size, x.size)
        np.testing.assert_allclose(np.asarray(got).reshape(-1), np.diag(J), rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(J - np.diag(np.diag(J)), 0, atol=0)


@settings(max_examples=10, deadline=None)
@given(x=arrays("wide", (5,)))
def test_nested_elementwise_grad_gives_higher_derivatives(x):
    d2 = tg.elementwise_grad(tg.elementwise_grad(tg.sin))(x)
    d3 = tg.elementwise_grad(tg.elementwise_grad(tg.elementwise_grad(tg.sin)))(x)
    np.testing.assert_allclose(d2, -np.sin(x), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(d3, -np.cos(x), rtol=1e-12, atol=1e-14)


def test_elementwise_grad_of_a_two_argument_function_and_a_scalar():
    x, y = np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0])
    gx, gy = tg.elementwise_grad(lambda a, b: a * b ** 2, argnums=(0, 1))(x, y)
    np.testing.assert_array_equal(gx, y ** 2)
    np.testing.assert_array_equal(gy, 2 * x * y)
    assert tg.elementwise_grad(lambda t: t ** 3)(2.0) == 12.0
    assert tg.elementwise_grad(tg.sin).__name__ == "sin"


def test_elementwise_grad_refuses_what_is_not_elementwise():
    with pytest.raises(ValueError, match=r"elementwise_grad: f maps an input of shape \(3,\) to shape \(\).*jacobian"):
        tg.elementwise_grad(lambda v: v.sum())(np.ones(3))
    with pytest.raises(ValueError, match=r"shape \(\) to shape \(3,\)"):
        tg.elementwise_grad(lambda s: s * np.ones(3))(1.0)


def test_grad_of_a_vector_output_points_at_elementwise_grad():
    with pytest.raises(ValueError, match="tg.elementwise_grad"):
        tg.grad(tg.sin)(np.ones(3))


# ----------------------------------------------------------------------------- r and r2


def test_r_and_r2_match_scipy_linregress():
    rng = np.random.default_rng(3)
    x = np.linspace(0, 10, 25)
    y = 2.5 * x - 1 + rng.normal(0, 2.0, x.size)
    res = tg.fit.linear_regression(x, y)
    ref = scipy.stats.linregress(x, y)
    assert res.r == pytest.approx(ref.rvalue, rel=1e-13)
    assert res.r2 == pytest.approx(ref.rvalue ** 2, rel=1e-12)
    down = tg.fit.linear_regression(x, -y)
    assert down.r == pytest.approx(-ref.rvalue, rel=1e-13)  # the sign of the slope


def test_weighted_r_is_the_weighted_correlation():
    x = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    y = np.array([0.1, 1.3, 1.8, 3.4, 3.9])
    s = np.array([0.1, 0.2, 0.1, 0.4, 0.2])
    w = 1 / s ** 2
    mx, my = w @ x / w.sum(), w @ y / w.sum()
    expected = (w @ ((x - mx) * (y - my))) / np.sqrt((w @ (x - mx) ** 2) * (w @ (y - my) ** 2))
    res = tg.fit.linear_regression(x, y, sigma=s)
    assert res.r == pytest.approx(expected, rel=1e-13)
    assert res.r2 == pytest.approx(expected ** 2, rel=1e-12)
    assert res.r2 == pytest.approx(1 - res.chi2 / (w @ (y - my) ** 2), rel=1e-12)


def test_r_is_nan_for_constant_y_and_curve_fit_has_r2_only():
    res = tg.fit.linear_regression([0.0, 1.0, 2.0], [5.0, 5.0, 5.0])
    assert np.isnan(res.r) and np.isnan(res.r2)
    xs = np.linspace(0, 2, 9)
    ys = 3 * np.exp(-1.5 * xs) + 0.01 * np.cos(5 * xs)
    fit = tg.fit.curve_fit(lambda x, p: p[0] * tg.exp(-p[1] * x), xs, ys, p0=[1.0, 1.0])
    assert np.isnan(fit.r)
    assert fit.r2 == pytest.approx(1 - fit.chi2 / ((ys - ys.mean()) ** 2).sum(), rel=1e-12)
    assert 0.99 < fit.r2 < 1


# ----------------------------------------------------------------------------- model(x, a, b) and f(x, y)


def test_curve_fit_takes_scipys_model_form_and_names_the_parameters():
    xs = np.linspace(0, 2, 12)
    ys = 3 * np.exp(-1.5 * xs) + 0.02 * np.sin(9 * xs)
    fit = tg.fit.curve_fit(lambda x, amp, rate: amp * tg.exp(-rate * x), xs, ys, p0=[1.0, 1.0])
    ref, cov = scipy.optimize.curve_fit(lambda x, a, b: a * np.exp(-b * x), xs, ys, p0=[1.0, 1.0])
    np.testing.assert_allclose(fit.params, ref, rtol=1e-7)
    np.testing.assert_allclose(fit.covariance, cov, rtol=1e-4)
    assert fit.param_names == ("amp", "rate")
    assert "amp  = " in fit.report() and "rate = " in fit.report()
    np.testing.assert_allclose(fit.predict(xs), fit.params[0] * np.exp(-fit.params[1] * xs), rtol=1e-14)
    given = tg.fit.curve_fit(lambda x, a, b: a * tg.exp(-b * x), xs, ys, p0=[1.0, 1.0], param_names=["A", "k"])
    assert given.param_names == ("A", "k")


def test_a_wrong_parameter_count_is_one_clear_error():
    with pytest.raises(TypeError, match=r"curve_fit: model takes x and 2 parameters \(a, b\) but p0 has 3 entries"):
        tg.fit.curve_fit(lambda x, a, b: a * x + b, [0.0, 1.0, 2.0, 3.0], [1.0, 2.0, 3.0, 4.0], p0=[1.0, 1.0, 1.0])
    with pytest.raises(TypeError, match=r"demo: f takes 2 separate arguments \(x, y\) but the start point has 3"):
        vector_function("demo", lambda x, y: x + y, 3)


def test_the_adapter_reads_signatures():
    assert positional_arity(lambda v: v) == (1, ("v",), False)
    assert positional_arity(lambda x, y=2: x) == (1, ("x",), False)
    assert positional_arity(tg.sin) is not None
    assert positional_arity(np.sin)[0] == 1
    assert positional_arity(max) is None  # a builtin without a signature: called with one argument
    g, names = vector_function("demo", lambda *xs: xs[0] * xs[1], 2)
    assert names == ("x0", "x1") and float(g(tg.tensor([2.0, 3.0]))) == 6.0
    same, none = vector_function("demo", max, 2)
    assert same is max and none is None
    m, names = spread_model("fit", lambda x, p: p[0] * x, 1)
    assert names is None and m(2.0, [3.0]) == 6.0


# ----------------------------------------------------------------------------- tg.nn in the course's notation


def test_linear_from_course_matches_W_a_plus_b_with_examples_in_columns():
    rng = np.random.default_rng(0)
    W, b, A = rng.normal(size=(3, 4)), rng.normal(size=(3, 1)), rng.normal(size=(4, 6))
    layer = tg.nn.Linear.from_course(W, b)
    assert (layer.in_features, layer.out_features) == (4, 3)
    np.testing.assert_allclose(layer(A.T).data.T, W @ A + b, rtol=1e-14)
    np.testing.assert_array_equal(layer.weight.data.T, W)
    assert layer.weight.requires_grad and layer.bias.requires_grad
    np.testing.assert_allclose(tg.nn.Linear.from_course(W, b.ravel())(A.T).data.T, W @ A + b, rtol=1e-14)
    assert tg.nn.Linear.from_course(W).bias is None
    with pytest.raises(ValueError, match=r"from_course: b must be a column of shape \(3, 1\)"):
        tg.nn.Linear.from_course(W, np.ones((1, 3)))
    with pytest.raises(ValueError, match="W must be a matrix"):
        tg.nn.Linear.from_course(np.ones(3))


def test_the_course_network_ends_with_a_sigmoid():
    net = tg.nn.MLP([1, 6, 7, 2], "sigmoid", output_activation="sigmoid", rng=0)
    out = net(np.linspace(-1, 1, 9)[:, None]).data
    assert out.shape == (9, 2) and np.all((out > 0) & (out < 1))
    assert isinstance(net[-1], tg.nn.Sigmoid) and isinstance(net[-2], tg.nn.Linear)
