"""Python twins of Prometheus' template functions (template/template.go, 2.42).

Generated promtool tests state the exact annotation text an alert will carry, so they need the
text Prometheus renders for a value; promtool then proves twin and original agree.

Example::

    >>> humanize_duration(0.245)
    '245ms'
"""

from __future__ import annotations

import decimal
import math

from generator.units import Dimension


def _g4(v: float) -> str:
    """Go's %.4g (which writes +Inf, -Inf and NaN)."""
    return _non_finite(v) or f"{v:.4g}"


def _non_finite(v: float) -> str:
    """How Go's fmt and strconv write a value that is not a finite number ("" for one that is)."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    return ""


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
    """``{{ $value }}``: Go's strconv.FormatFloat(v, 'g', -1, 64): the shortest digits that read back
    as ``v`` (as Python's repr finds them), in %e form when the exponent is under -4 or 6 and over."""
    if not math.isfinite(v):
        return _non_finite(v)
    sign = "-" if math.copysign(1.0, v) < 0 else ""
    if v == 0:
        return sign + "0"
    exact = decimal.Decimal(repr(abs(v))).normalize().as_tuple()
    digits = "".join(map(str, exact.digits))
    assert isinstance(exact.exponent, int)
    point = len(digits) + exact.exponent  # where the decimal point goes, counted from the first digit
    exp = point - 1
    if exp < -4 or exp >= 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return sign + digits + "0" * (point - len(digits))
    return f"{sign}{digits[:point]}.{digits[point:]}"


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
