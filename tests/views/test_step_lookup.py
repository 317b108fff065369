"""Looking up a step's outputs and inputs by a name that is not there (issue 20, papercut)."""

from __future__ import annotations

import pytest

from zenml_widgets.exceptions import NotFoundError
from zenml_widgets.repository import Repository


def test_a_missing_output_name_lists_the_outputs_and_suggests_one(first_run: Repository) -> None:
    step = first_run.get_pipeline("training_pipeline").get_run("first").get_step("importer")
    with pytest.raises(NotFoundError, match=r"no output 'tran'.*'train', 'test'.*'train'\?"):
        step.outputs["tran"]
    with pytest.raises(KeyError):  # still a KeyError for code that catches one
        step.outputs["tran"]
    trainer = first_run.get_pipeline("training_pipeline").get_run("first").get_step("trainer")
    with pytest.raises(NotFoundError, match=r"no input 'trian'.*'train'.*Did you mean"):
        trainer.inputs["trian"]
    assert step.outputs.get("tran") is None and "train" in step.outputs
