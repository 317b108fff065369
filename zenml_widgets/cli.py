"""``zenml-widgets``: create a repository, manage stacks, list history."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from zenml_widgets.exceptions import OrchestratorOptionError, ZenMLWidgetsError

if TYPE_CHECKING:
    from zenml_widgets.stack import Stack


def _init(args: argparse.Namespace) -> int:
    from zenml_widgets.repository import Repository

    repo = Repository.init(Path(args.path))
    stack = repo.active_stack
    print(f"Created a repository in {repo.root}")
    from zenml_widgets.config import hide_password

    print(
        f"  stack {stack.key!r}: metadata {hide_password(stack.metadata_url)}, "
        f"artifacts {stack.artifact_root}"
    )
    return 0


def _stack_register(args: argparse.Namespace) -> int:
    from zenml_widgets.config import parse_option
    from zenml_widgets.repository import Repository

    repo = Repository(args.repository)
    options = dict(parse_option(o) for o in args.artifact_store_option)
    stack = repo.register_stack(
        args.name,
        args.metadata_url,
        args.artifact_store,
        activate=args.activate,
        artifact_store_options=options,
        orchestrator=args.orchestrator,
        orchestrator_options=dict(parse_option(o) for o in args.orchestrator_option),
        metadata_store_options=dict(parse_option(o) for o in args.metadata_store_option),
        log_options=dict(parse_option(o) for o in args.log_option),
    )
    print(f"Registered stack {stack.key!r}" + (" (active)" if args.activate else ""))
    return 0


def _stack_list(args: argparse.Namespace) -> int:
    from zenml_widgets.config import RepositoryConfig, find_repository_root, hide_password

    config = RepositoryConfig.load(find_repository_root(args.repository))
    for name, stack in sorted(config.stacks.items()):
        mark = "*" if name == config.active else " "
        options = "".join(f" {k}={v}" for k, v in sorted(stack.artifact_store_options.items()))
        orchestrator = stack.orchestrator + "".join(
            f" {k}={v}" for k, v in sorted(stack.orchestrator_options.items())
        )
        try:
            stack.checked()
            problem = ""
        except ZenMLWidgetsError as e:  # listed all the same: the other stacks stay usable
            problem = f" [cannot run pipelines: {e}]"
        print(
            f"{mark} {name}: metadata {hide_password(stack.metadata_store_url)}, "
            f"artifacts {hide_password(stack.artifact_store)}"
            + (f" ({options.strip()})" if options else "")
            + f", orchestrator {orchestrator}{problem}"
        )
    return 0


def _stack_set(args: argparse.Namespace) -> int:
    from zenml_widgets.repository import Repository

    Repository(args.repository).set_active_stack(args.name)
    print(f"Active stack: {args.name!r}")
    return 0


def _stack_delete(args: argparse.Namespace) -> int:
    from zenml_widgets.repository import Repository

    Repository(args.repository).delete_stack(args.name)
    print(f"Deleted stack {args.name!r} (its database and files are left in place)")
    return 0


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


def _runs(args: argparse.Namespace) -> int:
    from zenml_widgets.repository import Repository

    repo = Repository(args.repository)
    pipelines = (
        [repo.get_pipeline(args.pipeline, stack_key=args.stack)]
        if args.pipeline
        else repo.get_pipelines(args.stack)
    )
    if not pipelines:
        where = f"stack {args.stack!r}" if args.stack else "any stack"
        print(
            f"No pipelines in {where} of the repository {repo.root} yet: a pipeline appears "
            "here once it has run (see the README's Quickstart)."
        )
        return 0
    for p in pipelines:
        print(f"{p.name} (stack {p.stack_key}): {_plural(len(p.runs), 'run')}")
        for run in p.runs.newest(args.limit):
            end = f"{run.duration.total_seconds():.2f} s" if run.duration else "-"
            print(f"  {run.name}  {run.status}  {run.start_time:%Y-%m-%d %H:%M:%S}  {end}")
    return 0


def _logs(args: argparse.Namespace) -> int:
    from zenml_widgets.artifacts.step_logs import as_text, line_text
    from zenml_widgets.repository import Repository

    pipeline = Repository(args.repository).get_pipeline(args.pipeline, stack_key=args.stack)
    if args.run == "latest":
        newest = pipeline.runs.newest(1)
        if not newest:
            raise ZenMLWidgetsError(f"Pipeline {pipeline.name!r} has no runs yet.")
        run = newest[0]
    else:
        run = pipeline.get_run(args.run)
    step = run.get_step(args.step)
    if args.attempt is not None:
        numbers = [a.number for a in step.attempts]
        if args.attempt not in numbers:
            raise ZenMLWidgetsError(
                f"Step {step.name!r} of run {run.name!r} has no attempt {args.attempt}; its "
                f"attempts are: {', '.join(map(str, numbers)) or 'none (it never started)'}."
            )
    if not args.follow:
        text = as_text(step.log_lines(args.attempt))
        lines = text.splitlines(keepends=True)
        sys.stdout.write("".join(lines[-args.tail :] if args.tail is not None else lines))
        return 0
    skip = 0
    if args.tail is not None:  # the last lines there are, then what comes
        now = step.log_lines(args.attempt)
        skip = len(now)
        sys.stdout.writelines(line_text(x) + "\n" for x in now[max(0, skip - args.tail) :])
    for i, line in enumerate(step.follow_logs(args.attempt)):
        if i >= skip:
            sys.stdout.write(line_text(line) + "\n")
            sys.stdout.flush()
    return 0


def _gc(args: argparse.Namespace) -> int:
    from datetime import timedelta

    from zenml_widgets.runner.cleanup import end_interrupted_runs, remove_unrecorded_outputs

    older = timedelta(hours=args.older_than_hours)
    for key, stack in _stacks(args):
        ended = end_interrupted_runs(stack)
        print(f"stack {key!r}: recorded the end of {len(ended)} interrupted run(s)")
        removed = stack.artifact_store.clean_temporary(older)
        _removed(key, removed, "abandoned temporary write folder(s)")
        orphans = remove_unrecorded_outputs(stack, older)
        _removed(key, orphans, "output folder(s) that no step records")
    return 0


def _stacks(args: argparse.Namespace) -> Iterator[tuple[str, Stack]]:
    """The stack named by ``--stack``, else every stack of the repository, by key."""
    from zenml_widgets.repository import Repository

    repo = Repository(args.repository)
    for key in [args.stack] if args.stack else sorted(repo.stacks):
        yield key, repo.get_stack(key)


def _removed(key: str, uris: Sequence[str], what: str) -> None:
    print(f"stack {key!r}: removed {len(uris)} {what}")
    for uri in uris:
        print(f"  {uri}")


def _backfill_values(args: argparse.Namespace) -> int:
    from zenml_widgets.views.backfill import backfill_values

    for key, stack in _stacks(args):
        report = backfill_values(stack, progress=not args.quiet)
        print(
            f"stack {key!r}: recorded run values of {report.steps} step(s), "
            f"{report.outputs_read} output(s) read"
        )
        for problem in report.unreadable:
            print(f"  could not read {problem}")
    return 0


class _OrchestratorNames:
    """The orchestrators' names as ``--orchestrator``'s choices, read from the orchestrator
    table only when needed: a built-in name is checked without reading entry points."""

    def __contains__(self, name: object) -> bool:
        from zenml_widgets.orchestration import is_orchestrator

        return isinstance(name, str) and is_orchestrator(name)

    def __iter__(self) -> Iterator[str]:
        from zenml_widgets.orchestration import orchestrator_names

        return iter(orchestrator_names())


class _RegisterHelp(argparse.HelpFormatter):
    """``stack register --help``: the orchestrators and their options from the orchestrator
    table, written only when the help is shown (reading third-party entry points takes time
    that other commands should not spend)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        from zenml_widgets import orchestration

        if action.dest == "orchestrator":
            text = f"what runs the pipelines: {orchestration.describe_orchestrators()}"
        elif action.dest == "orchestrator_option":
            text = (
                "a setting of the orchestrator (repeatable; VALUE is read as JSON when it "
                "parses, else as text), checked when the stack is registered. "
                f"{orchestration.describe_options()}"
            )
        else:
            return super()._get_help_string(action)
        return text.replace("%", "%%")


def _add_stack_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    stack = sub.add_parser("stack", help="manage stacks (metadata store + artifact store)")
    stack_sub = stack.add_subparsers(dest="stack_command", required=True)
    register = stack_sub.add_parser("register", help="add a stack", formatter_class=_RegisterHelp)
    register.add_argument("name")
    register.add_argument(
        "--metadata-url",
        required=True,
        help="SQLAlchemy URL (sqlite:///path.db, postgresql+psycopg://...) or env:VARIABLE",
    )
    _settings(
        register,
        "--metadata-store-option",
        "a setting of the metadata store: statement_timeout=SECONDS (PostgreSQL: a "
        "statement running longer is cancelled; default 30)",
    )
    register.add_argument(
        "--artifact-store",
        required=True,
        help="folder for the artifacts, or object storage: s3://bucket/prefix",
    )
    _settings(
        register,
        "--artifact-store-option",
        "a setting of the artifact store's file system, e.g. "
        "endpoint_url=http://127.0.0.1:9000 (repeatable; never credentials: those come from "
        "the AWS environment or ~/.aws/)",
    )
    register.add_argument(
        "--orchestrator",
        default="local",
        choices=_OrchestratorNames(),
        metavar="NAME",
        help="(written by _RegisterHelp)",
    )
    _settings(register, "--orchestrator-option", "(written by _RegisterHelp)")
    _settings(
        register,
        "--log-option",
        "what step logs keep: capture=true (false: the console only), level=INFO (the "
        "lowest level of logging records kept) and max_bytes=10MB (per step attempt: head "
        "and tail)",
    )
    register.add_argument("--activate", action="store_true", help="make it the active stack")
    register.set_defaults(func=_stack_register)
    stack_sub.add_parser("list", help="list stacks (* marks the active one)").set_defaults(
        func=_stack_list
    )
    set_ = stack_sub.add_parser("set", help="activate a stack")
    set_.add_argument("name")
    set_.set_defaults(func=_stack_set)
    delete = stack_sub.add_parser("delete", help="forget a stack")
    delete.add_argument("name")
    delete.set_defaults(func=_stack_delete)


def _settings(parser: argparse.ArgumentParser, flag: str, meaning: str) -> None:
    """A repeatable ``flag NAME=VALUE`` of ``parser`` (its help: ``meaning``)."""
    parser.add_argument(flag, action="append", default=[], metavar="NAME=VALUE", help=meaning)


def _add_logs_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    logs = sub.add_parser(
        "logs",
        help="show what a step printed and logged",
        description="Show a step's logs: what its last attempt (or --attempt N) printed to "
        "stdout and stderr and logged (logging records as LEVEL:logger:message), in order. "
        "A cached step shows the logs of the step that produced its outputs.",
    )
    logs.add_argument("pipeline")
    logs.add_argument("run", help="the run's name, or latest")
    logs.add_argument("step")
    logs.add_argument("--attempt", type=int, default=None, help="the attempt (1 is the first)")
    logs.add_argument(
        "--follow",
        "-f",
        action="store_true",
        help="go on showing lines as the step writes them, until it ends (and its retries)",
    )
    logs.add_argument("--tail", type=_count, default=None, help="only the last N lines")
    logs.add_argument("--stack", default=None, help="the stack (default: the active one)")
    logs.set_defaults(func=_logs)


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of lines (0 or more)")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser."""
    parser = argparse.ArgumentParser(
        prog="zenml-widgets", description="ML pipeline history, browsable from notebooks."
    )
    parser.add_argument(
        "--repository", "-R", default=None, help="a folder inside the repository (default: cwd)"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    init = sub.add_parser("init", help="create a repository with the default stack")
    init.add_argument("path", nargs="?", default=".", help="where (default: the current folder)")
    init.set_defaults(func=_init)

    _add_stack_commands(sub)

    runs = sub.add_parser(
        "runs",
        help="list the latest runs of each pipeline",
        description="List each pipeline's run count and its latest runs, newest first: name, "
        "status, start time (UTC) and duration.",
    )
    runs.add_argument(
        "pipeline", nargs="?", default=None, help="only this pipeline (default: every pipeline)"
    )
    runs.add_argument(
        "--stack", default=None, help="the stack whose pipelines to list (default: the active one)"
    )
    runs.add_argument(
        "--limit", type=int, default=10, help="how many runs per pipeline (default 10)"
    )
    runs.set_defaults(func=_runs)
    _add_logs_command(sub)
    gc = sub.add_parser(
        "gc",
        help="end the records of runs whose process died, and remove what killed writers "
        "leave in artifact stores: temporary write folders and outputs of ended runs that no "
        "step records",
    )
    gc.add_argument("--stack", default=None, help="one stack (default: all)")
    gc.add_argument(
        "--older-than-hours",
        type=float,
        default=24.0,
        help="only folders untouched this long (default 24; younger ones may be in use)",
    )
    gc.set_defaults(func=_gc)
    backfill = sub.add_parser(
        "backfill-values",
        help="record parameters and small scalar outputs of runs recorded before they were "
        "kept as SQL values (for pipeline.runs.to_dataframe)",
    )
    backfill.add_argument("--stack", default=None, help="one stack (default: all)")
    backfill.add_argument("--quiet", action="store_true", help="no progress bar")
    backfill.set_defaults(func=_backfill_values)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``zenml-widgets``."""
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except OrchestratorOptionError as e:  # a value argparse could not check: a usage error
        print(f"zenml-widgets: error: {e}", file=sys.stderr)
        return 2
    except (ZenMLWidgetsError, KeyError) as e:
        print(f"zenml-widgets: error: {e}", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
