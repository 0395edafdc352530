"""Pictures: computation graphs through graphviz and figures through matplotlib.

Each helper imports its library when first called, so importing this package stays cheap.
"""

from __future__ import annotations

from .animate import animate_backprop
from .descent import plot_descent
from .fd_error import FDErrorCurves, fd_error_curves, plot_fd_error
from .field import plot_gradient_field
from .fit import plot_fit
from .graph import draw_graph, save_graph
from .histogram import plot_histogram_fit
from .lagrange import plot_lagrange
from .surface import plot_taylor_surface
from .taylor import plot_taylor
from .trace import Trace, backprop
from .training import plot_decision_boundary, plot_history, plot_network_fit

__all__ = ["draw_graph", "save_graph", "backprop", "Trace", "animate_backprop", "plot_taylor",
           "plot_history", "plot_decision_boundary", "plot_descent",
           "plot_fit", "plot_fd_error", "fd_error_curves", "FDErrorCurves",
           # the course's pictures (issue 16)
           "plot_histogram_fit", "plot_lagrange", "plot_taylor_surface", "plot_gradient_field", "plot_network_fit"]
