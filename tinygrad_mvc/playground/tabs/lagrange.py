"""The lagrange tab (to be written)."""

from __future__ import annotations

ACTIONS: dict = {}
