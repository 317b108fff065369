"""``Repository``: where a user starts: stacks, and the pipelines in them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zenml_widgets import rendering
from zenml_widgets.config import RepositoryConfig, StackConfig, find_repository_root
from zenml_widgets.exceptions import NotFoundError, ZenMLWidgetsError
from zenml_widgets.stack import Stack
from zenml_widgets.views import PipelineView
from zenml_widgets.views._common import did_you_mean, listing

if TYPE_CHECKING:
    import pandas as pd

    from zenml_widgets.views.runs_table import RunQuery, RunsTable


class Repository:
    """A zenml_widgets repository: a folder holding ``.zen/`` with named stacks.

    Args:
        path: a folder inside the repository; default: the current folder (or
            ``$ZENML_WIDGETS_REPOSITORY``). The repository is found by walking up to ``.zen/``.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.root = find_repository_root(path)
        self._config = RepositoryConfig.load(self.root)
        self._stacks = {key: Stack(c, self._config) for key, c in self._config.stacks.items()}

    @classmethod
    def init(cls, path: str | Path | None = None) -> Repository:
        """Create a repository with the default stack at ``path`` (default: cwd)."""
        RepositoryConfig.create(path if path is not None else Path.cwd())
        repo = cls(path if path is not None else Path.cwd())
        repo.active_stack.create_metadata_store()
        return repo

    def __repr__(self) -> str:
        return f"Repository({str(self.root)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Repository) and other.root == self.root

    def __hash__(self) -> int:
        return hash(("repository", self.root))

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return rendering.mimebundle(self, "repository", include, exclude)

    # -- stacks --------------------------------------------------------------------------------

    @property
    def stacks(self) -> dict[str, Stack]:
        """Stacks by key (name)."""
        return dict(self._stacks)

    @property
    def active_stack_key(self) -> str:
        """The key of the stack pipelines run on."""
        return self._config.active

    @property
    def active_stack(self) -> Stack:
        """The stack pipelines run on."""
        return self._stacks[self._config.active]

    def get_stack(self, stack_key: str) -> Stack:
        """The stack called ``stack_key``; ``NotFoundError`` listing the stacks otherwise."""
        if stack_key not in self._stacks:
            self._config.stack(stack_key)  # raises NotFoundError listing the stacks
        return self._stacks[stack_key]

    def register_stack(
        self,
        key: str,
        metadata_store_url: str,
        artifact_store: str,
        *,
        activate: bool = False,
        artifact_store_options: dict[str, Any] | None = None,
        orchestrator: str = "local",
        orchestrator_options: dict[str, Any] | None = None,
        metadata_store_options: dict[str, Any] | None = None,
        log_options: dict[str, Any] | None = None,
        validate: bool = True,
    ) -> Stack:
        """Add a stack (and make it active if ``activate``).

        ``artifact_store`` is a folder or an object-storage URL (``s3://bucket/prefix``);
        ``artifact_store_options`` are non-secret settings for it (``endpoint_url``...).
        ``metadata_store_options``: ``statement_timeout`` (seconds a statement may run on a
        PostgreSQL store before it is cancelled; default 30). ``log_options``: what step logs
        keep, ``capture`` (default ``True``), ``level`` (of logging records; default
        ``"INFO"``) and ``max_bytes`` (per step attempt; default 10 MB).
        ``orchestrator`` runs the stack's pipelines: a name of the orchestrator table,
        ``zenml_widgets.orchestration`` (built in: ``"local"``, the default, and ``"dask"``; more
        from installed distributions), which also says which ``orchestrator_options`` each one
        takes (``zenml-widgets stack register --help`` lists them). The options are checked
        here: an unknown option or a value it does not take (``OrchestratorOptionError``,
        naming the stack and the option) refuses the stack with nothing saved.

        With ``validate`` (the default) both stores are opened first, and a stack whose store
        cannot be opened is refused with nothing saved; ``validate=False`` registers a stack
        whose server is not reachable from here now.
        """
        if not key or key != key.strip():
            raise ZenMLWidgetsError(f"Invalid stack name {key!r}.")
        if key in self._stacks:
            raise ZenMLWidgetsError(f"Stack {key!r} exists already; delete it first.")
        config = StackConfig(
            name=key,
            metadata_store_url=metadata_store_url,
            artifact_store=artifact_store,
            artifact_store_options=dict(artifact_store_options or {}),
            orchestrator=orchestrator,
            orchestrator_options=dict(orchestrator_options or {}),
            metadata_store_options=dict(metadata_store_options or {}),
            log_options=dict(log_options or {}),
        ).checked()
        if validate:
            self._open_stores(config)

        def add(current: RepositoryConfig) -> None:
            if key in current.stacks:
                raise ZenMLWidgetsError(f"Stack {key!r} exists already; delete it first.")
            current.stacks[key] = config
            if activate:
                current.active = key

        self._config.update(add)
        self._reload_stacks()
        return self._stacks[key]

    def _open_stores(self, config: StackConfig) -> None:
        """Open both stores of a stack about to be saved: a wrong URL, an unreachable server or
        a missing driver (s3fs, psycopg) fails here and leaves the config as it was."""
        stack = Stack(config, self._config)
        stack.artifact_store  # noqa: B018
        if stack.metadata_url.startswith("sqlite"):
            stack.create_metadata_store()  # a new embedded store starts empty, not missing
        else:
            stack.metadata_store  # noqa: B018

    def set_active_stack(self, stack_key: str) -> None:
        """Make ``stack_key`` the stack pipelines run on."""
        self.get_stack(stack_key)

        def activate(current: RepositoryConfig) -> None:
            current.stack(stack_key)
            current.active = stack_key

        self._config.update(activate)
        self._reload_stacks()

    def delete_stack(self, stack_key: str) -> None:
        """Forget a stack (its databases and files are left alone)."""
        self.get_stack(stack_key)

        def delete(current: RepositoryConfig) -> None:
            current.stack(stack_key)
            if stack_key == current.active:
                raise ZenMLWidgetsError(
                    f"Stack {stack_key!r} is active; activate another one before deleting it."
                )
            del current.stacks[stack_key]

        self._config.update(delete)
        self._reload_stacks()

    def _reload_stacks(self) -> None:
        """Stacks as saved (other processes' changes included); opened ones are kept."""
        stacks = {}
        for key, config in self._config.stacks.items():
            known = self._stacks.get(key)
            stacks[key] = known if known is not None and known.config == config else None
        self._stacks = {
            key: known or Stack(self._config.stacks[key], self._config)
            for key, known in stacks.items()
        }

    def _stack_keys(self, stack_key: str | None) -> list[str]:
        if stack_key is not None:
            self.get_stack(stack_key)
            return [stack_key]
        others = sorted(k for k in self._stacks if k != self._config.active)
        return [self._config.active, *others]

    # -- pipelines -----------------------------------------------------------------------------

    def get_pipelines(
        self, stack_key: str | None = None, *, stack_name: str | None = None
    ) -> list[PipelineView]:
        """Pipelines of one stack, or of all stacks (the active stack's first, then the other
        stacks by name; inside a stack by pipeline name)."""
        pipelines: list[PipelineView] = []
        for key in self._stack_keys(stack_key if stack_key is not None else stack_name):
            stack = self._stacks[key]
            pipelines += [PipelineView(stack, r) for r in stack.metadata_store.list_pipelines()]
        return pipelines

    def pipeline_overview(self, stack_key: str | None = None) -> list[PipelineView]:
        """The pipelines as :meth:`get_pipelines` lists them, each with its ``run_count`` read
        along (one query per stack)."""
        pipelines: list[PipelineView] = []
        for key in self._stack_keys(stack_key):
            stack = self._stacks[key]
            pipelines += [
                PipelineView(stack, record, run_count=count)
                for record, count in stack.metadata_store.list_pipeline_run_counts()
            ]
        return pipelines

    def get_pipeline_names(self, stack_key: str | None = None) -> list[str]:
        """Distinct pipeline names, in ``get_pipelines`` order."""
        return list(dict.fromkeys(p.name for p in self.get_pipelines(stack_key)))

    def get_pipeline(
        self,
        pipeline_name: str | None = None,
        stack_key: str | None = None,
        *,
        stack_name: str | None = None,
    ) -> PipelineView:
        """The pipeline called ``pipeline_name``.

        With no ``stack_key``: the active stack's pipeline of that name, else the one stack that
        has it. Unknown names raise ``NotFoundError`` (a ``KeyError``) listing what exists.
        """
        if pipeline_name is None:
            raise TypeError("get_pipeline() needs a pipeline name")
        key = stack_key if stack_key is not None else stack_name
        if key is not None:
            stack = self.get_stack(key)
            record = stack.metadata_store.get_pipeline(pipeline_name)
            if record is not None:
                return PipelineView(stack, record)
            names = [r.name for r in stack.metadata_store.list_pipelines()]
            raise NotFoundError(
                f"No pipeline {pipeline_name!r} in stack {key!r}. Its pipelines are: "
                f"{listing(names)}.{did_you_mean(pipeline_name, names)}"
            )
        found: list[PipelineView] = []
        for k in self._stack_keys(None):
            stack = self._stacks[k]
            record = stack.metadata_store.get_pipeline(pipeline_name)
            if record is not None:
                if k == self._config.active:
                    return PipelineView(stack, record)
                found.append(PipelineView(stack, record))
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise ZenMLWidgetsError(
                f"Pipeline {pipeline_name!r} exists in stacks "
                f"{listing([p.stack_key for p in found])} but not in the active stack "
                f"{self._config.active!r}; pass stack_key=... to choose one."
            )
        names = self.get_pipeline_names()
        raise NotFoundError(
            f"No pipeline {pipeline_name!r} in any stack of repository {str(self.root)!r}. "
            f"Its pipelines are: {listing(names)}.{did_you_mean(pipeline_name, names)}"
        )

    # -- runs as data --------------------------------------------------------------------------

    def runs_table(
        self,
        query: RunQuery | Sequence[str] | None = None,
        where: Any = None,
        *,
        pipelines: Sequence[str] | None = None,
        stack_key: str | None = None,
        count: bool | int = False,
        **options: Any,
    ) -> RunsTable:
        """Runs of every pipeline of a stack (default: the active one) as a ``RunsTable``.

        ``pipelines`` keeps only these pipeline names; the query is as for
        ``pipeline.runs.to_dataframe`` (a ``RunQuery``, or its fields as keywords). The
        ``pipeline`` column names each run's pipeline.
        """
        from zenml_widgets.views.runs_table import RunQuery, run_table

        key = stack_key if stack_key is not None else self._config.active
        stack = self.get_stack(key)
        ids: list[int] | None = None
        if pipelines is not None:
            if isinstance(pipelines, str):
                pipelines = [pipelines]
            records = {r.name: r.id for r in stack.metadata_store.list_pipelines()}
            for name in pipelines:
                if name not in records:
                    raise NotFoundError(
                        f"No pipeline {name!r} in stack {key!r}. Its pipelines are: "
                        f"{listing(sorted(records))}.{did_you_mean(name, records)}"
                    )
            ids = [records[n] for n in pipelines]
        query = RunQuery.of(query, where, **options)
        return run_table(stack, ids, query, title=f"stack {key!r}", multi=True, count=count)

    def runs_dataframe(
        self,
        query: RunQuery | Sequence[str] | None = None,
        where: Any = None,
        *,
        pipelines: Sequence[str] | None = None,
        stack_key: str | None = None,
        **options: Any,
    ) -> pd.DataFrame:
        """Runs across pipelines as a DataFrame, filtered, sorted and limited in SQL.

        Like ``pipeline.runs.to_dataframe(...)`` with a leading ``pipeline`` column; see
        :meth:`runs_table` for the options.
        """
        return self.runs_table(
            query, where, pipelines=pipelines, stack_key=stack_key, **options
        ).to_dataframe()
