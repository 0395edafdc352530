"""Every cap the playground enforces, in one place, so a reader sees what one browser tab can cost.

A request that asks for more than a cap is refused with a message naming the cap (never silently clipped),
except where a cap is a pacing rule (steps per request), which is documented where it applies.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """The playground's caps; ``create_app(**overrides)`` changes them (the tests use small ones)."""

    max_sessions: int = 32
    """Live sessions (browser tabs); the least recently used is dropped when a new one would exceed this."""
    idle_seconds: float = 30 * 60
    """A session not used for this long is dropped."""
    max_body_bytes: int = 64 * 1024
    """Largest request body."""
    max_expression: int = 200
    """Longest expression text, in characters."""
    max_layers: int = 6
    """Hidden layers of the Network tab."""
    max_neurons: int = 16
    """Neurons per hidden layer."""
    max_points: int = 1000
    """Points in a Network data set (train + test)."""
    max_grid: int = 120
    """Grid resolution (per side) of any map or heat map."""
    max_steps: int = 1000
    """Iterations one request may run (training steps, descent steps, Newton steps)."""
    max_path: int = 5000
    """Points of a descent path kept and sent."""
    max_order: int = 10
    """Highest Taylor order."""
    max_history: int = 2000
    """Loss-curve points kept per session (older ones are thinned, so memory stays flat on a long run)."""
    max_graph_nodes: int = 200
    """Nodes of a graph the Graph tab draws."""

    # Taylor tab: each order differentiates the previous one, so a long f at a high order can take seconds.
    max_taylor_seconds: float = 2.0
    """Time one Taylor request may spend on derivatives; an order predicted to take longer is refused."""


DEFAULT = Limits()
