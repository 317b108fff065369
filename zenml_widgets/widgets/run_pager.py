"""``RunPager``: one page of a pipeline's runs, newest first, paged by keyset in SQL.

A pipeline may have 100k runs; the explorer only ever holds one page of them. Paging goes
through ``RunSequence.newest(limit, name_contains=..., before_id=... | after_id=...)``: "older"
asks for the runs just older than the page's last run, "newer" for those just newer than its
first, so the database sorts, filters and cuts, and no list of every run is ever built. Both
directions work from any page, also from one reached by jumping to an old run.
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
        self.has_newer = False
        self._before_id: int | None = None  # the page: runs older than this id; None: newest
        self._total: int | None = None

    @property
    def total(self) -> int:
        """How many runs the pipeline has: as listed with the pipeline, or one ``COUNT`` asked
        again only after ``recount``."""
        if self._total is None:
            self._total = self.pipeline.run_count
        return self._total

    def recount(self, pipeline: PipelineView) -> None:
        """After a refresh: the same pipeline as listed again (new runs may exist), whose
        ``run_count`` is the total from now on."""
        self.pipeline = pipeline
        self._total = None

    def load(self) -> list[PipelineRunView]:
        """(Re)load the current page: new runs appear when this is the newest page."""
        found = self.pipeline.runs.newest(
            self.page_size + 1,
            name_contains=self.name_contains or None,
            before_id=self._before_id,
        )
        self.has_older = len(found) > self.page_size
        self.has_newer = self._before_id is not None
        self.page = found[: self.page_size]
        return self.page

    def first(self, name_contains: str | None = None) -> list[PipelineRunView]:
        """The newest page, optionally with a new name filter."""
        if name_contains is not None:
            self.name_contains = name_contains
        self._before_id = None
        return self.load()

    def older(self) -> list[PipelineRunView]:
        """The page of runs just older than this one."""
        if self.has_older and self.page:
            self._before_id = self.page[-1].id
        return self.load()

    def newer(self) -> list[PipelineRunView]:
        """The page of runs just newer than this one (the newest page is always a full one)."""
        if not self.has_newer or not self.page:
            return self.first()
        found = self.pipeline.runs.newest(
            self.page_size + 1,
            name_contains=self.name_contains or None,
            after_id=self.page[0].id,
        )
        if len(found) < self.page_size:  # fewer than a page are newer: show the newest page
            return self.first()
        self.page = found[-self.page_size :]
        self.has_newer = len(found) > self.page_size
        self.has_older = True  # the run this page came from, at least
        self._before_id = self.page[0].id + 1 if self.has_newer else None
        return self.page

    def show(self, run: PipelineRunView) -> list[PipelineRunView]:
        """Make sure ``run`` is on the page: a page starting at ``run`` if it is not already.

        From there ``newer()`` and ``older()`` page on either side of it.
        """
        if any(r.id == run.id for r in self.page):
            return self.page
        if self.name_contains and self.name_contains.lower() not in run.name.lower():
            self.name_contains = ""
        self._before_id = run.id + 1
        self.load()
        if not any(r.id == run.id for r in self.page):  # SQLite folds only ASCII case
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
