"""The README stays true: its set-up commands, its CI promise, and the output its examples print."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```(\w*)\n(.*?)```", README, flags=re.S)  # (language, body) in order


def setup_commands() -> list[str]:
    lang, body = BLOCKS[0]
    assert lang == "bash", "the README opens with the set-up commands in a bash block"
    return [line for line in body.splitlines() if line.strip()]


def test_readme_opens_with_the_main_job_and_the_test_command():
    main_job, tests = setup_commands()
    assert main_job.endswith("tinygrad-mvc demo")
    assert "pip install -e" in main_job and "pip install -e" in tests
    assert "pytest" in tests


def test_ci_runs_exactly_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    _, tests = setup_commands()
    assert any(line.strip().startswith(tests) for line in ci.splitlines()), f".ci/run does not run {tests!r}"


def examples() -> list[tuple[str, str]]:
    """Each python block followed directly by a text block: (code, expected output)."""
    pairs = []
    for (lang, code), (next_lang, output) in zip(BLOCKS, BLOCKS[1:]):
        if lang == "python" and next_lang == "text":
            pairs.append((code, output))
    return pairs


def test_readme_has_examples():
    assert len(examples()) >= 3


@pytest.mark.parametrize("code,expected", examples(), ids=lambda s: s.splitlines()[0][:40] if "\n" in s else None)
def test_readme_example_prints_what_the_readme_says(code, expected, tmp_path):
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == expected


def test_every_picture_the_readme_shows_is_in_the_repository():
    import re

    from PIL import Image

    pictures = re.findall(r"!\[([^\]]+)\]\(([^)]+)\)", README)
    playground = [path for _, path in pictures if path.startswith("docs/playground/")]
    assert len(playground) == 6, playground  # one screenshot per tab of the playground
    for alt, path in pictures:
        assert alt.strip(), f"{path} has no alt text"
        with Image.open(ROOT / path) as image:
            assert image.width >= 800 and image.height >= 400, (path, image.size)
