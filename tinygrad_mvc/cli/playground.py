"""``tinygrad-mvc playground [--port N] [--host H] [--no-browser]``: the interactive playground in a browser.

Prints ``playground: http://HOST:PORT/`` first (flushed), opens the default browser unless ``--no-browser``,
and serves until Ctrl-C (SIGINT) or SIGTERM, then exits 0. ``--port 0`` picks a free port.
"""

from __future__ import annotations

import argparse

from . import UsageError

NAME = "playground"
HELP = "the interactive playground: six tabs in the browser, every number computed by this engine"


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        NAME, help=HELP, description=HELP + ".",
        epilog="Serves on 127.0.0.1 only unless --host says otherwise (then it warns). Stop it with Ctrl-C.")
    parser.add_argument("--port", type=int, default=8765, help="port to listen on (0: any free port; default 8765)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--no-browser", action="store_true", help="do not open a browser")
    return parser


def run(args: argparse.Namespace) -> int:
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port {args.port} is not a port number (0 to 65535)")
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as err:
        raise UsageError(f"the playground needs Starlette and uvicorn ({err}); "
                         "python -m pip install -e '.[test]' installs them") from None
    from tinygrad_mvc.playground import serve

    return serve(host=args.host, port=args.port, open_browser=not args.no_browser)
