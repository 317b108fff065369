"""A store written at schema 0001 upgrades to the current head with its data intact."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import inspect, text

from zenml_widgets.store import MetadataStore
from zenml_widgets.store.engine import get_engine
from zenml_widgets.store.schema import HEAD, REVISIONS, current_revision, upgrade_to


def _fill_at_0001(url: str) -> None:
    engine = get_engine(url)
    upgrade_to(engine, url, "0001")
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    with engine.begin() as conn:
        assert current_revision(conn) == "0001"
        assert "ix_runs_pipeline_id_status" not in {
            i["name"] for i in inspect(conn).get_indexes("runs")
        }
        conn.execute(
            text("INSERT INTO pipelines (id, name, created_at) VALUES (1, 'old <p>', :t)"),
            {"t": now},
        )
        for run_id, status in ((1, "completed"), (2, "failed")):
            conn.execute(
                text(
                    "INSERT INTO runs (id, pipeline_id, name, status, start_time, end_time) "
                    "VALUES (:id, 1, :name, :status, :t, :t)"
                ),
                {"id": run_id, "name": f"run-{run_id}", "status": status, "t": now},
            )
        conn.execute(
            text(
                "INSERT INTO steps (id, run_id, position, name, entrypoint_name, parameters, "
                "status, start_time) VALUES (1, 1, 0, 'importer', 'importer', "
                """'{"n": 3, "é": [1, 2]}', 'completed', :t)"""
            ),
            {"t": now},
        )
        conn.execute(
            text(
                "INSERT INTO artifacts (id, step_id, name, uri, data_type, materializer, "
                "producer_step_id, is_cached, size_bytes, created_at) VALUES (1, 1, 'output', "
                "'1/1/000-importer/output-abc', 'builtins.int', "
                "'zenml_widgets.materializers.builtin.BuiltInMaterializer', 1, false, 3, :t)"
            ),
            {"t": now},
        )
        if conn.dialect.name == "postgresql":  # explicit ids: move the sequences past them
            for table in ("pipelines", "runs", "steps", "artifacts"):
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )


def test_0001_store_upgrades_with_data_intact(store_url: str) -> None:
    assert REVISIONS[-1] == HEAD == "0010"
    _fill_at_0001(store_url)
    store = MetadataStore(store_url)  # upgrades on open
    with get_engine(store_url).connect() as conn:
        assert current_revision(conn) == HEAD
        inspector = inspect(conn)
        assert "ix_runs_pipeline_id_status" in {i["name"] for i in inspector.get_indexes("runs")}
        assert "ix_artifacts_producer_step_id" in {
            i["name"] for i in inspector.get_indexes("artifacts")
        }
        assert "ix_step_inputs_artifact_id" in {
            i["name"] for i in inspector.get_indexes("step_inputs")
        }
    (pipeline,) = store.list_pipelines()
    assert pipeline.name == "old <p>"
    runs = store.list_runs(pipeline.id)
    assert [(r.name, r.status) for r in runs] == [("run-1", "completed"), ("run-2", "failed")]
    (step,) = store.list_steps(runs[0].id)
    assert step.parameters == {"n": 3, "é": [1, 2]}
    assert step.cache_enabled is None  # 0003: unknown for steps recorded before it
    (artifact,) = store.list_outputs(step.id)
    assert artifact.uri == "1/1/000-importer/output-abc" and artifact.size_bytes == 3
    assert (artifact.num_rows, artifact.num_columns) == (None, None)  # 0005: not recorded
    # and the upgraded store takes new history
    new = store.create_run(pipeline.id, "run-3", pid=None, hostname=None)
    assert [r.id for r in store.list_runs(pipeline.id)][-1] == new.id


def test_a_fresh_store_matches_the_models(store_url: str) -> None:
    """The migrations and the ORM models describe the same indexes."""
    from zenml_widgets.store.models import Base

    MetadataStore(store_url)
    with get_engine(store_url).connect() as conn:
        inspector = inspect(conn)
        for table in Base.metadata.sorted_tables:
            declared = {i.name for i in table.indexes}
            present = {i["name"] for i in inspector.get_indexes(table.name)}
            assert declared <= present, (table.name, declared - present)
            columns = {c["name"] for c in inspector.get_columns(table.name)}
            assert set(table.columns.keys()) == columns, (table.name, columns)


def test_a_0006_store_upgrades_to_attempts(store_url: str) -> None:
    """0007: every step of a store written at 0006 gets one attempt copied from it (where it ran
    is unknown), no pending or skipped records appear, and new runs record attempts."""
    engine = get_engine(store_url)
    upgrade_to(engine, store_url, "0006")
    now = datetime(2026, 12, 1, 10, 0, 0, tzinfo=UTC)
    later = datetime(2026, 12, 1, 10, 0, 3, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO pipelines (id, name, created_at) VALUES (1, 'p', :t)"),
                     {"t": now})  # fmt: skip
        conn.execute(
            text(
                "INSERT INTO runs (id, pipeline_id, name, status, start_time, end_time, error) "
                "VALUES (1, 1, 'old', 'failed', :t, :e, 'boom')"
            ),
            {"t": now, "e": later},
        )
        for step_id, status, error in ((1, "completed", None), (2, "cached", None),
                                       (3, "failed", "ValueError: boom")):  # fmt: skip
            conn.execute(
                text(
                    "INSERT INTO steps (id, run_id, position, name, entrypoint_name, parameters,"
                    " status, start_time, end_time, error) VALUES (:id, 1, :pos, :name, 'f', "
                    "'{}', :status, :t, :e, :error)"
                ),
                {"id": step_id, "pos": step_id - 1, "name": f"s{step_id}", "status": status,
                 "t": now, "e": later, "error": error},
            )  # fmt: skip
        if conn.dialect.name == "postgresql":
            for table in ("pipelines", "runs", "steps"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(SELECT max(id) FROM {table}))"))  # fmt: skip
    store = MetadataStore(store_url)
    steps = store.list_steps(1)
    assert [(s.status, s.attempt) for s in steps] == [
        ("completed", 1), ("cached", 1), ("failed", 1),
    ]  # fmt: skip
    for s in steps:
        (attempt,) = store.list_attempts(s.id)
        assert (attempt.number, attempt.status, attempt.error) == (1, s.status, s.error)
        assert (attempt.start_time, attempt.end_time) == (now, later)
        assert (attempt.hostname, attempt.pid, attempt.worker) == (None, None, None)
    # the upgraded store runs the lifecycle: a new run's steps start pending
    from zenml_widgets.store import PlannedStep

    run, ids = store.start_run(1, "new", pid=None, hostname=None,
                               steps=[PlannedStep(0, "a", "a", {"k": 1})])  # fmt: skip
    assert store.get_step(ids[0]).status == "pending"
    assert store.list_attempts(ids[0]) == []
    assert store.finish_run(run.id, "failed", "stopped")
    assert store.get_step(ids[0]).status == "skipped"


def test_a_0009_store_packs_its_metric_points(store_url: str) -> None:
    """0010: the points a store already has are packed into chunks (a long series into several),
    read back equal to the rows, NaN (stored NULL) as NaN; new batches go on from there."""
    import math

    engine = get_engine(store_url)
    upgrade_to(engine, store_url, "0009")
    now = datetime(2026, 12, 6, 10, 0, 0, tzinfo=UTC)
    long = [
        (1, seq, seq * 2, None if seq % 997 == 0 else seq / 7, 1e9 + seq) for seq in range(25_000)
    ]
    short = [(2, seq, 10 - seq, -math.inf if seq == 1 else seq * 1.5, 2e9) for seq in range(3)]
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO pipelines (id, name, created_at) VALUES (1, 'p', :t)"),
                     {"t": now})  # fmt: skip
        conn.execute(text("INSERT INTO runs (id, pipeline_id, name, status, start_time) "
                          "VALUES (1, 1, 'r', 'running', :t)"), {"t": now})  # fmt: skip
        conn.execute(text("INSERT INTO steps (id, run_id, position, name, entrypoint_name, "
                          "parameters, status, start_time, attempt) VALUES "
                          "(1, 1, 0, 'trainer', 'trainer', '{}', 'running', :t, 1)"),
                     {"t": now})  # fmt: skip
        for series_id, name, points in ((1, "loss", long), (2, "acc", short)):
            conn.execute(text("INSERT INTO metric_series (id, step_id, attempt, name, points) "
                              "VALUES (:id, 1, 1, :name, :n)"),
                         {"id": series_id, "name": name, "n": len(points)})  # fmt: skip
            conn.execute(text("INSERT INTO metric_points (series_id, seq, step, value, time) "
                              "VALUES (:s, :q, :S, :v, :t)"),
                         [dict(zip("sqSvt", p, strict=True)) for p in points])  # fmt: skip
        if conn.dialect.name == "postgresql":
            for table in ("pipelines", "runs", "steps", "metric_series"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(SELECT max(id) FROM {table}))"))  # fmt: skip
    store = MetadataStore(store_url)
    with get_engine(store_url).connect() as conn:
        chunks = conn.execute(text("SELECT series_id, seq, points FROM metric_chunks "
                                   "ORDER BY series_id, seq")).all()  # fmt: skip
    assert [tuple(c) for c in chunks] == [(1, 0, 10_000), (1, 10_000, 10_000), (1, 20_000, 5_000),
                                          (2, 0, 3)]  # fmt: skip
    loss = store.metric_column(1, "loss")
    assert loss is not None and list(loss.steps) == [p[2] for p in long]
    assert [math.isnan(v) for v in loss.values] == [p[3] is None for p in long]
    assert [v for v in loss.values if not math.isnan(v)] == [p[3] for p in long if p[3] is not None]
    table = store.metric_table(1)
    assert [name for name, _ in table] == ["acc", "loss"]
    acc = table[0][1]
    assert (list(acc.steps), list(acc.values), list(acc.times)) == (
        [10, 9, 8], [0.0, -math.inf, 3.0], [2e9] * 3,
    )  # fmt: skip
    assert list(table[1][1].times) == [p[4] for p in long]
    # the upgraded store takes new points of the same series, after the packed ones
    series = {"loss": 1, "acc": 2}
    batch = [("acc", 3, 7, 0.5, 3e9), ("loss", 25_000, 50_000, 1.0, 3e9)]
    store.record_metrics(
        run_id=1, step_id=1, step_name="trainer", attempt=1, series=series, points=batch
    )
    acc_now = store.metric_column(1, "acc")
    assert acc_now is not None and list(acc_now.values) == [0.0, -math.inf, 3.0, 0.5]
    loss_now = store.metric_column(1, "loss")
    assert loss_now is not None and list(loss_now.steps)[-2:] == [49_998, 50_000]
    with get_engine(store_url).connect() as conn:
        chunks = conn.execute(text("SELECT series_id, seq, points FROM metric_chunks "
                                   "ORDER BY series_id, seq")).all()  # fmt: skip
    # the small last chunk of acc grew; loss's last (5,000 points) was big enough: a new one
    assert [tuple(c) for c in chunks] == [(1, 0, 10_000), (1, 10_000, 10_000), (1, 20_000, 5_000),
                                          (1, 25_000, 1), (2, 0, 4)]  # fmt: skip
