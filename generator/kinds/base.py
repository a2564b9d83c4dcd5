"""What every signal kind knows, behind one interface; each kind is one module beside this one.

A kind turns a :class:`~generator.model.Signal` into its recording rules, its alert condition and
its panel queries, says which values raw data can produce (``value_range``), and synthesises the
raw series an exporter would publish (histogram buckets, counters, gauges) that make the recorded
value equal a requested one, so generated promtool tests prove the chain from what an exporter
publishes to each alert.

Example::

    >>> kind_of(signal).record_name(signal)
    'job:node_latency:p99_5m'
"""

from __future__ import annotations

import dataclasses
import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field

from generator import conventions, promql
from generator.humanize import render_value
from generator.model import Alert, Increase, Quantile, Rate, Ratio, Selector, Signal, Tier
from generator.units import Duration


@dataclass(frozen=True)
class Record:
    """One recording rule."""

    name: str
    expr: str


@dataclass(frozen=True)
class PanelQuery:
    """One panel target: ``expr`` takes a label-matcher text (e.g. ``{job=~"$job"}``) via ``{matchers}``."""

    expr: str
    legend: str


@dataclass(frozen=True)
class RawSeries:
    """A raw series as a promtool input: ``start`` at t=0, then ``increment`` per sample."""

    metric: str
    labels: tuple[tuple[str, str], ...]
    start: float = 0.0
    increment: float = 0.0
    # A staleness marker after this many samples (the series vanishes), or None.
    stale_after: int | None = None
    # Explicit first samples; ``start`` and ``increment`` then continue from the last of them.
    values: tuple[float, ...] = ()
    # A timestamp that keeps time with the clock: starting late, it starts where it would have got to.
    clock: bool = False

    def text(self) -> str:
        return series_text(self.metric, dict(self.labels))

    def text_values(self, samples: int, skip: int = 0) -> str:
        """promtool's series notation for samples 0..``samples``, the first ``skip`` of them missing."""
        count = samples - skip if self.stale_after is None else self.stale_after
        explicit = [promql.number(v) for v in self.values]
        start = self.values[-1] + self.increment if self.values else self.start
        if self.clock:
            start += skip * self.increment
        sign = "+" if self.increment >= 0 else ""
        rest = f"{promql.number(start)}{sign}{promql.number(self.increment)}x{count - len(explicit)}"
        missing = [f"_x{skip}"] if skip else []
        return " ".join([*missing, *explicit, rest]) + (" stale" if self.stale_after is not None else "")


@dataclass(frozen=True)
class Synthesis:
    """Raw series and the recorded value they produce over time.

    From ``first`` on the recorded value is ``value``, except that a windowed counter's value ramps
    up linearly over its first ``ramp`` seconds (``rate()`` sees fewer samples than its window and
    does not extrapolate below a counter's start at zero). NaN: the rule yields NaN (no traffic).
    """

    series: tuple[RawSeries, ...]
    value: float
    first: float = 0.0
    ramp: float = 0.0
    # After ``last`` the recorded value falls to 0 (a counter's one jump leaving its window).
    last: float = math.inf
    exact: bool = True  # False: ``value`` is as close as the buckets allow to the value asked for
    extra: Mapping[str, float] = field(default_factory=dict)  # further recorded series (e.g. P50)
    # The recorded value at every ``trace_step`` from the first sample, where a kind evaluated it
    # (free PromQL); the last one holds on. Empty: the fields above say it.
    trace: tuple[float | None, ...] = ()
    trace_step: float = 0.0

    def at(self, t: float) -> float | None:
        """The recorded value at evaluation time ``t`` (seconds from the first sample), or None."""
        if self.trace:
            return None if t < 0 else self.trace[min(int(t // self.trace_step), len(self.trace) - 1)]
        if t < self.first:
            return None
        if t > self.last:
            return 0.0
        if self.ramp and t < self.ramp and not math.isnan(self.value):
            return self.value * t / self.ramp
        return self.value


    def settled(self) -> float:
        """From when on the recorded value holds still (a windowed counter's ramp over, the first
        sample in, or the trace's last change)."""
        if self.trace:
            changes = [i for i in range(1, len(self.trace)) if self.trace[i] != self.trace[i - 1]
                       and not (_nan(self.trace[i]) and _nan(self.trace[i - 1]))]
            return (changes[-1] if changes else 0) * self.trace_step
        return max(self.ramp, self.first if math.isfinite(self.first) else 0.0)


def _nan(v: float | None) -> bool:
    return v is not None and math.isnan(v)


def series_text(name: str, labels: Mapping[str, str]) -> str:
    inner = ", ".join(f"{k}={promql.quote(v)}" for k, v in labels.items())
    return f"{name}{{{inner}}}"


def matched_labels(sel: Selector) -> dict[str, str]:
    """Labels a raw series needs to match ``sel`` (the first alternative of a regex match)."""
    return {name: value[0] if isinstance(value, tuple) else value for name, value in sel.match}


def matches(metric: str, labels: Mapping[str, str], sel: Selector) -> bool:
    if metric != sel.metric:
        return False
    for label, value in sel.match:
        allowed = value if isinstance(value, tuple) else (value,)
        if labels.get(label) not in allowed:
            return False
    return True


class Kind(ABC):
    """The interface every signal kind implements; :mod:`generator.kinds` maps query types to kinds."""

    # Alerts fire per instance: the recorded series keeps ``instance`` (state, gauge, absence).
    per_instance: bool = False
    # The alert fires on a series' absence, not on a value crossing a threshold.
    alerts_on_absence: bool = False

    # --- names and rules --------------------------------------------------------------------
    def group_labels(self, signal: Signal) -> tuple[str, ...]:
        extra = (conventions.INSTANCE_LABEL,) if self.per_instance else ()
        return (conventions.LEVEL_LABEL, *extra, *signal.by)

    def by(self, signal: Signal) -> str:
        return ", ".join(self.group_labels(signal))

    @abstractmethod
    def operation(self, signal: Signal) -> str:
        """The ``operations`` part of the recorded series' name."""

    def record_name(self, signal: Signal) -> str | None:
        """The series the alerts compare and the panel draws (None: nothing is recorded)."""
        return conventions.record_name(self.group_labels(signal), signal.name, self.operation(signal))

    @abstractmethod
    def expr(self, signal: Signal) -> str:
        """The PromQL the recording rule evaluates."""

    def records(self, signal: Signal) -> list[Record]:
        name = self.record_name(signal)
        return [] if name is None else [Record(name, self.expr(signal))]

    @abstractmethod
    def metrics(self, signal: Signal) -> tuple[str, ...]:
        """Every raw metric the signal reads."""

    def alert_expr(self, signal: Signal, tier: Tier, job: str) -> str:
        """``record op threshold``; per-label thresholds become one union, each label value with its
        own number and the rest with the tier's, so one rule (and one alert identity) serves them all."""
        record = self.record_name(signal)
        assert record is not None
        return threshold_expr(record, tier)

    def query_text(self, signal: Signal, job: str) -> str:
        """The query a person reads in the runbook."""
        return self.expr(signal)

    def window(self, signal: Signal) -> str | None:
        """The range the recording rule looks back over (None for instant kinds)."""
        return None

    def with_window(self, signal: Signal, window: str) -> Signal:
        """``signal`` looking back over ``window`` instead (unchanged for instant kinds)."""
        return signal

    # --- panels -----------------------------------------------------------------------------
    def legend(self, signal: Signal) -> str:
        labels = [label for label in self.group_labels(signal) if label != conventions.LEVEL_LABEL]
        return " ".join(f"{{{{{label}}}}}" for label in labels) or "{{job}}"

    def panel_queries(self, signal: Signal) -> list[PanelQuery]:
        record = self.record_name(signal)
        assert record is not None
        return [PanelQuery(record + "{matchers}", self.legend(signal))]

    def keeps_jobs_apart(self, signal: Signal) -> bool:
        """Whether one job's raw series leave another job's recorded value alone, so test cases
        under different jobs can share a timeline (every kind's rules group by job)."""
        return True

    def states(self, signal: Signal) -> tuple[str, ...]:
        """Named states of an enumerated gauge (empty for every other kind)."""
        return ()

    # --- values -----------------------------------------------------------------------------
    @abstractmethod
    def value_range(self, signal: Signal) -> tuple[float, float]:
        """The closed range of values raw data can make the recorded series take."""

    def value_template(self, signal: Signal) -> str:
        return signal.dim.value_template()

    def render_value(self, signal: Signal, value: float) -> str:
        """What ``value_template`` renders to for ``value`` in Prometheus."""
        return render_value(signal.dim, value)

    def labels_template(self, signal: Signal) -> dict[str, str]:
        return {label: f"{{{{ $labels.{label} }}}}" for label in self.group_labels(signal)}

    def rendered_labels(self, signal: Signal, labels: Mapping[str, str]) -> dict[str, str]:
        """What ``labels_template`` renders to for an alert carrying ``labels``."""
        return {k: labels[k] for k in self.group_labels(signal) if k in labels}

    def alert_labels(self, signal: Signal, labels: Mapping[str, str]) -> dict[str, str]:
        """The labels an alert on the recorded series ``labels`` carries (besides the tier's)."""
        return dict(labels)

    def fires(self, tier: Tier, threshold: float | None, value: float) -> bool:
        """Whether the alert condition holds for a recorded ``value``."""
        return tier.crossed(value, threshold)

    def describe(self, alert: Alert, tier: Tier, value: str, labels: Mapping[str, str], display: str) -> str:
        """The description annotation: measured value, threshold, and which series.

        ``value`` and ``labels`` are templates in rule files and rendered text in tests.
        """
        job = labels.get(conventions.LEVEL_LABEL, "")
        return f"{alert.signal.title} on {job}{where(labels)} is {value} (threshold: {display})."

    # --- raw series -------------------------------------------------------------------------
    @abstractmethod
    def synthesise(self, signal: Signal, labels: Mapping[str, str], value: float, step: float,
                   hold: float = 0.0) -> Synthesis:
        """Raw series, labelled so the recorded series carries ``labels``, that make it ``value``
        (or as close as raw data can; ``Synthesis.exact`` says which), sampled every ``step``, for
        at least ``hold`` seconds after it is first seen."""

    def exact_records(self, signal: Signal, labels: Mapping[str, str], step: float) -> Synthesis | None:
        """Raw series whose every recorded series (``Synthesis.extra``) Prometheus computes to the
        exact float given, for kinds that record more than their alerts read (None otherwise)."""
        return None

    def no_traffic(self, signal: Signal, labels: Mapping[str, str], step: float) -> Synthesis | None:
        """The raw series of a quiet system (counters that do not move), or None for gauges."""
        return None


class WindowedKind(Kind):
    """A kind whose query reads a counter over its ``window`` (quantile, ratio, rate, increase)."""

    def window(self, signal: Signal) -> str | None:
        query = signal.query
        assert isinstance(query, Quantile | Ratio | Rate | Increase)
        return query.window

    def with_window(self, signal: Signal, window: str) -> Signal:
        query = signal.query
        assert isinstance(query, Quantile | Ratio | Rate | Increase)
        return dataclasses.replace(signal, query=dataclasses.replace(query, window=Duration(window)))


def where(labels: Mapping[str, str]) -> str:
    text = ", ".join(f"{k}={v}" for k, v in labels.items() if k != conventions.LEVEL_LABEL)
    return f" ({text})" if text else ""


def threshold_expr(record: str, tier: Tier) -> str:
    assert tier.threshold is not None
    if not tier.overrides:
        return f"{record} {tier.op} {promql.number(tier.threshold)}"
    parts = [f"{record}{{{o.label}={promql.quote(o.value)}}} {tier.op} {promql.number(o.threshold)}"
             for o in tier.overrides]
    parts.append(f"{record}{{{promql.override_exclusion(tier.overrides)}}} {tier.op} {promql.number(tier.threshold)}")
    return " or ".join(f"({p})" for p in parts)


def raw_labels(labels: Mapping[str, str], sel: Selector) -> dict[str, str]:
    return {**labels, **matched_labels(sel)}


def counter(metric: str, labels: Mapping[str, str], per_second: float, step: float) -> RawSeries:
    return RawSeries(metric, tuple(labels.items()), 0.0, per_second * step)


def gauge(metric: str, labels: Mapping[str, str], value: float, per_sample: float = 0.0) -> RawSeries:
    return RawSeries(metric, tuple(labels.items()), value, per_sample)

