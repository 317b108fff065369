"""Recording run values: a step's parameters and small scalar outputs as typed SQL rows.

``run_values`` holds one row per run and column name (``trainer.epochs``,
``evaluator.output.accuracy``); ``run_value_columns`` catalogues which names (and value types) a
pipeline has, so the runs table knows its columns without scanning the values. Functions here
take the writing connection, inside its transaction.
"""

from __future__ import annotations

from collections.abc import Set
from typing import TYPE_CHECKING, Any

from zenml_widgets.store.sql import Sql
from zenml_widgets.store.values import VALUE_NAME_LENGTH, Scalar, column_name, decode, encode

if TYPE_CHECKING:
    from zenml_widgets.store.connection import Connection

_VALUE_COLUMNS = (
    "pipeline_id",
    "run_id",
    "step_id",
    "name",
    "kind",
    "output_name",
    "key",
    "value_type",
    "num_value",
    "text_value",
)
_CATALOGUE_COLUMNS = ("pipeline_id", "name", "value_type", "kind")

Catalogued = tuple[int, str, str]  # (pipeline id, column name, value type)


def record_values(
    conn: Connection,
    *,
    pipeline_id: int,
    run_id: int,
    step_id: int,
    step_name: str,
    kind: str,
    values: dict[str, Scalar],
    output_name: str | None = None,
    catalogued: Set[Catalogued] = frozenset(),
) -> set[Catalogued]:
    """Insert run values of one step (parameters, or one output's metrics) and catalogue them.

    A column name that the run already has (two steps whose names collide once joined with
    dots) keeps its first value. ``catalogued``: entries known to be in the catalogue already
    (not inserted again). Returns the catalogue entries written.
    """
    rows: list[tuple[Any, ...]] = []
    for key, value in values.items():
        name = column_name(step_name, kind, key, output_name)
        if len(name) > VALUE_NAME_LENGTH:
            continue
        value_type, num, text = encode(value)
        rows.append(
            (pipeline_id, run_id, step_id, name, kind, output_name, key, value_type, num, text)
        )
    if not rows:
        return set()
    insert = conn.dialect.insert_or_ignore("run_values", _VALUE_COLUMNS, ("run_id", "name"))
    conn.execute_many("recording run values", Sql(insert), rows)
    new = {(pipeline_id, r[3], r[7]) for r in rows} - set(catalogued)
    if new:
        keys = ("pipeline_id", "name", "value_type")
        catalogue = conn.dialect.insert_or_ignore("run_value_columns", _CATALOGUE_COLUMNS, keys)
        entries = sorted((p, n, t, kind) for p, n, t in new)
        conn.execute_many("cataloguing run values", Sql(catalogue), entries)
    return new


def copy_metrics(
    conn: Connection,
    *,
    pipeline_id: int,
    source_step_id: int,
    output_name: str,
    run_id: int,
    step_id: int,
    step_name: str,
    catalogued: Set[Catalogued] = frozenset(),
) -> set[Catalogued]:
    """A cached step's output: the same metrics as the step that wrote it, under this run."""
    found = conn.rows(
        "reading the metrics of a cached output",
        Sql(
            "SELECT key, value_type, num_value, text_value FROM run_values "
            "WHERE step_id = ? AND kind = 'metric' AND output_name = ?",
            (source_step_id, output_name),
        ),
    )
    values = {}
    for key, value_type, num, text in found:
        value = decode(value_type, num, text)
        if value is not None:
            values[key] = value
    return record_values(
        conn,
        pipeline_id=pipeline_id,
        run_id=run_id,
        step_id=step_id,
        step_name=step_name,
        kind="metric",
        values=values,
        output_name=output_name,
        catalogued=catalogued,
    )
