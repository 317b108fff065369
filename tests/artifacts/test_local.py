"""The local artifact store: containment and atomic writes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from zenml_widgets.artifacts import LocalArtifactStore, safe_segment
from zenml_widgets.exceptions import ArtifactStoreError


@pytest.mark.parametrize(
    "key", ["", "/etc/passwd", "../x", "a/../../x", "a//b", "./a", "a/.", "c:/x", "a\x00b"]
)
def test_keys_that_could_escape_are_refused(tmp_path: Path, key: str) -> None:
    with pytest.raises(ArtifactStoreError):
        LocalArtifactStore(tmp_path).path(key)


def test_symlink_out_of_the_store_is_refused(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path / "store")
    (tmp_path / "store").mkdir()
    (tmp_path / "outside").mkdir()
    os.symlink(tmp_path / "outside", tmp_path / "store" / "link")
    with pytest.raises(ArtifactStoreError, match="outside the artifact store"):
        store.path("link/data")


def test_write_is_atomic(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    with pytest.raises(RuntimeError), store.write("a/b") as folder:
        (folder / "half.bin").write_bytes(b"x")
        raise RuntimeError("crash while writing")
    assert not store.exists("a/b")
    assert list((tmp_path / ".tmp").iterdir()) == []
    with store.write("a/b") as folder:
        (folder / "whole.bin").write_bytes(b"xyz")
    assert store.exists("a/b") and store.size("a/b") == 3
    with pytest.raises(ArtifactStoreError, match="immutable"), store.write("a/b"):
        pass


@pytest.mark.parametrize(
    ("name", "expected"),
    [("train", "train"), ("../..", "x"), ("a/b", "a_b"), ("<script>", "script"), ("é", "x")],
)
def test_safe_segment(name: str, expected: str) -> None:
    assert safe_segment(name) == expected


def test_gc_removes_only_abandoned_temporary_folders(tmp_path: Path) -> None:
    import time
    from datetime import timedelta

    store = LocalArtifactStore(tmp_path)
    with store.write("1/1/kept") as folder:
        (Path(folder) / "a.bin").write_bytes(b"a")
    old = tmp_path / ".tmp" / "old"
    (old / "sub").mkdir(parents=True)
    (old / "sub" / "half.bin").write_bytes(b"x")
    stale = time.time() - 3 * 86400
    for p in (old, old / "sub", old / "sub" / "half.bin"):
        os.utime(p, (stale, stale))
    young = tmp_path / ".tmp" / "young"
    young.mkdir()
    assert store.clean_temporary(timedelta(hours=24)) == [str(old)]
    assert not old.exists() and young.exists() and store.exists("1/1/kept")


def test_list_keys_at_a_depth_leaves_temporary_folders_out(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path / "store")
    assert store.list_keys(4) == []  # no root yet
    for key in ("1/2/000-a/out-x", "1/2/001-b/out-y", "3/4/000-c/model-z"):
        with store.write(key) as folder:
            (Path(folder) / "sub").mkdir()
            (Path(folder) / "sub" / "a.bin").write_bytes(b"a")
    (tmp_path / "store" / ".tmp" / "half" / "1" / "2" / "3").mkdir(parents=True)
    assert store.list_keys(4) == ["1/2/000-a/out-x", "1/2/001-b/out-y", "3/4/000-c/model-z"]
    assert store.list_keys(2) == ["1/2", "3/4"]
