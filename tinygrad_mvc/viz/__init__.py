"""Pictures: computation graphs through graphviz and figures through matplotlib.

Each helper imports its library when first called, so importing this package stays cheap.
"""

from __future__ import annotations

from .descent import plot_descent
from .fit import plot_fit
from .graph import draw_graph, save_graph
from .taylor import plot_taylor

__all__ = ["draw_graph", "save_graph", "plot_taylor", "plot_descent", "plot_fit"]
