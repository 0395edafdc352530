"""Chi-squared fitting with autodiff Jacobians: :func:`curve_fit` and the closed-form :func:`linear_regression`.

``curve_fit(model, x, y, p0, sigma)`` minimises χ² = Σ((y − model(x, p))/σ)² over the parameters
``p``. The model is written with Tensor ops; its Jacobian ∂model/∂p comes from the engine (forward
mode: the parameter directions pushed as one batch through one recorded evaluation), never from
finite differences.
The covariance of the parameters is (JᵀWJ)⁻¹ with W = diag(1/σ²), as in the course and in
``scipy.optimize.curve_fit``:

- ``errors="absolute"`` (the default when ``sigma`` is given): σ are true 1σ uncertainties and the
  covariance is (JᵀWJ)⁻¹ as it is (scipy's ``absolute_sigma=True``);
- ``errors="relative"`` (the default, and the only choice, without ``sigma``): σ only weight the
  points and the covariance is scaled by χ²/ν (scipy's ``absolute_sigma=False``).

The result (:class:`FitResult`) carries the parameters, covariance, uncertainties, χ², the degrees
of freedom ν, χ²/ν, the p-value of χ² (:func:`chi2_sf`, the regularised upper incomplete gamma
function written here in NumPy), and ``report()``.

>>> import numpy as np, tinygrad_mvc as tg
>>> x = np.array([0.0, 1.0, 2.0, 3.0]); y = np.array([1.1, 2.9, 5.2, 6.8])
>>> r = tg.fit.curve_fit(lambda x, p: p[0] * x + p[1], x, y, p0=[1.0, 0.0], sigma=0.2)
>>> r.params.round(6).tolist(), r.stderr.round(6).tolist()
([1.94, 1.09], [0.089443, 0.167332])
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .arguments import spread_model
from .engine import no_grad
from .tensor import Tensor
from .transforms import jacobian

__all__ = ["FitResult", "FitWarning", "curve_fit", "linear_regression", "chi2_sf", "gammaincc", "format_uncertainty",
           "METHODS"]

METHODS = ("lm", "gauss-newton", "gd")
"""The minimisers of :func:`curve_fit`: Levenberg-Marquardt, Gauss-Newton with step halving, gradient descent."""

_METHOD_NAMES = {"lm": "Levenberg-Marquardt", "gauss-newton": "Gauss-Newton", "gd": "gradient descent",
                 "closed form": "closed form"}

ILL_CONDITIONED = 1e10
"""Above this condition number of the (column-scaled) JᵀWJ the covariance is reported as ill-conditioned."""

class FitWarning(RuntimeWarning):
    """The fit went through but its covariance is unreliable (ill-conditioned or singular) or ν ≤ 0."""


class _Report(str):
    """The report text; its repr is the text itself, so ``result.report()`` reads well in a REPL."""

    def __repr__(self) -> str:
        return str(self)


@dataclass
class FitResult:
    """The outcome of :func:`curve_fit` or :func:`linear_regression`.

    ``params`` (1-D), ``covariance`` (n × n; scaled by χ²/ν for ``errors="relative"``), ``stderr`` (the
    square roots of its diagonal), ``chi2`` = Σ((y − model)/σ)² (σ = 1 without ``sigma``: then it is
    the residual sum of squares in the units of y², not a goodness of fit), ``dof`` = points −
    parameters, ``reduced_chi2`` = χ²/ν, ``p_value`` = P(χ²_ν ≥ χ²) (meaningful for absolute errors
    only; :meth:`report` does not show it, nor χ²/ν, without ``sigma``), ``history`` (the parameters
    after every accepted step: ``n_iter + 1`` rows),
    ``residuals`` = (y − model)/σ at the solution, ``n_eval`` (calls of the model) and ``n_jac``
    (Jacobians).
    """

    params: np.ndarray
    covariance: np.ndarray
    stderr: np.ndarray
    chi2: float
    dof: int
    reduced_chi2: float
    p_value: float
    converged: bool
    n_iter: int
    message: str
    history: np.ndarray
    method: str
    errors: str
    residuals: np.ndarray
    n_eval: int = 0
    n_jac: int = 0
    param_names: tuple[str, ...] = ()
    x: np.ndarray = field(default=None, repr=False)  # type: ignore[assignment]
    y: np.ndarray = field(default=None, repr=False)  # type: ignore[assignment]
    sigma: np.ndarray | None = field(default=None, repr=False)
    model: Callable[..., Any] | None = field(default=None, repr=False)
    r: float = float("nan")
    """linear_regression: Pearson's correlation coefficient of x and y (weighted by 1/σ² when σ is given)."""
    r2: float = float("nan")
    """The coefficient of determination 1 − χ²/χ²₀, χ²₀ that of the best constant (the weighted mean of y);
    for a straight line it equals ``r ** 2``. NaN when every y is the same."""

    def __repr__(self) -> str:
        return (f"FitResult(params={np.array2string(self.params, precision=6)}, "
                f"stderr={np.array2string(self.stderr, precision=3)}, chi2={self.chi2:.6g}, dof={self.dof}, "
                f"converged={self.converged})")

    def predict(self, x: Any) -> np.ndarray:
        """The fitted model at ``x`` (a NumPy array)."""
        if self.model is None:
            raise ValueError("predict: this result has no model")
        return _evaluate(self.model, np.asarray(x, dtype=np.float64), self.params)

    def report(self, digits: int | None = None) -> str:
        """A readable summary: the parameters ± their uncertainties, then χ², ν, χ²/ν and the p-value.

        With ``digits=None`` each value is rounded together with its uncertainty, to the uncertainty's
        two significant digits (``2.006 ± 0.034``, see :func:`format_uncertainty`); ``digits=n``
        shows ``n`` significant digits of each instead (``digits=17`` is full float64 precision, as
        ``params`` and ``stderr`` hold it). Without ``sigma`` there is no goodness of fit to report:
        χ² is then the residual sum of squares (in y's units squared), so the report says that σ was not
        given and what the covariance was scaled by, and shows no χ²/ν or p-value.

        >>> r = linear_regression([0.0, 1.0, 2.0], [1.0, 3.1, 4.9], sigma=0.1)
        >>> print(r.report())  # doctest: +NORMALIZE_WHITESPACE
        linear_regression (closed form), errors: absolute
          slope     = 1.950 ± 0.071
          intercept = 1.050 ± 0.091
        chi2 = 1.5, dof = 1, chi2/dof = 1.5, p-value = 0.220671
        >>> print(r.report(digits=8).splitlines()[1])
          slope     = 1.95 ± 0.070710678
        """
        names = list(self.param_names) or [f"p[{i}]" for i in range(self.params.size)]
        width = max(len(n) for n in names)
        what = "linear_regression" if self.method == "closed form" else "curve_fit"
        head = f"{what} ({_METHOD_NAMES.get(self.method, self.method)}), errors: {self.errors}"
        if self.method != "closed form":
            status = "converged" if self.converged else "NOT CONVERGED"
            head += f"; {status} after {self.n_iter} iterations, {self.n_eval} model evaluations"
        lines = [head]
        for name, p, s in zip(names, self.params, self.stderr, strict=True):
            shown = format_uncertainty(p, s) if digits is None else f"{p:.{digits}g} ± {s:.{digits}g}"
            lines.append(f"  {name.ljust(width)} = {shown}")
        d = 6 if digits is None else digits
        scale = (f"the covariance is scaled by chi2/dof = {self.reduced_chi2:.{d}g}" if self.dof > 0 else
                 "with dof = 0 the covariance cannot be scaled by chi2/dof, so it is inf")
        if self.sigma is None:
            lines.append(f"no sigma given: chi2 = {self.chi2:.{d}g} is the residual sum of squares (in y's units "
                         f"squared), not a goodness of fit (no chi2/dof, no p-value); dof = {self.dof}; {scale} "
                         f"(errors: relative)")
        else:
            lines.append(f"chi2 = {self.chi2:.{d}g}, dof = {self.dof}, chi2/dof = {self.reduced_chi2:.{d}g}, "
                         f"p-value = {self.p_value:.{d}g}")
            if self.errors == "relative":
                lines.append(f"errors relative: sigma only weights the points; {scale}")
        if not self.converged:
            lines.append(f"message: {self.message}")
        return _Report("\n".join(lines))


def format_uncertainty(value: float, err: float, digits: int = 2) -> str:
    """``value ± err``, the uncertainty rounded to ``digits`` significant digits and the value to the same place.

    Fixed-point for magnitudes from 1e-4 to 1e6, otherwise one power of ten for both. A zero,
    infinite or NaN uncertainty leaves the value at 6 significant digits.

    >>> format_uncertainty(2.00612, 0.03421)
    '2.006 ± 0.034'
    >>> format_uncertainty(123456.0, 789.0)
    '123460 ± 790'
    >>> format_uncertainty(2.0061e-7, 3.42e-9)
    '(2.006 ± 0.034)e-07'
    >>> format_uncertainty(0.99, 0.0996), format_uncertainty(1.5, float("inf"))
    ('0.99 ± 0.10', '1.5 ± inf')
    """
    value, err = float(value), float(err)
    if not (math.isfinite(value) and math.isfinite(err) and err > 0):
        return f"{value:.6g} ± {err:.2g}"
    e = math.floor(math.log10(err))
    if round(err, digits - 1 - e) >= 10.0 ** (e + 1):  # 0.0996 rounds up to 0.10: one more digit to the left
        e += 1
    places = digits - 1 - e  # decimal places kept (negative: tens, hundreds, ...)
    top = math.floor(math.log10(max(abs(value), err)))
    if -4 <= top < 6 and e >= -5:
        v, r = round(value, places) + 0.0, round(err, places)
        return f"{v:.{max(places, 0)}f} ± {r:.{max(places, 0)}f}"
    decimals = top - e + digits - 1
    scale = 10.0 ** top
    return f"({value / scale:.{decimals}f} ± {err / scale:.{decimals}f})e{top:+03d}"


# ----------------------------------------------------------------------------- input checks

def _array(name: str, what: str, value: Any) -> np.ndarray:
    try:
        arr = np.array(value.data if isinstance(value, Tensor) else value, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{name}: {what} must be numbers, got {type(value).__name__} ({e})") from None
    bad = ~np.isfinite(arr)
    if np.any(bad):
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        where = f"index {first[0]}" if len(first) == 1 else f"index {first}"
        kind = "NaN" if np.isnan(arr[first]) else "an infinity"
        raise ValueError(f"{name}: {what} contains {kind} at {where} ({int(bad.sum())} non-finite value"
                         f"{'s' if bad.sum() != 1 else ''}); remove or fix those points")
    return arr


def _check_data(name: str, x: Any, y: Any, sigma: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    xa, ya = _array(name, "x", x), _array(name, "y", y)
    if ya.ndim != 1:
        raise ValueError(f"{name}: y must be 1-D (one value per point), got shape {ya.shape}")
    if ya.size == 0:
        raise ValueError(f"{name}: no data points (y is empty)")
    if xa.ndim == 0 or xa.shape[-1] != ya.size:
        raise ValueError(f"{name}: x has shape {xa.shape} but y has shape {ya.shape}; x needs one value per point "
                         f"(shape ({ya.size},), or (k, {ya.size}) for k independent variables)")
    if sigma is None:
        return xa, ya, None
    sa = _array(name, "sigma", sigma)
    if sa.ndim == 0:
        sa = np.full(ya.shape, float(sa))
    if sa.shape != ya.shape:
        raise ValueError(f"{name}: sigma has shape {sa.shape} but y has shape {ya.shape}; give one sigma per point "
                         f"or a single number")
    if np.any(sa <= 0):
        i = int(np.argmax(sa <= 0))
        raise ValueError(f"{name}: sigma must be positive, but sigma[{i}] = {sa[i]:g}")
    return xa, ya, sa


def _check_errors(name: str, errors: str | None, sigma: np.ndarray | None) -> str:
    if errors is None:
        return "relative" if sigma is None else "absolute"
    if errors not in ("absolute", "relative"):
        raise ValueError(f"{name}: errors must be 'absolute' or 'relative', got {errors!r}")
    if errors == "absolute" and sigma is None:
        raise ValueError(f"{name}: errors='absolute' needs sigma (the 1σ uncertainty of each point)")
    return errors


def _evaluate(model: Callable[..., Any], x: np.ndarray, p: np.ndarray) -> np.ndarray:
    with no_grad(), np.errstate(all="ignore"):
        out = model(Tensor(x), Tensor(p))
    return np.asarray(out.data if isinstance(out, Tensor) else out, dtype=np.float64)


# ----------------------------------------------------------------------------- the model and its Jacobian

class _Model:
    """The model at fixed data: values, and autodiff Jacobians with respect to the parameters; calls counted.

    The Jacobian is forward mode (``tg.jacobian(mode="fwd")``): one recorded evaluation, then the n
    parameter basis vectors pushed through it as one batch, about the cost of a few evaluations for
    a handful of parameters, however many points.
    """

    def __init__(self, name: str, model: Callable[..., Any], x: np.ndarray, y: np.ndarray) -> None:
        self.name, self.model, self.n_eval, self.n_jac = name, model, 0, 0
        self.X = Tensor(x)  # a constant: no gradient flows to the data
        self.shape = y.shape
        self._out: Any = None
        self._jac = jacobian(self._traced, mode="fwd")
        self.checked = False

    def _traced(self, p: Tensor) -> Tensor:
        out = self.model(self.X, p)
        self._out = out  # the recorded evaluation: its value comes with the Jacobian for free
        return out

    def _check(self, out: Any) -> None:
        """The model's first output, checked before anything is built on it."""
        name = self.name
        if not isinstance(out, Tensor):
            raise ValueError(f"{name}: model(x, params) returned {type(out).__name__}, not a Tensor; write the model "
                             f"with Tensor ops on params (e.g. params[0] * tg.exp(-params[1] * x)) so it can be "
                             f"differentiated")
        if out.shape != self.shape:
            raise ValueError(f"{name}: model(x, params) returned shape {out.shape} but y has shape {self.shape}; "
                             f"the model must give one value per data point")
        if not out.requires_grad:
            raise ValueError(f"{name}: model(x, params) does not depend on params through Tensor ops; write it with "
                             f"Tensor ops on params so it can be differentiated")
        bad = ~np.isfinite(out.data)
        if np.any(bad):
            i = int(np.argmax(bad))
            raise ValueError(f"{name}: model(x, p0) is not finite at point {i} (value {out.data[i]}); choose p0 "
                             f"inside the model's domain")
        self.checked = True

    def value(self, p: np.ndarray) -> np.ndarray:
        """``model(x, p)`` without recording a graph."""
        self.n_eval += 1
        return _evaluate(self.model, self.X.data, p)

    def value_and_jacobian(self, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(model(x, p), ∂model/∂p)``; the Jacobian has shape (points, parameters)."""
        self.n_eval += 1
        self.n_jac += 1
        with np.errstate(all="ignore"):
            J = np.asarray(self._jac(p), dtype=np.float64)
        out = self._out
        if not self.checked:
            self._check(out)
        return np.asarray(out.data if isinstance(out, Tensor) else out, dtype=np.float64), J


# ----------------------------------------------------------------------------- curve_fit

def curve_fit(model: Callable[[Tensor, Tensor], Tensor], x: Any, y: Any, p0: Any, sigma: Any = None,
              errors: str | None = None, method: str = "lm", tol: float = 1e-10, max_iter: int | None = None,
              param_names: Sequence[str] | None = None) -> FitResult:
    """Fit ``model(x, params)`` to ``y`` by minimising χ² = Σ((y − model)/σ)²; autodiff Jacobians.

    ``model`` receives ``x`` as a constant Tensor and ``params`` as a 1-D Tensor and returns a
    Tensor of ``y``'s shape; SciPy's form ``model(x, a, b, ...)``, one argument per parameter, works too
    (and names the parameters in :meth:`FitResult.report`). ``r2`` of the result is the coefficient of
    determination 1 − χ²/χ²₀. ``sigma`` is a number or one positive value per point (default: all 1).
    ``errors`` sets the covariance convention (see the module docstring). ``method``: ``"lm"``
    (Levenberg-Marquardt with Marquardt's diagonal scaling), ``"gauss-newton"`` (with step halving),
    ``"gd"`` (gradient descent with a backtracking line search: slow, for comparison). ``"lm"`` and
    ``"gauss-newton"`` have converged when the full Gauss-Newton step from the current parameters is
    shorter than √tol standard errors (δᵀ JᵀWJ δ ≤ tol·χ²/ν, on the Jacobian there): with the default
    tol, the parameters are within 1e-5 of their uncertainties of the minimum. ``"gd"`` has converged
    when a step lowers χ² by less than ``tol``·χ².
    ``max_iter`` counts every trial step (default 200, 20 000 for ``"gd"``). The Jacobian is
    forward-mode autodiff, taken only at accepted parameters (a rejected trial costs one evaluation).

    A singular or ill-conditioned JᵀWJ gives a :class:`FitWarning` saying which parameters are not
    determined by the data; a singular one gives a covariance of ``inf`` (as scipy does), never
    ``None``. Bad input (shapes of x, y, σ that disagree; NaN or inf; σ ≤ 0; fewer points than
    parameters; a model returning the wrong shape) is a ``ValueError`` naming the argument.

    >>> import numpy as np, tinygrad_mvc as tg
    >>> x = np.linspace(0, 2, 9); y = 3 * np.exp(-1.5 * x)
    >>> r = curve_fit(lambda x, p: p[0] * tg.exp(-p[1] * x), x, y, p0=[1.0, 1.0])
    >>> r.params.round(8).tolist(), r.converged
    ([3.0, 1.5], True)
    """
    name = "curve_fit"
    if method not in METHODS:
        raise ValueError(f"{name}: method must be one of {', '.join(map(repr, METHODS))}, got {method!r}")
    if not callable(model):
        raise TypeError(f"{name}: model must be a function model(x, params), got {type(model).__name__}")
    xa, ya, sa = _check_data(name, x, y, sigma)
    errors = _check_errors(name, errors, sa)
    p = _array(name, "p0", p0)
    if p.ndim != 1 or p.size == 0:
        raise ValueError(f"{name}: p0 must be a non-empty 1-D array of starting values, got shape {p.shape}")
    model, spread_names = spread_model(name, model, p.size)  # SciPy's model(x, a, b, ...) as well as model(x, p)
    if param_names is None and spread_names is not None:
        param_names = spread_names
    if ya.size < p.size:
        raise ValueError(f"{name}: {ya.size} data points but {p.size} parameters; a fit needs at least as many points "
                         f"as parameters")
    names = _names(name, param_names, p.size)
    if not (tol > 0):
        raise ValueError(f"{name}: tol must be positive, got {tol!r}")
    if max_iter is None:
        max_iter = 20_000 if method == "gd" else 200
    w = None if sa is None else 1.0 / sa
    m = _Model(name, model, xa, ya)
    solver = {"lm": _levenberg_marquardt, "gauss-newton": _gauss_newton, "gd": _gradient_descent}[method]
    p, J, r, history, converged, message = solver(m, ya, w, p, tol, max_iter)
    return _finish(name, p, J, r, ya.size, errors, method, converged, message, history, m.n_eval, m.n_jac, names,
                   xa, ya, sa, model)


def _names(name: str, param_names: Sequence[str] | None, n: int) -> tuple[str, ...]:
    if param_names is None:
        return ()
    names = tuple(str(s) for s in param_names)
    if len(names) != n:
        raise ValueError(f"{name}: {len(names)} param_names for {n} parameters")
    return names


Solution = tuple[np.ndarray, np.ndarray, np.ndarray, list[np.ndarray], bool, str]


class _State:
    """Where a solver stands: parameters, weighted residuals r = (y − f)/σ, the weighted Jacobian J/σ, χ²."""

    def __init__(self, m: _Model, ya: np.ndarray, w: np.ndarray | None, p: np.ndarray) -> None:
        self.m, self.ya, self.w = m, ya, w
        self.move(p)

    def residuals(self, f: np.ndarray) -> np.ndarray:
        r = self.ya - f
        return r if self.w is None else r * self.w

    def trial(self, p: np.ndarray) -> float:
        """χ² at ``p`` (one evaluation, no Jacobian)."""
        r = self.residuals(self.m.value(p))
        return float(r @ r)

    def move(self, p: np.ndarray) -> None:
        """Go to ``p`` and take the Jacobian there (one recorded evaluation)."""
        self.take(self.look(p))

    def look(self, p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        """``(p, r, J, χ²)`` at ``p``, Jacobian included, without moving there."""
        f, J = self.m.value_and_jacobian(p)
        r = self.residuals(f)
        return p, r, (J if self.w is None else J * self.w[:, None]), float(r @ r)

    def take(self, point: tuple[np.ndarray, np.ndarray, np.ndarray, float]) -> None:
        self.p, self.r, self.J, self.chi2 = point
        self.A, self.g = self.J.T @ self.J, self.J.T @ self.r  # normal matrix JᵀWJ and JᵀWr (= −½∇χ²)

    def gain(self) -> float:
        """The decrease of χ² a full Gauss-Newton step would make on the local linear model: gᵀA⁻¹g."""
        step = _solve(self.A, self.g)
        return float(step @ self.g) if step is not None else float("inf")

    def done(self, history: list[np.ndarray], ok: bool, message: str) -> Solution:
        return self.p, self.J, self.r, history, ok, message


def _solve(M: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    try:
        x = np.linalg.solve(M, b)
    except np.linalg.LinAlgError:
        return None
    return x if np.all(np.isfinite(x)) else None


def _stationary(s: _State, tol: float) -> bool:
    """Converged: the remaining Gauss-Newton step is below √tol standard errors.

    gᵀA⁻¹g = δᵀAδ is the step's squared length in the metric of the inverse covariance, measured
    with the residual variance χ²/ν (so the test means the same with or without sigma, whatever
    the units of y).
    """
    dof = max(s.r.size - s.p.size, 1)
    return s.gain() <= tol * s.chi2 / dof + 1e-300 or _norm(s.g) == 0.0


def _levenberg_marquardt(m: _Model, ya: np.ndarray, w: np.ndarray | None, p: np.ndarray, tol: float,
                         max_iter: int) -> Solution:
    """Levenberg-Marquardt with Marquardt's scaling: (A + μ diag A) δ = JᵀWr, μ set by the gain ratio (Nielsen).

    Each trial point's Jacobian is taken together with its value: with this damping nearly every
    step is accepted, and the one recorded evaluation then serves both.
    """
    s = _State(m, ya, w, p)
    history = [p.copy()]
    if not np.isfinite(s.chi2):
        return s.done(history, False, "chi-squared is not finite at p0")
    mu, nu = 1e-3, 2.0  # relative to diag(A): Marquardt's scaling makes the damping dimensionless
    with np.errstate(all="ignore"):
        for _ in range(max_iter):
            if _stationary(s, tol):
                return s.done(history, True, f"converged after {len(history) - 1} steps")
            D = np.maximum(np.diag(s.A), 1e-300 + 1e-15 * float(np.max(np.diag(s.A))))
            delta = _solve(s.A + mu * np.diag(D), s.g)
            if delta is None:
                mu, nu = mu * nu, nu * 2
                if mu > 1e300:
                    return s.done(history, False, "the damped normal equations are singular")
                continue
            if _norm(delta) <= tol * (_norm(s.p) + tol):
                return s.done(history, True, f"converged after {len(history) - 1} steps: the step is below tol")
            new = s.look(s.p + delta)
            chi2_new = new[3]
            predicted = float(delta @ (mu * D * delta + s.g))
            rho = (s.chi2 - chi2_new) / predicted if predicted > 0 else -1.0
            if not (np.isfinite(chi2_new) and rho > 0):
                mu, nu = mu * nu, nu * 2
                if mu > 1e300:
                    return s.done(history, False, "no step decreases chi-squared (damping exhausted)")
                continue
            s.take(new)
            history.append(s.p.copy())
            mu *= max(1 / 3, 1 - (2 * rho - 1) ** 3)
            nu = 2.0
    return s.done(history, False, f"did not converge in max_iter={max_iter} steps")


def _gauss_newton(m: _Model, ya: np.ndarray, w: np.ndarray | None, p: np.ndarray, tol: float,
                  max_iter: int) -> Solution:
    """Gauss-Newton: δ = (JᵀWJ)⁻¹JᵀWr, halved until chi-squared decreases."""
    s = _State(m, ya, w, p)
    history = [p.copy()]
    if not np.isfinite(s.chi2):
        return s.done(history, False, "chi-squared is not finite at p0")
    trials = 0
    with np.errstate(all="ignore"):
        while trials < max_iter:
            if _stationary(s, tol):
                return s.done(history, True, f"converged after {len(history) - 1} steps")
            delta = _solve(s.A, s.g)
            if delta is None:
                return s.done(history, False, "JᵀWJ is singular: Gauss-Newton cannot take a step (try method='lm')")
            alpha = 1.0
            while True:
                trials += 1
                chi2_new = s.trial(s.p + alpha * delta)
                if np.isfinite(chi2_new) and chi2_new < s.chi2:
                    break
                alpha *= 0.5
                if alpha < 1e-10:
                    return s.done(history, False, "no fraction of the Gauss-Newton step decreases chi-squared")
                if trials >= max_iter:
                    return s.done(history, False, f"did not converge in max_iter={max_iter} steps")
            s.move(s.p + alpha * delta)
            history.append(s.p.copy())
    return s.done(history, False, f"did not converge in max_iter={max_iter} steps")


def _gradient_descent(m: _Model, ya: np.ndarray, w: np.ndarray | None, p: np.ndarray, tol: float,
                      max_iter: int) -> Solution:
    """Steepest descent on chi-squared, ∇χ² = −2 JᵀWr, with a backtracking (Armijo) line search.

    Converged when an accepted step lowers χ² by at most ``tol`` relative: gradient descent creeps,
    so the stationarity test of the Newton-type methods would rarely be reached.
    """
    s = _State(m, ya, w, p)
    history = [p.copy()]
    if not np.isfinite(s.chi2):
        return s.done(history, False, "chi-squared is not finite at p0")
    step, trials = 1.0, 0
    with np.errstate(all="ignore"):
        while trials < max_iter:
            grad = -2.0 * s.g
            gg = float(grad @ grad)
            if gg == 0.0:
                return s.done(history, True, "converged: the gradient of chi-squared is exactly zero")
            step *= 2.0  # try a longer step than last time, then backtrack
            while True:
                trials += 1
                chi2_new = s.trial(s.p - step * grad)
                if np.isfinite(chi2_new) and chi2_new <= s.chi2 - 1e-4 * step * gg:
                    break
                step *= 0.5
                if step * math.sqrt(gg) <= 1e-300:
                    return s.done(history, False, "the line search found no decrease of chi-squared")
                if trials >= max_iter:
                    return s.done(history, False, f"did not converge in max_iter={max_iter} steps (gradient "
                                                  f"descent is slow: try method='lm')")
            decrease = s.chi2 - chi2_new
            s.move(s.p - step * grad)
            history.append(s.p.copy())
            if decrease <= tol * s.chi2:
                return s.done(history, True, f"converged after {len(history) - 1} steps: chi-squared changed by "
                                             f"{decrease:.3g}")
    return s.done(history, False, f"did not converge in max_iter={max_iter} steps (gradient descent is slow: "
                                  f"try method='lm')")


def _norm(v: np.ndarray) -> float:
    return float(np.max(np.abs(v))) if v.size else 0.0


# ----------------------------------------------------------------------------- covariance and summary

def _covariance(name: str, J: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """(JᵀJ)⁻¹ for the weighted Jacobian J, with a FitWarning that says why when it is unreliable."""
    n = J.shape[1]
    label = list(names) or [f"p[{i}]" for i in range(n)]
    A = J.T @ J
    d = np.sqrt(np.diag(A))
    if not np.all(np.isfinite(A)):
        warnings.warn(f"{name}: the Jacobian is not finite at the solution; the covariance is undefined (inf)",
                      FitWarning, stacklevel=3)
        return np.full((n, n), np.inf)
    zero = [label[i] for i in range(n) if d[i] == 0]
    if zero:
        warnings.warn(f"{name}: the covariance is singular: the model does not depend on {', '.join(zero)} at the "
                      f"solution (a zero column of the Jacobian); those parameters are not determined by the data",
                      FitWarning, stacklevel=3)
        return np.full((n, n), np.inf)
    # Scale to unit diagonal first: the condition number then measures real degeneracy, not units.
    S = A / np.outer(d, d)
    evals, evecs = np.linalg.eigh(S)
    cond = evals[-1] / evals[0] if evals[0] > 0 else np.inf
    if cond > ILL_CONDITIONED:
        v = evecs[:, 0] / d
        v = v / np.max(np.abs(v))
        combo = " + ".join(f"{c:.3g}·{label[i]}" for i, c in enumerate(v) if abs(c) > 0.05).replace("+ -", "- ")
        what = "singular" if not np.isfinite(cond) or cond > 1 / np.finfo(float).eps else "ill-conditioned"
        warnings.warn(f"{name}: the covariance is {what} (condition number {cond:.3g} of the scaled JᵀWJ): the data "
                      f"hardly constrain the combination {combo}, so the parameters are nearly degenerate"
                      + ("" if what == "ill-conditioned" else "; covariance set to inf")
                      + ("; uncertainties may be inaccurate" if what == "ill-conditioned" else ""),
                      FitWarning, stacklevel=3)
        if what == "singular":
            return np.full((n, n), np.inf)
    return (evecs / evals) @ evecs.T / np.outer(d, d)


def _finish(name: str, p: np.ndarray, J: np.ndarray, r: np.ndarray, npts: int, errors: str, method: str,
            converged: bool, message: str, history: list[np.ndarray], n_eval: int, n_jac: int,
            names: tuple[str, ...], x: np.ndarray, y: np.ndarray, sigma: np.ndarray | None,
            model: Callable[..., Any]) -> FitResult:
    chi2 = float(r @ r)
    dof = npts - p.size
    cov = _covariance(name, J, names)
    if dof > 0:
        reduced = chi2 / dof
        p_value = chi2_sf(chi2, dof)
    else:
        reduced, p_value = float("nan"), float("nan")
    if errors == "relative":
        if dof > 0:
            cov = cov * reduced
        else:
            warnings.warn(f"{name}: {npts} points and {p.size} parameters leave no degrees of freedom, so errors="
                          f"'relative' cannot scale the covariance by chi2/dof; covariance set to inf", FitWarning,
                          stacklevel=3)
            cov = np.full_like(cov, np.inf)
    stderr = np.sqrt(np.abs(np.diag(cov)))
    if not converged:
        warnings.warn(f"{name}: {message}", FitWarning, stacklevel=3)
    return FitResult(params=p, covariance=cov, stderr=stderr, chi2=chi2, dof=dof, reduced_chi2=reduced,
                     p_value=p_value, converged=converged, n_iter=len(history) - 1, message=message,
                     history=np.array(history), method=method, errors=errors, residuals=r, n_eval=n_eval,
                     n_jac=n_jac, param_names=names, x=x, y=y, sigma=sigma, model=model,
                     r2=_determination(chi2, y, sigma))


def _determination(chi2: float, y: np.ndarray, sigma: np.ndarray | None) -> float:
    """r² = 1 − χ²/χ²₀, with χ²₀ the χ² of the best constant model (the weighted mean of y)."""
    w = np.ones_like(y) if sigma is None else 1.0 / np.broadcast_to(sigma, y.shape) ** 2
    chi2_0 = float(w @ (y - float(w @ y) / w.sum()) ** 2)
    return 1.0 - chi2 / chi2_0 if chi2_0 > 0 else float("nan")


# ----------------------------------------------------------------------------- linear regression

def _line(x: Tensor, p: Tensor) -> Tensor:
    return p[0] * x + p[1]


def linear_regression(x: Any, y: Any, sigma: Any = None, errors: str | None = None) -> FitResult:
    """The straight line y = slope·x + intercept by weighted least squares, in closed form.

    ``params = [slope, intercept]`` (numpy.polyfit's order), with the covariance and ``errors``
    conventions of :func:`curve_fit` (absolute when ``sigma`` is given, else scaled by χ²/ν). The
    sums are taken about the weighted mean of x, which keeps them accurate for x far from 0.

    ``r`` is Pearson's correlation coefficient (weighted by 1/σ² when ``sigma`` is given) and ``r2``
    the coefficient of determination, ``r ** 2`` for a line: the course's quiz asks for both.

    >>> r = linear_regression([1.0, 2.0, 3.0, 4.0], [2.1, 3.9, 6.2, 7.8])
    >>> r.params.round(6).tolist(), r.dof
    ([1.94, 0.15], 2)
    >>> round(r.r, 6), round(r.r2, 6)
    (0.997828, 0.995661)
    """
    name = "linear_regression"
    xa, ya, sa = _check_data(name, x, y, sigma)
    if xa.ndim != 1:
        raise ValueError(f"{name}: x must be 1-D, got shape {xa.shape}")
    if ya.size < 2:
        raise ValueError(f"{name}: {ya.size} data point; a line needs at least 2")
    errors = _check_errors(name, errors, sa)
    w = np.ones_like(ya) if sa is None else 1.0 / sa ** 2
    S = w.sum()
    xbar = float(w @ xa) / S
    t = xa - xbar
    Stt = float(w @ (t * t))
    if Stt <= 0:
        raise ValueError(f"{name}: every x is {xa[0]:g}: the slope is not determined (x needs two distinct values)")
    slope = float(w @ (t * ya)) / Stt
    intercept = float(w @ ya) / S - slope * xbar
    u = ya - float(w @ ya) / S
    Suu = float(w @ (u * u))
    pearson = float(w @ (t * u)) / math.sqrt(Stt * Suu) if Suu > 0 else float("nan")
    cov = np.array([[1 / Stt, -xbar / Stt], [-xbar / Stt, 1 / S + xbar ** 2 / Stt]])
    p = np.array([slope, intercept])
    r = (ya - (slope * xa + intercept)) * np.sqrt(w)
    chi2 = float(r @ r)
    dof = ya.size - 2
    reduced = chi2 / dof if dof > 0 else float("nan")
    if errors == "relative":
        if dof > 0:
            cov = cov * reduced
        else:
            warnings.warn(f"{name}: 2 points leave no degrees of freedom, so errors='relative' cannot scale the "
                          f"covariance by chi2/dof; covariance set to inf", FitWarning, stacklevel=2)
            cov = np.full_like(cov, np.inf)
    return FitResult(params=p, covariance=cov, stderr=np.sqrt(np.diag(cov)), chi2=chi2, dof=dof,
                     reduced_chi2=reduced, p_value=chi2_sf(chi2, dof) if dof > 0 else float("nan"), converged=True,
                     n_iter=0, message="closed form", history=p[None, :].copy(), method="closed form", errors=errors,
                     residuals=r, param_names=("slope", "intercept"), x=xa, y=ya, sigma=sa, model=_line,
                     r=pearson, r2=_determination(chi2, ya, sa))


# ----------------------------------------------------------------------------- the p-value of chi-squared

_EPS = float(np.finfo(np.float64).eps)
_TINY = float(np.finfo(np.float64).tiny) / _EPS


def gammaincc(a: float, x: float) -> float:
    """The regularised upper incomplete gamma function Q(a, x) = Γ(a, x)/Γ(a), for a > 0 and x ≥ 0.

    The series for P = 1 − Q when x < a + 1, and the continued fraction for Q (modified Lentz)
    otherwise, as in Numerical Recipes (§6.2); each is summed until its terms stop changing the
    result in float64. Q is computed directly where it is small, so tiny p-values keep their
    relative accuracy.

    >>> round(gammaincc(1.0, 2.0), 12) == round(math.exp(-2.0), 12)     # Q(1, x) = e^(-x)
    True
    """
    a, x = float(a), float(x)
    if not a > 0 or math.isinf(a):
        raise ValueError(f"gammaincc: a must be positive and finite, got {a}")
    if not x >= 0:
        raise ValueError(f"gammaincc: x must be >= 0, got {x}")
    if x == 0:
        return 1.0
    if math.isinf(x):
        return 0.0
    log_prefactor = -x + a * math.log(x) - math.lgamma(a)
    # Terms needed grow like sqrt(a) near x ≈ a; the bound only guards against a loop that never ends.
    max_terms = int(1000 + 50 * math.sqrt(a))
    if x < a + 1:
        ap, term = a, 1.0 / a
        total = term
        for _ in range(max_terms):
            ap += 1.0
            term *= x / ap
            total += term
            if abs(term) < abs(total) * _EPS:
                break
        return max(0.0, 1.0 - total * math.exp(log_prefactor))
    b = x + 1.0 - a
    c = 1.0 / _TINY
    d = 1.0 / b
    h = d
    for i in range(1, max_terms):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        if abs(d) < _TINY:
            d = _TINY
        c = b + an / c
        if abs(c) < _TINY:
            c = _TINY
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPS:
            break
    return math.exp(log_prefactor) * h


def chi2_sf(chi2: float, dof: int) -> float:
    """The p-value of χ²: the probability that a χ² variable with ``dof`` degrees of freedom is at least ``chi2``.

    Equal to Q(ν/2, χ²/2) (:func:`gammaincc`); the same as ``scipy.stats.chi2.sf(chi2, dof)``.

    >>> round(chi2_sf(3.84146, 1), 5)       # the 95% point of one degree of freedom
    0.05
    """
    if not dof > 0:
        raise ValueError(f"chi2_sf: dof must be positive, got {dof}")
    if chi2 < 0 or math.isnan(chi2):
        raise ValueError(f"chi2_sf: chi2 must be >= 0, got {chi2}")
    return gammaincc(dof / 2.0, chi2 / 2.0)
