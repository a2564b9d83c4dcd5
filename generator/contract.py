"""The metric contract: which systems a spec watches and what each one publishes on /metrics.

A spec's ``systems`` section names each watched system by the Prometheus job that scrapes it:
tradewatch's own exporter (``exporter: tradewatch``, its metrics are the exporter's catalogue) or
any other exporter, with its metric names, types, units, labels and histogram buckets. The same
metric name may exist in two systems (seed 002's ``cpu_usage_percent{component}`` beside our
exporter's label-less ``cpu_usage_percent``); a selector tells them apart by ``job``.

A spec without ``systems`` keeps the older shape: the exporter's catalogue plus the spec's
``external_metrics``, published by any job.

Example::

    >>> contract.family("cex-trader", "order_execution_latency_seconds_bucket").labels
    ('trading_pair', 'order_type', 'side', 'le')
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from exporters.catalogue import CATALOGUE, MetricDef
from generator.errors import YamlPath

EXPORTER = "tradewatch"
# Prometheus writes these for every scraped target, whatever the target publishes.
SCRAPE_METRICS: tuple[MetricDef, ...] = (
    MetricDef("up", "gauge", "count", "1 if Prometheus scraped the target, else 0."),
)

Report = Callable[[YamlPath, str], None]


@dataclass(frozen=True)
class Family:
    """A series name a selector may read, the metric it belongs to and the job publishing it."""

    metric: MetricDef
    series: str
    job: str | None  # None: any job (a spec without systems)

    @property
    def series_kind(self) -> str:
        """Histograms' _bucket, _count and _sum series are counters."""
        if self.metric.kind == "histogram" and self.series != self.metric.name:
            return "counter"
        return self.metric.kind

    @property
    def labels(self) -> tuple[str, ...]:
        extra = ("le",) if self.metric.kind == "histogram" and self.series.endswith("_bucket") else ()
        return (*self.metric.labels, *extra)


@dataclass(frozen=True)
class System:
    job: str | None
    metrics: tuple[MetricDef, ...]

    def families(self) -> Iterator[Family]:
        for m in self.metrics:
            for series in dict.fromkeys((m.name, *m.series_names)):
                yield Family(m, series, self.job)


@dataclass(frozen=True)
class Contract:
    """Every metric family the spec may read, per system."""

    systems: tuple[System, ...]
    declared: bool  # True when the spec lists its systems; False for catalogue + external_metrics

    @property
    def jobs(self) -> tuple[str, ...]:
        return tuple(s.job for s in self.systems if s.job is not None)

    def family(self, job: str | None, series: str) -> Family | None:
        """The family ``series`` belongs to in the system scraped as ``job`` (any system if None,
        when exactly one publishes it)."""
        found = self.candidates(series, job)
        return found[0] if len(found) == 1 else None

    def candidates(self, series: str, job: str | None = None) -> tuple[Family, ...]:
        return tuple(f for f in self._by_series.get(series, ()) if job is None or f.job == job)

    @cached_property
    def _by_series(self) -> dict[str, tuple[Family, ...]]:
        """Every family by series name, in the systems' order: a spec of a thousand signals looks
        each one up, and a scan of every system per look-up made loading quadratic."""
        index: dict[str, list[Family]] = {}
        for system in self.systems:
            for family in system.families():
                index.setdefault(family.series, []).append(family)
        return {series: tuple(found) for series, found in index.items()}

    def series_names(self, job: str | None = None) -> tuple[str, ...]:
        return tuple(dict.fromkeys(f.series for s in self.systems if job is None or s.job == job
                                   for f in s.families()))


def _metric(name: str, raw: Mapping[str, Any], path: YamlPath, report: Report) -> MetricDef:
    buckets = tuple(raw.get("buckets", ()))
    if raw["type"] == "histogram" and not buckets:
        report(path, "a histogram needs its buckets (alert thresholds and tests depend on them)")
    if raw["type"] != "histogram" and buckets:
        report((*path, "buckets"), f"only a histogram has buckets; {name} is a {raw['type']}")
    if list(buckets) != sorted(set(buckets)):
        report((*path, "buckets"), "buckets must be strictly ascending")
    labels = tuple(raw.get("labels", ()))
    for i, label in enumerate(labels):
        if label in ("job", "le") or label.startswith("__"):
            report((*path, "labels", i), f"label {label!r} is set by Prometheus, not by the exporter")
    return MetricDef(name, raw["type"], raw["unit"], raw.get("help", ""), labels=labels, buckets=buckets,
                     states=tuple(raw.get("states", ())))


def build(raw: Mapping[str, Any], report: Report) -> Contract:
    """The contract a spec declares; problems go to ``report(path, message)``."""
    if "systems" not in raw:
        return _legacy(raw, report)
    if "external_metrics" in raw:
        report(("external_metrics",), "declare these metrics under the system that publishes them in "
               "systems: (a spec with systems has no external_metrics)")
    systems = []
    for job, body in raw["systems"].items():
        path: YamlPath = ("systems", job)
        metrics: dict[str, MetricDef] = {m.name: m for m in SCRAPE_METRICS}
        if body.get("exporter") == EXPORTER:
            metrics.update(CATALOGUE)
        elif not body.get("metrics"):
            report(path, "list the metrics this job publishes (metrics:), or set exporter: tradewatch")
        for name, mraw in body.get("metrics", {}).items():
            mpath = (*path, "metrics", name)
            if name in metrics:
                who = "Prometheus for every target" if any(m.name == name for m in SCRAPE_METRICS) \
                    else "the tradewatch exporter of this job"
                report(mpath, f"{name!r} is already published by {who}; do not redeclare it")
                continue
            metrics[name] = _metric(name, mraw, mpath, report)
        systems.append(System(job, tuple(metrics.values())))
    return Contract(tuple(systems), declared=True)


def _legacy(raw: Mapping[str, Any], report: Report) -> Contract:
    metrics = dict(CATALOGUE)
    for name, mraw in raw.get("external_metrics", {}).items():
        path: YamlPath = ("external_metrics", name)
        if name in CATALOGUE:
            report(path, f"{name!r} is published by the tradewatch exporter; do not redeclare it")
            continue
        metrics[name] = _metric(name, mraw, path, report)
    return Contract((System(None, tuple(metrics.values())),), declared=False)
