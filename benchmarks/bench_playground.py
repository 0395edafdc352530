"""The playground's Network tab: how often the page updates while it trains the default network.

The default network is the tab's: 2-8-8-1 tanh on 200 two-moons points (140 to train), SGD on minibatches of
10, a 50 x 50 boundary grid and a 20 x 20 thumbnail per hidden neuron in every frame.

(a) The live stream over a real server (``tinygrad_mvc.playground.server.make_server`` in a thread, uvicorn):
    frames per second as a client reads them (``GET /api/network/train``, server-sent events, read with httpx
    as a browser's EventSource would), the training steps per frame and the bytes per frame; and, in this
    process, where a frame's time goes (about 45 ms of training, then building the frame and writing its JSON).
(b) The page in headless Chromium (Debian's ``/usr/bin/chromium`` through Playwright, as the tests launch it):
    press ``net-play`` and count the frames the page draws (``net-boundary``'s ``data-frames``) over a few
    seconds, by the page's own clock.

Target (issue 17): at least 10 updates a second, for both. Without Playwright or Chromium, (b) is reported as
not measured (its target MISSED, saying why).

    python benchmarks/bench_playground.py [--seconds S] [--quick] [--tiny]
"""

from __future__ import annotations

import os

THREADS = os.environ.get("TG_BENCH_THREADS", "1")
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = THREADS  # before NumPy loads its BLAS

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import add_options, machine, target  # noqa: E402

from tinygrad_mvc.playground.limits import Limits  # noqa: E402
from tinygrad_mvc.playground.protocol import jsonable  # noqa: E402
from tinygrad_mvc.playground.tabs import network  # noqa: E402

TARGET = 10.0  # updates a second (issue 17)
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # as the tests
CONFIG = ("2-8-8-1 tanh, two moons, 200 points (140 to train), SGD lr 0.01, batches of 10, 50 x 50 boundary grid, "
          "20 x 20 thumbnails")


class _Server:
    """The playground served by uvicorn in a thread, as ``tinygrad-mvc playground`` serves it."""

    def __enter__(self) -> str:
        from tinygrad_mvc.playground.server import make_server

        self.server, self.sock, url = make_server("127.0.0.1", 0)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        return url

    def __exit__(self, *exc: Any) -> None:
        self.server.should_exit = True
        self.thread.join(5)
        self.sock.close()


def stream_rate(url: str, seconds: float) -> dict[str, float]:
    """Read the training stream for ``seconds``: frames a second, steps a frame, KB a frame."""
    import httpx

    with httpx.Client(base_url=url.rstrip("/"), timeout=10) as client:
        sid = client.post("/api/session", json={}).json()["session"]
        client.post("/api/network/configure", json={}, headers={"x-session": sid}).raise_for_status()
        arrivals, ran, sizes = [], [], []
        with client.stream("GET", f"/api/network/train?session={sid}") as response:
            response.raise_for_status()
            for line in response.iter_lines():
                if not line.startswith("data: "):
                    continue
                arrivals.append(time.perf_counter())
                frame = json.loads(line[6:])
                ran.append(frame["ran"])
                sizes.append(len(line))
                if arrivals[-1] - arrivals[0] >= seconds:
                    break
        client.post("/api/network/pause", json={}, headers={"x-session": sid})
    frames = len(arrivals) - 1  # counted from the first frame's arrival
    return {"fps": frames / (arrivals[-1] - arrivals[0]), "frames": frames, "steps": statistics.median(ran),
            "kb": statistics.median(sizes) / 1024, "steps_per_second": sum(ran[1:]) / (arrivals[-1] - arrivals[0])}


def frame_costs(frames: int) -> dict[str, float]:
    """In this process: the median ms of a streamed frame (training + building), of building alone, of the JSON."""
    caps, state = Limits(), {}
    network.configure(state, {}, caps)
    stream = network.train(state, {"frames": str(frames)}, caps)
    whole, build, encode = [], [], []
    for _ in range(frames):
        t0 = time.perf_counter()
        frame = next(stream)
        t1 = time.perf_counter()
        network.frame(state, {}, caps)
        t2 = time.perf_counter()
        json.dumps(jsonable(frame), allow_nan=False, separators=(",", ":"))
        t3 = time.perf_counter()
        whole.append(t1 - t0)
        build.append(t2 - t1)
        encode.append(t3 - t2)
    return {k: 1e3 * statistics.median(v) for k, v in (("frame", whole), ("build", build), ("json", encode))}


def page_rate(url: str, seconds: float) -> tuple[dict[str, float] | None, str]:
    """Press net-play in headless Chromium and count the frames drawn for ``seconds``; (figures, or None and why)."""
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return None, f"not measured: no Chromium at {CHROMIUM} (apt-get install chromium)"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None, "not measured: Playwright for Python is not installed (pip install playwright)"
    clock = "() => [performance.now(), Number(document.querySelector('[data-testid=net-boundary]').dataset.frames)]"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{url}#network")
            page.wait_for_selector("body[data-ready='true']")
            page.wait_for_selector("body[data-pending='0']", state="attached")
            drawn = page.evaluate(clock)[1]
            page.get_by_test_id("net-play").click()
            page.wait_for_function(f"() => {clock}()[1] > {drawn}")  # the stream's first frame is drawn
            t0, f0 = page.evaluate(clock)
            page.wait_for_timeout(seconds * 1000)
            t1, f1 = page.evaluate(clock)
            steps = float(page.get_by_test_id("net-step-count").text_content() or "nan")
            page.get_by_test_id("net-play").click()
        finally:
            browser.close()
    elapsed = (t1 - t0) / 1000
    return {"fps": (f1 - f0) / elapsed, "frames": f1 - f0, "seconds": elapsed, "steps": steps}, ""


def main(argv: list[str] | None = None) -> list[str]:
    parser = add_options(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    parser.add_argument("--seconds", type=float, default=None,
                        help="how long each measurement listens (default 5; 3 with --quick, 0.5 with --tiny)")
    args = parser.parse_args(argv)
    seconds = args.seconds or (0.5 if args.tiny else 3.0 if args.quick else 5.0)
    if not seconds > 0:
        parser.error("--seconds must be positive")
    costs = frame_costs(3 if args.tiny else 20)
    with _Server() as url:
        sse = stream_rate(url, seconds)
        # the tests' smoke run (--tiny) starts no browser: that alone costs seconds, and it times nothing else
        page, why = (None, "not measured in a --tiny run") if args.tiny else page_rate(url, seconds)
    lines = ["## Playground update rate (bench_playground.py)", "", machine(), "",
             f"The Network tab's default network: {CONFIG}. Each measurement listens for {seconds:g} s.", "",
             "### (a) The live training stream over a real server (uvicorn, server-sent events)", "",
             "| measured | value |", "|---|---|",
             f"| frames per second, as a client reads them | {sse['fps']:.1f} ({sse['frames']} frames) |",
             f"| training steps per frame (median) | {sse['steps']:.0f} |",
             f"| training steps per second | {sse['steps_per_second']:.0f} |",
             f"| frame size (median) | {sse['kb']:.1f} KB |",
             f"| in process: one streamed frame, training included (median) | {costs['frame']:.1f} ms |",
             f"| in process: building a frame without training (median) | {costs['build']:.1f} ms |",
             f"| in process: writing a frame's JSON (median) | {costs['json']:.1f} ms |", "",
             target("stream frames per second, default network", sse["fps"], TARGET, unit="/s", at_least=True), "",
             "### (b) The page in headless Chromium, drawing each frame", ""]
    if page is not None:
        lines += ["| measured | value |", "|---|---|",
                  f"| updates drawn per second (net-boundary data-frames) | {page['fps']:.1f} ({page['frames']:.0f} "
                  f"frames in {page['seconds']:.2f} s) |",
                  f"| steps trained when paused | {page['steps']:.0f} |", ""]
    lines += [target("page updates per second in headless Chromium, default network",
                     None if page is None else page["fps"], TARGET, unit="/s", at_least=True, missing=why), ""]
    print("\n".join(lines))
    return lines


if __name__ == "__main__":
    main()
