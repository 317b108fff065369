"""A small, safe filter language for runs tables: ``"trainer.epochs >= 5 and x == 'ok'"``.

Parsed by hand (no ``eval``): conditions ``column op value`` joined by ``and``. A column is a
bare name (letters, digits, ``.``, ``_``, ``-``, ``/``, ``:``...) or any text in backticks
(double a backtick to include one: ``` `my ``odd`` key` ```). Values are numbers, quoted strings
(``'...'`` or ``"..."`` with backslash escapes), ``true`` / ``false``. Operators: ``== = != < <= >
>=``. Tuples ``(column, op, value)`` are accepted as well.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

OPERATORS = ("==", "!=", "<=", ">=", "<", ">")
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|inf|nan)\b")
_BARE = re.compile(r"[^\s<>=!`'\"()]+")
_OP = re.compile(r"==|!=|<=|>=|=|<|>")

Condition = tuple[str, str, Any]


class FilterSyntaxError(ValueError):
    """A filter expression that does not parse; the message points at the place."""


def _fail(text: str, pos: int, what: str) -> FilterSyntaxError:
    return FilterSyntaxError(
        f"Cannot parse the filter {text!r} at position {pos}: {what}. Write conditions like "
        '"trainer.epochs >= 5 and evaluator.output.accuracy > 0.9"; put names with spaces or '
        "operators in backticks."
    )


def _skip(text: str, pos: int) -> int:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    return pos


def _column(text: str, pos: int) -> tuple[str, int]:
    if pos < len(text) and text[pos] == "`":
        out = []
        i = pos + 1
        while i < len(text):
            if text[i] == "`":
                if text[i + 1 : i + 2] == "`":
                    out.append("`")
                    i += 2
                    continue
                return "".join(out), i + 1
            out.append(text[i])
            i += 1
        raise _fail(text, pos, "unclosed backtick")
    m = _BARE.match(text, pos)
    if not m:
        raise _fail(text, pos, "expected a column name")
    return m.group(0), m.end()


def _string(text: str, pos: int) -> tuple[str, int]:
    quote = text[pos]
    out = []
    i = pos + 1
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
            continue
        if c == quote:
            return "".join(out), i + 1
        out.append(c)
        i += 1
    raise _fail(text, pos, "unclosed quote")


def _value(text: str, pos: int) -> tuple[Any, int]:
    if pos >= len(text):
        raise _fail(text, pos, "expected a value")
    if text[pos] in "'\"":
        return _string(text, pos)
    lowered = text[pos : pos + 5].lower()
    for word, value in (("true", True), ("false", False)):
        end = pos + len(word)
        if lowered.startswith(word) and (end >= len(text) or not text[end].isalnum()):
            return value, end
    m = _NUMBER.match(text, pos)
    if m:
        token = m.group(0)
        is_int = re.fullmatch(r"[-+]?\d+", token) is not None
        return (int(token) if is_int else float(token)), m.end()
    raise _fail(text, pos, "expected a number, a quoted string, true or false")


def parse_where(text: str) -> list[Condition]:
    """``"a >= 5 and b == 'x'"`` -> ``[("a", ">=", 5), ("b", "==", "x")]``."""
    conditions: list[Condition] = []
    pos = _skip(text, 0)
    if pos == len(text):
        return conditions
    while True:
        column, pos = _column(text, pos)
        pos = _skip(text, pos)
        m = _OP.match(text, pos)
        if not m:
            raise _fail(text, pos, f"expected an operator ({' '.join(OPERATORS)}) after {column!r}")
        op = "==" if m.group(0) == "=" else m.group(0)
        pos = _skip(text, m.end())
        value, pos = _value(text, pos)
        conditions.append((column, op, value))
        pos = _skip(text, pos)
        if pos == len(text):
            return conditions
        if text[pos : pos + 3].lower() == "and" and (
            pos + 3 == len(text) or text[pos + 3].isspace()
        ):
            pos = _skip(text, pos + 3)
            continue
        raise _fail(text, pos, "expected 'and' or the end")


def normalize_where(where: Any) -> list[Condition]:
    """``where`` as conditions: a string, one ``(column, op, value)`` tuple, or a list of both."""
    if where is None:
        return []
    if isinstance(where, str):
        return parse_where(where)
    if isinstance(where, tuple):
        if len(where) != 3 or not isinstance(where[0], str) or not isinstance(where[1], str):
            raise TypeError(
                f"A filter tuple is (column, operator, value), e.g. ('trainer.epochs', '>=', 5); "
                f"got {where!r}"
            )
        op = "==" if where[1] == "=" else where[1]
        if op not in OPERATORS and op != "in":
            raise ValueError(f"Unknown operator {where[1]!r}; use one of {', '.join(OPERATORS)}")
        return [(where[0], op, where[2])]
    if isinstance(where, Sequence):
        found: list[Condition] = []
        for item in where:
            found.extend(normalize_where(item))
        return found
    raise TypeError(f"where= takes a string, a (column, op, value) tuple or a list; got {where!r}")
