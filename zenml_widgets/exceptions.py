"""The package's own errors, and the helpers their messages share. This module imports nothing
from the package."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """`` Did you mean 'x'?`` for the closest candidate, or ``""``."""
    match = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f" Did you mean {match[0]!r}?" if match else ""


_PASSWORD = re.compile(r"^(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^:/@?#]*):(?P<password>[^@/?#]*)@")


def hide_password(url: str) -> str:
    """``url`` with the password of its ``user:password@`` part replaced by ``***``."""
    return _PASSWORD.sub(lambda m: f"{m['head']}:***@", url, count=1)


def listing(names: Sequence[str], limit: int = 10) -> str:
    """``'a', 'b', 'c'`` with ``and N more`` past ``limit``; ``(none)`` if empty."""
    if not names:
        return "(none)"
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


class ZenMLWidgetsError(Exception):
    """Base class of every error raised on purpose by zenml_widgets."""


class NotFoundError(ZenMLWidgetsError, KeyError):
    """A name (pipeline, run, step, output, stack) that does not exist.

    Subclasses ``KeyError`` so ``except KeyError`` keeps working, but prints its
    message plainly instead of ``KeyError``'s quoted repr.
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class RepositoryNotFoundError(ZenMLWidgetsError):
    """No ``.zen/`` folder was found from the given path upwards."""


class StoreError(ZenMLWidgetsError):
    """The metadata store could not be opened, read or written.

    ``original`` holds the driver's exception when it is not chained as the cause (errors of
    the environment, such as an unreachable server, whose message already says everything).
    ``where`` names the store (its URL, password hidden) when it is a server.
    """

    where: str | None = None

    original: BaseException | None = None
    #: Whether the store could not be reached at all (server down, network gone): the same
    #: action may work later; the store reconnects on its own.
    unreachable: bool = False


class SchemaVersionError(StoreError):
    """The metadata store was written by a newer zenml_widgets than this one."""


class ArtifactStoreError(ZenMLWidgetsError):
    """The artifact store refused an operation (e.g. a URI outside the store)."""


class ArtifactReadError(ZenMLWidgetsError):
    """An artifact could not be read: missing, corrupt, or the wrong materializer."""


class MaterializerNotFoundError(ZenMLWidgetsError, TypeError):
    """No materializer is registered for a type."""


class PipelineDefinitionError(ZenMLWidgetsError, ValueError):
    """A step or pipeline was defined or wired incorrectly."""


class RunNameClashError(ZenMLWidgetsError, ValueError):
    """A run with this name already exists in the pipeline."""


class StepFailedError(ZenMLWidgetsError, RuntimeError):
    """A step raised; the run is marked failed and earlier outputs stay readable."""

    def __init__(self, message: str, *, step_name: str, run_name: str) -> None:
        super().__init__(message)
        self.step_name = step_name
        self.run_name = run_name

    def __reduce__(self) -> tuple[object, ...]:
        # picklable (keyword-only fields), so the error crosses process boundaries (Dask)
        return (_step_failed, (str(self), self.step_name, self.run_name))


def _step_failed(message: str, step_name: str, run_name: str) -> StepFailedError:
    return StepFailedError(message, step_name=step_name, run_name=run_name)


class AttemptRefusedError(ZenMLWidgetsError):
    """The metadata store refused a write of a step attempt: the attempt is no longer the
    step's current one, or the step or its run has ended. Nothing of it was recorded."""


class OrchestratorError(ZenMLWidgetsError):
    """The orchestrator could not run the pipeline (unreachable cluster, unusable setup)."""


class OrchestratorOptionError(ZenMLWidgetsError, ValueError):
    """A stack's orchestrator option has a value the orchestrator does not take, or options
    that exclude each other are given together. ``zenml-widgets`` exits with status 2."""


class MetricLoggingError(ZenMLWidgetsError, RuntimeError):
    """Metrics cannot be logged here: outside a running step, after the step ended, or the
    metadata store refused a batch of them (the step then fails with this error)."""
