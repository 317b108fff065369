"""What types can show, as their materializers declare it: lookups by object and by artifact."""

from __future__ import annotations

import importlib
import subprocess
import sys

import numpy as np
import pandas as pd

from zenml_widgets.materializers import BuiltInMaterializer, PandasMaterializer, default_registry
from zenml_widgets.materializers.capabilities import (
    MODEL,
    TABLE,
    capabilities_of,
    stored_capabilities,
    stored_type,
)
from zenml_widgets.materializers.registry import LAZY_MATERIALIZERS, LAZY_NOTEBOOK_PREVIEWS

PANDAS = "zenml_widgets.materializers.pandas_materializer.PandasMaterializer"
KERAS = "zenml_widgets.integrations.tensorflow.materializers.keras_materializer.KerasMaterializer"


def test_tables_are_dataframes_not_series_or_arrays() -> None:
    assert capabilities_of(pd.DataFrame()) == {TABLE}
    assert capabilities_of(pd.Series(dtype=float)) == frozenset()
    assert capabilities_of(np.zeros(2)) == capabilities_of({"a": 1}) == frozenset()
    assert capabilities_of(object()) == frozenset()


def test_an_artifact_shows_what_its_materializer_declares_for_the_stored_type() -> None:
    assert stored_capabilities(PANDAS, "pandas.DataFrame") == {TABLE}
    assert stored_capabilities(PANDAS, "pandas.core.frame.DataFrame") == {TABLE}  # pandas 2.x
    assert stored_capabilities(PANDAS, "pandas.core.series.Series") == frozenset()
    assert stored_capabilities(PANDAS, "my_project.MyFrame") == {TABLE}  # a DataFrame subclass
    builtin = BuiltInMaterializer.dotted_path()
    assert stored_capabilities(builtin, "pandas.DataFrame") == frozenset()  # its word, not names
    assert stored_capabilities("os.system", "pandas.DataFrame") == frozenset()  # never imported


def test_the_stored_type_is_one_of_the_materializers_own() -> None:
    assert stored_type(PandasMaterializer, "pandas.core.series.Series") is pd.Series
    assert stored_type(PandasMaterializer, "pandas.Series") is pd.Series
    assert stored_type(PandasMaterializer, "elsewhere.Series") is pd.DataFrame
    assert stored_type(BuiltInMaterializer, "builtins.dict") is dict


DECIDING_IMPORTS_NOTHING = f"""
import sys
from zenml_widgets.materializers.capabilities import stored_capabilities, capabilities_of
from zenml_widgets.materializers import default_registry
from zenml_widgets.widgets.object_preview import is_keras_model, object_preview_html

print(sorted(stored_capabilities({KERAS!r}, "keras.src.models.sequential.Sequential")))
Old = type("Model", (), {{"__module__": "keras.engine.training"}})  # a Keras 2 model class
Legacy = type("Legacy", (Old,), {{}})
print(default_registry.find(Legacy), default_registry.find_preview(Legacy).__name__)
print(sorted(capabilities_of(Legacy())), is_keras_model({{"a": 1}}), is_keras_model(3))
heavy = ("tensorflow", "keras", "pandas", "numpy")
print(sorted(m for m in heavy if m in sys.modules))
"""


def test_deciding_what_a_keras_type_shows_imports_no_tensorflow() -> None:
    out = subprocess.run(
        [sys.executable, "-c", DECIDING_IMPORTS_NOTHING],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert out == ["['model']", "None KerasMaterializer", "['model'] False False", "[]"], out


def test_lazy_notebook_previews_are_what_their_materializers_declare() -> None:
    for name in LAZY_NOTEBOOK_PREVIEWS:
        importlib.import_module(LAZY_MATERIALIZERS[name])
        fake = type(name.rpartition(".")[2], (), {"__module__": name.rpartition(".")[0]})
        materializer = default_registry.find_preview(fake)
        assert materializer is not None and materializer.NOTEBOOK_PREVIEW, name
        assert MODEL in materializer.capabilities(fake)
    classes, names = default_registry.notebook_previews()
    assert set(LAZY_NOTEBOOK_PREVIEWS) <= set(names)
    assert not any(issubclass(c, pd.DataFrame | dict) for c in classes)  # they keep their own
