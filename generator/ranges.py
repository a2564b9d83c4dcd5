"""The values a signal's recorded series can take, so validation can refuse thresholds it never crosses.

One small function per query kind; ``value_range`` picks it. A threshold outside the range (a
negative rate, a CPU share above 100%) or on its edge in the direction of the alert (``above`` the
highest value a histogram quantile can return, ``below`` 0%) can never fire, however bad things get.

Example::

    >>> value_range(p99_signal)  # buckets up to 0.2s
    ValueRange(low=0.0, high=0.2)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from generator.model import Absent, Age, Expr, Gauge, Increase, Quantile, Query, Rate, Ratio, Signal, State
from generator.units import Dimension

INF = math.inf


@dataclass(frozen=True)
class ValueRange:
    """Closed bounds of a series' values (``-inf``/``inf`` where unbounded)."""

    low: float
    high: float

    def never_crossed(self, op: str, threshold: float) -> bool:
        """True if ``value op threshold`` holds for no value in the range."""
        if op == ">":
            return threshold >= self.high
        if op == "<":
            return threshold <= self.low
        return not self.low <= threshold <= self.high

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high


# Dimensions whose series cannot go below zero, and the ones with a ceiling too.
_NON_NEGATIVE = {Dimension.TIME, Dimension.RATIO, Dimension.PERCENT, Dimension.BYTES, Dimension.GAS,
                 Dimension.RATE, Dimension.COUNT}
_CEILING = {Dimension.RATIO: 1.0, Dimension.PERCENT: 100.0}


def _by_dimension(dim: Dimension) -> ValueRange:
    return ValueRange(0.0 if dim in _NON_NEGATIVE else -INF, _CEILING.get(dim, INF))


def quantile_range(query: Quantile, dim: Dimension) -> ValueRange:
    # histogram_quantile() interpolates inside the buckets and returns the highest finite bound
    # when the quantile falls in +Inf: nothing above it is ever returned.
    low = min(0.0, query.buckets[0]) if query.buckets else 0.0
    return ValueRange(low, query.buckets[-1] if query.buckets else INF)


def ratio_range(query: Ratio, dim: Dimension) -> ValueRange:
    return ValueRange(0.0, 1.0)


def rate_range(query: Rate | Increase, dim: Dimension) -> ValueRange:
    return ValueRange(0.0, INF)  # counters only go up; rate() and increase() correct resets


def gauge_range(query: Gauge, dim: Dimension) -> ValueRange:
    if query.divide_by is not None:
        return ValueRange(0.0, INF)  # a share of a limit may pass 100% (memory over its limit)
    base = _by_dimension(dim)
    if query.aggregate == "sum":  # the sum of per-instance percentages has no ceiling
        return ValueRange(base.low, INF)
    return base


def state_range(query: State, dim: Dimension) -> ValueRange:
    return ValueRange(0.0, float(len(query.states) - 1))


def age_range(query: Age, dim: Dimension) -> ValueRange:
    return ValueRange(0.0, INF)


def expr_range(query: Expr, dim: Dimension) -> ValueRange:
    return ValueRange(-INF, INF)  # free PromQL: a difference or a z-score may be negative


def absent_range(query: Absent, dim: Dimension) -> ValueRange:
    return ValueRange(1.0, 1.0)  # absent() returns 1 or nothing


_RANGES: dict[type, Callable[..., ValueRange]] = {
    Quantile: quantile_range, Ratio: ratio_range, Rate: rate_range, Increase: rate_range, Gauge: gauge_range,
    State: state_range, Age: age_range, Expr: expr_range, Absent: absent_range,
}


def query_range(query: Query, dim: Dimension) -> ValueRange:
    return _RANGES[type(query)](query, dim)


def value_range(signal: Signal) -> ValueRange:
    """Every value the signal's recording rule can hold."""
    return query_range(signal.query, signal.dim)
