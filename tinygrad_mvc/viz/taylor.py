"""Taylor-approximation figures (matplotlib). Being written for issue 3."""

from __future__ import annotations

from typing import Any


def plot_taylor(f: Any, x0: Any, orders: Any = (1, 2, 3)) -> Any:
    raise NotImplementedError("plot_taylor: not yet built (issue 3)")
