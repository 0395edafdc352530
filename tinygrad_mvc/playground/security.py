"""Host and Origin checks for every request (page, assets, API, streams, WebSocket): the DNS-rebinding guard.

A page on another site can make a browser send requests to ``127.0.0.1``; only the ``Host`` header then
tells a rebound name from ours, and only ``Origin`` tells a foreign page from our own. So a request is
answered only if its Host is ``HOST:PORT``, ``127.0.0.1:PORT`` or ``localhost:PORT`` (else 421, or 400 when it
has none) and, when it carries an Origin, that Origin is ``http://`` one of those (else 403; ``null`` and other
ports included). Every answer also carries a Content-Security-Policy: the page runs only its own script files.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

# script-src allows eval for browser-automation tools (Playwright's wait_for_function("expr") evaluates strings in
# the page); what a CSP is for here, refusing injected inline scripts and any other site's, stays.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
                           "img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; "
                           "base-uri 'none'; form-action 'none'")
EXTRA_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-resource-policy", b"same-origin"),
]


def allowed_hosts(host: str, port: int) -> frozenset[str]:
    """The Host header values that name this server: ``HOST:PORT``, ``127.0.0.1:PORT``, ``localhost:PORT``.

    >>> sorted(allowed_hosts("127.0.0.1", 8000))
    ['127.0.0.1:8000', 'localhost:8000']
    """
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return frozenset(f"{name}:{port}".lower() for name in (shown, "127.0.0.1", "localhost"))


class HostOriginGuard:
    """ASGI middleware: refuse requests whose Host or Origin is not this server's; add security headers."""

    def __init__(self, app: Callable[..., Awaitable[None]], hosts: Iterable[str]) -> None:
        self.app = app
        self.hosts = frozenset(h.lower() for h in hosts)
        self.origins = frozenset(f"http://{h}" for h in self.hosts)

    def verdict(self, headers: dict[bytes, bytes], in_process: bool = False) -> tuple[int, str] | None:
        """None if the request may pass, else (status, reason).

        ``in_process``: the request comes from Starlette's TestClient inside this process (its ASGI scope names the
        client ``testclient``, which no network peer can do), so its default Host ``testserver`` is ours too.
        """
        hosts, origins = (self.hosts | {"testserver"}, self.origins | {"http://testserver"}) if in_process else \
            (self.hosts, self.origins)
        host = headers.get(b"host")
        if host is None:
            return 400, "bad request: no Host header"
        host_text = host.decode("latin-1").strip().lower()
        if host_text not in hosts:
            return 421, f"misdirected request: Host {host_text!r} is not this server"
        origin = headers.get(b"origin")
        if origin is not None and origin.decode("latin-1").strip().lower() not in origins:
            return 403, f"forbidden: Origin {origin.decode('latin-1')!r} is not this server"
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers: dict[bytes, bytes] = {}
        for name, value in scope.get("headers", []):
            headers.setdefault(name.lower(), value)
        client = scope.get("client") or ("",)
        refusal = self.verdict(headers, in_process=client[0] == "testclient")
        if refusal is not None:
            await _refuse(scope, send, *refusal)
            return

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *EXTRA_HEADERS]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _refuse(scope: Scope, send: Send, status: int, reason: str) -> None:
    body = (reason + "\n").encode()
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode()),
               *EXTRA_HEADERS]
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
    elif "websocket.http.response" in scope.get("extensions", {}):  # answer the upgrade with a real status
        await send({"type": "websocket.http.response.start", "status": status, "headers": headers})
        await send({"type": "websocket.http.response.body", "body": body})
    else:
        await send({"type": "websocket.close", "code": 1008, "reason": reason[:120]})
