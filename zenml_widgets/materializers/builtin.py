"""JSON materializer for Python builtins: int, float, str, bool, None, list, tuple, dict.

Read back, containers preview as indented JSON (truncated), other values as their repr.
"""

from __future__ import annotations

import json
import math
import reprlib
from typing import Any, ClassVar

from zenml_widgets.materializers.base import BaseMaterializer
from zenml_widgets.visualizers.html import block, esc, preformatted

_FILENAME = "data.json"
#: A stored value up to this many bytes is read for the artifact's own preview.
PREVIEW_BYTES = 64_000
# A one-key dict with one of these keys is read as a tag, so a user's dict shaped like one is
# written in the ``__dict__`` (pairs) form instead.
_TAGS = frozenset({"__tuple__", "__float__", "__dict__"})


def encode_json(value: Any) -> Any:
    """Builtins -> JSON, tagging what JSON cannot say (tuples, non-str keys, nan/inf)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return {"__float__": repr(value)}
    if isinstance(value, tuple):
        return {"__tuple__": [encode_json(v) for v in value]}
    if isinstance(value, list):
        return [encode_json(v) for v in value]
    if isinstance(value, dict):
        plain = all(isinstance(k, str) for k in value)
        if plain and "__dict__" not in value and not (len(value) == 1 and _TAGS & value.keys()):
            return {k: encode_json(v) for k, v in value.items()}
        return {"__dict__": [[encode_json(k), encode_json(v)] for k, v in value.items()]}
    raise TypeError(
        f"BuiltInMaterializer cannot store a value of type {type(value).__qualname__} "
        "inside a builtin container; only int, float, str, bool, None, list, tuple and dict."
    )


def decode_json(value: Any) -> Any:
    if isinstance(value, list):
        return [decode_json(v) for v in value]
    if isinstance(value, dict):
        if len(value) == 1:
            ((key, inner),) = value.items()
            if key == "__tuple__":
                return tuple(decode_json(v) for v in inner)
            if key == "__float__":
                return float(inner)
            if key == "__dict__":
                return {decode_key(k): decode_json(v) for k, v in inner}
        return {k: decode_json(v) for k, v in value.items()}
    return value


def decode_key(key: Any) -> Any:
    decoded = decode_json(key)
    return tuple(decoded) if isinstance(decoded, list) else decoded


class BuiltInMaterializer(BaseMaterializer):
    """Stores builtins as exact-round-trip JSON in ``data.json``."""

    ASSOCIATED_TYPES: ClassVar[tuple[type[Any], ...]] = (
        int,
        float,
        str,
        bool,
        type(None),
        list,
        tuple,
        dict,
    )

    def handle_return(self, data: Any) -> None:
        with self.open(_FILENAME, "w") as f:
            json.dump(encode_json(data), f, ensure_ascii=False, allow_nan=False)

    def handle_input(self, data_type: type[Any]) -> Any:
        with self.open(_FILENAME, "r") as f:
            value = decode_json(json.load(f))
        if data_type in (tuple, list) and isinstance(value, list | tuple):
            return data_type(value)
        return value

    def stored_preview_html(self) -> str:
        """The value itself when its file is small (``PREVIEW_BYTES``); else ``""``."""
        with self.open(_FILENAME, "rb") as f:
            data = f.read(PREVIEW_BYTES + 1)
        if len(data) > PREVIEW_BYTES:
            return ""
        return self.preview_html(decode_json(json.loads(data)))

    @classmethod
    def preview_html(cls, obj: Any) -> str:
        """Dicts, lists and tuples as indented JSON (a short repr if they hold other things);
        other values as their type and repr."""
        if not isinstance(obj, dict | list | tuple):
            return super().preview_html(obj)
        try:
            text = json.dumps(obj, indent=1, default=repr, sort_keys=isinstance(obj, dict))
        except (TypeError, ValueError):
            short = reprlib.Repr()
            short.maxlevel, short.maxdict, short.maxlist = 3, 50, 50
            text = short.repr(obj)
        what = "keys" if isinstance(obj, dict) else "items"
        return block(esc(f"{type(obj).__name__} with {len(obj):,} {what}"), preformatted(text))
