"""SQL text with its parameters, and the two dialects the store speaks (SQLite, PostgreSQL).

Every statement of the store is written once, as text with ``?`` for each parameter, built by the
functions of :mod:`~zenml_widgets.store.queries`, :mod:`~zenml_widgets.store.writes` and
:mod:`~zenml_widgets.store.run_table`. A :class:`Dialect` supplies the few fragments that differ
between the databases and renders the text for its driver (``?`` for ``sqlite3``, ``%s`` for
psycopg). Values are always bound, never spliced into the text; identifiers come from the code.
No SQLAlchemy here: reading history must not pay for importing it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Sql:
    """A statement (or a fragment of one): text with ``?`` placeholders, and their values."""

    text: str
    params: tuple[Any, ...] = ()

    def __add__(self, other: Sql | str) -> Sql:
        if isinstance(other, str):
            return Sql(self.text + other, self.params)
        return Sql(self.text + other.text, self.params + other.params)

    def __radd__(self, other: str) -> Sql:
        return Sql(other + self.text, self.params)


def join(parts: Iterable[Sql | str], separator: str) -> Sql:
    """``parts`` joined by ``separator`` (``" AND "``, ``", "``...)."""
    texts: list[str] = []
    params: list[Any] = []
    for part in parts:
        if isinstance(part, str):
            texts.append(part)
        else:
            texts.append(part.text)
            params.extend(part.params)
    return Sql(separator.join(texts), tuple(params))


def placeholders(values: Sequence[Any]) -> Sql:
    """``?, ?, ?`` for ``values`` (an ``IN (...)`` list)."""
    return Sql(", ".join("?" * len(values)), tuple(values))


def columns(record: type[Any], table: str, *, skip: Sequence[str] = ()) -> str:
    """``table.a, table.b, ...`` for the fields of a record dataclass, in field order: the
    columns a query selects are those of the record it builds, defined once."""
    return ", ".join(f"{table}.{f.name}" for f in fields(record) if f.name not in skip)


def stored_datetime(value: datetime) -> str:
    """A datetime as SQLite holds it: UTC wall time, ``YYYY-MM-DD HH:MM:SS.ffffff`` (the format
    the store has always written, which string comparison orders correctly)."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")


class Dialect:
    """What differs between the databases, for statements written once."""

    name = "sqlite"
    #: The placeholder its driver wants.
    marker = "?"

    def render(self, sql: Sql) -> tuple[str, tuple[Any, ...]]:
        """Text and parameters as the driver takes them."""
        return sql.text, tuple(self.adapt(v) for v in sql.params)

    def adapt(self, value: Any) -> Any:
        """A parameter as the driver binds it."""
        if isinstance(value, datetime):
            return stored_datetime(value)
        return value

    def page(self, limit: int | None, offset: int) -> Sql:
        """`` LIMIT ? OFFSET ?`` (nothing when neither cuts anything)."""
        if limit is None and not offset:
            return Sql("")
        return Sql(" LIMIT ? OFFSET ?", (self.no_limit if limit is None else limit, offset))

    #: The ``LIMIT`` value that keeps every row.
    no_limit: Any = -1

    def contains(self, column: str, text: str) -> Sql:
        """Case-insensitive ``column`` contains ``text``, with ``%`` and ``_`` literal."""
        escaped = text.replace("/", "//").replace("%", "/%").replace("_", "/_")
        return Sql(f"lower({column}) LIKE '%' || lower(?) || '%' ESCAPE '/'", (escaped,))

    def like(self, column: str, pattern: str, *, fold: bool = False) -> Sql:
        """``column`` matches a ``like`` pattern (:func:`like_tokens`), case-sensitively; with
        ``fold``, ASCII letters in either case (as SQLite's ``lower`` folds them). SQLite's
        ``LIKE`` ignores case, so the pattern becomes a ``GLOB`` (which does not)."""
        glob = []
        for wild, char in like_tokens(pattern):
            if wild:
                glob.append("*" if char == "%" else "?")
            else:
                glob.append(f"[{char}]" if char in "*?[" else char)
        text = "".join(glob)
        if fold:
            return Sql(f"lower({column}) GLOB ?", (ascii_lower(text),))
        return Sql(f"{column} GLOB ?", (text,))

    #: What makes text compare and sort by its bytes (SQLite's default).
    collation = ""
    #: What locks the rows a ``SELECT`` in a write transaction reads until it ends (SQLite's
    #: ``BEGIN IMMEDIATE`` already holds the whole database).
    lock_rows = ""

    def text_key(self, column: str) -> str:
        """``column`` as a sort key that orders strings by their bytes on every database."""
        return column + self.collation

    def seconds_between(self, start: str, end: str) -> str:
        """``end - start`` in seconds, exactly (microseconds kept)."""
        # SQLite keeps "YYYY-MM-DD HH:MM:SS.ffffff": the whole seconds and the fractions are
        # subtracted apart, so no 1.7e9-second sum rounds away the microseconds (julianday
        # would round to ~20 microseconds and misorder short steps).
        # Rounded to the microsecond: two equal durations are the same number (the difference
        # of two fractions carries float noise that would order equal durations by chance).
        whole = f"CAST(strftime('%s', {end}) AS INTEGER) - CAST(strftime('%s', {start}) AS INTEGER)"
        fraction = f"CAST(substr({end}, 20) AS REAL) - CAST(substr({start}, 20) AS REAL)"
        return f"round(({whole}) + ({fraction}), 6)"

    def append_bytes(self, column: str) -> str:
        """``column`` (a blob) with the bytes of one parameter appended, on the server: only the
        new bytes travel. SQLite's ``||`` gives text of the same bytes (a UTF-8 database keeps
        them as they are); the cast makes it a blob again."""
        return f"CAST({column} || ? AS BLOB)"

    def insert_or_ignore(self, table: str, names: Sequence[str], keys: Sequence[str]) -> str:
        """``INSERT`` of one row of ``names`` that does nothing when ``keys`` already exist."""
        marks = ", ".join("?" * len(names))
        return (
            f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks}) "
            f"ON CONFLICT ({', '.join(keys)}) DO NOTHING"
        )


class PostgresDialect(Dialect):
    """PostgreSQL through psycopg 3 (``%s`` placeholders, ``ILIKE``, byte-order collation)."""

    name = "postgresql"
    marker = "%s"
    no_limit = None  # LIMIT NULL is LIMIT ALL

    def render(self, sql: Sql) -> tuple[str, tuple[Any, ...]]:
        text = sql.text.replace("%", "%%").replace("?", "%s")
        return text, sql.params

    def adapt(self, value: Any) -> Any:
        return value

    def contains(self, column: str, text: str) -> Sql:
        escaped = text.replace("/", "//").replace("%", "/%").replace("_", "/_")
        return Sql(f"{column} ILIKE '%' || ? || '%' ESCAPE '/'", (escaped,))

    collation = ' COLLATE "C"'
    lock_rows = " FOR UPDATE"

    def like(self, column: str, pattern: str, *, fold: bool = False) -> Sql:
        # Under the "C" collation lower() folds ASCII letters only, as SQLite's does.
        escaped = "".join(
            char if wild else ("\\" + char if char in "%_\\" else char)
            for wild, char in like_tokens(pattern)
        )
        if fold:
            return Sql(
                f"lower({column}{self.collation}) LIKE ? ESCAPE '\\'", (ascii_lower(escaped),)
            )
        return Sql(f"{column}{self.collation} LIKE ? ESCAPE '\\'", (escaped,))

    def seconds_between(self, start: str, end: str) -> str:
        return f"CAST(EXTRACT(EPOCH FROM {end} - {start}) AS DOUBLE PRECISION)"

    def append_bytes(self, column: str) -> str:
        return f"{column} || ?"


def like_tokens(pattern: str) -> list[tuple[bool, str]]:
    """A ``like`` pattern as ``(wildcard, character)`` pairs: ``%`` (any text) and ``_`` (one
    character) are wildcards; a backslash makes the character after it literal (``\\%``)."""
    tokens: list[tuple[bool, str]] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            tokens.append((False, pattern[i + 1]))
            i += 2
            continue
        tokens.append((char in "%_", char))
        i += 1
    return tokens


def ascii_lower(text: str) -> str:
    """``text`` with the ASCII letters A-Z lowered (and nothing else, as SQL's ``lower`` under
    SQLite and PostgreSQL's "C" collation)."""
    return text.translate(_ASCII_LOWER)


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
SQLITE = Dialect()
POSTGRESQL = PostgresDialect()
