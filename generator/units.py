"""Quantities in the spec's own words ("200ms", "80%", "4GiB", "100gwei", "1000/s") and back.

Each signal has a dimension; a threshold is parsed in that dimension and stored in the unit
Prometheus holds (seconds, a 0-1 ratio, bytes...), so rules compare raw series with it. The same
dimension says how Grafana shows the value and how an alert's text formats it.

Example::

    >>> parse_quantity("200ms", Dimension.TIME)
    0.2
    >>> format_quantity(0.2, Dimension.TIME)
    '200ms'
"""

from __future__ import annotations

import math
import re
from enum import Enum

import yaml

from exporters.catalogue import MetricUnit


class UnitError(ValueError):
    """A quantity that does not parse in the dimension it is used in; the message says why."""


class Dimension(Enum):
    TIME = "time"  # seconds
    RATIO = "ratio"  # 0..1, written as a percentage
    PERCENT = "percent"  # a metric already in 0..100
    BYTES = "bytes"
    GAS = "gas"  # gwei
    RATE = "rate"  # per second
    COUNT = "count"
    USD = "usd"
    STATE = "state"  # a named state of an enumerated gauge

    @property
    def grafana_unit(self) -> str:
        return _GRAFANA_UNIT[self]

    def value_template(self, value: str = "$value") -> str:
        """A Prometheus template expression formatting ``value`` in this dimension."""
        return _TEMPLATE[self].replace("$value", value)

    @property
    def example(self) -> str:
        return _EXAMPLE[self]


# The dimension of each unit a metric's value can have (the catalogue's MetricUnit, the one unit list).
UNIT_DIMENSION: dict[MetricUnit, Dimension] = {
    "seconds": Dimension.TIME, "bytes": Dimension.BYTES, "ratio": Dimension.RATIO,
    "percent": Dimension.PERCENT, "usd": Dimension.USD, "count": Dimension.COUNT,
    "state": Dimension.STATE, "timestamp": Dimension.COUNT, "gwei": Dimension.GAS,
    # A time, but not in the seconds signals compare: selectors refuse it, an expr divides it by 1000.
    "milliseconds": Dimension.TIME,
}

_GRAFANA_UNIT = {
    Dimension.TIME: "s",
    Dimension.RATIO: "percentunit",
    Dimension.PERCENT: "percent",
    Dimension.BYTES: "bytes",
    Dimension.GAS: "suffix: gwei",
    Dimension.RATE: "ops",
    Dimension.COUNT: "short",
    Dimension.USD: "currencyUSD",
    Dimension.STATE: "none",
}

_TEMPLATE = {
    Dimension.TIME: "{{ $value | humanizeDuration }}",
    Dimension.RATIO: "{{ $value | humanizePercentage }}",
    Dimension.PERCENT: "{{ $value | humanize }}%",
    Dimension.BYTES: "{{ $value | humanize1024 }}B",
    Dimension.GAS: "{{ $value | humanize }} gwei",
    Dimension.RATE: "{{ $value | humanize }}/s",
    Dimension.COUNT: "{{ $value | humanize }}",
    Dimension.USD: "${{ $value | humanize }}",
    Dimension.STATE: "{{ $value }}",
}

_EXAMPLE = {
    Dimension.TIME: "200ms",
    Dimension.RATIO: "80%",
    Dimension.PERCENT: "90%",
    Dimension.BYTES: "4GiB",
    Dimension.GAS: "100gwei",
    Dimension.RATE: "1000/s",
    Dimension.COUNT: "50",
    Dimension.USD: "$1000",
    Dimension.STATE: "open",
}

_TIME_UNITS = {"us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_BYTE_UNITS = {
    "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
    "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40,
}
_RATE_UNITS = {"/s": 1.0, "/m": 1 / 60, "/min": 1 / 60, "/h": 1 / 3600}
_NUMBER = r"[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?"
_QUANTITY = re.compile(rf"^\$?(?P<num>{_NUMBER})\s*(?P<unit>[A-Za-zµ%/]*)$")
_MULTIPLIER = re.compile(rf"^(?P<num>{_NUMBER})x$")


def _split(text: str) -> tuple[float, str]:
    m = _QUANTITY.match(text.strip())
    if not m:
        raise UnitError(f"{text!r} is not a quantity")
    return float(m.group("num")), m.group("unit")


def parse_multiplier(text: object) -> float | None:
    """``"1.5x"`` -> 1.5; anything else -> None; UnitError for a multiplier too large to be a number."""
    if isinstance(text, str):
        m = _MULTIPLIER.match(text.strip())
        if m:
            factor = float(m.group("num"))
            if not math.isfinite(factor):
                raise UnitError(f"{text!r} is not a finite multiplier")
            return factor
    return None


def parse_quantity(raw: object, dim: Dimension) -> float:
    """Parse a threshold written in the spec into the unit Prometheus stores for ``dim``; finite or UnitError."""
    value = _parse_quantity(raw, dim)
    if not math.isfinite(value):
        raise UnitError(f"{raw!r} is not a finite number; a threshold must be one a series can cross")
    return value


def _parse_quantity(raw: object, dim: Dimension) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise UnitError(f"{raw!r} is not a quantity; write it like {dim.example}")
    if dim is Dimension.STATE:
        raise UnitError("a state is named, not measured")
    if isinstance(raw, int | float):
        return _bare_number(float(raw), dim)
    try:
        num, unit = _split(raw)
    except UnitError:
        raise UnitError(f"{raw!r} is not a quantity; write it like {dim.example}") from None
    if unit == "":
        return _bare_number(num, dim)
    table: dict[str, float]
    if dim is Dimension.TIME:
        table = _TIME_UNITS
    elif dim is Dimension.RATIO:
        if unit == "%":
            return _ratio_range(num / 100, raw)
        table = {}
    elif dim is Dimension.PERCENT:
        table = {"%": 1.0}
    elif dim is Dimension.BYTES:
        table = {k: float(v) for k, v in _BYTE_UNITS.items()}
    elif dim is Dimension.GAS:
        table = {"gwei": 1.0}
    elif dim is Dimension.RATE:
        table = _RATE_UNITS
    elif dim is Dimension.USD:
        table = {"usd": 1.0, "USD": 1.0}
    else:
        table = {}
    if unit not in table:
        allowed = ", ".join(table) or "none"
        raise UnitError(
            f"unit {unit!r} does not fit a {dim.value} signal (units: {allowed}); write it like {dim.example}"
        )
    return num * table[unit]


def _bare_number(num: float, dim: Dimension) -> float:
    if dim is Dimension.RATIO:
        if num > 1:
            raise UnitError(f"{num:g} is not a ratio between 0 and 1; did you mean {num:g}%?")
        return _ratio_range(num, num)
    if dim in (Dimension.COUNT, Dimension.PERCENT, Dimension.USD, Dimension.GAS):
        return num
    raise UnitError(f"{num:g} needs a unit for a {dim.value} signal; write it like {dim.example}")


def _ratio_range(value: float, raw: object) -> float:
    if not 0 <= value <= 1:
        raise UnitError(f"{raw!r} is outside 0%..100%")
    return value


def format_quantity(value: float, dim: Dimension) -> str:
    """Canonical text for a value held in Prometheus units, as alerts and docs show thresholds."""
    if dim is Dimension.TIME:
        if value != 0 and abs(value) < 1e-3:
            return f"{_g(value * 1e6)}us"
        if abs(value) < 1:
            return f"{_g(value * 1e3)}ms"
        if abs(value) >= 3600 and value % 3600 == 0:
            return f"{_g(value / 3600)}h"
        if abs(value) >= 60 and value % 60 == 0:
            return f"{_g(value / 60)}m"
        return f"{_g(value)}s"
    if dim is Dimension.RATIO:
        return f"{_g(value * 100)}%"
    if dim is Dimension.PERCENT:
        return f"{_g(value)}%"
    if dim is Dimension.BYTES:
        for unit in ("TiB", "GiB", "MiB", "KiB"):
            if abs(value) >= _BYTE_UNITS[unit]:
                return f"{_g(value / _BYTE_UNITS[unit])}{unit}"
        return f"{_g(value)}B"
    if dim is Dimension.GAS:
        return f"{_g(value)}gwei"
    if dim is Dimension.RATE:
        return f"{_g(value)}/s"
    if dim is Dimension.USD:
        return f"${_g(value)}"
    return _g(value)


def _g(v: float) -> str:
    # Up to 6 significant digits, never exponent notation for values people write.
    text = f"{round(v, 6):.6g}"
    if "e" in text:
        text = f"{v:f}".rstrip("0").rstrip(".")
    return text


# prometheus/common model.ParseDuration: each unit at most once, largest first, integers only.
_PROM_DURATION = re.compile(r"^(?:([0-9]+)y)?(?:([0-9]+)w)?(?:([0-9]+)d)?(?:([0-9]+)h)?(?:([0-9]+)m)?"
                            r"(?:([0-9]+)s)?(?:([0-9]+)ms)?$")
_DURATION_MS = (31_536_000_000, 604_800_000, 86_400_000, 3_600_000, 60_000, 1_000, 1)
# Go's time.Duration counts nanoseconds in an int64: about 292 years.
_MAX_DURATION_NS = 2**63 - 1


class Duration(str):
    """A Prometheus duration, checked with Prometheus's own grammar when made; ``seconds`` is its length.

    It stays the text the user wrote (rule files and tests print it as is), so it is a ``str``.

    Example::

        >>> Duration("1h30m").seconds
        5400.0
        >>> Duration("30s1m")
        Traceback (most recent call last):
        UnitError: '30s1m' is not a Prometheus duration: ...
    """

    __slots__ = ("seconds",)
    seconds: float

    def __new__(cls, text: object) -> Duration:
        if isinstance(text, Duration):
            return text
        seconds = _duration_seconds(text)
        made = super().__new__(cls, text)
        made.seconds = seconds
        return made


# Every YAML the project writes (deploy's request bodies too) prints a Duration as the text it is.
yaml.SafeDumper.add_representer(Duration, lambda dumper, d: dumper.represent_str(str(d)))


def _duration_seconds(text: object) -> float:
    if not isinstance(text, str):
        raise UnitError(f"{text!r} is not a Prometheus duration (like 30s, 5m, 1h30m)")
    if text == "0":
        return 0.0
    m = _PROM_DURATION.match(text)
    if not text or m is None:
        raise UnitError(f"{text!r} is not a Prometheus duration: write whole numbers with units y, w, d, h, m, "
                        "s, ms, largest first and each once (like 30s, 5m, 1h30m)")
    if any(n and len(n) > 20 for n in m.groups()):  # past any int64, and too long for int() to parse
        raise UnitError(f"{text!r} is longer than Prometheus can hold (about 292 years)")
    millis = sum(int(n) * size for n, size in zip(m.groups(), _DURATION_MS, strict=True) if n)
    if millis * 1_000_000 > _MAX_DURATION_NS:
        raise UnitError(f"{text!r} is longer than Prometheus can hold (about 292 years)")
    return millis / 1000


def parse_duration(text: object) -> float:
    """A Prometheus duration ("5m", "1h30m", "0s") in seconds; ``UnitError`` if Prometheus would refuse it."""
    return Duration(text).seconds


def format_duration(seconds: float) -> Duration:
    """Seconds as the shortest Prometheus duration ("90s" -> "1m30s")."""
    if seconds == 0:
        return Duration("0s")
    if not math.isclose(seconds, round(seconds)):
        return Duration(f"{round(seconds * 1000)}ms")
    rest = round(seconds)
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if rest >= size:
            parts.append(f"{rest // size}{unit}")
            rest %= size
    return Duration("".join(parts))
