"""The explorer in a real kernel, driven by the same comm messages a browser sends."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat
import pytest
import zw_testing as t
from nbclient import NotebookClient

from zenml_widgets.repository import Repository

SETUP = """\
%load_ext zenml_widgets
explorer = %zenml_history
explorer"""
IDS = """\
import json
levels = ("pipeline", "run", "step", "output")
print(json.dumps({k: getattr(explorer.ui, k).model_id for k in levels}))"""
STATE = """\
print(json.dumps({
    "names": [explorer.pipeline_name, explorer.run_name, explorer.step_name, explorer.output_name],
    "runs": list(explorer.ui.run.get_state()["_options_labels"]),
    "code": explorer.code,
    "preview": explorer.ui.preview.value,
    "data": explorer.ui.data.value,
    "error": explorer.error,
}))"""


def stdout(cell: Any) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


@pytest.mark.slow
def test_comm_updates_from_the_frontend_drive_the_cascade(tmp_path: Path) -> None:
    repo = Repository.init(tmp_path / "repo")
    t.make_training(epochs=1).run(run_name="first", repository=repo)
    t.make_training(epochs=2).run(run_name="second", repository=repo)

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(SETUP), nbformat.v4.new_code_cell(IDS)]
    nb.cells += [nbformat.v4.new_code_cell(STATE) for _ in range(4)]
    client = NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(repo.root)}}
    )

    def update(model_id: str, state: dict[str, Any]) -> None:
        content = {
            "comm_id": model_id,
            "data": {"method": "update", "state": state, "buffer_paths": []},
        }
        client.kc.shell_channel.send(client.kc.session.msg("comm_msg", content))

    def state(index: int) -> dict[str, Any]:
        client.execute_cell(nb.cells[index], index)
        result: dict[str, Any] = json.loads(stdout(nb.cells[index]))
        return result

    with client.setup_kernel(env={"ZENML_WIDGETS_AUTOLOAD": "0"}):
        client.execute_cell(nb.cells[0], 0)
        views = [o for o in nb.cells[0].outputs if o.output_type == "execute_result"]
        assert "application/vnd.jupyter.widget-view+json" in views[0]["data"]
        client.execute_cell(nb.cells[1], 1)
        ids = json.loads(stdout(nb.cells[1]))

        update(ids["pipeline"], {"index": 0})
        first = state(2)
        assert first["names"] == ["training_pipeline", None, None, None]
        assert [label.split()[0] for label in first["runs"]] == ["second", "first"]
        assert "2 runs" in first["preview"]

        update(ids["run"], {"index": 1})
        second = state(3)
        assert second["names"][:2] == ["training_pipeline", "first"]
        assert second["code"] == 'Repository().get_pipeline("training_pipeline").get_run("first")'
        assert "evaluate_model" in second["preview"]

        update(ids["step"], {"index": 0})
        update(ids["output"], {"index": 1})
        third = state(4)
        assert third["names"] == ["training_pipeline", "first", "importer", "test"]
        assert third["code"].endswith('.get_step("importer").outputs["test"].read()')
        assert "10 rows, 2 columns" in third["data"] and third["error"] == ""

        update(ids["output"], {"index": 7})  # out of range: refused, nothing breaks
        fourth = state(5)
        assert fourth["names"] == third["names"]
