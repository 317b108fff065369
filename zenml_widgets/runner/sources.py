"""Source lines for the tracebacks of steps defined in a script or a notebook cell.

A step function defined in a script (``__main__``) or a notebook cell travels to Dask workers
by value, but its source file does not: a worker elsewhere has no such file, and a cell is no
file at all (IPython keeps it in ``linecache``). So the client sends the lines of the function's
file with the job, and the worker puts them into its ``linecache`` before the step runs:
tracebacks then show the step's source lines instead of just a file name.
"""

from __future__ import annotations

import inspect
import linecache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from zenml_widgets.runner.steps import BaseStep

#: The most characters of source sent with a job.
MAX_SOURCE = 1_000_000


def step_source(step: BaseStep) -> tuple[str, tuple[str, ...]] | None:
    """The file name and lines of the step function's file when it may be missing where the
    step runs (a script, a notebook cell, exec'd code); ``None`` for an importable module."""
    func = inspect.unwrap(step.ENTRYPOINT)
    code = getattr(func, "__code__", None)
    if code is None:
        return None
    filename = code.co_filename
    module = getattr(func, "__module__", "") or ""
    if module != "__main__" and Path(filename).is_file():
        return None  # an installed module: workers import it, with its file
    lines = linecache.getlines(filename, getattr(func, "__globals__", None))
    if not lines or sum(map(len, lines)) > MAX_SOURCE:
        return None
    return filename, tuple(lines)


def register_source(source: tuple[str, tuple[str, ...]] | None) -> None:
    """Let ``linecache`` (and so tracebacks) find ``source``'s lines, if it cannot already."""
    if source is None:
        return
    filename, lines = source
    if linecache.getlines(filename):
        return  # the file is here (the same machine), or the cell is known (the same kernel)
    # mtime None: linecache.checkcache() keeps the entry, as for sources a loader gave
    linecache.cache[filename] = (sum(map(len, lines)), None, list(lines), filename)
