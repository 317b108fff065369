"""The orchestrators: what runs the steps of a run. One module each (``local.py``, ``dask.py``),
each a subclass of ``Orchestrator`` (``base.py``).

Which class a stack's orchestrator name means, and which options it takes, is the table of
``zenml_widgets.orchestration`` (built-in rows, and third-party ones registered through the
entry-point group ``zenml_widgets.orchestrators``); a class is imported only when a run uses it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from zenml_widgets.orchestration import get_orchestrator
from zenml_widgets.runner.orchestrators.base import Orchestrator

if TYPE_CHECKING:
    from zenml_widgets.runner.steps import StepNode
    from zenml_widgets.stack import Stack

__all__ = ["Orchestrator", "open_orchestrator"]


def open_orchestrator(stack: Stack, nodes: Sequence[StepNode]) -> Orchestrator:
    """The orchestrator that runs ``nodes`` on ``stack`` (not entered yet).

    The stack's options are checked first, so a stack registered before they were, or edited
    since, is refused here with an error naming it and the option, before anything is recorded.
    """
    config = stack.config.checked()
    entry = get_orchestrator(config.orchestrator, stack.key)
    cls = entry.load()
    if not issubclass(cls, Orchestrator):
        raise entry.broken(f"{entry.target} is not a subclass of {__name__}.Orchestrator")
    return cls(stack, nodes, config.orchestrator_options)
