"""Runs as data: ``pipeline.runs.to_dataframe`` filters, sorts and limits in SQL.

Every query is checked against pandas computing the same answer from a full read, on SQLite and
PostgreSQL (``store_url``).
"""

from __future__ import annotations

import math
import operator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from zw_testing import PANDAS, make_repo, make_training

from zenml_widgets.repository import Repository
from zenml_widgets.store import NewArtifact
from zenml_widgets.store.sql import Sql
from zenml_widgets.views.run_filters import FilterSyntaxError, parse_where

HOSTILE_PARAM = 'it\'s "q" <b>&amp; `tick`'
HOSTILE_METRIC = "<script>alert(1)</script>'; DROP TABLE runs;--"
N_RUNS = 40
OPS = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
       ">": operator.gt, ">=": operator.ge}  # fmt: skip


def _history(repo: Repository, pipeline: str = "train", runs: int = N_RUNS) -> None:
    """Runs with typed params and metrics, mixed types, gaps, failures and hostile keys."""
    store = repo.active_stack.metadata_store
    record = store.get_or_create_pipeline(pipeline)
    with store.transaction():
        for i in range(runs):
            run = store.create_run(record.id, f"{pipeline}-{i:03d}", pid=None, hostname="h")
            params: dict[str, Any] = {"epochs": i % 7, "lr": round(0.001 * (i % 5 + 1), 4)}
            if i % 3:
                params["optimizer"] = ["adam", "sgd", "Zeta", "alpha"][i % 4]
            params[HOSTILE_PARAM] = i % 2
            trainer = store.create_step(
                run.id, position=0, name="trainer", entrypoint_name="trainer",
                parameters=params, cache_key=None, code_hash=None,
            )  # fmt: skip
            store.finish_step(trainer.id, "completed")
            evaluator = store.create_step(
                run.id, position=1, name="evaluator", entrypoint_name="evaluator",
                parameters={}, cache_key=None, code_hash=None,
            )  # fmt: skip
            metrics: dict[str, Any] = {"loss": 1.0 / (i + 1), HOSTILE_METRIC: i * 10}
            if i % 4 == 0:
                metrics["accuracy"] = i // 4  # an int in some runs
            elif i % 4 != 3:
                metrics["accuracy"] = round((i % 9) / 10 + 0.05, 3)  # a float in others
            metrics["passed"] = i % 5 != 0
            out = NewArtifact("output", f"x/{run.id}", "builtins.dict", PANDAS, values=metrics)
            store.finish_step(evaluator.id, "completed", outputs=[out])
            store.finish_run(run.id, "failed" if i % 6 == 5 else "completed")


@pytest.fixture
def runs_repo(tmp_path: Path, store_url: str) -> Repository:
    repo = make_repo(tmp_path, store_url)
    _history(repo)
    _history(repo, "other", runs=5)
    return repo


def _full(repo: Repository) -> pd.DataFrame:
    return repo.get_pipeline("train").runs.to_dataframe(ascending=True)


def _expected(full: pd.DataFrame, conditions: list[tuple[str, str, Any]]) -> pd.DataFrame:
    mask = pd.Series(True, index=full.index)
    for column, op, value in conditions:
        col = full[column]
        present = col.notna()
        if isinstance(value, str):  # strings compare with string values only
            present &= col.map(lambda v: isinstance(v, str))
            compared = col.where(present, "").astype(str)
        else:
            compared = col.astype("float64") if col.dtype != object else col
        mask &= present & OPS[op](compared, value).fillna(False).astype(bool)
    return full[mask]


def test_full_table_has_every_parameter_and_metric(runs_repo: Repository) -> None:
    full = _full(runs_repo)
    assert list(full["name"]) == [f"train-{i:03d}" for i in range(N_RUNS)]
    assert list(full.columns[:5]) == ["name", "status", "start", "end", "duration"]
    for column in ("trainer.epochs", "trainer.lr", "trainer.optimizer",
                   f"trainer.{HOSTILE_PARAM}", "evaluator.output.accuracy",
                   "evaluator.output.loss", f"evaluator.output.{HOSTILE_METRIC}",
                   "evaluator.output.passed"):  # fmt: skip
        assert column in full.columns
    assert str(full["trainer.epochs"].dtype) == "Int64"
    assert str(full["evaluator.output.passed"].dtype) == "boolean"
    assert str(full["start"].dtype).startswith("datetime64")
    assert full["trainer.epochs"].tolist() == [i % 7 for i in range(N_RUNS)]
    assert full.loc[5, "status"] == "failed"
    assert (full["duration"] >= 0).all()
    # newest first by default
    assert runs_repo.get_pipeline("train").runs.to_dataframe(limit=1)["name"][0] == "train-039"


def test_mixed_int_float_and_missing_metric(runs_repo: Repository) -> None:
    full = _full(runs_repo)
    accuracy = full["evaluator.output.accuracy"]
    assert accuracy.dtype == "float64"
    assert accuracy[4] == 1.0 and accuracy[1] == pytest.approx(0.15)
    assert math.isnan(accuracy[3]) and math.isnan(accuracy[7])
    runs = runs_repo.get_pipeline("train").runs
    top = runs.to_dataframe(sort="evaluator.output.accuracy", limit=3)
    assert list(top["evaluator.output.accuracy"]) == sorted(accuracy.dropna(), reverse=True)[:3]
    bottom = runs.to_dataframe(sort="evaluator.output.accuracy", ascending=True)
    assert bottom["evaluator.output.accuracy"].isna().sum() == 10  # missing ones last
    assert bottom["evaluator.output.accuracy"].tail(10).isna().all()


CASES = [
    ("trainer.epochs >= 5", "evaluator.output.accuracy", False, 50),
    ("trainer.epochs >= 3 and evaluator.output.accuracy > 0.4", "trainer.lr", True, None),
    ("evaluator.output.accuracy <= 2", "evaluator.output.loss", True, 7),
    ("trainer.optimizer == 'adam'", "start", False, None),
    ("trainer.optimizer >= 'adam'", "trainer.optimizer", True, None),  # byte order: 'Zeta' < 'a'
    ("trainer.lr != 0.003", "trainer.epochs", False, 12),
    ("evaluator.output.passed == false", "name", True, None),
    ("status == 'failed'", "evaluator.output.loss", False, None),
    ("", "status", True, None),
    ("", "duration", False, 5),
    ("trainer.epochs < 2", "trainer.optimizer", False, None),  # missing values sort last
]


@pytest.mark.parametrize(("where", "sort", "ascending", "limit"), CASES)
def test_filters_and_sorting_match_pandas(
    runs_repo: Repository, where: str, sort: str, ascending: bool, limit: int | None
) -> None:
    full = _full(runs_repo)
    expected = _expected(full, parse_where(where))
    if sort != "start":
        expected = expected.sort_values(
            sort, ascending=ascending, na_position="last", kind="stable"
        )
    elif not ascending:
        expected = expected.iloc[::-1]
    if limit is not None:
        expected = expected.head(limit)
    got = runs_repo.get_pipeline("train").runs.to_dataframe(
        where=where or None, sort=sort, ascending=ascending, limit=limit
    )
    assert list(got["name"]) == list(expected["name"])
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected.reset_index(drop=True))


def test_offset_pages_through_the_sorted_result(runs_repo: Repository) -> None:
    runs = runs_repo.get_pipeline("train").runs
    whole = runs.to_dataframe(sort="evaluator.output.accuracy", columns=["name"])["name"].tolist()
    pages = [
        runs.to_dataframe(sort="evaluator.output.accuracy", limit=7, offset=o)["name"].tolist()
        for o in range(0, N_RUNS, 7)
    ]
    assert [n for page in pages for n in page] == whole
    table = runs.table(where="trainer.epochs >= 5", count=True, limit=2)
    assert table.total == int((_full(runs_repo)["trainer.epochs"] >= 5).sum())


def test_status_and_date_range(runs_repo: Repository) -> None:
    runs = runs_repo.get_pipeline("train").runs
    full = _full(runs_repo)
    failed = runs.to_dataframe(status="failed", ascending=True)
    assert list(failed["name"]) == list(full[full["status"] == "failed"]["name"])
    both = runs.to_dataframe(status=["failed", "completed"])
    assert len(both) == N_RUNS
    middle = full["start"][20]
    since = runs.to_dataframe(since=middle.to_pydatetime(), ascending=True)
    assert list(since["name"]) == list(full[full["start"] >= middle]["name"])
    until = runs.to_dataframe(until=middle.isoformat(), ascending=True)
    assert list(until["name"]) == list(full[full["start"] < middle]["name"])
    window = runs.to_dataframe(where=("start", ">=", middle.isoformat()), ascending=True)
    assert list(window["name"]) == list(since["name"])


def test_hostile_names_are_columns_like_any_other(runs_repo: Repository) -> None:
    runs = runs_repo.get_pipeline("train").runs
    full = _full(runs_repo)
    metric = f"evaluator.output.{HOSTILE_METRIC}"
    param = f"trainer.{HOSTILE_PARAM}"
    quoted = "`" + param.replace("`", "``") + "`"
    got = runs.to_dataframe(where=f"{quoted} == 1", sort=metric, columns=[param, metric])
    expected = full[full[param] == 1].sort_values(metric, ascending=False, kind="stable")
    assert list(got["name"]) == list(expected["name"])
    assert list(got.columns) == ["name", param, metric]
    same = runs.to_dataframe(where=[(param, "==", 1), (metric, ">", 100)], sort=metric)
    assert list(same["name"]) == [n for n in got["name"] if int(n[-3:]) * 10 > 100]
    assert runs_repo.get_pipeline("train").runs.table().columns  # the store is intact
    html = runs.table(limit=3)._repr_mimebundle_()["text/html"]
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<b>" not in html.replace("<b>DAG", "")


def test_unknown_column_lists_the_columns_and_suggests(runs_repo: Repository) -> None:
    runs = runs_repo.get_pipeline("train").runs
    with pytest.raises(KeyError) as caught:
        runs.to_dataframe(where="evaluator.output.acuracy > 0.9")
    message = str(caught.value)
    assert "No column 'evaluator.output.acuracy'" in message
    assert "Did you mean 'evaluator.output.accuracy'?" in message
    assert "'trainer.epochs'" in message
    with pytest.raises(KeyError, match=r"trainer\.epoch"):
        runs.to_dataframe(sort="trainer.epoch")
    with pytest.raises(KeyError, match="nope"):
        runs.to_dataframe(columns=["nope"])
    with pytest.raises(FilterSyntaxError, match="position"):
        runs.to_dataframe(where="trainer.epochs >")
    with pytest.raises(ValueError, match="contradict"):
        runs.to_dataframe(ascending=True, descending=True)
    # A text value against a column that only ever held numbers (and the reverse) can match
    # nothing: an error that says why, not an empty table.
    with pytest.raises(FilterSyntaxError, match=r"'trainer.epochs' holds int values.*a number"):
        runs.to_dataframe(where="trainer.epochs >= '5'")
    with pytest.raises(FilterSyntaxError, match=r"holds str values.*a quoted string"):
        runs.to_dataframe(where=[("trainer.optimizer", "==", 3)])


def test_repository_table_across_pipelines(runs_repo: Repository) -> None:
    every = runs_repo.runs_dataframe(sort="evaluator.output.loss", ascending=True)
    assert list(every.columns[:2]) == ["pipeline", "name"]
    assert len(every) == N_RUNS + 5
    assert set(every["pipeline"]) == {"train", "other"}
    assert every["evaluator.output.loss"].is_monotonic_increasing
    other = runs_repo.runs_dataframe(pipelines=["other"], where="trainer.epochs >= 1")
    assert set(other["pipeline"]) == {"other"} and len(other) == 4
    with pytest.raises(KeyError, match="Did you mean 'other'"):
        runs_repo.runs_dataframe(pipelines=["othr"])


def test_parse_where_is_a_small_safe_language() -> None:
    assert parse_where("a.b >= 5 and `c d` = 'x y' AND e < -1.5e-3 and f == true") == [
        ("a.b", ">=", 5), ("c d", "==", "x y"), ("e", "<", -0.0015), ("f", "==", True),
    ]  # fmt: skip
    assert parse_where('`a``b` != "q\\""') == [("a`b", "!=", 'q"')]
    for bad in ("a >", "a 5", "a == __import__('os')", "a == 1 or", "`a == 1"):
        with pytest.raises(FilterSyntaxError):
            parse_where(bad)


def test_the_runner_records_parameters_and_metrics(tmp_path: Path, store_url: str) -> None:
    repo = make_repo(tmp_path, store_url)
    make_training(epochs=2).run(run_name="a", repository=repo)
    make_training(epochs=4).run(run_name="b", repository=repo)
    make_training(epochs=4).run(
        run_name="cached", repository=repo
    )  # every step cached: metrics copied
    df = repo.get_pipeline("training_pipeline").runs.to_dataframe(ascending=True)
    assert list(df["name"]) == ["a", "b", "cached"]
    assert df["trainer.epochs"].tolist() == [2, 4, 4]
    assert df["importer.n_rows"].tolist() == [50, 50, 50]
    runs = repo.get_pipeline("training_pipeline").runs
    scores = [runs[i].get_step("evaluator").output.read()["score"] for i in range(3)]
    assert df["evaluator.output.score"].tolist() == scores
    assert df["evaluator.output.rows"].tolist() == [10, 10, 10]
    assert df["trainer.output"].tolist() == scores  # a scalar output is a column too
    best = runs.to_dataframe(where="trainer.epochs >= 4", sort="trainer.output", limit=1)
    assert best["name"].tolist() == ["b"]


def test_interrupted_runs_have_one_status_in_every_reader(tmp_path: Path, store_url: str) -> None:
    """A run whose process is gone (here) or whose heartbeat went silent (anywhere) is
    ``failed`` for ``run.status``, the runs table's column and its ``status=`` filter alike."""
    import subprocess
    import sys
    from datetime import timedelta

    from zenml_widgets.store import utcnow
    from zenml_widgets.store.liveness import STALE_AFTER, this_host

    repo = make_repo(tmp_path / "repo", store_url)
    store = repo.active_stack.metadata_store
    p = store.get_or_create_pipeline("p")
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    store.create_run(p.id, "process-gone", pid=int(gone.stdout), hostname=this_host())
    silent = store.create_run(p.id, "silent", pid=1, hostname="elsewhere")
    with store.transaction():  # a heartbeat from before the cut-off
        store._read().execute(
            "test", Sql("UPDATE runs SET heartbeat_at = ? WHERE id = ?",
                        (utcnow() - STALE_AFTER - timedelta(seconds=5), silent.id)),
        )  # fmt: skip
    store.create_run(p.id, "alive", pid=1, hostname="elsewhere")
    done = store.create_run(p.id, "done", pid=1, hostname="elsewhere")
    store.finish_run(done.id, "completed")

    runs = repo.get_pipeline("p").runs
    by_view = {r.name: r.status for r in runs}
    table = runs.to_dataframe(columns=["status"])
    assert dict(zip(table["name"], table["status"], strict=True)) == by_view == {
        "process-gone": "failed", "silent": "failed", "alive": "running", "done": "completed",
    }  # fmt: skip
    for status in ("failed", "running", "completed"):
        found = set(runs.to_dataframe(status=status)["name"])
        assert found == {n for n, s in by_view.items() if s == status}, status
    assert runs.to_dataframe(sort="status", ascending=True)["status"].tolist() == [
        "completed", "failed", "failed", "running",
    ]  # fmt: skip


def test_a_run_query_is_one_value_every_call_takes(runs_repo: Repository) -> None:
    from zenml_widgets import RunQuery

    runs = runs_repo.get_pipeline("train").runs
    query = RunQuery(columns=["trainer.epochs"], sort="trainer.epochs", limit=2)
    expected = runs.to_dataframe(["trainer.epochs"], sort="trainer.epochs", limit=2)
    pd.testing.assert_frame_equal(runs.to_dataframe(query), expected)
    pd.testing.assert_frame_equal(
        runs.to_dataframe(columns=["trainer.epochs"], sort="trainer.epochs", limit=2), expected
    )
    pd.testing.assert_frame_equal(runs.table(query).to_dataframe(), expected)
    # keywords change the query's fields
    assert len(runs.to_dataframe(query, limit=1)) == 1
    across = runs_repo.runs_dataframe(query, pipelines=["train"])
    assert across.columns.tolist() == ["pipeline", *expected.columns]
    with pytest.raises(TypeError, match=r"Unknown runs-table option\(s\) 'limt'.*limit"):
        runs.to_dataframe(limt=3)


def test_a_count_can_stop_early(runs_repo: Repository) -> None:
    """``count=N`` counts up to ``N`` matching runs: a page of a huge table does not wait for
    every run to be counted, and says when there are more."""
    runs = runs_repo.get_pipeline("train").runs
    exact = runs.table(where="trainer.epochs >= 2", limit=2, count=True)
    assert exact.total and exact.total > 3 and not exact.total_is_lower_bound
    capped = runs.table(where="trainer.epochs >= 2", limit=2, count=3)
    assert (capped.total, capped.total_is_lower_bound) == (3, True)
    assert "of 3+ runs" in capped._repr_mimebundle_()["text/html"]
    enough = runs.table(where="trainer.epochs >= 2", limit=2, count=exact.total)
    assert (enough.total, enough.total_is_lower_bound) == (exact.total, False)
