"""Grafana dashboards, built with grafanalib, drawing the alert thresholds on the panels.

grafanalib 0.7.1 still speaks pre-Grafana-5 JSON (rows, schemaVersion 12, null ids...); the house
layer below (``modernise``) keeps only what the classic v1 dashboard schema allows, so Grafana
loads the JSON as it is instead of migrating it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from itertools import pairwise
from typing import Any

from grafanalib import core as g
from grafanalib._gen import DashboardEncoder

from exporters.catalogue import MetricDef
from generator import conventions, promql
from generator.kinds import kind_of
from generator.layout import Slot, area_slots, overview_slots, signal_url
from generator.model import ExtraPanel, Selector, Severity, Signal, Spec, Tier
from generator.reads import metrics_in, signal_metrics
from generator.render import to_json
from generator.units import UNIT_DIMENSION, Dimension

SCHEMA_VERSION = 39
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
OK_COLOR = "green"
SEVERITY_COLOR: dict[Severity, str] = {"critical": "red", "warning": "orange", "info": "blue"}
OTHER_STATE_COLOR = "yellow"
# Keys the classic v1 dashboard schema allows (grafana-foundation-sdk, Grafana 11.6).
DASHBOARD_KEYS = {
    "uid", "title", "description", "tags", "timezone", "editable", "graphTooltip", "time", "timepicker",
    "refresh", "schemaVersion", "version", "panels", "templating", "annotations", "links",
}
PANEL_KEYS = {
    "type", "id", "targets", "title", "description", "transparent", "datasource", "gridPos", "links",
    "maxDataPoints", "transformations", "interval", "options", "fieldConfig",
}


# --- thresholds ---------------------------------------------------------------------------------

def _severity_rank(severity: Severity | None) -> int:
    return -1 if severity is None else 2 - ("critical", "warning", "info").index(severity)


def threshold_steps(tiers: list[tuple[Tier, float]]) -> list[dict[str, Any]]:
    """Grafana steps (each colours values from its value up) that colour every region of the axis
    with the worst severity an alert raises there, green where none does."""
    points = sorted({t for _, t in tiers})
    if not points:
        return [{"color": OK_COLOR, "value": None}]

    def color_at(value: float) -> str:
        worst: Severity | None = None
        for tier, threshold in tiers:
            if tier.crossed(value, threshold) and _severity_rank(tier.severity) > _severity_rank(worst):
                worst = tier.severity
        return OK_COLOR if worst is None else SEVERITY_COLOR[worst]

    probes = [points[0] - 1, *[(a + b) / 2 for a, b in pairwise(points)], points[-1] + 1]
    steps: list[dict[str, Any]] = [{"color": color_at(probes[0]), "value": None}]
    for point, probe in zip(points, probes[1:], strict=True):
        steps.append({"color": color_at(probe), "value": point})
    return steps


def signal_tiers(spec: Spec, signal: Signal) -> list[Tier]:
    return [t for a in spec.alerts_on(signal) for t in a.tiers if t.threshold is not None]


def default_steps(spec: Spec, signal: Signal) -> list[dict[str, Any]]:
    if kind_of(signal).states(signal):
        return state_steps(spec, signal)
    return threshold_steps([(t, t.threshold) for t in signal_tiers(spec, signal) if t.threshold is not None])


def state_steps(spec: Spec, signal: Signal) -> list[dict[str, Any]]:
    colors = state_colors(spec, signal)
    steps: list[dict[str, Any]] = [{"color": colors[0], "value": None}]
    steps += [{"color": colors[i], "value": i} for i in range(1, len(kind_of(signal).states(signal)))]
    return steps


def state_colors(spec: Spec, signal: Signal) -> list[str]:
    colors = [OK_COLOR] + [OTHER_STATE_COLOR] * (len(kind_of(signal).states(signal)) - 1)
    for tier in sorted(signal_tiers(spec, signal), key=lambda t: _severity_rank(t.severity)):
        assert tier.threshold is not None
        colors[int(tier.threshold)] = SEVERITY_COLOR[tier.severity]
    return colors


def override_configs(spec: Spec, signal: Signal, filters: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Per-label thresholds as field overrides on the series Grafana draws for that label value: the
    matcher names the display names the panel's legend formats render to for it."""
    legends = [t.legendFormat for t in targets(signal, filters)]
    by_value: dict[tuple[str, str], list[tuple[Tier, float]]] = {}
    for tier in signal_tiers(spec, signal):
        for o in tier.overrides:
            by_value.setdefault((o.label, o.value), [])
    for (label, value), pairs in by_value.items():
        for tier in signal_tiers(spec, signal):
            chosen = next((o.threshold for o in tier.overrides if (o.label, o.value) == (label, value)),
                          tier.threshold)
            if chosen is not None:
                pairs.append((tier, chosen))
    return [
        {"matcher": {"id": "byNames", "options": {"mode": "include", "names": series_names(legends, label, value),
                                                   "readOnly": True}},
         "properties": [{"id": "thresholds", "value": {"mode": "absolute", "steps": threshold_steps(pairs)}}]}
        for (label, value), pairs in sorted(by_value.items())
    ]


def value_mappings(spec: Spec, signal: Signal) -> list[dict[str, Any]]:
    states = kind_of(signal).states(signal)
    if not states:
        return []
    colors = state_colors(spec, signal)
    options = {str(i): {"text": name, "color": colors[i], "index": i} for i, name in enumerate(states)}
    return [{"type": "value", "options": options}]


# --- display names, as Grafana computes them --------------------------------------------------

_LEGEND_TOKEN = re.compile(r"(\{\{[^{}]*?\}\})")


def display_name(legend_format: str, labels: dict[str, str]) -> str:
    """The name Grafana gives a Prometheus series drawn with ``legend_format`` (its
    ``renderLegendFormat``: each ``{{ label }}`` becomes the label's value; an unknown label stays as
    written)."""
    def sub(match: re.Match[str]) -> str:
        key = match.group(1)[2:-2].strip()
        return labels.get(key, match.group(1))
    return _LEGEND_TOKEN.sub(sub, legend_format)


def series_names(legends: Sequence[str], label: str, value: str) -> list[str]:
    """The display names of the series, drawn with any of ``legends``, whose ``label`` is ``value``.

    Exact names need legends that hold no other label (a signal's legend holds its ``by`` labels,
    so a per-label threshold is exact when the signal breaks down by that label alone)."""
    return list(dict.fromkeys(display_name(legend_format, {label: value}) for legend_format in legends))


# --- queries ------------------------------------------------------------------------------------

JOB = 'job=~"$job"'
RATE_INTERVAL = "$__rate_interval"


def _matchers(labels: Sequence[str], variables: Sequence[str]) -> list[str]:
    """``job`` plus a filter for each dashboard variable the series carry."""
    return [JOB, *(f'{v}=~"${v}"' for v in variables if v in labels)]


def _by_legend(by: Sequence[str]) -> str:
    return " ".join(f"{{{{{label}}}}}" for label in by) or "{{job}}"


def targets(signal: Signal, variables: Sequence[str] = ()) -> list[g.Target]:
    """The signal kind's panel queries, filtered by the dashboard variables its series carry."""
    sel = "{" + ", ".join(_matchers(signal.by, variables)) + "}"
    return [g.Target(expr=q.expr.replace("{matchers}", sel), legendFormat=q.legend, refId=chr(ord("A") + i),
                     datasource=DATASOURCE)
            for i, q in enumerate(kind_of(signal).panel_queries(signal))]


def extra_targets(panel: ExtraPanel, variables: Sequence[str]) -> list[g.Target]:
    if panel.kind == "expr":
        return [g.Target(expr=panel.expr, legendFormat=panel.legend, refId="A", datasource=DATASOURCE)]
    assert panel.source is not None
    labels = (*panel.by, *panel.labels)
    extra = _matchers(labels, variables)
    by = ", ".join(("job", *panel.by))
    if panel.kind in ("percentiles", "heatmap"):
        buckets = f"rate({promql.selector(panel.source, extra=extra, suffix='_bucket')}[{RATE_INTERVAL}])"
        if panel.kind == "heatmap":
            return [g.Target(expr=f"sum by (le) ({buckets})", legendFormat="{{le}}", refId="A",
                             format="heatmap", datasource=DATASOURCE)]
        return [
            g.Target(expr=f"histogram_quantile({promql.number(q)}, sum by ({by}, le) ({buckets}))",
                     legendFormat=f"{conventions.quantile_tag(q).upper()} {_by_legend(panel.by)}",
                     refId=chr(ord("A") + i), datasource=DATASOURCE)
            for i, q in enumerate(panel.quantiles)
        ]
    sel = promql.selector(panel.source, extra=extra)
    if panel.kind == "rate":
        scale = "" if panel.per_seconds == 1 else f"{promql.number(panel.per_seconds)} * "
        expr = f"{scale}sum by ({by}) (rate({sel}[{RATE_INTERVAL}]))"
    elif panel.kind == "increase":
        expr = f"sum by ({by}) (increase({sel}[{RATE_INTERVAL}]))"
    else:
        keep = ", ".join(("job", *panel.by, *(lb for lb in panel.labels if panel.dim.value == "state")))
        expr = f"{panel.aggregate} by ({keep}) ({sel})"
        if panel.dim.value == "state":
            return [g.Target(expr=expr, legendFormat=" ".join(f"{{{{{lb}}}}}" for lb in panel.labels),
                             refId="A", datasource=DATASOURCE)]
    return [g.Target(expr=expr, legendFormat=_by_legend(panel.by), refId="A", datasource=DATASOURCE)]


# --- panels -------------------------------------------------------------------------------------

def _description(spec: Spec, signal: Signal) -> str:
    lines = [signal.description] if signal.description else []
    for alert in spec.alerts_on(signal):
        for tier in alert.tiers:
            op = {">": "above", "<": "below", "==": "when"}[tier.op]
            lines.append(f"{alert.name} ({tier.severity}) fires {op} {tier.display} for {tier.for_}.")
    if not spec.alerts_on(signal):
        lines.append(f"{'' if lines else signal.title + '. '}No alert reads this panel.")
    return " ".join(lines)


def _grid(box: tuple[int, int, int, int]) -> g.GridPos:
    x, y, w, h = box
    return g.GridPos(h=h, w=w, x=x, y=y)


def area_panel(spec: Spec, slot: Slot, variables: Sequence[str] = ()) -> g.Panel:
    signal = slot.signal
    common: dict[str, Any] = {
        "title": signal.title, "id": slot.panel_id, "description": _description(spec, signal),
        "dataSource": DATASOURCE, "targets": targets(signal, variables),
        "gridPos": g.GridPos(h=slot.h, w=slot.w, x=slot.x, y=slot.y),
        "thresholds": default_steps(spec, signal),
        "overrides": override_configs(spec, signal, variables),
        "mappings": value_mappings(spec, signal),
    }
    if kind_of(signal).states(signal):
        return g.StateTimeline(**common, showValue="auto")
    bounds = {"valueMin": 0, "valueMax": 1} if signal.dim is Dimension.RATIO else {}
    return g.TimeSeries(**common, **bounds, unit=signal.dim.grafana_unit, thresholdsStyleMode="line+area",
                        legendDisplayMode="table", legendCalcs=["lastNotNull", "max"], tooltipMode="multi")


def extra_panel(panel: ExtraPanel, panel_id: int, box: tuple[int, int, int, int],
                variables: Sequence[str]) -> g.Panel:
    description = f"{panel.description.rstrip('.')}. No alert reads this panel.".lstrip(". ")
    common: dict[str, Any] = {
        "title": panel.title, "id": panel_id, "description": description, "dataSource": DATASOURCE,
        "targets": extra_targets(panel, variables), "gridPos": _grid(box),
    }
    unit = panel.dim.grafana_unit
    if panel.kind == "heatmap":
        return g.Heatmap(**common, extraJson={
            "options": {"calculate": False, "cellGap": 1, "color": {"mode": "scheme", "scheme": "Oranges",
                        "exponent": 0.5, "steps": 64}, "yAxis": {"axisPlacement": "left", "unit": unit},
                        "rowsFrame": {"layout": "le"}, "tooltip": {"mode": "single", "yHistogram": True},
                        "legend": {"show": True}, "cellValues": {"unit": "reqps"}},
            "fieldConfig": {"defaults": {"unit": "reqps", "custom": {"scaleDistribution": {"type": "linear"}}},
                            "overrides": []},
        })
    if panel.dim is Dimension.STATE:
        return g.StateTimeline(**common, showValue="never", mappings=[
            {"type": "value", "options": {"0": {"text": "no", "color": "transparent", "index": 0},
                                          "1": {"text": "yes", "color": "blue", "index": 1}}}])
    bounds = {"valueMin": 0, "valueMax": 1} if panel.dim is Dimension.RATIO else {}
    style = {"drawStyle": "bars", "fillOpacity": 80} if panel.kind == "increase" else {}
    return g.TimeSeries(**common, **bounds, **style, unit=unit, legendDisplayMode="table",
                        legendCalcs=["lastNotNull", "max"], tooltipMode="multi")


def stat_panel(spec: Spec, slot: Slot) -> g.Panel:
    signal = slot.signal
    return g.Stat(
        title=signal.title, id=slot.panel_id, description=_description(spec, signal), dataSource=DATASOURCE,
        targets=_alerted_target(signal), gridPos=g.GridPos(h=slot.h, w=slot.w, x=slot.x, y=slot.y),
        thresholds=default_steps(spec, signal), format=signal.dim.grafana_unit, reduceCalc="lastNotNull",
        mappings=value_mappings(spec, signal), colorMode="background", graphMode="area",
        links=[g.DataLink(title=f"{signal.title} over time", linkUrl=signal_url(spec, signal))],
    )


def _alerted_target(signal: Signal) -> list[g.Target]:
    """The one series a stat shows: for a quantile, the one the alerts read (not the highest shown)."""
    drawn = targets(signal)
    record = kind_of(signal).record_name(signal)
    alerted = [t for t in drawn if record is not None and t.expr.startswith(record + "{")]
    return alerted[:1] or drawn[-1:]


def alert_list_panel(spec: Spec, panel_id: int, y: int) -> dict[str, Any]:
    # grafanalib's AlertList is the pre-Grafana-8 panel; this is the unified-alerting one.
    return {
        "type": "alertlist", "id": panel_id, "title": "Firing and pending alerts",
        "description": "Alerts of this platform, from the Prometheus data source's alert view.",
        "gridPos": {"h": 8, "w": 24, "x": 0, "y": y},
        "options": {
            "viewMode": "list", "groupMode": "default", "groupBy": [], "maxItems": 20,
            "sortOrder": 3, "dashboardAlerts": False, "alertName": "", "alertInstanceLabelFilter": "",
            "datasource": "${datasource}",
            "stateFilter": {"firing": True, "pending": True, "noData": False, "normal": False, "error": True},
        },
    }


def row_panel(title: str, panel_id: int, y: int, collapsed: bool = False,
              panels: Sequence[Any] = ()) -> g.RowPanel:
    return g.RowPanel(title=title, id=panel_id, gridPos=g.GridPos(h=1, w=24, x=0, y=y), collapsed=collapsed,
                      panels=list(panels))


# --- what each dashboard shows ------------------------------------------------------------------

def contract_metrics(spec: Spec) -> tuple[MetricDef, ...]:
    """Every metric of the watched systems' contracts that some dashboard must show."""
    return tuple(m for m in spec.views.contract if m.name not in spec.views.leave_out)


def unplaced(spec: Spec) -> tuple[ExtraPanel, ...]:
    """An automatic panel for each contract metric that no signal and no ``panels`` entry draws."""
    read: set[str] = set()
    for s in spec.signals:
        read |= signal_metrics(s)
    for p in spec.views.panels:
        read |= {p.source.metric} if p.source else metrics_in(p.expr, spec.views.contract)
    out = []
    for m in contract_metrics(spec):
        if read & {m.name, *m.series_names}:
            continue
        kind = {"histogram": "percentiles", "counter": "rate"}.get(m.kind, "value")
        dim = UNIT_DIMENSION[m.unit]
        if kind == "rate" and dim is Dimension.COUNT:
            dim = Dimension.RATE
        by = tuple(lb for lb in m.labels if m.kind != "stateset")
        labels = tuple(lb for lb in m.labels if lb not in by)
        if m.kind == "stateset":
            dim = Dimension.STATE
        out.append(ExtraPanel(
            name=m.name, title=m.name, description=m.help or f"{m.name}, as published.",
            dashboard=conventions.OVERVIEW, row=EVERYTHING_ELSE, kind=kind,  # type: ignore[arg-type]
            dim=dim, source=Selector(m.name), by=by, labels=labels))
    return tuple(out)


EVERYTHING_ELSE = "Everything else the watched systems publish"


def _panels_on(spec: Spec, name: str) -> tuple[ExtraPanel, ...]:
    if name == conventions.OVERVIEW:
        return unplaced(spec)
    return tuple(p for p in spec.views.panels if p.dashboard == name)


def variables(spec: Spec, name: str) -> list[tuple[str, str]]:
    """(label, metric to list its values from) for each breakdown label drawn on the dashboard."""
    out: dict[str, str] = {}
    signals = () if name == conventions.OVERVIEW else spec.signals_on(name)
    for s in signals:
        record = kind_of(s).record_name(s)
        for label in s.by:
            if record is not None:
                out.setdefault(label, record)
    for p in _panels_on(spec, name):
        if p.source is not None:
            series = p.source.metric + ("_count" if p.kind in ("percentiles", "heatmap") else "")
            for label in p.by:
                out.setdefault(label, series)
        else:
            for label in p.by:
                m = next((m for m in spec.views.contract if m.name in metrics_in(p.expr, spec.views.contract)
                          and label in m.labels), None)
                if m is not None:
                    out.setdefault(label, m.series_names[-1] if m.kind == "histogram" else m.name)
    return list(out.items())


def _alerts_of(spec: Spec, name: str) -> list[str]:
    if name == conventions.OVERVIEW:
        return [a.name for a in spec.alerts]
    return [a.name for a in spec.alerts if a.signal.dashboard == name]


def alert_marks(spec: Spec, name: str) -> list[dict[str, Any]]:
    """When each alert of the dashboard fired, from Prometheus's ALERTS series."""
    builtin = {
        "builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"}, "enable": True, "hide": True,
        "iconColor": "rgba(0, 211, 255, 1)", "name": "Annotations & Alerts", "type": "dashboard",
    }
    names = _alerts_of(spec, name)
    if not names:
        return [builtin]
    alternatives = "|".join(promql.escape_regex(n) for n in names)
    firing = {
        "name": "Alerts firing", "datasource": DATASOURCE, "enable": True, "hide": False, "iconColor": "red",
        "expr": f'ALERTS{{alertstate="firing", {JOB}, alertname=~{promql.quote(alternatives)}}}',
        # Grafana's Prometheus annotation fields (not in the generic dashboard schema).
        "titleFormat": "{{alertname}} ({{severity}})", "tagKeys": "severity,alertname",
        "textFormat": "{{alertname}} fired", "useValueForTime": False, "step": "1m",
    }
    return [builtin, firing]


def templating(spec: Spec, name: str) -> g.Templating:
    items = [
        g.Template(name="datasource", label="Data source", type="datasource", query="prometheus", default="",
                   includeAll=False),
        g.Template(name="job", label="Job", type="query", query="label_values(up, job)",
                   dataSource=DATASOURCE, includeAll=True, multi=True, allValue=".+", default="$__all",
                   refresh=2, sort=1),
    ]
    for label, metric in variables(spec, name):
        items.append(g.Template(name=label, label=label.replace("_", " ").capitalize(), type="query",
                                query=f"label_values({metric}{{{JOB}}}, {label})", dataSource=DATASOURCE,
                                includeAll=True, multi=True, allValue=".*", default="$__all", refresh=2, sort=1))
    return g.Templating(list=items)


PANEL_W = 12
PANEL_H = 8


def _extra_rows(panels: Sequence[ExtraPanel], first_id: int, y: int,
                variables_: Sequence[str]) -> tuple[list[tuple[str, list[g.Panel]]], int]:
    """Panels grouped by their row, two a line; returns the rows and the next free id."""
    rows: dict[str, list[ExtraPanel]] = {}
    for p in panels:
        rows.setdefault(p.row, []).append(p)
    out = []
    next_id = first_id
    for title, members in rows.items():
        built = []
        y += 1
        for i, p in enumerate(members):
            box = ((i % 2) * PANEL_W, y + (i // 2) * PANEL_H, PANEL_W, PANEL_H)
            built.append(extra_panel(p, next_id, box, variables_))
            next_id += 1
        y += ((len(members) + 1) // 2) * PANEL_H
        out.append((title, built))
    return out, next_id


def build(spec: Spec, name: str) -> dict[str, Any]:
    meta = next(d for d in spec.dashboards if d.name == name)
    labels = [label for label, _ in variables(spec, name)]
    panels: list[Any] = []
    if name == conventions.OVERVIEW:
        slots = overview_slots(spec)
        stats = [stat_panel(spec, s) for s in slots]
        bottom = max((s.y + s.h for s in slots), default=0)
        alert_list = alert_list_panel(spec, len(slots) + 1, bottom + 1)
        rows, next_id = _extra_rows(_panels_on(spec, name), len(slots) + 2, 0, labels)
        panels = [*stats, row_panel("Alerts", next_id, bottom), alert_list]
        next_id += 1
        y = bottom + 1 + 8
        for title, members in rows:
            # Collapsed: these series are there to be found, not to crowd the glance above.
            panels.append(row_panel(title, next_id, y, collapsed=True, panels=members))
            next_id += 1
            y += 1
    else:
        slots = area_slots(spec, name)
        panels = [area_panel(spec, s, labels) for s in slots]
        bottom = max((s.y + s.h for s in slots), default=1)
        rows, next_id = _extra_rows(_panels_on(spec, name), len(slots) + 1, bottom, labels)
        panels.append(row_panel("Alerted signals", next_id, 0))
        next_id += 1
        y = bottom
        for title, members in rows:
            panels.append(row_panel(title, next_id, y))
            next_id += 1
            panels.extend(members)
            y = max(m.gridPos.y + m.gridPos.h for m in members)
    note = f"{conventions.GENERATED_MARK}{spec.source}; edit the spec, not this dashboard."
    dashboard = g.Dashboard(
        title=f"{spec.title} / {meta.title}", uid=conventions.dashboard_uid(spec, name),
        description=f"{meta.description} {note}".strip(), tags=conventions.dashboard_tags(spec, name),
        panels=panels, templating=templating(spec, name), editable=True, refresh=spec.views.refresh,
        time=g.Time("now-3h", "now"), timezone="browser", graphTooltip=g.GRAPH_TOOLTIP_MODE_SHARED_CROSSHAIR,
        links=[g.DashboardLink(title=spec.title, type="dashboards", tags=[conventions.spec_tag(spec)],
                               asDropdown=True, keepTime=True, includeVars=True)],
    )
    out = modernise(json.loads(json.dumps(dashboard.to_json_data(), cls=DashboardEncoder)))
    out["annotations"] = {"list": alert_marks(spec, name)}
    intervals = ["5s", "10s", "30s", "1m", "5m", "15m"]
    if spec.views.refresh not in intervals:
        intervals.insert(0, spec.views.refresh)
    out["timepicker"] = {"refresh_intervals": intervals}
    return out


def modernise(data: dict[str, Any]) -> dict[str, Any]:
    """Keep only what the modern dashboard model allows; grafanalib's legacy keys go."""
    out = {k: v for k, v in data.items() if k in DASHBOARD_KEYS and v is not None}
    out["schemaVersion"] = SCHEMA_VERSION
    out["version"] = 1
    out["links"] = [_link(link) for link in out.get("links", [])]
    out["templating"] = {"list": [_variable(v) for v in out["templating"]["list"]]}
    out["panels"] = [_panel(p) for p in out["panels"]]
    return out


def _link(link: dict[str, Any]) -> dict[str, Any]:
    keep = {"title", "type", "icon", "tooltip", "url", "tags", "asDropdown", "targetBlank", "includeVars", "keepTime"}
    out = {k: v for k, v in link.items() if k in keep and v is not None}
    out.setdefault("url", "")
    return out


def _variable(var: dict[str, Any]) -> dict[str, Any]:
    keep = {"type", "name", "label", "hide", "query", "datasource", "current", "multi", "options", "refresh",
            "sort", "includeAll", "allValue", "regex"}
    out = {k: v for k, v in var.items() if k in keep and v is not None}
    if out["type"] == "datasource":
        out.pop("datasource", None)
        out["current"] = {"text": "", "value": ""}
    else:
        out["current"] = {"selected": True, "text": ["All"], "value": ["$__all"]}
    out["options"] = []
    out["regex"] = out.get("regex") or ""
    return out


def _panel(panel: dict[str, Any]) -> dict[str, Any]:
    if panel.get("type") == "row":
        return {"type": "row", "id": panel["id"], "title": panel["title"], "gridPos": panel["gridPos"],
                "collapsed": panel["collapsed"], "panels": [_panel(p) for p in panel.get("panels") or []]}
    # maxDataPoints: grafanalib pins 100 points; Grafana's default follows the panel width.
    out = {k: v for k, v in panel.items() if k in PANEL_KEYS - {"maxDataPoints"} and v not in (None, "", [])}
    out["targets"] = [_target(t) for t in panel.get("targets", [])]
    if not out["targets"]:
        out.pop("targets")
    if panel.get("links"):
        out["links"] = [
            {"title": link["title"], "url": link["url"], "type": "link", "icon": "dashboard", "tooltip": "",
             "tags": [], "asDropdown": False, "targetBlank": False, "includeVars": True, "keepTime": True}
            for link in panel["links"]
        ]
    if "fieldConfig" in out:
        defaults = out["fieldConfig"]["defaults"]
        out["fieldConfig"]["defaults"] = {k: v for k, v in defaults.items() if v is not None and v != ""}
        if panel["type"] == "state-timeline":
            # grafanalib's StateTimeline takes no unit; states are drawn by their mapped names.
            out["fieldConfig"]["defaults"].setdefault("unit", Dimension.STATE.grafana_unit)
        custom = out["fieldConfig"]["defaults"].get("custom")
        if isinstance(custom, dict):
            out["fieldConfig"]["defaults"]["custom"] = {k: v for k, v in custom.items() if v is not None}
    return out


def _target(target: dict[str, Any]) -> dict[str, Any]:
    out = {k: target[k] for k in ("datasource", "expr", "legendFormat", "refId", "range", "instant", "format")
           if target.get(k) not in (None, "")}
    if out.get("format") == "time_series":
        del out["format"]
    return out


def emit(spec: Spec) -> dict[str, str]:
    return {conventions.dashboard_file(d.name): to_json(build(spec, d.name)) for d in spec.dashboards}
