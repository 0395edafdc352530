"""One Newton step rule, shared by :class:`tg.optim.Newton <tinygrad_mvc.optim.Newton>` and
:func:`tg.optimize.newton_minimize <tinygrad_mvc.optimize.newton_minimize>`, and the box and step cap of
``tg.optimize``.

A step from ``x`` (gradient ``g``, Hessian ``H``) has a direction and a length:

- **direction** (:func:`direction`): the Newton direction ``d = −(H + δI)⁻¹g`` (δ the optimizer's
  damping, 0 for ``newton_minimize``) where that matrix is positive definite (``"newton"``);
  otherwise a *modified Hessian*: ``H + τI`` with ``τ = −λ_min + 10⁻³·max(1, |λ|_max)``, the smallest
  shift that leaves every eigenvalue safely positive, so ``d`` goes downhill (``"shifted"``); a
  Hessian that is not finite gives ``d = −g`` (``"gradient"``). ``modify=False`` takes the plain step
  ``−H⁻¹g`` whatever the signs of H (``"pure"``): it heads for the nearest stationary point of the
  quadratic model, a maximum or a saddle as readily as a minimum.
- **length** (:func:`search`): ``t = 1`` first. If Armijo's condition
  ``f(x + t·d) ≤ f(x) + 10⁻⁴·t·gᵀd`` holds, the step is doubled while the condition still holds and
  ``f`` keeps falling, up to ``t = GROW_MAX``; otherwise it is halved until the condition holds. So a
  shifted step that is far too short (a nearly flat start, where ``g`` and ``H`` are tiny) grows to a
  useful length in a few trials, and a plain Newton step near the minimum stays ``t = 1`` (doubling a
  step onto a quadratic's minimum does not lower ``f``), keeping Newton's quadratic convergence.

Why a modified Hessian and not a trust region: where H is positive definite it *is* Newton's step, the
step the course teaches, and its eigenvalues are needed anyway to name the kind of point reached; the
growing line search gives what a trust region's expanding radius gives (long steps across flat
ground) without a subproblem solver, and ``max_step`` caps the length as a fixed trust radius would.

A :class:`Box` holds ``bounds=[(lo, hi), ...]`` and ``max_step``: a step is first shortened to
length ``max_step`` (Euclidean), then the point is projected onto the box. Coordinates that sit on a
bound with the gradient pushing outwards are held there (:meth:`Box.held`): the direction is taken in
the other coordinates, and the projected gradient (zero in the held ones) is what convergence tests.

>>> import numpy as np
>>> H, g = np.array([[2.0, 0.0], [0.0, -1.0]]), np.array([2.0, 1.0])
>>> direction(H, g)[1], direction(H, g, modify=False)        # a saddle: shifted, or the pure step
('shifted', (array([-1.,  1.]), 'pure'))
>>> step = search(lambda v: float((v ** 2).sum()), np.array([4.0]), 16.0, np.array([8.0]), np.array([-0.5]))
>>> step.t, step.x.tolist()                                   # 1 → 2 → 4 lands on the minimum; 8 overshoots
(8.0, [0.0])
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["GROW_MAX", "ARMIJO", "Step", "Box", "direction", "search", "newton_step"]

GROW_MAX = 2.0 ** 10
"""The line search doubles a step at most up to this multiple of the Newton direction."""

ARMIJO = 1e-4
"""Armijo's sufficient-decrease constant: accept ``f(x + t d) ≤ f(x) + ARMIJO · gᵀ(x_new − x)``."""

HALVINGS = 60
"""The line search halves the step at most this many times before giving up."""


@dataclass
class Step:
    """One accepted step: the new point ``x`` (flat), ``value`` = f there, ``t`` the multiple of the
    direction taken, ``kind`` of direction (``"newton"``, ``"shifted"``, ``"gradient"``, ``"pure"``),
    whether ``max_step`` shortened it (``capped``) and whether a bound cut it (``clipped``)."""

    x: np.ndarray
    value: float
    t: float
    kind: str
    capped: bool = False
    clipped: bool = False


class Box:
    """Bounds ``[(lo, hi), ...]`` (one pair per entry, ``None`` for an open side; one pair alone applies
    to every entry) and a step cap ``max_step`` (largest Euclidean step length, applied before the bounds).

    >>> box = Box("demo", [(0, 6), (None, 6)], 2, max_step=2.0)
    >>> box.move(np.array([1.0, 1.0]), np.array([30.0, 40.0]))    # capped to length 2, then inside
    (array([2.2, 2.6]), True, False)
    >>> box.move(np.array([5.5, 1.0]), np.array([2.0, 0.0]))      # length 2, then projected onto x ≤ 6
    (array([6., 1.]), False, True)
    """

    def __init__(self, name: str, bounds: Any, n: int, max_step: float | None = None) -> None:
        self.name = name
        self.lower = np.full(n, -np.inf)
        self.upper = np.full(n, np.inf)
        if bounds is not None:
            pairs = list(bounds)
            if len(pairs) == 2 and all(b is None or np.ndim(b) == 0 for b in pairs):
                pairs = [tuple(pairs)] * n  # one (lo, hi) pair for every entry
            if len(pairs) != n:
                raise ValueError(f"{name}: bounds has {len(pairs)} pairs but x0 has {n} entries; give one (lo, hi) "
                                 f"pair per entry (None for an open side)")
            for i, pair in enumerate(pairs):
                lo, hi = (None, None) if pair is None else _pair(name, i, pair)
                self.lower[i] = -np.inf if lo is None else lo
                self.upper[i] = np.inf if hi is None else hi
                if not self.lower[i] <= self.upper[i]:
                    raise ValueError(f"{name}: bounds[{i}] = {pair!r} has lo > hi")
        if max_step is not None and not (isinstance(max_step, (int, float, np.integer, np.floating))
                                         and np.isfinite(max_step) and max_step > 0):
            raise ValueError(f"{name}: max_step must be a positive number (a length), got {max_step!r}")
        self.max_step = None if max_step is None else float(max_step)
        self.bounded = bool(np.any(np.isfinite(self.lower)) or np.any(np.isfinite(self.upper)))

    def check_start(self, x: np.ndarray) -> None:
        """A start outside the box is an error (the history starts at x0, so it is not moved silently)."""
        bad = np.flatnonzero((x.reshape(-1) < self.lower) | (x.reshape(-1) > self.upper))
        if bad.size:
            i = int(bad[0])
            raise ValueError(f"{self.name}: x0[{i}] = {x.reshape(-1)[i]:g} is outside its bounds "
                             f"({self.lower[i]:g}, {self.upper[i]:g}); start inside the box")

    def cap(self, step: np.ndarray) -> tuple[np.ndarray, bool]:
        """``step`` shortened to length ``max_step`` if longer, and whether it was."""
        length = float(np.linalg.norm(step))
        if self.max_step is None or not length > self.max_step:
            return step, False
        return step * (self.max_step / length), True

    def move(self, x: np.ndarray, step: np.ndarray) -> tuple[np.ndarray, bool, bool]:
        """``(the new point, capped, clipped)``: ``x + step`` with the step capped, then projected onto the box."""
        step, capped = self.cap(step)
        new = x + step
        if not self.bounded:
            return new, capped, False
        inside = np.clip(new.reshape(-1), self.lower, self.upper).reshape(new.shape)
        return inside, capped, bool(np.any(inside != new))

    def held(self, x: np.ndarray, g: np.ndarray) -> np.ndarray:
        """The coordinates on a bound whose gradient pushes outwards (descent would leave the box)."""
        x, g = x.reshape(-1), g.reshape(-1)
        return ((x <= self.lower) & (g > 0)) | ((x >= self.upper) & (g < 0))

    def projected_gradient(self, x: np.ndarray, g: np.ndarray) -> np.ndarray:
        """The gradient with the held coordinates set to 0: zero at a minimum on the boundary."""
        if not self.bounded:
            return g
        return np.where(self.held(x, g).reshape(g.shape), 0.0, g)

    def on_bound(self, x: np.ndarray) -> bool:
        x = x.reshape(-1)
        return bool(np.any((x <= self.lower) | (x >= self.upper)))

    def note(self, x: np.ndarray, n_capped: int, n_clipped: int) -> str:
        """What the box and the cap did, for a result's message ("" if nothing)."""
        parts = []
        if n_capped:
            parts.append(f"{n_capped} step{'s' if n_capped > 1 else ''} capped at max_step={self.max_step:g}")
        if n_clipped:
            parts.append(f"{n_clipped} step{'s' if n_clipped > 1 else ''} cut by a bound")
        if self.bounded and self.on_bound(x):
            flat = x.reshape(-1)
            at = [i for i in range(flat.size) if flat[i] <= self.lower[i] or flat[i] >= self.upper[i]]
            parts.append("x ends on a bound (" + ", ".join(f"x[{i}] = {flat[i]:g}" for i in at) + ")")
        return "; ".join(parts)


def _pair(name: str, i: int, pair: Any) -> tuple[float | None, float | None]:
    try:
        lo, hi = pair
    except (TypeError, ValueError):
        raise ValueError(f"{name}: bounds[{i}] = {pair!r} is not a (lo, hi) pair") from None
    out: list[float | None] = []
    for side in (lo, hi):
        try:
            value = None if side is None else float(side)
        except (TypeError, ValueError):
            value = float("nan")
        if value is not None and (np.ndim(side) != 0 or np.isnan(value)):
            raise ValueError(f"{name}: bounds[{i}] = {pair!r}: each side is a number or None")
        out.append(value)
    return out[0], out[1]


def direction(H: np.ndarray, g: np.ndarray, damping: float = 0.0,
              modify: bool = True) -> tuple[np.ndarray | None, str]:
    """``(d, kind)``: the Newton direction of the rule above (``d`` is None, with the reason as ``kind``,
    only for a singular Hessian with ``modify=False``). ``H`` is n × n, ``g`` has n entries.

    >>> direction(np.eye(2) * 2, np.array([2.0, -4.0]))
    (array([-1.,  2.]), 'newton')
    """
    n = g.size
    M = 0.5 * (H + H.T) + damping * np.eye(n)
    if not np.all(np.isfinite(M)):
        return (-g, "gradient") if modify else (None, "the Hessian is not finite")
    if not modify:
        try:
            d = -np.linalg.solve(M, g)
        except np.linalg.LinAlgError:
            return None, "singular Hessian"
        return (d, "pure") if np.all(np.isfinite(d)) else (None, "singular Hessian")
    try:
        chol = np.linalg.cholesky(M)  # fails unless positive definite
        d = -np.linalg.solve(chol.T, np.linalg.solve(chol, g))
        if np.all(np.isfinite(d)):
            return d, "newton"
    except np.linalg.LinAlgError:
        pass
    w = np.linalg.eigvalsh(M)
    tau = -w[0] + 1e-3 * max(1.0, float(np.max(np.abs(w))))  # every eigenvalue ≥ 1e-3 of the largest
    try:
        return -np.linalg.solve(M + tau * np.eye(n), g), "shifted"
    except np.linalg.LinAlgError:
        return -g, "gradient"


def search(value_at: Callable[[np.ndarray], float], x: np.ndarray, f0: float, g: np.ndarray, d: np.ndarray,
           kind: str = "newton", box: Box | None = None, line_search: bool = True,
           grow: bool = True) -> Step | None:
    """The step along ``d`` from ``x`` (value ``f0``, gradient ``g``): Armijo with growth and backtracking
    as above, inside ``box``; None when no tried length lowers ``f`` enough (or ``d`` is not downhill).
    ``line_search=False``: the full step (``t = 1``, capped and projected), whatever ``f`` does there.
    """
    box = box or Box("search", None, x.size)
    length = float(np.linalg.norm(d))
    t_cap = np.inf if box.max_step is None or length == 0 else box.max_step / length

    def trial(t: float) -> tuple[np.ndarray, float, bool]:
        new, _, clipped = box.move(x, t * d)
        return new, float(value_at(new)), clipped

    def made(t: float, new: np.ndarray, val: float, clipped: bool) -> Step:
        return Step(new, val, t, kind, capped=bool(t >= t_cap * (1 - 1e-12)), clipped=clipped)

    t = min(1.0, t_cap)
    if not line_search:
        return made(t, *trial(t))
    if not float(g @ d) < 0:
        return None

    def armijo(new: np.ndarray, val: float) -> bool:
        return bool(np.isfinite(val) and val <= f0 + ARMIJO * float(g @ (new - x).reshape(-1)))

    new, val, clipped = trial(t)
    if armijo(new, val):
        top = min(GROW_MAX, t_cap)
        while grow and t < top:
            t2 = min(2 * t, top)
            new2, val2, clipped2 = trial(t2)
            if not (armijo(new2, val2) and val2 < val) or np.array_equal(new2, new):
                break
            t, new, val, clipped = t2, new2, val2, clipped2
        return made(t, new, val, clipped)
    for _ in range(HALVINGS):
        t *= 0.5
        new, val, clipped = trial(t)
        if armijo(new, val):
            return made(t, new, val, clipped)
    return None


def newton_step(value_at: Callable[[np.ndarray], float], x: np.ndarray, f0: float, g: np.ndarray, H: np.ndarray,
                damping: float = 0.0, modify: bool = True, line_search: bool = True,
                box: Box | None = None) -> tuple[Step | None, str]:
    """``(step, kind)``: the direction then the length, as above; coordinates held at a bound do not move.
    ``step`` is None when no step lowers ``f`` (``kind`` then says which direction failed) or, with
    ``modify=False``, when the Hessian is singular (``kind`` is the reason).

    >>> f = lambda v: float(-np.exp(-((v - 3.0) ** 2).sum() / 2))
    >>> x = np.zeros(2); e = np.exp(-9.0)
    >>> g, H = -3 * e * np.ones(2), e * (np.eye(2) - 9 * np.ones((2, 2)))
    >>> step, kind = newton_step(f, x, f(x), g, H)
    >>> kind, step.t, step.x.round(3).tolist()               # shifted, then doubled 1 → 2 → 4 → 8
    ('shifted', 8.0, [2.962, 2.962])
    """
    g, x = g.reshape(-1), x.reshape(-1)
    free = ~box.held(x, g) if box is not None and box.bounded else np.ones(g.size, dtype=bool)
    d = np.zeros_like(g)
    if free.any():
        sub, kind = direction(H[np.ix_(free, free)], g[free], damping, modify)
        if sub is None:
            return None, kind
        d[free] = sub
    else:
        kind = "newton"
    use_search = line_search and modify
    return search(value_at, x, f0, g, d, kind, box, line_search=use_search), kind

