"""Visualizers: statistics and HTML renderings of DataFrames, independent of pipelines.

This layer takes plain pandas DataFrames; it does not know about the store, runs or views.
Importing it is light: facets-overview, tqdm and IPython are imported only when used.
"""

from __future__ import annotations

from zenml_widgets.visualizers.base import BaseVisualizer
from zenml_widgets.visualizers.statistics import (
    combine_statistics,
    compute_statistics,
    dataset_statistics,
    statistics_from_bytes,
    statistics_to_bytes,
)

__all__ = [
    "BaseVisualizer",
    "combine_statistics",
    "compute_statistics",
    "dataset_statistics",
    "statistics_from_bytes",
    "statistics_to_bytes",
]
