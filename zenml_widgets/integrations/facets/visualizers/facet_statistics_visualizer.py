"""``FacetStatisticsVisualizer``: Facets statistics of DataFrame artifacts, inline or as a file.

    from zenml_widgets.integrations.facets.visualizers.facet_statistics_visualizer import (
        FacetStatisticsVisualizer,
    )

    FacetStatisticsVisualizer().visualize(output)                      # one artifact
    FacetStatisticsVisualizer().visualize(step)                        # its DataFrame outputs
    FacetStatisticsVisualizer().visualize({"train": train, "test": test})  # side by side

Artifacts are duck-typed (``name``, ``data_type``, ``read()``, optionally ``materializer``,
``cache_dir`` and ``producer_step``), so this module imports nothing from the views. An artifact is
a table when the materializer that wrote it says so for its type (``default_registry``, see
:mod:`zenml_widgets.materializers.capabilities`); any other artifact is read to see whether it is
a DataFrame. The statistics of an artifact are computed once and kept in
``artifact.cache_dir / "facets_statistics.pb"``.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import webbrowser
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from zenml_widgets.materializers.capabilities import TABLE, stored_capabilities
from zenml_widgets.visualizers.base import BaseVisualizer
from zenml_widgets.visualizers.statistics import (
    DEFAULT_MAX_RANK_BUCKETS,
    combine_statistics,
    dataset_statistics,
    statistics_from_bytes,
    statistics_to_bytes,
)
from zenml_widgets.visualizers.statistics_html import standalone_html, statistics_html
from zenml_widgets.visualizers.streaming_statistics import streaming_statistics

__all__ = ["CACHE_FILENAME", "FacetStatisticsDisplay", "FacetStatisticsVisualizer"]

#: DataFrame artifacts whose files are larger than this get their statistics computed one row
#: group at a time with bounded memory (quantiles and top values approximated, see
#: :mod:`zenml_widgets.visualizers.streaming_statistics`); smaller ones exactly, read whole.
STREAMING_MIN_BYTES = 200_000_000  # the explorer's auto-read limit too
#: File holding an artifact's statistics inside its ``cache_dir``.
CACHE_FILENAME = "facets_statistics.pb"
#: First line of that file; a different one (older format, other settings) means recompute.
_CACHE_MAGIC = b"zenml-widgets facets-statistics v1"


@dataclass
class FacetStatisticsDisplay:
    """Statistics ready to show: rich display in notebooks, ``html`` and ``save`` elsewhere.

    Attributes:
        statistics: the ``DatasetFeatureStatisticsList`` proto.
        html: the HTML fragment shown in notebooks.
        path: the standalone HTML file written, if any.
    """

    statistics: Any
    html: str
    path: Path | None = None
    _shown_in_cell: bool = field(default=False, repr=False)

    def __repr__(self) -> str:
        datasets = [d.name for d in self.statistics.datasets]
        features = len(self.statistics.datasets[0].features) if datasets else 0
        where = f", file {str(self.path)!r}" if self.path else ""
        return f"<Facets statistics of {datasets}: {features} features{where}>"

    def _repr_html_(self) -> str | None:
        return None if self._shown_in_cell else self.html

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        if self._shown_in_cell:
            # visualize() already displayed it in this cell: the cell's result is just text.
            return {"text/plain": repr(self) + " (shown above)"}
        bundle = {"text/plain": repr(self), "text/html": self.html}
        if include:
            bundle = {k: v for k, v in bundle.items() if k in include or k == "text/plain"}
        if exclude:
            bundle = {k: v for k, v in bundle.items() if k not in exclude or k == "text/plain"}
        return bundle

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write a standalone HTML page of the statistics to ``path`` and return it."""
        target = Path(path)
        target.write_text(standalone_html(self.statistics), encoding="utf-8")
        return target


class FacetStatisticsVisualizer(BaseVisualizer):
    """Shows Facets Overview statistics of DataFrame artifacts, without internet access.

    Args:
        max_rank_buckets: most frequent values kept per string feature.
        streaming_min_bytes: DataFrame artifacts with larger files are summarised one row group
            at a time with bounded memory (approximate quantiles and top values, stated in each
            feature's ``approximation`` statistic); ``None``: always read whole, exactly.
    """

    def __init__(
        self,
        max_rank_buckets: int | None = DEFAULT_MAX_RANK_BUCKETS,
        streaming_min_bytes: int | None = STREAMING_MIN_BYTES,
    ) -> None:
        self.max_rank_buckets = max_rank_buckets
        self.streaming_min_bytes = streaming_min_bytes

    def visualize(
        self,
        obj: Any,
        *args: Any,
        use_facets_js: bool = False,
        output_path: str | os.PathLike[str] | None = None,
        open_browser: bool = False,
        **kwargs: Any,
    ) -> FacetStatisticsDisplay | Path:
        """Show the statistics of ``obj``.

        Args:
            obj: an artifact, a step (all its DataFrame outputs), a list of artifacts, a dict
                ``{"train": a, "test": b}`` (datasets side by side); DataFrames work too.
            use_facets_js: use the official ``<facets-overview>`` web component, which loads its
                code from the internet, instead of the built-in HTML.
            output_path: also (outside a notebook: instead of a temporary file) write a
                standalone HTML page here.
            open_browser: outside a notebook, open the page in a web browser.
            *args: unused; accepted for the ``BaseVisualizer`` interface.
            **kwargs: unused; accepted for the ``BaseVisualizer`` interface.

        Returns:
            In a notebook, a :class:`FacetStatisticsDisplay` (already displayed); elsewhere the
            path of the HTML page written.

        Raises:
            TypeError: something in ``obj`` is not a DataFrame; the message names it.
            ValueError: ``obj`` holds no DataFrame at all (e.g. a step without one).
        """
        statistics = self.statistics(obj)
        title = "Facets statistics: " + ", ".join(d.name for d in statistics.datasets)
        path = Path(output_path) if output_path is not None else None
        if path is not None:
            path.write_text(
                standalone_html(statistics, title=title, use_facets_js=use_facets_js),
                encoding="utf-8",
            )
        shell = _notebook_shell()
        if shell is not None:
            shown = FacetStatisticsDisplay(
                statistics, statistics_html(statistics, use_facets_js=use_facets_js), path
            )
            _display_now(shell, shown)
            return shown
        if path is None:
            handle, name = tempfile.mkstemp(prefix="facets_statistics_", suffix=".html")
            os.close(handle)
            path = Path(name)
            path.write_text(
                standalone_html(statistics, title=title, use_facets_js=use_facets_js),
                encoding="utf-8",
            )
        print(f"Facets statistics written to {path} (open it in a web browser).")
        if open_browser:
            webbrowser.open(path.resolve().as_uri())
        return path

    def statistics(self, obj: Any) -> Any:
        """The ``DatasetFeatureStatisticsList`` of ``obj`` (same inputs as :meth:`visualize`)."""
        named = _datasets_of(obj)
        problems = [item for _, item in named if isinstance(item, _NotAFrame)]
        if problems:
            listed = "; ".join(p.describe() for p in problems)
            raise TypeError(
                f"FacetStatisticsVisualizer shows pandas DataFrames only; not DataFrames: {listed}."
                " Leave them out, or pass their step to show just its DataFrame outputs."
            )
        parts = []
        for name, item in named:
            part = (
                dataset_statistics(item, name, max_rank_buckets=self.max_rank_buckets)
                if isinstance(item, pd.DataFrame)
                else self._artifact_statistics(item)
            )
            for dataset in part.datasets:
                dataset.name = name
            parts.append(part)
        return combine_statistics(parts)

    def _streams(self, artifact: Any) -> bool:
        """Whether the artifact is a table big enough to be read chunk by chunk."""
        if not hasattr(artifact, "iter_frames") or not _is_table(artifact):
            return False
        threshold = self.streaming_min_bytes
        return threshold is not None and (getattr(artifact, "size_bytes", 0) or 0) > threshold

    def _streaming(self, artifact: Any) -> Any:
        from tqdm.auto import tqdm

        total = getattr(artifact, "num_rows", None)
        with tqdm(
            total=total, desc=f"Statistics of {artifact.name}", unit="row", unit_scale=True
        ) as bar:
            return streaming_statistics(
                artifact.iter_frames(),
                str(artifact.name),
                max_rank_buckets=self.max_rank_buckets,
                progress=bar,
            )

    def _artifact_statistics(self, artifact: Any) -> Any:
        cache = _cache_file(artifact)
        streams = self._streams(artifact)
        header = _CACHE_MAGIC + f" max_rank_buckets={self.max_rank_buckets}".encode()
        header += b" streaming\n" if streams else b"\n"
        if cache is not None and cache.is_file():
            with contextlib.suppress(Exception):  # unreadable or corrupt: compute again
                data = cache.read_bytes()
                if data.startswith(header):
                    return statistics_from_bytes(data[len(header) :])
        if streams:
            statistics = self._streaming(artifact)
            if cache is not None:
                _write_atomically(cache, header + statistics_to_bytes(statistics))
            return statistics
        frame = artifact.read()
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(_NotAFrame(artifact, type(frame)).describe())
        statistics = dataset_statistics(
            frame, str(artifact.name), max_rank_buckets=self.max_rank_buckets
        )
        if cache is not None:
            _write_atomically(cache, header + statistics_to_bytes(statistics))
        return statistics


# --- inputs ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _NotAFrame:
    artifact: Any
    read_type: type | None = None

    def describe(self) -> str:
        data_type = getattr(self.artifact, "data_type", None) or (
            f"{self.read_type.__module__}.{self.read_type.__qualname__}" if self.read_type else "?"
        )
        name = getattr(self.artifact, "name", None)
        what = f"artifact {name!r}" if name is not None else f"a {type(self.artifact).__name__}"
        ident = getattr(self.artifact, "id", None)
        suffix = f", id {ident}" if ident is not None else ""
        return f"{what} (data_type {data_type!r}{suffix})"


def _datasets_of(obj: Any) -> list[tuple[str, Any]]:
    """``(name, DataFrame | artifact | _NotAFrame)`` pairs; artifacts are not read yet."""
    if isinstance(obj, pd.DataFrame):
        return [("data", obj)]
    if _is_artifact(obj):
        return [(str(obj.name), _checked(obj))]
    if _is_step(obj):
        return _step_frames(obj)
    if isinstance(obj, Mapping):
        pairs = [(str(key), value) for key, value in obj.items()]
        return [(name, _checked(value)) for name, value in _unique(pairs)]
    if isinstance(obj, Iterable) and not isinstance(obj, str | bytes):
        items = list(obj)
        if not items:
            raise ValueError("Nothing to show: the list of artifacts is empty.")
        return [(name, _checked(item)) for name, item in _unique(_default_names(items))]
    raise TypeError(
        f"Cannot show Facets statistics of a {type(obj).__name__}: pass an artifact, a step, "
        "a list or dict of artifacts, or DataFrames."
    )


def _checked(item: Any) -> Any:
    if isinstance(item, pd.DataFrame):
        return item
    if _is_artifact(item):
        if _is_table(item):
            return item
        # Not said to be a DataFrame: read it to be sure (a subclass may be stored under its name).
        value = item.read()
        return value if isinstance(value, pd.DataFrame) else _NotAFrame(item, type(value))
    return _NotAFrame(item, type(item))


def _step_frames(step: Any) -> list[tuple[str, Any]]:
    outputs = dict(step.outputs)
    frames = [(str(name), out) for name, out in outputs.items() if _is_table(out)]
    if not frames:
        listed = ", ".join(
            f"{name!r} ({getattr(out, 'data_type', '?')})" for name, out in outputs.items()
        )
        raise ValueError(
            f"Step {getattr(step, 'name', '?')!r} has no DataFrame output to show; its outputs: "
            f"{listed or 'none'}."
        )
    return frames


def _default_names(items: list[Any]) -> list[tuple[str, Any]]:
    """Output names; ``run/step/output`` when the same output name comes up more than once."""
    plain = [str(item.name) if _is_artifact(item) else "data" for item in items]
    return [
        (_qualified_name(item) if plain.count(name) > 1 and _is_artifact(item) else name, item)
        for name, item in zip(plain, items, strict=True)
    ]


def _qualified_name(artifact: Any) -> str:
    step = getattr(artifact, "step", None) or getattr(artifact, "producer_step", None)
    run = getattr(step, "run", None)
    parts = [getattr(run, "name", None), getattr(step, "name", None), artifact.name]
    return "/".join(str(p) for p in parts if p is not None)


def _unique(pairs: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    seen: dict[str, int] = {}
    result = []
    for name, item in pairs:
        seen[name] = seen.get(name, 0) + 1
        result.append((name if seen[name] == 1 else f"{name} ({seen[name]})", item))
    return result


def _is_artifact(obj: Any) -> bool:
    return callable(getattr(obj, "read", None)) and hasattr(obj, "data_type")


def _is_step(obj: Any) -> bool:
    return isinstance(getattr(obj, "outputs", None), Mapping) and not _is_artifact(obj)


def _is_table(artifact: Any) -> bool:
    """Whether the materializer that wrote ``artifact`` says it is a table."""
    materializer = str(getattr(artifact, "materializer", ""))
    return TABLE in stored_capabilities(materializer, str(getattr(artifact, "data_type", "")))


# --- cache -------------------------------------------------------------------------------------


def _cache_file(artifact: Any) -> Path | None:
    try:
        folder = artifact.cache_dir
    except (AttributeError, OSError):
        return None
    return Path(folder) / CACHE_FILENAME if folder is not None else None


def _write_atomically(path: Path, data: bytes) -> None:
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".facets_", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
            Path(temporary).replace(path)
        finally:
            Path(temporary).unlink(missing_ok=True)


# --- notebook ----------------------------------------------------------------------------------


def _notebook_shell() -> Any:
    """The running Jupyter kernel's shell, or ``None`` (never imports IPython itself)."""
    if "IPython" not in sys.modules:
        return None
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None:
        return None
    names = {cls.__name__ for cls in type(shell).__mro__}
    return shell if "ZMQInteractiveShell" in names else None


def _display_now(shell: Any, shown: FacetStatisticsDisplay) -> None:
    import IPython.display

    ipython_display: Any = IPython.display
    ipython_display.display(ipython_display.HTML(shown.html))
    shown._shown_in_cell = True

    def _next_cell(*_: Any) -> None:
        shown._shown_in_cell = False
        with contextlib.suppress(ValueError):
            shell.events.unregister("pre_run_cell", _next_cell)

    events = getattr(shell, "events", None)
    if events is not None:
        events.register("pre_run_cell", _next_cell)
