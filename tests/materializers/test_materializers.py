"""Built-in materializers round-trip exactly; the registry follows the MRO."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zenml_widgets.exceptions import MaterializerNotFoundError
from zenml_widgets.materializers import (
    BaseMaterializer,
    BuiltInMaterializer,
    NumpyMaterializer,
    PandasMaterializer,
    default_registry,
)


class Target:
    def __init__(self, uri: Path) -> None:
        self.uri = str(uri)


def roundtrip(materializer: type[BaseMaterializer], value: Any, folder: Path) -> Any:
    folder.mkdir(parents=True, exist_ok=True)
    materializer(Target(folder)).handle_return(value)
    return materializer(Target(folder)).handle_input(type(value))


TAG_KEYS = ["__tuple__", "__float__", "__dict__", "__set__", "__bytes__", "", "_"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: (
        st.lists(children, max_size=4)
        | st.tuples(children, children)
        | st.dictionaries(st.text(max_size=5), children, max_size=4)
        | st.dictionaries(st.integers(), children, max_size=3)
        # keys shaped like the materializer's own tags must stay a user's plain dict keys
        | st.dictionaries(st.sampled_from(TAG_KEYS), children, min_size=1, max_size=2)
    ),
    max_leaves=12,
)


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    if type(a) is not type(b):
        return False
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    return bool(a == b)


@settings(max_examples=150, deadline=None)
@given(value=json_values)
def test_builtins_round_trip_exactly(tmp_path_factory: pytest.TempPathFactory, value: Any) -> None:
    folder = tmp_path_factory.mktemp("b")
    assert same(roundtrip(BuiltInMaterializer, value, folder / "a"), value)


@pytest.mark.parametrize(
    "value",
    [
        {"__tuple__": [1, 2]},
        {"__float__": "nan"},
        {"__dict__": [[1, 2]]},
        [{"__tuple__": []}, ({"__float__": "inf"},)],
        {"outer": {"__tuple__": {"__float__": "-inf"}}},
    ],
)
def test_tag_shaped_user_dicts_round_trip(tmp_path: Path, value: Any) -> None:
    assert same(roundtrip(BuiltInMaterializer, value, tmp_path / "a"), value)


def test_files_written_by_earlier_versions_still_read(tmp_path: Path) -> None:
    tagged = {"a": {"__tuple__": [1, {"__float__": "nan"}]}, "b": {"__dict__": [[1, "x"]]}}
    (tmp_path / "data.json").write_text(json.dumps(tagged))
    value = BuiltInMaterializer(Target(tmp_path)).handle_input(dict)
    assert value["a"][0] == 1 and math.isnan(value["a"][1]) and value["b"] == {1: "x"}


@pytest.mark.parametrize(
    "array",
    [
        np.arange(12, dtype=np.int16).reshape(3, 4),
        np.array([1.5, np.nan, np.inf], dtype=np.float32),
        np.array(["a", "bé"]),
        np.zeros((2, 0, 3), dtype=np.complex128),
        np.array([True, False]),
        np.asfortranarray(np.arange(6.0).reshape(2, 3)),
    ],
)
def test_numpy_arrays_keep_dtype_and_shape(tmp_path: Path, array: np.ndarray) -> None:
    out = roundtrip(NumpyMaterializer, array, tmp_path / "a")
    assert out.dtype == array.dtype and out.shape == array.shape
    np.testing.assert_array_equal(out, array)


def test_numpy_object_arrays_are_refused(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="pickle"):
        roundtrip(NumpyMaterializer, np.array([{"a": 1}], dtype=object), tmp_path / "a")


FRAMES = {
    "pandas3 strings": pd.DataFrame(
        {"s": pd.array(["a", None], dtype="string"), "t": pd.Series(["x", None], dtype="str")}
    ),
    "categorical": pd.DataFrame({"c": pd.Categorical(["lo", "hi", "lo"], ["lo", "hi"], True)}),
    "nullable": pd.DataFrame(
        {
            "i": pd.array([1, None, 3], dtype="Int64"),
            "f": pd.array([0.5, None, 1], dtype="Float64"),
            "b": pd.array([True, None, False], dtype="boolean"),
        }
    ),
    "tz-aware": pd.DataFrame(
        {"t": pd.date_range("2024-03-31", periods=3, freq="h", tz="Europe/Berlin")}
    ),
    "named index": pd.DataFrame({"v": [1, 2]}, index=pd.Index(["a", "b"], name="key")),
    "multiindex": pd.DataFrame(
        {"v": [1, 2]}, index=pd.MultiIndex.from_tuples([("a", 1), ("b", 2)], names=["k", "n"])
    ),
    "int column names": pd.DataFrame({0: [1.0], 1: [2.0]}),
    "multiindex columns": pd.DataFrame(
        [[1, 2.5, "x"], [3, 4.5, "y"]],
        columns=pd.MultiIndex.from_tuples(
            [("a", 1), ("a", 2), ("b", 1)], names=["letter", "number"]
        ),
    ),
    "multiindex columns, unnamed mixed levels": pd.DataFrame(
        [[1, 2]], columns=pd.MultiIndex.from_tuples([(0, "x"), (1.5, "y")])
    ),
    "duplicate names": pd.DataFrame([[1, 2]], columns=["a", "a"]),
    "empty": pd.DataFrame({"a": pd.Series([], dtype="float64")}),
}


@pytest.mark.parametrize("name", list(FRAMES))
def test_dataframes_round_trip_exactly(tmp_path: Path, name: str) -> None:
    df = FRAMES[name]
    out = roundtrip(PandasMaterializer, df, tmp_path / "a")
    pd.testing.assert_frame_equal(out, df, check_exact=True)
    assert list(out.dtypes) == list(df.dtypes)


def test_series_round_trip(tmp_path: Path) -> None:
    s = pd.Series([1, 2, None], dtype="Int64", name="count")
    out = roundtrip(PandasMaterializer, s, tmp_path / "a")
    pd.testing.assert_series_equal(out, s)


def test_registry_follows_the_mro_and_users_can_register() -> None:
    class MyFrame(pd.DataFrame):
        pass

    assert default_registry.get(MyFrame) is PandasMaterializer
    assert default_registry.get(bool) is BuiltInMaterializer

    class Point:
        def __init__(self, x: int) -> None:
            self.x = x

    with pytest.raises(MaterializerNotFoundError, match=r"'.*Point'.*ASSOCIATED_TYPES"):
        default_registry.get(Point)

    class PointMaterializer(BaseMaterializer):
        ASSOCIATED_TYPES: ClassVar[tuple[type[Any], ...]] = (Point,)

        def handle_return(self, data: Point) -> None:
            (self.path / "x.txt").write_text(str(data.x))

        def handle_input(self, data_type: type[Any]) -> Point:
            return Point(int((self.path / "x.txt").read_text()))

    assert default_registry.get(Point) is PointMaterializer
    assert default_registry.by_path(PointMaterializer.dotted_path()) is PointMaterializer


def test_unregistered_materializer_path_is_never_imported() -> None:
    with pytest.raises(MaterializerNotFoundError, match="not registered"):
        default_registry.by_path("os.system")


PANDAS_2_NAMES = """
import pandas as pd
# pandas 2.x names its classes after the defining module; pandas 3 after the package
pd.DataFrame.__module__ = "pandas.core.frame"
pd.Series.__module__ = "pandas.core.series"
import sys
from zenml_widgets.materializers import default_registry
assert "zenml_widgets.materializers.pandas_materializer" not in sys.modules
print(default_registry.get(pd.DataFrame).__name__, default_registry.get(pd.Series).__name__)
"""


def test_pandas_materializer_is_found_under_pandas_2_class_names(tmp_path: Path) -> None:
    """A fresh process that never imported the materializer: lookup by pandas 2.x's names."""
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", PANDAS_2_NAMES], capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == ["PandasMaterializer", "PandasMaterializer"]
