"""Rich displays of run comparisons (``zenml_widgets.views.compare``).

``run_comparison_bundle`` shows the steps that differ, parameter changes and output types.
``output_comparison_bundle`` reads one output of both runs: a column / dtype / row-count diff for
DataFrames and their Facets statistics side by side.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from zenml_widgets.views.compare import MISSING
from zenml_widgets.visualizers.html import block, esc, fmt_duration, status_badge, table, text_table

if TYPE_CHECKING:
    from zenml_widgets.views.compare import FrameDiff, OutputComparison, RunComparison, StepDiff


def _value(value: Any) -> str:
    if value is MISSING:
        return "—"
    return json.dumps(value, sort_keys=True, default=repr)


def _run_label(comparison: RunComparison, side: str) -> str:
    run = comparison.run_a if side == "A" else comparison.run_b
    return f"{side}: {run.pipeline.name} / {run.name}"


def _step_rows(diffs: list[StepDiff]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for d in diffs:
        changed = [
            what
            for what, flag in (
                ("status", d.status_changed),
                ("cache", d.cache_changed),
                ("duration", d.duration_changed),
                ("parameters", d.parameters_changed),
                ("output types", d.types_changed),
            )
            if flag
        ]
        rows.append(
            (
                d.name,
                d.a.status if d.a is not None else "—",
                d.b.status if d.b is not None else "—",
                fmt_duration(d.a.duration) if d.a is not None else "—",
                fmt_duration(d.b.duration) if d.b is not None else "—",
                ", ".join(changed),
            )
        )
    return rows


def run_comparison_bundle(comparison: RunComparison) -> dict[str, Any]:
    """Steps that differ, parameter changes, output types."""
    differing = [d for d in comparison.steps if d.differs]
    step_headers = ("step", "status A", "status B", "duration A", "duration B", "differs in")
    step_rows = _step_rows(differing)
    param_rows = [
        (step, key, _value(a), _value(b))
        for step, params in comparison.parameter_diff.items()
        for key, (a, b) in params.items()
    ]
    type_rows = [
        (step, out, a or "—", b or "—") for (step, out), (a, b) in comparison.output_types.items()
    ]
    label_a, label_b = _run_label(comparison, "A"), _run_label(comparison, "B")
    param_title = "Parameters" if comparison.show_all else "Changed parameters"
    html_rows = [
        (
            esc(r[0]),
            status_badge(r[1]) if r[1] != "—" else "—",
            status_badge(r[2]) if r[2] != "—" else "—",
            esc(r[3]),
            esc(r[4]),
            esc(r[5]),
        )
        for r in step_rows
    ]
    html = block(
        f"Comparing <code>{esc(label_a)}</code> with <code>{esc(label_b)}</code>",
        "<div class='zw-title'>Steps that differ</div>",
        table(step_headers, html_rows, raw=True) if step_rows else "<i>none</i>",
        f"<div class='zw-title'>{param_title}</div>",
        table(("step", "parameter", "A", "B"), param_rows) if param_rows else "<i>none</i>",
        "<div class='zw-title'>Output data types</div>",
        table(("step", "output", "A", "B"), type_rows) if type_rows else "<i>none</i>",
    )
    plain = "\n".join(
        [
            f"{comparison!r}\n{label_a}\n{label_b}",
            "steps that differ:",
            text_table(step_headers, step_rows) if step_rows else "  none",
            f"{param_title.lower()}:",
            text_table(("step", "parameter", "A", "B"), param_rows) if param_rows else "  none",
        ]
    )
    return {"text/plain": plain, "text/html": html}


def frame_diff_html(diff: FrameDiff) -> str:
    """Row counts and column changes of two DataFrames."""
    rows = [("rows", f"{diff.rows[0]:,}", f"{diff.rows[1]:,}")]
    rows += [(f"column {c}", "—", "added") for c in diff.added]
    rows += [(f"column {c}", "removed", "—") for c in diff.removed]
    rows += [(f"dtype of {c}", a, b) for c, (a, b) in diff.dtype_changed.items()]
    note = "" if not diff.same_schema else "<div class='zw-muted'>Same columns and dtypes.</div>"
    return table(("", "A", "B"), rows) + note


def frame_diff_text(diff: FrameDiff) -> str:
    """The same as plain text."""
    parts = [f"rows: {diff.rows[0]} vs {diff.rows[1]}"]
    if diff.added:
        parts.append("added columns: " + ", ".join(diff.added))
    if diff.removed:
        parts.append("removed columns: " + ", ".join(diff.removed))
    for c, (a, b) in diff.dtype_changed.items():
        parts.append(f"dtype of {c}: {a} -> {b}")
    if diff.same_schema:
        parts.append("same columns and dtypes")
    return "\n".join(parts)


def statistics_html(output: OutputComparison) -> str:
    """Facets statistics of both sides, side by side (reads both DataFrames once)."""
    # pandas and facets-overview are imported only when statistics are wanted
    from zenml_widgets.integrations.facets.visualizers.facet_statistics_visualizer import (
        FacetStatisticsVisualizer,
    )
    from zenml_widgets.visualizers.statistics_html import statistics_html as facets_html

    statistics = FacetStatisticsVisualizer().statistics(output.artifacts)
    return facets_html(statistics)


def output_comparison_bundle(output: OutputComparison) -> dict[str, Any]:
    """Data types, a DataFrame diff, and Facets statistics side by side."""
    a_type = output.a.data_type if output.a is not None else "—"
    b_type = output.b.data_type if output.b is not None else "—"
    label_a, label_b = output.labels
    title = f"Output <code>{esc(output.step)}</code> / <code>{esc(output.name)}</code>"
    types = table(("", "data type"), [(label_a, a_type), (label_b, b_type)])
    plain = f"{output!r}\n{label_a}: {a_type}\n{label_b}: {b_type}"
    if not output.are_frames:
        return {"text/plain": plain, "text/html": block(title, types)}
    diff = output.frame_diff()
    html = block(
        title,
        types,
        "<div class='zw-title'>Columns and rows</div>",
        frame_diff_html(diff),
        "<div class='zw-title'>Statistics</div>",
        statistics_html(output),
    )
    return {"text/plain": plain + "\n" + frame_diff_text(diff), "text/html": html}
