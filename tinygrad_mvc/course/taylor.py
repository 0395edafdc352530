"""Course topic 4, Taylor series and linearisation: polynomial approximations from exact derivatives.

Job ``taylor_series``: exp, sin and cos, a series with a radius of convergence, and a 2-D quadratic model.
The course's Taylor module, with every coefficient f⁽ᵏ⁾(x₀)/k! computed by differentiating the
recorded derivative again (tg.taylor), and checked against the series from the textbook:

- taylor_exp.png          exp(x) around 0, orders 0..6 (coefficients 1/k!)
- taylor_sin_cos.png      sin and cos around 0, orders 0..6 (alternating odd / even terms)
- taylor_radius.png       1/(1 + x²) around 0: the series 1 − x² + x⁴ − ... converges only for |x| < 1,
                          the distance to the complex poles ±i, however many terms are added
- taylor_2d.png           f(x, y) = sin(x)·cos(y) + x²/4 around (0.5, 0.3): f, its linearisation and its
                          quadratic model f(x₀) + ∇f·d + dᵀ(½H)d as contours (tg.taylor with a vector x₀)
- taylor_surface.png      the same as 3-D surfaces: f with the tangent plane, and f with the quadratic model
                          (tg.viz.plot_taylor_surface)

The heart of it:  p = tg.taylor(tg.exp, 0.0, 6); p.coefficients; p(0.5); tg.viz.plot_taylor(f, x0, orders);
tg.viz.plot_taylor_surface(f, x0, orders=(1, 2))
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

import tinygrad_mvc as tg

from .jobs import Job, JobResult, save_figures

__all__ = ["TITLE", "SUMMARY", "JOBS", "runge", "surface", "textbook", "check_coefficients", "run"]

TITLE = "Taylor series and linearisation"
SUMMARY = "approximating a function near a point by polynomials built from its derivatives"

NAME = "taylor_series"
ORDERS = tuple(range(7))
TOL = 1e-12  # autodiff coefficients must equal the textbook series to rounding


def runge(x: tg.Tensor) -> tg.Tensor:
    """1 / (1 + x²): smooth on the whole real line, yet its series at 0 has radius 1."""
    return 1 / (1 + x * x)


def surface(v: tg.Tensor) -> tg.Tensor:
    """The 2-D example: sin(x)·cos(y) + x²/4."""
    return tg.sin(v[0]) * tg.cos(v[1]) + v[0] ** 2 / 4


def textbook() -> dict[str, tuple[object, np.ndarray]]:
    """Each 1-D example with the coefficients of its series at 0, up to order 6, worked out by hand."""
    k = np.arange(7)
    factorial = np.array([math.factorial(i) for i in k], dtype=float)
    sin_series = np.where(k % 2 == 1, (-1.0) ** ((k - 1) // 2), 0.0) / factorial
    cos_series = np.where(k % 2 == 0, (-1.0) ** (k // 2), 0.0) / factorial
    runge_series = np.where(k % 2 == 0, (-1.0) ** (k // 2), 0.0)
    return {"exp": (tg.exp, 1 / factorial), "sin": (tg.sin, sin_series), "cos": (tg.cos, cos_series),
            "1/(1+x^2)": (runge, runge_series)}


def check_coefficients() -> tuple[list[str], float]:
    """The autodiff coefficients beside the textbook's, and the largest difference."""
    lines, worst = [], 0.0
    for name, (f, expected) in textbook().items():
        got = tg.taylor(f, 0.0, 6).coefficients
        worst = max(worst, float(np.max(np.abs(got - expected))))
        lines.append(f"  {name:10} " + " ".join(f"{c + 0.0:+.6f}" for c in got))  # + 0.0 prints -0 as 0
    return lines, worst


def check_quadratic_model(x0: np.ndarray) -> float:
    """How well the quadratic model matches f near x₀: the error must shrink like |d|³."""
    model = tg.taylor(surface, x0, 2)
    errors = []
    for h in (1e-1, 1e-2):
        d = np.array([h, -h])
        errors.append(abs(model(x0 + d) - surface(tg.tensor(x0 + d)).item()))
    return errors[0] / max(errors[1], 1e-300)  # about 10³ for a correct second-order model


def run(out_dir: Path) -> JobResult:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    result = JobResult(NAME)
    lines, worst = check_coefficients()
    result.summary += ["Taylor coefficients f^(k)(0)/k!, k = 0..6, by autodiff:", *lines,
                       f"largest difference from the textbook series: {worst:.1e}"]
    if worst > TOL:
        result.ok, result.failure = False, f"coefficients disagree with the series by {worst:.1e} > {TOL:.0e}"

    figures = {}
    fig = tg.viz.plot_taylor(tg.exp, 0.0, orders=ORDERS, xs=np.linspace(-3, 3, 400),
                             title="exp(x) and its Taylor polynomials at 0")
    figures["taylor_exp.png"] = (fig, "exp(x) and its Taylor polynomials at 0 of orders 0 to 6 (coefficients "
                                      "1/k!): each added term hugs the curve over a wider range.")

    fig, axes = plt.subplots(1, 2, figsize=(13, 4.2), layout="constrained")  # room for each legend
    for ax, f in zip(axes, (tg.sin, tg.cos), strict=True):
        tg.viz.plot_taylor(f, 0.0, orders=ORDERS, xs=np.linspace(-2 * np.pi, 2 * np.pi, 500), ax=ax,
                           title=f"{f.__name__}(x) and its Taylor polynomials at 0")
    figures["taylor_sin_cos.png"] = (fig, "sin and cos with their Taylor polynomials at 0: sin keeps only the odd "
                                          "powers, cos only the even ones, with alternating signs.")

    fig = tg.viz.plot_taylor(runge, 0.0, orders=ORDERS, xs=np.linspace(-2, 2, 400),
                             title="1/(1+x²): the series at 0 converges only for |x| < 1")
    ax = fig.axes[0]
    ax.lines[0].set_label("1/(1+x²)")  # the function's own name, runge, means nothing to the reader
    ax.get_legend().get_texts()[0].set_text("1/(1+x²)")
    for edge in (-1, 1):
        ax.axvline(edge, color="crimson", lw=1, ls=":")
    ax.text(1.03, 0.05, "radius of convergence |x| = 1\n(poles at ±i)", color="crimson", fontsize="small",
            transform=ax.get_xaxis_transform())
    figures["taylor_radius.png"] = (fig, "1/(1 + x²) is smooth everywhere, yet its series at 0, 1 − x² + x⁴ − …, "
                                         "converges only for |x| < 1: more terms do not help outside.")

    x0 = np.array([0.5, 0.3])
    fig = tg.viz.plot_taylor(surface, x0, orders=(1, 2),
                             title="sin(x)·cos(y) + x²/4: linearisation and quadratic model at (0.5, 0.3)")
    figures["taylor_2d.png"] = (fig, "A function of two variables near (0.5, 0.3): its linearisation (a plane, "
                                     "from ∇f) and its quadratic model (adding the Hessian) as contours.")
    fig = tg.viz.plot_taylor_surface(surface, x0, orders=(1, 2), radius=1.2, labels=("x", "y"),
                                     title="sin(x)·cos(y) + x²/4 near (0.5, 0.3) and its Taylor models")
    for ax in fig.axes:  # seen from the −x, −y side: from the default side the tangent plane is edge-on
        ax.view_init(elev=24, azim=-120)
        ax.zaxis.set_rotate_label(False)  # upright on this side, not mirrored
        ax.set_zlabel(ax.get_zlabel(), rotation=90)
    figures["taylor_surface.png"] = (fig, "The same function as a surface with its tangent plane (order 1, from ∇f) "
                                          "and its quadratic model (order 2, adding the Hessian) touching it at "
                                          "(0.5, 0.3).")
    ratio = check_quadratic_model(x0)
    result.summary.append(f"quadratic model error shrinks by {ratio:.0f}x when the step shrinks 10x "
                          f"(third order: about 1000x)")
    if not 300 < ratio < 3000:
        result.ok, result.failure = False, f"the quadratic model's error shrinks {ratio:.0f}x, not about 1000x"

    save_figures(result, out_dir, figures)
    return result


JOBS = (Job(NAME, "Taylor polynomials of exp, sin, cos and 1/(1 + x²) by autodiff, and a 2-D function's tangent "
                  "plane and quadratic model as contours and surfaces",
            run),)
