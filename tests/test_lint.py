"""The code base stays `ruff check` clean (configured in pyproject.toml)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_check_is_clean():
    if shutil.which("ruff") is None and subprocess.run([sys.executable, "-m", "ruff", "--version"],
                                                       capture_output=True).returncode != 0:
        pytest.fail("ruff is not installed: it is part of the test extra (pip install -e '.[test]')")
    cmd = ["ruff"] if shutil.which("ruff") else [sys.executable, "-m", "ruff"]
    result = subprocess.run(cmd + ["check", "tinygrad_mvc", "tests", "demos", "benchmarks"],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
