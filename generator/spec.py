"""Spec file -> validated model: parse, check against the JSON Schema, check meaning, build.

Every problem is collected (not just the first) and pinned to file, line and YAML path.

Example::

    spec = load(Path("tradewatch.yaml"))   # raises SpecErrors listing every problem
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Any, cast

import jsonschema

from exporters.catalogue import CATALOGUE, MetricDef
from generator import conventions
from generator.analysis import spec as analysis_spec
from generator.errors import SpecError, SpecErrors, YamlPath
from generator.model import (
    DEFAULT_PRIORITY,
    PRIORITIES,
    SEVERITIES,
    Absent,
    Age,
    Aggregate,
    Alert,
    Dashboard,
    Evaluator,
    Expr,
    Gauge,
    Increase,
    Notifications,
    Op,
    Override,
    Priority,
    PriorityRoute,
    Quantile,
    Query,
    Rate,
    Ratio,
    Receiver,
    Selector,
    Severity,
    Signal,
    Spec,
    State,
    Tier,
)
from generator.units import (
    Dimension,
    UnitError,
    format_quantity,
    parse_duration,
    parse_multiplier,
    parse_quantity,
)
from generator.yamlsource import Located, parse

SCHEMA_PATH = Path(__file__).with_name("spec.schema.json")
KINDS = ("quantile", "ratio", "rate", "gauge", "state", "increase", "age", "absent", "expr")
DEFAULT_WINDOW = "5m"
DEFAULT_FOR = "5m"
UNIT_DIM = {
    "seconds": Dimension.TIME, "bytes": Dimension.BYTES, "ratio": Dimension.RATIO,
    "percent": Dimension.PERCENT, "usd": Dimension.USD, "count": Dimension.COUNT,
    "state": Dimension.STATE, "timestamp": Dimension.COUNT, "gwei": Dimension.GAS,
}


@cache
def schema() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SCHEMA_PATH.read_text())
    return data


def load(path: Path, display_name: str | None = None) -> Spec:
    """Read, validate and model the spec at ``path``; raise SpecErrors listing every problem."""
    name = display_name or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecErrors([SpecError(name, 0, 0, "(file)", f"cannot read the spec: {exc.strerror}")]) from None
    return load_text(text, name, source=path.name)


def load_text(text: str, file: str, source: str | None = None) -> Spec:
    """``file`` names the spec in errors; ``source`` in generated headers (default: ``file``)."""
    located = parse(text, file)
    errors = schema_errors(located)
    if errors:
        raise SpecErrors(errors)
    builder = _Builder(located)
    spec = builder.build(source or file)
    if builder.errors:
        raise SpecErrors(builder.errors)
    return spec


# --- schema -------------------------------------------------------------------------------------

def _suggest(word: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def schema_errors(located: Located) -> list[SpecError]:
    validator = jsonschema.Draft202012Validator(schema())
    out: list[SpecError] = []
    for err in validator.iter_errors(located.data):
        out.extend(_explain(located, err))
    return out


def _explain(located: Located, err: jsonschema.ValidationError) -> list[SpecError]:
    path: YamlPath = tuple(err.absolute_path)
    sub = err.schema if isinstance(err.schema, dict) else {}
    kind = err.validator
    if kind == "additionalProperties" and isinstance(err.instance, dict):
        known = set(sub.get("properties", {}))
        return [
            located.error((*path, key), f"unknown key {key!r}{_suggest(key, known)}")
            for key in err.instance
            if key not in known
        ]
    if kind == "required":
        missing = str(err.message).split("'")[1]
        return [located.error(path, f"missing required key {missing!r}")]
    if kind == "enum":
        options = [str(o) for o in sub.get("enum", [])]
        return [located.error(path, f"{err.instance!r} is not one of {', '.join(options)}"
                                    f"{_suggest(str(err.instance), options)}")]
    if kind == "pattern":
        what = sub.get("title", "value")
        if err.relative_schema_path and "propertyNames" in err.relative_schema_path:
            return [located.error((*path, str(err.instance)), f"{err.instance!r} is not a valid {what}")]
        return [located.error(path, f"{err.instance!r} is not a valid {what}")]
    if kind == "type":
        expected = sub.get("type")
        words = " or ".join(expected) if isinstance(expected, list) else expected
        return [located.error(path, f"expected {words}, got {type(err.instance).__name__} {err.instance!r}")]
    if kind == "const":
        return [located.error(path, f"must be {sub.get('const')!r} (this tradewatch reads spec version 1)")]
    return [located.error(path, str(err.message))]


# --- meaning and model --------------------------------------------------------------------------

@dataclass(frozen=True)
class _Family:
    """A metric family a selector may name, and how the named series behaves."""

    metric: MetricDef
    series: str

    @property
    def series_kind(self) -> str:
        """Histograms' _bucket, _count and _sum series are counters."""
        if self.metric.kind == "histogram" and self.series != self.metric.name:
            return "counter"
        return self.metric.kind

    @property
    def labels(self) -> tuple[str, ...]:
        extra = ("le",) if self.series.endswith("_bucket") else ()
        return (*self.metric.labels, *extra)


class _Builder:
    def __init__(self, located: Located) -> None:
        self.loc = located
        self.raw: dict[str, Any] = located.data
        self.errors: list[SpecError] = []
        self.families = self._families()

    def err(self, path: YamlPath, message: str) -> None:
        self.errors.append(self.loc.error(path, message))

    def _families(self) -> dict[str, _Family]:
        metrics = dict(CATALOGUE)
        for name, raw in self.raw.get("external_metrics", {}).items():
            path = ("external_metrics", name)
            if name in CATALOGUE:
                self.err(path, f"{name!r} is published by the tradewatch exporter; do not redeclare it")
                continue
            buckets = tuple(raw.get("buckets", ()))
            if raw["type"] == "histogram" and not buckets:
                self.err(path, "a histogram needs its buckets (alert thresholds and tests depend on them)")
            if list(buckets) != sorted(set(buckets)):
                self.err((*path, "buckets"), "buckets must be strictly ascending")
            metrics[name] = MetricDef(name, raw["type"], raw["unit"], raw.get("help", ""),
                                      labels=tuple(raw.get("labels", ())), buckets=buckets,
                                      states=tuple(raw.get("states", ())))
        families: dict[str, _Family] = {}
        for m in metrics.values():
            for series in {m.name, *m.series_names}:
                families[series] = _Family(m, series)
        return families

    # selectors

    def family(self, name: str, path: YamlPath) -> _Family | None:
        fam = self.families.get(name)
        if fam is None:
            self.err(path, f"metric {name!r} is not published by the tradewatch exporter and not declared "
                           f"in external_metrics{_suggest(name, self.families)}")
        return fam

    def selector(
        self, raw: Mapping[str, Any], path: YamlPath, kinds: tuple[str, ...]
    ) -> tuple[Selector, _Family | None]:
        name = raw["metric"]
        fam = self.family(name, (*path, "metric"))
        match: list[tuple[str, str | tuple[str, ...]]] = []
        for label, value in sorted(raw.get("match", {}).items()):
            if fam is not None and label not in fam.labels:
                self.err((*path, "match", label), f"{name} has no label {label!r} "
                         f"(labels: {', '.join(fam.labels) or 'none'}){_suggest(label, fam.labels)}")
            match.append((label, tuple(value) if isinstance(value, list) else value))
        if fam is not None and fam.series_kind not in kinds:
            self.err((*path, "metric"), f"{name} is a {fam.series_kind}; this needs a {' or '.join(kinds)}")
        return Selector(name, tuple(match)), fam

    # signals

    def build_signal(self, name: str, raw: dict[str, Any], dashboards: set[str]) -> Signal | None:
        path: YamlPath = ("signals", name)
        kinds = [k for k in KINDS if k in raw]
        if len(kinds) != 1:
            what = "none" if not kinds else ", ".join(kinds)
            self.err(path, f"set exactly one of {', '.join(KINDS)} (found {what})")
            return None
        kind = kinds[0]
        body = raw[kind]
        kpath = (*path, kind)
        dashboard = raw["dashboard"]
        if dashboard == conventions.OVERVIEW:
            self.err((*path, "dashboard"), "the overview shows stats of other dashboards' signals; "
                     "put the signal on an area dashboard and set overview: true")
        elif dashboard not in dashboards:
            self.err((*path, "dashboard"), f"no dashboard {dashboard!r} in dashboards{_suggest(dashboard, dashboards)}")
        query, dim, labels = self.query(kind, body, kpath)
        if query is None or dim is None:
            return None
        by = tuple(raw.get("by", ()))
        for i, label in enumerate(by):
            if labels is not None and label not in labels:
                self.err((*path, "by", i), f"the signal's metrics have no label {label!r}{_suggest(label, labels)}")
        objective = None
        if "objective" in raw:
            objective = self.quantity(raw["objective"], dim, (*path, "objective"))
        return Signal(
            name=name, title=raw["title"], description=raw.get("description", ""), dashboard=dashboard,
            query=query, dim=dim, by=by, objective=objective, overview=bool(raw.get("overview", False)),
            line=self.loc.where(path)[0],
        )

    def window(self, body: Mapping[str, Any], path: YamlPath) -> str:
        window = str(body.get("window", DEFAULT_WINDOW))
        if parse_duration(window) <= 0:
            self.err((*path, "window"), "a window must be longer than 0s")
        return window

    def query(
        self, kind: str, body: Any, path: YamlPath
    ) -> tuple[Query | None, Dimension | None, tuple[str, ...] | None]:
        """The query, its dimension, and the labels its series carry (None where unknown)."""
        if kind == "quantile":
            sel, fam = self.selector(body, path, ("histogram",))
            if fam is None:
                return None, None, None
            if fam.series != fam.metric.name:
                self.err((*path, "metric"), f"name the histogram {fam.metric.name!r}, not its {fam.series!r} series")
            return (Quantile(sel, float(body["q"]), self.window(body, path), fam.metric.buckets,
                             tuple(float(q) for q in body.get("show", ()))),
                    UNIT_DIM.get(fam.metric.unit, Dimension.COUNT), fam.metric.labels)
        if kind == "ratio":
            parts: dict[str, tuple[Selector, ...]] = {}
            label_sets: list[set[str]] = []
            for side in ("numerator", "denominator"):
                sels = []
                for i, item in enumerate(body[side]):
                    sel, fam = self.selector(item, (*path, side, i), ("counter",))
                    sels.append(sel)
                    if fam is not None:
                        label_sets.append(set(fam.metric.labels))
                parts[side] = tuple(sels)
            common = tuple(sorted(set.intersection(*label_sets))) if label_sets else ()
            return Ratio(parts["numerator"], parts["denominator"], self.window(body, path)), Dimension.RATIO, common
        if kind in ("rate", "increase"):
            sel, fam = self.selector(body, path, ("counter",))
            labels = fam.metric.labels if fam else None
            if kind == "rate":
                return Rate(sel, self.window(body, path)), Dimension.RATE, labels
            dim = Dimension.USD if fam and fam.metric.unit == "usd" else Dimension.COUNT
            return Increase(sel, self.window(body, path)), dim, labels
        if kind == "gauge":
            sel, fam = self.selector(body, path, ("gauge",))
            if fam is None:
                return None, None, None
            divide = None
            dim = UNIT_DIM.get(fam.metric.unit, Dimension.COUNT)
            if "divide_by" in body:
                divide, _ = self.selector(body["divide_by"], (*path, "divide_by"), ("gauge",))
                dim = Dimension.RATIO
            agg = cast(Aggregate, body.get("aggregate", "max"))
            return Gauge(sel, agg, divide), dim, fam.metric.labels
        if kind == "state":
            sel, fam = self.selector(body, path, ("gauge",))
            if fam is None:
                return None, None, None
            states = tuple(body.get("states", fam.metric.states))
            if len(states) < 2:
                self.err(path, f"{sel.metric} has no named states; list them in states: [closed, open, ...]")
                return None, None, None
            return State(sel, states), Dimension.STATE, fam.metric.labels
        if kind == "age":
            sel, fam = self.selector(body, path, ("gauge",))
            if fam is not None and fam.metric.unit != "timestamp":
                self.err((*path, "metric"), f"{sel.metric} is not a unix timestamp gauge (unit: {fam.metric.unit})")
            return Age(sel), Dimension.TIME, fam.metric.labels if fam else None
        if kind == "absent":
            sel, fam = self.selector(body, path, ("gauge", "counter", "histogram", "stateset"))
            return Absent(sel), Dimension.COUNT, fam.metric.labels if fam else None
        metrics = tuple(body["metrics"])
        for i, metric in enumerate(metrics):
            self.family(metric, (*path, "metrics", i))
        return Expr(body["expr"], metrics), Dimension(body["unit"]), None

    def quantity(self, raw: Any, dim: Dimension, path: YamlPath, objective: float | None = None) -> float | None:
        multiplier = parse_multiplier(raw)
        if multiplier is not None:
            if objective is None:
                self.err(path, f"{raw!r} multiplies the signal's objective, but the signal sets none")
                return None
            return objective * multiplier
        try:
            return parse_quantity(raw, dim)
        except UnitError as exc:
            self.err(path, str(exc))
            return None

    # alerts

    def build_tier(self, severity: Severity, raw: dict[str, Any], signal: Signal, path: YamlPath) -> Tier | None:
        ops = [k for k in ("above", "below", "equals") if k in raw]
        absent = isinstance(signal.query, Absent)
        priority = cast(Priority, raw.get("priority", DEFAULT_PRIORITY[severity]))
        for_ = str(raw.get("for", DEFAULT_FOR))
        if absent:
            if ops:
                self.err((*path, ops[0]), "an absent signal has no threshold: the alert fires when the series is gone")
                return None
            return Tier(severity, priority, "==", None, "absent", for_)
        if len(ops) != 1:
            self.err(path, f"set exactly one of above, below, equals (found {', '.join(ops) or 'none'})")
            return None
        key = ops[0]
        op: Op = {"above": ">", "below": "<", "equals": "=="}[key]  # type: ignore[assignment]
        if isinstance(signal.query, State):
            if key != "equals":
                self.err((*path, key), f"{signal.name} is a state; write equals: <state> "
                         f"({', '.join(signal.query.states)})")
                return None
            state = str(raw[key])
            if state not in signal.query.states:
                self.err((*path, key), f"{state!r} is not a state of {signal.name} "
                         f"({', '.join(signal.query.states)}){_suggest(state, signal.query.states)}")
                return None
            return Tier(severity, priority, op, float(signal.query.value_of(state)), state, for_)
        if key == "equals":
            self.err((*path, key), "equals is for state signals; use above or below")
            return None
        value = self.quantity(raw[key], signal.dim, (*path, key), signal.objective)
        if value is None:
            return None
        self.check_measurable(signal, value, (*path, key))
        overrides = []
        for label, values in sorted(raw.get("per_label", {}).items()):
            if label not in signal.by:
                self.err((*path, "per_label", label), f"{label!r} is not in the signal's by: "
                         f"[{', '.join(signal.by)}]; per-label thresholds need one series per {label}")
                continue
            for label_value, raw_t in sorted(values.items()):
                t = self.quantity(raw_t, signal.dim, (*path, "per_label", label, label_value), signal.objective)
                if t is not None:
                    overrides.append(Override(label, str(label_value), t, format_quantity(t, signal.dim)))
        return Tier(severity, priority, op, value, format_quantity(value, signal.dim), for_, tuple(overrides))

    def check_measurable(self, signal: Signal, value: float, path: YamlPath) -> None:
        query = signal.query
        if isinstance(query, Quantile) and query.buckets:
            top = query.buckets[-1]
            if value >= top:
                self.err(path, f"histogram_quantile() never returns more than the highest finite bucket "
                         f"({format_quantity(top, signal.dim)}) of {query.source.metric}, so this alert could "
                         "never fire; add a larger bucket or lower the threshold")

    def build_alert(self, name: str, raw: dict[str, Any], signals: dict[str, Signal], spec_labels: dict[str, str],
                    runbooks: str) -> Alert | None:
        path: YamlPath = ("alerts", name)
        signal = signals.get(raw["signal"])
        if signal is None:
            if raw["signal"] not in self.raw["signals"]:
                hint = _suggest(raw["signal"], self.raw["signals"])
                self.err((*path, "signal"), f"no signal {raw['signal']!r}{hint}")
            return None
        tiers = []
        for severity in SEVERITIES:
            if severity in raw["tiers"]:
                tier = self.build_tier(severity, raw["tiers"][severity], signal, (*path, "tiers", severity))
                if tier is not None:
                    tiers.append(tier)
        self.check_tier_order(tiers, (*path, "tiers"))
        labels = {**spec_labels, **raw.get("labels", {})}
        for reserved in ("severity", "priority", "alertname", conventions.LEVEL_LABEL, *signal.by):
            if reserved in labels:
                self.err((*path, "labels", reserved), f"label {reserved!r} is set by tradewatch")
        return Alert(
            name=name, signal=signal, summary=raw["summary"], impact=raw.get("impact", ""),
            action=raw.get("action", ""), runbook_url=raw.get("runbook") or conventions.runbook_url(runbooks, name),
            tiers=tuple(tiers), labels=tuple(sorted(labels.items())), inhibits=tuple(raw.get("inhibits", ())),
            line=self.loc.where(path)[0],
        )

    def check_tier_order(self, tiers: list[Tier], path: YamlPath) -> None:
        # Tiers are in severity order, most severe first: each must sit beyond the next.
        for worse, milder in pairwise(tiers):
            if worse.threshold is None or milder.threshold is None or worse.op != milder.op or worse.op == "==":
                continue
            wrong = worse.threshold <= milder.threshold if worse.op == ">" else worse.threshold >= milder.threshold
            if wrong:
                side = "above" if worse.op == ">" else "below"
                self.err((*path, worse.severity), f"the {worse.severity} threshold {worse.display} must be {side} "
                         f"the {milder.severity} threshold {milder.display}")

    def notifications(self, used: set[Priority]) -> Notifications:
        raw = self.raw.get("notifications")
        path: YamlPath = ("notifications",)
        if raw is None:
            raw = {"receivers": {"console": {"webhook": {"url": "http://127.0.0.1:9099/alerts"}}},
                   "routes": {p: {"receivers": ["console"]} for p in PRIORITIES}}
        receivers = []
        for name, body in raw["receivers"].items():
            kind, settings = next(iter(body.items()))
            receivers.append(Receiver(name, kind, tuple(sorted((k, str(v)) for k, v in settings.items()))))
        names = {r.name for r in receivers}
        repeat = raw.get("repeat_interval", "5m")
        routes = []
        for priority in PRIORITIES:
            route = raw["routes"].get(priority)
            if route is None:
                if priority in used:
                    self.err((*path, "routes"), f"alerts use priority {priority!r} but it has no route")
                continue
            for i, receiver in enumerate(route["receivers"]):
                if receiver not in names:
                    self.err((*path, "routes", priority, "receivers", i),
                             f"no receiver {receiver!r}{_suggest(receiver, names)}")
            routes.append(PriorityRoute(priority, tuple(route["receivers"]), route.get("repeat_interval", repeat)))
        return Notifications(
            group_by=tuple(raw.get("group_by", ("alertname", "job", "severity"))),
            group_wait=raw.get("group_wait", "10s"), group_interval=raw.get("group_interval", "1m"),
            repeat_interval=repeat, resolved=bool(raw.get("send_resolved", True)),
            escalate_after=int(raw.get("escalate_after", 3)), escalate_window=raw.get("escalate_window", "1h"),
            receivers=tuple(receivers), routes=tuple(routes),
        )

    def build(self, source: str) -> Spec:
        raw = self.raw
        dashboards = tuple(Dashboard(n, d["title"], d.get("description", "")) for n, d in raw["dashboards"].items())
        names = {d.name for d in dashboards}
        signals: dict[str, Signal] = {}
        for name, body in raw["signals"].items():
            signal = self.build_signal(name, body, names)
            if signal is not None:
                signals[name] = signal
        links = raw.get("links", {})
        runbooks = links.get("runbooks", "https://github.com/tradewatch/tradewatch/blob/main/docs/runbooks.md")
        alerts = []
        for name, body in raw["alerts"].items():
            alert = self.build_alert(name, body, signals, raw.get("labels", {}), runbooks)
            if alert is not None:
                alerts.append(alert)
        alert_names = {a.name for a in alerts} | set(raw["alerts"])
        for alert in alerts:
            for i, target in enumerate(alert.inhibits):
                if target not in alert_names or target == alert.name:
                    self.err(("alerts", alert.name, "inhibits", i),
                             f"no other alert {target!r}{_suggest(target, alert_names - {alert.name})}")
        for dashboard in dashboards:
            shown = any(body["dashboard"] == dashboard.name for body in raw["signals"].values())
            if dashboard.name != conventions.OVERVIEW and not shown:
                self.err(("dashboards", dashboard.name), "no signal is shown on this dashboard")
        used = {t.priority for a in alerts for t in a.tiers}
        analysis = analysis_spec.build(self, alert_names, names, signals)
        return Spec(
            name=raw["name"], title=raw["title"], source=source, job=raw["job"],
            grafana_url=links.get("grafana", "http://localhost:3000"),
            grafana_folder=raw.get("grafana", {}).get("folder", "Tradewatch"),
            runbook_base=runbooks, evaluation_interval=raw.get("evaluation_interval", "30s"),
            dashboards=dashboards, signals=tuple(signals.values()), alerts=tuple(alerts),
            notifications=self.notifications(used), labels=tuple(sorted(raw.get("labels", {}).items())),
            evaluator=cast(Evaluator, raw.get("evaluator", "prometheus")), analysis=analysis,
        )
