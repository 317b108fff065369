"""The statistics HTML in headless Chromium with the network off: numbers visible, nothing run."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pytest
from infra.browser import new_offline_context, save_screenshot

from zenml_widgets.visualizers import compute_statistics
from zenml_widgets.visualizers.html import standalone_html, statistics_html

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = pytest.mark.browser

EVIL = "<script>alert(1)</script>"


def frames() -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(11)

    def one(n: int, shift: float) -> pd.DataFrame:
        price = rng.normal(100 + shift, 15, n)
        price[: n // 10] = np.nan
        return pd.DataFrame(
            {
                "price": price,
                "rooms": pd.array(rng.integers(1, 6, n), dtype="Int64"),
                EVIL: pd.Series(rng.choice(["north", "south", "<b>east</b>"], n), dtype="str"),
                "sold": rng.random(n) < 0.4,
                "listed": pd.Timestamp("2024-03-01", tz="UTC")
                + pd.to_timedelta(rng.integers(0, 90, n), unit="D"),
            }
        )

    return {"train": one(800, 0), "test": one(200, 5)}


def test_statistics_render_offline(
    chromium_browser: Browser, request: pytest.FixtureRequest
) -> None:
    data = frames()
    proto = compute_statistics(data)
    html = standalone_html(proto, title="Houses")
    requests: list[str] = []
    dialogs: list[str] = []
    context = new_offline_context(chromium_browser)
    try:
        page = context.new_page()
        page.set_viewport_size({"width": 1500, "height": 900})
        page.on("request", lambda r: requests.append(r.url))
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.set_content(html, wait_until="load")
        text = page.inner_text("body")
        save_screenshot(page, request.node.nodeid)

        train = data["train"]
        assert "Numeric features (4)" in text and "Categorical features (1)" in text
        assert "train: 800 examples" in text and "test: 200 examples" in text
        assert f"{train['price'].mean():.2f}" in text
        assert f"{train['price'].std(ddof=0):.2f}" in text
        assert "10%" in text  # price missing
        assert "2024-03-01 00:00:00" in text  # earliest listing, as a date
        assert EVIL in text  # the column name, as text
        assert "<b>east</b>" in text or "north" in text
        assert page.locator("script").count() == 0 and dialogs == []
        assert [u for u in requests if not u.startswith(("about:", "data:"))] == []

        # Red where Facets is red: missing price over 2%, zeros of `sold` over 10%.
        red = page.locator("td.zwfs-high")
        assert red.count() >= 4
        color = red.first.evaluate("el => getComputedStyle(el).color")
        assert color == "rgb(198, 40, 40)"
        assert page.locator("svg.zwfs-chart").count() == 5 * 2
        width = page.locator("svg.zwfs-chart rect").first.evaluate("el => el.getBBox().width")
        assert width > 0
    finally:
        context.close()


def test_fragment_inside_a_notebook_like_page(chromium_browser: Browser) -> None:
    """The fragment keeps its look under a host page's table styles (as in JupyterLab)."""
    fragment = statistics_html(compute_statistics({"d": pd.DataFrame({"x": [0, 0, 1, 2]})}))
    host = (
        "<html><head><style>table{border:5px solid black} td{text-align:left;color:blue}"
        "tbody tr:nth-child(odd){background:yellow}</style></head>"
        f"<body><div class='jp-RenderedHTMLCommon'>{fragment}</div></body></html>"
    )
    context = new_offline_context(chromium_browser)
    try:
        page = context.new_page()
        page.set_content(host)
        cell = page.locator("table.zwfs-table td").filter(has_text=re.compile(r"^4$")).first
        style = cell.evaluate(
            "el => [getComputedStyle(el).textAlign, getComputedStyle(el).color,"
            " getComputedStyle(el.parentElement).backgroundColor]"
        )
        assert style == ["right", "rgb(33, 33, 33)", "rgba(0, 0, 0, 0)"]
        assert page.locator(".zwfs-high").first.inner_text() == "50%"  # zeros, red
    finally:
        context.close()
