"""``MetricsCallback``: a real tiny Keras model fitted inside a step logs its curves; importing
the integration imports no TensorFlow."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from zenml_widgets import pipeline, step  # noqa: E402
from zenml_widgets.exceptions import MetricLoggingError  # noqa: E402
from zenml_widgets.integrations.tensorflow import MetricsCallback  # noqa: E402
from zenml_widgets.repository import Repository  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


@step(enable_cache=False)
def fit_tiny(epochs: int = 3, every_n_batches: int = 2) -> float:
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(2)]
    )
    model.compile(
        optimizer="adam",
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    history = model.fit(
        x, y, epochs=epochs, batch_size=16, validation_split=0.25, verbose=0,
        callbacks=[MetricsCallback(every_n_batches=every_n_batches)],
    )  # fmt: skip
    return float(history.history["val_loss"][-1])


@pipeline(enable_cache=False)
def tiny_pipeline(fit_tiny):
    fit_tiny()


def test_a_real_fit_logs_every_epoch_and_every_n_batches(sqlite_repo: Repository) -> None:
    run = tiny_pipeline(fit_tiny=fit_tiny(epochs=3, every_n_batches=2)).run(
        run_name="tiny", repository=sqlite_repo
    )
    step_view = run.get_step("fit_tiny")
    assert step_view.metric_names == [
        "accuracy", "batch.accuracy", "batch.loss", "loss", "val_accuracy", "val_loss",
    ]  # fmt: skip
    val_loss = step_view.metric_history("val_loss")
    assert val_loss.index.tolist() == [0, 1, 2]
    assert val_loss.iloc[-1] == pytest.approx(step_view.output.read())
    assert step_view.metric_history("loss").notna().all()
    # 48 training rows in batches of 16: 3 batches an epoch, 9 in all; every 2nd is logged
    assert step_view.metric_history("batch.loss").index.tolist() == [1, 3, 5, 7]
    frame = sqlite_repo.get_pipeline("tiny_pipeline").runs.to_dataframe()
    assert frame["fit_tiny.metrics.val_loss"].iloc[0] == pytest.approx(val_loss.iloc[-1])


def test_the_callback_outside_a_step_says_where_it_works() -> None:
    x = np.zeros((4, 2), dtype="float32")
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(MetricLoggingError, match="only inside a running step"):
        model.fit(x, x[:, :1], epochs=1, verbose=0, callbacks=[MetricsCallback()])


def test_bad_options_are_refused() -> None:
    with pytest.raises(ValueError, match="every_n_batches takes a whole number >= 1"):
        MetricsCallback(every_n_batches=0)


def test_importing_the_integration_imports_no_tensorflow() -> None:
    code = (
        "import sys, json\n"
        "from zenml_widgets.integrations.tensorflow import MetricsCallback\n"
        "before = sorted(m for m in ('tensorflow', 'keras') if m in sys.modules)\n"
        "MetricsCallback()\n"
        "after = 'keras' in sys.modules\n"
        "print(json.dumps([before, after]))\n"
    )
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [[], True]
