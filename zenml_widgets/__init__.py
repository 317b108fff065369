"""zenml_widgets: look back at ML pipeline runs from a notebook.

``Repository`` -> pipelines -> runs -> steps -> outputs, read back as real objects. Names are
imported lazily so that ``import zenml_widgets`` stays fast and never imports TensorFlow,
IPython or ipywidgets.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from zenml_widgets import hooks

__version__ = "0.1.0"

_LAZY = {
    "Repository": "zenml_widgets.repository",
    "RunQuery": "zenml_widgets.views",
    "step": "zenml_widgets.runner",
    "pipeline": "zenml_widgets.runner",
    "Output": "zenml_widgets.runner",
    "BaseStep": "zenml_widgets.runner",
    "BasePipeline": "zenml_widgets.runner",
    "HistoryExplorer": "zenml_widgets.widgets",
    "log_metric": "zenml_widgets.runner.metrics",
    "log_metrics": "zenml_widgets.runner.metrics",
}

if TYPE_CHECKING:
    from zenml_widgets.repository import Repository
    from zenml_widgets.runner import BasePipeline, BaseStep, Output, pipeline, step
    from zenml_widgets.runner.metrics import log_metric, log_metrics
    from zenml_widgets.views import RunQuery
    from zenml_widgets.widgets import HistoryExplorer

__all__ = [
    "BasePipeline",
    "BaseStep",
    "HistoryExplorer",
    "Output",
    "Repository",
    "RunQuery",
    "load_ipython_extension",
    "log_metric",
    "log_metrics",
    "pipeline",
    "step",
    "unload_ipython_extension",
]


def _present_run(stack: Any, record: Any) -> Any:
    """What ``pipeline.run()`` returns: the recorded run's view (see ``zenml_widgets.hooks``)."""
    from zenml_widgets.views import PipelineRunView

    return PipelineRunView(stack, record)


def _log_metrics(metrics: Any, step: int | None = None) -> None:
    """``log_metrics`` for the integrations (see ``zenml_widgets.hooks``)."""
    from zenml_widgets.runner.metrics import log_metrics

    log_metrics(metrics, step)


hooks.present_run = _present_run
hooks.log_metrics = _log_metrics


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'zenml_widgets' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext zenml_widgets``: the ``%zenml_history`` magic and display hooks."""
    from zenml_widgets.extension import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """``%unload_ext zenml_widgets``."""
    from zenml_widgets.extension import unload_ipython_extension as unload

    unload(ipython)
