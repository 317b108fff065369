"""Visualizers: data -> HTML/SVG, independent of pipelines and history.

This layer takes plain data: DataFrames (Facets statistics and their HTML), a run's steps as
plain records (the DAG drawing, ``visualizers.dag``), model summaries, and the escaped HTML
building blocks every rendering uses (``visualizers.html``). It does not know about the store,
runs or views. Importing it is light: the statistics functions (and with them pandas and pyarrow)
load on first use, so that drawing a run's DAG never imports pandas; facets-overview, tqdm and
IPython are imported only when used.
"""

from __future__ import annotations

import importlib
from typing import Any

from zenml_widgets.visualizers.base import BaseVisualizer

_STATISTICS = (
    "combine_statistics",
    "compute_statistics",
    "dataset_statistics",
    "statistics_from_bytes",
    "statistics_to_bytes",
)

__all__ = ["BaseVisualizer", *_STATISTICS]


def __getattr__(name: str) -> Any:
    if name in _STATISTICS:
        module = importlib.import_module("zenml_widgets.visualizers.statistics")
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
