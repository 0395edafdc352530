"""The playground's server as a whole (issue 17, API.md §12): security, sessions, request limits, dispatch.

The tabs' own actions are tested in tests/test_playground_TAB.py; here a stand-in tab module checks the shape
every tab shares, through Starlette's TestClient (the Host check needs base_url http://127.0.0.1:8000).
"""

from __future__ import annotations

import subprocess
import sys
import types

import pytest
from starlette.testclient import TestClient

from tinygrad_mvc.playground import app as app_module
from tinygrad_mvc.playground import create_app
from tinygrad_mvc.playground.limits import Limits
from tinygrad_mvc.playground.protocol import Refused, expression, number, point
from tinygrad_mvc.playground.sessions import SessionStore, UnknownSession
from tinygrad_mvc.playground.tabs import TABS

BASE = "http://127.0.0.1:8000"


def _echo(state, body, limits):
    state["calls"] = state.get("calls", 0) + 1
    return {"calls": state["calls"], "x": number(body, "x", 0.0), "inf": float("inf")}


def _refuse(state, body, limits):
    raise Refused("x: no")


def _bug(state, body, limits):
    raise RuntimeError("kaput")


def _count(state, params, limits):
    for k in range(int(params.get("n", "3"))):
        yield {"k": k}


FAKE = types.SimpleNamespace(ACTIONS={"echo": _echo, "refuse": _refuse, "bug": _bug}, STREAMS={"count": _count})


@pytest.fixture
def client(monkeypatch):
    real = app_module.load
    monkeypatch.setattr(app_module, "load", lambda tab: FAKE if tab == "fake" else real(tab))
    with TestClient(create_app(port=8000, max_sessions=3, max_body_bytes=2000), base_url=BASE) as c:
        yield c


def _sid(client) -> str:
    return client.post("/api/session", json={}).json()["session"]


# --------------------------------------------------------------------------- security: Host and Origin

@pytest.mark.parametrize("path", ["/", "/static/app.js", "/static/lib/plot.js", "/api/session", "/nowhere"])
@pytest.mark.parametrize("host", ["evil.example:8000", "127.0.0.1:8001", "localhost", "127.0.0.1.evil:8000",
                                  "0.0.0.0:8000"])
def test_a_foreign_host_is_refused_everywhere(client, path, host):
    r = client.get(path, headers={"host": host}) if path != "/api/session" else \
        client.post(path, json={}, headers={"host": host})
    assert r.status_code in (400, 421), (path, host, r.status_code)
    assert "tinygrad_mvc" not in r.text


@pytest.mark.parametrize("host", ["127.0.0.1:8000", "localhost:8000", "LOCALHOST:8000"])
def test_our_own_host_names_pass(client, host):
    assert client.get("/", headers={"host": host}).status_code == 200


@pytest.mark.parametrize("origin", ["null", "http://evil.example", "http://127.0.0.1:8001", "https://127.0.0.1:8000",
                                    "http://localhost:9999", "file://"])
def test_a_foreign_origin_is_forbidden(client, origin):
    assert client.get("/", headers={"origin": origin}).status_code == 403
    r = client.post("/api/session", json={}, headers={"origin": origin})
    assert r.status_code == 403


@pytest.mark.parametrize("origin", ["http://127.0.0.1:8000", "http://localhost:8000"])
def test_our_own_origin_passes(client, origin):
    assert client.post("/api/session", json={}, headers={"origin": origin}).status_code == 200


def test_a_websocket_with_a_foreign_host_or_origin_is_refused(client):
    from starlette.websockets import WebSocketDisconnect

    for headers in ({"host": "evil.example:8000"}, {"origin": "http://evil.example"}):
        with pytest.raises(WebSocketDisconnect), client.websocket_connect("/api/ws", headers=headers):
            pass


def test_the_host_check_knows_the_bound_address():
    app = create_app(host="192.168.7.9", port=9000)
    with TestClient(app, base_url="http://192.168.7.9:9000") as c:
        assert c.get("/").status_code == 200
        assert c.get("/", headers={"host": "127.0.0.1:9000"}).status_code == 200
        assert c.get("/", headers={"host": "192.168.7.9:8000"}).status_code == 421


def test_every_answer_carries_a_strict_content_security_policy(client):
    csp = client.get("/").headers["content-security-policy"]
    assert "script-src 'self'" in csp and "connect-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert client.get("/static/app.js").headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("path", ["/static/../app.py", "/static/%2e%2e/app.py", "/static/..%2fapp.py",
                                  "/static/../../pyproject.toml", "/etc/passwd", "/static//etc/passwd",
                                  "/app.py", "/static/"])
def test_nothing_outside_the_apps_assets_is_served(client, path):
    r = client.get(path)
    assert r.status_code in (400, 404), (path, r.status_code)
    assert "import" not in r.text


def test_the_page_and_its_assets(client):
    page = client.get("/")
    assert page.status_code == 200 and "<title>tinygrad_mvc playground</title>" in page.text
    for tab in TABS:
        assert f'data-testid="tab-{tab}"' in page.text
        js = client.get(f"/static/tabs/{tab}.js")
        assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    assert "http://" not in page.text.replace("http://www.w3.org", "")  # no CDN, no foreign asset


# --------------------------------------------------------------------------- sessions and requests

def test_sessions_are_bounded_and_expire():
    now = [0.0]
    store = SessionStore(Limits(max_sessions=2, idle_seconds=10), clock=lambda: now[0])
    a = store.new()
    now[0] = 5
    b = store.new()
    store.get(a.id)  # a is now the most recent
    c = store.new()  # b, the least recently used, goes
    assert a.id in store and c.id in store and b.id not in store
    now[0] = 100
    with pytest.raises(UnknownSession):
        store.get(a.id)
    assert len(store) == 0


def test_an_unknown_session_is_404_with_a_code(client):
    r = client.post("/api/fake/echo", json={}, headers={"x-session": "nope"})
    assert r.status_code == 404 and r.json()["code"] == "unknown-session"
    r = client.post("/api/fake/echo", json={})
    assert r.status_code == 404 and r.json()["code"] == "unknown-session"


def test_the_app_keeps_at_most_max_sessions(client):
    ids = [_sid(client) for _ in range(5)]
    alive = [s for s in ids if client.post("/api/fake/echo", json={}, headers={"x-session": s}).status_code == 200]
    assert alive == ids[-3:]


def test_state_is_per_session(client):
    a, b = _sid(client), _sid(client)
    for _ in range(3):
        client.post("/api/fake/echo", json={}, headers={"x-session": a})
    assert client.post("/api/fake/echo", json={}, headers={"x-session": b}).json()["calls"] == 1
    assert client.post("/api/fake/echo", json={}, headers={"x-session": a}).json()["calls"] == 4


def test_numbers_go_back_exactly_and_non_finite_as_text(client):
    r = client.post("/api/fake/echo", json={"x": 0.1 + 0.2}, headers={"x-session": _sid(client)})
    assert r.json()["x"] == 0.1 + 0.2 and r.json()["inf"] == "Infinity"


@pytest.mark.parametrize(("body", "headers", "status"), [
    ("{not json", {"content-type": "application/json"}, 400),
    ("[1, 2]", {"content-type": "application/json"}, 400),
    ('"text"', {"content-type": "application/json"}, 400),
    ("x=1", {"content-type": "application/x-www-form-urlencoded"}, 415),
    ('{"x": 1}', {"content-type": "text/plain"}, 415),
    ('{"x": "' + "9" * 3000 + '"}', {"content-type": "application/json"}, 413),
    ('{"x": "fast"}', {"content-type": "application/json"}, 400),
    ('{"x": true}', {"content-type": "application/json"}, 400),
    ('{"x": NaN}', {"content-type": "application/json"}, 400),
    ('{"x": 1e999}', {"content-type": "application/json"}, 400),
    ("[" * 900 + "]" * 900, {"content-type": "application/json"}, 400),
])
def test_bad_requests_get_a_one_line_error(client, body, headers, status):
    r = client.post("/api/fake/echo", content=body, headers={**headers, "x-session": _sid(client)})
    assert r.status_code == status, r.text
    message = r.json()["error"]
    assert message and "\n" not in message and "Traceback" not in message


def test_refusals_bugs_and_unknown_routes(client):
    sid = {"x-session": _sid(client)}
    r = client.post("/api/fake/refuse", json={}, headers=sid)
    assert (r.status_code, r.json()["error"]) == (400, "x: no")
    r = client.post("/api/fake/bug", json={}, headers=sid)
    assert r.status_code == 500 and "kaput" in r.json()["error"]
    assert client.post("/api/fake/nothing", json={}, headers=sid).status_code == 404
    assert client.post("/api/nothing/echo", json={}, headers=sid).status_code == 404
    assert client.get("/api/fake/nothing", params={"session": sid["x-session"]}).status_code == 404
    assert client.get("/api/fake/echo").status_code in (404, 405)  # actions are POST only


def test_a_stream_sends_one_event_per_frame_then_ends(client):
    sid = _sid(client)
    with client.stream("GET", "/api/fake/count", params={"session": sid, "n": "3"}) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        text = "".join(r.iter_text())
    assert text.count("data: {\"k\":") == 3 and "event: end" in text
    assert client.get("/api/fake/count", params={"session": "nope"}).status_code == 404


# --------------------------------------------------------------------------- reading a body

def test_protocol_readers_refuse_what_they_cannot_use():
    with pytest.raises(Refused, match="between"):
        number({"lr": 50.0}, "lr", lo=0.0, hi=10.0)
    assert point({"p": "1.5, -2"}, "p") == (1.5, -2.0)
    with pytest.raises(Refused, match="2 numbers"):
        point({"p": [1.0]}, "p")
    for hostile in ["__import__('os')", "x.__class__", "open('f')", "(lambda: 1)()", "x; y", "x if y else 1"]:
        with pytest.raises(Refused):
            expression({"f": hostile}, "f", ("x", "y"))
    with pytest.raises(Refused, match="unknown variable z"):
        expression({"f": "x + z"}, "f", ("x", "y"))
    with pytest.raises(Refused, match="too long"):
        expression({"f": "x+" * 150 + "x"}, "f", ("x", "y"))
    with pytest.raises(Refused, match="empty"):
        expression({"f": "  "}, "f", ("x",))


def test_importing_the_package_does_not_import_the_web_stack():
    code = ("import sys, tinygrad_mvc, tinygrad_mvc.playground; "
            "heavy = [m for m in ('starlette', 'uvicorn', 'anyio') if m in sys.modules]; assert not heavy, heavy")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


def test_the_in_process_test_client_works_with_its_defaults_and_no_network_peer_can_pose_as_it():
    with TestClient(create_app()) as c:  # base_url http://testserver: what a Starlette user writes first
        assert c.get("/").status_code == 200
        assert c.post("/api/session", json={}).status_code == 200
        assert c.get("/", headers={"host": "evil.example"}).status_code == 421
        assert c.get("/", headers={"origin": "http://evil.example"}).status_code == 403
    from tinygrad_mvc.playground.security import HostOriginGuard

    g = HostOriginGuard(lambda *a: None, ["127.0.0.1:8000"])
    assert g.verdict({b"host": b"testserver"}) == (421, "misdirected request: Host 'testserver' is not this server")
    assert g.verdict({b"host": b"testserver"}, in_process=True) is None
