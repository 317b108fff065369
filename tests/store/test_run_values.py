"""Run values: what is recorded, the 0003 -> 0004 upgrade, and ``zenml-widgets backfill-values``."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import text
from zw_testing import make_repo, make_training

from zenml_widgets.cli import main
from zenml_widgets.repository import Repository
from zenml_widgets.store import MetadataStore, metric_values
from zenml_widgets.store.engine import get_engine
from zenml_widgets.store.schema import HEAD, current_revision, upgrade_to
from zenml_widgets.store.values import decode, encode, parameter_values


def test_which_outputs_are_metrics() -> None:
    assert metric_values(0.5) == {"": 0.5}
    assert metric_values(True) == {"": True}
    assert metric_values("short") == {"": "short"}
    assert metric_values("x" * 1000) is None
    assert metric_values({"acc": 0.9, "n": 3, "nested": {"a": 1}, "list": [1], 4: 1}) == {
        "acc": 0.9,
        "n": 3,
    }
    assert metric_values({"a": [1]}) is None
    assert metric_values([1, 2]) is None
    assert metric_values(np.float32(0.25)) == {"": 0.25}
    assert metric_values({"x": np.int64(7)}) == {"x": 7}
    assert metric_values(np.zeros(3)) is None
    assert parameter_values({"lr": 0.1, "layers": [64, 32], "none": None}) == {
        "lr": 0.1,
        "layers": "[64, 32]",
    }


def test_values_round_trip_exactly() -> None:
    for value in (True, False, 0, -5, 2**60, 10**30, 0.1, -1e300, math.inf, "é <b>"):
        decoded = decode(*encode(value))
        assert decoded == value and type(decoded) is type(value)
    assert math.isnan(decode(*encode(math.nan)))  # type: ignore[arg-type]


def _old_store_with_history(root: Path) -> Repository:
    """A repository whose store has real runs but no run values, as written before 0004."""
    repo = make_repo(root)
    make_training(epochs=2).run(run_name="a", repository=repo)
    make_training(epochs=3).run(run_name="b", repository=repo)
    engine = get_engine(repo.active_stack.metadata_url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM run_values"))
        conn.execute(text("DELETE FROM run_value_columns"))
    return repo


def test_backfill_fills_an_old_store(tmp_path: Path, capsys: object) -> None:
    repo = _old_store_with_history(tmp_path)
    runs = repo.get_pipeline("training_pipeline").runs
    assert list(runs.to_dataframe().columns) == [
        "name",
        "status",
        "start",
        "end",
        "duration",
        "run_id",
    ]
    assert main(["-R", str(tmp_path), "backfill-values", "--quiet"]) == 0
    df = runs.to_dataframe(ascending=True)
    assert df["trainer.epochs"].tolist() == [2, 3]
    scores = [r.get_step("evaluator").output.read()["score"] for r in runs]
    assert df["evaluator.output.score"].tolist() == scores
    assert df["trainer.output"].tolist() == scores
    before = runs.to_dataframe()
    assert main(["-R", str(tmp_path), "backfill-values", "--quiet"]) == 0  # idempotent
    assert runs.to_dataframe().equals(before)


def test_a_0003_store_upgrades_and_backfills_parameters(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/metadata.db"
    engine = get_engine(url)
    upgrade_to(engine, url, "0003")
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO pipelines (id, name, created_at) VALUES (1, 'p', :t)"), {"t": now}
        )
        conn.execute(
            text(
                "INSERT INTO runs (id, pipeline_id, name, status, start_time, end_time) "
                "VALUES (1, 1, 'r', 'completed', :t, :t)"
            ),
            {"t": now},
        )
        conn.execute(
            text(
                "INSERT INTO steps (id, run_id, position, name, entrypoint_name, parameters, "
                """status, start_time) VALUES (1, 1, 0, 'trainer', 'trainer', '{"epochs": 7}', """
                "'completed', :t)"
            ),
            {"t": now},
        )
    store = MetadataStore(url)  # upgrades
    with engine.connect() as conn:
        assert current_revision(conn) == HEAD == "0010"
    assert store.list_value_columns(None) == []
    step = store.steps_without_values()[0]
    store.record_values(step.id)
    assert store.list_value_columns(None) == [("trainer.epochs", "param", ("int",))]
    assert store.steps_without_values() == []


def test_writers_look_nothing_up_twice_and_forget_what_rolled_back(
    tmp_path: Path, store_url: str, count_queries: Any
) -> None:
    """A run's pipeline, a step's run and the catalogued columns are read once per process;
    what a rolled-back transaction wrote is not remembered (its ids may be reused)."""
    repo = make_repo(tmp_path, store_url)
    make_training(epochs=2).run(run_name="first", repository=repo)
    statements = count_queries(repo)
    make_training(epochs=3).run(run_name="second", repository=repo)
    lookups = re.compile(r"SELECT (runs\.pipeline_id\s+FROM runs|steps\.run_id, steps\.name\s)")
    assert [q for q in statements if lookups.match(q.lstrip())] == []
    inserts = [q for q in statements if q.lstrip().startswith("INSERT INTO run_value_columns")]
    assert inserts == []  # the columns of the first run are catalogued already

    store = repo.active_stack.metadata_store
    doomed = store.get_or_create_pipeline("doomed")
    with pytest.raises(RuntimeError), store.transaction():
        run = store.create_run(doomed.id, "r", pid=None, hostname=None)
        store.create_step(run.id, position=0, name="s", entrypoint_name="s",
                          parameters={"p": 1}, cache_key=None, code_hash=None)  # fmt: skip
        raise RuntimeError("rolled back")
    other = store.get_or_create_pipeline("other")
    run = store.create_run(other.id, "r", pid=None, hostname=None)  # may reuse the run id
    step = store.create_step(run.id, position=0, name="s", entrypoint_name="s",
                             parameters={"p": 2}, cache_key=None, code_hash=None)  # fmt: skip
    store.finish_step(step.id, "completed")
    store.finish_run(run.id, "completed")
    assert repo.get_pipeline("other").runs.to_dataframe()["s.p"].tolist() == [2]
    assert store.list_value_columns([doomed.id]) == []
    assert store.list_value_columns([other.id]) == [("s.p", "param", ("int",))]
