"""Shared timing for the benchmarks: warm-up, interleaved repeats, median and spread.

Columns of one case are timed round-robin in the same process (same BLAS threads, same
machine state), so their ratio is fair even on a noisy machine.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable

import numpy as np


def machine() -> str:
    """One line naming the machine, Python, NumPy and the BLAS thread setting."""
    threads = os.environ.get("OMP_NUM_THREADS") or os.environ.get("OPENBLAS_NUM_THREADS") or "default"
    return (f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"NumPy {np.__version__}, BLAS threads: {threads}")


def tune_malloc() -> str:
    """Keep freed memory inside the process (glibc only), for every column alike; returns a note.

    By default glibc maps each array larger than ~128 KB afresh and returns it to the system when
    freed, so every large temporary costs page faults that can dwarf the arithmetic (10x at n = 100 000
    here). Raising the mmap and trim thresholds makes NumPy's temporaries reuse memory, as PyTorch's
    allocator does. It changes no result, and all columns of a run share it.
    """
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return "malloc: default (not glibc)"
    m_trim_threshold, m_top_pad, m_mmap_threshold = -1, -2, -3
    ok = (mallopt(m_mmap_threshold, 1 << 25) and mallopt(m_trim_threshold, 1 << 30) and mallopt(m_top_pad, 1 << 26))
    return "malloc: glibc mmap/trim thresholds raised (freed memory reused)" if ok else "malloc: default"


def time_columns(columns: dict[str, Callable[[], object]], repeat: int = 20, warmup: int = 2,
                 min_time: float = 0.02) -> dict[str, tuple[float, float]]:
    """Median and interquartile spread (seconds per call) of each column, timed round-robin.

    Each sample runs the callable enough times to last about ``min_time``.
    """
    loops = {}
    for name, fn in columns.items():
        for _ in range(warmup):
            fn()
        t0 = time.perf_counter()
        fn()
        once = max(time.perf_counter() - t0, 1e-7)
        loops[name] = max(1, int(min_time / once))
    samples: dict[str, list[float]] = {name: [] for name in columns}
    for _ in range(repeat):
        for name, fn in columns.items():
            n = loops[name]
            t0 = time.perf_counter()
            for _ in range(n):
                fn()
            samples[name].append((time.perf_counter() - t0) / n)
    out = {}
    for name, s in samples.items():
        q = statistics.quantiles(s, n=4) if len(s) > 1 else [s[0]] * 3
        out[name] = (statistics.median(s), q[2] - q[0])
    return out


def report(title: str, results: dict[str, tuple[float, float]], reference: str) -> list[str]:
    """Rows 'name  median  spread  ratio to reference' as Markdown table lines."""
    ref = results[reference][0]
    lines = [f"### {title}", "", "| implementation | median | IQR | ratio to hand-written NumPy |", "|---|---|---|---|"]
    for name, (med, iqr) in results.items():
        lines.append(f"| {name} | {med * 1e3:.3f} ms | {iqr * 1e3:.3f} ms | {med / ref:.2f}x |")
    return lines
