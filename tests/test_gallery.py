"""``tinygrad-mvc demo --all``: every course job from an installed package, its gallery page, and that page in Chromium.

One run serves the whole module (a session fixture): the source is copied to a temporary folder and
installed there NON-editable (``pip install --no-deps --no-build-isolation --target``, offline), then
``python -m tinygrad_mvc demo --all --out OUT`` runs from an unrelated folder with ``PYTHONPATH`` set to
the install, so the package, the course modules and anything they need must be in the wheel. The
gallery checks, the per-job file checks and the browser test all read that one run's output.

The browser test reuses the headless Chromium of tests/test_backprop_browser.py (Debian's
/usr/bin/chromium through Playwright with ``executable_path``; never skipped, it fails saying what to
install). It leaves a screenshot in /tmp/course16/gallery.png for review.
"""

from __future__ import annotations

import html.parser
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pytest
from conftest import early_result
from test_backprop_browser import browser  # noqa: F401  (the fixture: one Chromium for this module)
from test_demos import assert_valid_png

from tinygrad_mvc.cli import main
from tinygrad_mvc.course import JOBS, MAIN, TOPICS, Job, JobResult, gallery
from tinygrad_mvc.course.gallery import gallery_html, run_job

ROOT = Path(__file__).resolve().parent.parent
SHOT = Path("/tmp/course16/gallery.png")
TOPIC_TITLES = ["Functions and derivatives", "Multivariate calculus", "The multivariate chain rule",
                "Taylor series and linearisation", "Optimisation", "Regression"]
# What each job writes: the contract the gallery shows (Graphviz's dot is installed here, so no .dot fallbacks).
EXPECTED = {
    "train_moons": {"loss.png", "decision_boundary.png", "neuron_graph.png", "backprop.html", "backprop.gif"},
    "derivatives": {"derivatives.png", "derivative_errors.png"},
    "sandpit": {"sandpit.png", "sandpit_newton.png", "sandpit_hessian.png"},
    "backprop_by_hand": {"gradients.png", "network_graph.png"},
    "computation_graph": {"neuron_graph.png", "backprop.html", "backprop.gif"},
    "curve_network": {"curve_network_fit.png", "curve_network_cost.png"},
    "taylor_series": {"taylor_exp.png", "taylor_sin_cos.png", "taylor_radius.png", "taylor_2d.png",
                      "taylor_surface.png"},
    "newton_raphson": {"newton_sextic.png", "newton_secant.png", "newton_cycle.png"},
    "gradient_descent": {"descent_bowl.png", "descent_rosenbrock.png", "descent_stationary.png"},
    "lagrange_multipliers": {"lagrange_circle.png", "lagrange_on_circle.png"},
    "chi_squared_fit": {"heights_fit.png", "heights_chi2.png", "chi2_fit_poisson.png", "chi2_fit_line.png"},
}


class Page(html.parser.HTMLParser):
    """What the tests read from index.html: every link and source, the sections, the jobs and the captions."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.refs: list[str] = []
        self.tags: list[str] = []
        self.sections: list[tuple[str, str]] = []  # (class, heading)
        self.jobs: list[str] = []
        self.figures: list[str] = []
        self.captions: list[str] = []
        self._in: str | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append(tag)
        self.refs += [v for k, v in attrs if k in ("href", "src") and v is not None]
        if tag == "section":
            self.sections.append((a.get("class") or "", ""))
        elif tag == "h2":
            self._in = "h2"
        elif tag == "article":
            self.jobs.append(a.get("data-job") or "")
        elif tag == "figure":
            self.figures.append(a.get("data-file") or "")
        elif tag == "span" and a.get("class") == "caption":
            self._in = "caption"
            self.captions.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("h2", "span"):
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "h2":
            cls, heading = self.sections[-1]
            self.sections[-1] = (cls, heading + data)
        elif self._in == "caption":
            self.captions[-1] += data


# --------------------------------------------------------------------------- one run, from an installed package

def EARLY_WORK(base: Path) -> dict[str, Any]:  # noqa: N802 (conftest's name: started as soon as collected)
    """Install a copy of the package (non-editable) and run ``demo --all`` with it from an unrelated folder."""
    import setuptools  # the build backend, offline: pyproject.toml asks for setuptools>=77

    assert int(setuptools.__version__.split(".")[0]) >= 77, setuptools.__version__
    src, site, out, elsewhere = base / "src", base / "site", base / "gallery", base / "elsewhere"
    src.mkdir()
    elsewhere.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, src / name)  # a copy: pip builds in the source tree, which must stay clean
    shutil.copytree(ROOT / "tinygrad_mvc", src / "tinygrad_mvc", ignore=shutil.ignore_patterns("__pycache__"))
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index",
                          "--no-compile", "--quiet", "--target", str(site), str(src)],
                         capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL)
    assert pip.returncode == 0, pip.stdout + pip.stderr
    env = dict(os.environ, PYTHONPATH=str(site), MPLBACKEND="Agg")
    where = subprocess.run([sys.executable, "-c", "import tinygrad_mvc, tinygrad_mvc.course.gallery as g; "
                            "print(tinygrad_mvc.__file__); print(g.__file__)"],
                           cwd=elsewhere, env=env, capture_output=True, text=True, timeout=60)
    assert where.returncode == 0, where.stderr
    proc = subprocess.run([sys.executable, "-m", "tinygrad_mvc", "demo", "--all", "--out", str(out)],
                          cwd=elsewhere, env=env, capture_output=True, text=True, timeout=300,
                          stdin=subprocess.DEVNULL)
    return {"site": site, "out": out, "proc": proc, "modules": where.stdout.split()}


@pytest.fixture(scope="session")
def installed() -> dict[str, Any]:
    return early_result(sys.modules[__name__])


def test_the_installed_package_is_the_one_that_runs(installed):
    site = installed["site"].resolve()
    for module in installed["modules"]:
        assert Path(module).resolve().is_relative_to(site), f"{module} is not the installed copy in {site}"
    names = {p.name for p in (site / "tinygrad_mvc" / "course").glob("*.py")}
    assert {"__init__.py", "jobs.py", "gallery.py", "moons.py", "calculus.py", "multivariate.py", "chain_rule.py",
            "taylor.py", "optimisation.py", "regression.py"} <= names, names


def test_demo_all_runs_every_job_and_reports_every_file(installed):
    proc, out = installed["proc"], installed["out"]
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    lines = proc.stdout.splitlines()
    assert lines[-1] == f"gallery: {(out / 'index.html').resolve()}", lines[-3:]
    reported = [Path(line[len("wrote "):]) for line in lines if line.startswith("wrote ")]
    written = sorted(p.resolve() for p in out.rglob("*") if p.is_file())
    assert sorted(p.resolve() for p in reported) == written, "every file is reported, and only those"
    assert {p.name for p in out.iterdir() if p.is_dir()} == set(JOBS)
    for name, files in EXPECTED.items():
        assert {p.name for p in (out / name).iterdir()} == files, name
        for png in (out / name).glob("*.png"):
            assert_valid_png(png)


def test_the_page_links_only_files_that_exist_and_shows_every_one(installed):
    out = installed["out"]
    text = (out / "index.html").read_text(encoding="utf-8")
    page = Page(text)
    assert "http:" not in text and "https:" not in text and "//" not in "".join(page.refs), "no network, no CDN"
    assert not {"script", "link", "iframe"} & set(page.tags), "plain HTML: no scripts, no external stylesheets"
    targets = set()
    for ref in page.refs:
        if ref.startswith("#"):
            continue
        parsed = urlparse(ref)
        assert not parsed.scheme and not parsed.netloc and not ref.startswith("/"), f"{ref} is not relative"
        target = (out / unquote(parsed.path)).resolve()
        assert target.is_file() and target.is_relative_to(out.resolve()), f"{ref} does not exist under {out}"
        targets.add(target)
    files = {p.resolve() for p in out.rglob("*") if p.is_file() and p.name != "index.html"}
    assert targets == files, f"not on the page: {sorted(files - targets)}"


def test_the_page_is_grouped_by_the_six_topics_with_captions_and_commands(installed):
    text = (installed["out"] / "index.html").read_text(encoding="utf-8")
    page = Page(text)
    assert [t.title for t in TOPICS] == TOPIC_TITLES
    assert page.sections[0][0] == "main"
    assert [h for c, h in page.sections if c == "topic"] == [f"{k}. {t}" for k, t in enumerate(TOPIC_TITLES, 1)]
    assert page.jobs == [MAIN.name] + [j.name for t in TOPICS for j in t.jobs] == list(JOBS)
    for job in JOBS.values():
        for command in job.commands:
            assert f"<code>{command}</code>" in text, command
    assert len(page.captions) == len(page.figures) == sum(len(f) for f in EXPECTED.values())
    for caption, name in zip(page.captions, page.figures):
        assert len(caption.split()) >= 8 and Path(name).name not in caption, f"{name}: caption {caption!r}"
    assert len(set(page.captions)) == len(page.captions), "each figure has its own caption"
    assert "FAILED" not in text


# --------------------------------------------------------------------------- in the browser

def test_gallery_renders_in_chromium(installed, browser):  # noqa: F811
    index = installed["out"] / "index.html"
    url = index.resolve().as_uri()
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    requests, errors = [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: errors.append(f"console.{m.type}: {m.text}") if m.type in ("error", "warning")
            else None)
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    page.goto(url)  # waits for the load event: every image has been fetched
    images = page.evaluate("() => Array.from(document.images).map(i => [i.getAttribute('src'), i.complete, "
                           "i.naturalWidth, i.getBoundingClientRect().width])")
    pictures = sum(1 for files in EXPECTED.values() for f in files if f.endswith((".png", ".gif")))
    assert len(images) == pictures
    for src, complete, natural, shown in images:
        assert complete and natural > 0, f"{src} did not load"
        assert 200 <= shown <= 1280, f"{src} is {shown} px wide on a 1280 px page"
    headings = [h.text_content() for h in page.locator("section.topic > h2").all()]
    assert headings == [f"{k}. {t}" for k, t in enumerate(TOPIC_TITLES, 1)]
    captions = page.locator("figcaption .caption").all()
    assert len(captions) == sum(len(f) for f in EXPECTED.values())
    for caption in captions:
        caption.scroll_into_view_if_needed()
        assert caption.is_visible() and caption.text_content().strip()
    SHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOT), full_page=True)
    first = page.locator("figure img").first
    target = page.locator("figure a").first.get_attribute("href")
    first.click()  # a thumbnail opens the picture itself, full size
    page.wait_for_load_state()
    assert page.url == (index.parent / unquote(target)).resolve().as_uri()
    assert errors == [], errors
    assert requests and all(r.startswith("file://") for r in requests), [r for r in requests
                                                                         if not r.startswith("file://")]
    page.close()
    narrow = browser.new_page(viewport={"width": 420, "height": 800})  # a phone: one column, nothing wider
    narrow.goto(url)
    assert narrow.evaluate("() => document.documentElement.scrollWidth") <= 420
    narrow.close()


# --------------------------------------------------------------------------- the command and the page, in process

def test_registry_names_every_job_once_in_the_course_order():
    names = [MAIN.name] + [j.name for t in TOPICS for j in t.jobs]
    assert names == list(JOBS) and len(set(names)) == len(names) == len(EXPECTED)
    assert set(EXPECTED) == set(JOBS)
    assert all(j.description and j.commands[0] == f"tinygrad-mvc demo --job {j.name}" for j in JOBS.values())


def test_a_caption_is_required():
    with pytest.raises(ValueError, match="needs a caption"):
        JobResult("x").add(Path("a.png"), "  ")


def _fake_jobs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The gallery's registry replaced by two quick jobs, one of which raises."""

    def good(out: Path, **training: object) -> JobResult:  # the main job gets --samples, --steps, --seed
        r = JobResult("good")
        (out / "a.gif").write_bytes(b"GIF89a")
        r.add(out / "a.gif", "a picture that worked <with> & markup")
        return r

    def bad(out: Path) -> JobResult:
        raise RuntimeError("the\nsky fell")

    from tinygrad_mvc.course import Topic

    topics = tuple(Topic(t, "summary", (Job("bad", "fails", bad),) if k == 2 else ()) for k, t in
                   enumerate(TOPIC_TITLES))
    monkeypatch.setattr(gallery, "MAIN", Job("good", "works", good))
    monkeypatch.setattr(gallery, "TOPICS", topics)


def test_demo_all_exits_1_when_a_job_fails_and_still_writes_the_page(tmp_path, monkeypatch, capsys):
    _fake_jobs(monkeypatch)
    assert main(["demo", "--all", "--out", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert captured.out.splitlines()[-1] == f"gallery: {(tmp_path / 'index.html').resolve()}"
    assert "bad: FAILED: RuntimeError: the sky fell" in captured.err
    text = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "FAILED: RuntimeError: the sky fell" in text and 'data-job="bad" data-ok="false"' in text
    assert "a picture that worked &lt;with&gt; &amp; markup" in text and 'src="good/a.gif"' in text


def test_demo_job_runs_one_job_into_its_folder(tmp_path, capsys):
    assert main(["demo", "--job", "derivatives", "--out", str(tmp_path)]) == 0
    assert {p.name for p in (tmp_path / "derivatives").iterdir()} == EXPECTED["derivatives"]
    assert [p.name for p in tmp_path.iterdir()] == ["derivatives"], "no gallery without --all"
    assert capsys.readouterr().out.splitlines()[-1] == f"pictures are in {(tmp_path / 'derivatives').resolve()}"


@pytest.mark.parametrize("args", [["--all", "--job", "derivatives"], ["--job", "nope"], ["--job"]])
def test_demo_job_and_all_usage_errors(args, capsys):
    assert main(["demo", *args]) == 2
    assert "tinygrad-mvc demo: error:" in capsys.readouterr().err


def test_a_job_that_raises_is_a_failed_result(tmp_path):
    def boom(out: Path) -> JobResult:
        raise ValueError("no")

    run = run_job(Job("boom", "raises", boom), tmp_path)
    assert not run.result.ok and run.result.failure == "ValueError: no" and run.out_dir == tmp_path / "boom"
    assert run.out_dir.is_dir()


def test_an_empty_gallery_is_still_a_page_with_the_six_topics():
    page = Page(gallery_html([]))
    assert [h for c, h in page.sections if c == "topic"] == [f"{k}. {t}" for k, t in enumerate(TOPIC_TITLES, 1)]
    assert page.jobs == [] and page.figures == []


def test_the_installed_package_serves_the_whole_playground(installed):
    # package data: the page, its style and every JavaScript module, from the installed copy (not this checkout)
    code = ("import tinygrad_mvc, sys; from starlette.testclient import TestClient; "
            "from tinygrad_mvc.playground import create_app; from tinygrad_mvc.playground.tabs import TABS; "
            "c = TestClient(create_app()); "
            "paths = ['/', '/static/app.js', '/static/style.css', '/static/lib/api.js', '/static/lib/ui.js', "
            "'/static/lib/plot.js'] + [f'/static/tabs/{t}.{x}' for t in TABS for x in ('js', 'css')]; "
            "print(tinygrad_mvc.__file__); print(*[f'{p} {c.get(p).status_code}' for p in paths], sep='\\n')")
    env = dict(os.environ, PYTHONPATH=str(installed["site"]))
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60,
                          cwd=installed["out"].parent / "elsewhere")
    assert proc.returncode == 0, proc.stderr
    first, *served = proc.stdout.splitlines()
    assert Path(first).resolve().is_relative_to(installed["site"].resolve())
    assert len(served) == 18 and all(line.endswith(" 200") for line in served), served
