"""The course's demos as jobs: one module per topic of Imperial's *Mathematics for ML: Multivariate Calculus*.

Each topic module has a ``TITLE``, a one-line ``SUMMARY`` and its ``JOBS`` (:class:`~.jobs.Job`: a name, a
description and ``run(out_dir) -> JobResult``); :mod:`.moons` holds the main job, training a network on two moons.
:data:`TOPICS` and :data:`JOBS` are the registry that ``tinygrad-mvc demo --all`` (and its gallery, see
:mod:`.gallery`), ``demo --job NAME`` and the thin scripts ``demos/NAME.py`` read; the jobs import matplotlib
only when they run.

>>> [t.title for t in TOPICS][:2]
['Functions and derivatives', 'Multivariate calculus']
>>> JOBS["newton_raphson"].commands
('tinygrad-mvc demo --job newton_raphson', 'python demos/newton_raphson.py')
"""

from __future__ import annotations

from dataclasses import dataclass

from . import calculus, chain_rule, moons, multivariate, optimisation, regression, taylor
from .jobs import Job, JobResult, script_main

__all__ = ["Topic", "TOPICS", "MAIN", "JOBS", "Job", "JobResult", "script_main"]


@dataclass(frozen=True)
class Topic:
    """One topic of the course: its title, what it is about in one line, and its jobs in order."""

    title: str
    summary: str
    jobs: tuple[Job, ...]


TOPICS: tuple[Topic, ...] = tuple(Topic(m.TITLE, m.SUMMARY, m.JOBS)
                                  for m in (calculus, multivariate, chain_rule, taylor, optimisation, regression))
"""The six topics in the course's order."""

MAIN: Job = moons.JOB
"""The main job (``tinygrad-mvc demo``): training a small network on the two-moons data."""

JOBS: dict[str, Job] = {job.name: job for job in (MAIN, *(j for t in TOPICS for j in t.jobs))}
"""Every job by name: the main job first, then the topics' jobs in the course's order."""
