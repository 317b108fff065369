"""``%zenml_history``: open the ``HistoryExplorer``, optionally preselected."""

# IPython's magic_arguments decorators carry no type hints:
# mypy: disable-error-code="no-untyped-call, untyped-decorator"

from __future__ import annotations

from typing import TYPE_CHECKING

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring

from zenml_widgets.exceptions import ZenMLWidgetsError

if TYPE_CHECKING:
    from zenml_widgets.widgets import HistoryExplorer


@magics_class
class HistoryMagics(Magics):
    """The ``%zenml_history`` line magic."""

    @magic_arguments()
    @argument("pipeline", nargs="?", help="Preselect this pipeline.")
    @argument("run", nargs="?", help="Preselect this run ('latest' for the newest).")
    @argument("step", nargs="?", help="Preselect this step of the run.")
    @argument("output", nargs="?", help="Preselect this output of the step.")
    @argument("--stack", metavar="KEY", help="Browse this stack instead of the active one.")
    @argument(
        "--repository",
        "-r",
        metavar="PATH",
        help="A folder inside the repository (default: the current folder).",
    )
    @argument("--page-size", type=int, default=50, help="Runs listed at a time (default 50).")
    @line_magic
    def zenml_history(self, line: str) -> HistoryExplorer:
        """Browse pipeline history: pipeline -> run -> step -> output.

        Examples::

            %zenml_history
            %zenml_history training_pipeline latest trainer
            %zenml_history training_pipeline nightly-12 importer train --stack local
        """
        args = parse_argstring(self.zenml_history, line)
        from zenml_widgets.widgets import HistoryExplorer

        try:
            explorer = HistoryExplorer(
                args.repository, stack_key=args.stack, page_size=args.page_size
            )
            if args.pipeline is not None:
                explorer.select(args.pipeline, args.run, args.step, args.output)
        except ZenMLWidgetsError as e:
            raise UsageError(str(e)) from e
        return explorer
