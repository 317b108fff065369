"""The base class of visualizers."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any


class BaseVisualizer(ABC):
    """Shows an object from history (an artifact, a step's outputs, ...) to a person."""

    @abstractmethod
    def visualize(self, obj: Any, *args: Any, **kwargs: Any) -> Any:
        """Show ``obj``; what is returned depends on the visualizer."""
