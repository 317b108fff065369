"""Backfilling run values into stores older than schema 0004 (``zenml-widgets backfill-values``).

Parameters come from the steps table; small scalar outputs (builtins ``bool``, ``int``,
``float``, ``str`` and ``dict``) are read back from their artifacts, as ``read()`` would. Larger
outputs (DataFrames, models, arrays) are never read. Steps that already have values are left
alone, so running it twice is harmless, and an interrupted run resumes where it stopped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from zenml_widgets.exceptions import ZenMLWidgetsError
from zenml_widgets.store import metric_values
from zenml_widgets.views.artifact import ArtifactView

if TYPE_CHECKING:
    from zenml_widgets.stack import Stack

SCALAR_TYPES = frozenset(
    {"builtins.bool", "builtins.int", "builtins.float", "builtins.str", "builtins.dict"}
)
_PAGE = 500


@dataclass
class BackfillReport:
    """What a backfill did: steps looked at, outputs read, and outputs that could not be read."""

    steps: int = 0
    outputs_read: int = 0
    unreadable: list[str] = field(default_factory=list)


def backfill_values(stack: Stack, *, progress: bool = True) -> BackfillReport:
    """Record the run values of every step of ``stack`` that has none yet (a tqdm progress bar
    over all steps, which ends full: steps that had values already count as done)."""
    from tqdm.auto import tqdm

    store = stack.metadata_store
    report = BackfillReport()
    after = 0
    with tqdm(
        total=store.count_steps(), desc="backfilling run values", unit="step", disable=not progress
    ) as bar:
        while True:
            steps = store.steps_without_values(after_id=after, limit=_PAGE)
            if not steps:
                break
            for step in steps:
                outputs = {}
                for artifact in store.list_outputs(step.id):
                    if artifact.data_type not in SCALAR_TYPES:
                        continue
                    try:
                        value = ArtifactView(stack, artifact).read()
                    except (ZenMLWidgetsError, OSError, ValueError) as e:
                        report.unreadable.append(f"{artifact.uri}: {e}")
                        continue
                    report.outputs_read += 1
                    values = metric_values(value)
                    if values:
                        outputs[artifact.name] = values
                store.record_values(step.id, outputs=outputs)
                report.steps += 1
                bar.update(1)
            after = steps[-1].id
        # Steps that had values already were not visited: they are done too.
        bar.update(max(0, bar.total - bar.n))
    return report
