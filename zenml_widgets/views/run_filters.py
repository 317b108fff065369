"""A small, safe filter language for runs tables: ``"trainer.epochs >= 5 and x == 'ok'"``.

Parsed by hand (no ``eval``), into conditions joined by ``and``, ``or`` and ``not`` with
parentheses (``not`` binds tightest, then ``and``, then ``or``, as in SQL and Python). A
condition is one of::

    column op value               op: == = != < <= > >=
    column [not] in (v1, v2, ...)
    column [not] like 'pattern'   % any text, _ one character, \\% and \\_ themselves
    column [not] ilike 'pattern'  the same, ASCII letters in either case
    column is [not] null          whether the run has the column (a tag: whether it is set)

A column is a bare name (letters, digits, ``.``, ``_``, ``-``, ``/``, ``:``...) or any text in
backticks (double a backtick to include one: ``` `my ``odd`` key` ```). Values are numbers,
quoted strings (``'...'`` or ``"..."``; a backslash escapes the next character, except that
``\\%`` and ``\\_`` stay as they are for ``like``), ``true`` / ``false``. Keywords are
case-insensitive. Tuples ``(column, op, value)`` are accepted as well, with the same operators
(``("x", "in", [1, 2])``, ``("tags.baseline", "is not", None)``).

:func:`parse_where` returns the conditions joined by the top-level ``and``: each a
``(column, op, value)`` tuple, or an :class:`AnyOf` (``or``), :class:`AllOf` (a parenthesised
``and``) or :class:`Not` around more of them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

OPERATORS = ("==", "!=", "<=", ">=", "<", ">")
#: Every operator a condition may have (``is null`` / ``is not null`` take no value).
ALL_OPERATORS = (
    *OPERATORS, "in", "not in", "like", "not like", "ilike", "not ilike", "is null", "is not null",
)  # fmt: skip
_ALIASES = {"=": "==", "is": "is null", "is not": "is not null"}
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|inf|nan)\b")
_BARE = re.compile(r"[^\s<>=!`'\"()]+")
_OP = re.compile(r"==|!=|<=|>=|=|<|>")
_KEEP_ESCAPED = "%_"  # like's own escapes: the backslash stays
_EXAMPLE = (
    'Write conditions like "trainer.epochs >= 5 and (evaluator.output.accuracy > 0.9 or '
    "tags.stage in ('prod', 'staging'))\"; put names with spaces or operators in backticks."
)

Condition = tuple[str, str, Any]


@dataclass(frozen=True)
class AnyOf:
    """Conditions joined by ``or``: a run matches when one of them holds."""

    items: tuple[Where, ...]


@dataclass(frozen=True)
class AllOf:
    """Conditions joined by ``and`` inside an ``or`` or a ``not``."""

    items: tuple[Where, ...]


@dataclass(frozen=True)
class Not:
    """``not`` a condition: a run matches when it does not hold (also when the run lacks the
    column: a condition on a missing value is false, its ``not`` true)."""

    item: Where


Where: TypeAlias = Condition | AnyOf | AllOf | Not


class FilterSyntaxError(ValueError):
    """A filter expression that does not parse; the message points at the place."""


def _fail(text: str, pos: int, what: str) -> FilterSyntaxError:
    pointer = f"\n    {text}\n    {' ' * pos}^" if "\n" not in text and len(text) <= 200 else ""
    return FilterSyntaxError(
        f"Cannot parse the filter {text!r} at position {pos}: {what}.{pointer}\n{_EXAMPLE}"
    )


class _Parser:
    """Recursive descent over the text; ``pos`` is where it reads next."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def skip(self) -> int:
        text = self.text
        while self.pos < len(text) and text[self.pos].isspace():
            self.pos += 1
        return self.pos

    def word(self, *words: str) -> bool:
        """Read ``words`` (keywords, any case, each ending where a name would) if they come
        next; otherwise read nothing."""
        start = self.pos
        for word in words:
            pos = self.skip()
            end = pos + len(word)
            after = self.text[end : end + 1]
            if self.text[pos:end].lower() != word or (after and not _ends_word(after)):
                self.pos = start
                return False
            self.pos = end
        return True

    def expression(self) -> Where:
        items = [self.conjunction()]
        while self.word("or"):
            items.append(self.conjunction())
        return items[0] if len(items) == 1 else AnyOf(tuple(items))

    def conjunction(self) -> Where:
        items = [self.negation()]
        while self.word("and"):
            items.append(self.negation())
        return items[0] if len(items) == 1 else AllOf(tuple(items))

    def negation(self) -> Where:
        if self.word("not"):
            return Not(self.negation())
        pos = self.skip()
        if self.text[pos : pos + 1] == "(":
            self.pos += 1
            inner = self.expression()
            if self.text[self.skip() : self.pos + 1] != ")":
                raise _fail(self.text, self.pos, f"expected ')' closing the '(' at position {pos}")
            self.pos += 1
            return inner
        return self.condition()

    def condition(self) -> Condition:
        column = self.column()
        if self.word("is"):
            negated = self.word("not")
            if not self.word("null"):
                raise _fail(self.text, self.skip(), "expected 'null' after 'is'")
            return column, "is not null" if negated else "is null", None
        negated = self.word("not")
        for op in ("in", "like", "ilike"):
            if self.word(op):
                value = self.values() if op == "in" else self.pattern(op)
                return column, f"not {op}" if negated else op, value
        if negated:
            raise _fail(self.text, self.skip(), "expected 'in', 'like' or 'ilike' after 'not'")
        m = _OP.match(self.text, self.skip())
        if not m:
            raise _fail(
                self.text,
                self.pos,
                f"expected an operator ({' '.join(OPERATORS)}, in, like, ilike or is null) "
                f"after {column!r}",
            )
        self.pos = m.end()
        return column, _ALIASES.get(m.group(0), m.group(0)), self.value()

    def column(self) -> str:
        text, pos = self.text, self.skip()
        if text[pos : pos + 1] == "`":
            out = []
            i = pos + 1
            while i < len(text):
                if text[i] == "`":
                    if text[i + 1 : i + 2] == "`":
                        out.append("`")
                        i += 2
                        continue
                    self.pos = i + 1
                    return "".join(out)
                out.append(text[i])
                i += 1
            raise _fail(text, pos, "unclosed backtick")
        m = _BARE.match(text, pos)
        if not m:
            raise _fail(text, pos, "expected a column name")
        if m.group(0).lower() in ("and", "or"):
            word = m.group(0)
            raise _fail(
                text, pos, f"expected a column name, not {word!r} (a column called so: `{word}`)"
            )
        self.pos = m.end()
        return m.group(0)

    def values(self) -> tuple[Any, ...]:
        start = self.skip()
        if self.text[start : start + 1] != "(":
            raise _fail(self.text, start, "expected '(' and a list of values after 'in'")
        self.pos += 1
        found: list[Any] = []
        if self.text[self.skip() : self.pos + 1] == ")":
            self.pos += 1
            return ()
        while True:
            found.append(self.value())
            pos = self.skip()
            if self.text[pos : pos + 1] == ")":
                self.pos += 1
                return tuple(found)
            if self.text[pos : pos + 1] != ",":
                what = f"expected ',' or ')' in the list opened at position {start}"
                raise _fail(self.text, pos, what)
            self.pos += 1

    def pattern(self, op: str) -> str:
        pos = self.skip()
        if self.text[pos : pos + 1] not in ("'", '"'):
            raise _fail(self.text, pos, f"expected a quoted pattern after {op!r}")
        value = self.value()
        assert isinstance(value, str)
        return value

    def value(self) -> Any:
        text, pos = self.text, self.skip()
        if pos >= len(text):
            raise _fail(text, pos, "expected a value")
        if text[pos] in "'\"":
            return self.string()
        for word, value in (("true", True), ("false", False)):
            if self.word(word):
                return value
        if self.word("null"):
            raise _fail(text, pos, "null compares with 'is null' or 'is not null', not an operator")
        m = _NUMBER.match(text, pos)
        if m:
            token = m.group(0)
            self.pos = m.end()
            return int(token) if re.fullmatch(r"[-+]?\d+", token) else float(token)
        raise _fail(text, pos, "expected a number, a quoted string, true or false")

    def string(self) -> str:
        text, pos = self.text, self.pos
        quote = text[pos]
        out = []
        i = pos + 1
        while i < len(text):
            c = text[i]
            if c == "\\" and i + 1 < len(text):
                out.append(text[i : i + 2] if text[i + 1] in _KEEP_ESCAPED else text[i + 1])
                i += 2
                continue
            if c == quote:
                self.pos = i + 1
                return "".join(out)
            out.append(c)
            i += 1
        raise _fail(text, pos, "unclosed quote")


def _ends_word(char: str) -> bool:
    return char.isspace() or char in "()'\"`,"


def parse_where(text: str) -> list[Where]:
    """``"a >= 5 and b == 'x'"`` -> ``[("a", ">=", 5), ("b", "==", "x")]``; an ``or``, a
    ``not`` or parentheses give :class:`AnyOf`, :class:`Not` and :class:`AllOf` items."""
    parser = _Parser(text)
    if parser.skip() == len(text):
        return []
    tree = parser.expression()
    if parser.skip() != len(text):
        what = "expected 'and', 'or' or the end"
        if text[parser.pos] == ")":
            what = "this ')' closes no '('"
        raise _fail(text, parser.pos, what)
    return list(tree.items) if isinstance(tree, AllOf) else [tree]


def _condition(where: tuple[Any, ...]) -> Condition:
    if len(where) != 3 or not isinstance(where[0], str) or not isinstance(where[1], str):
        raise TypeError(
            f"A filter tuple is (column, operator, value), e.g. ('trainer.epochs', '>=', 5); "
            f"got {where!r}"
        )
    column, op, value = where
    op = " ".join(op.lower().split())
    op = _ALIASES.get(op, op)
    if op not in ALL_OPERATORS:
        raise ValueError(f"Unknown operator {where[1]!r}; use one of {', '.join(ALL_OPERATORS)}")
    if op.endswith("null"):
        if value is not None:
            raise ValueError(f"{op!r} takes no value (None), got {value!r}")
    elif op.endswith("in"):
        if isinstance(value, str | bytes) or not isinstance(value, Sequence | set | frozenset):
            raise TypeError(f"{op!r} takes a list of values such as ('x', 'in', [1, 2]): {value!r}")
        value = tuple(value)
    elif op.endswith("like") and not isinstance(value, str):
        raise TypeError(f"{op!r} takes a pattern string such as 'adam%'; got {value!r}")
    return column, op, value


def _checked(node: Any) -> Where:
    """A tree given as objects, its conditions checked as tuples are."""
    if isinstance(node, AnyOf | AllOf):
        return type(node)(tuple(_checked(item) for item in node.items))
    if isinstance(node, Not):
        return Not(_checked(node.item))
    if isinstance(node, tuple):
        return _condition(node)
    raise TypeError(f"A filter group holds conditions, groups or tuples, not {node!r}")


def normalize_where(where: Any) -> list[Where]:
    """``where`` as conditions joined by ``and``: a string, one ``(column, op, value)`` tuple,
    an :class:`AnyOf` / :class:`AllOf` / :class:`Not`, or a list of them."""
    if where is None:
        return []
    if isinstance(where, str):
        return parse_where(where)
    if isinstance(where, tuple):
        return [_condition(where)]
    if isinstance(where, AnyOf | AllOf | Not):
        return [_checked(where)]
    if isinstance(where, Sequence):
        found: list[Where] = []
        for item in where:
            found.extend(normalize_where(item))
        return found
    raise TypeError(f"where= takes a string, a (column, op, value) tuple or a list; got {where!r}")
