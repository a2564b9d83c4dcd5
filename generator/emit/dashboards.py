"""Grafana dashboards, built with grafanalib, drawing the alert thresholds on the panels.

grafanalib 0.7.1 still speaks pre-Grafana-5 JSON (rows, schemaVersion 12, null ids...); the house
layer below (``modernise``) keeps only what the classic v1 dashboard schema allows, so Grafana
loads the JSON as it is instead of migrating it.
"""

from __future__ import annotations

import json
from itertools import pairwise
from typing import Any

from grafanalib import core as g
from grafanalib._gen import DashboardEncoder

from generator import conventions
from generator.kinds import kind_of
from generator.layout import Slot, area_slots, overview_slots, signal_url
from generator.model import Severity, Signal, Spec, Tier
from generator.render import to_json
from generator.units import Dimension

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


def override_configs(spec: Spec, signal: Signal) -> list[dict[str, Any]]:
    """Per-label thresholds as field overrides on the series whose legend is that label value."""
    by_value: dict[str, list[tuple[Tier, float]]] = {}
    for tier in signal_tiers(spec, signal):
        for o in tier.overrides:
            by_value.setdefault(o.value, [])
    for value, pairs in by_value.items():
        for tier in signal_tiers(spec, signal):
            chosen = next((o.threshold for o in tier.overrides if o.value == value), tier.threshold)
            if chosen is not None:
                pairs.append((tier, chosen))
    return [
        {"matcher": {"id": "byNames", "options": {"mode": "include", "names": [value], "readOnly": True}},
         "properties": [{"id": "thresholds", "value": {"mode": "absolute", "steps": threshold_steps(pairs)}}]}
        for value, pairs in sorted(by_value.items())
    ]


def value_mappings(spec: Spec, signal: Signal) -> list[dict[str, Any]]:
    states = kind_of(signal).states(signal)
    if not states:
        return []
    colors = state_colors(spec, signal)
    options = {str(i): {"text": name, "color": colors[i], "index": i} for i, name in enumerate(states)}
    return [{"type": "value", "options": options}]


# --- panels -------------------------------------------------------------------------------------

def targets(signal: Signal) -> list[g.Target]:
    job = '{job=~"$job"}'
    return [g.Target(expr=q.expr.replace("{matchers}", job), legendFormat=q.legend, refId=chr(ord("A") + i),
                     datasource=DATASOURCE)
            for i, q in enumerate(kind_of(signal).panel_queries(signal))]


def _description(spec: Spec, signal: Signal) -> str:
    lines = [signal.description] if signal.description else []
    for alert in spec.alerts_on(signal):
        for tier in alert.tiers:
            op = {">": "above", "<": "below", "==": "when"}[tier.op]
            lines.append(f"{alert.name} ({tier.severity}) fires {op} {tier.display} for {tier.for_}.")
    return " ".join(lines)


def area_panel(spec: Spec, slot: Slot) -> g.Panel:
    signal = slot.signal
    common: dict[str, Any] = {
        "title": signal.title, "id": slot.panel_id, "description": _description(spec, signal),
        "dataSource": DATASOURCE, "targets": targets(signal),
        "gridPos": g.GridPos(h=slot.h, w=slot.w, x=slot.x, y=slot.y),
        "thresholds": default_steps(spec, signal),
        "overrides": override_configs(spec, signal),
        "mappings": value_mappings(spec, signal),
    }
    if kind_of(signal).states(signal):
        return g.StateTimeline(**common, showValue="auto")
    bounds = {"valueMin": 0, "valueMax": 1} if signal.dim is Dimension.RATIO else {}
    return g.TimeSeries(**common, **bounds, unit=signal.dim.grafana_unit, thresholdsStyleMode="line+area",
                        legendDisplayMode="table", legendCalcs=["lastNotNull", "max"], tooltipMode="multi")


def stat_panel(spec: Spec, slot: Slot) -> g.Panel:
    signal = slot.signal
    return g.Stat(
        title=signal.title, id=slot.panel_id, description=_description(spec, signal), dataSource=DATASOURCE,
        targets=targets(signal)[-1:], gridPos=g.GridPos(h=slot.h, w=slot.w, x=slot.x, y=slot.y),
        thresholds=default_steps(spec, signal), format=signal.dim.grafana_unit, reduceCalc="lastNotNull",
        mappings=value_mappings(spec, signal), colorMode="background", graphMode="area",
        links=[g.DataLink(title=f"{signal.title} over time", linkUrl=signal_url(spec, signal))],
    )


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


# --- dashboards ---------------------------------------------------------------------------------

def templating() -> g.Templating:
    return g.Templating(list=[
        g.Template(name="datasource", label="Data source", type="datasource", query="prometheus", default="",
                   includeAll=False),
        g.Template(name="job", label="Job", type="query", query="label_values(up, job)",
                   dataSource=DATASOURCE, includeAll=True, multi=True, allValue=".+", default="$__all",
                   refresh=2, sort=1),
    ])


def build(spec: Spec, name: str) -> dict[str, Any]:
    meta = next(d for d in spec.dashboards if d.name == name)
    panels: list[Any]
    if name == conventions.OVERVIEW:
        slots = overview_slots(spec)
        panels = [stat_panel(spec, s) for s in slots]
        bottom = max((s.y + s.h for s in slots), default=0)
        panels.append(alert_list_panel(spec, len(slots) + 1, bottom))
    else:
        panels = [area_panel(spec, s) for s in area_slots(spec, name)]
    note = f"Generated by tradewatch from {spec.source}; edit the spec, not this dashboard."
    dashboard = g.Dashboard(
        title=f"{spec.title} / {meta.title}", uid=conventions.dashboard_uid(spec, name),
        description=f"{meta.description} {note}".strip(), tags=conventions.dashboard_tags(spec, name),
        panels=panels, templating=templating(), editable=True, refresh="30s",
        time=g.Time("now-3h", "now"), timezone="browser", graphTooltip=g.GRAPH_TOOLTIP_MODE_SHARED_CROSSHAIR,
        links=[g.DashboardLink(title=spec.title, type="dashboards", tags=[f"tradewatch-{conventions.slug(spec.name)}"],
                               asDropdown=True, keepTime=True, includeVars=True)],
    )
    return modernise(json.loads(json.dumps(dashboard.to_json_data(), cls=DashboardEncoder)))


def modernise(data: dict[str, Any]) -> dict[str, Any]:
    """Keep only what the modern dashboard model allows; grafanalib's legacy keys go."""
    out = {k: v for k, v in data.items() if k in DASHBOARD_KEYS and v is not None}
    out["schemaVersion"] = SCHEMA_VERSION
    out["version"] = 1
    out["timepicker"] = {"refresh_intervals": ["10s", "30s", "1m", "5m", "15m"]}
    out["annotations"] = {"list": [{
        "builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"}, "enable": True, "hide": True,
        "iconColor": "rgba(0, 211, 255, 1)", "name": "Annotations & Alerts", "type": "dashboard",
    }]}
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
        custom = out["fieldConfig"]["defaults"].get("custom")
        if isinstance(custom, dict):
            out["fieldConfig"]["defaults"]["custom"] = {k: v for k, v in custom.items() if v is not None}
    return out


def _target(target: dict[str, Any]) -> dict[str, Any]:
    return {k: target[k] for k in ("datasource", "expr", "legendFormat", "refId", "range", "instant")
            if target.get(k) not in (None, "")}


def emit(spec: Spec) -> dict[str, str]:
    return {conventions.dashboard_file(d.name): to_json(build(spec, d.name)) for d in spec.dashboards}
