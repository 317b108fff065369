"""KerasMaterializer: round trips, failures, registry lookup and lazy TensorFlow import."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from zenml_widgets.exceptions import ArtifactReadError  # noqa: E402
from zenml_widgets.integrations.tensorflow.materializers.keras_materializer import (  # noqa: E402
    MODEL_FILENAME,
    KerasMaterializer,
)
from zenml_widgets.materializers.registry import default_registry  # noqa: E402

_REPO_ROOT = Path(__file__).resolve().parents[2]
_SUBPROCESS_ENV = {
    **os.environ,
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "PYTHONPATH": os.pathsep.join(filter(None, [str(_REPO_ROOT), os.environ.get("PYTHONPATH")])),
}


@dataclass(frozen=True)
class FakeArtifact:
    uri: str


@keras.saving.register_keras_serializable(package="zenml_widgets_tests")
class TwoLayerNet(keras.Model):  # type: ignore[misc]
    def __init__(self, units: int = 8, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.units = units
        self.hidden = keras.layers.Dense(units, activation="relu")
        self.norm = keras.layers.BatchNormalization()
        self.out = keras.layers.Dense(1)

    def call(self, inputs: Any, training: bool = False) -> Any:
        return self.out(self.norm(self.hidden(inputs), training=training))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "units": self.units}


class UnregisteredNet(keras.Model):  # type: ignore[misc]
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.dense = keras.layers.Dense(1)

    def call(self, inputs: Any) -> Any:
        return self.dense(inputs)


def _data(n: int = 64) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 4)).astype("float32")
    y = (x @ np.array([1.0, -2.0, 0.5, 3.0], dtype="float32"))[:, None]
    return x, y


def _sequential() -> Any:
    keras.utils.set_random_seed(1)
    return keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(8, activation="relu", name="hidden"),
            keras.layers.BatchNormalization(name="norm"),
            keras.layers.Dense(1, name="out"),
        ],
        name="seq",
    )


def _functional() -> Any:
    keras.utils.set_random_seed(2)
    a = keras.Input((4,), name="a")
    b = keras.Input((2,), name="b")
    h = keras.layers.Dense(6, activation="tanh")(a)
    h = keras.layers.Concatenate()([h, b])
    h = keras.layers.BatchNormalization()(h)
    h = keras.layers.Dropout(0.1)(h)
    out = keras.layers.Dense(1)(h)
    return keras.Model(inputs=[a, b], outputs=out, name="func")


def _subclassed() -> Any:
    keras.utils.set_random_seed(3)
    model = TwoLayerNet(units=5, name="sub")
    model(np.zeros((1, 4), dtype="float32"))
    return model


def _inputs(model: Any, x: np.ndarray[Any, Any]) -> Any:
    if model.name == "func":
        return [x, x[:, :2] * 2.0]
    return x


def _trained(build: Any) -> tuple[Any, Any]:
    model = build()
    x, y = _data()
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="mse")
    model.fit(_inputs(model, x), y, epochs=2, batch_size=16, verbose=0)
    return model, _inputs(model, x)


def _weight_names(model: Any) -> list[tuple[str, tuple[int, ...]]]:
    return [(w.name, tuple(w.shape)) for w in model.weights]


def _write(model: Any, folder: Path, **kwargs: Any) -> KerasMaterializer:
    folder.mkdir(parents=True, exist_ok=True)
    materializer = KerasMaterializer(FakeArtifact(str(folder)), **kwargs)
    materializer.handle_return(model)
    return materializer


@pytest.mark.parametrize("build", [_sequential, _functional, _subclassed])
def test_round_trip_keeps_weights_optimizer_state_and_predictions(
    build: Any, tmp_path: Path
) -> None:
    model, x = _trained(build)
    materializer = _write(model, tmp_path / "artifact")
    assert (tmp_path / "artifact" / MODEL_FILENAME).is_file()

    loaded = materializer.handle_input(keras.Model)

    assert type(loaded) is type(model)
    assert loaded.name == model.name
    # Not by variable path: Keras itself drops a Sequential's model-name prefix on load
    # ("seq/hidden/kernel" -> "hidden/kernel") and renumbers a subclassed model's auto-named
    # layers ("dense" -> "dense_4").
    assert _weight_names(loaded) == _weight_names(model)
    for saved, restored in zip(model.get_weights(), loaded.get_weights(), strict=True):
        np.testing.assert_array_equal(saved, restored)
    assert loaded.non_trainable_weights, "BatchNormalization statistics must survive"

    assert loaded.optimizer is not None
    assert type(loaded.optimizer) is type(model.optimizer)
    assert int(loaded.optimizer.iterations.numpy()) == int(model.optimizer.iterations.numpy()) > 0
    assert float(loaded.optimizer.learning_rate.numpy()) == pytest.approx(0.01)
    saved_slots = [v.numpy() for v in model.optimizer.variables]
    restored_slots = [v.numpy() for v in loaded.optimizer.variables]
    assert len(saved_slots) == len(restored_slots) > 2
    for saved, restored in zip(saved_slots, restored_slots, strict=True):
        np.testing.assert_array_equal(saved, restored)

    np.testing.assert_array_equal(
        model.predict(x, verbose=0), loaded.predict(x, verbose=0), strict=True
    )


def test_uncompiled_model_round_trips(tmp_path: Path) -> None:
    model = _sequential()
    loaded = _write(model, tmp_path / "a").handle_input(keras.Model)
    x, _ = _data(8)
    assert getattr(loaded, "optimizer", None) is None
    np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))


@pytest.mark.parametrize("build", [_sequential, _functional, _subclassed])
def test_registry_finds_keras_materializer_along_the_mro(build: Any) -> None:
    assert default_registry.find(type(build())) is KerasMaterializer
    assert default_registry.by_path(KerasMaterializer.dotted_path()) is KerasMaterializer


def test_non_model_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match=r"keras\.Model"):
        _write(keras.layers.Dense(2), tmp_path / "a")  # type: ignore[arg-type]


def test_lambda_layer_is_refused_with_keras_reason(tmp_path: Path) -> None:
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Lambda(lambda t: t * 2.0)(inputs), name="doubler")

    with pytest.raises(ValueError, match="cannot store model 'doubler'") as info:
        _write(model, tmp_path / "a")

    message = str(info.value)
    assert "Lambda" in message
    assert "safe_mode" in message
    assert isinstance(info.value.__cause__, ValueError)


def test_lambda_layer_round_trips_only_when_unsafe_mode_is_explicit(tmp_path: Path) -> None:
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Lambda(lambda t: t * 2.0)(inputs), name="doubler")
    _write(model, tmp_path / "a", safe_mode=False)

    with pytest.raises(ArtifactReadError, match="Lambda"):
        KerasMaterializer(FakeArtifact(str(tmp_path / "a"))).handle_input(keras.Model)

    class TrustedKerasMaterializer(KerasMaterializer):
        REGISTER = False
        SAFE_MODE = False

    loaded = TrustedKerasMaterializer(FakeArtifact(str(tmp_path / "a"))).handle_input(keras.Model)
    x = np.ones((2, 3), dtype="float32")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), 2.0 * x)
    assert default_registry.find(keras.Model) is KerasMaterializer


def test_unregistered_subclass_is_refused_before_it_becomes_unreadable(tmp_path: Path) -> None:
    model = UnregisteredNet(name="plain")
    model(np.zeros((1, 3), dtype="float32"))

    with pytest.raises(ValueError, match="register_keras_serializable"):
        _write(model, tmp_path / "a")


def test_corrupt_file_error_names_the_uri(tmp_path: Path) -> None:
    folder = tmp_path / "artifact-corrupt"
    folder.mkdir()
    (folder / MODEL_FILENAME).write_bytes(b"definitely not a zip archive")

    with pytest.raises(ArtifactReadError, match="corrupt") as info:
        KerasMaterializer(FakeArtifact(str(folder))).handle_input(keras.Model)
    assert str(folder) in str(info.value)


def test_truncated_file_error_names_the_uri(tmp_path: Path) -> None:
    folder = tmp_path / "artifact-truncated"
    _write(_sequential(), folder)
    data = (folder / MODEL_FILENAME).read_bytes()
    (folder / MODEL_FILENAME).write_bytes(data[: len(data) // 2])

    with pytest.raises(ArtifactReadError) as info:
        KerasMaterializer(FakeArtifact(str(folder))).handle_input(keras.Model)
    assert str(folder) in str(info.value)


def test_broken_config_inside_a_valid_archive_names_the_uri(tmp_path: Path) -> None:
    folder = tmp_path / "artifact-bad-config"
    folder.mkdir()
    with zipfile.ZipFile(folder / MODEL_FILENAME, "w") as archive:
        archive.writestr("config.json", "{not json")
        archive.writestr("metadata.json", "{}")

    with pytest.raises(ArtifactReadError, match="Could not load") as info:
        KerasMaterializer(FakeArtifact(str(folder))).handle_input(keras.Model)
    assert str(folder) in str(info.value)
    assert info.value.__cause__ is not None


def test_missing_file_and_folder_name_the_uri(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "df.parquet").write_bytes(b"")
    with pytest.raises(ArtifactReadError, match=r"no model\.keras.*df\.parquet") as info:
        KerasMaterializer(FakeArtifact(str(empty))).handle_input(keras.Model)
    assert str(empty) in str(info.value)

    gone = tmp_path / "gone"
    with pytest.raises(ArtifactReadError, match="does not exist") as info:
        KerasMaterializer(FakeArtifact(str(gone))).handle_input(keras.Model)
    assert str(gone) in str(info.value)


def _run_python(code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=_SUBPROCESS_ENV,
        cwd=tmp_path,
        timeout=120,
    )


def test_importing_the_package_and_module_does_not_import_tensorflow(tmp_path: Path) -> None:
    result = _run_python(
        """
        import sys
        import zenml_widgets
        import zenml_widgets.materializers
        import zenml_widgets.integrations.tensorflow.materializers.keras_materializer as km
        import zenml_widgets.display.keras_summary
        import zenml_widgets.examples.keras_pipeline
        km.KerasMaterializer.dotted_path()
        heavy = sorted(
            name for name in sys.modules
            if name.split(".")[0] in {"tensorflow", "keras", "tf_keras", "sklearn"}
        )
        print(heavy)
        """,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_fresh_process_reads_identical_predictions(tmp_path: Path) -> None:
    model, x = _trained(_functional)
    folder = tmp_path / "artifact"
    _write(model, folder)
    np.save(tmp_path / "x.npy", np.asarray(x[0]))
    expected = model.predict(x, verbose=0)

    result = _run_python(
        f"""
        import numpy as np
        from zenml_widgets.materializers.registry import default_registry

        materializer_class = default_registry.by_path(
            "zenml_widgets.integrations.tensorflow.materializers.keras_materializer"
            ".KerasMaterializer"
        )
        import keras
        model = materializer_class(type("A", (), {{"uri": {str(folder)!r}}})()).handle_input(
            keras.Model
        )
        x = np.load("x.npy")
        np.save("predicted.npy", model.predict([x, x[:, :2] * 2.0], verbose=0))
        """,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    np.testing.assert_array_equal(np.load(tmp_path / "predicted.npy"), expected)


_BLOCK_IMPORTS = """
import importlib.abc
import sys

class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, Blocker())
"""


@pytest.mark.parametrize("blocked", [("tensorflow",), ("tensorflow", "keras")])
def test_missing_tensorflow_says_what_to_install(blocked: tuple[str, ...], tmp_path: Path) -> None:
    folder = tmp_path / "artifact"
    _write(_sequential(), folder)
    result = _run_python(
        f"BLOCKED = {set(blocked)!r}\n"
        + _BLOCK_IMPORTS
        + textwrap.dedent(
            f"""
            from zenml_widgets.integrations.tensorflow.materializers.keras_materializer import (
                KerasMaterializer,
            )
            artifact = type("A", (), {{"uri": {str(folder)!r}}})()
            try:
                KerasMaterializer(artifact).handle_input(object)
            except ImportError as e:
                print(e)
            else:
                print("no error")
            """
        ),
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert 'pip install "zenml-widgets[tensorflow]"' in result.stdout
    assert "read this Keras model artifact" in result.stdout


# -- end to end: the example pipeline, read back through the views -----------------------------


@pytest.fixture
def example_repo(tmp_path: Path) -> Any:
    pytest.importorskip("sklearn")
    from zenml_widgets.repository import Repository
    from zenml_widgets.stack import forget_metadata_stores

    yield Repository.init(tmp_path / "repo")
    forget_metadata_stores()


def test_example_pipeline_model_reads_back_through_the_views(example_repo: Any) -> None:
    from zenml_widgets.examples.keras_pipeline import TARGET, make_pipeline
    from zenml_widgets.materializers import PandasMaterializer
    from zenml_widgets.repository import Repository

    make_pipeline(epochs=5).run(run_name="wine-5", repository=example_repo)

    run = Repository(example_repo.root).get_pipeline("keras_training_pipeline").runs[-1]
    assert run.name == "wine-5"
    assert run.status == "completed"
    assert run.get_step_names() == ["importer", "trainer", "evaluator"]
    trainer = run.get_step("trainer")
    assert trainer.parameters["epochs"] == 5
    output = trainer.output
    assert output.data_type == "keras.src.models.sequential.Sequential"
    assert output.materializer == KerasMaterializer.dotted_path()

    model = output.read()
    same = output.read(materializer_class=KerasMaterializer)
    assert isinstance(model, keras.Model)
    assert isinstance(same, keras.Model)
    assert model.optimizer.iterations.numpy() > 0

    test = run.get_step("importer").outputs["test"].read(materializer_class=PandasMaterializer)
    features = test.drop(columns=[TARGET]).to_numpy(dtype="float32")
    predictions = model.predict(features, verbose=0)
    np.testing.assert_array_equal(predictions, same.predict(features, verbose=0))
    accuracy = float(np.mean(np.argmax(predictions, axis=1) == test[TARGET].to_numpy()))
    assert run.get_step("evaluator").output.read() == pytest.approx(accuracy)
    assert accuracy > 0.5


def test_unserializable_model_fails_the_step_and_leaves_no_artifact(example_repo: Any) -> None:
    from zenml_widgets import pipeline, step
    from zenml_widgets.exceptions import StepFailedError

    @step
    def lambda_trainer() -> keras.Model:
        inputs = keras.Input((2,))
        return keras.Model(inputs, keras.layers.Lambda(lambda t: t + 1.0)(inputs), name="plus1")

    @pipeline
    def lambda_pipeline(trainer: Any) -> None:
        trainer()

    with pytest.raises(StepFailedError, match="Lambda"):
        lambda_pipeline(trainer=lambda_trainer()).run(run_name="lam", repository=example_repo)

    run = example_repo.get_pipeline("lambda_pipeline").get_run("lam")
    assert run.status == "failed"
    assert run.steps[0].outputs == {}
    # Nowhere in the repository: neither in the artifact store nor in a leftover temp folder.
    assert not list(Path(example_repo.root).rglob(MODEL_FILENAME))
