"""Joins that point upward, made by the package root (``zenml_widgets/__init__.py``).

The runner records a run; what a user gets back from ``pipeline.run()`` is the run's read-only
view. The runner never imports the views (executing never reads through them), so the package
root, which sits above both, sets :data:`present_run` to the function that wraps a recorded run
in its view. Until it is set, the runner returns the run's record. This module imports nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: ``present_run(stack, run_record)`` -> what ``pipeline.run()`` returns.
present_run: Callable[[Any, Any], Any] = lambda _stack, record: record  # noqa: E731
