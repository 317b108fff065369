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
    assert REVISIONS[-1] == HEAD == "0006"
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
