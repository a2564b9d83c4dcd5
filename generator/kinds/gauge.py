"""A gauge per instance (memory, connections, gas price), optionally over a limit gauge.

Aggregated ``by (job, instance, ...)``: one instance in trouble alerts and is named, however the
others fare (a fleet-wide ``min`` or ``max`` would hide it behind a healthy instance or an average).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from generator import conventions, promql
from generator.kinds.base import Kind, RawSeries, Synthesis, gauge, raw_labels
from generator.model import Gauge, Signal
from generator.units import Dimension

# The limit a synthesised ``divide_by`` gauge reports: a power of two keeps value*limit/limit exact.
LIMIT = 2.0**32


def _query(signal: Signal) -> Gauge:
    assert isinstance(signal.query, Gauge)
    return signal.query


def dimension_range(dim: Dimension) -> tuple[float, float]:
    """What a gauge in ``dim`` can read: shares 0..1, percentages 0..100, the rest non-negative."""
    if dim is Dimension.RATIO:
        return (0.0, 1.0)
    if dim is Dimension.PERCENT:
        return (0.0, 100.0)
    if dim is Dimension.USD:
        return (-math.inf, math.inf)
    return (0.0, math.inf)


class GaugeKind(Kind):
    per_instance = True

    def operation(self, signal: Signal) -> str:
        query = _query(signal)
        return conventions.gauge_op(query.aggregate, divided=query.divide_by is not None)

    def expr(self, signal: Signal) -> str:
        query = _query(signal)
        by = self.by(signal)
        expr = f"{query.aggregate} by ({by}) ({promql.selector(query.source)})"
        if query.divide_by:
            expr += f" / {query.aggregate} by ({by}) ({promql.selector(query.divide_by)})"
        return expr

    def metrics(self, signal: Signal) -> tuple[str, ...]:
        query = _query(signal)
        return (query.source.metric, *((query.divide_by.metric,) if query.divide_by else ()))

    def value_range(self, signal: Signal) -> tuple[float, float]:
        query = _query(signal)
        if query.divide_by is not None:
            return (0.0, math.inf)  # a share of a limit may pass 100% (memory over its limit)
        low, high = dimension_range(signal.dim)
        # The sum of per-instance shares or percentages has no ceiling.
        return (low, math.inf) if query.aggregate == "sum" else (low, high)

    def synthesise(self, signal: Signal, labels: Mapping[str, str], value: float, step: float,
                   hold: float = 0.0) -> Synthesis:
        query = _query(signal)
        series: tuple[RawSeries, ...]
        if query.divide_by:
            series = (gauge(query.source.metric, raw_labels(labels, query.source), value * LIMIT),
                      gauge(query.divide_by.metric, raw_labels(labels, query.divide_by), LIMIT))
        else:
            series = (gauge(query.source.metric, raw_labels(labels, query.source), value),)
        return Synthesis(series, value)


KIND = GaugeKind()
