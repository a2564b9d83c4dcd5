"""The dashboard part of the spec: panels no alert needs, metrics left out, the refresh interval.

Kept apart from ``spec.py`` so the alerting model and the views evolve separately; ``spec.py`` calls
``build_views`` once, after the signals are built, with itself as the ``Context``.

Example::

    views = build_views(builder, signals, dashboard_names)
    views.panels[0].kind  # 'percentiles'
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Protocol, cast

from exporters.catalogue import CATALOGUE, MetricDef
from generator import conventions
from generator.errors import YamlPath
from generator.model import (
    DEFAULT_PERCENTILES,
    Aggregate,
    Alert,
    ExtraPanel,
    PanelKind,
    Selector,
    Signal,
    Views,
)
from generator.reads import signal_metrics
from generator.units import UNIT_DIMENSION, Dimension, parse_duration

PANEL_KINDS: tuple[PanelKind, ...] = ("percentiles", "heatmap", "rate", "increase", "value", "expr")
DEFAULT_ROW = "More"
DEFAULT_REFRESH = "30s"
# Grafana's own variables, and the ones every generated dashboard has.
BUILTIN_VARIABLES = {"job", "datasource", "__rate_interval", "__interval", "__range", "__range_s"}
_VARIABLE = re.compile(r"\$\{?(\w+)")
_RANGE = re.compile(r"\[([^\]]*)\]")


class Family(Protocol):
    @property
    def metric(self) -> MetricDef: ...

    @property
    def series(self) -> str: ...


class Context(Protocol):
    """What the spec builder lends: the raw spec, metric lookup and error collection."""

    raw: dict[str, Any]

    def err(self, path: YamlPath, message: str) -> None: ...

    def selector(self, raw: Mapping[str, Any], path: YamlPath,
                 kinds: tuple[str, ...]) -> tuple[Selector, Family | None]: ...

    def line(self, path: YamlPath) -> int: ...


def _declared(metrics: Mapping[str, Any]) -> list[MetricDef]:
    return [MetricDef(name, body["type"], body["unit"], body.get("help", ""), labels=tuple(body.get("labels", ())),
                      buckets=tuple(body.get("buckets", ())), states=tuple(body.get("states", ())))
            for name, body in metrics.items()]


def contract_metrics(raw: Mapping[str, Any], read: Iterable[str]) -> tuple[MetricDef, ...]:
    """Every metric of the systems a spec watches, each once. With ``systems``: what each system
    declares, and the exporter's catalogue for ``exporter: tradewatch``. Without: ``external_metrics``,
    plus the catalogue when the spec reads any of the exporter's series (``read``: series names)."""
    exporter_series = {s for m in CATALOGUE.values() for s in m.series_names}
    if "systems" in raw:
        systems = raw["systems"].values()
        watches_exporter = any(body.get("exporter") == "tradewatch" for body in systems)
        declared = [m for body in systems for m in _declared(body.get("metrics", {}))]
    else:
        watches_exporter = any(name in exporter_series for name in read)
        declared = _declared(raw.get("external_metrics", {}))
    unique: dict[str, MetricDef] = {}
    for m in [*(CATALOGUE.values() if watches_exporter else ()), *declared]:
        unique.setdefault(m.name, m)  # two systems may publish one name; it is drawn once
    return tuple(unique.values())


def build_views(ctx: Context, signals: Iterable[Signal], dashboards: set[str],
                alerts: Iterable[Alert] = ()) -> Views:
    raw = ctx.raw
    for alert in alerts:
        _check_drawable_overrides(ctx, alert)
    panels = [p for name, body in raw.get("panels", {}).items()
              if (p := _panel(ctx, name, body, dashboards)) is not None]
    read = {m for s in signals for m in signal_metrics(s)} | {p.source.metric for p in panels if p.source}
    contract = contract_metrics(raw, read)
    known = {m.name for m in contract}
    leave_out = tuple(raw.get("leave_out", ()))
    for i, name in enumerate(leave_out):
        if name not in known:
            ctx.err(("leave_out", i), f"{name!r} is not a metric of the watched systems "
                    f"({', '.join(sorted(known)) or 'none'})")
    _check_variables(ctx, panels, signals)
    refresh = str(raw.get("refresh", DEFAULT_REFRESH))
    if "refresh" in raw and parse_duration(refresh) < 1:
        ctx.err(("refresh",), "Grafana refreshes at most every second; use 1s or more")
    return Views(tuple(panels), refresh, leave_out, contract)


def _panel(ctx: Context, name: str, body: dict[str, Any], dashboards: set[str]) -> ExtraPanel | None:
    path: YamlPath = ("panels", name)
    kinds = [k for k in PANEL_KINDS if k in body]
    if len(kinds) != 1:
        ctx.err(path, f"set exactly one of {', '.join(PANEL_KINDS)} (found {', '.join(kinds) or 'none'})")
        return None
    kind = kinds[0]
    kpath = (*path, kind)
    spec = body[kind]
    dashboard = body["dashboard"]
    if dashboard == conventions.OVERVIEW:
        ctx.err((*path, "dashboard"), "the overview holds stats of alerted signals; put the panel on an area dashboard")
    elif dashboard not in dashboards:
        ctx.err((*path, "dashboard"), f"no dashboard {dashboard!r} in dashboards")
    by = tuple(body.get("by", ()))
    common: dict[str, Any] = {
        "name": name, "title": body["title"], "dashboard": dashboard, "row": body.get("row", DEFAULT_ROW),
        "kind": kind, "by": by, "line": ctx.line(path),
    }
    if kind == "expr":
        query = str(spec["query"])
        for m in _RANGE.finditer(query):
            if m.group(1).split(":")[0] != "$__rate_interval":
                ctx.err((*kpath, "query"), f"range [{m.group(1)}]: use [$__rate_interval], which Grafana sizes "
                        "to the scrape interval and the zoom")
        legend = spec.get("legend") or " ".join(f"{{{{{label}}}}}" for label in by) or "{{job}}"
        return ExtraPanel(**common, description=body.get("description", ""), dim=Dimension(spec["unit"]),
                          expr=query, legend=legend)
    series_kinds = {"percentiles": ("histogram",), "heatmap": ("histogram",), "rate": ("counter",),
                    "increase": ("counter",), "value": ("gauge", "stateset")}[kind]
    sel, fam = ctx.selector(spec, kpath, series_kinds)
    if fam is None:
        return None
    metric = fam.metric
    if kind in ("percentiles", "heatmap") and fam.series != metric.name:
        ctx.err((*kpath, "metric"), f"name the histogram {metric.name!r}, not its {fam.series!r} series")
    for i, label in enumerate(by):
        if label not in metric.labels:
            ctx.err((*path, "by", i), f"{metric.name} has no label {label!r} "
                    f"(labels: {', '.join(metric.labels) or 'none'})")

    dim = UNIT_DIMENSION[metric.unit]
    extra: dict[str, Any] = {}
    if kind == "percentiles":
        extra["quantiles"] = tuple(float(q) for q in spec.get("quantiles", DEFAULT_PERCENTILES))
    if kind == "rate":
        extra["per_seconds"] = parse_duration(str(spec.get("per", "1s")))
        if extra["per_seconds"] <= 0:
            ctx.err((*kpath, "per"), "per must be longer than 0s")
        if dim is Dimension.COUNT and extra["per_seconds"] == 1:
            dim = Dimension.RATE
    if kind == "value":
        extra["aggregate"] = cast(Aggregate, spec.get("aggregate", "max"))
        if metric.kind == "stateset":
            dim = Dimension.STATE
    description = body.get("description") or metric.help
    return ExtraPanel(**common, description=description, dim=dim, source=sel,
                      labels=tuple(label for label in metric.labels if label not in by), **extra)


def _check_drawable_overrides(ctx: Context, alert: Alert) -> None:
    """A per-label threshold is drawn on the series Grafana names from the legend; with a second
    breakdown label in the legend those names are unknown until the data arrives."""
    by = alert.signal.by
    for tier in alert.tiers:
        for label in sorted({o.label for o in tier.overrides}):
            if len(by) > 1:
                ctx.err(("alerts", alert.name, "tiers", tier.severity, "per_label", label),
                        f"per-label thresholds need a signal broken down by {label!r} alone (its by is "
                        f"[{', '.join(by)}]); the dashboard could not draw this threshold on its own series")


def _check_variables(ctx: Context, panels: list[ExtraPanel], signals: Iterable[Signal]) -> None:
    """A raw query may only use variables its dashboard has: the breakdown labels drawn there."""
    labels: dict[str, set[str]] = {}
    for s in signals:
        labels.setdefault(s.dashboard, set()).update(s.by)
    for p in panels:
        labels.setdefault(p.dashboard, set()).update(p.by)
    for p in panels:
        if p.kind != "expr":
            continue
        known = labels.get(p.dashboard, set()) | BUILTIN_VARIABLES
        for var in sorted(set(_VARIABLE.findall(p.expr)) - known):
            ctx.err(("panels", p.name, "expr", "query"),
                    f"${var} is not a variable of dashboard {p.dashboard!r} (variables: "
                    f"{', '.join(sorted(known - {'__range_s'}))}); a label becomes one when a panel breaks down by it")
