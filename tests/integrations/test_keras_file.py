"""A Keras model's summary from its ``.keras`` file alone: the same as the loaded model's, made
without importing TensorFlow, fast in a fresh process; ``read()`` still returns the real model."""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

keras = pytest.importorskip("keras")
layers = keras.layers

from zenml_widgets.integrations.tensorflow.keras_file import (  # noqa: E402
    snake_case,
    summarize_file,
)
from zenml_widgets.integrations.tensorflow.model_summary import summarize  # noqa: E402
from zenml_widgets.repository import Repository  # noqa: E402
from zenml_widgets.visualizers.model_summary import summary_text  # noqa: E402


def _mlp() -> Any:
    model = keras.Sequential(
        [
            keras.Input((13,), name="features"),
            layers.Normalization(name="norm"),
            layers.Dense(16, activation="relu"),
            layers.Dropout(0.2),
            layers.BatchNormalization(),
            layers.Dense(3, activation="softmax"),
        ],
        name="mlp",
    )
    model.layers[0].adapt(np.random.default_rng(0).random((50, 13)))
    return model


def _convnet() -> Any:
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            layers.Conv2D(8, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(16, 3, padding="same", strides=2),
            layers.GlobalAveragePooling2D(),
            layers.Flatten(),
            layers.Dense(10),
        ],
        name="convnet",
    )


def _text_rnn() -> Any:
    return keras.Sequential(
        [
            keras.Input((20,), dtype="int32"),
            layers.Embedding(1000, 8),
            layers.LSTM(12, return_sequences=True),
            layers.GRU(6),
            layers.Dense(1),
        ],
        name="rnn",
    )


def _two_heads() -> Any:
    a, b = keras.Input((4,), name="a"), keras.Input((6,), name="b")
    x = layers.Concatenate()([layers.Dense(5, name="da")(a), layers.Dense(7, name="db")(b)])
    x = layers.Dense(3, name="mix")(x)
    total = layers.Add(name="sum")([x, layers.Dense(3, name="skip")(x)])
    return keras.Model([a, b], [total, layers.Dense(2, name="aux")(x)], name="two_heads")


def _nested() -> Any:
    inner = keras.Sequential([keras.Input((4,)), layers.Dense(8), layers.Dense(8)], name="inner")
    inputs = keras.Input((4,))
    x = layers.Bidirectional(layers.LSTM(3))(layers.Reshape((8, 1))(inner(inputs)))
    frozen = layers.Dense(2, name="frozen")
    frozen.trainable = False
    return keras.Model(inputs, frozen(x), name="nested")


@pytest.mark.parametrize("build", [_mlp, _convnet, _text_rnn, _two_heads, _nested])
def test_the_file_summary_is_the_loaded_models(build: Any, tmp_path: Path) -> None:
    model = build()
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = summary_text(summarize(keras.models.load_model(path)))
    with path.open("rb") as f:
        assert summary_text(summarize_file(f)) == loaded


def test_snake_case_is_keras_s() -> None:
    from keras.src.utils.naming import to_snake_case

    for name in ("Dense", "BatchNormalization", "Conv2D", "LSTM", "GlobalAveragePooling1D"):
        assert snake_case(name) == to_snake_case(name)


def test_a_file_without_weights_is_not_built_and_one_without_config_is_refused() -> None:
    config = {"class_name": "Sequential", "config": {"name": "s", "layers": [
        {"class_name": "InputLayer", "config": {"batch_shape": [None, 3], "name": "x"}},
        {"class_name": "Dense", "config": {"name": "d", "units": 2}},
    ]}}  # fmt: skip
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("config.json", json.dumps(config))
    summary = summarize_file(io.BytesIO(buffer.getvalue()))
    assert not summary.built and summary.layers[0].params is None
    assert summary.layers[0].output_shape == "(None, 2)"
    empty = io.BytesIO()
    with zipfile.ZipFile(empty, "w") as archive:
        archive.writestr("other.txt", "")
    with pytest.raises(ValueError, match=r"config\.json"):
        summarize_file(io.BytesIO(empty.getvalue()))


# -- through the views and the explorer, in a fresh kernel --------------------------------------

PREVIEW = """
import json, sys, time
from IPython.display import display
started = time.perf_counter()
from zenml_widgets.repository import Repository
output = Repository().get_pipeline("keras_training_pipeline").runs[-1].get_step("trainer").output
ready = time.perf_counter()
display(output)  # the artifact's own display, sent to the front end
shown = time.perf_counter()
from zenml_widgets import HistoryExplorer
explorer = HistoryExplorer().select("keras_training_pipeline", "latest", "trainer", "output")
picked = time.perf_counter()
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras"))
print(json.dumps({
    "display": shown - ready, "total": shown - started, "explorer": picked - shown,
    "heavy": heavy, "data": explorer.ui.data.value,
}))
"""


@pytest.fixture
def keras_repo(tmp_path: Path) -> Repository:
    pytest.importorskip("sklearn")
    from zenml_widgets.examples.keras_pipeline import make_pipeline

    repo = Repository.init(tmp_path / "repo")
    make_pipeline(epochs=2).run(run_name="wine", repository=repo)
    return repo


def run_in_a_fresh_kernel(code: str, cwd: Path) -> tuple[dict[str, Any], list[str]]:
    """Run ``code`` in a new IPython kernel of this environment: its last printed JSON line and
    the HTML it displayed."""
    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel(
        kernel_name="python3", cwd=str(cwd), env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    )
    printed: list[str] = []
    html: list[str] = []

    def keep(msg: dict[str, Any]) -> None:
        content = msg["content"]
        if msg["header"]["msg_type"] == "stream":
            printed.append(content["text"])
        elif msg["header"]["msg_type"] == "display_data":
            html.append(content["data"].get("text/html", ""))

    try:
        reply = client.execute_interactive(code, output_hook=keep, timeout=120)
        assert reply["content"]["status"] == "ok", reply["content"]
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    return json.loads("".join(printed).strip().splitlines()[-1]), html


def test_a_keras_output_previews_without_tensorflow_in_a_fresh_kernel(
    keras_repo: Repository,
) -> None:
    out, shown = run_in_a_fresh_kernel(PREVIEW, keras_repo.root)
    assert out["heavy"] == []  # neither tensorflow nor keras was imported
    assert out["display"] < 0.5, out["display"]  # target: under 0.5 s
    assert out["total"] < 1.0, out["total"]  # the imports and opening the store too
    assert out["explorer"] < 1.0, out["explorer"]
    for html in (shown[0], out["data"]):
        assert "wine_classifier" in html and "hidden" in html and "Dense" in html
        assert "(None, 16)" in html and "Total params" in html
    model = keras_repo.get_pipeline("keras_training_pipeline").runs[-1].get_step("trainer")
    assert isinstance(model.output.read(), keras.Model)  # read() still loads the real model
