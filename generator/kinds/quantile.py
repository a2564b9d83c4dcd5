"""A quantile of a histogram: ``histogram_quantile`` over the rates of its ``_bucket`` counters."""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping

from generator import conventions, promql
from generator.kinds.base import PanelQuery, Record, Synthesis, WindowedKind, counter, raw_labels
from generator.model import Quantile, Signal
from generator.units import parse_duration

# Observations per second in a synthesised histogram: any positive number gives the same quantile.
RATE = 1.0


def _query(signal: Signal) -> Quantile:
    assert isinstance(signal.query, Quantile)
    return signal.query


def le_text(bound: float) -> str:
    return "+Inf" if math.isinf(bound) else promql.number(bound)


def histogram_quantile(q: float, bounds: tuple[float, ...], cumulative: list[float]) -> float:
    """Prometheus' ``bucketQuantile`` (promql/quantile.go, 2.42) over finite ``bounds`` and the
    cumulative counts of each bound and of ``+Inf``."""
    total = cumulative[-1]
    if total == 0:
        return math.nan
    rank = q * total
    b = next(i for i, c in enumerate(cumulative) if c >= rank or i == len(cumulative) - 1)
    if b == len(bounds):
        return bounds[-1]
    if b == 0 and bounds[0] <= 0:
        return bounds[0]
    start = bounds[b - 1] if b > 0 else 0.0
    count = cumulative[b] - (cumulative[b - 1] if b > 0 else 0.0)
    rank -= cumulative[b - 1] if b > 0 else 0.0
    return start + (bounds[b] - start) * (rank / count)


def quantile_range(q: float, bounds: tuple[float, ...]) -> tuple[float, float]:
    """The values ``histogram_quantile(q)`` can take over buckets with these finite bounds."""
    if bounds[0] <= 0:
        return (bounds[0], bounds[-1])
    return (q * bounds[0], bounds[-1])


def bucket_weights(q: float, bounds: tuple[float, ...], target: float) -> tuple[list[float], bool]:
    """Cumulative shares of observations per bound (and +Inf) whose ``q`` quantile is ``target``.

    ``histogram_quantile`` interpolates linearly inside the bucket holding the rank, so a share B in
    that bucket, A below it and the rest in +Inf put the quantile at a chosen fraction f of the
    bucket: rank q = A + f*B. Raw data cannot reach past the top finite bucket, nor below q times
    the first bound (nothing lies below the first bucket); such targets get the nearest value
    raw data can give, with ``exact=False``.
    """
    lo, hi = quantile_range(q, bounds)
    exact = lo <= target <= hi and target > 0
    target = min(max(target, lo, math.nextafter(0.0, 1.0)), hi)
    i = bisect.bisect_left(bounds, target)
    start = bounds[i - 1] if i > 0 else 0.0
    f = (target - start) / (bounds[i] - start)
    limits = [1.0, q / f]
    if f < 1:
        limits.append((1 - q) / (1 - f))
    share = min(limits)
    below = max(q - f * share, 0.0)
    cumulative = [below if j < i else below + share for j in range(len(bounds))] + [1.0]
    return cumulative, exact


class QuantileKind(WindowedKind):
    def operation(self, signal: Signal, q: float | None = None) -> str:
        query = _query(signal)
        return conventions.quantile_op(query.q if q is None else q, query.window)

    def quantiles(self, signal: Signal) -> list[float]:
        """The alerting quantile first, then the ones drawn beside it."""
        query = _query(signal)
        return [query.q, *sorted(set(query.show) - {query.q})]

    def record_for(self, signal: Signal, q: float) -> str:
        return conventions.record_name(self.group_labels(signal), signal.name, self.operation(signal, q))

    def expr(self, signal: Signal, q: float | None = None) -> str:
        query = _query(signal)
        inner = (f"sum by ({self.by(signal)}, le) "
                 f"(rate({promql.selector(query.source, suffix='_bucket')}[{query.window}]))")
        return f"histogram_quantile({promql.number(query.q if q is None else q)}, {inner})"

    def records(self, signal: Signal) -> list[Record]:
        return [Record(self.record_for(signal, q), self.expr(signal, q)) for q in self.quantiles(signal)]

    def panel_queries(self, signal: Signal) -> list[PanelQuery]:
        return [PanelQuery(self.record_for(signal, q) + "{matchers}",
                           f"{conventions.quantile_tag(q).upper()} {self.legend(signal)}")
                for q in sorted(self.quantiles(signal))]

    def metrics(self, signal: Signal) -> tuple[str, ...]:
        return (_query(signal).source.metric,)  # the histogram family: its _bucket series are read

    def value_range(self, signal: Signal) -> tuple[float, float]:
        query = _query(signal)
        return quantile_range(query.q, query.buckets) if query.buckets else (0.0, math.inf)

    def _histogram(self, signal: Signal, labels: Mapping[str, str], cumulative: list[float],
                   step: float) -> Synthesis:
        query = _query(signal)
        base = raw_labels(labels, query.source)
        bounds = (*query.buckets, math.inf)
        series = tuple(counter(f"{query.source.metric}_bucket", {**base, "le": le_text(b)}, RATE * c, step)
                       for b, c in zip(bounds, cumulative, strict=True))
        # The per-second rates rate() returns once its window is full, with Prometheus' own float
        # steps (2.42: increase * ((extrapolated / sampled) / range)), so exact values match to the bit.
        window = parse_duration(query.window)
        rates = [(RATE * c * window) * (1.0 / window) for c in cumulative]
        values = {q: histogram_quantile(q, query.buckets, rates) for q in self.quantiles(signal)}
        # Every bucket scales alike while rate() warms up, so the quantile holds from the 2nd sample.
        return Synthesis(series, values[query.q], first=step,
                         extra={self.record_for(signal, q): v for q, v in values.items()})

    def synthesise(self, signal: Signal, labels: Mapping[str, str], value: float, step: float,
                   hold: float = 0.0) -> Synthesis:
        query = _query(signal)
        cumulative, exact = bucket_weights(query.q, query.buckets, value)
        made = self._histogram(signal, labels, cumulative, step)
        return Synthesis(made.series, made.value, made.first, exact=exact and math.isclose(made.value, value))

    def exact_records(self, signal: Signal, labels: Mapping[str, str], step: float) -> Synthesis | None:
        # One observation a second in each finite bucket: whole-number rates once the window is
        # full, so every quantile Prometheus interpolates is the float computed here, to the bit.
        if len(self.quantiles(signal)) < 2:
            return None
        buckets = _query(signal).buckets
        cumulative = [float(i + 1) for i in range(len(buckets))] + [float(len(buckets))]
        return self._histogram(signal, labels, cumulative, step)

    def no_traffic(self, signal: Signal, labels: Mapping[str, str], step: float) -> Synthesis | None:
        made = self._histogram(signal, labels, [0.0] * (len(_query(signal).buckets) + 1), step)
        return Synthesis(made.series, made.value, made.first)


KIND = QuantileKind()
