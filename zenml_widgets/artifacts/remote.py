"""Object storage (S3 and anything else fsspec speaks) as artifact store.

Objects stores have no folders and no rename. An artifact is written under a temporary prefix
(``<root>/.tmp/<uuid>/``), copied to its final key when every file is written, and the temporary
prefix is removed either way. The artifact becomes visible to readers only when the runner
records it in the metadata store, which happens after ``write()`` returns; a process killed
half-way leaves unrecorded objects under ``.tmp/`` (or an unrecorded final key), never a
half-written artifact that history points at.

Credentials are never part of the store's options: fsspec / s3fs find them the usual way
(``AWS_ACCESS_KEY_ID``, ``AWS_PROFILE``, ``~/.aws/``, instance roles).
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from zenml_widgets.artifacts.keys import TMP_PREFIX, check_key
from zenml_widgets.exceptions import ArtifactStoreError

_EXTRAS = {"s3": "s3", "s3a": "s3"}


class FsspecFolder:
    """An artifact folder in an fsspec file system."""

    is_local = False

    def __init__(self, store: FsspecArtifactStore, path: str) -> None:
        self._store = store
        self._fs = store.fs
        self.path = path

    def __repr__(self) -> str:
        return f"FsspecFolder({self.uri!r})"

    @property
    def uri(self) -> str:
        """The folder's URL, e.g. ``s3://bucket/prefix/key``."""
        return f"{self._store.protocol}://{self.path}"

    def _file(self, name: str) -> str:
        return self.path + "/" + "/".join(check_key(name, "File name"))

    def open(self, name: str, mode: str = "rb") -> IO[Any]:
        """Open file ``name`` (streamed; text modes use UTF-8)."""
        kwargs = {} if "b" in mode else {"encoding": "utf-8"}
        handle: IO[Any] = self._fs.open(self._file(name), mode, **kwargs)
        return handle

    def open_random_access(self, name: str) -> IO[Any]:
        """Open file ``name`` for reading without read-ahead: each read fetches only its byte
        range (for parquet footers and column chunks)."""
        handle: IO[Any] = self._fs.open(self._file(name), "rb", cache_type="none")
        return handle

    def exists(self, name: str | None = None) -> bool:
        """Whether file ``name`` (or, with no name, any file of the folder) exists."""
        target = self.path if name is None else self._file(name)
        self._fs.invalidate_cache(self.path)
        if name is None:
            return bool(self._fs.isdir(target))
        return bool(self._fs.isfile(target))

    def listdir(self) -> list[str]:
        """Relative names of the folder's files."""
        self._fs.invalidate_cache(self.path)
        try:
            found = self._fs.find(self.path)
        except FileNotFoundError:
            return []
        prefix = self.path.rstrip("/") + "/"
        return sorted(p[len(prefix) :] for p in found if p.startswith(prefix))

    def remove(self, name: str) -> None:
        """Delete file ``name`` of the folder, if it exists."""
        with contextlib.suppress(FileNotFoundError):
            self._fs.rm_file(self._file(name))
        self._fs.invalidate_cache(self.path)

    def size(self) -> int:
        """Total bytes of the folder's files."""
        self._fs.invalidate_cache(self.path)
        return int(sum(self._fs.du(self.path, total=False).values())) if self.listdir() else 0

    @contextmanager
    def local_dir(self, write: bool = False) -> Iterator[Path]:
        """A local temporary copy of the folder; with ``write``, an empty one uploaded after."""
        tmp = Path(tempfile.mkdtemp(prefix="zw-artifact-"))
        try:
            if not write:
                for name in self.listdir():
                    target = tmp.joinpath(*check_key(name, "File name"))
                    target.parent.mkdir(parents=True, exist_ok=True)
                    self._fs.get_file(self._file(name), str(target))
            yield tmp
            if write:
                for local in sorted(p for p in tmp.rglob("*") if p.is_file()):
                    self._fs.put_file(str(local), self._file(local.relative_to(tmp).as_posix()))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


class FsspecArtifactStore:
    """Artifacts as key prefixes below ``url`` (e.g. ``s3://bucket/prefix``) in an fsspec
    file system. ``options`` go to the file system (``endpoint_url``, ``region_name``...)."""

    is_local = False

    def __init__(self, url: str, options: Mapping[str, Any] | None = None) -> None:
        try:
            import fsspec
        except ImportError as e:
            raise ArtifactStoreError(
                f'The artifact store {url!r} needs fsspec: pip install "zenml-widgets[s3]".'
            ) from e
        protocol, _path = fsspec.core.split_protocol(url)
        if not protocol:
            raise ArtifactStoreError(f"Artifact store URL {url!r} has no scheme (s3://...).")
        self.protocol = protocol
        self.options = dict(options or {})
        try:
            self.fs = fsspec.filesystem(protocol, **_fs_options(protocol, self.options))
        except (ImportError, ValueError) as e:
            extra = _EXTRAS.get(protocol)
            hint = f' Install it with: pip install "zenml-widgets[{extra}]".' if extra else ""
            raise ArtifactStoreError(
                f"Cannot open the artifact store {url!r}: {type(e).__name__}: {e}.{hint}"
            ) from e
        self.root = str(self.fs._strip_protocol(url)).rstrip("/")
        if not self.root:
            raise ArtifactStoreError(f"Artifact store URL {url!r} names no bucket.")

    def __repr__(self) -> str:
        return f"FsspecArtifactStore({self.location!r})"

    @property
    def location(self) -> str:
        """The store's root URL."""
        return f"{self.protocol}://{self.root}"

    def _path(self, key: str) -> str:
        return self.root + "/" + "/".join(check_key(key))

    def uri(self, key: str) -> str:
        """The URL of artifact ``key``."""
        return f"{self.protocol}://{self._path(key)}"

    def folder(self, key: str) -> FsspecFolder:
        """A handle on the files of artifact ``key``."""
        return FsspecFolder(self, self._path(key))

    def exists(self, key: str) -> bool:
        """Whether artifact ``key`` has any file in the store."""
        return self.folder(key).exists()

    def size(self, key: str) -> int:
        """Total bytes of the files of artifact ``key``."""
        return self.folder(key).size()

    @contextmanager
    def write(self, key: str) -> Iterator[FsspecFolder]:
        """Yield a temporary prefix; when the block succeeds its files are copied to ``key``."""
        final = self.folder(key)
        if final.exists():
            raise ArtifactStoreError(
                f"Artifact URI {key!r} exists already; artifacts are immutable."
            )
        tmp = FsspecFolder(self, f"{self.root}/{TMP_PREFIX}/{uuid.uuid4().hex}")
        try:
            yield tmp
            for name in tmp.listdir():
                self.fs.copy(tmp._file(name), final._file(name))
        except BaseException:
            self._remove(final.path)
            raise
        finally:
            self._remove(tmp.path)

    def remove(self, key: str) -> None:
        """Delete artifact ``key`` if it exists: undoes a write that could not be recorded."""
        self._remove(self.folder(key).path)

    def list_keys(self, depth: int) -> list[str]:
        """Keys ``depth`` segments deep that hold objects (temporary prefixes left out)."""
        self.fs.invalidate_cache(self.root)
        try:
            files = self.fs.find(self.root)
        except FileNotFoundError:
            return []
        keys = set()
        for path in files:
            parts = str(path)[len(self.root) + 1 :].split("/")
            if len(parts) > depth and parts[0] != TMP_PREFIX:
                keys.add("/".join(parts[:depth]))
        return sorted(keys)

    def clean_temporary(self, older_than: timedelta) -> list[str]:
        """Remove temporary prefixes whose newest object is older than ``older_than``."""
        tmp_root = f"{self.root}/{TMP_PREFIX}"
        self.fs.invalidate_cache(tmp_root)
        try:
            entries = self.fs.ls(tmp_root, detail=False)
        except FileNotFoundError:
            return []
        cutoff = datetime.now(UTC) - older_than
        removed = []
        for prefix in sorted(str(e) for e in entries):
            stamps = [_modified(info) for info in self.fs.find(prefix, detail=True).values()]
            known = [s for s in stamps if s is not None]
            if known and max(known) < cutoff:
                self._remove(prefix)
                removed.append(f"{self.protocol}://{prefix}")
        return removed

    def _remove(self, path: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm(path, recursive=True)
        self.fs.invalidate_cache(path)


def _fs_options(protocol: str, options: dict[str, Any]) -> dict[str, Any]:
    """File-system arguments: S3-style ``endpoint_url``/``region_name`` go where s3fs wants them."""
    kwargs = dict(options)
    if protocol in ("s3", "s3a"):
        client = dict(kwargs.pop("client_kwargs", {}) or {})
        if "region_name" in kwargs:
            client["region_name"] = kwargs.pop("region_name")
        if client:
            kwargs["client_kwargs"] = client
    return kwargs


def _modified(info: Mapping[str, Any]) -> datetime | None:
    """When an object was last written, from fsspec's ``info`` (S3: ``LastModified``)."""
    value = info.get("LastModified") or info.get("mtime") or info.get("created")
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    return None
