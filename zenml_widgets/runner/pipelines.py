"""``@pipeline``: a function that wires step instances; ``.run()`` runs and records it."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, overload

from zenml_widgets.exceptions import PipelineDefinitionError
from zenml_widgets.runner.steps import BaseStep, StepNode, _composing, _Composition


class BasePipeline:
    """A pipeline instance: its step instances by keyword, ready to ``run()``."""

    FUNCTION: ClassVar[Callable[..., Any]]
    NAME: ClassVar[str]
    ENABLE_CACHE: ClassVar[bool] = True

    def __init__(self, *args: BaseStep, **steps: BaseStep) -> None:
        signature = inspect.signature(self.FUNCTION)
        try:
            bound = signature.bind(*args, **steps)
        except TypeError as e:
            raise PipelineDefinitionError(
                f"Pipeline {self.NAME!r} takes the steps {', '.join(signature.parameters)}: {e}"
            ) from None
        arguments: dict[str, Any] = {}
        for key, value in bound.arguments.items():
            if signature.parameters[key].kind is inspect.Parameter.VAR_KEYWORD:
                arguments.update(value)  # def my_pipeline(**steps)
            else:
                arguments[key] = value
        for key, value in arguments.items():
            if isinstance(value, type) and issubclass(value, BaseStep):
                raise PipelineDefinitionError(
                    f"Pipeline {self.NAME!r}: {key!r} got the step class {value.__name__}; "
                    f"pass an instance: {key}={value.__name__}()."
                )
            if not isinstance(value, BaseStep):
                raise PipelineDefinitionError(
                    f"Pipeline {self.NAME!r}: {key!r} must be a step instance, "
                    f"got {type(value).__name__}."
                )
        self.steps: dict[str, BaseStep] = arguments
        seen: dict[int, str] = {}
        for key, instance in self.steps.items():
            if id(instance) in seen:
                raise PipelineDefinitionError(
                    f"Pipeline {self.NAME!r}: the same step instance is passed as "
                    f"{seen[id(instance)]!r} and {key!r}; create one instance per use."
                )
            seen[id(instance)] = key
        self.enable_cache = self.ENABLE_CACHE

    def __repr__(self) -> str:
        return f"<pipeline {self.NAME!r} steps={list(self.steps)}>"

    def compose(self) -> list[StepNode]:
        """Call the pipeline function to learn the graph; nodes in a valid execution order."""
        composition = _Composition({id(s): k for k, s in self.steps.items()})
        token = _composing.set(composition)
        try:
            self.FUNCTION(**self.steps)
        finally:
            _composing.reset(token)
        called = {n.name for n in composition.nodes}
        unused = [k for k in self.steps if k not in called]
        if unused:
            raise PipelineDefinitionError(
                f"Pipeline {self.NAME!r}: step {unused[0]!r} is passed in but never called in "
                "the pipeline function."
            )
        for node in composition.nodes:
            wired = set(node.inputs)
            node.step.resolved_parameters(wired)  # missing arguments fail before anything runs
        return composition.nodes

    def run(
        self,
        run_name: str | None = None,
        *,
        repository: str | Path | Any = None,
        stack_key: str | None = None,
        stream_logs: bool = True,
        progress: bool | None = None,
    ) -> Any:
        """Run the steps on the stack's orchestrator (in this process for ``local``) and record
        the run.

        Args:
            run_name: unique per pipeline; default ``{pipeline}-{timestamp}``. A clash is refused
                before anything runs.
            repository: the repository (a ``Repository``, or a folder in one); default: found
                from the current folder, created there (and said so) if there is none.
            stack_key: the stack to run on; default: the repository's active stack.
            stream_logs: print each step's lines on this console as they come, prefixed with
                the step's name (``[trainer] epoch 3``), from this process or from Dask
                workers. They are kept in the artifact store either way (``step.logs``).
            progress: show a ``tqdm.auto`` bar over the run's steps; default: in a notebook.

        Returns:
            The finished run's ``PipelineRunView``.

        Raises:
            StepFailedError: a step raised; the run is recorded ``failed`` and every output
                written before stays readable.
        """
        from zenml_widgets.runner.execution import run_pipeline

        return run_pipeline(
            self,
            run_name=run_name,
            repository=repository,
            stack_key=stack_key,
            stream_logs=stream_logs,
            progress=progress,
        )


@overload
def pipeline(func: Callable[..., Any], /) -> type[BasePipeline]: ...
@overload
def pipeline(
    *, name: str | None = None, enable_cache: bool = True
) -> Callable[[Callable[..., Any]], type[BasePipeline]]: ...


def pipeline(
    func: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    enable_cache: bool = True,
) -> type[BasePipeline] | Callable[[Callable[..., Any]], type[BasePipeline]]:
    """Make a pipeline class from a function whose arguments are its steps."""

    def make(f: Callable[..., Any]) -> type[BasePipeline]:
        attrs = {
            "FUNCTION": staticmethod(f),
            "NAME": name or f.__name__,
            "ENABLE_CACHE": enable_cache,
            "__doc__": f.__doc__,
            "__module__": f.__module__,
            "__qualname__": f.__qualname__,
        }
        return type(f.__name__, (BasePipeline,), attrs)

    return make(func) if func is not None else make
