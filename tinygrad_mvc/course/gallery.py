"""``tinygrad-mvc demo --all``: run every job into ``DIR/NAME/`` and write ``DIR/index.html``, one offline page.

The page shows every figure of every job, grouped by the course's six topics (after the main job), each
with its caption and the commands that made it. It is plain HTML with inline CSS: no script, no network,
no CDN, only relative links, so it opens from disk (``file://``) and still works when ``DIR`` is moved.
PNG and GIF files are shown as thumbnails that open full size; other files (the ``backprop.html`` pages,
DOT sources without Graphviz) are links. A job that fails or raises is marked FAILED on the page with its
reason, and the others are still run and shown; :func:`run_all` reports whether all succeeded.

>>> page = gallery_html([])
>>> page.startswith("<!DOCTYPE html>") and "http" not in page.split("<body>")[1]
True
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from . import MAIN, TOPICS
from .jobs import Job, JobResult, prepare_out, report

__all__ = ["Run", "run_job", "run_all", "gallery_html", "write_gallery", "INDEX"]

INDEX = "index.html"
IMAGES = (".png", ".gif", ".svg", ".jpg", ".jpeg")

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; max-width: 1280px;
       padding: 1rem 1.5rem 3rem; color: #1f2328; line-height: 1.45; background: #fff; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.3rem; border-bottom: 2px solid #d0d7de; padding-bottom: 0.2rem; margin-top: 2.2rem; }
h3 { font-size: 1.05rem; margin: 1.2rem 0 0.2rem; }
nav ul { columns: 2; list-style: none; padding-left: 0.4rem; }
.summary { color: #57606a; margin-top: 0; }
code { background: #f6f8fa; padding: 0.05rem 0.3rem; border-radius: 4px; font-size: 0.9em; }
.commands { margin: 0.2rem 0 0.6rem; font-size: 0.92rem; }
.status-failed { color: #b91c1c; font-weight: bold; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); gap: 1rem; }
figure { margin: 0; border: 1px solid #d0d7de; border-radius: 6px; padding: 0.5rem; background: #fafbfc; }
figure img { width: 100%; height: 230px; object-fit: contain; background: #fff; display: block; }
figure .file { display: flex; align-items: center; justify-content: center; height: 230px; background: #fff;
               font-size: 1.05rem; text-align: center; }
figcaption { font-size: 0.9rem; margin-top: 0.4rem; }
figcaption .name { font-family: ui-monospace, monospace; font-size: 0.82rem; color: #57606a; }
details { margin-top: 0.5rem; font-size: 0.85rem; }
pre { background: #f6f8fa; padding: 0.6rem; overflow-x: auto; font-size: 0.8rem; }
"""


@dataclass
class Run:
    """One job as run for the gallery: the job, the folder it wrote into, and its result."""

    job: Job
    out_dir: Path
    result: JobResult


def run_job(job: Job, root: Path, **options: object) -> Run:
    """Run ``job`` into ``root / job.name``; an exception becomes a failed result, so the other jobs still run."""
    out = prepare_out(Path(root) / job.name)
    try:
        result = job.run(out, **options)
    except Exception as err:  # the gallery shows what went wrong; the command exits 1
        result = JobResult(job.name, ok=False, failure=f"{type(err).__name__}: {' '.join(str(err).split())}")
    return Run(job, out, result)


def run_all(root: Path | str, main_options: dict[str, object] | None = None) -> tuple[list[Run], Path, int]:
    """Run the main job and every course job into ``root/NAME/``, printing each one's report, and write the
    gallery; return the runs, the page's path and the exit code (1 if any job failed)."""
    root = prepare_out(root)
    runs, code = [], 0
    for job in (MAIN, *(j for topic in TOPICS for j in topic.jobs)):
        print(f"== {job.name}: {job.description}", flush=True)
        run = run_job(job, root, **((main_options or {}) if job is MAIN else {}))
        code |= report(run.result)
        runs.append(run)
    return runs, write_gallery(root, runs), code


def write_gallery(root: Path, runs: Sequence[Run]) -> Path:
    """Write ``root / index.html`` for ``runs`` (their files must lie under ``root``) and return its path."""
    path = Path(root) / INDEX
    path.write_text(gallery_html(runs, root), encoding="utf-8")
    return path


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _href(path: Path, root: Path) -> str:
    return quote(Path(path).resolve().relative_to(Path(root).resolve()).as_posix())


def _figure(path: Path, caption: str, root: Path) -> str:
    href = _href(path, root)
    name = Path(path).name
    if Path(path).suffix.lower() in IMAGES:
        shown = f'<a href="{href}"><img src="{href}" alt="{_e(caption)}"></a>'
    else:
        what = "open the step-by-step page" if Path(path).suffix == ".html" else f"open {name}"
        shown = f'<a class="file" href="{href}">{_e(what)} →</a>'
    return (f'<figure data-file="{_e(href)}">{shown}<figcaption><span class="caption">{_e(caption)}</span><br>'
            f'<span class="name">{_e(name)}</span></figcaption></figure>')


def _job(run: Run, root: Path) -> str:
    job, result = run.job, run.result
    commands = " or ".join(f"<code>{_e(c)}</code>" for c in job.commands)
    status = "" if result.ok else f'<p class="status-failed">FAILED: {_e(result.failure)}</p>'
    figures = "\n".join(_figure(p, result.captions.get(p, p.name), root) for p in result.files)
    printed = ""
    if result.summary:
        printed = f"<details><summary>what it printed</summary><pre>{_e(chr(10).join(result.summary))}</pre></details>"
    return (f'<article class="job" id="{_e(job.name)}" data-job="{_e(job.name)}" data-ok="{str(result.ok).lower()}">'
            f"<h3>{_e(job.name)}: {_e(job.description)}</h3>"
            f'<p class="commands">made by {commands}</p>{status}'
            f'<div class="grid">{figures}</div>{printed}</article>')


def gallery_html(runs: Sequence[Run], root: Path | str = ".") -> str:
    """The gallery page for ``runs``: the main job's section, then one section per topic, in the course's order."""
    root = Path(root)
    by_name = {run.job.name: run for run in runs}
    sections, toc = [], []

    def section(cls: str, anchor: str, heading: str, summary: str, jobs: Sequence[Job]) -> None:
        body = "\n".join(_job(by_name[j.name], root) for j in jobs if j.name in by_name)
        sections.append(f'<section class="{cls}" id="{anchor}"><h2>{_e(heading)}</h2>'
                        f'<p class="summary">{_e(summary)}</p>{body}</section>')
        toc.append(f'<li><a href="#{anchor}">{_e(heading)}</a></li>')

    section("main", "main", "The main job: training a network",
            "micrograd's demo done with whole arrays: a small network learns to separate two moons", [MAIN])
    for k, topic in enumerate(TOPICS, 1):
        section("topic", f"topic-{k}", f"{k}. {topic.title}", topic.summary, topic.jobs)
    failed = [run.job.name for run in runs if not run.result.ok]
    note = (f'<p class="status-failed">FAILED: {_e(", ".join(failed))} (see below)</p>' if failed else "")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tinygrad_mvc: the course's pictures</title>
<style>{CSS}</style>
</head>
<body>
<h1>tinygrad_mvc: the course's pictures</h1>
<p class="summary">Every figure of the demos for Imperial's <em>Mathematics for Machine Learning: Multivariate
Calculus</em>, grouped by the course's six topics. Click a picture to open it full size. Made by
<code>tinygrad-mvc demo --all</code>; each job also runs alone with the commands shown.</p>
{note}
<nav><ul>{"".join(toc)}</ul></nav>
{chr(10).join(sections)}
</body>
</html>
"""
