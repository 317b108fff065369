"""Which values of a run are recorded as SQL-visible "run values" (parameters and metrics).

Pure functions, no SQLAlchemy: the runner calls :func:`metric_values` on what a step returned,
the store calls :func:`parameter_values` on a step's parameters. Only small scalars are kept
(bool, int, float, short str) and flat dicts of them; anything else is simply not a column.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

Scalar = bool | int | float | str
NAME_LENGTH = 255  # pipeline, run, step and output names
VALUE_NAME_LENGTH = 3 * NAME_LENGTH + 2  # step.output.key
METRIC_NAME_LENGTH = 250  # a logged metric (log_metric)
MAX_TEXT = 256  # longer strings are not metrics
MAX_KEY = 255  # longer dict / parameter keys are not columns
MAX_ENTRIES = 200  # a dict with more entries is data, not metrics
MAX_PARAMETER_JSON = 1024  # a list / dict parameter is kept as its JSON text up to this length
EXACT_FLOAT_INT = 2**53


def _scalar(value: Any) -> Scalar | None:
    if isinstance(value, bool | str):
        return value if not isinstance(value, str) or len(value) <= MAX_TEXT else None
    if isinstance(value, int | float):
        return value
    # numpy scalars (np.float32, np.int64, np.bool_) without importing numpy
    if type(value).__module__ == "numpy" and getattr(value, "shape", None) == ():
        return _scalar(value.item())
    return None


def metric_values(value: Any) -> dict[str, Scalar] | None:
    """The run values of a step output: ``{"": x}`` for a scalar, ``{key: x}`` for a flat dict.

    ``None`` when the output is neither (a DataFrame, a model, a nested structure, a long
    string): nothing is recorded for it. Dict entries that are not small scalars are skipped.
    """
    single = _scalar(value)
    if single is not None:
        return {"": single}
    if isinstance(value, Mapping) and 0 < len(value) <= MAX_ENTRIES:
        found: dict[str, Scalar] = {}
        for key, item in value.items():
            if not isinstance(key, str) or not key or len(key) > MAX_KEY:
                continue
            scalar = _scalar(item)
            if scalar is not None:
                found[key] = scalar
        return found or None
    return None


def parameter_values(parameters: Mapping[str, Any]) -> dict[str, Scalar]:
    """A step's parameters as run values; lists and dicts as their JSON text when short."""
    found: dict[str, Scalar] = {}
    for key, item in parameters.items():
        if not isinstance(key, str) or not key or len(key) > MAX_KEY:
            continue
        scalar = _scalar(item)
        if scalar is None and item is not None and not isinstance(item, str):
            try:
                text = json.dumps(item, sort_keys=True, allow_nan=True, default=str)
            except (TypeError, ValueError):
                continue
            scalar = text if len(text) <= MAX_PARAMETER_JSON else None
        if scalar is not None:
            found[key] = scalar
    return found


def encode(value: Scalar) -> tuple[str, float | None, str | None]:
    """``(value_type, num_value, text_value)`` as stored.

    Numbers go to ``num_value`` (bool as 0/1) so SQL compares and sorts them; NaN is stored as
    NULL there with ``text_value='nan'`` (SQLite cannot store NaN); an int too large for a
    float to hold exactly keeps its digits in ``text_value``.
    """
    if isinstance(value, bool):
        return "bool", 1.0 if value else 0.0, None
    if isinstance(value, int):
        exact = None if -EXACT_FLOAT_INT <= value <= EXACT_FLOAT_INT else str(value)
        try:
            return "int", float(value), exact
        except OverflowError:
            return "int", None, str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "float", None, "nan"
        return "float", value, None
    return "str", None, value


def decode(value_type: str, num: float | None, text: str | None) -> Scalar | None:
    """The Python value of a stored run value (inverse of :func:`encode`)."""
    if value_type == "bool":
        return None if num is None else bool(num)
    if value_type == "int":
        if text is not None:
            return int(text)
        return None if num is None else int(num)
    if value_type == "float":
        if num is None:
            return math.nan if text == "nan" else None
        return float(num)
    return text


def column_name(step: str, kind: str, key: str, output: str | None = None) -> str:
    """``trainer.epochs`` for a parameter, ``evaluator.output.accuracy`` / ``evaluator.output``."""
    if kind == "param":
        return f"{step}.{key}"
    return f"{step}.{output}.{key}" if key else f"{step}.{output}"
