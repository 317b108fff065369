"""A short, escaped HTML preview of an object read from an artifact.

DataFrames show their shape, dtypes and head; Keras models their layer summary; scalars, dicts
and lists their (truncated) value. Types are recognised by name, so this module never imports
pandas, numpy or Keras.
"""

from __future__ import annotations

import importlib
import json
import reprlib
from typing import Any

from zenml_widgets.display.html import block, esc, table

HEAD_ROWS = 10
MAX_COLUMNS = 30
MAX_TEXT = 4000
KERAS_SUMMARY_MODULE = "zenml_widgets.display.keras_summary"


def type_path(obj: Any) -> str:
    """``module.Name`` of ``obj``'s class."""
    cls = type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


def _mro_paths(obj: Any) -> list[str]:
    return [f"{c.__module__}.{c.__qualname__}" for c in type(obj).__mro__]


def is_dataframe(obj: Any) -> bool:
    """Whether ``obj`` is a pandas DataFrame (or a subclass)."""
    return any(p.startswith("pandas.") and p.endswith(".DataFrame") for p in _mro_paths(obj))


def is_series(obj: Any) -> bool:
    """Whether ``obj`` is a pandas Series."""
    return any(p.startswith("pandas.") and p.endswith(".Series") for p in _mro_paths(obj))


def is_keras_model(obj: Any) -> bool:
    """Whether ``obj`` is a Keras (or ``tf.keras``) model."""
    return any(
        ("keras" in p.split(".")[0] or ".keras." in p) and p.endswith(".Model")
        for p in _mro_paths(obj)
    )


def is_ndarray(obj: Any) -> bool:
    """Whether ``obj`` is a numpy array."""
    return type_path(obj) == "numpy.ndarray"


def _truncate(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else text[:limit] + f"\n... ({len(text) - limit:,} more)"


def _pre(text: str) -> str:
    return f"<pre style='margin:2px 0;max-height:24em;overflow:auto'>{esc(_truncate(text))}</pre>"


def dataframe_html(df: Any, rows: int = HEAD_ROWS) -> str:
    """Shape, dtypes and the first ``rows`` rows of a DataFrame (the data itself is escaped)."""
    n_rows, n_cols = df.shape
    dtypes = list(df.dtypes.items())
    dtype_rows = [(str(name), str(dtype)) for name, dtype in dtypes[:MAX_COLUMNS]]
    more = f"<div class='zw-muted'>and {len(dtypes) - MAX_COLUMNS} more columns</div>"
    head = df.head(rows).to_html(max_cols=MAX_COLUMNS, border=0, escape=True)
    return block(
        f"DataFrame <span class='zw-muted'>{n_rows:,} rows, {n_cols:,} columns</span>",
        "<div class='zw-title'>dtypes</div>",
        table(("column", "dtype"), dtype_rows),
        more if len(dtypes) > MAX_COLUMNS else "",
        f"<div class='zw-title'>head({rows})</div>",
        f"<div style='overflow:auto'>{head}</div>",
    )


def table_facts_html(
    num_rows: int, num_columns: int, schema: Any, head: Any, rows: int = HEAD_ROWS
) -> str:
    """A DataFrame output previewed without reading it: its recorded shape, its schema (column
    -> dtype, as ``df.dtypes``) and its first rows (read alone from the first row group)."""
    dtypes = list(schema.items())
    dtype_rows = [(str(name), str(dtype)) for name, dtype in dtypes[:MAX_COLUMNS]]
    more = f"<div class='zw-muted'>and {len(dtypes) - MAX_COLUMNS} more columns</div>"
    html_head = head.head(rows).to_html(max_cols=MAX_COLUMNS, border=0, escape=True)
    return block(
        f"DataFrame <span class='zw-muted'>{num_rows:,} rows, {num_columns:,} columns "
        "(not read whole)</span>",
        "<div class='zw-title'>dtypes</div>",
        table(("column", "dtype"), dtype_rows),
        more if len(dtypes) > MAX_COLUMNS else "",
        f"<div class='zw-title'>head({rows})</div>",
        f"<div style='overflow:auto'>{html_head}</div>",
    )


def keras_html(model: Any) -> str:
    """The model's layer summary (from ``zenml_widgets.display.keras_summary`` when present)."""
    try:
        summary = importlib.import_module(KERAS_SUMMARY_MODULE)
    except ImportError as e:
        return block(
            f"Keras model <code>{esc(type_path(model))}</code>",
            "<div class='zw-muted'>The rich Keras summary is not available "
            f"({esc(e)}); showing the model's repr.</div>",
            _pre(repr(model)),
        )
    html: str = summary.model_summary_html(model)
    return html


def value_html(obj: Any) -> str:
    """Scalars, strings, dicts, lists and anything else: type and (truncated) value."""
    kind = type_path(obj)
    if isinstance(obj, dict | list | tuple):
        try:
            text = json.dumps(obj, indent=1, default=repr, sort_keys=isinstance(obj, dict))
        except (TypeError, ValueError):
            short = reprlib.Repr()
            short.maxlevel, short.maxdict, short.maxlist = 3, 50, 50
            text = short.repr(obj)
        title = (
            f"{type(obj).__name__} with {len(obj):,} {'keys' if isinstance(obj, dict) else 'items'}"
        )
        return block(esc(title), _pre(text))
    if is_ndarray(obj):
        return block(
            f"ndarray <span class='zw-muted'>shape {esc(obj.shape)}, dtype {esc(obj.dtype)}</span>",
            _pre(repr(obj)),
        )
    if is_series(obj):
        return block(
            f"Series <span class='zw-muted'>{len(obj):,} values, dtype {esc(obj.dtype)}</span>",
            _pre(repr(obj.head(HEAD_ROWS))),
        )
    return block(f"<code>{esc(kind)}</code>", _pre(repr(obj)))


def object_preview_html(obj: Any) -> str:
    """The preview of a read object; a failure shows as a short message, never an exception."""
    try:
        if is_dataframe(obj):
            return dataframe_html(obj)
        if is_keras_model(obj):
            return keras_html(obj)
        return value_html(obj)
    except Exception as e:
        return block(
            f"<code>{esc(type_path(obj))}</code>",
            f"<div style='color:#b00'>Preview failed: {esc(type(e).__name__)}: {esc(e)}</div>",
        )


def describe(obj: Any) -> str:
    """A one-line plain description, e.g. ``DataFrame (50 rows, 2 columns)``."""
    if is_dataframe(obj):
        return f"DataFrame ({obj.shape[0]:,} rows, {obj.shape[1]:,} columns)"
    if is_ndarray(obj):
        return f"ndarray {obj.shape}"
    return type(obj).__name__
