"""Reading the DOT source of ``draw_graph``: HTML-like labels back into their text rows (shared by the graph tests)."""

from __future__ import annotations

import html
import re

ID = re.compile(r"^\s*(\w+)(?: -> (\w+))?\s*(?:\[(.*)\])?\s*$")


def _html_label(attrs: str, start: int) -> tuple[str, int]:
    """The inside of the HTML-like label opening at ``attrs[start] == '<'`` (angle brackets balanced)."""
    depth = 0
    for k in range(start, len(attrs)):
        depth += {"<": 1, ">": -1}.get(attrs[k], 0)
        if depth == 0:
            return attrs[start + 1:k], k + 1
    raise AssertionError(f"unbalanced HTML-like label in {attrs!r}")


def label_of(attrs: str) -> str | None:
    """The label attribute of one DOT statement: an HTML-like label's inside, or a quoted/bare label's text."""
    m = re.search(r"(?:^|\s)label=", attrs)
    if m is None:
        return None
    k = m.end()
    if attrs[k] == "<":
        return _html_label(attrs, k)[0]
    if attrs[k] == '"':
        q = re.match(r'"((?:[^"\\]|\\.)*)"', attrs[k:])
        return q.group(1)
    return re.match(r"[^\s\]]+", attrs[k:]).group(0)


def rows(label: str) -> list[str]:
    """The text rows of an HTML-like label (each <TD>, tags stripped, entities decoded); plain text as one row."""
    cells = re.findall(r"<TD>(.*?)</TD>", label) or [label]
    # graph.py doubles backslashes (Graphviz reads \\ as one even in HTML-like labels): undo that too
    return [html.unescape(re.sub(r"<[^>]*>", "", c.replace("<BR/>", "\n")).replace("\\\\", "\\")) for c in cells]


def parse(dot) -> tuple[dict[str, list[str]], list[tuple[str, str, str | None]]]:
    """Node id -> its label rows, and the visible edges (tail, head, label text or None) in order."""
    nodes: dict[str, list[str]] = {}
    edges: list[tuple[str, str, str | None]] = []
    for line in dot.source.splitlines():
        m = ID.match(line)
        if m is None:
            continue
        tail, head, attrs = m.groups()
        attrs = attrs or ""
        label = label_of(attrs)
        if head is not None:
            if "style=invis" not in attrs:
                edges.append((tail, head, None if label is None else " ".join(rows(label))))
        elif label is not None:
            nodes[tail] = rows(label)
    return nodes, edges


def find(nodes: dict[str, list[str]], header: str) -> str:
    """The one node whose first row (its header) is ``header``."""
    hits = [k for k, r in nodes.items() if r[0] == header]
    assert len(hits) == 1, f"{header!r} heads {hits} in {nodes}"
    return hits[0]


def find_all(nodes: dict[str, list[str]], header: str) -> list[str]:
    return [k for k, r in nodes.items() if r[0] == header]


def grad_row(row_list: list[str]) -> str | None:
    """The gradient text of a node ("grad …" row without the prefix), None without one."""
    found = [r[5:] for r in row_list if r.startswith("grad ")]
    return found[0] if found else None
