"""Joins that point upward, made by the package root (``zenml_widgets/__init__.py``).

The runner records a run; what a user gets back from ``pipeline.run()`` is the run's read-only
view. The runner never imports the views (executing never reads through them), so the package
root, which sits above both, sets :data:`present_run` to the function that wraps a recorded run
in its view. Until it is set, the runner returns the run's record.

The integrations (the Keras callback) log metrics of the running step; logging is the runner's,
which they may not import, so the package root sets :data:`log_metrics` to the runner's
``log_metrics``. This module imports nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: ``present_run(stack, run_record)`` -> what ``pipeline.run()`` returns.
present_run: Callable[[Any, Any], Any] = lambda _stack, record: record  # noqa: E731


def _no_runner(metrics: Any, step: int | None = None) -> None:
    raise RuntimeError("zenml_widgets.hooks.log_metrics is set when zenml_widgets is imported")


#: ``log_metrics(metrics, step=None)``: log metrics of the running step (the runner's).
log_metrics: Callable[..., None] = _no_runner
