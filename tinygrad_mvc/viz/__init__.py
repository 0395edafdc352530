"""Pictures: computation graphs through graphviz and figures through matplotlib.

Each helper imports its library when first called, so importing this package stays cheap.
"""

from __future__ import annotations

from .graph import draw_graph, save_graph
from .taylor import plot_taylor
from .training import plot_decision_boundary, plot_history

__all__ = ["draw_graph", "save_graph", "plot_taylor", "plot_history", "plot_decision_boundary"]
