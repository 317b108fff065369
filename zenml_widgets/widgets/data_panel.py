"""``DataPanel``: reads the selected output (only when asked) and previews its data.

What an output shows is up to the materializer that wrote it (``default_registry``): a table
gets its shape, schema and first rows before it is read, and a Statistics button; a model its
layers, read from its file (``ArtifactView.model_summary``: the model is loaded, and TensorFlow
imported, only when asked for: "Read & preview" or "Load into variable"); any read object its
type's preview (:mod:`zenml_widgets.widgets.object_preview`).
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any, Protocol

from zenml_widgets.materializers.capabilities import MODEL, TABLE
from zenml_widgets.materializers.registry import default_registry
from zenml_widgets.visualizers.html import block, esc, fmt_size
from zenml_widgets.widgets.object_preview import object_preview_html

if TYPE_CHECKING:
    from zenml_widgets.views import ArtifactView

#: The module of the statistics visualizer, imported when statistics are asked for.
FACETS_MODULE = "zenml_widgets.integrations.facets.visualizers.facet_statistics_visualizer"


class DataWidgets(Protocol):
    """The widgets the data panel writes (the explorer's ``Controls`` has them all)."""

    data: Any
    status: Any
    progress: Any
    read: Any
    statistics: Any
    stats: Any


class DataPanel:
    """The data half of the output preview: the read object, its preview and statistics.

    Args:
        ui: the explorer's widgets (``data``, ``status``, ``progress``, ``read``, ``stats``).
    """

    def __init__(self, ui: DataWidgets) -> None:
        self.ui = ui
        self.output: ArtifactView | None = None
        self._value: tuple[ArtifactView, Any] | None = None

    def clear(self, output: ArtifactView | None) -> None:
        """Forget the previous output's data (and the line saying how long its read took);
        nothing is read here."""
        if output != self.output:
            self._value = None
            self.ui.status.value = ""
        self.output = output
        self.ui.data.value = ""
        self.ui.stats.outputs = ()
        is_table = output is not None and TABLE in output.capabilities
        self.ui.statistics.layout.display = "" if is_table else "none"
        self.ui.read.layout.display = "none"

    def preview(self, *, force: bool, read_on_select: bool, limit: int) -> None:
        """Read and preview the output, unless that is off or it is bigger than ``limit``."""
        output = self.output
        if output is None:
            return
        if not force and MODEL in output.capabilities:
            self.ui.data.value = self._stored_preview(output)  # the layers, from the file
            self.ui.read.layout.display = ""
            return
        if not force and (not read_on_select or (output.size_bytes or 0) > limit):
            why = "automatic reading is off" if not read_on_select else "it is big"
            note = block(
                "Data not read yet",
                f"<div class='zw-muted'>{esc(fmt_size(output.size_bytes))}; {esc(why)}. "
                "Click “Read &amp; preview” to load it.</div>",
            )
            self.ui.data.value = self._table_facts(output) + note
            self.ui.read.layout.display = ""
            return
        self.ui.read.layout.display = "none"
        self.ui.data.value = object_preview_html(self.read())

    @staticmethod
    def _stored_preview(output: ArtifactView) -> str:
        """The output's cheap preview (a model's layers from its file); errors as a note."""
        try:
            return output.preview_html()
        except Exception as e:
            return block(
                "Preview not available",
                f"<div class='zw-muted'>{esc(type(e).__name__)}: {esc(e)}</div>",
            )

    @staticmethod
    def _table_facts(output: ArtifactView) -> str:
        """Shape, schema and head of a table output, from its record and the stored table's
        footer and first rows: never the whole table. Empty for other outputs."""
        if TABLE not in output.capabilities:
            return ""
        try:
            return default_registry.by_path(output.materializer).table_preview_html(output)
        except Exception as e:
            return block(
                "Preview not available",
                f"<div class='zw-muted'>{esc(type(e).__name__)}: {esc(e)}</div>",
            )

    def read(self) -> Any:
        """The output's object, read once per selection.

        While it reads, the output's size and an indeterminate progress bar show (the comm
        messages go out right away, so the page sees them during a long read); afterwards,
        how long the read took.
        """
        output = self.output
        if output is None:
            raise ValueError("No output is selected.")
        if self._value is not None and self._value[0] == output:
            return self._value[1]
        size = fmt_size(output.size_bytes)
        self.ui.status.value = (
            f"<span class='zw-muted'>Reading <code>{esc(output.name)}</code> ({esc(size)})…</span>"
        )
        self.ui.progress.description = f"reading {size}"
        self.ui.progress.layout.display = ""
        started = time.perf_counter()
        try:
            value = output.read()
        except BaseException:
            self.ui.status.value = ""
            raise
        finally:
            self.ui.progress.layout.display = "none"
        seconds = time.perf_counter() - started
        self.ui.status.value = (
            f"<span class='zw-muted'><code>{esc(output.name)}</code> ({esc(size)}) "
            f"read in {seconds:.2f} s</span>"
        )
        self._value = (output, value)
        return value

    def statistics(self, streaming_min_bytes: int | None = None) -> None:
        """Facets statistics of the output, shown below the preview.

        Args:
            streaming_min_bytes: outputs bigger than this are summarised row group by row
                group with bounded memory instead of being read whole (default: the
                visualizer's own threshold).
        """
        if self.output is None:
            return
        options = (
            {} if streaming_min_bytes is None else {"streaming_min_bytes": streaming_min_bytes}
        )
        try:
            from zenml_widgets.integrations.facets.visualizers.facet_statistics_visualizer import (
                FacetStatisticsVisualizer,
            )

            visualizer = FacetStatisticsVisualizer(**options)
        except (ImportError, AttributeError) as e:
            raise ImportError(
                f"Facets statistics are not available ({e}). They need zenml_widgets' facets "
                "integration: pip install 'zenml-widgets[facets]'."
            ) from e
        self.ui.stats.outputs = ()
        with self.ui.stats:  # in a notebook, the statistics are displayed into this Output
            shown = visualizer.visualize(self.output)
        if isinstance(shown, os.PathLike):  # outside a notebook: a standalone HTML file
            self.ui.status.value = f"statistics written to <code>{esc(os.fspath(shown))}</code>"
