"""Functions the way the course writes them: ``f(x, y)`` with separate scalar arguments, or ``f(v)``.

The optimisers, the fitters and the plots work on one vector ``v``. A student writes
``f = lambda x, y: x**2 + y**2`` as the course does; :func:`vector_function` turns that into a
function of one vector (``f(v[0], v[1])``) and leaves a one-argument ``f(v)`` as it is. Which form a
function has is read from its signature: two or more required positional parameters (or only
``*args`` with a point of two or more entries) mean separate arguments. Their names come back too,
so a plot can label its axes ``x`` and ``y`` (or ``mu`` and ``sigma``) without being told.

>>> import numpy as np
>>> import tinygrad_mvc as tg
>>> f, names = vector_function("demo", lambda x, y: x * y ** 2, 2)
>>> names, float(f(tg.tensor([3.0, 2.0])))
(('x', 'y'), 12.0)
>>> vector_function("demo", lambda v: (v ** 2).sum(), 2)[1] is None
True
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

__all__ = ["positional_arity", "vector_function", "spread_model"]


def positional_arity(f: Callable[..., Any]) -> tuple[int, tuple[str, ...], bool] | None:
    """``(required positional count, their names, takes *args)`` of ``f``, or None if it has no signature.

    Parameters with defaults, keyword-only parameters and ``**kwargs`` do not count.

    >>> positional_arity(lambda x, y, scale=1.0: x)
    (2, ('x', 'y'), False)
    """
    try:
        sig = inspect.signature(f)
    except (TypeError, ValueError):  # builtins and ufuncs without a signature: one argument, as NumPy calls them
        return None
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    required = [p.name for p in sig.parameters.values() if p.kind in kinds and p.default is inspect.Parameter.empty]
    star = any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in sig.parameters.values())
    return len(required), tuple(required), star


def vector_function(name: str, f: Callable[..., Any], size: int) -> tuple[Callable[[Any], Any], tuple[str, ...] | None]:
    """``(g, names)``: ``g(v)`` calls ``f(v)`` or, for ``f(x, y, ...)``, ``f(v[0], v[1], ...)``.

    ``size`` is the number of entries of the point (``x0``). ``names`` are the parameter names when
    ``f`` takes separate arguments, else None. A function with more than one required argument whose
    count differs from ``size`` is a ``TypeError`` naming both, raised here rather than as Python's
    bare "missing argument" deep inside an iteration.

    >>> g, names = vector_function("gradient_descent", lambda x, y: x + y, 2)
    >>> names
    ('x', 'y')
    """
    if not callable(f):
        raise TypeError(f"{name}: f must be a function, got {type(f).__name__}")
    names = _separate(name, f, size, 0, "x", lambda k, listed: (
        f"f takes {k} separate arguments ({listed}) but the start point has {size} entries; give x0 with {k} "
        f"entries, or write f(v) of one vector"))
    if names is None:
        return f, None

    def spread(v: Any) -> Any:
        return f(*(v[i] for i in range(size)))

    return _wrapping(spread, f), names


def spread_model(name: str, model: Callable[..., Any],
                 size: int) -> tuple[Callable[[Any, Any], Any], tuple[str, ...] | None]:
    """For fitters: ``model(x, params)`` stays; ``model(x, a, b, ...)`` (SciPy's ``curve_fit`` form) becomes
    ``model(x, params)`` calling ``model(x, params[0], params[1], ...)``. ``names`` as for :func:`vector_function`.

    >>> m, names = spread_model("curve_fit", lambda x, a, b: a * x + b, 2)
    >>> names, m(2.0, [3.0, 1.0])
    (('a', 'b'), 7.0)
    """
    if not callable(model):
        raise TypeError(f"{name}: model must be a function, got {type(model).__name__}")
    names = _separate(name, model, size, 1, "p", lambda k, listed: (
        f"model takes x and {k} parameters ({listed}) but p0 has {size} entries; give p0 with {k} entries, or "
        f"write model(x, params)"))
    if names is None:
        return model, None

    def spread(x: Any, params: Any) -> Any:
        return model(x, *(params[i] for i in range(size)))

    return _wrapping(spread, model), names


def _separate(name: str, f: Callable[..., Any], size: int, lead: int, prefix: str,
              mismatch: Callable[[int, str], str]) -> tuple[str, ...] | None:
    """The names of ``f``'s separate parameters after its first ``lead`` ones, or None when ``f`` takes the
    point as one argument. Two or more required ones count, or only ``*args`` with a point of at least
    ``2 - lead`` entries; a count other than ``size`` is a ``TypeError`` with ``mismatch(count, names)``.
    Parameters of ``*args`` are named ``prefix0``, ``prefix1``, ..."""
    found = positional_arity(f)
    if found is None:
        return None
    count, names, star = found
    own, names = count - lead, names[lead:]
    if not (own >= 2 or (own == 0 and star and size >= 2 - lead)):
        return None
    if own >= 2 and own != size and not (star and size > own):
        raise TypeError(f"{name}: {mismatch(own, ', '.join(names))}")
    return names if own == size else tuple(f"{prefix}{i}" for i in range(size))


def _wrapping(spread: Callable[..., Any], f: Callable[..., Any]) -> Callable[..., Any]:
    """``spread`` named as ``f`` and pointing at it (``__wrapped__``), as ``functools.wraps`` would without
    copying a signature that ``spread`` does not have."""
    spread.__name__ = getattr(f, "__name__", "f")
    spread.__wrapped__ = f  # type: ignore[attr-defined]
    return spread
