"""The analysis sections of the spec as frozen dataclasses: what the analysis emitters read.

Numbers are resolved (objectives are 0-1 ratios, latencies seconds), windows are Prometheus
durations, and alert names, severities and priorities are filled in.
"""

from __future__ import annotations

from dataclasses import dataclass

from generator.model import Priority, Selector, Severity, Signal


@dataclass(frozen=True)
class LatencySli:
    """Good events are observations at or under ``le`` (a bucket boundary) of a histogram."""

    histogram: Selector  # the histogram's base name, with its label matchers
    le: float
    le_label: str  # the bucket's ``le`` label value as the exporter writes it


@dataclass(frozen=True)
class EventsSli:
    """Bad events over all events, each one counter selector."""

    errors: Selector
    total: Selector


Sli = LatencySli | EventsSli


@dataclass(frozen=True)
class BurnWindow:
    """One multi-window condition: both windows burn faster than ``factor`` times the budget rate."""

    long: str
    short: str
    factor: float


@dataclass(frozen=True)
class BurnAlert:
    """The page or the ticket alert of an SLO: fires when any of its windows burns too fast."""

    kind: str  # "page" or "ticket"
    name: str
    severity: Severity
    priority: Priority
    windows: tuple[BurnWindow, ...]


@dataclass(frozen=True)
class Slo:
    name: str
    title: str
    description: str
    objective: float  # 0.999
    objective_display: str  # "99.9%"
    period: str  # "30d"
    sli: Sli
    alerts: tuple[BurnAlert, ...]
    impact: str = ""
    action: str = ""
    runbook_url: str = ""
    line: int = 0

    @property
    def budget(self) -> float:
        """The error ratio the objective allows (1 - objective), rounded off float noise."""
        return round(1 - self.objective, 12)

    def windows(self) -> tuple[str, ...]:
        """Every window an alert reads, shortest first, without repeats."""
        from generator.units import parse_duration

        names = {w for a in self.alerts for b in a.windows for w in (b.long, b.short)}
        return tuple(sorted(names, key=parse_duration))


@dataclass(frozen=True)
class HealthComponent:
    """One component's SLA contract: the ``by`` label's value, its latency and error-rate limits."""

    name: str
    max_latency: float  # seconds, a bucket boundary of the latency histogram
    max_latency_display: str
    le_label: str
    max_error_rate: float  # 0-1
    max_error_rate_display: str


@dataclass(frozen=True)
class Health:
    """Seed 003's 0-100 health score and latency trend per component, and an alert when unhealthy."""

    title: str
    by: str  # the label naming the component
    latency: Selector  # histogram base name
    errors: Selector
    total: Selector
    components: tuple[HealthComponent, ...]
    window: str  # the window of the mean latency and error rate
    violations_window: str  # "recent" violations (slow operations) counted over this
    trend_window: str  # the trend compares the last quarter of this window with the quarter before
    healthy_above: float
    alert: str
    severity: Severity
    priority: Priority
    for_: str
    summary: str
    impact: str = ""
    action: str = ""
    runbook_url: str = ""
    line: int = 0


@dataclass(frozen=True)
class BaselineValue:
    """A KPI as ``tradewatch baseline capture`` measured it."""

    value: float
    captured_at: str  # ISO 8601, UTC
    window: str


@dataclass(frozen=True)
class Kpi:
    """A signal watched for regressions: worse than its baseline, or than a week earlier, by more
    than ``tolerance``."""

    signal: Signal
    record: str  # the signal's recorded series
    worse: str  # "higher" or "lower"
    tolerance: float  # 0.1 for 10%
    baseline: BaselineValue | None  # None until captured

    @property
    def name(self) -> str:
        return self.signal.name

    def limit(self) -> float | None:
        """The baseline moved by the tolerance, in the bad direction."""
        if self.baseline is None:
            return None
        factor = 1 + self.tolerance if self.worse == "higher" else 1 - self.tolerance
        return round(self.baseline.value * factor, 12)

    def week_factor(self) -> float:
        return round(1 + self.tolerance if self.worse == "higher" else 1 - self.tolerance, 12)


@dataclass(frozen=True)
class Regressions:
    baseline_file: str  # as the spec names it, relative to the spec
    kpis: tuple[Kpi, ...]
    for_: str
    severity: Severity
    priority: Priority
    line: int = 0


@dataclass(frozen=True)
class Analysis:
    slos: tuple[Slo, ...] = ()
    health: Health | None = None
    regressions: Regressions | None = None
