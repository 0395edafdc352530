"""The Graph tab: an expression's computation graph at a point, with the forward and backward pass frame by frame.

One action, ``run`` ``{expr, at}``: ``expr`` is parsed by :mod:`tinygrad_mvc.expr` (never Python); ``at`` is the
point as text, ``"x=1 y=2"`` (one ``NAME=VALUE`` per variable, values read by
:func:`tinygrad_mvc.expr.parse_number`). Each variable becomes a float64 leaf named after it, as
``tinygrad-mvc graph`` makes them; ``tg.viz.backprop`` records the backward pass, and the answer is the
animation of :mod:`tinygrad_mvc.viz.animate` in parts (``player_parts``): the graph's SVG, laid out once by
Graphviz's ``dot``, and the frames that set each node's value and gradient text (4 significant digits, as
the self-contained HTML player shows them), plus the value and each input's gradient as exact floats.
The page steps through the frames itself; nothing is kept between requests.

>>> out = ACTIONS["run"]({}, {"expr": "x*y + sin(x)", "at": "x=1 y=2"}, Limits())
>>> out["value"], [(v["name"], v["grad"]) for v in out["inputs"]]
(2.8414709848078967, [('x', 2.5403023058681398), ('y', 1.0)])
>>> out["frames"][-1]["caption"]
'done: every gradient, each the sum over the paths to the output'
"""

from __future__ import annotations

import math
import re
import shutil
from typing import Any

import numpy as np

import tinygrad_mvc as tg

from ...cli import UsageError
from ...cli.graph import match_point, parse_assignments
from ...expr import Expr, ExprError, parse
from ...viz.animate import player_parts
from ..limits import Limits
from ..protocol import Refused, expression, text

_SEPARATORS = re.compile(r"[\s,;]+")
_ASSIGN = re.compile(r"\s*=\s*")


def read_point(source: str, expr: Expr) -> dict[str, float]:
    """``"x=1 y=2"`` -> ``{"x": 1.0, "y": 2.0}``: one finite value per variable of ``expr``, else :class:`Refused`.

    Pairs are separated by blanks, commas or semicolons; blanks around ``=`` are allowed. Each pair is read as
    ``tinygrad-mvc graph --at`` reads it (values by :func:`tinygrad_mvc.expr.parse_number`: ASCII digits, no ``_``).

    >>> read_point("y = -2.5, x=1", parse("x*y"))
    {'y': -2.5, 'x': 1.0}
    >>> read_point("x=1", parse("x*y"))
    Traceback (most recent call last):
    ...
    tinygrad_mvc.playground.protocol.Refused: at: no value for y (the expression's variables: x, y)
    """
    pairs = [p for p in _SEPARATORS.split(_ASSIGN.sub("=", source.strip())) if p]
    try:  # the reading of tinygrad-mvc graph --at x=1 y=2
        values = parse_assignments(pairs, option="at")
        match_point(expr.variables, values, option="at", subject="the expression")
    except UsageError as err:
        raise Refused(str(err)) from None
    return values


def run(state: dict[str, Any], body: dict[str, Any], limits: Limits) -> dict[str, Any]:
    """The graph of ``expr`` at ``at`` with its animation: ``{"svg", "frames", "layout", "colours", "value",
    "inputs": [{"name", "value", "grad"}], "nodes"}`` (see the module's docstring).

    >>> out = run({}, {"expr": "x**2", "at": "x=3"}, Limits())
    >>> out["value"], out["inputs"], out["nodes"], out["frames"][0]["caption"]
    (9.0, [{'name': 'x', 'value': 3.0, 'grad': 6.0}], 2, 'forward: the inputs')
    """
    expr = _expression(body, limits)
    point = read_point(text(body, "at", max_length=limits.max_expression), expr)
    if not point:
        raise Refused("expr: the expression has no variables, so there is no gradient to show; use one, e.g. x*y")
    leaves = {n: tg.tensor(v, requires_grad=True, dtype=np.float64, name=n) for n, v in point.items()}
    out = expr.evaluate(leaves)
    value = float(out.item())
    if not math.isfinite(value):
        raise Refused(f"expr: its value is {value} at {_shown(point)} (outside its domain, or overflowing); "
                      f"pick another point")
    trace = tg.viz.backprop(out)
    if len(trace.nodes) > limits.max_graph_nodes:
        raise Refused(f"expr: its graph has {len(trace.nodes)} nodes; the limit is max_graph_nodes = "
                      f"{limits.max_graph_nodes}")
    grads = {n: 0.0 if leaf.grad is None else float(leaf.grad.item()) for n, leaf in leaves.items()}
    if shutil.which("dot") is None:
        raise Refused("the Graph tab needs Graphviz's dot program to lay the graph out; install Graphviz "
                      "(apt-get install graphviz) and reload")
    svg, data = player_parts(trace, show_local=True, max_nodes=None)
    inputs = [{"name": n, "value": v, "grad": grads[n]} for n, v in point.items()]
    return {"svg": svg, **data, "value": value, "inputs": inputs, "nodes": len(trace.nodes)}


ACTIONS = {"run": run}


def _expression(body: dict[str, Any], limits: Limits) -> Expr:
    """``body["expr"]`` through the playground's reader, with whatever variables it names."""
    try:
        names = parse(text(body, "expr", max_length=limits.max_expression)).variables
    except ExprError:
        names = ()  # expression() below refuses it with its message
    return expression(body, "expr", names, max_length=limits.max_expression)


def _shown(point: dict[str, float]) -> str:
    return " ".join(f"{n}={v!r}" for n, v in point.items())
