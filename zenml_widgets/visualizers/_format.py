"""How numbers, percentages, dates and durations are written in the statistics HTML.

Every function returns plain text; escaping is the caller's job. Formats are deterministic
(no locale, no current time).
"""

from __future__ import annotations

import contextlib
import math
import re
from dataclasses import dataclass

import pandas as pd

#: Facets Overview marks a feature's missing share above this in red.
MISSING_RATIO_HIGH = 0.02
#: Facets Overview marks a feature's zeros share above this in red.
ZEROS_RATIO_HIGH = 0.10


@dataclass(frozen=True)
class ValueFormat:
    """Writes the values of one feature: plain numbers, or dates / durations in nanoseconds.

    Attributes:
        kind: ``"number"``, ``"datetime"`` or ``"timedelta"``.
        tz: for datetimes, the time zone to show them in (``None``: naive, i.e. UTC values).
    """

    kind: str = "number"
    tz: str | None = None

    @classmethod
    def for_dtype(cls, dtype: str) -> ValueFormat:
        """The format of a feature recorded with pandas dtype ``dtype``."""
        if dtype.startswith(("datetime64", "timestamp")):
            zone = re.search(r"(?:tz=|datetime64\[\w+, )([^,\]]+)", dtype)
            return cls("datetime", zone.group(1).strip() if zone else None)
        if dtype.startswith(("timedelta64", "duration")):
            return cls("timedelta")
        return cls()

    def value(self, x: float, *, rounded: bool = False) -> str:
        """A value of the feature (mean, min, median, max, a histogram edge).

        Args:
            x: the value (nanoseconds for dates and durations).
            rounded: for dates and durations, to the second (for computed values like a mean).
        """
        if self.kind == "number" or not math.isfinite(x):
            return number(x)
        if abs(x) >= 2**63:  # beyond what pandas can represent in nanoseconds
            return number(x)
        if self.kind == "timedelta":
            return _duration(x, rounded=rounded)
        stamp = pd.Timestamp(round(x), unit="ns", tz="UTC")
        if rounded:
            stamp = stamp.round("s")
        if self.tz:  # shown as wall time in the column's zone, named in the dtype line
            with contextlib.suppress(ValueError, KeyError, TypeError):
                stamp = stamp.tz_convert(self.tz)
        stamp = stamp.tz_localize(None)
        return str(stamp)

    def spread(self, x: float) -> str:
        """A spread (standard deviation): a duration for dates."""
        if self.kind == "number" or not math.isfinite(x) or abs(x) >= 2**63:
            return number(x)
        return _duration(x, rounded=True)

    def short(self, x: float) -> str:
        """A compact value for axis labels."""
        if self.kind == "datetime" and math.isfinite(x):
            return self.value(x)[:10]
        if self.kind == "timedelta" and math.isfinite(x):
            return self.value(x).split(".")[0]
        return number(x, compact=True)


def _duration(nanoseconds: float, *, rounded: bool) -> str:
    delta = pd.Timedelta(round(nanoseconds), unit="ns")
    if rounded and abs(delta) >= pd.Timedelta(seconds=1):
        delta = delta.round("s")
    return str(delta)


def number(x: float, *, compact: bool = False) -> str:
    """A number as people read it: ``1,234``, ``12.35``, ``0.00123``, ``1.23e+18``, ``∞``.

    Args:
        x: the number.
        compact: at most about four significant digits (for axis labels).
    """
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    magnitude = abs(x)
    if magnitude == 0:
        return "0"
    if magnitude >= 1e15 or magnitude < 1e-3:
        return f"{x:.3g}"
    if compact:
        return f"{x:,.4g}" if magnitude < 1e4 else f"{x:,.0f}"
    if x == int(x):
        return f"{int(x):,}"
    if magnitude < 1:
        return f"{x:.3g}"
    return f"{x:,.2f}"


def count(n: int | float) -> str:
    """A count of rows or values: ``1,000,000``; fractional counts keep two decimals."""
    if n == int(n):
        return f"{int(n):,}"
    return f"{n:,.2f}"


def percent(part: float, total: float) -> str:
    """``part`` as a percentage of ``total``, as Facets writes it (``~0%`` for tiny shares)."""
    ratio = part / total if total else 0.0
    if 0 < ratio < 1e-6:
        return "~0%"
    if 0.999999 < ratio < 1:
        return "~100%"
    text = f"{ratio * 100:.2f}".rstrip("0").rstrip(".")
    return f"{text}%"


def ratio(part: float, total: float) -> float:
    """``part / total``, 0 when there is no total."""
    return part / total if total else 0.0


def truncate(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters with an ellipsis."""
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"
