"""The numbers of the report: a KPI row per signal series, and the spans when alerts fired.

Statistics are computed from the same samples the plots draw (a range query at the period's step),
with numpy's linear interpolation for quantiles, which is PromQL's ``quantile_over_time`` rule; time
past a threshold is the number of samples past it times the step, which is what
``count_over_time((expr > t)[range:step]) * step`` answers. The tests hold the report to both.

Example::

    rows = kpis(spec, source, period)
    spans = alert_spans(source, period)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from generator.humanize import humanize_duration, humanize_percentage, render_value
from generator.kinds import record_name
from generator.model import Quantile, Signal, Spec, State, Tier
from generator.report.query import Period, Series, Source

FIRING = 'ALERTS{alertstate="firing"}'
QUANTILES = (0.5, 0.95, 0.99)


@dataclass(frozen=True)
class Breach:
    """Time one tier's threshold was crossed."""

    severity: str
    condition: str  # "> 100ms"
    seconds: float


@dataclass(frozen=True)
class Kpi:
    signal: Signal
    series: str  # the series' own labels beyond job, e.g. "type=postgres"; "" for one series
    query: str
    stats: tuple[tuple[str, float], ...]  # ("P99", 0.12) or ("min", ...)
    breaches: tuple[Breach, ...]
    samples: int

    @property
    def verdict(self) -> str:
        if self.samples == 0:
            return "no data"
        crossed = [b.severity for b in self.breaches if b.seconds > 0]
        for severity in ("critical", "warning", "info"):
            if severity in crossed:
                return f"{severity} threshold crossed"
        return "ok"

    def shown(self, name: str, value: float) -> str:
        if name.startswith("% "):
            return humanize_percentage(value)
        return render_value(self.signal.dim, value)

    def target(self) -> str:
        return "; ".join(f"{b.severity} {b.condition}" for b in self.breaches) or "-"


OP_WORDS = {">": ">", "<": "<", "==": "="}


def condition(tier: Tier, threshold: float, signal: Signal) -> str:
    shown = tier.display if threshold == tier.threshold else render_value(signal.dim, threshold)
    return f"{OP_WORDS[tier.op]} {shown}"


def _threshold_for(tier: Tier, labels: dict[str, str]) -> float | None:
    for o in tier.overrides:
        if labels.get(o.label) == o.value:
            return o.threshold
    return tier.threshold


def crossed(tier: Tier, threshold: float, values: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    if tier.op == ">":
        return np.greater(values, threshold)
    if tier.op == "<":
        return np.less(values, threshold)
    return np.equal(values, threshold)


def series_stats(signal: Signal, values: npt.NDArray[np.float64]) -> tuple[tuple[str, float], ...]:
    """P50/P95/P99 of a latency signal, min/mean/max of anything else."""
    if len(values) == 0:
        return ()
    if isinstance(signal.query, Quantile):
        return tuple((f"P{round(q * 100):d}", float(np.quantile(values, q))) for q in QUANTILES)
    if isinstance(signal.query, State):  # the share of the period in each state
        return tuple((f"% {name}", float(np.mean(values == i))) for i, name in enumerate(signal.query.states))
    return (("min", float(values.min())), ("mean", float(values.mean())), ("max", float(values.max())))


def _row(spec: Spec, signal: Signal, query: str, series: Series | None, period: Period) -> Kpi:
    labels = series.labels if series else {}
    values = series.values if series else np.array([], dtype=np.float64)
    breaches = []
    for alert in spec.alerts_on(signal):
        for tier in alert.tiers:
            threshold = _threshold_for(tier, labels)
            if threshold is None:
                continue
            n = int(crossed(tier, threshold, values).sum())
            breaches.append(Breach(tier.severity, condition(tier, threshold, signal), n * period.step))
    extra = ", ".join(f"{k}={v}" for k, v in sorted(labels.items()) if k not in ("__name__", "job"))
    return Kpi(signal, extra, query, series_stats(signal, values), tuple(breaches), len(values))


def kpis(spec: Spec, source: Source, period: Period) -> list[Kpi]:
    """A row per series of every recorded signal of ``spec``, in spec order."""
    rows = []
    for signal in spec.signals:
        name = record_name(signal)
        if name is None:  # an absence signal: its alerts say everything
            continue
        query = f'{name}{{job="{spec.job}"}}'
        found = source.range(query, period)
        if not found:
            rows.append(_row(spec, signal, query, None, period))
        for series in sorted(found, key=lambda s: sorted(s.labels.items())):
            rows.append(_row(spec, signal, query, series, period))
    return rows


@dataclass(frozen=True)
class Span:
    """One episode of an alert firing: [start, end] in Unix seconds; ``open`` if still firing at the end."""

    alert: str
    severity: str
    priority: str
    labels: dict[str, str]
    start: float
    end: float
    open: bool

    @property
    def seconds(self) -> float:
        return self.end - self.start

    def duration(self) -> str:
        return humanize_duration(self.seconds) + (" (still firing)" if self.open else "")


def spans_of(series: Series, period: Period) -> list[Span]:
    """Runs of consecutive steps of a firing ALERTS series; a gap longer than a step ends a run.

    An episode lasts from its first firing step to one step after its last (the resolution of the
    query), capped at the end of the period.
    """
    labels = series.labels
    out: list[Span] = []
    times = series.times
    if len(times) == 0:
        return out
    breaks = np.flatnonzero(np.diff(times) > period.step * 1.5)
    starts = np.concatenate(([0], breaks + 1))
    ends = np.concatenate((breaks, [len(times) - 1]))
    for a, b in zip(starts, ends, strict=True):
        last = float(times[b])
        still = last >= period.end
        out.append(Span(labels.get("alertname", "?"), labels.get("severity", ""), labels.get("priority", ""),
                        {k: v for k, v in labels.items() if k not in ("__name__", "alertstate")},
                        float(times[a]), min(last + period.step, period.end), still))
    return out


def alert_spans(source: Source, period: Period) -> list[Span]:
    """Every firing episode in the period. A step counts as firing if the alert fired at any evaluation
    within it (the window is one step, open at its start), so an episode shorter than a step is seen and
    none is stretched by the lookback of an instant selector."""
    query = f"last_over_time({FIRING}[{int(period.step * 1000) - 1}ms])"
    spans = [s for series in source.range(query, period) for s in spans_of(series, period)]
    return sorted(spans, key=lambda s: (s.start, s.alert))
