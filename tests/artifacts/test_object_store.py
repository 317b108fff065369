"""Object storage (S3 through fsspec/s3fs) as artifact store, against a local moto server."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import S3Bucket
from zw_testing import make_training

from zenml_widgets import pipeline, step
from zenml_widgets.artifacts import open_artifact_store
from zenml_widgets.artifacts.remote import FsspecArtifactStore
from zenml_widgets.cli import main
from zenml_widgets.exceptions import ArtifactReadError, ArtifactStoreError, ZenMLWidgetsError
from zenml_widgets.materializers import PandasMaterializer
from zenml_widgets.repository import Repository


def _store(bucket: S3Bucket) -> FsspecArtifactStore:
    store = open_artifact_store(bucket.url, bucket.options)
    assert isinstance(store, FsspecArtifactStore)
    return store


def _s3_repo(tmp_path: Path, bucket: S3Bucket) -> Repository:
    root = tmp_path / "repo"
    assert main(["init", str(root)]) == 0
    code = main(
        [
            "-R", str(root), "stack", "register", "s3", "--activate",
            "--metadata-url", f"sqlite:///{tmp_path}/team.db",
            "--artifact-store", bucket.url,
            "--artifact-store-option", f"endpoint_url={bucket.endpoint_url}",
        ]
    )  # fmt: skip
    assert code == 0
    return Repository(root)


@pytest.mark.parametrize(
    "key", ["", "/etc/passwd", "../x", "a/../../x", "a//b", "./a", "a/.", "c:/x", "a\x00b", "a\\b"]
)
def test_keys_are_checked_like_the_local_store(s3_bucket: S3Bucket, key: str) -> None:
    with pytest.raises(ArtifactStoreError):
        _store(s3_bucket).uri(key)


def test_write_publishes_only_complete_artifacts(s3_bucket: S3Bucket) -> None:
    store = _store(s3_bucket)
    fs = s3_bucket.fs()
    with pytest.raises(RuntimeError), store.write("1/2/out") as folder:
        with folder.open("half.bin", "wb") as f:
            f.write(b"x")
        raise RuntimeError("crash while writing")
    assert not store.exists("1/2/out")
    assert fs.find(s3_bucket.url) == []  # the temporary prefix is gone too
    with store.write("1/2/out") as folder:
        with folder.open("data.json", "w") as f:
            f.write('{"a": "é"}')
        with folder.open("sub/b.bin", "wb") as f:
            f.write(b"xyz")
        assert not store.exists("1/2/out")  # nothing under the final key until the block ends
    assert store.exists("1/2/out")
    assert store.folder("1/2/out").listdir() == ["data.json", "sub/b.bin"]
    assert store.size("1/2/out") == len('{"a": "é"}'.encode()) + 3
    assert store.uri("1/2/out") == f"{s3_bucket.url}/1/2/out"
    assert [p.rsplit("/", 1)[-1] for p in fs.find(s3_bucket.url)] == ["data.json", "b.bin"]
    with pytest.raises(ArtifactStoreError, match="immutable"), store.write("1/2/out"):
        pass


def test_file_names_inside_a_folder_cannot_escape(s3_bucket: S3Bucket) -> None:
    store = _store(s3_bucket)
    with store.write("k") as folder:
        for name in ("../other/x", "/abs", "a/../../b"):
            with pytest.raises(ArtifactStoreError):
                folder.open(name, "wb")


def test_credentials_are_refused_as_options(tmp_path: Path, s3_bucket: S3Bucket) -> None:
    repo = Repository.init(tmp_path)
    for option in ("secret", "key", "aws_secret_access_key", "token"):
        with pytest.raises(ZenMLWidgetsError, match="credential"):
            repo.register_stack(
                "x", "sqlite:///x.db", s3_bucket.url, artifact_store_options={option: "v"}
            )
    code = main(
        [
            "-R", str(tmp_path), "stack", "register", "y", "--metadata-url", "sqlite:///y.db",
            "--artifact-store", s3_bucket.url, "--artifact-store-option", "secret=abc",
        ]
    )  # fmt: skip
    assert code == 1
    assert "abc" not in (tmp_path / ".zen" / "config.json").read_text()


def test_pipeline_on_s3_end_to_end(tmp_path: Path, s3_bucket: S3Bucket) -> None:
    repo = _s3_repo(tmp_path, s3_bucket)
    config = json.loads((repo.root / ".zen" / "config.json").read_text())
    assert config["stacks"]["s3"]["artifact_store_options"] == {
        "endpoint_url": s3_bucket.endpoint_url
    }
    assert "testing" not in json.dumps(config)  # the fake credentials stay in the environment
    run = make_training().run(run_name="on-s3", repository=repo.root)
    train = run.steps[0].outputs["train"]
    assert train.uri.startswith(s3_bucket.url + "/")
    frame = train.read()
    assert isinstance(frame, pd.DataFrame) and len(frame) == 40
    assert str(frame["label"].dtype) == "string"
    assert run.get_step("evaluator").output.read() == {"rows": 10, "score": pytest.approx(
        run.get_step("trainer").output.read())}  # fmt: skip
    assert train.read(materializer_class=PandasMaterializer).equals(frame)
    assert train.size_bytes and train.size_bytes > 0
    # a second run is cached: the store sees the objects exist
    again = make_training().run(run_name="again", repository=repo.root)
    assert [s.status for s in again.steps] == ["cached"] * 3
    assert again.steps[0].outputs["train"].uri == train.uri
    # nothing is left under the temporary prefix
    assert not [p for p in s3_bucket.fs().find(s3_bucket.url) if "/.tmp/" in p]


@step
def arrays() -> np.ndarray:
    return np.arange(12, dtype="int16").reshape(3, 4)


@step
def series_and_labels() -> pd.Series:
    return pd.Series([1.5, None, 3.0], name=("tuple", 1))


@pipeline
def array_pipeline(arrays, series_and_labels):
    arrays()
    series_and_labels()


def test_numpy_and_series_stream_through_s3(tmp_path: Path, s3_bucket: S3Bucket) -> None:
    repo = _s3_repo(tmp_path, s3_bucket)
    run = array_pipeline(arrays=arrays(), series_and_labels=series_and_labels()).run(
        repository=repo.root
    )
    array = run.steps[0].output.read()
    assert array.dtype == np.int16 and array.shape == (3, 4) and array[2, 3] == 11
    series = run.steps[1].output.read()
    assert isinstance(series, pd.Series) and series.name == ("tuple", 1)


def test_missing_and_corrupt_objects_name_the_uri(tmp_path: Path, s3_bucket: S3Bucket) -> None:
    repo = _s3_repo(tmp_path, s3_bucket)
    run = make_training().run(run_name="r", repository=repo.root)
    fs = s3_bucket.fs()
    score = run.get_step("trainer").output
    fs.pipe(score.uri.removeprefix("s3://") + "/data.json", b"{not json")
    with pytest.raises(ArtifactReadError, match="corrupt") as info:
        score.read()
    assert score.uri in str(info.value)
    train = run.steps[0].outputs["train"]
    fs.rm(train.uri.removeprefix("s3://"), recursive=True)
    with pytest.raises(ArtifactReadError, match="missing") as info:
        train.read()
    assert train.uri in str(info.value) and train.uri.startswith("s3://")


def test_unreachable_object_store_is_one_clear_error(tmp_path: Path, s3_bucket: S3Bucket) -> None:
    repo = _s3_repo(tmp_path, s3_bucket)
    run = make_training().run(run_name="r", repository=repo.root)
    root = repo.root
    broken = Repository(root)
    stack = broken.active_stack
    stack.config.artifact_store_options["endpoint_url"] = "http://127.0.0.1:9"  # nobody there
    output = broken.get_pipeline("training_pipeline").get_run("r").steps[0].outputs["train"]
    with pytest.raises(ArtifactReadError, match="Cannot reach artifact") as info:
        output.read()
    assert output.uri in str(info.value)
    assert run.steps[0].outputs["train"].read() is not None  # the good config still reads


def test_local_dataframe_is_read_in_place(
    sqlite_repo: Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = make_training().run(repository=sqlite_repo.root)
    train = run.steps[0].outputs["train"]
    seen: list[object] = []
    real = pd.read_parquet

    def spy(path: object, *args: object, **kwargs: object) -> pd.DataFrame:
        seen.append(path)
        return real(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pd, "read_parquet", spy)
    train.read()
    assert seen == [Path(train.uri) / "df.parquet"]


def test_keras_model_goes_through_a_local_temporary_file(s3_bucket: S3Bucket) -> None:
    keras = pytest.importorskip("keras")
    from zenml_widgets.integrations.tensorflow.materializers.keras_materializer import (
        KerasMaterializer,
    )

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="dense")])
    store = _store(s3_bucket)
    with store.write("m/1") as folder:
        KerasMaterializer(folder).handle_return(model)
    assert store.folder("m/1").listdir() == ["model.keras"]
    loaded = KerasMaterializer(store.folder("m/1")).handle_input(keras.Model)
    x = np.ones((1, 3), dtype="float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    with pytest.raises(ArtifactReadError, match="does not exist") as info:
        KerasMaterializer(store.folder("missing")).handle_input(keras.Model)
    assert store.uri("missing") in str(info.value)


def test_gc_removes_only_abandoned_temporary_prefixes(s3_bucket: S3Bucket) -> None:
    from datetime import timedelta

    store = _store(s3_bucket)
    fs = s3_bucket.fs()
    with store.write("1/1/kept") as folder, folder.open("a.bin", "wb") as f:
        f.write(b"a")
    root = s3_bucket.url.removeprefix("s3://")
    with fs.open(f"{root}/.tmp/deadbeef/half.bin", "wb") as f:  # a writer killed mid-way
        f.write(b"x")
    assert store.clean_temporary(timedelta(hours=1)) == []  # too young: may still be in use
    removed = store.clean_temporary(timedelta(seconds=-1))
    assert removed == [f"s3://{root}/.tmp/deadbeef"]
    fs.invalidate_cache()
    assert not fs.exists(f"{root}/.tmp/deadbeef/half.bin")
    assert store.exists("1/1/kept")


def test_list_keys_at_a_depth_leaves_temporary_prefixes_out(s3_bucket: S3Bucket) -> None:
    store = _store(s3_bucket)
    for key in ("1/2/000-a/out-x", "1/2/001-b/out-y", "3/4/000-c/model-z"):
        with store.write(key) as folder, folder.open("sub/a.bin", "wb") as f:
            f.write(b"a")
    root = s3_bucket.url.removeprefix("s3://")
    with s3_bucket.fs().open(f"{root}/.tmp/deadbeef/1/2/3/half.bin", "wb") as f:
        f.write(b"x")
    assert store.list_keys(4) == ["1/2/000-a/out-x", "1/2/001-b/out-y", "3/4/000-c/model-z"]
    assert store.list_keys(2) == ["1/2", "3/4"]
