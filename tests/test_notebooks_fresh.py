"""The example notebooks in ``notebooks/``: what nbval does not check.

``pytest notebooks --nbval ...`` re-runs every notebook in a fresh kernel and compares its outputs
with the committed ones (after ``notebooks/sanitize.cfg``). These tests add:

* the committed notebooks are executed top to bottom, without errors or stderr output, and
  nothing in their outputs depends on this checkout or machine once sanitized;
* ``post_execution_workflow.ipynb`` holds every line of the reference page's snippets, in order;
* each notebook keeps its history in its own temporary folder, which ``sanitize.cfg`` hides
  wherever ``$TMPDIR`` points;
* ``history_explorer.ipynb`` also works the way ``scripts/demo.sh`` opens it: on the repository
  in ``$ZENML_WIDGETS_REPOSITORY``, from an unrelated current folder, keeping that repository.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
import pytest
from zw_testing import reference_page_head

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
SANITIZE = NOTEBOOKS / "sanitize.cfg"
NAMES = ["quickstart", "post_execution_workflow", "history_explorer"]


def load(name: str) -> nbformat.NotebookNode:
    return nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)


def code_cells(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [cell for cell in nb.cells if cell.cell_type == "code"]


def output_texts(nb: nbformat.NotebookNode) -> list[str]:
    texts = []
    for cell in code_cells(nb):
        for output in cell.outputs:
            if output.output_type == "stream":
                texts.append(output.text)
            for value in output.get("data", {}).values():
                if isinstance(value, str):
                    texts.append(value)
    return texts


def sanitize_patterns() -> list[tuple[str, str]]:
    # The same parsing as nbval's (nbval.plugin.get_sanitize_patterns).
    return re.findall(r"^regex: (.*)$\n^replace: (.*)$", SANITIZE.read_text(), flags=re.MULTILINE)


def sanitized(text: str) -> str:
    for regex, replace in sanitize_patterns():
        text = re.sub(regex, replace, text)
    return text


# -- committed state ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_committed_executed_in_order_without_errors(name: str) -> None:
    cells = code_cells(load(name))
    counts = [cell.execution_count for cell in cells]
    assert counts == list(range(1, len(cells) + 1)), (
        f"{name}.ipynb is not executed top to bottom in one kernel; re-run it with "
        f"`jupyter nbconvert --to notebook --execute --inplace notebooks/{name}.ipynb`"
    )
    for cell in cells:
        for output in cell.outputs:
            assert output.output_type != "error", f"{name}.ipynb: {cell.source[:60]!r} failed"
            # stderr (TensorFlow's C++ log, warnings) is rarely reproducible: keep it out.
            assert output.get("name") != "stderr", f"{name}.ipynb: stderr in {cell.source[:60]!r}"


@pytest.mark.parametrize("name", NAMES)
def test_outputs_do_not_depend_on_this_machine(name: str) -> None:
    for text in output_texts(load(name)):
        clean = sanitized(text)
        assert str(ROOT) not in clean
        assert sys.prefix not in clean


@pytest.mark.parametrize("name", NAMES)
def test_history_lives_in_a_temporary_folder_that_sanitize_hides(name: str) -> None:
    source = "\n".join(cell.source for cell in code_cells(load(name)))
    found = re.search(r"mkdtemp\(prefix=\"(zw-nb-[\w-]+)\"\)", source)
    assert found, f"{name}.ipynb should build its history in tempfile.mkdtemp(prefix='zw-nb-...')"
    for tmpdir in ("/tmp", "/var/tmp", "/var/folders/x1/T", "/home/ci/scratch"):
        path = f"{tmpdir}/{found[1]}k3_x9/.zen/artifacts/1/2/000-importer/train-0a1b2c"
        assert sanitized(f"Repository('{path}')") == "Repository('TMPPATH')"
        assert sanitized(f"<td><code>{path}</code></td>") == "<td><code>TMPPATH</code></td>"
        assert sanitized(f"uri {path}\nmaterializer") == "uri TMPPATH\nmaterializer"


# -- the reference page -------------------------------------------------------------------------

# Every snippet of the reference page (post-execution-workflow.md), with `zenml` spelled
# `zenml_widgets` and the page's `...` filled in with the notebook's names.
REFERENCE_SNIPPETS = [
    reference_page_head("keras_training_pipeline", '"default"'),
    """
# will get you the value from the original materializer used in the pipeline
output.read()
""",
    """
from zenml_widgets.materializers import PandasMaterializer


df = output.read(materializer_class=PandasMaterializer)
df.head()
""",
    """
from zenml_widgets.integrations.tensorflow.materializers.keras_materializer import KerasMaterializer


model = output.read(materializer_class=KerasMaterializer)
model  # read keras.Model
""",
    """
from zenml_widgets.integrations.facets.visualizers.facet_statistics_visualizer import (
    FacetStatisticsVisualizer,
)

FacetStatisticsVisualizer().visualize(output)
""",
]


def test_post_execution_notebook_holds_every_line_of_the_reference_page_in_order() -> None:
    lines = [
        line.rstrip()
        for cell in code_cells(load("post_execution_workflow"))
        for line in cell.source.splitlines()
    ]
    position = 0
    for snippet in REFERENCE_SNIPPETS:
        for wanted in (line.rstrip() for line in snippet.strip().splitlines() if line.strip()):
            try:
                position = lines.index(wanted, position) + 1
            except ValueError:
                pytest.fail(f"missing or out of order in post_execution_workflow.ipynb: {wanted!r}")


# -- as scripts/demo.sh opens it ----------------------------------------------------------------


@pytest.mark.slow
def test_history_explorer_on_the_repository_of_demo_sh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nbclient import NotebookClient

    from zenml_widgets.examples import demo

    root = tmp_path / "demo"
    demo.build(root, days=12, keras_runs=1, quiet=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.setenv("ZENML_WIDGETS_REPOSITORY", str(root))
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    nb = load("history_explorer")
    client = NotebookClient(
        nb, kernel_name="python3", timeout=300, resources={"metadata": {"path": str(elsewhere)}}
    )
    client.execute()  # raises CellExecutionError naming the cell that failed

    text = "\n".join(output_texts(nb))
    assert f"Repository({str(root)!r})" in text  # the demo's repository, not a new one
    assert '.get_run("wine-lr-0.01-0").get_step("trainer")' in text  # its latest Keras run
    assert (root / ".zen" / "config.json").is_file()  # the clean-up cell kept it
    assert list(elsewhere.iterdir()) == []
