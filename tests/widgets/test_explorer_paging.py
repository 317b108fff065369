"""300 runs: the run dropdown holds one page, filtered and paged in SQL, never all runs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import zw_testing as t

from zenml_widgets import HistoryExplorer
from zenml_widgets.repository import Repository
from zenml_widgets.views import RunSequence


def names(dropdown: Any) -> list[str]:
    return [label.split()[0] for label in dropdown.get_state()["_options_labels"]]


@pytest.fixture
def run_queries(big_history: Repository) -> Iterator[list[str]]:
    """The SQL statements that read the runs table while the test runs."""
    statements: list[str] = []

    def record(statement: str, _params: Any) -> None:
        if "FROM runs" in statement:
            statements.append(" ".join(statement.split()))

    stop = t.watch_sql(big_history, record)
    yield statements
    stop()


@pytest.fixture
def no_full_listing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail if anything iterates over all runs or lists every run name."""

    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("the explorer must never load every run")

    monkeypatch.setattr(RunSequence, "__iter__", refuse)
    monkeypatch.setattr("zenml_widgets.views.PipelineView.get_run_names", refuse)


def test_only_the_newest_page_is_listed(
    big_history: Repository, run_queries: list[str], no_full_listing: None
) -> None:
    explorer = HistoryExplorer(page_size=50)
    explorer.ui.pipeline.value = "bulk"
    assert names(explorer.ui.run) == [f"bulk-{i:05d}" for i in range(299, 249, -1)]
    assert explorer.ui.page_label.value == "50 newest runs of 300"
    assert explorer.ui.newer.disabled and not explorer.ui.older.disabled
    listing = [q for q in run_queries if q.startswith("SELECT runs.") and "ORDER BY" in q]
    assert listing and all("LIMIT" in q for q in listing), listing


def test_older_and_newer_pages(big_history: Repository, no_full_listing: None) -> None:
    explorer = HistoryExplorer(page_size=50).select("bulk")
    seen: list[str] = []
    for _ in range(6):
        seen += names(explorer.ui.run)
        assert len(names(explorer.ui.run)) == 50
        explorer.ui.older.click()
    assert seen == [f"bulk-{i:05d}" for i in range(299, -1, -1)]
    assert explorer.ui.older.disabled and not explorer.ui.newer.disabled
    explorer.ui.newer.click()
    assert names(explorer.ui.run)[0] == "bulk-00099"
    for _ in range(4):
        explorer.ui.newer.click()
    assert names(explorer.ui.run)[0] == "bulk-00299" and explorer.ui.newer.disabled


def test_filter_is_done_in_sql(
    big_history: Repository, run_queries: list[str], no_full_listing: None
) -> None:
    explorer = HistoryExplorer(page_size=50).select("bulk")
    run_queries.clear()
    explorer.ui.filter.value = "0012"
    assert explorer.name_filter == "0012"
    expected = [f"bulk-{i:05d}" for i in range(129, 119, -1)] + ["bulk-00012"]
    assert names(explorer.ui.run) == expected
    assert "matching &#x27;0012&#x27;" in explorer.ui.page_label.value  # escaped
    assert any("LIKE" in q and "LIMIT" in q for q in run_queries), run_queries
    explorer.ui.filter.value = "no such run"
    assert names(explorer.ui.run) == [] and "no runs matching" in explorer.ui.page_label.value
    explorer.name_filter = ""
    assert len(names(explorer.ui.run)) == 50


def test_selecting_an_old_run_by_name_pages_to_it(
    big_history: Repository, no_full_listing: None
) -> None:
    explorer = HistoryExplorer(page_size=50).select("bulk", "bulk-00003")
    assert explorer.ui.run.value == "bulk-00003"
    assert names(explorer.ui.run) == [f"bulk-{i:05d}" for i in range(3, -1, -1)]
    explorer.ui.newer.click()  # the page just newer than it; the selection stays
    assert names(explorer.ui.run) == [f"bulk-{i:05d}" for i in range(53, 3, -1)]
    assert explorer.run_name == "bulk-00003"
    explorer.select("bulk", "bulk-00003", "loader", "data")
    assert explorer.code.endswith(
        '.get_run("bulk-00003").get_step("loader").outputs["data"].read()'
    )


def test_filter_then_choose_then_page_size(big_history: Repository) -> None:
    explorer = HistoryExplorer(page_size=10).select("bulk")
    explorer.name_filter = "bulk-0020"
    explorer.ui.run.index = 0
    assert explorer.run_name == "bulk-00209"
    explorer.page_size = 3
    assert names(explorer.ui.run) == ["bulk-00209", "bulk-00208", "bulk-00207"]
    assert explorer.ui.run.value == "bulk-00209"


def test_runs_are_counted_with_the_pipeline_list_only(
    big_history: Repository, count_queries: Callable[[Repository], list[str]]
) -> None:
    explorer = HistoryExplorer(page_size=50)
    statements = count_queries(big_history)

    def counts() -> int:
        found = sum("count(" in s.lower() for s in statements)
        statements.clear()
        return found

    explorer.ui.pipeline.value = "bulk"
    # the pipeline list counted every pipeline's runs in its one query; the page label, the
    # preview and the newer-runs baseline use that count
    assert counts() == 0
    assert explorer.ui.page_label.value == "50 newest runs of 300"
    assert "300 runs" in explorer.ui.preview.value
    explorer.ui.older.click()
    explorer.ui.newer.click()
    assert counts() == 0  # paging does not count again
    store = big_history.active_stack.metadata_store
    pipeline_id = store.get_or_create_pipeline("bulk").id
    for name in ("late-1", "late-2"):
        store.finish_run(
            store.create_run(pipeline_id, name, pid=None, hostname=None).id, "completed"
        )
    explorer.refresh()  # lists the pipelines again, with their counts: one query
    assert counts() == 1 and explorer.ui.page_label.value == "50 newest runs of 302"
    explorer.select("bulk", "bulk-00003")
    assert counts() == 0  # choosing a run keeps the pipeline's count
    explorer.pipeline_name = None  # the repository's preview shows the listed counts
    assert counts() == 0 and "302" in explorer.ui.preview.value
    explorer.select("bulk")
    assert counts() == 0 and "302 runs" in explorer.ui.preview.value


def test_older_and_newer_are_symmetric_after_a_jump(
    big_history: Repository, run_queries: list[str], no_full_listing: None
) -> None:
    explorer = HistoryExplorer(page_size=50).select("bulk", "bulk-00120")
    assert names(explorer.ui.run) == [f"bulk-{i:05d}" for i in range(120, 70, -1)]
    assert not explorer.ui.newer.disabled and not explorer.ui.older.disabled
    run_queries.clear()
    explorer.ui.newer.click()
    assert names(explorer.ui.run) == [f"bulk-{i:05d}" for i in range(170, 120, -1)]
    assert len([q for q in run_queries if "ORDER BY" in q]) == 1  # one keyset query
    assert all("LIMIT" in q for q in run_queries if "ORDER BY" in q), run_queries
    explorer.ui.older.click()
    assert names(explorer.ui.run) == [f"bulk-{i:05d}" for i in range(120, 70, -1)]
    explorer.ui.older.click()
    assert names(explorer.ui.run) == [f"bulk-{i:05d}" for i in range(70, 20, -1)]
    explorer.ui.older.click()  # the oldest runs: a short page
    assert names(explorer.ui.run) == [f"bulk-{i:05d}" for i in range(20, -1, -1)]
    assert explorer.ui.older.disabled
    pages = []
    while not explorer.ui.newer.disabled:
        explorer.ui.newer.click()
        pages.append(names(explorer.ui.run))
    assert [p[0] for p in pages] == [f"bulk-{i:05d}" for i in (70, 120, 170, 220, 270, 299)]
    assert pages[-1] == [f"bulk-{i:05d}" for i in range(299, 249, -1)]  # a full newest page
    assert explorer.ui.page_label.value == "50 newest runs of 300"
    assert explorer.run_name == "bulk-00120"


def test_newer_keeps_the_name_filter(big_history: Repository, no_full_listing: None) -> None:
    explorer = HistoryExplorer(page_size=5).select("bulk")
    explorer.name_filter = "7"  # bulk-00007, -00017, ..., -00070..79, ...: 57 runs
    explorer.ui.older.click()
    explorer.ui.older.click()
    third = names(explorer.ui.run)
    explorer.ui.older.click()
    explorer.ui.newer.click()
    assert names(explorer.ui.run) == third
    assert all("7" in n for n in third)


def test_the_filter_box_shows_the_filter_in_use(big_history: Repository) -> None:
    explorer = HistoryExplorer(page_size=50).select("bulk")
    explorer.ui.filter.value = "0012"
    explorer.select("bulk", "bulk-00003")  # not matching the filter: the filter is cleared
    assert explorer.name_filter == "" and explorer.ui.filter.value == ""
    explorer.name_filter = "0029"
    assert explorer.ui.filter.value == "0029"
    explorer.pipeline_name = None  # another pipeline starts unfiltered
    assert explorer.ui.filter.value == ""
