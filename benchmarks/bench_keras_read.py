"""Reading a ~10 MB Keras model: KerasMaterializer and output.read() vs keras load_model.

Not a test: it prints the medians and their ratios to the baseline measured in the same run.
The target is a ratio within 1.1x. Run from the repository root::

    .venv/bin/python -m benchmarks.bench_keras_read [--repetitions 25]

The model is a compiled MLP (about 0.8 M parameters; weights plus Adam's two slots make the
file about 10 MB). It is written once by the real runner (so the artifact is exactly what a
pipeline stores), then read in interleaved rounds: baseline, materializer, view, each round in
a fresh order so that drift and caching hit every contender alike, with a garbage collection
(untimed) before each read.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _build_model() -> Any:
    import keras
    import numpy as np

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((256,)),
            keras.layers.Dense(1024, activation="relu"),
            keras.layers.Dense(512, activation="relu"),
            keras.layers.Dense(10),
        ],
        name="bench_mlp",
    )
    model.compile(optimizer="adam", loss="mse")
    x = np.random.default_rng(0).normal(size=(64, 256)).astype("float32")
    model.fit(x, np.zeros((64, 10), dtype="float32"), epochs=1, verbose=0)
    return model


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repetitions", type=int, default=25)
    args = parser.parse_args()

    import keras

    from zenml_widgets import pipeline, step
    from zenml_widgets.integrations.tensorflow.materializers.keras_materializer import (
        MODEL_FILENAME,
        KerasMaterializer,
    )
    from zenml_widgets.repository import Repository

    @step
    def make_model() -> keras.Model:
        return _build_model()

    @pipeline
    def bench_pipeline(make_model: Any) -> None:
        make_model()

    with tempfile.TemporaryDirectory() as tmp:
        repo = Repository.init(Path(tmp) / "repo")
        run = bench_pipeline(make_model=make_model()).run(run_name="bench", repository=repo)
        output = run.get_step("make_model").output
        path = str(Path(output.uri) / MODEL_FILENAME)
        size_mb = Path(path).stat().st_size / 1e6

        class _Artifact:
            uri = output.uri

        contenders: dict[str, Callable[[], Any]] = {
            "keras.models.load_model": lambda: keras.models.load_model(path),
            "KerasMaterializer.handle_input": lambda: KerasMaterializer(_Artifact()).handle_input(
                keras.Model
            ),
            "ArtifactView.read()": output.read,
        }
        for read in contenders.values():  # warm up: imports, traced functions, page cache
            read()
        samples: dict[str, list[float]] = {name: [] for name in contenders}
        order = list(contenders)
        rng = random.Random(0)
        for _ in range(args.repetitions):
            rng.shuffle(order)
            for name in order:
                gc.collect()  # the previous read's model is garbage: do not bill it to this one
                started = time.perf_counter()
                contenders[name]()
                samples[name].append(time.perf_counter() - started)

        baseline = _median_ms(samples["keras.models.load_model"])
        baseline_min = min(samples["keras.models.load_model"])
        print(
            f"model.keras: {size_mb:.1f} MB, {output.read().count_params():,} parameters; "
            f"{args.repetitions} interleaved repetitions, medians"
        )
        print(f"{'reader':<32} {'median ms':>10} {'ratio':>6} {'min ms':>8} {'ratio':>6}")
        for name, values in samples.items():
            median, fastest = _median_ms(values), min(values)
            print(
                f"{name:<32} {median:>10.1f} {median / baseline:>6.2f} "
                f"{fastest * 1000:>8.1f} {fastest / baseline_min:>6.2f}"
            )


if __name__ == "__main__":
    main()
