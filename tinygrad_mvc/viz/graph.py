"""Computation-graph pictures (graphviz). Being written for issue 4."""

from __future__ import annotations

from typing import Any


def draw_graph(t: Any, show_data: bool = True, show_grad: bool = True, rankdir: str = "LR",
               max_nodes: int = 200) -> Any:
    raise NotImplementedError("draw_graph: not yet built (issue 4)")


def save_graph(graph: Any, path: Any) -> Any:
    raise NotImplementedError("save_graph: not yet built (issue 4)")
