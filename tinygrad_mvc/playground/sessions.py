"""Per-browser-tab state: a session id maps to one :class:`Session`, and the store stays bounded.

Each session holds one dict per playground tab (``session.state("network")``) and a lock, so two requests
of one tab never step the same network at once. The store drops sessions idle for
``Limits.idle_seconds`` and, when full, the least recently used one: memory is bounded by
``max_sessions`` times what one session may hold (itself capped by :mod:`.limits`).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from typing import Any

from .limits import Limits


class Session:
    """One browser tab's state: a dict per playground tab, and a lock held while any of them is used."""

    __slots__ = ("id", "last_used", "lock", "_tabs")

    def __init__(self, session_id: str) -> None:
        self.id = session_id
        self.last_used = time.monotonic()
        self.lock = threading.Lock()
        self._tabs: dict[str, dict[str, Any]] = {}

    def state(self, tab: str) -> dict[str, Any]:
        """The mutable state of ``tab`` in this session (created empty on first use)."""
        return self._tabs.setdefault(tab, {})


class UnknownSession(KeyError):
    """The id names no live session (never created, expired or dropped)."""


class SessionStore:
    """Sessions by id: ``new()``, ``get(id)``; bounded in count and idle time.

    >>> store = SessionStore(Limits(max_sessions=2))
    >>> a, b, c = store.new(), store.new(), store.new()   # a, the least recently used, is dropped
    >>> len(store), a.id in store, c.id in store
    (2, False, True)
    """

    def __init__(self, limits: Limits, clock: Any = time.monotonic) -> None:
        self.limits = limits
        self._clock = clock
        self._sessions: OrderedDict[str, Session] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._sessions)

    def __contains__(self, session_id: object) -> bool:
        return session_id in self._sessions

    def new(self) -> Session:
        """A fresh session with an unguessable id; the oldest is dropped if the store is full."""
        with self._lock:
            self._expire()
            while len(self._sessions) >= self.limits.max_sessions:
                self._sessions.popitem(last=False)
            session = Session(secrets.token_hex(16))
            session.last_used = self._clock()
            self._sessions[session.id] = session
            return session

    def get(self, session_id: str | None) -> Session:
        """The live session ``session_id``, marked as just used; :class:`UnknownSession` if there is none."""
        with self._lock:
            self._expire()
            session = self._sessions.get(session_id) if isinstance(session_id, str) else None
            if session is None:
                raise UnknownSession(session_id)
            session.last_used = self._clock()
            self._sessions.move_to_end(session.id)
            return session

    def _expire(self) -> None:
        cutoff = self._clock() - self.limits.idle_seconds
        while self._sessions:
            oldest = next(iter(self._sessions.values()))
            if oldest.last_used >= cutoff:
                break
            self._sessions.popitem(last=False)
