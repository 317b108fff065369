"""Previews of read objects: escaped, short, never raising."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from zenml_widgets.widgets.object_preview import describe, is_keras_model, object_preview_html


def test_dataframe_shape_dtypes_head_escaped() -> None:
    df = pd.DataFrame({"<b>col</b>": range(1000), "s": ["<script>x</script>"] * 1000})
    html = object_preview_html(df)
    assert "1,000 rows, 2 columns" in html and "int64" in html and "head(10)" in html
    assert "<script>" not in html and "&lt;script&gt;" in html and "<b>col</b>" not in html
    assert html.count("<tr>") < 30  # only the head, not 1000 rows
    assert describe(df) == "DataFrame (1,000 rows, 2 columns)"


def test_values() -> None:
    assert "dict with 2 keys" in object_preview_html({"a": 1, "b": [1, 2]})
    assert "list with 3 items" in object_preview_html([1, 2, "<x>"])
    assert "&lt;x&gt;" in object_preview_html([1, 2, "<x>"])
    assert "builtins.float" in object_preview_html(0.5) and "0.5" in object_preview_html(0.5)
    assert "shape (2, 3)" in object_preview_html(np.zeros((2, 3)))
    assert "Series" in object_preview_html(pd.Series([1, 2]))
    assert len(object_preview_html("x" * 100_000)) < 10_000


def test_a_failing_preview_is_a_message() -> None:
    class Weird:
        def __repr__(self) -> str:
            raise RuntimeError("no repr <here>")

    html = object_preview_html(Weird())
    assert "Preview failed: RuntimeError: no repr &lt;here&gt;" in html


def test_keras_model_summary() -> None:
    import keras

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="dense_out")])
    assert is_keras_model(model) and not is_keras_model(pd.DataFrame())
    html = object_preview_html(model)
    assert "dense_out" in html and "Dense" in html


def test_keras_without_the_summary_module(monkeypatch: Any) -> None:
    import sys

    import keras

    monkeypatch.setitem(sys.modules, "zenml_widgets.integrations.tensorflow.model_summary", None)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    html = object_preview_html(model)
    assert "rich Keras summary is not available" in html and "Sequential" in html
