"""``@step``: turn a function into a step class; its instances are wired into pipelines."""

from __future__ import annotations

import ast
import functools
import hashlib
import inspect
import json
import typing
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, ClassVar, overload

from zenml_widgets.exceptions import PipelineDefinitionError
from zenml_widgets.runner.output import SINGLE_OUTPUT, Output


@dataclass(frozen=True)
class OutputRef:
    """A placeholder for an output of a step call, used to wire inputs inside a pipeline."""

    node: StepNode
    name: str

    def __repr__(self) -> str:
        return f"<output {self.name!r} of step {self.node.name!r}>"

    def __iter__(self) -> typing.Iterator[Any]:
        raise PipelineDefinitionError(
            f"Step {self.node.name!r} has a single output; it cannot be unpacked."
        )


@dataclass
class StepNode:
    """One call of a step inside a pipeline function: a node of the run's graph."""

    name: str
    step: BaseStep
    inputs: dict[str, OutputRef] = field(default_factory=dict)
    position: int = 0


class _Composition:
    """Collects step calls while a pipeline function runs."""

    def __init__(self, names: dict[int, str]) -> None:
        self.names = names  # id(step instance) -> keyword it was given under
        self.nodes: list[StepNode] = []


_composing: ContextVar[_Composition | None] = ContextVar("zenml_widgets_composing", default=None)


class BaseStep:
    """A step instance: a step function with its parameters, ready to be wired into a pipeline.

    Classes made by ``@step`` fill in the class attributes. Instantiating with keyword
    arguments sets the step's parameters; calling the instance inside a pipeline function with
    outputs of other steps wires its inputs and returns its output placeholders.
    """

    ENTRYPOINT: ClassVar[Callable[..., Any]]
    ENTRYPOINT_NAME: ClassVar[str]
    ENABLE_CACHE: ClassVar[bool] = True
    #: Attempts after the first when the step function raises or times out.
    RETRIES: ClassVar[int] = 0
    #: Seconds between attempts.
    RETRY_DELAY: ClassVar[float] = 0.0
    #: Seconds an attempt's step function may run (``None``: no limit).
    TIMEOUT: ClassVar[float | None] = None
    _zw_code_hash: ClassVar[str | None] = None

    def __init__(self, **parameters: Any) -> None:
        signature = self.signature()
        unknown = [k for k in parameters if k not in signature.parameters]
        if unknown:
            raise PipelineDefinitionError(
                f"Step {self.ENTRYPOINT_NAME!r} has no parameter {unknown[0]!r}; its "
                f"parameters are: {', '.join(signature.parameters) or '(none)'}."
            )
        for key, value in parameters.items():
            self._check_recordable(key, value)
        self.given_parameters: dict[str, Any] = dict(parameters)
        self.enable_cache = self.ENABLE_CACHE

    def __repr__(self) -> str:
        return f"<step {self.ENTRYPOINT_NAME!r} parameters={self.given_parameters!r}>"

    def _check_recordable(self, key: str, value: Any) -> None:
        """Parameters are recorded as JSON: refuse what JSON would not give back the same.

        Tuples are recorded as lists; dict keys must be strings (JSON would turn ``{1: "a"}``
        into ``{"1": "a"}`` silently).
        """
        problem = _json_problem(value)
        if problem is None:
            try:
                json.dumps(value, allow_nan=True)
            except (TypeError, ValueError) as e:
                problem = f"{type(value).__name__}: {e}"
        if problem is not None:
            raise PipelineDefinitionError(
                f"Parameter {key!r} of step {self.ENTRYPOINT_NAME!r} must be JSON-serializable "
                f"(it is recorded in history); {problem}. Pass data between steps as inputs "
                "instead."
            )

    @classmethod
    def signature(cls) -> inspect.Signature:
        """The step function's signature."""
        return inspect.signature(cls.ENTRYPOINT)

    @classmethod
    def type_hints(cls) -> dict[str, Any]:
        """The step function's annotations, evaluated one by one; an annotation that cannot
        be resolved stays as written (see ``unresolved_annotations``)."""
        try:
            return typing.get_type_hints(cls.ENTRYPOINT)
        except Exception:  # some forward reference does not resolve: resolve the others
            return {k: v for k, (v, _error) in cls._annotations().items()}

    @classmethod
    def _annotations(cls) -> dict[str, tuple[Any, Exception | None]]:
        func = inspect.unwrap(cls.ENTRYPOINT)
        namespace = getattr(func, "__globals__", {})
        found: dict[str, tuple[Any, Exception | None]] = {}
        for name, annotation in getattr(cls.ENTRYPOINT, "__annotations__", {}).items():
            holder = SimpleNamespace(__annotations__={name: annotation})
            try:
                found[name] = (typing.get_type_hints(holder, globalns=namespace)[name], None)
            except Exception as e:
                found[name] = (annotation, e)
        return found

    @classmethod
    def output_spec(cls) -> list[tuple[str, Any]]:
        """``(name, type)`` of each output; ``type`` is ``None`` where not annotated."""
        hints = cls.type_hints()
        if "return" not in hints:
            return [(SINGLE_OUTPUT, None)]
        annotation = hints["return"]
        if isinstance(annotation, str) and _is_call(annotation):
            # `Output(a=..., b=...)` that did not evaluate: its outputs are unknown. (A plain
            # type name that does not resolve, e.g. one imported lazily, is still one output.)
            _annotation, error = cls._annotations()["return"]
            raise PipelineDefinitionError(
                f"Step {cls.ENTRYPOINT_NAME!r}: its return annotation {annotation!r} cannot be "
                f"resolved ({type(error).__name__}: {error}), so its outputs are unknown. Import "
                "every name the annotation uses at the top of the step's module (annotations "
                "are evaluated there), or annotate with the types themselves."
            )
        if isinstance(annotation, Output):
            return annotation.items()
        if annotation is None or annotation is type(None):
            return []
        return [(SINGLE_OUTPUT, annotation)]

    @classmethod
    def code_hash(cls) -> str:
        """Hash of the step function's source (its bytecode where no source is available).

        Computed once per step class: a class sent to Dask workers by value can come back
        into this process with a rebuilt function whose source is no longer found.
        """
        known: str | None = cls.__dict__.get("_zw_code_hash")
        if known is None:
            known = cls._hash_code()
            cls._zw_code_hash = known
        return known

    @classmethod
    def _hash_code(cls) -> str:
        func = inspect.unwrap(cls.ENTRYPOINT)
        try:
            source = inspect.getsource(func).encode("utf-8")
        except (OSError, TypeError):
            code = func.__code__
            source = code.co_code + repr(code.co_consts).encode("utf-8")
        return hashlib.sha256(source).hexdigest()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        composition = _composing.get()
        if composition is None:
            raise PipelineDefinitionError(
                f"Step {self.ENTRYPOINT_NAME!r} can only be called inside a @pipeline function. "
                f"To run the function directly use {type(self).__name__}.ENTRYPOINT(...)."
            )
        name = composition.names.get(id(self))
        if name is None:
            raise PipelineDefinitionError(
                f"Step {self.ENTRYPOINT_NAME!r} was called inside the pipeline but not passed to "
                "it; pass every step instance as a keyword argument of the pipeline."
            )
        if any(node.step is self for node in composition.nodes):
            raise PipelineDefinitionError(f"Step {name!r} is called twice in the pipeline.")
        try:
            bound = self.signature().bind_partial(*args, **kwargs)
        except TypeError as e:
            raise PipelineDefinitionError(f"Step {name!r}: {e}") from None
        inputs: dict[str, OutputRef] = {}
        for key, value in bound.arguments.items():
            if not isinstance(value, OutputRef):
                raise PipelineDefinitionError(
                    f"Input {key!r} of step {name!r} must be an output of another step; "
                    f"got {type(value).__name__}. Set plain values as parameters when creating "
                    f"the step: {self.ENTRYPOINT_NAME}({key}=...)."
                )
            if key in self.given_parameters:
                raise PipelineDefinitionError(
                    f"{key!r} of step {name!r} is given both as a parameter and as an input."
                )
            inputs[key] = value
        node = StepNode(name, self, inputs, position=len(composition.nodes))
        composition.nodes.append(node)
        outputs = [OutputRef(node, out) for out, _ in self.output_spec()]
        if not outputs:
            return None
        if len(outputs) == 1 and self.output_spec()[0][0] == SINGLE_OUTPUT:
            return outputs[0]
        return tuple(outputs)

    def resolved_parameters(self, wired: set[str]) -> dict[str, Any]:
        """Parameters given plus defaults of every unwired argument; error for missing ones."""
        params: dict[str, Any] = {}
        for pname, p in self.signature().parameters.items():
            if pname in wired:
                continue
            if pname in self.given_parameters:
                params[pname] = self.given_parameters[pname]
            elif p.default is not inspect.Parameter.empty:
                self._check_recordable(pname, p.default)
                params[pname] = p.default
            elif p.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
                continue
            else:
                raise PipelineDefinitionError(
                    f"Step {self.ENTRYPOINT_NAME!r}: argument {pname!r} is neither wired to "
                    f"another step's output nor given as a parameter "
                    f"({self.ENTRYPOINT_NAME}({pname}=...))."
                )
        return params


def _is_call(annotation: str) -> bool:
    """Whether an annotation written as a string is a call, such as ``Output(a=int)``."""
    try:
        tree = ast.parse(annotation, mode="eval")
    except SyntaxError:
        return False
    return isinstance(tree.body, ast.Call)


def _json_problem(value: Any) -> str | None:
    """Why ``value`` would not survive a JSON round trip as the same data, or ``None``."""
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                return f"dict keys must be strings, got {type(k).__name__} key {k!r}"
            problem = _json_problem(v)
            if problem is not None:
                return problem
    elif isinstance(value, list | tuple):
        for v in value:
            problem = _json_problem(v)
            if problem is not None:
                return problem
    return None


@overload
def step(func: Callable[..., Any], /) -> type[BaseStep]: ...
@overload
def step(
    *,
    name: str | None = None,
    enable_cache: bool = True,
    retries: int = 0,
    retry_delay: float = 0.0,
    timeout: float | None = None,
) -> Callable[[Callable[..., Any]], type[BaseStep]]: ...


def step(
    func: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    enable_cache: bool = True,
    retries: int = 0,
    retry_delay: float = 0.0,
    timeout: float | None = None,
) -> type[BaseStep] | Callable[[Callable[..., Any]], type[BaseStep]]:
    """Make a step class from a function: ``@step`` or ``@step(name=..., enable_cache=...)``.

    Args:
        name: the step's ``entrypoint_name`` (default: the function's name).
        enable_cache: whether a run may reuse the outputs of an earlier identical step.
        retries: attempts after the first when the step function raises an ``Exception`` or
            runs past ``timeout`` (not for ``SystemExit``, ``KeyboardInterrupt`` and other
            ``BaseException``s, which fail the step at once).
        retry_delay: seconds to wait before each retry.
        timeout: seconds an attempt's step function may run; past it the attempt fails with
            an error naming the limit (``None``: no limit).
    """
    _check_options(retries, retry_delay, timeout)

    def make(f: Callable[..., Any]) -> type[BaseStep]:
        attrs = {
            "ENTRYPOINT": staticmethod(f),
            "ENTRYPOINT_NAME": name or f.__name__,
            "ENABLE_CACHE": enable_cache,
            "RETRIES": retries,
            "RETRY_DELAY": float(retry_delay),
            "TIMEOUT": None if timeout is None else float(timeout),
            "__doc__": f.__doc__,
            "__module__": f.__module__,
            "__qualname__": f.__qualname__,
        }
        cls = type(f.__name__, (BaseStep,), attrs)
        functools.update_wrapper(cls, f, assigned=("__module__", "__doc__"), updated=())
        return cls

    return make(func) if func is not None else make


def _check_options(retries: Any, retry_delay: Any, timeout: Any) -> None:
    """Refuse step options that cannot be honoured, naming the option and what it takes."""

    def number(value: Any) -> bool:
        return isinstance(value, int | float) and not isinstance(value, bool)

    if not isinstance(retries, int) or isinstance(retries, bool) or retries < 0:
        raise PipelineDefinitionError(
            f"@step(retries={retries!r}): retries takes a whole number >= 0 (attempts after the "
            "first)."
        )
    if not number(retry_delay) or not 0 <= retry_delay < float("inf"):
        raise PipelineDefinitionError(
            f"@step(retry_delay={retry_delay!r}): retry_delay takes a number of seconds >= 0."
        )
    if timeout is not None and (not number(timeout) or not 0 < timeout < float("inf")):
        raise PipelineDefinitionError(
            f"@step(timeout={timeout!r}): timeout takes a number of seconds > 0, or None for "
            "no limit."
        )
