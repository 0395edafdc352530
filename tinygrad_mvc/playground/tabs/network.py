"""The network tab (to be written)."""

from __future__ import annotations

ACTIONS: dict = {}
