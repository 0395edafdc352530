"""The package metadata: an SPDX license with its LICENSE file, a setuptools that supports them, sane extras."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.requirements import Requirement

tomllib = pytest.importorskip("tomllib")  # Python 3.11+; the metadata is the same on 3.10

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def requirement(specs: list[str], name: str) -> Requirement:
    found = [Requirement(s) for s in specs if Requirement(s).name == name]
    assert len(found) == 1, f"{name} in {specs}"
    return found[0]


def test_license_is_an_spdx_string_with_its_file():
    project = PYPROJECT["project"]
    assert project["license"] == "MIT"  # PEP 639: an SPDX expression, not the deprecated table form
    assert project["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License\n")
    assert "Copyright (c) 2026 tinygrad_mvc contributors" in text
    assert "THE SOFTWARE IS PROVIDED \"AS IS\"" in text
    assert not any(c.startswith("License ::") for c in project.get("classifiers", []))  # PEP 639 forbids both


def test_setuptools_is_new_enough_for_spdx_license_strings():
    spec = requirement(PYPROJECT["build-system"]["requires"], "setuptools").specifier
    assert not spec.contains("76.1.0") and not spec.contains("64.0.0"), spec  # 77 is the first with PEP 639
    assert spec.contains("77.0.0") and spec.contains("80.9.0"), spec


def test_bench_extra_admits_the_torch_it_was_measured_with_without_pinning():
    spec = requirement(PYPROJECT["project"]["optional-dependencies"]["bench"], "torch").specifier
    assert spec.contains("2.13.0") and spec.contains("2.14.0"), spec
    assert not any(s.operator in ("==", "===") for s in spec), spec
