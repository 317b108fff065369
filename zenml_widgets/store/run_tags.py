"""Run tags: marks users set on runs (``baseline``, ``stage=prod``), and their runs-table
columns (``tags.<key>``).

``run_tags`` holds one row per run and key; a tag that is only a mark has the value ``""``.
Setting a tag is one statement (an upsert that also checks the run exists), removing one is
one statement: tags are the only writes the read API makes, and each costs one round trip.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from zenml_widgets.store.sql import Sql, placeholders
from zenml_widgets.store.values import NAME_LENGTH

if TYPE_CHECKING:
    from zenml_widgets.store.connection import Connection

TAG_PREFIX = "tags."
#: Up to this many runs, their tags are read by run id; from it on, by key.
BY_RUN_UNTIL = 1000
#: The longest tag value kept (characters).
MAX_TAG_VALUE = 5000


def check_tag(key: Any, value: Any = "") -> tuple[str, str]:
    """``(key, value)`` if they make a tag; ``ValueError`` / ``TypeError`` saying why not.

    A key is 1 to 255 characters with no control characters and no space at either end; a
    value is a string of up to 5,000 characters (``""``: a tag that is only a mark)."""
    if not isinstance(key, str):
        raise TypeError(f"A tag key is a string, not {type(key).__name__} ({key!r}).")
    if not isinstance(value, str):
        raise TypeError(
            f"A tag value is a string, not {type(value).__name__} ({value!r}); write "
            f"set_tag({key!r}, str(value)) to keep its text."
        )
    if not key.strip():
        raise ValueError("A tag key cannot be empty: name the tag, e.g. set_tag('baseline').")
    if len(key) > NAME_LENGTH:
        raise ValueError(
            f"A tag key is at most {NAME_LENGTH} characters; {key[:40]!r}... has {len(key)}."
        )
    if key != key.strip() or any(not c.isprintable() for c in key):
        raise ValueError(f"A tag key has no control characters or spaces at either end: {key!r}.")
    if len(value) > MAX_TAG_VALUE:
        raise ValueError(
            f"A tag value is at most {MAX_TAG_VALUE:,} characters; the value of {key!r} has "
            f"{len(value):,}."
        )
    return key, value


def set_tag(conn: Connection, run_id: int, key: str, value: str) -> bool:
    """Set (or overwrite) a tag of run ``run_id``; ``False`` when the run does not exist."""
    sql = Sql(
        "INSERT INTO run_tags (run_id, key, value) SELECT runs.id, ?, ? FROM runs "
        "WHERE runs.id = ? ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value",
        (key, value, run_id),
    )
    return conn.execute(f"setting tag {key!r}", sql) > 0


def remove_tag(conn: Connection, run_id: int, key: str) -> bool:
    """Remove a tag of run ``run_id``; ``False`` when the run had no such tag."""
    sql = Sql("DELETE FROM run_tags WHERE run_id = ? AND key = ?", (run_id, key))
    return conn.execute(f"removing tag {key!r}", sql) > 0


def read_tags_sql(run_id: int) -> Sql:
    """The statement reading a run's tags (``key, value``), keys in byte order."""
    return Sql("SELECT key, value FROM run_tags WHERE run_id = ? ORDER BY key", (run_id,))


def as_tags(rows: Sequence[Sequence[Any]]) -> dict[str, str]:
    """:func:`read_tags_sql`'s rows as ``{key: value}``, keys sorted by their bytes."""
    return dict(sorted(((str(k), str(v)) for k, v in rows), key=lambda kv: kv[0].encode()))


#: The distinct keys, one index probe each (``(key, run_id)``, from one key to the next):
#: the cost grows with the number of keys, not of tagged runs.
_KEYS = (
    "WITH RECURSIVE k(key) AS (SELECT min(key) FROM run_tags UNION ALL "
    "SELECT (SELECT min(t.key) FROM run_tags t WHERE t.key > k.key) FROM k "
    "WHERE k.key IS NOT NULL) SELECT k.key FROM k WHERE k.key IS NOT NULL"
)


def tag_columns_sql(pipeline_ids: Sequence[int] | None) -> Sql:
    """The distinct tag keys of these pipelines' runs (all: ``None``): each key of the store,
    kept when one of its runs is in these pipelines (the first found is enough)."""
    if pipeline_ids is None:
        return Sql(_KEYS)
    return (
        _KEYS + " AND EXISTS (SELECT 1 FROM run_tags t JOIN runs ON runs.id = t.run_id "
        "WHERE t.key = k.key AND runs.pipeline_id IN ("
        + placeholders(list(pipeline_ids) or [-1])
        + "))"
    )


def tag_column_names(rows: Sequence[Sequence[Any]]) -> list[str]:
    """:func:`tag_columns_sql`'s keys as column names, sorted."""
    return sorted(TAG_PREFIX + str(key) for (key,) in rows)


def tags_of(runs: Sql, columns: Sequence[str]) -> Sql:
    """The tag rows (``run_id, key, value``) of the runs ``runs`` selects, for these columns."""
    keys = [c[len(TAG_PREFIX) :] for c in columns]
    return (
        "SELECT run_id, key, value FROM run_tags WHERE run_id IN ("
        + runs
        + ") AND key IN ("
        + placeholders(keys)
        + ")"
    )


def tag_values(
    conn: Connection,
    run_ids: Sequence[int],
    columns: Sequence[str],
    pipeline_ids: Sequence[int] | None,
    read: Sequence[Sequence[Any]] | None = None,
) -> dict[str, list[str | None]]:
    """For each tag column, its value in each run of ``run_ids`` (``None``: not set).
    ``read``: :func:`tags_of`'s rows when the caller read them already. Otherwise the tags of
    a page of runs are read by run, those of more runs by key, in these pipelines."""
    if not columns or not run_ids:
        return {c: [None] * len(run_ids) for c in columns}
    if read is None and len(run_ids) < BY_RUN_UNTIL:
        read = conn.rows("reading run tags", tags_of(placeholders(list(run_ids)), columns))
    if read is None:
        keys = [c[len(TAG_PREFIX) :] for c in columns]
        sql = (
            "SELECT run_tags.run_id, run_tags.key, run_tags.value FROM run_tags "
            "JOIN runs ON runs.id = run_tags.run_id WHERE run_tags.key IN ("
            + placeholders(keys)
            + ")"
        )
        if pipeline_ids is not None:
            ids = placeholders(list(pipeline_ids) or [-1])
            sql = sql + " AND runs.pipeline_id IN (" + ids + ")"
        read = conn.rows("reading run tags", sql)
    found = {(run_id, TAG_PREFIX + key): value for run_id, key, value in read}
    return {c: [found.get((r, c)) for r in run_ids] for c in columns}
