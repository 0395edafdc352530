"""The playground's Starlette application: the page, its assets, and one API shape for every tab.

Routes:

- ``GET /`` the page; ``GET /static/...`` its assets (package data, nothing else on disk is reachable);
- ``POST /api/session`` a new session: ``{"session": ID, "limits": {...}}``;
- ``POST /api/TAB/ACTION`` (header ``X-Session: ID``, a JSON object body) -> the action's JSON answer;
- ``GET /api/TAB/STREAM?session=ID&...`` server-sent events, one JSON object each, while the client listens.

Errors are JSON ``{"error": message}``: 400 refused input (the message is for the student), 404 unknown route or
session (``"code": "unknown-session"``), 413 oversized body, 415 a body that is not JSON. The actions run in a
worker thread under the session's lock, with NumPy's floating-point warnings silenced (a non-finite result is
sent as such and the tab says what it means).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from importlib.resources import files
from typing import Any

import numpy as np
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..expr import ExprError
from .limits import Limits
from .protocol import Refused, jsonable
from .security import HostOriginGuard, allowed_hosts
from .sessions import Session, SessionStore, UnknownSession
from .tabs import TABS, load

STATIC = files("tinygrad_mvc.playground") / "static"
log = logging.getLogger("tinygrad_mvc.playground")


class _Answer(Exception):
    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.extra = status, extra


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status, headers={"cache-control": "no-store"})


def _dumps(obj: Any) -> str:
    return json.dumps(jsonable(obj), allow_nan=False, separators=(",", ":"))


class _JSON(JSONResponse):
    def render(self, content: Any) -> bytes:
        return _dumps(content).encode()


def _run_locked(session: Session, fn: Any, *args: Any) -> Any:
    with session.lock, np.errstate(all="ignore"):
        return fn(*args)


def _handler(tab: str, action: str) -> Any:
    try:
        module = load(tab)
    except KeyError:
        raise _Answer(404, f"unknown tab {tab!r}; the tabs are {', '.join(TABS)}") from None
    fn = getattr(module, "ACTIONS", {}).get(action)
    if fn is None:
        raise _Answer(404, f"unknown action {action!r} of the {tab} tab")
    return fn


def create_app(host: str = "127.0.0.1", port: int = 8000, **limits: Any) -> Starlette:
    """The playground for ``http://HOST:PORT/``; keyword arguments override :class:`Limits` fields.

    >>> from starlette.testclient import TestClient
    >>> client = TestClient(create_app(port=8000), base_url="http://127.0.0.1:8000")
    >>> client.get("/").status_code, client.get("/", headers={"host": "evil.example:8000"}).status_code
    (200, 421)
    """
    caps = Limits(**limits)
    store = SessionStore(caps)
    stopping = threading.Event()  # set by the server on SIGINT/SIGTERM (server.py)

    def session_of(request: Request) -> Session:
        sid = request.headers.get("x-session") or request.query_params.get("session")
        try:
            return store.get(sid)
        except UnknownSession:
            raise _Answer(404, "unknown or expired session; reload the page", code="unknown-session") from None

    async def body_of(request: Request) -> dict[str, Any]:
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            raise _Answer(415, "send the request body as JSON (Content-Type: application/json)")
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > caps.max_body_bytes):
            raise _Answer(413, f"request too large; the limit is {caps.max_body_bytes} bytes")
        raw = b""
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > caps.max_body_bytes:
                raise _Answer(413, f"request too large; the limit is {caps.max_body_bytes} bytes")
        try:
            body = json.loads(raw or b"{}")
        except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: nesting too deep to read
            raise _Answer(400, "the request body is not valid JSON") from None
        if not isinstance(body, dict):
            raise _Answer(400, "the request body must be a JSON object")
        return body

    async def answer(request: Request, work: Any) -> Response:
        try:
            return await work()
        except _Answer as a:
            return _error(a.status, str(a), **a.extra)
        except (Refused, ExprError) as err:
            return _error(400, str(err))
        except (ValueError, TypeError, ArithmeticError) as err:  # the engine's own one-line errors
            return _error(400, " ".join(str(err).split()) or type(err).__name__)
        except Exception as err:  # a bug: say so, keep serving
            log.exception("playground: %s %s failed", request.method, request.url.path)
            return _error(500, f"internal error: {type(err).__name__}: {err}")

    async def page(request: Request) -> Response:
        return FileResponse(str(STATIC / "index.html"), headers={"cache-control": "no-store"})

    async def new_session(request: Request) -> Response:
        async def work() -> Response:
            await body_of(request)
            session = store.new()
            fields = {k: getattr(caps, k) for k in caps.__dataclass_fields__}
            return _JSON({"session": session.id, "limits": fields, "tabs": list(TABS)})
        return await answer(request, work)

    async def act(request: Request) -> Response:
        async def work() -> Response:
            fn = _handler(request.path_params["tab"], request.path_params["action"])
            session = session_of(request)
            body = await body_of(request)
            state = session.state(request.path_params["tab"])
            result = await run_in_threadpool(_run_locked, session, fn, state, body, caps)
            return _JSON(result, headers={"cache-control": "no-store"})
        return await answer(request, work)

    async def stream(request: Request) -> Response:
        async def work() -> Response:
            tab, name = request.path_params["tab"], request.path_params["action"]
            try:
                fn = getattr(load(tab), "STREAMS", {}).get(name)
            except KeyError:
                fn = None
            if fn is None:
                raise _Answer(404, f"unknown stream {name!r} of the {tab} tab")
            session = session_of(request)
            params = {k: v for k, v in request.query_params.items() if k != "session"}
            state = session.state(tab)
            frames: Iterator[dict[str, Any]] = _run_locked(session, fn, state, params, caps)

            async def events() -> Any:
                try:  # a server shutting down ends its streams at the next frame, so it stops within a second
                    while not stopping.is_set() and not await request.is_disconnected():
                        try:
                            frame = await run_in_threadpool(_run_locked, session, next, frames, None)
                        except (Refused, ExprError, ValueError, ArithmeticError) as err:
                            yield f"event: problem\ndata: {json.dumps({'error': str(err)})}\n\n"
                            return
                        if frame is None:
                            yield "event: end\ndata: {}\n\n"
                            return
                        yield f"data: {_dumps(frame)}\n\n"
                finally:
                    close = getattr(frames, "close", None)
                    if close is not None:
                        await run_in_threadpool(_run_locked, session, close)

            return StreamingResponse(events(), media_type="text/event-stream",
                                     headers={"cache-control": "no-store", "x-accel-buffering": "no"})
        return await answer(request, work)

    routes = [
        Route("/", page, methods=["GET", "HEAD"]),
        Route("/api/session", new_session, methods=["POST"]),
        Route("/api/{tab}/{action}", act, methods=["POST"]),
        Route("/api/{tab}/{action}", stream, methods=["GET"]),
        Mount("/static", StaticFiles(directory=str(STATIC)), name="static"),
    ]
    app = Starlette(routes=routes)
    app.state.store, app.state.limits, app.state.stopping = store, caps, stopping
    app.add_middleware(HostOriginGuard, hosts=allowed_hosts(host, port))
    return app
