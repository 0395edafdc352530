"""``tg.gradcheck`` (API.md section 4): passes correct functions, catches wrong rules.

A checker that never fails proves nothing, so most tests here build a deliberately wrong custom
primitive and assert the error names the input, the worst index and both values.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import tinygrad_mvc as tg


def cube_with(rule_factor: float):
    """x^3 whose declared derivative is ``rule_factor * x^2`` (correct for 3)."""

    @tg.primitive
    def cube(x):
        return x ** 3

    cube.defvjp(lambda g, ans, x: g * rule_factor * x ** 2)
    return cube


def _float_after(label: str, msg: str) -> float:
    m = re.search(label + r"\s+(?:np\.float64\()?(-?[0-9.eE+-]+)", msg)
    assert m, msg
    return float(m.group(1))


# =============================================================================== passes

class TestPasses:
    def test_returns_true_for_a_single_input(self):
        assert tg.gradcheck(lambda x: (x.sin() * x.exp()).sum(), np.array([0.3, -1.2, 2.0])) is True

    def test_several_inputs_with_broadcasting(self):
        rng = np.random.default_rng(0)
        a, b, c = rng.standard_normal((2, 3)), rng.standard_normal((3, 4)), rng.standard_normal(4)
        assert tg.gradcheck(lambda a, b, c: (a @ b + c).tanh() * c, a, b, c) is True

    def test_non_float_inputs_are_passed_through(self):
        seen = []

        def f(x, idx, mode, flag):
            seen.append((mode, flag))
            y = x[idx]
            y = y.sin() if mode == "sin" else y.cos()
            return y * 2.0 if flag else y

        x = np.array([0.5, -1.0, 2.0, 0.1])
        idx = np.array([0, 2, 2, 3])  # integer: an index, not a variable
        assert tg.gradcheck(f, x, idx, "sin", True) is True
        assert tg.gradcheck(f, x, idx, "cos", False) is True
        assert set(seen) == {("sin", True), ("cos", False)}

    def test_tensor_and_python_scalar_inputs(self):
        assert tg.gradcheck(lambda x, y: x * y.exp(), tg.tensor([1.0, 2.0]), 0.5) is True

    def test_zero_dim_input(self):
        # a 0-d input stays a Tensor in every evaluation (the inner-product test included)
        assert tg.gradcheck(lambda x: x.exp() * x.sin(), 0.5) is True
        assert tg.gradcheck(lambda x: x.exp() * x.sin(), np.array(0.5), order=2) is True

    def test_correct_custom_primitive_passes_to_second_order(self):
        assert tg.gradcheck(lambda x: cube_with(3.0)(x), np.array([-1.5, 0.5, 2.0]), order=2) is True

    def test_order_two_on_builtin_ops(self):
        x, y = np.array([0.3, 1.1]), np.array([[0.5, -0.4], [1.2, 0.7]])
        assert tg.gradcheck(lambda x, y: (x * y).sin().sum(axis=0) * x, x, y, order=2) is True

    def test_float32_correct_function_passes(self):
        # differences in float32 at default tolerances would fail: the check must run in float64
        x32 = np.array([0.7, -1.3, 2.2], dtype=np.float32)
        assert tg.gradcheck(lambda x: (x * x).exp() * x.sin(), x32) is True
        assert tg.gradcheck(lambda x: (x * x).exp() * x.sin(), tg.tensor(x32)) is True

    def test_float32_inputs_are_evaluated_in_float64(self):
        dtypes = set()

        def f(x):
            dtypes.add(x.dtype)
            return x.tanh()

        assert tg.gradcheck(f, np.array([0.2, -0.4], dtype=np.float32)) is True
        assert dtypes == {np.dtype(np.float64)}


# =============================================================================== failures

class TestCatchesWrongRules:
    def test_wrong_first_derivative_is_named(self):
        # analytic 2 x^2 instead of 3 x^2: the worst entry is the largest |x|, index (2,) where x = 2
        x = np.array([-1.5, 0.5, 2.0])
        with pytest.raises(tg.GradcheckError) as info:
            tg.gradcheck(lambda t: cube_with(2.0)(t), x, rng=0)
        msg = str(info.value)
        assert "input 0" in msg
        assert "(2,)" in msg
        assert "analytic" in msg and "numerical" in msg
        # The figures are the Jacobian entry d out[2] / d x[2] itself (rule 2·x² = 8, truth 3·x² = 12), not
        # the random projection gradcheck tests with; those follow only as extra detail.
        assert "d out[2] / d x[2]" in msg
        analytic, numeric = _float_after("analytic", msg), _float_after("numerical", msg)
        np.testing.assert_allclose(analytic, 8.0, rtol=1e-12)
        np.testing.assert_allclose(numeric, 12.0, rtol=1e-6)

    def test_a_scalar_output_reports_the_derivative_itself(self):
        with pytest.raises(tg.GradcheckError) as info:
            tg.gradcheck(lambda t: cube_with(2.0)(t).sum(), np.array([-1.5, 0.5, 2.0]), rng=3)
        msg = str(info.value)
        assert "(2,)" in msg and "projection" not in msg
        np.testing.assert_allclose(_float_after("analytic", msg), 8.0, rtol=1e-12)
        np.testing.assert_allclose(_float_after("numerical", msg), 12.0, rtol=1e-6)

    def test_wrong_rule_on_the_second_input_names_it(self):
        @tg.primitive
        def mul(x, y):
            return x * y

        mul.defvjp(lambda g, ans, x, y: g * y, lambda g, ans, x, y: g * x * 1.01)  # 1% off for y
        with pytest.raises(tg.GradcheckError, match="input 1"):
            tg.gradcheck(lambda a, b: mul(a, b), np.array([1.0, 2.0]), np.array([3.0, -1.0]))

    def test_input_position_counts_pass_through_arguments(self):
        @tg.primitive
        def shift(x):
            return x + 1.0

        shift.defvjp(lambda g, ans, x: g * 2.0)
        with pytest.raises(tg.GradcheckError, match="input 2"):
            tg.gradcheck(lambda a, mode, b: a * shift(b), np.array([1.0, 2.0]), "unused", np.array([0.5, 0.25]))

    def test_a_small_error_is_caught(self):
        # 0.5% off: far above float64 central-difference error (~1e-10), so it must not pass
        with pytest.raises(tg.GradcheckError):
            tg.gradcheck(lambda t: cube_with(3.0 * 1.005)(t), np.array([0.8, 1.3]))

    def test_a_dropped_graph_is_caught(self):
        # f cuts its input from the graph: autodiff says 0, differences say cos(x)
        with pytest.raises(tg.GradcheckError):
            tg.gradcheck(lambda t: tg.tensor(np.sin(t.data)), np.array([0.3, 1.0]))

    def test_order_two_catches_a_wrong_second_derivative(self):
        # cube' is another primitive 3x^2 whose own rule is wrong (5x instead of 6x): first order is right
        @tg.primitive
        def three_x2(x):
            return 3 * x ** 2

        three_x2.defvjp(lambda g, ans, x: g * 5.0 * x)

        @tg.primitive
        def cube(x):
            return x ** 3

        cube.defvjp(lambda g, ans, x: g * three_x2(x))
        x = np.array([0.5, -1.5, 2.0])
        assert tg.gradcheck(lambda t: cube(t), x) is True
        with pytest.raises(tg.GradcheckError) as info:
            tg.gradcheck(lambda t: cube(t), x, order=2)
        assert "input 0" in str(info.value)

    def test_float32_wrong_function_fails(self):
        x32 = np.array([0.8, -1.3, 1.6], dtype=np.float32)
        with pytest.raises(tg.GradcheckError):
            tg.gradcheck(lambda t: cube_with(2.0)(t), x32)
        # and a 0.5% error, well above float64 difference error
        with pytest.raises(tg.GradcheckError):
            tg.gradcheck(lambda t: cube_with(3.0 * 1.005)(t), x32)


class TestArguments:
    def test_no_floating_input(self):
        with pytest.raises(ValueError):
            tg.gradcheck(lambda s: tg.tensor(1.0), "text")

    def test_bad_order(self):
        with pytest.raises(ValueError):
            tg.gradcheck(lambda x: x * 2.0, np.array([1.0]), order=3)

    def test_error_is_an_assertion_error(self):
        # so a bare `assert`-style test harness reports it as a failure, not an error
        assert issubclass(tg.GradcheckError, AssertionError)
