"""``tinygrad-mvc playground`` in a real subprocess (issue 17, API.md §12): the URL first, serving, clean exits.

The first line of standard output is ``playground: http://HOST:PORT/``, flushed (read here before the process
ends); with ``--no-browser`` no browser is started; SIGINT and SIGTERM both end it with exit code 0 within 5 s and
no traceback. A real HTTP request checks it serves, and that the Host guard is on.
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import subprocess
import sys
import time

import pytest

URL = re.compile(r"^playground: http://127\.0\.0\.1:(\d+)/$")


def _start(*args: str, opened: str | None = None) -> subprocess.Popen:
    # BROWSER is the command Python's webbrowser runs: here it only writes the URL it was given into `opened`
    recorder = f"sh -c 'echo \"$0\" > {opened}' %s" if opened else "false"
    env = {**os.environ, "PYTHONUNBUFFERED": "0", "BROWSER": recorder}
    return subprocess.Popen([sys.executable, "-m", "tinygrad_mvc", "playground", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def _get(port: int, path: str, host: str | None = None) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path, headers={"Host": host or f"127.0.0.1:{port}"})
    r = conn.getresponse()
    body = r.read().decode()
    conn.close()
    return r.status, body


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_prints_its_url_serves_and_stops_cleanly(sig):
    proc = _start("--port", "0", "--no-browser")
    try:
        first = proc.stdout.readline().rstrip("\n")  # flushed at once: this returns while the server runs
        match = URL.match(first)
        assert match, f"first line was {first!r}"
        port = int(match.group(1))
        status, body = _get(port, "/")
        assert status == 200 and "tinygrad_mvc playground" in body
        assert _get(port, "/", host=f"evil.example:{port}")[0] == 421
        assert proc.poll() is None
        proc.send_signal(sig)
        start = time.monotonic()
        out, err = proc.communicate(timeout=5)
        assert time.monotonic() - start < 5
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, (proc.returncode, err)
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err


def test_another_host_is_served_with_a_warning():
    proc = _start("--port", "0", "--no-browser", "--host", "0.0.0.0")
    try:
        first = proc.stdout.readline()
        assert first.startswith("playground: http://0.0.0.0:")
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0 and "warning:" in err and "0.0.0.0" in err


def test_a_port_in_use_or_out_of_range_is_one_line():
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        proc = subprocess.run([sys.executable, "-m", "tinygrad_mvc", "playground", "--port", str(port),
                               "--no-browser"], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 1 and "cannot listen on 127.0.0.1" in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    proc = subprocess.run([sys.executable, "-m", "tinygrad_mvc", "playground", "--port", "70000", "--no-browser"],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2 and "--port 70000" in proc.stderr


def test_stops_within_five_seconds_while_a_live_stream_is_open():
    import json
    import socket

    proc = _start("--port", "0", "--no-browser")
    try:
        port = int(URL.match(proc.stdout.readline().rstrip("\n")).group(1))
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("POST", "/api/session", body="{}",
                     headers={"Host": f"127.0.0.1:{port}", "Content-Type": "application/json"})
        sid = json.loads(conn.getresponse().read())["session"]
        live = socket.create_connection(("127.0.0.1", port), timeout=10)  # the Network tab's Play
        live.sendall(f"GET /api/network/train?session={sid} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        assert b"data: " in live.recv(65536) + live.recv(65536)  # frames are arriving
        proc.send_signal(signal.SIGINT)
        start = time.monotonic()
        _, err = proc.communicate(timeout=5)
        assert time.monotonic() - start < 5
        live.close()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0 and "Traceback" not in err, err


def test_opens_the_browser_on_its_url_unless_told_not_to(tmp_path):
    for flags, expected in ((["--no-browser"], False), ([], True)):
        opened = tmp_path / f"opened{len(flags)}.txt"
        proc = _start("--port", "0", *flags, opened=str(opened))
        try:
            url = proc.stdout.readline().split()[1]
            for _ in range(150 if expected else 25):  # a browser would be started at once, in a thread
                if opened.exists() and opened.read_text().strip():
                    break
                time.sleep(0.02)
            assert opened.exists() == expected, flags
            if expected:
                assert opened.read_text().strip() == url
            proc.send_signal(signal.SIGINT)
            proc.communicate(timeout=5)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == 0
