"""The validated threshold spec as frozen dataclasses: what every emitter reads.

The model is not the spec's shape: units are resolved (thresholds hold Prometheus values, e.g.
seconds and 0-1 ratios), SLA multipliers are multiplied out, defaults are filled in and references
are objects, so emitters never parse or guess.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Literal

from exporters.catalogue import MetricDef
from generator.units import Dimension, Duration

if TYPE_CHECKING:
    from generator.analysis.model import Analysis

Severity = Literal["critical", "warning", "info"]
Priority = Literal["critical", "high", "medium", "low"]
Op = Literal[">", "<", "=="]
Aggregate = Literal["max", "min", "sum", "avg"]
Evaluator = Literal["prometheus", "mimir", "grafana"]

SEVERITIES: tuple[Severity, ...] = ("critical", "warning", "info")
PRIORITIES: tuple[Priority, ...] = ("critical", "high", "medium", "low")
DEFAULT_PRIORITY: dict[Severity, Priority] = {"critical": "critical", "warning": "high", "info": "low"}


@dataclass(frozen=True)
class Selector:
    """A metric with label matchers; a tuple value matches any of its members (``=~``)."""

    metric: str
    match: tuple[tuple[str, str | tuple[str, ...]], ...] = ()


@dataclass(frozen=True)
class Quantile:
    source: Selector
    q: float
    window: Duration
    buckets: tuple[float, ...]
    # Further quantiles recorded and drawn on the same panel (e.g. P50 and P95 beside P99).
    show: tuple[float, ...] = ()


@dataclass(frozen=True)
class Ratio:
    numerator: tuple[Selector, ...]
    denominator: tuple[Selector, ...]
    window: Duration


@dataclass(frozen=True)
class Rate:
    source: Selector
    window: Duration


@dataclass(frozen=True)
class Gauge:
    source: Selector
    aggregate: Aggregate
    divide_by: Selector | None = None


@dataclass(frozen=True)
class State:
    source: Selector
    states: tuple[str, ...]  # state name by value: states[0] is 0

    def value_of(self, name: str) -> int:
        return self.states.index(name)


@dataclass(frozen=True)
class Increase:
    source: Selector
    window: Duration


@dataclass(frozen=True)
class Age:
    """Seconds since a timestamp gauge last moved (an oracle update, a heartbeat)."""

    source: Selector


@dataclass(frozen=True)
class Absent:
    """The series is gone: no threshold, the alert fires on absence."""

    source: Selector


@dataclass(frozen=True)
class Expr:
    """Raw PromQL, for what the kinds above cannot say."""

    expr: str
    metrics: tuple[str, ...]


Query = Quantile | Ratio | Rate | Gauge | State | Increase | Age | Absent | Expr


@dataclass(frozen=True)
class Signal:
    """One measured series: a recording rule, a panel, and what alerts compare with thresholds."""

    name: str
    title: str
    description: str
    dashboard: str
    query: Query
    dim: Dimension
    by: tuple[str, ...] = ()
    objective: float | None = None  # the SLA contract value, for "1.5x" thresholds
    overview: bool = False
    line: int = 0


@dataclass(frozen=True)
class Override:
    """A threshold for the series whose ``label`` is ``value`` (per endpoint, per pair...)."""

    label: str
    value: str
    threshold: float
    display: str


@dataclass(frozen=True)
class Tier:
    severity: Severity
    priority: Priority
    op: Op
    threshold: float | None  # None for absence alerts
    display: str  # the threshold as people read it: "200ms", "80%", "open"
    for_: Duration
    overrides: tuple[Override, ...] = ()

    def crossed(self, value: float, threshold: float | None = None) -> bool:
        t = self.threshold if threshold is None else threshold
        if t is None:
            return False
        if self.op == ">":
            return value > t
        if self.op == "<":
            return value < t
        return value == t


@dataclass(frozen=True)
class Alert:
    name: str
    signal: Signal
    summary: str
    impact: str
    action: str
    runbook_url: str
    tiers: tuple[Tier, ...]
    labels: tuple[tuple[str, str], ...] = ()
    # Alerts this one silences while it fires: their symptoms follow from it.
    inhibits: tuple[str, ...] = ()
    line: int = 0


@dataclass(frozen=True)
class Dashboard:
    name: str
    title: str
    description: str


@dataclass(frozen=True)
class Receiver:
    """A notification target. Secrets are referenced by file or env var, never inlined."""

    name: str
    kind: Literal["webhook", "slack", "pagerduty", "email"]
    settings: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class PriorityRoute:
    priority: Priority
    receivers: tuple[str, ...]
    repeat_interval: Duration


@dataclass(frozen=True)
class Notifications:
    group_by: tuple[str, ...]
    group_wait: Duration
    group_interval: Duration
    repeat_interval: Duration  # the suppression of repeats asked for: the same alert at most every 5m
    resolved: bool
    escalate_after: int  # occurrences within escalate_window that raise the severity
    escalate_window: Duration
    receivers: tuple[Receiver, ...]
    routes: tuple[PriorityRoute, ...]


PanelKind = Literal["percentiles", "heatmap", "rate", "increase", "value", "expr"]
DEFAULT_PERCENTILES: tuple[float, ...] = (0.5, 0.95, 0.99, 0.999)


@dataclass(frozen=True)
class ExtraPanel:
    """A panel no alert needs: one metric drawn the way its kind reads best, or raw PromQL."""

    name: str
    title: str
    description: str
    dashboard: str
    row: str
    kind: PanelKind
    dim: Dimension
    source: Selector | None = None  # None for expr
    by: tuple[str, ...] = ()
    # Labels each series carries besides ``by`` (a stateset's state label): variables may filter them.
    labels: tuple[str, ...] = ()
    quantiles: tuple[float, ...] = DEFAULT_PERCENTILES
    aggregate: Aggregate = "max"
    per_seconds: float = 1.0  # rate shown per this many seconds
    expr: str = ""
    legend: str = ""
    line: int = 0


@dataclass(frozen=True)
class ScrapeJob:
    """A job the generated prometheus.yml scrapes: a watched system (``systems``), or the exporter."""

    job: str
    # Where it serves /metrics. Empty for the tradewatch exporter: the stack that runs it knows where.
    targets: tuple[str, ...] = ()


@dataclass(frozen=True)
class Views:
    """What the dashboards show beyond the alerted signals, and how they behave."""

    panels: tuple[ExtraPanel, ...] = ()
    refresh: str = "30s"
    leave_out: tuple[str, ...] = ()
    # Every metric the watched systems publish (name, kind, unit, labels, help), in contract order.
    contract: tuple[MetricDef, ...] = ()


@dataclass(frozen=True)
class Spec:
    name: str
    title: str
    source: str  # the spec file, as the user named it
    job: str
    grafana_url: str
    grafana_folder: str
    runbook_base: str
    evaluation_interval: Duration
    dashboards: tuple[Dashboard, ...]
    signals: tuple[Signal, ...]
    alerts: tuple[Alert, ...]
    notifications: Notifications
    labels: tuple[tuple[str, str], ...] = field(default=())
    evaluator: Evaluator = "prometheus"
    views: Views = field(default_factory=Views)
    # SLOs and component health (generator/analysis), when the spec has those sections.
    analysis: Analysis | None = None
    # Every job to scrape, one per watched system; empty means the spec's job, at the exporter.
    scrape_jobs: tuple[ScrapeJob, ...] = ()

    # Indexes built on first use (the model is frozen, so they never go stale): emitters ask per
    # signal, and a scan per question would make generation quadratic in the spec's size.
    @cached_property
    def _signals_by_dashboard(self) -> dict[str, tuple[Signal, ...]]:
        index: dict[str, list[Signal]] = {}
        for s in self.signals:
            index.setdefault(s.dashboard, []).append(s)
        return {name: tuple(signals) for name, signals in index.items()}

    @cached_property
    def _alerts_by_signal(self) -> dict[str, tuple[Alert, ...]]:
        index: dict[str, list[Alert]] = {}
        for a in self.alerts:
            index.setdefault(a.signal.name, []).append(a)
        return {name: tuple(alerts) for name, alerts in index.items()}

    @cached_property
    def _places(self) -> dict[str, int]:
        return {s.name: i for signals in self._signals_by_dashboard.values() for i, s in enumerate(signals)}

    def signals_on(self, dashboard: str) -> tuple[Signal, ...]:
        return self._signals_by_dashboard.get(dashboard, ())

    def place_on_dashboard(self, signal: Signal) -> int:
        """Where ``signal`` comes among ``signals_on(signal.dashboard)``, from 0."""
        return self._places[signal.name]

    def areas(self) -> tuple[tuple[str, tuple[Signal, ...]], ...]:
        """The dashboards that show signals (every one but the overview), with their signals."""
        pairs = ((d.name, self.signals_on(d.name)) for d in self.dashboards)
        return tuple((name, signals) for name, signals in pairs if signals)

    def alerts_on(self, signal: Signal) -> tuple[Alert, ...]:
        return self._alerts_by_signal.get(signal.name, ())
