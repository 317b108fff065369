"""The code line: exact, safely quoted accessor expressions."""

from __future__ import annotations

import ast

from hypothesis import given
from hypothesis import strategies as st

from zenml_widgets.widgets.code import (
    accessor_code,
    is_variable_name,
    py_str,
    suggest_variable_name,
)


@given(st.text())
def test_py_str_is_a_literal_of_the_same_text(text: str) -> None:
    assert ast.literal_eval(py_str(text)) == text


def test_py_str_prefers_double_quotes() -> None:
    assert py_str("training") == '"training"'
    assert py_str("it's") == '"it\'s"'
    assert py_str('say "hi"') == "'say \"hi\"'"
    assert py_str("a\nb") == '"a\\nb"'


def test_accessor_code_levels() -> None:
    assert accessor_code() == "Repository()"
    assert accessor_code(pipeline="p") == 'Repository().get_pipeline("p")'
    assert accessor_code(pipeline="p", stack_key="s", run="r") == (
        'Repository().get_pipeline("p", stack_key="s").get_run("r")'
    )
    assert accessor_code(repository_path="/x", pipeline="p", run="r", step="t", output="o") == (
        'Repository("/x").get_pipeline("p").get_run("r").get_step("t").outputs["o"].read()'
    )
    injected = accessor_code(pipeline='p"), __import__("os').strip()
    assert ast.parse(injected).body[0].value.func.attr == "get_pipeline"  # type: ignore[attr-defined]


def test_variable_names() -> None:
    assert is_variable_name("df") and not is_variable_name("1x")
    assert not is_variable_name("class") and not is_variable_name("a b")
    assert suggest_variable_name("my-model 2") == "my_model_2"
    assert suggest_variable_name("2nd") == "_2nd"
    assert suggest_variable_name("class") == "class_"
    assert suggest_variable_name("---") == "value"
