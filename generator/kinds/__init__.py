"""Signal kinds: one module per kind, each behind :class:`~generator.kinds.base.Kind`.

Everything that differs between kinds (recording rules, alert condition, panel queries, value
range, raw series for tests, alert texts) lives in the kind's module; emitters ask ``kind_of``.
A new kind is a new module and one line in ``REGISTRY``.

Example::

    >>> kind_of(signal).records(signal)[0].name
    'job:node_latency:p99_5m'
"""

from __future__ import annotations

from generator.kinds import absent, age, expr, gauge, increase, quantile, rate, ratio, state
from generator.kinds.base import Kind, PanelQuery, RawSeries, Record, Synthesis
from generator.model import Absent, Age, Expr, Gauge, Increase, Quantile, Rate, Ratio, Signal, State

REGISTRY: dict[type, Kind] = {
    Quantile: quantile.KIND,
    Ratio: ratio.KIND,
    Rate: rate.KIND,
    Gauge: gauge.KIND,
    State: state.KIND,
    Increase: increase.KIND,
    Age: age.KIND,
    Absent: absent.KIND,
    Expr: expr.KIND,
}


def kind_of(signal: Signal) -> Kind:
    return REGISTRY[type(signal.query)]


def record_name(signal: Signal) -> str | None:
    """The recorded series a signal's alerts compare (None for absence, which is not recorded)."""
    return kind_of(signal).record_name(signal)


def value_range(signal: Signal) -> tuple[float, float]:
    """The closed range of values raw data can give the signal: thresholds outside never fire."""
    return kind_of(signal).value_range(signal)


__all__ = ["REGISTRY", "Kind", "PanelQuery", "RawSeries", "Record", "Synthesis", "kind_of", "record_name",
           "value_range"]
