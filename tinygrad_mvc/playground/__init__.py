"""The playground: the course's interactive pieces as a local web app, every number computed by this engine.

``tinygrad-mvc playground`` serves one page with six tabs (Network, Sandpit, Taylor, Newton-Raphson,
Lagrange, Graph). The browser only draws: each loss, gradient, Hessian, step, coefficient and graph it shows
comes from an API call answered by ``tinygrad_mvc``.

The web stack (Starlette, uvicorn) is imported only by :func:`create_app` and :func:`serve`, so
``import tinygrad_mvc`` never pays for it.

Layout: :mod:`.limits` (every cap in one place), :mod:`.sessions` (per-tab state, bounded),
:mod:`.protocol` (reading requests, writing numbers), :mod:`.security` (Host and Origin checks),
:mod:`.app` (routes), :mod:`.server` (uvicorn, signals), :mod:`.tabs` (one module per tab, plain functions of
``(state, body) -> dict``), and ``static/`` (the page: one JavaScript module per tab, no build step).

>>> from tinygrad_mvc.playground import create_app  # doctest: +SKIP
>>> app = create_app(port=8000)                      # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

__all__ = ["create_app", "serve"]


def create_app(host: str = "127.0.0.1", port: int = 8000, **limits: Any) -> Any:
    """The Starlette application that serves the playground for ``http://HOST:PORT/`` (see :mod:`.app`)."""
    from .app import create_app as _create

    return _create(host=host, port=port, **limits)


def serve(host: str = "127.0.0.1", port: int = 0, open_browser: bool = True, **kwargs: Any) -> int:
    """Serve the playground until SIGINT or SIGTERM and return the exit code (see :mod:`.server`)."""
    from .server import serve as _serve

    return _serve(host=host, port=port, open_browser=open_browser, **kwargs)
