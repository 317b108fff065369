"""model_summary_html / model_summary_text on real Keras models and a duck-typed one."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from zenml_widgets.display.html import STYLE
from zenml_widgets.display.keras_summary import (
    format_shape,
    model_summary_html,
    model_summary_text,
    summarize,
)

keras = pytest.importorskip("keras")


def _sequential() -> Any:
    model = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(8, name="hidden"),
            keras.layers.BatchNormalization(name="norm"),
            keras.layers.Dense(1, name="out"),
        ],
        name="seq",
    )
    # Keras refuses '/' in names given to the constructor; a renamed layer can still hold one.
    model.layers[0].name = "<b>x</b>"
    return model


def _functional() -> Any:
    a = keras.Input((4,), name="a")
    b = keras.Input((2,), name="b")
    h = keras.layers.Concatenate(name="join")([a, b])
    return keras.Model([a, b], [keras.layers.Dense(3)(h), keras.layers.Dense(1)(h)], name="two")


class _Net(keras.Model):  # type: ignore[misc]
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.hidden = keras.layers.Dense(3, name="h")
        self.out = keras.layers.Dense(1, name="o")

    def call(self, inputs: Any) -> Any:
        return self.out(self.hidden(inputs))


def test_layer_names_are_escaped_in_html() -> None:
    rendered = model_summary_html(_sequential())
    assert "<b>x</b>" not in rendered
    assert "&lt;b&gt;x&lt;/b&gt;" in rendered
    assert "<b>x</b>" in model_summary_text(_sequential())


def test_model_name_and_type_are_escaped_too() -> None:
    fake = SimpleNamespace(
        name="m'\"<&>",
        layers=[SimpleNamespace(name="<i>", weights=[SimpleNamespace(shape=(2, 3))], built=True)],
        trainable_weights=[],
        non_trainable_weights=[],
        inputs=None,
        outputs=None,
    )
    rendered = model_summary_html(fake)
    assert rendered.startswith(STYLE)  # our own stylesheet, then only table markup
    rendered = rendered.removeprefix(STYLE)
    assert re.search(r"<(?!/?(div|table|thead|tbody|tr|th|td)\b)", rendered) is None
    assert "m&#x27;&quot;&lt;&amp;&gt;" in rendered
    assert "&lt;i&gt;" in rendered


@pytest.mark.parametrize("build", [_sequential, _functional])
def test_counts_match_keras(build: Any) -> None:
    model = build()
    summary = summarize(model)
    assert summary.total_params == model.count_params()
    assert summary.trainable_params == sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert summary.non_trainable_params == sum(
        int(np.prod(w.shape)) for w in model.non_trainable_weights
    )
    assert sum(layer.params or 0 for layer in summary.layers) == model.count_params()
    text = model_summary_text(model)
    assert f"Total params: {model.count_params():,}" in text
    assert f"<th>Total params</th><td>{model.count_params():,}</td>" in model_summary_html(model)


def test_sequential_table() -> None:
    summary = summarize(_sequential())
    assert [(r.name, r.type_name, r.output_shape, r.params) for r in summary.layers] == [
        ("<b>x</b>", "Dense", "(None, 8)", 40),
        ("norm", "BatchNormalization", "(None, 8)", 32),
        ("out", "Dense", "(None, 1)", 9),
    ]
    assert summary.input_shapes == ("(None, 4)",)
    assert summary.output_shapes == ("(None, 1)",)
    assert (summary.trainable_params, summary.non_trainable_params) == (65, 16)


def test_functional_inputs_and_outputs() -> None:
    summary = summarize(_functional())
    assert summary.input_shapes == ("(None, 4)", "(None, 2)")
    assert summary.output_shapes == ("(None, 3)", "(None, 1)")
    assert [r.type_name for r in summary.layers][:3] == ["InputLayer", "InputLayer", "Concatenate"]


def test_subclassed_and_unbuilt_models_do_not_fail() -> None:
    net = _Net(name="net")
    net(np.zeros((2, 4), dtype="float32"))
    text = model_summary_text(net)
    assert "Model 'net' (_Net)" in text
    assert "(2, 4) (as built)" in text
    assert summarize(net).total_params == net.count_params() == 19

    unbuilt = keras.Sequential([keras.layers.Dense(2, name="d")], name="later")
    text = model_summary_text(unbuilt)
    assert "not built yet" in text
    assert "unbuilt" in text
    assert "Total params: 0" in text


def test_output_is_deterministic() -> None:
    first = model_summary_html(_functional())
    assert re.search(r"0x[0-9a-f]{6,}", first) is None
    # Same architecture, fresh objects (auto-generated layer names renumber, so compare the shape
    # of the output rather than the text).
    again = model_summary_html(_functional())
    assert re.sub(r"dense_\d+", "dense", first) == re.sub(r"dense_\d+", "dense", again)
    model = _sequential()
    assert model_summary_html(model) == model_summary_html(model)
    assert model_summary_text(model) == model_summary_text(model)


def test_format_shape() -> None:
    assert format_shape((None, 3)) == "(None, 3)"
    assert format_shape((5,)) == "(5,)"
    assert format_shape(None) == "?"
    assert format_shape([(None, 2), {"a": (1, 2)}]) == "[(None, 2), {a: (1, 2)}]"
