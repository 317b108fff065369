"""``ArtifactView``: one output of one step, read back as a real object on request."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zenml_widgets.materializers.capabilities import TABLE
from zenml_widgets.materializers.loading import StoredArtifact
from zenml_widgets.views._common import View

if TYPE_CHECKING:
    from zenml_widgets.materializers import BaseMaterializer
    from zenml_widgets.stack import Stack
    from zenml_widgets.store import ArtifactRecord
    from zenml_widgets.views.step import StepView
    from zenml_widgets.visualizers.model_summary import ModelSummary


class ArtifactView(View):
    """An artifact from history. ``read()`` is the only thing that loads data."""

    _kind = "artifact"

    def __init__(
        self, stack: Stack, record: ArtifactRecord, *, step: StepView | None = None
    ) -> None:
        super().__init__(stack, record.id)
        self._record = record
        if step is not None and step.id == record.step_id:
            self.__dict__["step"] = step

    def __repr__(self) -> str:
        return f"ArtifactView(name={self.name!r}, data_type={self.data_type!r}, id={self.id})"

    @property
    def name(self) -> str:
        """The output name (``output`` for a step's single unnamed return)."""
        return self._record.name

    @property
    def key(self) -> str:
        """The artifact's location relative to its artifact store."""
        return self._record.uri

    @property
    def uri(self) -> str:
        """Absolute location of the artifact's folder (a local path, or a URL such as
        ``s3://bucket/prefix/...`` on object storage); never outside the artifact store."""
        return self._stack.artifact_store.uri(self._record.uri)

    @property
    def data_type(self) -> str:
        """Dotted type path of the stored object, e.g. ``pandas.DataFrame``."""
        return self._record.data_type

    @property
    def materializer(self) -> str:
        """Dotted class path of the materializer that wrote the artifact."""
        return self._record.materializer

    @property
    def is_cached(self) -> bool:
        """Whether the step reused this artifact from an earlier run instead of writing it."""
        return self._record.is_cached

    @property
    def size_bytes(self) -> int | None:
        """Size of the artifact's files when written."""
        return self._record.size_bytes

    @property
    def created_at(self) -> Any:
        """When this output was recorded."""
        return self._record.created_at

    @cached_property
    def producer_step(self) -> StepView:
        """The step that wrote the artifact (for a cached output: the original run's step)."""
        from zenml_widgets.views.step import StepView

        if self._record.producer_step_id == self._record.step_id:
            return self.step
        store = self._stack.metadata_store
        return StepView(self._stack, store.get_step(self._record.producer_step_id))

    @cached_property
    def step(self) -> StepView:
        """The step in whose outputs this artifact appears."""
        from zenml_widgets.views.step import StepView

        return StepView(self._stack, self._stack.metadata_store.get_step(self._record.step_id))

    @property
    def cache_dir(self) -> Path:
        """A local folder for data derived from this artifact (statistics), made on demand."""
        path = self._stack.artifact_cache_dir(self._record.uri)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def exists(self) -> bool:
        """Whether the artifact's folder is present in the artifact store."""
        return self._stack.artifact_store.exists(self._record.uri)

    @property
    def capabilities(self) -> frozenset[str]:
        """What this output can show besides a preview of its object, as the materializer that
        wrote it declares for its type: ``"table"`` (schema, head, column / row / filter reads,
        statistics, comparison) or ``"model"`` (a layer summary). Empty when that materializer
        is not registered in this process."""
        return self._stored.capabilities()

    # --- cheap facts of table artifacts (DataFrames) -------------------------------------------

    @property
    def num_rows(self) -> int:
        """Rows of a DataFrame output: recorded when written, else read from the file's footer."""
        if self._record.num_rows is not None:
            return self._record.num_rows
        return self._facts[0]

    @property
    def num_columns(self) -> int:
        """Columns of a DataFrame output (index excluded), recorded or from the footer."""
        if self._record.num_columns is not None:
            return self._record.num_columns
        return self._facts[1]

    @cached_property
    def _facts(self) -> tuple[int, int]:
        rows, columns = self._table_access("num_rows", lambda p: p.facts())
        return int(rows), int(columns)

    @cached_property
    def schema(self) -> Any:
        """Column labels and dtypes as the DataFrame would have them (a ``pandas.Series`` like
        ``df.dtypes``), from the file's footer: no data is read."""
        return self._table_access("schema", lambda p: p.schema())

    def head(self, n: int = 5) -> Any:
        """The first ``n`` rows, reading only the row group(s) that hold them."""
        return self._table_access("head", lambda p: p.head(n))

    def iter_frames(self, columns: Sequence[Any] | None = None) -> Iterator[Any]:
        """The DataFrame one row group at a time, for work that must not hold it all."""
        access = self._table_access("iter_frames", lambda p: p)
        yield from access.iter_frames(columns)

    def model_summary(self) -> ModelSummary:
        """A model output's layers, output shapes and parameter counts, from its files: the
        model is not loaded (Keras: TensorFlow is not imported)."""
        return self._stored.model_summary()

    def preview_html(self) -> str:
        """A cheap preview of the content (``""`` if there is none): a table's shape, dtypes and
        head (footer and first pages), a model's layers, a small value itself."""
        return self._stored.preview_html(self if TABLE in self.capabilities else None)

    @cached_property
    def _stored(self) -> StoredArtifact:
        return StoredArtifact(
            store=self._stack.artifact_store,
            name=self._record.name,
            key=self._record.uri,
            data_type=self._record.data_type,
            materializer=self._record.materializer,
            writer=f"step {self._record.producer_step_id}",
        )

    def _table_access(self, what: str, use: Callable[[Any], Any]) -> Any:
        """Run ``use`` on this artifact's table, with the errors of ``read``."""
        return self._stored.with_table(what, use)

    def read(
        self,
        output_data_type: type[Any] | None = None,
        materializer_class: type[BaseMaterializer] | None = None,
        *,
        columns: Sequence[Any] | None = None,
        rows: slice | None = None,
        filters: Sequence[Any] | None = None,
    ) -> Any:
        """Load the artifact, whole or (DataFrame outputs) a subset of it.

        Args:
            output_data_type: the type to load as; default: the type that was stored.
            materializer_class: the materializer to read with; default: the one that wrote it.
            columns: DataFrame outputs: only these columns (their labels), in this order.
            rows: DataFrame outputs: only these row positions, e.g. ``slice(1000, 2000)``;
                only the row groups holding them are read.
            filters: DataFrame outputs: only rows matching pyarrow filters, e.g.
                ``[("country", "==", "PT")]`` (a list of lists: OR of ANDs). With ``rows``,
                the filters apply to those rows.

        Raises:
            ArtifactReadError: the artifact is missing or corrupt (the message names its URI),
                or ``materializer_class`` cannot read it, or a subset was asked of an artifact
                that is not a table.
            KeyError: a column in ``columns`` or ``filters`` does not exist (the message lists
                those that do).
        """
        if columns is not None or rows is not None or filters:
            if output_data_type is not None or materializer_class is not None:
                raise TypeError(
                    "read(columns=, rows=, filters=) reads with the materializer that wrote the "
                    "artifact; leave out output_data_type and materializer_class."
                )
            return self._table_access(
                "columns/rows/filters",
                lambda p: p.read(columns=columns, rows=rows, filters=filters),
            )
        return self._stored.load(output_data_type, materializer_class)
