"""docs/API.md, the API reference: every public name is in it, its examples run, and the README links to it.

A name counts as documented when its qualified form appears in an inline code span of the text
(``tg.grad``, ``tg.nn.Linear``, ``t.backward``), not merely in an example. The ```python blocks
are doctests run in order in one namespace (with ``np`` and ``tg``), in a temporary folder.
"""

from __future__ import annotations

import doctest
import importlib
import re
import unicodedata
from pathlib import Path

import numpy as np
import pytest

import tinygrad_mvc as tg
from tinygrad_mvc.cli import SUBCOMMANDS, build_parser

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "API.md"
TEXT = DOC.read_text(encoding="utf-8")
BLOCKS = re.findall(r"^```python\n(.*?)^```$", TEXT, flags=re.S | re.M)
PROSE = re.sub(r"^```.*?^```$", "", TEXT, flags=re.S | re.M)
SPANS = re.findall(r"`([^`\n]+)`", PROSE)

SUBMODULES = ["nn", "losses", "optim", "optimize", "fit", "finite_diff", "viz", "expr", "datasets", "linalg"]


def documented(qualified: str) -> bool:
    pattern = re.compile(rf"(?<![\w.]){re.escape(qualified)}(?![\w])")
    return any(pattern.search(span) for span in SPANS)


def public_names() -> list[str]:
    names = [f"tg.{name}" for name in tg.__all__]
    for sub in SUBMODULES:
        module = importlib.import_module(f"tinygrad_mvc.{sub}")
        names += [f"tg.{sub}.{name}" for name in module.__all__]
    names += [f"t.{name}" for name in dir(tg.Tensor) if not name.startswith("_")]
    return names


def test_every_public_name_is_documented():
    missing = [name for name in public_names() if not documented(name)]
    assert not missing, f"docs/API.md does not document: {', '.join(missing)}"


def test_the_check_itself_catches_a_missing_name():
    assert documented("tg.grad") and documented("t.backward") and documented("tg.nn.Linear")
    assert not documented("tg.no_such_function") and not documented("tg.gra")


def test_every_command_and_bench_option_is_documented():
    for name in SUBCOMMANDS:
        assert documented(f"tinygrad-mvc {name}"), name
    parser = build_parser()
    bench = parser._subparsers._group_actions[0].choices["bench"]
    for action in bench._actions:
        for option in action.option_strings:
            if option.startswith("--") and option != "--help":
                assert any(option in span for span in SPANS), f"bench {option}"


def test_out_of_scope_section_names_what_is_refused():
    section = TEXT.split("## Out of scope", 1)[1]
    for word in ("Complex numbers", "FFT", "scipy.special", "Convolutions", "TypeError"):
        assert word in section, word


def test_examples_run_and_print_what_they_say(tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)  # examples that write files write here
    assert len(BLOCKS) >= 20
    globs = {"np": np, "tg": tg}
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    failed = []
    for k, block in enumerate(BLOCKS):
        test = parser.get_doctest(block, globs, f"docs/API.md block {k + 1}", str(DOC), 0)
        assert test.examples, f"block {k + 1} has no >>> examples"
        if runner.run(test, clear_globs=False).failed:
            failed.append(k + 1)
        globs = test.globs  # DocTest copies its globals: carry this block's names to the next
    assert not failed, f"docs/API.md python blocks {failed} failed (see the output above)"


def github_slug(heading: str) -> str:
    text = heading.strip().lower()
    text = "".join(ch for ch in text if ch in " -_" or unicodedata.category(ch)[0] in "LN")
    return text.replace(" ", "-")


def test_readme_refers_to_docs_api_md_by_links_that_resolve():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    links = re.findall(r"\[([^\]]*)\]\(([^)\s]+)\)", readme)
    api_links = [target for _, target in links if "API.md" in target]
    assert len(api_links) >= 5, api_links
    anchors = {github_slug(h) for h in re.findall(r"^#+ (.+)$", TEXT, flags=re.M)}
    for target in api_links:
        path, _, anchor = target.partition("#")
        assert path == "docs/API.md", target
        assert not anchor or anchor in anchors, f"{target}: no such heading in docs/API.md"
    # every mention of API.md outside a link is gone (the old "API.md §2" references)
    bare = re.sub(r"\[[^\]]*\]\([^)]*\)", "", readme)
    assert "API.md" not in bare.replace("docs/API.md", ""), "README mentions API.md without a link to docs/API.md"


@pytest.mark.parametrize("name", ["tg.grad", "tg.nn.Module", "t.backward", "tg.viz.draw_graph"])
def test_documented_entries_give_a_signature(name):
    assert re.search(rf"`{re.escape(name)}\(", PROSE) or re.search(rf"`{re.escape(name)}`", PROSE), name
