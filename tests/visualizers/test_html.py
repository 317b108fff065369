"""The no-JavaScript HTML rendering of statistics, and the opt-in Facets web component."""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from zenml_widgets.visualizers import compute_statistics, statistics_from_bytes
from zenml_widgets.visualizers._format import ValueFormat, number, percent
from zenml_widgets.visualizers.html import COLORS, standalone_html, statistics_html

EVIL = "<script>alert(1)</script>"


class _Collect(HTMLParser):
    """Tags, attributes and text of an HTML string (checks that it parses as intended)."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend(attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> _Collect:
    collector = _Collect()
    collector.feed(html)
    return collector


@pytest.fixture
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 400
    income = rng.normal(50, 10, n)
    income[:40] = np.nan  # 10% missing -> red
    return pd.DataFrame(
        {
            "age": np.arange(n) % 80,  # 5 zeros out of 400: 1.25%
            "income": income,
            "flag": np.arange(n) % 4 == 0,  # 75% zeros -> red
            "city": pd.Series(rng.choice(["Paris", "Oslo"], n), dtype="category"),
            "when": pd.Series(pd.date_range("2024-01-01", periods=n, freq="h", tz="UTC")),
        }
    )


def test_sections_numbers_and_no_script(frame: pd.DataFrame) -> None:
    html = statistics_html(compute_statistics({"train": frame}))
    doc = parse(html)
    assert "script" not in doc.tags and "link" not in doc.tags
    assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", html)  # no network at all
    text = " ".join(doc.text)
    assert "Numeric features (4)" in text and "Categorical features (1)" in text
    assert "400" in text  # count
    assert f"{frame['age'].mean():.2f}" in text
    assert "10%" in text  # income missing
    assert "2024-01-01 00:00:00" in text  # datetime min, readable
    assert "Paris" in text or "Oslo" in text
    assert doc.tags.count("svg") == 5  # four histograms + one top-values chart


def test_high_missing_and_zeros_are_red(frame: pd.DataFrame) -> None:
    html = statistics_html(compute_statistics(frame))
    red = re.findall(r'<td class="zwfs-high"[^>]*>([^<]*)</td>', html)
    assert "10%" in red  # income missing > 2%
    assert "75%" in red  # flag zeros > 10%
    assert "1.25%" not in red  # age zeros below threshold


def test_datasets_side_by_side_with_legend_and_colours(frame: pd.DataFrame) -> None:
    proto = compute_statistics({"train": frame.iloc[:300], "test": frame.iloc[300:]})
    html = statistics_html(proto)
    text = "".join(parse(html).text)
    assert "train: 300 examples" in text
    assert "test: 100 examples" in text
    assert COLORS[0] in html and COLORS[1] in html
    assert html.count('rowspan="2"') == len(frame.columns)  # one row per dataset per feature


def test_every_name_and_value_is_escaped() -> None:
    df = pd.DataFrame({EVIL: [1, 2], "s": [EVIL, "<b>&"], "x": [1.0, 2.0]})
    html = statistics_html(compute_statistics({EVIL: df}), title=EVIL)
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>" not in html
    doc = parse(html)
    assert "script" not in doc.tags
    assert EVIL in "".join(doc.text)  # shown as text


def test_deterministic_output(frame: pd.DataFrame) -> None:
    first = statistics_html(compute_statistics({"a": frame, "b": frame.iloc[::2]}))
    second = statistics_html(compute_statistics({"a": frame.copy(), "b": frame.iloc[::2].copy()}))
    assert first == second
    assert standalone_html(compute_statistics(frame)) == standalone_html(compute_statistics(frame))


def test_css_is_scoped_under_a_prefix() -> None:
    html = statistics_html(compute_statistics(pd.DataFrame({"x": [1]})))
    css = re.search(r"<style>(.*?)</style>", html, re.S)
    assert css is not None
    selectors = re.findall(r"(?:^|})\s*([^{}]+)\{", css.group(1))
    for group in selectors:
        for selector in group.split(","):
            assert selector.strip().startswith(".zwfs-root"), selector
    assert "@import" not in css.group(1) and "url(" not in css.group(1)


def test_empty_and_all_missing() -> None:
    html = statistics_html(compute_statistics(pd.DataFrame()))
    assert "No features" in html
    html = statistics_html(compute_statistics(pd.DataFrame({"x": [np.nan, np.nan]})))
    red = re.findall(r'<td class="zwfs-high"[^>]*>([^<]*)</td>', html)
    assert red == ["0", "100%"]


def test_absent_feature_and_type_mismatch() -> None:
    proto = compute_statistics(
        {"a": pd.DataFrame({"x": [1, 2], "y": [1, 2]}), "b": pd.DataFrame({"x": ["p", "q"]})}
    )
    html = statistics_html(proto)
    assert "categorical in this dataset (str)" in html
    text = " ".join(parse(html).text)
    assert "100%" in text  # y is entirely missing from b


def test_standalone_document() -> None:
    doc = standalone_html(compute_statistics(pd.DataFrame({"x": [1]})), title="t & t")
    assert doc.startswith("<!DOCTYPE html>")
    assert '<meta charset="utf-8">' in doc
    assert "<title>t &amp; t</title>" in doc


def test_facets_js_embeds_the_same_proto() -> None:
    proto = compute_statistics(pd.DataFrame({"x": [1, 2, 3]}))
    html = statistics_html(proto, use_facets_js=True)
    assert "<facets-overview" in html
    assert "facets-jupyter.html" in html and "webcomponents-lite.js" in html
    encoded = re.search(r'protoInput = "([A-Za-z0-9+/=]+)"', html)
    assert encoded is not None
    decoded = statistics_from_bytes(base64.b64decode(encoded.group(1)))
    assert decoded == proto
    assert html == statistics_html(proto, use_facets_js=True)


def test_formatting() -> None:
    assert number(1234567.0) == "1,234,567"
    assert number(12.345) == "12.35"
    assert number(0.000123) == "0.000123"
    assert number(float("inf")) == "∞"
    assert percent(1, 3) == "33.33%"
    assert percent(0, 0) == "0%"
    assert percent(1, 10_000_000) == "~0%"
    paris = ValueFormat.for_dtype("datetime64[ns, Europe/Paris]")
    assert paris.value(pd.Timestamp("2024-01-01", tz="UTC").value) == "2024-01-01 01:00:00"
    assert ValueFormat.for_dtype("timedelta64[ns]").spread(90e9) == "0 days 00:01:30"
