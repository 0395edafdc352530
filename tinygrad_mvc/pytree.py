"""Containers of arrays ("pytrees"): nested tuples, lists, namedtuples and dicts, flattened to leaves and back.

The transforms use this to differentiate with respect to a dict of parameters, as JAX and HIPS
autograd do: the container is flattened into its leaves (arrays, Tensors, numbers), each leaf is
differentiated, and the gradients are put back into a container of the same structure. ``None``
is an empty container (no leaves), so an optional entry such as a missing bias is kept as ``None``.

>>> leaves, tree = flatten({"w": [1.0, 2.0], "b": (3.0, None)})
>>> leaves
[1.0, 2.0, 3.0]
>>> unflatten(tree, [10, 20, 30])
{'w': [10, 20], 'b': (30, None)}
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

__all__ = ["TreeDef", "is_container", "flatten", "unflatten", "flatten_like", "tree_map"]


class TreeDef:
    """The structure of a container without its leaves: a kind, the keys or type, and the children."""

    __slots__ = ("kind", "meta", "children", "num_leaves")

    def __init__(self, kind: str, meta: Any = None, children: tuple[TreeDef, ...] = ()) -> None:
        self.kind = kind  # "leaf", "none", "tuple", "list", "namedtuple" (meta: the type) or "dict" (meta: keys)
        self.meta = meta
        self.children = children
        self.num_leaves = 1 if kind == "leaf" else sum(c.num_leaves for c in children)

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, TreeDef) and self.kind == other.kind and self.meta == other.meta
                and self.children == other.children)

    def __hash__(self) -> int:
        return hash((self.kind, self.num_leaves))

    def __repr__(self) -> str:
        if self.kind == "leaf":
            return "*"
        if self.kind == "none":
            return "None"
        inner = ", ".join(repr(c) for c in self.children)
        if self.kind == "dict":
            inner = ", ".join(f"{k!r}: {c!r}" for k, c in zip(self.meta[1], self.children))
            return "{" + inner + "}"
        if self.kind == "list":
            return f"[{inner}]"
        if self.kind == "namedtuple":
            return f"{self.meta.__name__}({inner})"
        return f"({inner}{',' if len(self.children) == 1 else ''})"


LEAF = TreeDef("leaf")
NONE = TreeDef("none")


def is_container(x: Any) -> bool:
    """True for the containers that are flattened: tuples (namedtuples too), lists and dicts."""
    return isinstance(x, (tuple, list, dict))


def flatten(tree: Any) -> tuple[list[Any], TreeDef]:
    """``(leaves, treedef)``: the leaves in order (dicts in their key order) and the structure around them."""
    leaves: list[Any] = []
    return leaves, _flatten(tree, leaves)


def _flatten(node: Any, leaves: list[Any]) -> TreeDef:
    if node is None:
        return NONE
    if isinstance(node, dict):
        keys = tuple(node)
        kind = OrderedDict if isinstance(node, OrderedDict) else dict
        return TreeDef("dict", (kind, keys), tuple(_flatten(node[k], leaves) for k in keys))
    if isinstance(node, tuple):
        children = tuple(_flatten(v, leaves) for v in node)
        if hasattr(type(node), "_fields"):
            return TreeDef("namedtuple", type(node), children)
        return TreeDef("tuple", None, children)
    if isinstance(node, list):
        return TreeDef("list", None, tuple(_flatten(v, leaves) for v in node))
    leaves.append(node)
    return LEAF


def unflatten(treedef: TreeDef, leaves: Any) -> Any:
    """The container of ``treedef``'s structure holding ``leaves`` (in the order :func:`flatten` gave them)."""
    it = iter(leaves)
    tree = _build(treedef, it)
    if next(it, _END) is not _END:
        raise ValueError(f"unflatten: more leaves than the {treedef.num_leaves} of the structure {treedef!r}")
    return tree


_END = object()


def _build(td: TreeDef, it: Any) -> Any:
    if td.kind == "leaf":
        leaf = next(it, _END)
        if leaf is _END:
            raise ValueError("unflatten: fewer leaves than the structure holds")
        return leaf
    if td.kind == "none":
        return None
    children = [_build(c, it) for c in td.children]
    if td.kind == "dict":
        kind, keys = td.meta
        return kind(zip(keys, children))
    if td.kind == "list":
        return children
    if td.kind == "namedtuple":
        return td.meta(*children)
    return tuple(children)


def flatten_like(treedef: TreeDef, tree: Any, what: str) -> list[Any]:
    """The leaves of ``tree``, which must have the structure ``treedef`` (else ``ValueError`` naming ``what``)."""
    leaves, mine = flatten(tree)
    if mine != treedef:
        raise ValueError(f"{what} has the structure {mine!r} but it must match {treedef!r}")
    return leaves


def tree_map(f: Callable[..., Any], tree: Any, *rest: Any) -> Any:
    """``f`` applied to every leaf (and the matching leaves of ``rest``), in a container of the same structure.

    >>> tree_map(lambda a, b: a + b, {"x": 1, "y": (2, 3)}, {"x": 10, "y": (20, 30)})
    {'x': 11, 'y': (22, 33)}
    """
    leaves, td = flatten(tree)
    others = [flatten_like(td, r, "tree_map: a further argument") for r in rest]
    return unflatten(td, [f(*xs) for xs in zip(leaves, *others)])
