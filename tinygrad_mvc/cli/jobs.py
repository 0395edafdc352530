"""Where ``bench`` and ``graph`` find the output folder's default and ``prepare_out``: re-exported from
:mod:`tinygrad_mvc.course.jobs`, where the jobs' plumbing lives (kept so their imports stay as they are)."""

from tinygrad_mvc.course.jobs import OUT_ROOT, prepare_out

__all__ = ["OUT_ROOT", "prepare_out"]
