"""Rich displays of repositories, pipelines, runs, steps and artifacts."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from zenml_widgets.visualizers.html import (
    block,
    esc,
    fmt_duration,
    fmt_size,
    fmt_time,
    key_values,
    status_badge,
    table,
    text_table,
)

if TYPE_CHECKING:
    from zenml_widgets.repository import Repository
    from zenml_widgets.views import ArtifactView, PipelineRunView, PipelineView, StepView

RECENT_RUNS = 10


def _code(value: Any) -> str:
    return f"<code>{esc(value)}</code>"


def repository_bundle(
    repo: Repository, pipelines: Sequence[PipelineView] | None = None
) -> dict[str, Any]:
    """Stacks and their pipelines with run counts (``pipelines``: those, already listed with
    ``Repository.pipeline_overview``; default: every stack's)."""
    shown = repo.pipeline_overview() if pipelines is None else pipelines
    rows = [(p.stack_key, p.name, str(p.run_count)) for p in shown]
    plain = f"{repo!r}\n" + text_table(("stack", "pipeline", "runs"), rows)
    html = block(
        f"Repository <code>{esc(repo.root)}</code> (active stack {esc(repo.active_stack_key)})",
        table(("stack", "pipeline", "runs"), rows, numeric=[2])
        if rows
        else "<i>No pipelines yet.</i>",
    )
    return {"text/plain": plain, "text/html": html}


def _run_rows(runs: list[PipelineRunView]) -> list[tuple[str, str, str, str]]:
    return [
        (
            esc(r.name),
            status_badge(r.status),
            esc(fmt_time(r.start_time)),
            esc(fmt_duration(r.duration)),
        )
        for r in runs
    ]


def pipeline_bundle(
    pipeline: PipelineView,
    *,
    run_count: int | None = None,
    newest: Sequence[PipelineRunView] | None = None,
    name_contains: str = "",
) -> dict[str, Any]:
    """Run count and the most recent runs; ``run_count`` and ``newest`` (its newest runs, newest
    first) if the caller has just read them; ``name_contains``: only runs whose name contains it
    (as the explorer's run filter)."""
    runs = pipeline.runs
    count = run_count if run_count is not None else len(runs)
    if newest is not None:
        recent = list(newest[:RECENT_RUNS])
    else:
        recent = runs.newest(RECENT_RUNS, name_contains=name_contains or None)
    headers = ("run", "status", "started", "duration")
    plain_rows = [
        (r.name, r.status, fmt_time(r.start_time), fmt_duration(r.duration)) for r in recent
    ]
    matching = f", newest matching {name_contains!r}" if name_contains else ""
    plain = f"{pipeline!r}: {count} runs{matching}\n" + text_table(headers, plain_rows)
    empty = (
        f"<i>No runs matching {esc(repr(name_contains))}.</i>"
        if name_contains
        else ("<i>No runs yet.</i>")
    )
    html = block(
        f"Pipeline {_code(pipeline.name)} <span class='zw-muted'>stack {esc(pipeline.stack_key)}"
        f" · {count} runs{esc(matching.replace(',', ' ·', 1))}</span>",
        table(headers, _run_rows(recent), raw=True, numeric=[3]) if recent else empty,
    )
    return {"text/plain": plain, "text/html": html}


def run_bundle(run: PipelineRunView) -> dict[str, Any]:
    """Run metadata (with its tags, when it has some) and its steps table."""
    steps = run.steps
    tags = run.tags  # read with the steps
    headers = ("#", "step", "entrypoint", "status", "duration", "outputs")
    rows = []
    plain_rows = []
    for s in steps:
        outputs = ", ".join(s.outputs)
        rows.append(
            (
                str(s.position),
                esc(s.name),
                esc(s.entrypoint_name),
                status_badge(s.status),
                esc(fmt_duration(s.duration)),
                esc(outputs),
            )
        )
        plain_rows.append(
            (
                str(s.position),
                s.name,
                s.entrypoint_name,
                s.status,
                fmt_duration(s.duration),
                outputs,
            )
        )
    meta = key_values(
        [
            ("pipeline", _code(run.pipeline.name)),
            ("status", status_badge(run.status)),
            ("started", esc(fmt_time(run.start_time))),
            ("duration", esc(fmt_duration(run.duration))),
            *([("error", f"<pre>{esc(run.error)}</pre>")] if run.error else []),
            *([("tags", tags_html(tags))] if tags else []),
        ]
    )
    plain = (
        f"{run!r}\npipeline {run.pipeline.name}, started {fmt_time(run.start_time)}, "
        f"duration {fmt_duration(run.duration)}\n"
        + (f"tags {', '.join(tag_label(k, v) for k, v in tags.items())}\n" if tags else "")
        + text_table(headers, plain_rows)
    )
    html = block(f"Run {_code(run.name)}", meta, table(headers, rows, raw=True, numeric=[0, 4]))
    return {"text/plain": plain, "text/html": html}


def tag_label(key: str, value: str) -> str:
    """A tag as text: ``baseline`` (a mark) or ``stage=prod``."""
    return f"{key}={value}" if value else key


def tags_html(tags: dict[str, str]) -> str:
    """A run's tags as escaped ``<code>`` chips."""
    return " ".join(f"<code>{esc(tag_label(k, v))}</code>" for k, v in tags.items())


def _artifact_rows(items: dict[str, ArtifactView]) -> list[tuple[str, ...]]:
    return [
        (esc(name), _code(a.data_type), esc(fmt_size(a.size_bytes)), "yes" if a.is_cached else "no")
        for name, a in items.items()
    ]


def step_bundle(step: StepView) -> dict[str, Any]:
    """Step metadata, parameters, inputs and outputs."""
    params = json.dumps(step.parameters, indent=1, sort_keys=True, default=repr)
    outputs, inputs = step.outputs, step.inputs
    headers = ("name", "data type", "size", "cached")
    meta = [
        ("entrypoint", _code(step.entrypoint_name)),
        ("status", status_badge(step.status)),
        ("started", esc(fmt_time(step.start_time))),
        ("duration", esc(fmt_duration(step.duration))),
        ("parameters", f"<pre>{esc(params)}</pre>"),
    ]
    if step.error:
        meta.append(("error", f"<pre>{esc(step.error)}</pre>"))
    html = block(
        f"Step {_code(step.name)}",
        key_values(meta),
        "<div class='zw-title'>Inputs</div>",
        table(headers, _artifact_rows(inputs), raw=True, numeric=[2]) if inputs else "<i>none</i>",
        "<div class='zw-title'>Outputs</div>",
        table(headers, _artifact_rows(outputs), raw=True, numeric=[2])
        if outputs
        else "<i>none</i>",
    )
    plain = (
        f"{step!r}\nentrypoint {step.entrypoint_name}, parameters {params}\n"
        f"inputs: {', '.join(inputs) or 'none'}; outputs: {', '.join(outputs) or 'none'}"
    )
    return {"text/plain": plain, "text/html": html}


def _step_path(step: StepView) -> str:
    return f"{_code(step.run.pipeline.name)} / {_code(step.run.name)} / {_code(step.name)}"


def artifact_bundle(artifact: ArtifactView, *, content: bool = True) -> dict[str, Any]:
    """Artifact metadata (a cached output names the run that wrote it, and the run that
    reused it) and, with ``content``, what it holds, read cheaply: a table's shape, dtypes and
    head from the parquet footer and first pages, a model's layers from its file (no
    TensorFlow), a small value itself. The artifact is never read whole."""
    producer = artifact.producer_step
    meta = [
        ("name", _code(artifact.name)),
        ("data type", _code(artifact.data_type)),
        ("materializer", _code(artifact.materializer)),
        ("uri", _code(artifact.uri)),
        ("size", esc(fmt_size(artifact.size_bytes))),
        ("produced in", _step_path(producer)),
        ("cached", "yes" if artifact.is_cached else "no"),
    ]
    if artifact.is_cached:
        meta.append(("reused in", _step_path(artifact.step)))
    where = f"{producer.run.name}/{producer.name}"
    plain = (
        f"{artifact!r}\nuri {artifact.uri}\nmaterializer {artifact.materializer}, "
        f"size {fmt_size(artifact.size_bytes)}, produced in {where}"
        + (
            f", reused in {artifact.step.run.name}/{artifact.step.name}"
            if artifact.is_cached
            else ""
        )
    )
    parts = [key_values(meta)]
    if content:
        parts.append(_content_html(artifact))
    return {"text/plain": plain, "text/html": block(f"Artifact {_code(artifact.name)}", *parts)}


def _content_html(artifact: ArtifactView) -> str:
    """The artifact's cheap preview; a failure is a short note, never an exception."""
    try:
        preview = artifact.preview_html()
    except Exception as e:
        return f"<div class='zw-muted'>No preview: {esc(type(e).__name__)}: {esc(e)}</div>"
    return preview
