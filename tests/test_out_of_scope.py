"""Out of scope, refused by name: complex numbers, FFT, scipy.special / scipy.stats / scipy.signal, convolutions.

A Tensor that requires grad meeting any of them is a TypeError naming the function and saying it
is out of scope; constants either work on the data (same values as on the plain array) or are
refused the same way. Never a silently dropped graph or imaginary part.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal
import scipy.special
import scipy.stats

import tinygrad_mvc as tg

X = np.array([0.3, 1.2, -0.5])


def needs_grad():
    return tg.tensor(X, requires_grad=True)


# ----------------------------------------------------------------------------- complex numbers

@pytest.mark.parametrize("make", [
    lambda: tg.tensor([1 + 2j]),
    lambda: tg.tensor([1 + 2j], requires_grad=True),
    lambda: tg.Tensor(np.array([1.0, 2.0]), dtype=np.complex64),
    lambda: tg.tensor(np.exp(1j * X)),
])
def test_complex_data_is_refused_where_it_enters(make):
    with pytest.raises(TypeError, match=r"Tensor: complex data \(complex\d+\) is out of scope"):
        make()


@pytest.mark.parametrize("op", [
    lambda c, x: c * x,
    lambda c, x: np.multiply(c, x),
    lambda c, x: np.add(x, c),
    lambda c, x: c @ x,
])
def test_a_complex_numpy_operand_through_numpy_is_refused(op):
    c = np.array([1j, 2.0, 0.5j])
    for x in (needs_grad(), tg.tensor(X)):
        with pytest.raises(TypeError, match="complex operand .* out of scope"):
            op(c, x)


@pytest.mark.parametrize("transform", [
    lambda f: tg.grad(lambda x: f(x).sum())(X),
    lambda f: tg.jacobian(f)(X),
    lambda f: tg.vjp(f, X),
    lambda f: tg.jvp(f, (X,), (X,)),
])
def test_transforms_refuse_a_complex_output(transform):
    with pytest.raises(TypeError, match=r"returned a complex value \(complex128\); complex numbers are out of scope"):
        transform(lambda x: x * 1j)


def test_real_code_is_unaffected():
    x = needs_grad()
    np.testing.assert_allclose((np.array([1.0, 2.0, 3.0]) * x).data, X * [1, 2, 3])
    np.testing.assert_allclose(np.asarray(x), X)  # outside a transform the data may still be read
    assert np.isrealobj(tg.tensor([1.0 + 0.0]).data)


# ----------------------------------------------------------------------------- FFT

@pytest.mark.parametrize("fft", [np.fft.fft, np.fft.rfft, np.fft.ifft, np.fft.fftshift])
@pytest.mark.parametrize("grad", [True, False])
def test_numpy_fft_on_any_tensor_is_refused_by_name(fft, grad):
    x = tg.tensor(X, requires_grad=grad)
    with pytest.raises(TypeError, match=rf"np\.fft\.{fft.__name__} on a Tensor: FFT is out of scope"):
        fft(x)
    assert np.shape(fft(x.numpy())) != ()  # the plain array still works


# ----------------------------------------------------------------------------- convolutions

@pytest.mark.parametrize("conv", [np.convolve, np.correlate])
def test_numpy_convolutions_refuse_a_tensor_that_requires_grad(conv):
    with pytest.raises(TypeError, match=rf"np\.{conv.__name__} on a Tensor that requires grad: convolutions are "
                                        r"out of scope"):
        conv(needs_grad(), [1.0, 0.5])
    np.testing.assert_allclose(conv(tg.tensor(X), [1.0, 0.5]), conv(X, [1.0, 0.5]))  # constants: the data


def test_scipy_signal_convolve_is_refused_by_name():
    with pytest.raises(TypeError, match=r"scipy\.signal\.convolve on a Tensor that requires grad: scipy\.signal is "
                                        r"out of scope"):
        scipy.signal.convolve(needs_grad(), np.array([1.0, 0.5]))
    np.testing.assert_allclose(scipy.signal.convolve(tg.tensor(X), np.array([1.0, 0.5])),
                               scipy.signal.convolve(X, np.array([1.0, 0.5])))


# ----------------------------------------------------------------------------- scipy.special and scipy.stats

@pytest.mark.parametrize("name", ["erf", "gammaln", "expit", "gamma"])
def test_scipy_special_ufuncs_are_refused_by_name(name):
    f = getattr(scipy.special, name)
    with pytest.raises(TypeError, match=rf"scipy\.special\.{name} on a Tensor that requires grad: scipy\.special is "
                                        r"out of scope"):
        f(needs_grad())
    np.testing.assert_allclose(np.asarray(f(tg.tensor(X))), f(X))  # on a constant: computed on the data


@pytest.mark.parametrize("call, name", [
    (lambda x: scipy.special.logsumexp(x), r"scipy\.special\.logsumexp"),
    (lambda x: scipy.stats.norm.pdf(x), r"scipy\.stats\.rv_continuous\.pdf"),
    (lambda x: scipy.stats.norm.logcdf(x, loc=0.5), r"scipy\.stats\.rv_continuous\.logcdf"),
    (lambda x: scipy.stats.poisson.pmf(x, 2.0), r"scipy\.stats\.rv_discrete\.pmf"),
])
def test_scipy_functions_that_convert_the_tensor_are_refused_by_name(call, name):
    with pytest.raises(TypeError, match=rf"{name} on a Tensor that requires grad: scipy\.(special|stats) is out of "
                                        r"scope in tinygrad_mvc .* drop the gradient"):
        call(needs_grad())
    np.testing.assert_allclose(call(tg.tensor(X)), call(X))


def test_only_scipy_callers_are_refused():
    x = needs_grad()

    def my_helper(t):  # a user's own conversion, outside any transform
        return np.asarray(t).sum()

    assert my_helper(x) == pytest.approx(X.sum())
    assert np.linalg.norm(np.asarray(x)) == pytest.approx(np.linalg.norm(X))


def test_the_reference_names_the_out_of_scope_areas():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "API.md").read_text(encoding="utf-8")
    section = text.split("## Out of scope", 1)[1]
    for word in ("Complex numbers", "FFT", "scipy.special", "scipy.stats", "scipy.signal", "Convolutions"):
        assert word in section, word


def test_scipy_fft_is_refused_by_its_public_name():
    import scipy.fft

    with pytest.raises(TypeError, match=r"scipy\.fft\.fft on a Tensor that requires grad: FFT is out of scope"):
        scipy.fft.fft(needs_grad())
    np.testing.assert_allclose(scipy.fft.fft(tg.tensor(X)), scipy.fft.fft(X))
