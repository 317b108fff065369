"""The types of orchestrator options: what each accepts, checked when a stack is registered.

An orchestrator declares its options as ``OPTIONS = {"name": IntOption("help", minimum=1)}``.
``Option.coerce`` returns the value to keep (``"4"`` becomes ``4`` for a whole number) or raises
``ValueError`` whose message is what the option accepts. Nothing here imports the orchestrators
themselves (nor Dask): the schema is read without them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "BoolOption",
    "FloatOption",
    "IntOption",
    "MemorySizeOption",
    "Option",
    "StrOption",
    "UrlOption",
    "parse_memory_size",
]


@dataclass(frozen=True)
class Option:
    """One setting of an orchestrator: what it means (``help``) and which values it takes.

    ``excludes``: options that cannot be given together with this one.
    """

    help: str
    excludes: tuple[str, ...] = ()

    @property
    def accepts(self) -> str:
        """What values the option takes, as a phrase ("a whole number >= 1")."""
        return "any JSON value"

    def coerce(self, value: Any) -> Any:
        """The value to keep for ``value``; ``ValueError`` if the option does not take it."""
        return value


def _number_range(minimum: float | None, maximum: float | None, above: float | None) -> str:
    parts = []
    if above is not None:
        parts.append(f"> {above:g}")
    if minimum is not None:
        parts.append(f">= {minimum:g}")
    if maximum is not None:
        parts.append(f"<= {maximum:g}")
    return " and ".join(parts)


def _check_range(option: IntOption | FloatOption, number: float) -> None:
    too_low = (option.minimum is not None and number < option.minimum) or (
        isinstance(option, FloatOption) and option.above is not None and number <= option.above
    )
    if too_low or (option.maximum is not None and number > option.maximum):
        raise ValueError(option.accepts)


@dataclass(frozen=True)
class IntOption(Option):
    """A whole number, optionally within ``minimum``..``maximum`` (inclusive)."""

    minimum: int | None = None
    maximum: int | None = None

    @property
    def accepts(self) -> str:
        """``a whole number >= 1``."""
        limits = _number_range(self.minimum, self.maximum, None)
        return "a whole number" + (f" {limits}" if limits else "")

    def coerce(self, value: Any) -> int:
        """``value`` as an int: ints, floats without a fraction, and strings of digits."""
        number: int
        if isinstance(value, bool):
            raise ValueError(self.accepts)
        if isinstance(value, int):
            number = value
        elif isinstance(value, float) and value.is_integer():
            number = int(value)
        elif isinstance(value, str):
            try:
                number = int(value)
            except ValueError:
                raise ValueError(self.accepts) from None
        else:
            raise ValueError(self.accepts)
        _check_range(self, number)
        return number


@dataclass(frozen=True)
class FloatOption(Option):
    """A finite number, optionally ``> above``, ``>= minimum``, ``<= maximum``."""

    minimum: float | None = None
    maximum: float | None = None
    above: float | None = None

    @property
    def accepts(self) -> str:
        """``a number > 0``."""
        limits = _number_range(self.minimum, self.maximum, self.above)
        return "a number" + (f" {limits}" if limits else "")

    def coerce(self, value: Any) -> float | int:
        """``value`` as a number (an int stays an int); numeric strings are converted."""
        number: float | int
        if isinstance(value, bool):
            raise ValueError(self.accepts)
        if isinstance(value, int | float):
            number = value
        elif isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                raise ValueError(self.accepts) from None
        else:
            raise ValueError(self.accepts)
        if not math.isfinite(number):
            raise ValueError(self.accepts)
        _check_range(self, number)
        return number


@dataclass(frozen=True)
class StrOption(Option):
    """Text; a number given on the command line (``label=7``) is kept as its text."""

    @property
    def accepts(self) -> str:
        """``text``."""
        return "text"

    def coerce(self, value: Any) -> str:
        """``value`` as text: strings, and numbers as written."""
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        raise ValueError(self.accepts)


# Units of dask.utils.parse_bytes: decimal (kB, MB...) and binary (KiB, MiB...), any case, with
# or without the B ("4G", "4Gi"); no unit means bytes.
_DECIMAL = {"k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12, "p": 10**15}
_BINARY = {"ki": 2**10, "mi": 2**20, "gi": 2**30, "ti": 2**40, "pi": 2**50}
_UNITS = {"": 1, "b": 1}
for _prefix, _size in (*_DECIMAL.items(), *_BINARY.items()):
    _UNITS[_prefix] = _UNITS[_prefix + "b"] = _size


def parse_memory_size(text: str) -> int:
    """Bytes in ``text`` as ``dask.utils.parse_bytes`` reads it: ``"4GB"`` (4 * 10**9),
    ``"512MiB"`` (512 * 2**20), ``"1.5 kB"``, ``"100"``, ``"MB"`` (one megabyte).

    Raises ``ValueError`` for anything else. Written here so that checking an option never
    imports Dask.
    """
    s = text.replace(" ", "")
    if not any(c.isdigit() for c in s):
        s = "1" + s
    split = len(s)
    while split > 0 and s[split - 1].isalpha():
        split -= 1
    number, unit = s[:split], s[split:].lower()
    if unit not in _UNITS:
        raise ValueError(f"{unit!r} is not a unit of bytes")
    try:
        return int(float(number) * _UNITS[unit])
    except OverflowError:
        raise ValueError(f"{text!r} is too large") from None


@dataclass(frozen=True)
class MemorySizeOption(Option):
    """A memory size as Dask takes it: ``"auto"``, bytes, ``"4GB"``, ``"512MiB"``, a fraction
    of the machine's memory (``0 < x <= 1``), or ``0`` for no limit."""

    @property
    def accepts(self) -> str:
        """What a memory size may be."""
        return (
            "'auto', a number of bytes, a size such as '4GB' or '512MiB', a fraction of the "
            "machine's memory (0 < x <= 1), or 0 for no limit"
        )

    def coerce(self, value: Any) -> Any:
        """``value`` unchanged if Dask reads it as a memory size."""
        if isinstance(value, bool):
            raise ValueError(self.accepts)
        if value == "auto":
            return value
        try:
            size = float(value) if isinstance(value, int | float) else float(value.strip())
        except (AttributeError, ValueError):
            size = None
        if size is None and isinstance(value, str):
            try:
                size = parse_memory_size(value)
            except ValueError:
                size = None
        if size is None or not math.isfinite(size) or size < 0:
            raise ValueError(self.accepts)
        return value


@dataclass(frozen=True)
class UrlOption(Option):
    """An address ``scheme://host:port`` with one of ``schemes``; without ``://`` it is
    ``bare_scheme`` (``host:port``). Schemes in ``no_port`` need no port."""

    schemes: tuple[str, ...] = ()
    bare_scheme: str | None = None
    no_port: tuple[str, ...] = ()

    @property
    def accepts(self) -> str:
        """``an address tcp:// or tls:// followed by host:port, or a bare host:port for tcp://``."""
        *others, last = [f"{s}://" for s in self.schemes] or ["scheme://"]
        schemes = f"{', '.join(others)} or {last}" if others else last
        bare = f", or a bare host:port for {self.bare_scheme}://" if self.bare_scheme else ""
        return f"an address {schemes} followed by host:port{bare}"

    def coerce(self, value: Any) -> str:
        """``value`` unchanged if it is such an address."""
        if not isinstance(value, str) or not value.strip() or value != value.strip():
            raise ValueError(self.accepts)
        if "://" not in value and self.bare_scheme is None:
            raise ValueError(self.accepts)
        url = value if "://" in value else f"{self.bare_scheme}://{value}"
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise ValueError(self.accepts) from None
        if parts.scheme not in self.schemes:
            raise ValueError(self.accepts)
        if parts.scheme in self.no_port:
            if not parts.netloc:
                raise ValueError(self.accepts)
            return value
        extra = parts.username or parts.path or parts.query or parts.fragment
        if not parts.hostname or not port or extra:
            raise ValueError(self.accepts)
        return value


@dataclass(frozen=True)
class ByteSizeOption(Option):
    """A size in bytes: a whole number, or text such as ``"10MB"`` or ``"512KiB"``; kept as the
    number of bytes, at least ``minimum``."""

    minimum: int = 0

    @property
    def accepts(self) -> str:
        """What a size may be."""
        return f"a number of bytes >= {self.minimum:,}, or a size such as '10MB' or '512KiB'"

    def coerce(self, value: Any) -> int:
        """``value`` as a number of bytes."""
        if isinstance(value, bool):
            raise ValueError(self.accepts)
        try:
            if isinstance(value, int | float):
                size = int(value) if math.isfinite(value) and value == int(value) else -1
            else:
                size = parse_memory_size(str(value))
        except (ValueError, OverflowError):
            raise ValueError(self.accepts) from None
        if size < self.minimum:
            raise ValueError(self.accepts)
        return size


@dataclass(frozen=True)
class BoolOption(Option):
    """``true`` or ``false`` (JSON booleans only: ``"no"`` or ``0`` are refused, not guessed)."""

    @property
    def accepts(self) -> str:
        """What a switch may be."""
        return "true or false"

    def coerce(self, value: Any) -> bool:
        """``value``, which must be a boolean."""
        if not isinstance(value, bool):
            raise ValueError(self.accepts)
        return value


@dataclass(frozen=True)
class LevelOption(Option):
    """A ``logging`` level: a name (``DEBUG``, ``INFO``, ``WARNING``, ``ERROR``, ``CRITICAL``,
    any case) or its number; kept as the upper-case name."""

    NAMES = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

    @property
    def accepts(self) -> str:
        """The level names."""
        return "one of " + ", ".join(self.NAMES) + " (or a number 0-50)"

    def coerce(self, value: Any) -> str | int:
        """``value`` as a level name, or a number within 0..50."""
        if isinstance(value, str) and value.strip().upper() in self.NAMES:
            return value.strip().upper()
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 50:
            return value
        if isinstance(value, str) and value.strip().isdigit() and int(value) <= 50:
            return int(value)
        raise ValueError(self.accepts)
