"""The code line: the exact Python expression that fetches what the explorer shows."""

from __future__ import annotations

import keyword
import re
from typing import TYPE_CHECKING

from zenml_widgets.config import find_repository_root
from zenml_widgets.exceptions import RepositoryNotFoundError

if TYPE_CHECKING:
    from zenml_widgets.repository import Repository


def py_str(value: str) -> str:
    """``value`` as a Python string literal, double-quoted when that needs no escaping.

    The result always evaluates back to ``value`` (it is ``repr`` with the quotes swapped only
    when the text holds no quote character at all).
    """
    literal = repr(value)
    if literal.startswith("'") and '"' not in value and "'" not in value:
        literal = '"' + literal[1:-1] + '"'
    return literal


def repository_argument(repository: Repository) -> str | None:
    """The repository root when ``Repository()`` here would find another one (or none)."""
    try:
        found = find_repository_root()
    except RepositoryNotFoundError:
        found = None
    return None if found == repository.root else str(repository.root)


def accessor_code(
    *,
    repository_path: str | None = None,
    stack_key: str | None = None,
    pipeline: str | None = None,
    run: str | None = None,
    step: str | None = None,
    output: str | None = None,
) -> str:
    """The accessor expression for a selection, deepest level last.

    Args:
        repository_path: the repository root, when ``Repository()`` from the current folder
            would not find the same repository.
        stack_key: the stack, when it is not the active one.
        pipeline: pipeline name.
        run: run name (only with ``pipeline``).
        step: step name (only with ``run``).
        output: output name (only with ``step``); the expression then ends in ``.read()``.

    Returns:
        e.g. ``Repository().get_pipeline("training").get_run("nightly-12")``.
    """
    code = f"Repository({py_str(repository_path)})" if repository_path else "Repository()"
    if pipeline is None:
        return code
    stack = f", stack_key={py_str(stack_key)}" if stack_key is not None else ""
    code += f".get_pipeline({py_str(pipeline)}{stack})"
    if run is None:
        return code
    code += f".get_run({py_str(run)})"
    if step is None:
        return code
    code += f".get_step({py_str(step)})"
    if output is None:
        return code
    return code + f".outputs[{py_str(output)}].read()"


def is_variable_name(name: str) -> bool:
    """Whether ``name`` can be assigned to in Python (an identifier, not a keyword)."""
    return name.isidentifier() and not keyword.iskeyword(name)


def suggest_variable_name(name: str) -> str:
    """A valid variable name derived from ``name`` (``"my-model 2"`` -> ``"my_model_2"``)."""
    cleaned = re.sub(r"\W+", "_", name).strip("_") or "value"
    if cleaned[0].isdigit():
        cleaned = "_" + cleaned
    return cleaned + "_" if keyword.iskeyword(cleaned) else cleaned
