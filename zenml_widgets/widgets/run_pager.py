"""``RunPager``: one page of a pipeline's runs, newest first, paged by keyset in SQL.

A pipeline may have 100k runs; the explorer only ever holds one page of them. Paging goes
through ``RunSequence.newest(limit, name_contains=..., before_id=...)``, so the database sorts,
filters and cuts, and no list of every run is ever built.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from zenml_widgets.views import PipelineRunView, PipelineView


class RunPager:
    """Keyset paging through one pipeline's runs.

    Args:
        pipeline: the pipeline whose runs are listed.
        page_size: how many runs a page holds.
    """

    def __init__(self, pipeline: PipelineView, page_size: int = 50) -> None:
        self.pipeline = pipeline
        self.page_size = max(1, page_size)
        self.name_contains = ""
        self.page: list[PipelineRunView] = []
        self.has_older = False
        self._before_id: int | None = None
        self._newer_cursors: list[int | None] = []
        self._total: int | None = None

    @property
    def total(self) -> int:
        """How many runs the pipeline has: one ``COUNT``, asked again only after ``recount``."""
        if self._total is None:
            self._total = len(self.pipeline.runs)
        return self._total

    def recount(self) -> None:
        """Forget the run count (after a refresh, new runs may exist)."""
        self._total = None

    @property
    def has_newer(self) -> bool:
        """Whether newer runs exist than the ones on this page (i.e. this is not page 1)."""
        return self._before_id is not None

    def load(self) -> list[PipelineRunView]:
        """(Re)load the current page: new runs appear when this is the newest page."""
        found = self.pipeline.runs.newest(
            self.page_size + 1,
            name_contains=self.name_contains or None,
            before_id=self._before_id,
        )
        self.has_older = len(found) > self.page_size
        self.page = found[: self.page_size]
        return self.page

    def first(self, name_contains: str | None = None) -> list[PipelineRunView]:
        """The newest page, optionally with a new name filter."""
        if name_contains is not None:
            self.name_contains = name_contains
        self._before_id = None
        self._newer_cursors = []
        return self.load()

    def older(self) -> list[PipelineRunView]:
        """The next page back in history."""
        if self.has_older and self.page:
            self._newer_cursors.append(self._before_id)
            self._before_id = self.page[-1].id
        return self.load()

    def newer(self) -> list[PipelineRunView]:
        """The previous page (towards the newest run)."""
        if self._newer_cursors:
            self._before_id = self._newer_cursors.pop()
        else:
            self._before_id = None
        return self.load()

    def show(self, run: PipelineRunView) -> list[PipelineRunView]:
        """Make sure ``run`` is on the page: a page starting at ``run`` if it is not already.

        After such a jump ``newer()`` returns to the newest page.
        """
        if any(r.id == run.id for r in self.page):
            return self.page
        if self.name_contains and self.name_contains.lower() not in run.name.lower():
            self.name_contains = ""
        self._before_id = run.id + 1
        self._newer_cursors = []
        self.load()
        if not any(r.id == run.id for r in self.page):  # filtered out by a case-sensitive LIKE
            self.name_contains = ""
            self.load()
        return self.page

    def describe(self) -> str:
        """A short plain-text description of the page, e.g. ``runs 1-50 of 300``."""
        if not self.page:
            return f"no runs matching {self.name_contains!r}" if self.name_contains else "no runs"
        shown = f"{len(self.page)} {'newest ' if not self.has_newer else ''}runs"
        if self.name_contains:
            return f"{shown} matching {self.name_contains!r}"
        return f"{shown} of {self.total:,}"
