"""One module per playground tab; each is plain Python over this engine, testable without a server.

A tab module provides ``ACTIONS``: ``{name: fn(state, body, limits) -> dict}``, answered at
``POST /api/TAB/NAME``, and may provide ``STREAMS``: ``{name: fn(state, params, limits) -> Iterator[dict]}``,
streamed at ``GET /api/TAB/NAME?session=...`` as server-sent events (one JSON object per event).
``state`` is this browser tab's dict for the tab (kept between requests, under the session's lock), ``body``
the request's JSON object (for streams, the query parameters as text), and ``limits`` the app's
:class:`~tinygrad_mvc.playground.limits.Limits`. Read ``body`` through
:mod:`tinygrad_mvc.playground.protocol`; a :class:`~tinygrad_mvc.playground.protocol.Refused` becomes a 400
whose message the page shows.
"""

from __future__ import annotations

import importlib
from types import ModuleType

TABS: tuple[str, ...] = ("network", "sandpit", "taylor", "newton", "lagrange", "graph")
"""The tabs, in the order the page shows them."""


def load(tab: str) -> ModuleType:
    """The module of ``tab`` (one of :data:`TABS`)."""
    if tab not in TABS:
        raise KeyError(tab)
    return importlib.import_module(f"{__name__}.{tab}")
