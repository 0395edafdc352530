"""Small data sets: toy ones generated on the spot, and the course's own data shipped with the package
(no downloads).

>>> X, y = make_moons(6, noise=0.0, rng=0)
>>> X.shape, y.tolist()
((6, 2), [0, 0, 0, 1, 1, 1])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .creation import as_rng

__all__ = ["make_moons", "heights_histogram"]


def make_moons(n_samples: int = 100, noise: float = 0.1, rng: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles: ``X`` of shape ``(n, 2)`` and labels ``y`` in {0, 1}.

    Class 0 is the upper arc (cos t, sin t), class 1 the lower arc (1 − cos t, ½ − sin t), for t in
    [0, π]; Gaussian noise of standard deviation ``noise`` is added to every coordinate. The first
    ``n // 2`` points are class 0 (the order is not shuffled). ``rng`` is a seed or a Generator.
    """
    if not isinstance(n_samples, (int, np.integer)) or n_samples < 2:
        raise ValueError(f"make_moons: n_samples must be an integer ≥ 2, got {n_samples!r}")
    if not (np.isfinite(noise) and noise >= 0):
        raise ValueError(f"make_moons: noise must be ≥ 0, got {noise!r}")
    gen = as_rng(rng)
    n0 = n_samples // 2
    t0 = np.linspace(0, np.pi, n0)
    t1 = np.linspace(0, np.pi, n_samples - n0)
    X = np.concatenate([np.column_stack([np.cos(t0), np.sin(t0)]),
                        np.column_stack([1 - np.cos(t1), 0.5 - np.sin(t1)])])
    X += noise * gen.standard_normal(X.shape)
    y = np.concatenate([np.zeros(n0, dtype=np.int64), np.ones(n_samples - n0, dtype=np.int64)])
    return X, y


# ----------------------------------------------------------------------------- the course's heights histogram
# (issue 16, helper algo16): package data tinygrad_mvc/data/heights_histogram.csv, a copy of
# ../shared/data/heights_histogram.csv (the course's Week 6 HeightsModule.py), shipped by pyproject's package-data.

def heights_histogram() -> tuple[np.ndarray, np.ndarray]:
    """The course's heights histogram (Week 6): ``(bin_centres, freq)``, two arrays of 17 entries.

    ``freq`` is the fraction of people in each 2.5 cm bin (they sum to 0.995, the course's rounding);
    the bins start at 160, 162.5, ..., 200 cm and ``bin_centres`` is each start + 1.25. The course fits a
    Gaussian pdf ``exp(−(x − μ)²/(2σ²)) / (σ√(2π))`` to it by least squares (χ² = Σ (f(xᵢ) − freqᵢ)²).

    >>> x, freq = heights_histogram()
    >>> x[:2].tolist(), freq[:2].tolist(), round(float(freq.sum()), 6)
    ([161.25, 163.75], [0.031, 0.013], 0.995)
    """
    from importlib import resources

    text = (resources.files("tinygrad_mvc") / "data" / "heights_histogram.csv").read_text(encoding="utf-8")
    rows = [line.split(",") for line in text.splitlines()
            if line.strip() and not line.startswith("#") and not line.startswith("bin_start")]
    start = np.array([float(r[0]) for r in rows])
    return start + 1.25, np.array([float(r[1]) for r in rows])
