"""The graph tab (to be written)."""

from __future__ import annotations

ACTIONS: dict = {}
