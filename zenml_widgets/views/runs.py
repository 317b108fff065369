"""``RunSequence``: a pipeline's runs as a lazy, chronological sequence sorted in SQL."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, overload

from zenml_widgets.views.run import PipelineRunView

if TYPE_CHECKING:
    import pandas as pd

    from zenml_widgets.stack import Stack
    from zenml_widgets.views.pipeline import PipelineView
    from zenml_widgets.views.runs_table import RunQuery, RunsTable

PAGE = 1000


class RunSequence(Sequence[PipelineRunView]):
    """Runs oldest first (``runs[-1]`` is the latest). Nothing is loaded until asked for.

    ``len`` is one ``COUNT``; an index is one indexed query; iteration pages through the runs
    with keyset pagination. Every access asks the store again, so new runs show up.
    """

    def __init__(self, pipeline: PipelineView, stack: Stack, pipeline_id: int) -> None:
        self._pipeline = pipeline
        self._stack = stack
        self._pipeline_id = pipeline_id

    def __repr__(self) -> str:
        return f"<RunSequence of pipeline {self._pipeline.name!r}: {len(self)} runs>"

    def _view(self, records: list[object]) -> list[PipelineRunView]:
        return [PipelineRunView(self._stack, r, self._pipeline) for r in records]  # type: ignore[arg-type]

    def __len__(self) -> int:
        return self._stack.metadata_store.count_runs(self._pipeline_id)

    def __bool__(self) -> bool:
        return bool(self.newest(1))

    @overload
    def __getitem__(self, index: int) -> PipelineRunView: ...
    @overload
    def __getitem__(self, index: slice) -> list[PipelineRunView]: ...

    def __getitem__(self, index: int | slice) -> PipelineRunView | list[PipelineRunView]:
        store = self._stack.metadata_store
        if isinstance(index, slice):
            return self._slice(index)
        if not isinstance(index, int):
            raise TypeError(f"run indices must be integers or slices, not {type(index).__name__}")
        if index >= 0:
            found = store.list_runs(self._pipeline_id, offset=index, limit=1)
        else:
            found = store.list_runs(
                self._pipeline_id, offset=-index - 1, limit=1, newest_first=True
            )
        if not found:
            raise IndexError(
                f"run index {index} out of range: pipeline {self._pipeline.name!r} has "
                f"{len(self)} runs"
            )
        return self._view(list(found))[0]

    def _slice(self, index: slice) -> list[PipelineRunView]:
        store = self._stack.metadata_store
        if index.step in (None, 1) and index.stop is None and (index.start or 0) < 0:
            # runs[-10:]: the newest ten, one keyset query from the end (no COUNT, no OFFSET)
            newest = store.list_runs(
                self._pipeline_id, limit=-(index.start or 0), newest_first=True
            )
            return self._view(list(newest))[::-1]
        count = len(self)
        start, stop, step = index.indices(count)
        positions = range(start, stop, step)
        if not positions:
            return []
        low, high = min(positions), max(positions)
        if count - 1 - high < low:  # nearer the end: count back from the newest run
            records = store.list_runs(
                self._pipeline_id, offset=count - 1 - high, limit=high - low + 1, newest_first=True
            )[::-1]
        else:
            records = store.list_runs(self._pipeline_id, offset=low, limit=high - low + 1)
        return [self._view([records[p - low]])[0] for p in positions if p - low < len(records)]

    def __iter__(self) -> Iterator[PipelineRunView]:
        after: int | None = None
        while True:
            page = self._stack.metadata_store.list_runs(
                self._pipeline_id, limit=PAGE, after_id=after
            )
            yield from self._view(list(page))
            if len(page) < PAGE:
                return
            after = page[-1].id

    def __reversed__(self) -> Iterator[PipelineRunView]:
        before: int | None = None
        while True:
            page = self.newest(PAGE, before_id=before)
            yield from page
            if len(page) < PAGE:
                return
            before = page[-1].id

    def __contains__(self, item: object) -> bool:
        if isinstance(item, PipelineRunView):
            return item.pipeline == self._pipeline
        if isinstance(item, str):
            return self._stack.metadata_store.get_run_by_name(self._pipeline_id, item) is not None
        return False

    def newest(
        self,
        limit: int = 50,
        *,
        name_contains: str | None = None,
        before_id: int | None = None,
        after_id: int | None = None,
    ) -> list[PipelineRunView]:
        """The newest ``limit`` runs, newest first; optionally filtered by name.

        Keyset paging, one indexed query either way: ``before_id`` gives the ``limit`` runs just
        older than the run with that id (a page back through history), ``after_id`` the
        ``limit`` runs just newer than it (a page forward), still newest first. The name filter
        is case-insensitive and takes ``%`` and ``_`` literally.
        """
        # The runs just after ``after_id`` are read oldest first (the nearest ones), then reversed.
        forward = after_id is not None
        records = self._stack.metadata_store.list_runs(
            self._pipeline_id,
            limit=limit,
            newest_first=not forward,
            name_contains=name_contains,
            before_id=before_id,
            after_id=after_id,
        )
        views = self._view(list(records))
        return views[::-1] if forward else views

    # -- runs as data --------------------------------------------------------------------------

    def table(
        self,
        query: RunQuery | Sequence[str] | None = None,
        where: Any = None,
        *,
        count: bool | int = False,
        **options: Any,
    ) -> RunsTable:
        """The runs as a :class:`~zenml_widgets.views.runs_table.RunsTable` (rows of plain
        values); the query as for :meth:`to_dataframe`. ``count=True`` also counts every
        matching run (``table.total``), for paging; ``count=N`` counts up to ``N`` (then
        ``table.total_is_lower_bound``), which stays fast whatever the number of runs."""
        from zenml_widgets.views.runs_table import RunQuery, run_table

        return run_table(
            self._stack,
            [self._pipeline_id],
            RunQuery.of(query, where, **options),
            title=f"pipeline {self._pipeline.name!r}",
            multi=False,
            count=count,
        )

    def to_dataframe(
        self, query: RunQuery | Sequence[str] | None = None, where: Any = None, **options: Any
    ) -> pd.DataFrame:
        """One row per run: ``name``, ``status``, ``start``, ``end``, ``duration`` (seconds),
        every step parameter (``trainer.epochs``) and every recorded scalar output
        (``evaluator.output.accuracy``; a scalar output is ``evaluator.output``).

        Filtering, sorting and limiting happen in SQL.

        Args:
            query: a :class:`~zenml_widgets.views.runs_table.RunQuery`, or the columns to
                return (``name`` is always there; default: all).
            where: conditions such as ``"trainer.epochs >= 5 and evaluator.output.accuracy >
                0.9"`` (see ``zenml_widgets.views.run_filters``), a ``(column, op, value)``
                tuple, or a list of either. A run without the column does not match.
            **options: any other field of ``RunQuery``: ``status``, ``since``, ``until``,
                ``sort``, ``ascending`` / ``descending``, ``limit``, ``offset``.

        Raises:
            NotFoundError: a column that no run of the pipeline has (the message lists them).
        """
        return self.table(query, where, **options).to_dataframe()
