"""Source lines for the tracebacks of steps defined in a script or a notebook cell.

A step function defined in a script (``__main__``) or a notebook cell travels to Dask workers
by value, but its source does not: cloudpickle names its code ``<dynamic-code>``, a worker
elsewhere has no such file, and a cell is no file at all (IPython keeps it in ``linecache``).
So the client sends the file's name and lines with the job, and the worker gives the code its
file name back and puts the lines into its ``linecache`` before the step runs: tracebacks
then show the step's file, line and source instead of ``File "<dynamic-code>"``.
"""

from __future__ import annotations

import inspect
import linecache
from pathlib import Path
from types import CodeType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from zenml_widgets.runner.steps import BaseStep

#: The most characters of source sent with a job.
MAX_SOURCE = 1_000_000
#: The file name cloudpickle gives the code of functions it sends by value.
DYNAMIC = "<dynamic-code>"


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


def register_source(step: BaseStep, source: tuple[str, tuple[str, ...]] | None) -> None:
    """Let tracebacks of ``step`` show ``source``'s lines: the step function (and the
    functions of its file that travelled with it) get their file name back, and ``linecache``
    learns the lines, if it cannot read the file itself."""
    if source is None:
        return
    filename, lines = source
    func = inspect.unwrap(step.ENTRYPOINT)
    module = getattr(func, "__module__", None)
    for value in [func, *getattr(func, "__globals__", {}).values()]:
        code = getattr(value, "__code__", None)
        if code is not None and code.co_filename == DYNAMIC and value.__module__ == module:
            value.__code__ = _renamed(code, filename)
    if linecache.getlines(filename):
        return  # the file is here (the same machine), or the cell is known (the same kernel)
    # mtime None: linecache.checkcache() keeps the entry, as for sources a loader gave
    linecache.cache[filename] = (sum(map(len, lines)), None, list(lines), filename)


def _renamed(code: CodeType, filename: str) -> CodeType:
    """``code`` (and the code objects inside it) with ``co_filename`` ``filename``."""
    consts = tuple(_renamed(c, filename) if isinstance(c, CodeType) else c for c in code.co_consts)
    return code.replace(co_filename=filename, co_consts=consts)
