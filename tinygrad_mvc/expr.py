"""Arithmetic expressions from text, evaluated with the framework's own ops — never as Python.

The grammar is small on purpose: numbers (``2``, ``0.5``, ``1e-3``; ASCII digits only, see
:func:`parse_number`), the constants ``pi`` and ``e`` (:data:`CONSTANTS`), variables (identifiers),
``+ - * / **`` with Python's precedence (``**`` is right-associative and binds tighter than a
unary minus: ``-x**2 == -(x**2)``, ``2**3**2 == 512``), parentheses, one-argument calls of the
functions in :data:`FUNCTIONS` (every elementwise one-input op of the derivative table,
:data:`tinygrad_mvc.ops.TABLE`, that is public in ``tinygrad_mvc``) and two-argument calls of those in
:data:`FUNCTIONS2` (``arctan2(y, x)``, ``hypot``, ``maximum``, ``minimum``, ``mod``, ``fmod``), so an op
added to the table is known here without a second list. Anything else — attribute access, indexing, strings,
keywords, other calls, comparisons — is an :class:`ExprError` that names the offending part and
its column. The text is read by a hand-written tokenizer and a precedence-climbing parser with an
explicit depth limit, so no input can reach ``eval`` or exhaust the interpreter's stack.

>>> import tinygrad_mvc as tg
>>> f = parse("x * y + sin(x)")
>>> f.variables
('x', 'y')
>>> x = tg.tensor(0.0, requires_grad=True)
>>> out = f(x=x, y=2.0)
>>> out.backward()
>>> out.item(), x.grad.item()
(0.0, 3.0)
"""

from __future__ import annotations

import keyword
import math
import operator
import re
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

import tinygrad_mvc as _package

from . import ops
from .engine import BinaryPrimitive, Primitive, UnaryPrimitive
from .tensor import Tensor

__all__ = ["Expr", "ExprError", "parse", "evaluate", "free_variables", "parse_number", "FUNCTIONS", "FUNCTIONS2",
           "CONSTANTS", "MAX_LENGTH", "MAX_DEPTH"]

MAX_LENGTH = 1000
"""Longest accepted text, in characters."""

MAX_DEPTH = 100
"""Deepest accepted nesting (parentheses, calls, unary signs, right-hand sides of ``**``)."""



def table_functions(table: Mapping[str, Primitive], public: Any, inputs: int = 1) -> dict[str, Primitive]:
    """The ops of ``table`` an expression may call: elementwise, ``inputs`` array inputs (1 or 2) and
    no options, differentiable, and named in ``public``.

    Internal helpers (``identity``, ``neg``, ``tanh_grad``, ...) are not public; ``clip`` takes options,
    ``maximum`` two inputs and ``less`` has no derivative.

    >>> sorted(table_functions(ops.TABLE, ["sin", "clip", "maximum", "tanh_grad", "less"]))
    ['sin']
    >>> sorted(table_functions(ops.TABLE, ["sin", "clip", "maximum", "less"], inputs=2))
    ['maximum']
    """
    public = set(public)
    kind = {1: UnaryPrimitive, 2: BinaryPrimitive}[inputs]
    return {name: prim for name, prim in table.items()
            if name in public and prim.elementwise and prim.differentiable and isinstance(prim, kind)}


_TENSOR_FUNCTIONS: dict[str, Callable[..., Any]] = dict(table_functions(ops.TABLE, _package.__all__))
_TENSOR_FUNCTIONS2: dict[str, Callable[..., Any]] = dict(table_functions(ops.TABLE, _package.__all__, inputs=2))
_ARITY: dict[str, int] = {**dict.fromkeys(_TENSOR_FUNCTIONS, 1), **dict.fromkeys(_TENSOR_FUNCTIONS2, 2)}

# Plain NumPy versions, used as an independent reference (finite differences): each op's own NumPy
# forward function, never its derivative rule. They accept complex input for the complex-step
# method; where the forward function does not, or gives the modulus rather than the analytic
# continuation, it is replaced here: relu and abs branch on the real part, sigmoid goes through tanh
# (which neither overflows nor needs a branch), and softplus is log(1 + e^x) for complex x.
def _np_relu(x: Any) -> Any:
    return np.where(np.real(x) > 0, x, 0.0) if np.iscomplexobj(x) else np.maximum(x, 0.0)


def _np_abs(x: Any) -> Any:
    return np.where(np.real(x) < 0, -x, x) if np.iscomplexobj(x) else np.abs(x)


def _np_softplus(x: Any) -> Any:
    return np.log1p(np.exp(x)) if np.iscomplexobj(x) else np.logaddexp(0.0, x)


_COMPLEX_SAFE: dict[str, Callable[[Any], Any]] = {
    "sigmoid": lambda x: 0.5 * (1.0 + np.tanh(0.5 * x)), "relu": _np_relu, "abs": _np_abs, "softplus": _np_softplus,
    # piecewise constant (issue 15): NumPy's floor/ceil/trunc refuse complex input; the real part's step is 0
    "floor": lambda x: np.floor(np.real(x)), "ceil": lambda x: np.ceil(np.real(x)),
    "trunc": lambda x: np.trunc(np.real(x)), "round": lambda x: np.round(np.real(x)),
}

_NUMPY_FUNCTIONS: dict[str, Callable[..., Any]] = {
    name: _COMPLEX_SAFE.get(name, prim.fun) for name, prim in {**_TENSOR_FUNCTIONS, **_TENSOR_FUNCTIONS2}.items()}
_TENSOR_FUNCTIONS = {**_TENSOR_FUNCTIONS, **_TENSOR_FUNCTIONS2}

FUNCTIONS: tuple[str, ...] = tuple(sorted(n for n, k in _ARITY.items() if k == 1))
"""The one-argument functions an expression may call (derived from the op table)."""

FUNCTIONS2: tuple[str, ...] = tuple(sorted(n for n, k in _ARITY.items() if k == 2))
"""The two-argument functions an expression may call, ``arctan2(y, x)``, ``hypot(x, y)``, ``maximum(x, y)``..."""

CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}
"""Names that stand for numbers (so they are not variables)."""

_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv, "**": operator.pow,
}
# Binding powers: a higher number binds tighter. A unary sign sits between * and **.
_LEFT_BP = {"+": 10, "-": 10, "*": 20, "/": 20, "**": 40}
_UNARY_BP = 30

_NUMBER = re.compile(r"([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")  # ASCII digits only, unlike \d
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_WORD_TAIL = re.compile(r"[A-Za-z0-9_.]*")
_WHITESPACE = " \t\n\r\f\v"
_DIGITS = "0123456789"

def _number_problem(text: str) -> str:
    """Why ``text`` is not a number of the grammar, as ``": reason"`` (empty when nothing specific)."""
    for c in text:
        if c.isdigit() and not c.isascii():
            return f": {c!r} is not an ASCII digit (write numbers with 0-9)"
    if "_" in text:
        return ": '_' digit separators are not allowed (write 1000, not 1_000)"
    if "," in text:
        return ": ',' is not a decimal point (write 1.5, not 1,5)"
    return ""


def parse_number(text: str) -> float:
    """One number written as an expression writes it: ASCII digits, an optional sign, point and exponent.

    The one reader of numbers for expressions, CSV cells and ``NAME=VALUE`` options, so they all
    agree. Blanks around the number are ignored, and ``inf``/``nan`` are read as themselves (callers
    decide whether a non-finite value is allowed). What Python's ``float()`` also accepts but the
    grammar does not is refused: non-ASCII digits (``'١'``, ``'３'``, ``'𝟏'``), ``'_'`` separators,
    Unicode spaces. A refusal is a ``ValueError`` naming the text and the reason.

    >>> parse_number(" -1.5e3 ")
    -1500.0
    >>> parse_number("1_000")
    Traceback (most recent call last):
    ...
    ValueError: '1_000' is not a number: '_' digit separators are not allowed (write 1000, not 1_000)
    """
    s = text.strip(" \t\r\n")
    body = s[1:] if s[:1] in ("+", "-") else s
    if body.lower() in ("inf", "infinity", "nan"):
        return float(s)
    if not _NUMBER.fullmatch(body):
        raise ValueError(f"{_show(text)} is not a number{_number_problem(text)}")
    return float(s)


# Characters that start something Python has but expressions do not, with the reason shown.
_REFUSED = {
    "^": "'^' is not supported; use ** for powers",
    "%": "'%' (modulo) is not supported",
    "@": "'@' (matrix product) is not supported",
    "&": "bitwise operator '&' is not supported",
    "|": "bitwise operator '|' is not supported",
    "~": "bitwise operator '~' is not supported",
    "[": "indexing '[' is not allowed",
    "]": "unexpected ']'",
    "{": "'{' is not allowed",
    "}": "'}' is not allowed",
    ":": "':' is not allowed (no lambdas, slices or assignments)",
    ";": "';' is not allowed: one expression only",
}


class ExprError(ValueError):
    """An expression that is refused; the message is one line naming the offending part and its column.

    ``column`` is 1-based (``None`` when no single place is to blame) and ``pointer`` is two lines,
    the text and a caret under the offending column, for callers that want to show it.

    >>> try:
    ...     parse("x.__class__")
    ... except ExprError as e:
    ...     print(e); print(e.pointer)
    expression: attribute access '.__class__' is not allowed at column 2
    x.__class__
     ^
    """

    def __init__(self, message: str, text: str = "", column: int | None = None) -> None:
        where = f" at column {column}" if column is not None else ""
        super().__init__(f"expression: {message}{where}")
        self.text = text
        self.column = column
        self.pointer = ""
        if column is not None and len(text) <= MAX_LENGTH:
            shown = text.translate({ord(c): " " for c in _WHITESPACE})  # one line, columns kept
            self.pointer = f"{shown}\n{' ' * (column - 1)}^"


def _show(s: str) -> str:
    """``s`` quoted for a one-line message, shortened when long."""
    return repr(s if len(s) <= 30 else s[:27] + "...")


class _Parser:
    """Tokens on demand (so the first error from the left is the one reported) and postfix code out."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.code: list[tuple[str, Any, int]] = []  # (kind, argument, column), in evaluation order
        self.kind = self.value = ""
        self.col = 1
        self._advance()

    def fail(self, message: str, col: int | None) -> ExprError:
        return ExprError(message, self.text, col)

    # ------------------------------------------------------------------ tokens
    def _advance(self) -> None:
        text, n = self.text, len(self.text)
        while self.pos < n and text[self.pos] in _WHITESPACE:
            self.pos += 1
        start = self.pos
        self.col = start + 1
        if start >= n:
            self.kind, self.value = "end", ""
            return
        c = text[start]
        if c in _DIGITS or (c == "." and text[start + 1:start + 2] in _DIGITS and start + 1 < n):
            self._number(start)
        elif c.isascii() and (c.isalpha() or c == "_"):
            self._name(start)
        elif c.isdigit():  # a non-ASCII digit: float() would read it, the grammar does not
            raise self.fail(f"{_show(c)} is not an ASCII digit (write numbers with 0-9)", self.col)
        elif text.startswith("**", start):
            self.kind, self.value, self.pos = "op", "**", start + 2
        elif text.startswith("//", start):
            raise self.fail("floor division '//' is not supported", self.col)
        elif c in "+-*/(),":
            self.kind, self.value, self.pos = "op", c, start + 1
        else:
            raise self.fail(self._refusal(start), self.col)

    def _number(self, start: int) -> None:
        m = _NUMBER.match(self.text, start)
        word = m.group() + _WORD_TAIL.match(self.text, m.end()).group()
        if word != m.group():  # digits run into letters, '_' or another '.'
            tail = word[len(m.group()):]
            if m.group() == "0" and tail[0] in "xXoObB":
                hint = " (only decimal numbers)"
            elif _NAME.fullmatch(tail) and tail[0] not in "eE_":
                hint = f" (for a product write {m.group()}*{tail})"
            else:
                hint = _number_problem(word)
            raise self.fail(f"malformed number {_show(word)}{hint}", self.col)
        value = parse_number(word)
        if not np.isfinite(value):
            raise self.fail(f"number {_show(word)} is not finite (too large for float64)", self.col)
        self.kind, self.value, self.pos = "num", value, m.end()

    def _name(self, start: int) -> None:
        name = _NAME.match(self.text, start).group()
        if name.startswith("__"):
            raise self.fail(f"{_show(name)} is not an allowed name", self.col)
        if keyword.iskeyword(name):
            raise self.fail(f"{_show(name)} is a Python keyword, not allowed", self.col)
        self.kind, self.value, self.pos = "name", name, start + len(name)

    def _refusal(self, start: int) -> str:
        text, c = self.text, self.text[start]
        two = text[start:start + 2]
        if c in "'\"":
            end = text.find(c, start + 1)
            return f"string {_show(text[start:end + 1] if end > 0 else text[start:])} is not allowed"
        if c == ".":
            return f"attribute access {_show('.' + _WORD_TAIL.match(text, start + 1).group())} is not allowed"
        if two in ("==", "!=", "<=", ">=") or c in "<>":
            if two in ("<<", ">>"):
                return f"bitwise operator {_show(two)} is not supported"
            return f"comparison {_show(two if two[1:] == '=' else c)} is not supported"
        if c in "=!":
            return f"{_show(c)} is not allowed (no assignments or keyword arguments)"
        if c in _REFUSED:
            return _REFUSED[c]
        return f"unexpected character {_show(c)}"

    def _describe(self) -> str:
        return "the end" if self.kind == "end" else _show(str(self.text[self.col - 1:self.pos]))

    # ------------------------------------------------------------------ grammar
    def parse(self) -> list[tuple[str, Any, int]]:
        if self.kind == "end":
            raise self.fail("empty input", None)
        self._expr(0, 0)
        if self.kind != "end":
            raise self._leftover()
        return self.code

    def _leftover(self) -> ExprError:
        if self.value == ")":
            return self.fail("unmatched ')'", self.col)
        if self.value == ",":
            return self.fail("',' is not allowed: no tuples, one expression only", self.col)
        if self.value == "(":
            return self.fail("unexpected '(' (write * for a product)", self.col)
        return self.fail(f"unexpected {self._describe()} (missing operator?)", self.col)

    def _expr(self, min_bp: int, depth: int) -> None:
        """Precedence climbing: one operand, then every binary operator binding at least ``min_bp``."""
        if depth > MAX_DEPTH:
            raise self.fail(f"nesting deeper than {MAX_DEPTH} levels", self.col)
        self._operand(depth)
        while self.kind == "op" and self.value in _LEFT_BP and _LEFT_BP[self.value] >= min_bp:
            op, col = self.value, self.col
            self._advance()
            if op == "**":  # right-associative, and its right side nests: it counts as depth
                self._expr(_LEFT_BP[op], depth + 1)
            else:  # left-associative: the right side returns before the next operator of this level
                self._expr(_LEFT_BP[op] + 1, depth)
            self.code.append(("bin", op, col))

    def _operand(self, depth: int) -> None:
        kind, value, col = self.kind, self.value, self.col
        if kind == "num":
            self._advance()
            self.code.append(("num", value, col))
        elif kind == "name":
            self._advance()
            if self.value == "(" and self.kind == "op":
                self._call(value, col, depth)
            elif value in CONSTANTS:
                self.code.append(("num", CONSTANTS[value], col))
            elif value in _TENSOR_FUNCTIONS:
                raise self.fail(f"{_show(value)} is a function, not a variable; call it as {value}(...)", col)
            else:
                self.code.append(("var", value, col))
        elif value in ("-", "+"):
            self._advance()
            self._expr(_UNARY_BP, depth + 1)
            if value == "-":
                self.code.append(("neg", None, col))
        elif value == "(":
            self._advance()
            if self.value == ")":
                raise self.fail("empty parentheses '()'", col)
            self._expr(0, depth + 1)
            self._close(col)
        else:
            raise self.fail(f"expected a number, a name or '(' but found {self._describe()}", col)

    def _call(self, name: str, col: int, depth: int) -> None:
        if name in CONSTANTS:
            raise self.fail(f"{_show(name)} is a constant, not a function (write {name}*(...) for a product)", col)
        if name not in _ARITY:
            raise self.fail(f"{_show(name)} is not a known function (known: {', '.join(FUNCTIONS + FUNCTIONS2)})",
                            col)
        arity = _ARITY[name]
        want = "one argument" if arity == 1 else f"{arity} arguments"
        paren = self.col
        self._advance()  # the '('
        for k in range(arity):
            if self.value == ")" and self.kind == "op":
                raise self.fail(f"{name}() takes {want}, got {k or 'none'}", col)
            self._expr(0, depth + 1)
            if k < arity - 1:
                if self.value != "," or self.kind != "op":
                    raise self.fail(f"{name}() takes {want}, got {k + 1}", col)
                self._advance()
        if self.value == "," and self.kind == "op":
            raise self.fail(f"{name}() takes {want}, got more", self.col)
        self._close(paren)
        self.code.append(("call", name, col))

    def _close(self, open_col: int) -> None:
        if self.kind == "end":
            raise self.fail("'(' is never closed", open_col)
        if self.value != ")":
            raise self._leftover()
        self._advance()


class Expr:
    """A parsed, validated expression; call it with one value per variable to get a Tensor.

    ``variables`` are its variables sorted, ``variables_in_order`` the same in the order they first
    appear in the text.

    >>> f = parse("-x**2 + 2**3**2")
    >>> f.variables
    ('x',)
    >>> f(x=3.0).item()
    503.0
    >>> parse("b*x + a").variables_in_order
    ('b', 'x', 'a')
    """

    __slots__ = ("text", "variables", "variables_in_order", "_code")

    def __init__(self, text: str, code: list[tuple[str, Any, int]]) -> None:
        self.text = text
        self._code = tuple(code)
        # postfix code lists operands left to right, so its order of variables is the text's
        by_column = sorted((c, arg) for kind, arg, c in code if kind == "var")
        self.variables_in_order: tuple[str, ...] = tuple(dict.fromkeys(arg for _, arg in by_column))
        self.variables: tuple[str, ...] = tuple(sorted(self.variables_in_order))

    def __repr__(self) -> str:
        return f"Expr({self.text!r})"

    def __str__(self) -> str:
        return self.text

    def __call__(self, **values: Any) -> Tensor:
        """``expr(x=..., y=...)`` is ``expr.evaluate({"x": ..., "y": ...})``."""
        return self.evaluate(values)

    def evaluate(self, values: Mapping[str, Any]) -> Tensor:
        """The value as a Tensor built with the framework's ops, so ``backward()`` reaches the inputs.

        Tensor values are used as they are (their gradients flow); floats and arrays become
        constant Tensors. Every variable needs a value and every value a variable. The result has
        the broadcast shape of the values.

        >>> parse("a * b").evaluate({"a": 2.0, "b": np.array([1.0, 3.0])})
        Tensor([2., 6.])
        """
        self._check_names(values)
        lift = lambda v: v if isinstance(v, Tensor) else Tensor(v)
        return self._run({k: lift(v) for k, v in values.items()}, lift, _TENSOR_FUNCTIONS)

    def evaluate_numpy(self, values: Mapping[str, Any]) -> np.ndarray:
        """The value computed with plain NumPy (no Tensors, no graph); complex inputs work.

        An independent reference for finite differences, including the complex-step method.

        >>> float(parse("x**2 + 1").evaluate_numpy({"x": 1.0 + 1e-20j}).imag)
        2e-20
        """
        self._check_names(values)
        return np.asarray(self._run({k: np.asarray(v) for k, v in values.items()}, np.asarray, _NUMPY_FUNCTIONS))

    def _check_names(self, values: Mapping[str, Any]) -> None:
        missing = [v for v in self.variables if v not in values]
        if missing:
            col = next(c for kind, arg, c in self._code if kind == "var" and arg == missing[0])
            names = ", ".join(_show(m) for m in missing)
            raise ExprError(f"no value for variable{'s' if len(missing) > 1 else ''} {names}", self.text, col)
        extra = [k for k in values if k not in self.variables]
        if extra:
            names = ", ".join(_show(str(k)) for k in extra)
            raise ExprError(f"value given for {names}, which is not a variable of {_show(self.text)}", self.text)

    def _run(self, values: Mapping[str, Any], lift: Callable[[Any], Any],
             functions: Mapping[str, Callable[[Any], Any]]) -> Any:
        # A stack machine over postfix code: no recursion, however long the expression.
        stack: list[Any] = []
        for kind, arg, _ in self._code:
            if kind == "num":
                stack.append(arg)
            elif kind == "var":
                stack.append(values[arg])
            elif kind == "call":
                if _ARITY[arg] == 1:
                    stack.append(functions[arg](lift(stack.pop())))
                else:
                    b, a = lift(stack.pop()), lift(stack.pop())
                    stack.append(functions[arg](a, b))
            elif kind == "neg":
                stack.append(-stack.pop())
            else:
                b, a = stack.pop(), stack.pop()
                if isinstance(a, float) and isinstance(b, float):
                    a = lift(a)  # two constants: float64 semantics (inf, not OverflowError/ZeroDivisionError)
                stack.append(_BINARY[arg](a, b))
        return lift(stack.pop())


def parse(text: str) -> Expr:
    """Parse and validate ``text``; raise :class:`ExprError` naming the first offending part.

    >>> parse("2 * sin(t)").variables
    ('t',)
    >>> parse("x ^ 2")
    Traceback (most recent call last):
    ...
    tinygrad_mvc.expr.ExprError: expression: '^' is not supported; use ** for powers at column 3
    """
    if not isinstance(text, str):
        raise TypeError(f"parse: expected the expression as a str, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExprError(f"too long: {len(text)} characters, the limit is {MAX_LENGTH}", text)
    return Expr(text, _Parser(text).parse())


def evaluate(expr: str | Expr, values: Mapping[str, Any]) -> Tensor:
    """Parse ``expr`` if it is text, then evaluate it at ``values`` (see :meth:`Expr.evaluate`).

    >>> evaluate("a - b - c", {"a": 1.0, "b": 2.0, "c": 3.0}).item()
    -4.0
    """
    return (expr if isinstance(expr, Expr) else parse(expr)).evaluate(values)


def free_variables(text: str | Expr) -> tuple[str, ...]:
    """The variables of an expression, sorted.

    >>> free_variables("y * exp(-x) + y")
    ('x', 'y')
    """
    return (text if isinstance(text, Expr) else parse(text)).variables
