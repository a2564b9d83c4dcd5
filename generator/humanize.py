"""Python twins of Prometheus' template functions (template/template.go, 2.42).

Generated promtool tests state the exact annotation text an alert will carry, so they need the
text Prometheus renders for a value; promtool then proves twin and original agree.

Example::

    >>> humanize_duration(0.245)
    '245ms'
"""

from __future__ import annotations

import math

from generator.units import Dimension


def _g4(v: float) -> str:
    """Go's %.4g."""
    return f"{v:.4g}"


def humanize(v: float) -> str:
    if v == 0 or math.isnan(v) or math.isinf(v):
        return _g4(v)
    if abs(v) >= 1:
        prefix = ""
        for p in ("k", "M", "G", "T", "P", "E", "Z", "Y"):
            if abs(v) < 1000:
                break
            prefix = p
            v /= 1000
        return _g4(v) + prefix
    prefix = ""
    for p in ("m", "u", "n", "p", "f", "a", "z", "y"):
        if abs(v) >= 1:
            break
        prefix = p
        v *= 1000
    return _g4(v) + prefix


def humanize_1024(v: float) -> str:
    if abs(v) <= 1 or math.isnan(v) or math.isinf(v):
        return _g4(v)
    prefix = ""
    for p in ("ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"):
        if abs(v) < 1024:
            break
        prefix = p
        v /= 1024
    return _g4(v) + prefix


def humanize_duration(v: float) -> str:
    if math.isnan(v) or math.isinf(v):
        return _g4(v)
    if v == 0:
        return _g4(v) + "s"
    if abs(v) >= 1:
        sign = "-" if v < 0 else ""
        v = abs(v)
        duration = int(v)
        seconds, minutes = duration % 60, (duration // 60) % 60
        hours, days = (duration // 3600) % 24, duration // 86400
        if days:
            return f"{sign}{days}d {hours}h {minutes}m {seconds}s"
        if hours:
            return f"{sign}{hours}h {minutes}m {seconds}s"
        if minutes:
            return f"{sign}{minutes}m {seconds}s"
        return f"{sign}{_g4(v)}s"
    prefix = ""
    for p in ("m", "u", "n", "p", "f", "a", "z", "y"):
        if abs(v) >= 1:
            break
        prefix = p
        v *= 1000
    return f"{_g4(v)}{prefix}s"


def humanize_percentage(v: float) -> str:
    return _g4(v * 100) + "%"


def go_float(v: float) -> str:
    """``{{ $value }}``: Go's strconv.FormatFloat(v, 'g', -1, 64)."""
    if v == int(v) and abs(v) < 1e21:
        return str(int(v))
    text = repr(v)
    if "e" in text:
        mantissa, exp = text.split("e")
        sign = exp[0] if exp[0] in "+-" else "+"
        digits = exp.lstrip("+-").rjust(2, "0")
        return f"{mantissa}e{sign}{digits}"
    return text


def render_value(dim: Dimension, v: float) -> str:
    """What ``Dimension.value_template()`` renders to for ``v``."""
    return {
        Dimension.TIME: lambda: humanize_duration(v),
        Dimension.RATIO: lambda: humanize_percentage(v),
        Dimension.PERCENT: lambda: humanize(v) + "%",
        Dimension.BYTES: lambda: humanize_1024(v) + "B",
        Dimension.GAS: lambda: humanize(v) + " gwei",
        Dimension.RATE: lambda: humanize(v) + "/s",
        Dimension.COUNT: lambda: humanize(v),
        Dimension.USD: lambda: "$" + humanize(v),
        Dimension.STATE: lambda: go_float(v),
    }[dim]()
