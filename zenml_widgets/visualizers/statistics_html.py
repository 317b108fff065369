"""Facets-overview statistics as self-contained HTML: tables, inline SVG, scoped CSS, no JavaScript.

The default rendering needs no network and no script, so it shows the same in JupyterLab 4,
Notebook 7, VS Code, nbconvert's HTML export and a plain browser; it is byte-for-byte the same for
the same statistics (no random ids, no timestamps), so notebooks compare exactly under nbval.

Numeric and categorical features get one table each. Each feature has one row per dataset, each
dataset its own colour; as in Facets Overview, a missing share above 2 %, a zeros share above
10 % and a count of zero are shown in red. Every name and value is HTML-escaped.

``use_facets_js=True`` instead returns the official ``<facets-overview>`` web component (see
:mod:`zenml_widgets.visualizers.facets_js`), which loads its code from the internet.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from zenml_widgets.visualizers import _svg
from zenml_widgets.visualizers._format import (
    MISSING_RATIO_HIGH,
    ZEROS_RATIO_HIGH,
    ValueFormat,
    count,
    number,
    percent,
    ratio,
    truncate,
)
from zenml_widgets.visualizers.statistics import feature_dtype, feature_stats

__all__ = ["COLORS", "standalone_html", "statistics_html"]

#: Dataset colours, in order (cycled past ten datasets).
COLORS = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)
TOP_VALUES_SHOWN = 5
TOP_LABEL_CHARS = 28
#: Dataset names up to this long are kept on one line.
SHORT_NAME = 16
#: Numbers longer than this may wrap after a thousands separator.
LONG_NUMBER = 10
_RED = "color:var(--jp-error-color1,#c62828);font-weight:600"

# Colours are JupyterLab's theme variables (so the dark theme works), with the light fallbacks
# that exported HTML and plain pages use. The table fits a notebook cell of about 740 px:
# values wrap at their spaces (dates), headers wrap, and the charts shrink (to a minimum).
_CSS = """
.zwfs-root{font-family:-apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,Helvetica,Arial,
sans-serif;font-size:12px;line-height:1.35;color:var(--jp-ui-font-color1,#212121);
background:var(--jp-layout-color0,#fff);padding:8px 4px;overflow-x:auto;max-width:100%;
box-sizing:border-box;text-align:left}
.zwfs-root .zwfs-title{font-size:14px;font-weight:600;margin:0 0 6px 0}
.zwfs-root .zwfs-legend{margin:0 0 8px 0}
.zwfs-root .zwfs-legend span.zwfs-ds{display:inline-block;margin-right:14px;white-space:nowrap}
.zwfs-root .zwfs-swatch{display:inline-block;width:10px;height:10px;margin-right:4px;
vertical-align:middle;border-radius:2px}
.zwfs-root .zwfs-section{font-size:13px;font-weight:600;margin:10px 0 4px 0;
color:var(--jp-ui-font-color1,#37474f)}
.zwfs-root table.zwfs-table{border-collapse:collapse;margin:0 0 12px 0;table-layout:auto;
width:auto;max-width:100%;font-size:12px;color:inherit}
.zwfs-root table.zwfs-table th,.zwfs-root table.zwfs-table td{padding:3px 4px;text-align:right;
vertical-align:middle;white-space:normal;overflow-wrap:normal;border:none;
background:transparent;color:inherit;line-height:1.35}
.zwfs-root table.zwfs-table th{font-weight:600;color:var(--jp-ui-font-color2,#546e7a);
border-bottom:2px solid var(--jp-border-color1,#cfd8dc);vertical-align:bottom}
.zwfs-root table.zwfs-table tr.zwfs-first td{border-top:1px solid var(--jp-border-color2,#e0e0e0)}
.zwfs-root table.zwfs-table tbody tr,
.zwfs-root table.zwfs-table tbody tr:hover{background:transparent}
.zwfs-root table.zwfs-table td.zwfs-feat,.zwfs-root table.zwfs-table td.zwfs-dsname,
.zwfs-root table.zwfs-table th.zwfs-left,.zwfs-root table.zwfs-table td.zwfs-left{text-align:left}
.zwfs-root .zwfs-fname{font-weight:600;white-space:normal;word-break:break-all;max-width:160px;
display:inline-block;min-width:72px}
.zwfs-root .zwfs-dtype{color:var(--jp-ui-font-color2,#607d8b);font-size:10px}
.zwfs-root .zwfs-high{color:var(--jp-error-color1,#c62828);font-weight:600}
.zwfs-root .zwfs-note{color:var(--jp-ui-font-color2,#607d8b);font-style:italic}
.zwfs-root svg.zwfs-chart{display:block;overflow:visible;width:100%;height:auto;min-width:96px}
.zwfs-root svg.zwfs-chart text{fill:var(--jp-ui-font-color2,#616161)}
.zwfs-root svg.zwfs-chart line{stroke:var(--jp-border-color1,#bbb)}
.zwfs-root table.zwfs-table .zwfs-nw{white-space:nowrap}
.zwfs-root td.zwfs-hist{width:150px;min-width:96px;max-width:150px}
.zwfs-root td.zwfs-top{width:270px;min-width:160px;max-width:270px}
"""


def statistics_html(
    statistics: Any,
    *,
    title: str | None = None,
    use_facets_js: bool = False,
    top_values: int = TOP_VALUES_SHOWN,
) -> str:
    """An HTML fragment showing a ``DatasetFeatureStatisticsList``.

    Args:
        statistics: the proto, e.g. from :func:`~zenml_widgets.visualizers.compute_statistics`.
        title: a heading shown above the tables.
        use_facets_js: return the official ``<facets-overview>`` web component instead; it loads
            its JavaScript from public CDNs, so it shows nothing offline.
        top_values: how many most frequent values to chart per categorical feature.

    Returns:
        HTML to embed in a notebook output or a page.
    """
    if use_facets_js:
        from zenml_widgets.visualizers.facets_js import facets_overview_html

        return facets_overview_html(statistics, title=title)
    datasets = list(statistics.datasets)
    names, by_dataset = _features_by_name(datasets)
    numeric = [n for n in names if _is_numeric(_first(by_dataset, n))]
    categorical = [n for n in names if n not in set(numeric)]
    parts = ['<div class="zwfs-root">', f"<style>{_CSS}</style>"]
    if title:
        parts.append(f'<div class="zwfs-title">{escape(title)}</div>')
    parts.append(_legend(datasets))
    if not names:
        parts.append('<div class="zwfs-note">No features: the data has no columns.</div>')
    if numeric:
        parts.append(f'<div class="zwfs-section">Numeric features ({len(numeric)})</div>')
        parts.append(_table(datasets, by_dataset, numeric, numeric=True, top_values=top_values))
    if categorical:
        parts.append(f'<div class="zwfs-section">Categorical features ({len(categorical)})</div>')
        parts.append(
            _table(datasets, by_dataset, categorical, numeric=False, top_values=top_values)
        )
    parts.append("</div>")
    return "\n".join(parts)


def standalone_html(
    statistics: Any, *, title: str | None = None, use_facets_js: bool = False
) -> str:
    """A complete HTML document showing the statistics, for a file opened in a browser.

    Args:
        statistics: a ``DatasetFeatureStatisticsList``.
        title: the page title and heading.
        use_facets_js: use the official web component (needs internet access).
    """
    heading = title or "Facets statistics"
    body = statistics_html(statistics, title=heading, use_facets_js=use_facets_js)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(heading)}</title>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


# --- tables ------------------------------------------------------------------------------------

_NUMERIC_HEADERS = ("count", "missing", "mean", "std dev", "zeros", "min", "median", "max")
_STRING_HEADERS = ("count", "missing", "unique", "top", "freq top", "avg str len")


def _table(
    datasets: Sequence[Any],
    by_dataset: list[dict[str, Any]],
    names: Sequence[str],
    *,
    numeric: bool,
    top_values: int,
) -> str:
    several = len(datasets) > 1
    headers = _NUMERIC_HEADERS if numeric else _STRING_HEADERS
    chart = "histogram" if numeric else "top values"
    head = ['<th class="zwfs-left">feature</th>']
    if several:
        head.append('<th class="zwfs-left">dataset</th>')
    # The chart comes right after the names, so it stays in view in a narrow notebook cell
    # (the numbers may scroll; the picture is what people look at first).
    head.append(f'<th class="zwfs-left">{chart}</th>')
    head.extend(f"<th>{h}</th>" for h in headers)
    rows: list[str] = []
    for name in names:
        features = [features_of.get(name) for features_of in by_dataset]
        shared = _shared_histogram_scale(features) if numeric else None
        for index, (dataset, feature) in enumerate(zip(datasets, features, strict=True)):
            cells: list[str] = []
            if index == 0:
                cells.append(_feature_cell(name, features, len(datasets)))
            if several:
                cells.append(_dataset_cell(dataset.name, index))
            stats, chart_cell = _row_cells(
                feature, dataset, index, numeric, len(headers), shared, top_values
            )
            cells.append(chart_cell)
            cells.extend(stats)
            css = ' class="zwfs-first"' if index == 0 else ""
            rows.append(f"<tr{css}>{''.join(cells)}</tr>")
    return (
        f'<table class="zwfs-table"><thead><tr>{"".join(head)}</tr></thead>'
        f"<tbody>\n{chr(10).join(rows)}\n</tbody></table>"
    )


def _row_cells(
    feature: Any,
    dataset: Any,
    index: int,
    numeric: bool,
    width: int,
    shared: tuple[tuple[float, float], float] | None,
    top_values: int,
) -> tuple[list[str], str]:
    """The statistics cells of one feature in one dataset, and its chart cell."""
    no_chart = "<td></td>"
    if feature is None:
        note = f'<td class="zwfs-note zwfs-left" colspan="{width}">not in this dataset</td>'
        return [note], no_chart
    stats, common = feature_stats(feature)
    if _is_numeric(feature) != numeric:
        kind = "numeric" if _is_numeric(feature) else "categorical"
        note = f"{kind} in this dataset ({feature_dtype(feature) or 'unknown dtype'})"
        return [
            *_common_cells(common),
            f'<td class="zwfs-note zwfs-left" colspan="{width - 2}">{escape(note)}</td>',
        ], no_chart
    cells = _common_cells(common)
    color = COLORS[index % len(COLORS)]
    if common.num_non_missing == 0:
        return [*cells, *["<td>-</td>"] * (width - 2)], no_chart
    if numeric:
        fmt = ValueFormat.for_dtype(feature_dtype(feature))
        values = common.num_non_missing * (common.avg_num_values or 1.0)
        zeros_high = ratio(stats.num_zeros, values) > ZEROS_RATIO_HIGH
        cells += [
            _value_cell(stats.mean, fmt.value(stats.mean, rounded=True)),
            _value_cell(stats.std_dev, fmt.spread(stats.std_dev)),
            _text_cell(percent(stats.num_zeros, values), high=zeros_high),
            _value_cell(stats.min, fmt.value(stats.min)),
            _value_cell(stats.median, fmt.value(stats.median, rounded=True)),
            _value_cell(stats.max, fmt.value(stats.max)),
        ]
        chart = ""
        standard = [h for h in stats.histograms if h.type == 0 and h.buckets]
        if standard and shared is not None:
            span, peak = shared
            chart = _svg.histogram_svg(standard[0], color=color, span=span, peak=peak, fmt=fmt)
        return cells, f'<td class="zwfs-left zwfs-hist">{chart}</td>'
    top = stats.top_values[0] if stats.top_values else None
    top_text = top.value if top is not None else "-"
    cells += [
        _text_cell(count(stats.unique)),
        f'<td class="zwfs-left" title="{escape(top_text)}">'
        f"{escape(truncate(top_text, TOP_LABEL_CHARS))}</td>",
        _text_cell(count(top.frequency) if top is not None else "-"),
        _value_cell(stats.avg_length, number(stats.avg_length)),
    ]
    chart = _svg.top_values_svg(
        stats.rank_histogram.buckets,
        total=common.num_non_missing,
        color=color,
        limit=top_values,
    )
    return cells, f'<td class="zwfs-left zwfs-top">{chart}</td>'


def _common_cells(common: Any) -> list[str]:
    total = common.num_non_missing + common.num_missing
    missing_high = ratio(common.num_missing, total) > MISSING_RATIO_HIGH
    return [
        _text_cell(count(common.num_non_missing), high=common.num_non_missing <= 0),
        _text_cell(percent(common.num_missing, total), high=missing_high, exact=common.num_missing),
    ]


def _feature_cell(name: str, features: Sequence[Any], rows: int) -> str:
    dtypes = [feature_dtype(f) for f in features if f is not None]
    dtypes = [d for d in dict.fromkeys(dtypes) if d and d != "(absent)"]
    span = f' rowspan="{rows}"' if rows > 1 else ""
    return (
        f'<td class="zwfs-feat"{span}><div class="zwfs-fname">{escape(name)}</div>'
        f'<div class="zwfs-dtype">{escape(" / ".join(dtypes))}</div></td>'
    )


def _dataset_cell(name: str, index: int) -> str:
    wrap = " zwfs-nw" if len(name) <= SHORT_NAME else ""  # a long name wraps
    return f'<td class="zwfs-dsname{wrap}">{_swatch(index)}{escape(name)}</td>'


def _legend(datasets: Sequence[Any]) -> str:
    entries = [
        f'<span class="zwfs-ds">{_swatch(i) if len(datasets) > 1 else ""}'
        f"<strong>{escape(d.name)}</strong>: {count(d.num_examples)} examples</span>"
        for i, d in enumerate(datasets)
    ]
    return f'<div class="zwfs-legend">{"".join(entries)}</div>'


def _swatch(index: int) -> str:
    color = COLORS[index % len(COLORS)]
    return f'<span class="zwfs-swatch" style="background:{color}"></span>'


def _text_cell(text: str, *, high: bool = False, exact: float | None = None) -> str:
    style = f' class="zwfs-high" style="{_RED}"' if high else ""
    tip = f' title="{escape(count(exact))}"' if exact is not None else ""
    return f"<td{style}{tip}>{escape(text)}</td>"


def _value_cell(value: float, text: str) -> str:
    high = value != value or value in (float("inf"), float("-inf"))
    style = f' class="zwfs-high" style="{_RED}"' if high else ""
    return f'<td{style} title="{escape(repr(float(value)))}">{_words(text)}</td>'


def _words(text: str) -> str:
    """``text`` escaped, wrapping only where it has spaces (between a date and a time) or, for
    long numbers, after their thousands separators (``-2,520,458,<wbr>677.67``): so the table
    fits a notebook cell even with billions in five columns."""
    if " " not in text:
        return _long_number(escape(text))
    return " ".join(f'<span class="zwfs-nw">{escape(word)}</span>' for word in text.split(" "))


def _long_number(text: str) -> str:
    return text.replace(",", ",<wbr>") if len(text) > LONG_NUMBER else text


# --- helpers -----------------------------------------------------------------------------------


def _features_by_name(datasets: Sequence[Any]) -> tuple[list[str], list[dict[str, Any]]]:
    names: dict[str, None] = {}
    by_dataset: list[dict[str, Any]] = []
    for dataset in datasets:
        features: dict[str, Any] = {}
        for feature in dataset.features:
            names.setdefault(feature.name, None)
            features.setdefault(feature.name, feature)
        by_dataset.append(features)
    return list(names), by_dataset


def _first(by_dataset: Sequence[dict[str, Any]], name: str) -> Any:
    return next(features[name] for features in by_dataset if name in features)


def _is_numeric(feature: Any) -> bool:
    return bool(feature.WhichOneof("stats") == "num_stats")


def _shared_histogram_scale(
    features: Sequence[Any],
) -> tuple[tuple[float, float], float]:
    histograms = [
        h
        for f in features
        if f is not None and _is_numeric(f)
        for h in f.num_stats.histograms[:1]
        if h.buckets
    ]
    return _svg.histogram_span(histograms), _svg.histogram_peak(histograms)
