"""The orchestrator table: each orchestrator's name, where its class lives, what it does, and the
options it takes.

The built-in orchestrators are rows of ``BUILTIN``; others come from installed distributions
through the entry-point group ``zenml_widgets.orchestrators`` (``name = module:Class``, the class
carrying its own ``NAME``, ``SUMMARY`` and ``OPTIONS``), read the first time a name that is not
built in is asked for. A built-in name always wins over an entry point of the same name.

This module sits just above ``exceptions`` in the layers, so that ``config`` checks a stack's
options when it is registered and the command line writes its help from the same table. The
orchestrator classes (``zenml_widgets.runner.orchestrators``) are imported only when a run uses
one: reading a built-in row imports neither them nor Dask.
"""

from __future__ import annotations

import functools
import importlib
import warnings
from collections.abc import Callable, Mapping
from typing import Any

from zenml_widgets.exceptions import (
    OrchestratorError,
    OrchestratorOptionError,
    ZenMLWidgetsError,
    did_you_mean,
)
from zenml_widgets.orchestration.options import (
    FloatOption,
    IntOption,
    MemorySizeOption,
    Option,
    StrOption,
    UrlOption,
)

__all__ = [
    "BUILTIN",
    "GROUP",
    "FloatOption",
    "IntOption",
    "MemorySizeOption",
    "Option",
    "OrchestratorEntry",
    "StrOption",
    "UrlOption",
    "describe_options",
    "describe_orchestrators",
    "forget_entry_points",
    "get_orchestrator",
    "is_orchestrator",
    "orchestrator_names",
]

GROUP = "zenml_widgets.orchestrators"
DEFAULT = "local"

DASK_OPTIONS: Mapping[str, Option] = {
    "address": UrlOption(
        "the scheduler of a running cluster; without it a LocalCluster of worker processes is "
        "started for each run",
        schemes=("tcp", "tls", "inproc", "ws", "wss", "ucx"),
        bare_scheme="tcp",
        no_port=("inproc",),
        excludes=("n_workers", "threads_per_worker", "memory_limit"),
    ),
    "n_workers": IntOption(
        "worker processes of the LocalCluster (default: the number of cores)", minimum=1
    ),
    "threads_per_worker": IntOption(
        "threads per worker process of the LocalCluster (default 1)", minimum=1
    ),
    "memory_limit": MemorySizeOption("memory limit per worker of the LocalCluster (default auto)"),
    "timeout": FloatOption("seconds to wait for the scheduler to answer (default 10)", above=0),
    "worker_wait": FloatOption(
        "seconds a run waits while no worker takes its tasks before it fails (default 60)",
        above=0,
    ),
}


class OrchestratorEntry:
    """One row of the table: an orchestrator's name, its class as ``module:Class``, a summary
    and its options.

    A built-in row carries its summary and options, so reading them imports nothing. A row of
    an entry point reads them from its class, imported (``load``) the first time they are asked
    for; a class that cannot be imported or is not an orchestrator is an ``OrchestratorError``
    naming the distribution and the entry point.
    """

    def __init__(
        self,
        name: str,
        target: str,
        *,
        summary: str | None = None,
        options: Mapping[str, Option] | None = None,
        origin: str = "built into zenml_widgets",
        loader: Callable[[], Any] | None = None,
    ) -> None:
        self.name = name
        self.target = target
        self.origin = origin
        self._summary = summary
        self._options = options
        self._loader = loader
        self._class: type[Any] | None = None

    def __repr__(self) -> str:
        return f"OrchestratorEntry({self.name!r}, {self.target!r})"

    @property
    def summary(self) -> str:
        """What the orchestrator does, in a line (its ``SUMMARY``, else its docstring's first)."""
        if self._summary is None:
            cls = self.load()
            doc = (cls.__doc__ or "").strip().split("\n\n")[0]
            self._summary = str(getattr(cls, "SUMMARY", "") or " ".join(doc.split()))
        return self._summary

    @property
    def options(self) -> Mapping[str, Option]:
        """The options the orchestrator takes, by name."""
        if self._options is None:
            self._options = self.load().OPTIONS
        return self._options

    def load(self) -> type[Any]:
        """The orchestrator's class, imported on first use."""
        if self._class is None:
            try:
                loaded = self._loader() if self._loader is not None else _import(self.target)
            except Exception as e:
                raise self.broken(f"importing {self.target} failed: {type(e).__name__}: {e}") from e
            self._class = self._checked(loaded)
        return self._class

    def broken(self, reason: str) -> OrchestratorError:
        """The error saying this orchestrator cannot be used, and where it comes from."""
        return OrchestratorError(
            f"The orchestrator {self.name!r} ({self.origin}) cannot be used: {reason}."
        )

    def _checked(self, loaded: Any) -> type[Any]:
        if not isinstance(loaded, type):
            raise self.broken(f"{self.target} is not a class")
        if getattr(loaded, "NAME", None) != self.name:
            raise self.broken(f"its class's NAME is {getattr(loaded, 'NAME', None)!r}")
        options = getattr(loaded, "OPTIONS", None)
        if not isinstance(options, Mapping) or not all(
            isinstance(k, str) and isinstance(v, Option) for k, v in options.items()
        ):
            raise self.broken(
                "its class's OPTIONS must map option names to zenml_widgets.orchestration "
                "options (IntOption, FloatOption, StrOption, MemorySizeOption, UrlOption)"
            )
        return loaded

    def check(self, stack: str, options: Mapping[str, Any]) -> dict[str, Any]:
        """``options`` of stack ``stack`` checked against this orchestrator's options, values
        converted as they say (``"4"`` -> ``4``).

        Raises ``ZenMLWidgetsError`` for an option it does not take, and
        ``OrchestratorOptionError`` (naming the stack and the option, and what it takes) for a
        value it does not accept or options that cannot be given together.
        """
        schema = self.options
        for name in options:
            if name not in schema:
                accepted = ", ".join(schema) if schema else "none"
                raise ZenMLWidgetsError(
                    f"Unknown option {name!r} for the {self.name!r} orchestrator of stack "
                    f"{stack!r}; it accepts: {accepted}.{did_you_mean(name, schema)}"
                )
        checked: dict[str, Any] = {}
        for name, value in options.items():
            try:
                checked[name] = schema[name].coerce(value)
            except (ValueError, TypeError) as e:
                raise OrchestratorOptionError(
                    f"Stack {stack!r}: option {name!r} of the {self.name!r} orchestrator cannot "
                    f"be {value!r}: it takes {e}. {name}: {schema[name].help}."
                ) from None
        for name in checked:
            for other in schema[name].excludes:
                if other in checked:
                    raise OrchestratorOptionError(
                        f"Stack {stack!r}: options {name!r} and {other!r} of the {self.name!r} "
                        f"orchestrator cannot be given together; give one or the other. "
                        f"{name}: {schema[name].help}. {other}: {schema[other].help}."
                    )
        return checked


def _import(target: str) -> Any:
    module, _, attribute = target.partition(":")
    value: Any = importlib.import_module(module)
    for part in filter(None, attribute.split(".")):
        value = getattr(value, part)
    return value


BUILTIN: Mapping[str, OrchestratorEntry] = {
    "local": OrchestratorEntry(
        "local",
        "zenml_widgets.runner.orchestrators.local:LocalOrchestrator",
        summary="one step after another, in the calling process (the default)",
        options={},
    ),
    "dask": OrchestratorEntry(
        "dask",
        "zenml_widgets.runner.orchestrators.dask:DaskOrchestrator",
        summary="steps as tasks on a Dask cluster, independent branches at the same time",
        options=DASK_OPTIONS,
    ),
}


@functools.cache
def _entry_points() -> dict[str, OrchestratorEntry]:
    from importlib.metadata import entry_points

    found: dict[str, OrchestratorEntry] = {}
    for point in entry_points(group=GROUP):
        dist = point.dist
        where = f"{dist.name} {dist.version}" if dist is not None else "an unknown distribution"
        origin = f"entry point '{point.name} = {point.value}' of {where}, group {GROUP}"
        taken = "built in" if point.name in BUILTIN else found.get(point.name)
        if taken is not None:
            by = taken if isinstance(taken, str) else taken.origin
            warnings.warn(
                f"Orchestrator {point.name!r} is {by}; the {origin} is ignored.", stacklevel=2
            )
            continue
        found[point.name] = OrchestratorEntry(
            point.name, point.value, origin=origin, loader=point.load
        )
    return found


def forget_entry_points() -> None:
    """Read the entry points again on next use (after installing a distribution)."""
    _entry_points.cache_clear()


def orchestrator_names() -> list[str]:
    """Every orchestrator's name: the built-in ones, then those of entry points."""
    return [*BUILTIN, *sorted(_entry_points())]


def is_orchestrator(name: str) -> bool:
    """Whether ``name`` is an orchestrator (entry points are read only for other names)."""
    return name in BUILTIN or name in _entry_points()


def get_orchestrator(name: str, stack: str | None = None) -> OrchestratorEntry:
    """The row of orchestrator ``name``; ``ZenMLWidgetsError`` listing them if there is none."""
    if name in BUILTIN:
        return BUILTIN[name]
    plugins = _entry_points()
    if name in plugins:
        return plugins[name]
    names = orchestrator_names()
    of_stack = f" for stack {stack!r}" if stack is not None else ""
    raise ZenMLWidgetsError(
        f"Unknown orchestrator {name!r}{of_stack}; the orchestrators are: {', '.join(names)}."
        f"{did_you_mean(name, names)} Others come with distributions that register one in the "
        f"entry-point group {GROUP!r}."
    )


def describe_orchestrators() -> str:
    """``name: summary`` of every orchestrator, for help texts."""
    described = []
    for name in orchestrator_names():
        entry = get_orchestrator(name)
        try:
            described.append(f"{name}: {entry.summary}")
        except OrchestratorError as e:
            described.append(f"{name}: {e}")
    return "; ".join(described)


def describe_options() -> str:
    """Every orchestrator's options with what they take and mean, for help texts."""
    described = []
    for name in orchestrator_names():
        try:
            options = get_orchestrator(name).options
        except OrchestratorError:
            continue  # describe_orchestrators says why
        parts = [f"{o} ({spec.accepts}): {spec.help}" for o, spec in options.items()]
        described.append(f"{name}: " + ("; ".join(parts) if parts else "none"))
    return ". ".join(described)
