"""Shared test settings: hypothesis profiles sized so the whole suite stays fast.

``HYPOTHESIS_PROFILE=thorough pytest`` runs many more examples per property.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "default",
    deadline=None,  # the first call of an op pays for imports and caches; timing is not a property here
    max_examples=15,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("thorough", parent=settings.get_profile("default"), max_examples=300)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))



# --------------------------------------------------------------------------- heavy subprocess work, started early
# A few modules spend tens of seconds waiting on subprocesses (installing the package and running the gallery,
# running every demo script, a tiny benchmark run) while this process sits idle on one core of two. Such a
# module defines ``EARLY_WORK(base: Path) -> result``; it starts in a thread as soon as the module's tests are
# collected, those modules' tests are moved to the end of the run, and ``early_result(module)`` waits for the
# work. A module run alone behaves the same, just without the overlap.

import concurrent.futures  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

_EARLY_POOL = concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="early-work")  # one per core
_EARLY: dict[str, concurrent.futures.Future] = {}
_EARLY_DIRS: list[str] = []


def _start_early(module) -> None:
    if module.__name__ not in _EARLY:
        base = tempfile.mkdtemp(prefix=f"tg-early-{module.__name__}-")
        _EARLY_DIRS.append(base)
        _EARLY[module.__name__] = _EARLY_POOL.submit(module.EARLY_WORK, Path(base))


def _has_early_work(module) -> bool:
    return module is not None and callable(getattr(module, "EARLY_WORK", None))


def pytest_collection_modifyitems(session, config, items):
    for module in dict.fromkeys(getattr(item, "module", None) for item in items):
        if _has_early_work(module):
            _start_early(module)
    # those modules' tests run last, so their work has the whole run to finish in the background
    items[:] = sorted(items, key=lambda item: _has_early_work(getattr(item, "module", None)))


def early_result(module):
    """The result of ``module.EARLY_WORK`` (started at collection; started now if it was not)."""
    _start_early(module)
    return _EARLY[module.__name__].result()


def pytest_sessionfinish(session, exitstatus):
    _EARLY_POOL.shutdown(wait=True, cancel_futures=True)
    for base in _EARLY_DIRS:
        shutil.rmtree(base, ignore_errors=True)


# --------------------------------------------------------------------------- the playground's shared fixtures
# One server (in a thread) and one headless Chromium serve every playground test of the run, so that the six
# tabs' browser tests cost a page each, not a browser each. API tests use Starlette's TestClient instead.

import re  # noqa: E402
import threading  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
BROWSER_HINT = ("install them with `python -m pip install playwright` (never `playwright install`: no browser "
                "download) and `apt-get install chromium fonts-dejavu-core` (as root), or run `bash .ci/run`")
PLAYGROUND_SHOTS = os.environ.get("TG_PLAYGROUND_SHOTS", "/tmp/playground_shots")


class Playground:
    """API access for tests: ``pg.session()`` -> id; ``pg.call(tab, action, body, sid)`` -> (status, json)."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def session(self) -> str:
        return self.client.post("/api/session", json={}).json()["session"]

    def call(self, tab: str, action: str, body: Any = None, sid: str | None = None) -> tuple[int, Any]:
        sid = sid or self.session()
        r = self.client.post(f"/api/{tab}/{action}", json={} if body is None else body, headers={"x-session": sid})
        return r.status_code, r.json()

    def ok(self, tab: str, action: str, body: Any = None, sid: str | None = None) -> Any:
        status, data = self.call(tab, action, body, sid)
        assert status == 200, f"{tab}/{action} answered {status}: {data}"
        return data


@pytest.fixture(scope="module")
def playground() -> Iterator[Playground]:
    """The app behind Starlette's TestClient, addressed as http://127.0.0.1:8000 (so the Host check passes)."""
    from starlette.testclient import TestClient

    from tinygrad_mvc.playground import create_app

    with TestClient(create_app(port=8000), base_url="http://127.0.0.1:8000") as client:
        yield Playground(client)


@pytest.fixture(scope="session")
def playground_url() -> Iterator[str]:
    """A real playground server (uvicorn, in a thread, on a free port) for the browser tests: its URL."""
    from tinygrad_mvc.playground.server import make_server

    server, sock, url = make_server("127.0.0.1", 0)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        threading.Event().wait(0.025)
    try:
        yield url
    finally:
        server.stopping.set()  # live streams end at their next frame
        server.should_exit = True
        thread.join(5)
        sock.close()


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """Debian's Chromium through Playwright (executable_path: nothing is downloaded), once per test run."""
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(f"the browser tests need Debian's chromium at {CHROMIUM}, which is missing; {BROWSER_HINT}",
                    pytrace=False)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as err:
        pytest.fail(f"the browser tests need Playwright for Python ({err}); {BROWSER_HINT}", pytrace=False)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


class PlaygroundPage:
    """A page of the playground on one tab, with the requests it made and the errors it logged."""

    def __init__(self, page: Any, url: str) -> None:
        self.page, self.url = page, url
        self.errors: list[str] = []
        self.foreign: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("request", lambda r: None if r.url.startswith(url) else self.foreign.append(r.url))

    def open(self, tab: str) -> PlaygroundPage:
        self.page.goto(f"{self.url}#{tab}")
        self.page.wait_for_selector("body[data-ready='true']", timeout=10_000)
        self.page.get_by_test_id(f"tab-{tab}").click()
        self.idle()
        return self

    def idle(self, timeout: float = 10_000) -> None:
        """Wait until no API call is in flight."""
        # a function, not an expression string: a string is evaluated with eval, which a strict CSP would refuse
        self.page.wait_for_function("() => document.body.dataset.pending === '0'", timeout=timeout)

    def text(self, testid: str) -> str:
        return self.page.get_by_test_id(testid).text_content() or ""

    def message(self) -> str:
        return self.text("message")

    def shot(self, name: str) -> str:
        os.makedirs(PLAYGROUND_SHOTS, exist_ok=True)
        path = os.path.join(PLAYGROUND_SHOTS, f"{name}.png")
        self.page.screenshot(path=path, full_page=True)
        return path

    def check_clean(self) -> None:
        # Chromium logs every 4xx answer as a failed resource; a refused input is answered 400 on purpose
        errors = [e for e in self.errors if not re.search(r"status of 4\d\d", e)]
        assert not errors, f"the page logged errors: {errors}"
        assert not self.foreign, f"the page asked another site: {self.foreign}"


@pytest.fixture(scope="module")
def playground_page(chromium: Any, playground_url: str) -> Iterator[PlaygroundPage]:
    """One fresh page per test module (1280 × 900); call ``.open(tab)`` first."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        yield PlaygroundPage(page, playground_url)
    finally:
        context.close()
