"""Memory as users get it (issue 18): page faults per training step in a default process, and the
opt-in ``tg.tune_allocator()``.

Page faults are counted with ``resource.getrusage(RUSAGE_SELF).ru_minflt`` in a fresh Python
process (the allocator's state is process-wide, so a measurement inside pytest's process would
depend on what ran before it).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

import tinygrad_mvc as tg

ROOT = Path(__file__).resolve().parents[1]
GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"

# A 256-256-256-10 float32 step (arrays of 256 KB, above glibc's initial 128 KB mmap threshold) and a
# Rosenbrock gradient on 100 000 floats (800 KB arrays, several freed at once). Prints the page faults
# per call of each, once warm, as JSON.
_CHILD = r"""
import json, os, resource, sys
import numpy as np
import tinygrad_mvc as tg
if sys.argv[1] == "tuned":
    assert tg.tune_allocator()
faults = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_minflt
rng = np.random.default_rng(0)
X = rng.standard_normal((256, 256)).astype(np.float32)
labels = rng.integers(0, 10, 256)
model = tg.nn.MLP([256, 256, 256, 10], activation="tanh", rng=0, dtype=np.float32)
opt = tg.optim.SGD(model.parameters(), lr=0.01)
rows = np.arange(256)

def step():
    z = model(X)
    loss = (tg.logsumexp(z, axis=1) - z[rows, labels]).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()

def rosen(x):
    a = x[:-1]
    return (100 * (x[1:] - a * a) ** 2 + (1 - a) ** 2).sum()

x0 = np.linspace(-1, 1, 100_000)
grad = lambda: tg.grad(rosen)(x0)
out = {}
for name, fn in (("step", step), ("grad", grad)):
    for _ in range(3):
        fn()
    f0 = faults()
    for _ in range(10):
        fn()
    out[name] = (faults() - f0) / 10
print(json.dumps(out))
"""


def faults_per_call(malloc: str) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    for var in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_"):
        env.pop(var, None)
    proc = subprocess.run([sys.executable, "-c", _CHILD, malloc], env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.splitlines()[-1])


@pytest.mark.skipif(not GLIBC, reason="counts glibc's behaviour")
def test_page_faults_per_call_default_process_and_tuned():
    default, tuned = faults_per_call("default"), faults_per_call("tuned")
    # The network step reuses its memory in a default process: no array of the step (64 pages each) is
    # faulted in again per step, so users need no allocator setting for it.
    assert default["step"] < 16, default
    # A gradient on 100 000 floats frees several 800 KB temporaries at once; glibc gives them back and
    # faults them in again on every call (about 195 pages each) unless tune_allocator() is called. This
    # also checks that the setting is opt-in: importing the library or training does not apply it.
    assert default["grad"] > 300, default
    assert tuned["grad"] < 16 and tuned["step"] < 16, tuned


@pytest.mark.parametrize("kwargs", [{"mmap_threshold": -1}, {"trim_threshold": 2.5}, {"top_pad": True},
                                    {"mmap_threshold": "1M"}])
def test_tune_allocator_refuses_sizes_that_are_not_byte_counts(kwargs):
    (name, value), = kwargs.items()
    with pytest.raises(ValueError, match=rf"tune_allocator: {name} must be a number of bytes.*got {value!r}"):
        tg.tune_allocator(**kwargs)


