"""Running the playground: bind, print the URL, serve with uvicorn until SIGINT or SIGTERM, exit 0 quietly.

The socket is bound here, before the app is made, so that ``--port 0`` (any free port) still gives the app the
real port for its Host checks and the URL printed first, flushed. uvicorn re-raises a caught signal once it
has shut down (a ``KeyboardInterrupt`` traceback for SIGINT, death by signal for SIGTERM); :class:`_Server` only
records it, so both end in a graceful shutdown and exit code 0. Live streams are given one second to finish.
"""

from __future__ import annotations

import signal
import socket
import sys
import threading
import webbrowser
from types import FrameType
from typing import Any, TextIO

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as err:
        sock.close()
        raise OSError(err.errno, f"cannot listen on {host}:{port}: {err.strerror}") from None
    sock.listen(64)
    sock.setblocking(False)
    return sock


def url_of(host: str, port: int) -> str:
    """``http://HOST:PORT/`` (IPv6 addresses in brackets)."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def make_server(host: str = "127.0.0.1", port: int = 0, **limits: Any) -> tuple[Any, socket.socket, str]:
    """(uvicorn server, bound socket, URL) for the playground; ``server.run(sockets=[sock])`` serves it."""
    import uvicorn

    from .app import create_app

    sock = _bind(host, port)
    real_port = sock.getsockname()[1]
    app = create_app(host=host, port=real_port, **limits)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off",
                            timeout_graceful_shutdown=1, server_header=False)
    server = _Server(config)
    server.stopping = app.state.stopping  # handle_exit sets it: live streams end at their next frame
    return server, sock, url_of(host, real_port)


def serve(host: str = "127.0.0.1", port: int = 0, open_browser: bool = True, out: TextIO | None = None,
          err: TextIO | None = None, **limits: Any) -> int:
    """Serve until SIGINT/SIGTERM; print ``playground: URL`` first (flushed); return 0 after a clean shutdown."""
    out, err = out or sys.stdout, err or sys.stderr
    server, sock, url = make_server(host, port, **limits)
    # From the moment the URL is out, Ctrl-C or SIGTERM must mean "stop quietly", even before uvicorn has
    # installed its own handlers (which call the same method).
    main = threading.current_thread() is threading.main_thread()
    previous = {s: signal.signal(s, server.handle_exit) for s in (signal.SIGINT, signal.SIGTERM)} if main else {}
    print(f"playground: {url}", file=out, flush=True)
    if host not in LOCAL_HOSTS:
        print(f"warning: the playground listens on {host}, not only on this machine; anyone who can reach "
              f"{url} can use it (pass --host 127.0.0.1 to keep it local)", file=err, flush=True)
    print("press Ctrl-C to stop", file=err, flush=True)
    if open_browser:
        threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("playground: stopped", file=err, flush=True)
    return 0


class _Server:
    """uvicorn's Server, except that a caught SIGINT or SIGTERM is not raised again after the shutdown."""

    def __new__(cls, config: Any) -> Any:
        import uvicorn

        class Quiet(uvicorn.Server):
            stopping: threading.Event | None = None

            def handle_exit(self, sig: int, frame: FrameType | None) -> None:
                if self.stopping is not None:
                    self.stopping.set()
                if self.should_exit and sig == signal.SIGINT:
                    self.force_exit = True  # a second Ctrl-C: stop waiting for open streams
                self.should_exit = True

        return Quiet(config)
