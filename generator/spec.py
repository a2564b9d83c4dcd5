"""Spec file -> validated model: parse, check against the JSON Schema, check meaning, build.

Every problem is collected (not just the first) and pinned to file, line and YAML path.

Example::

    spec = load(Path("tradewatch.yaml"))   # raises SpecErrors listing every problem
"""

from __future__ import annotations

import difflib
import json
import math
import sys
from collections.abc import Iterable, Mapping
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Any, cast, get_args

import jsonschema

from exporters.catalogue import MetricUnit
from generator import contract, conventions, exprcheck, teststep
from generator.analysis import spec as analysis_spec
from generator.contract import Family
from generator.errors import SpecError, SpecErrors, YamlPath
from generator.kinds import expr as expr_kind
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
    ScrapeJob,
    Selector,
    Severity,
    Signal,
    Spec,
    State,
    Tier,
)
from generator.ranges import ValueRange, value_range
from generator.spec_panels import build_views
from generator.units import (
    UNIT_DIMENSION,
    Dimension,
    Duration,
    UnitError,
    format_duration,
    format_quantity,
    parse_duration,
    parse_multiplier,
    parse_quantity,
)
from generator.yamlsource import Located, decode, parse

SCHEMA_PATH = Path(__file__).with_name("spec.schema.json")
KINDS = ("quantile", "ratio", "rate", "gauge", "state", "increase", "age", "absent", "expr")
DEFAULT_WINDOW = "5m"
DEFAULT_FOR = "5m"
DEFAULT_EVALUATION_INTERVAL = "30s"
RATE_SAMPLES = 4  # scrapes a rate window must span at least
# The longest signal window: a quarter, the longest error-budget period in common use (Prometheus
# must keep that much data: its default retention is 15d). Windows over a day are tested at a coarse
# step (generator/teststep.py).
MAX_WINDOW = Duration("90d")
# Target labels: the generated rules and tests fix job to the spec's job, one series per instance.
SCRAPE_LABELS = ("job", "instance")


@cache
def schema() -> dict[str, Any]:
    """The JSON Schema, with the unit list taken from the metric catalogue (the file repeats it for editors)."""
    data: dict[str, Any] = json.loads(SCHEMA_PATH.read_text())
    external_unit(data)["enum"] = list(get_args(MetricUnit))
    return data


def external_unit(data: dict[str, Any]) -> dict[str, Any]:
    """The schema of a contract metric's ``unit`` (``systems.<job>.metrics.<name>`` and ``external_metrics``)."""
    unit: dict[str, Any] = data["$defs"]["metric"]["properties"]["unit"]
    return unit


def load(path: Path, display_name: str | None = None) -> Spec:
    """Read, validate and model the spec at ``path``; raise SpecErrors listing every problem."""
    name = display_name or str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SpecErrors([SpecError(name, 0, 0, "(file)", f"cannot read the spec: {exc.strerror}")]) from None
    return load_text(decode(raw, name), name, source=path.name)


def load_or_say(path: Path, command: str, consequence: str) -> Spec | None:
    """The spec at ``path``, or None once its errors and ``tradewatch <command>: ...; <consequence>``
    are on stderr: what every command that reads one spec does with a bad one."""
    try:
        return load(path)
    except SpecErrors as exc:
        print(exc, file=sys.stderr)
        print(f"tradewatch {command}: the spec has errors; {consequence}", file=sys.stderr)
        return None


def load_text(text: str, file: str, source: str | None = None) -> Spec:
    """``file`` names the spec in errors; ``source`` in generated headers (default: ``file``)."""
    located = parse(text, file)
    errors = nonfinite_errors(located.data, (), located) + schema_errors(located)
    if errors:
        raise SpecErrors(errors)
    builder = _Builder(located)
    spec = builder.build(source or file)
    if builder.errors:
        raise SpecErrors(builder.errors)
    errors = name_collisions(spec, located)
    if errors:
        raise SpecErrors(errors)
    return spec


def name_collisions(spec: Spec, located: Located) -> list[SpecError]:
    """Names tradewatch derives from the spec's names must stay apart: dashboard uids (slugged, so
    ``sys_tem`` and ``sys__tem`` meet), generated alert names and rule files."""
    errors: list[SpecError] = []
    uids: dict[str, str] = {}
    for dashboard in spec.dashboards:
        uid = conventions.dashboard_uid(spec, dashboard.name)
        if uid in uids:
            errors.append(located.error(("dashboards", dashboard.name), f"its Grafana uid {uid!r} is also the uid "
                                        f"of dashboard {uids[uid]!r}; rename one of them"))
        uids.setdefault(uid, dashboard.name)
        if dashboard.name == conventions.ESCALATION_AREA:
            errors.append(located.error(("dashboards", dashboard.name), f"{dashboard.name!r} is the name of the "
                                        "generated escalation rules' file; choose another name"))
    generated = {conventions.recurring_alert_name(a.name): a.name for a in spec.alerts}
    for alert in spec.alerts:
        if alert.name in generated:
            errors.append(located.error(("alerts", alert.name), f"{alert.name!r} is the name tradewatch gives the "
                                        f"escalation alert of {generated[alert.name]!r}; choose another name"))
    rule_uids: dict[str, str] = {}
    for alert in spec.alerts:
        for tier in alert.tiers:
            for override in ("", *(f"{o.label}-{o.value}" for o in tier.overrides)):
                uid = conventions.grafana_rule_uid(spec, alert.name, tier.severity, override)
                other = rule_uids.setdefault(uid, alert.name)
                if other != alert.name:
                    errors.append(located.error(("alerts", alert.name), f"its Grafana rule uid {uid!r} is also "
                                                f"the uid of alert {other!r} (uids ignore case); rename one of them"))
    return errors


# --- schema -------------------------------------------------------------------------------------

def _suggest(word: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def nonfinite_errors(data: Any, path: YamlPath, located: Located) -> list[SpecError]:
    """YAML's .nan and .inf (and 1.0e400, which reads as .inf): no threshold, bucket or quantile may be one."""
    if isinstance(data, float) and not math.isfinite(data):
        return [located.error(path, f"{data!r} is not a finite number")]
    if isinstance(data, dict):
        return [e for k, v in data.items() for e in nonfinite_errors(v, (*path, k), located)]
    if isinstance(data, list):
        return [e for i, v in enumerate(data) for e in nonfinite_errors(v, (*path, i), located)]
    return []


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
    if kind == "pattern" and err.relative_schema_path and "duration" in str(sub.get("title", "")):
        try:
            Duration(err.instance)
        except UnitError as exc:
            return [located.error(path, str(exc))]
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

class _Builder:
    def __init__(self, located: Located) -> None:
        self.loc = located
        self.raw: dict[str, Any] = located.data
        self.errors: list[SpecError] = []
        self.contract = contract.build(self.raw, self.err)
        # The generated prometheus.yml scrapes at the evaluation interval.
        self.scrape_interval = self.duration(self.raw.get("evaluation_interval"), ("evaluation_interval",),
                                             DEFAULT_EVALUATION_INTERVAL, positive=True)

    def err(self, path: YamlPath, message: str) -> None:
        self.errors.append(self.loc.error(path, message))

    def line(self, path: YamlPath) -> int:
        return self.loc.where(path)[0]

    def family(self, name: str, path: YamlPath, job: str | None = None) -> Family | None:
        """The family ``name`` belongs to in the contract; an error at ``path`` if there is none."""
        found = self.contract.candidates(name, job)
        if len(found) == 1:
            return found[0]
        if found:
            jobs = " and ".join(sorted(str(f.job) for f in found))
            self.err(path, f"{name!r} is published by {jobs}; set job: to say which system's it is")
        elif not self.contract.declared and job is not None:
            self.err((*path[:-1], "job"), "job: names a system in systems:, and this spec declares none "
                     "(its metrics come from the tradewatch exporter or external_metrics, from any job)")
        elif not self.contract.declared:
            self.err(path, f"metric {name!r} is not published by the tradewatch exporter and not declared "
                           f"in external_metrics{_suggest(name, self.contract.series_names())}")
        elif job is not None and job not in self.contract.jobs:
            self.err((*path[:-1], "job"), f"no system with job {job!r} in systems{_suggest(job, self.contract.jobs)}")
        elif job is not None:
            self.err(path, f"job {job} does not publish {name!r} (see systems.{job}.metrics)"
                           f"{_suggest(name, self.contract.series_names(job))}")
        else:
            self.err(path, f"metric {name!r} is not published by any system in systems"
                           f"{_suggest(name, self.contract.series_names())}")
        return None

    def selector(
        self, raw: Mapping[str, Any], path: YamlPath, kinds: tuple[str, ...]
    ) -> tuple[Selector, Family | None]:
        name = raw["metric"]
        fam = self.family(name, (*path, "metric"), raw.get("job"))
        match: list[tuple[str, str | tuple[str, ...]]] = []
        for label, value in sorted(raw.get("match", {}).items()):
            if label in SCRAPE_LABELS:
                self.err((*path, "match", label), f"{label!r} is set by Prometheus's scrape, not by the metric: "
                         f"every signal already selects the spec's job ({self.raw.get('job')}); "
                         "a series of another job belongs in that job's own spec")
                continue
            if fam is not None and label not in fam.labels:
                self.err((*path, "match", label), f"{name} has no label {label!r} "
                         f"(labels: {', '.join(fam.labels) or 'none'}){_suggest(label, fam.labels)}")
            match.append((label, tuple(value) if isinstance(value, list) else value))
        if fam is not None and fam.metric.unit == "milliseconds":
            self.err((*path, "metric"), f"{name} is in milliseconds and signals compare seconds; read it "
                     "with an expr signal that divides it by 1000")
        if fam is not None and fam.series_kind not in kinds:
            self.err((*path, "metric"), f"{name} is a {fam.series_kind}; this needs a {' or '.join(kinds)}")
        if fam is not None and fam.job is not None:
            # The contract ties the metric to the job publishing it: another job's series of the
            # same name (our exporter's cpu_usage_percent beside theirs) must not leak in.
            match = sorted([(conventions.LEVEL_LABEL, fam.job), *match])
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
        jobs = sorted({v for sel in conventions.selectors(query) for label, v in sel.match
                       if label == conventions.LEVEL_LABEL and isinstance(v, str)})
        if len(jobs) > 1:
            self.err(kpath, f"reads {' and '.join(jobs)}: a signal's series are combined per job, so one "
                     "signal reads one system")
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

    def duration(self, raw: Any, path: YamlPath, default: str, *, positive: bool = False) -> Duration:
        """``raw`` as a Duration; an error (and the default, so building goes on) if Prometheus would refuse it.

        ``positive``: zero is refused too (an interval of 0 means nothing to Prometheus or Alertmanager).
        """
        try:
            value = Duration(default if raw is None else raw)
        except UnitError as exc:
            self.err(path, str(exc))
            return Duration(default)
        if positive and value.seconds <= 0:
            self.err(path, f"{value} must be longer than 0s")
            return Duration(default)
        return value

    def window(self, body: Mapping[str, Any], path: YamlPath) -> Duration:
        window = self.duration(body.get("window"), (*path, "window"), DEFAULT_WINDOW)
        scrape = self.scrape_interval
        if window.seconds <= 0:
            self.err((*path, "window"), "a window must be longer than 0s")
        elif window.seconds > MAX_WINDOW.seconds:
            self.err((*path, "window"), f"{window} is longer than {MAX_WINDOW}, the longest window tradewatch "
                     f"generates rules and promtool tests for; use a window of at most {MAX_WINDOW}, or an expr "
                     "signal over a recorded series")
        elif window.seconds > teststep.FINE_WINDOW and teststep.finest(window.seconds) is None:
            self.err((*path, "window"), f"{window} cannot be tested: the generated promtool tests step through a "
                     f"window over 1d at most {teststep.MAX_STEPS} times, in steps that divide a day, and no such "
                     f"step divides {window}; use whole days (e.g. {max(1, round(window.seconds / 86400))}d)")
        elif window.seconds < RATE_SAMPLES * scrape.seconds:
            # rate() needs two samples in the window; four scrapes keep one missed scrape from
            # emptying it (Prometheus's own advice for rate windows).
            self.err((*path, "window"), f"{window} is shorter than {RATE_SAMPLES}x the scrape interval ({scrape}, "
                     f"the spec's evaluation_interval, which the generated prometheus.yml scrapes at); "
                     f"make it at least {format_duration(RATE_SAMPLES * scrape.seconds)}")
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
                    UNIT_DIMENSION[fam.metric.unit], fam.metric.labels)
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
            dim = UNIT_DIMENSION[fam.metric.unit]
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
            # An expr may read a name two systems publish: its own matchers tell them apart.
            if len(self.contract.candidates(metric)) < 2:
                self.family(metric, (*path, "metrics", i))
        self.check_expr(body["expr"], metrics, (*path, "expr"))
        return Expr(body["expr"], metrics), Dimension(body["unit"]), None

    def check_expr(self, expr: str, declared: tuple[str, ...], path: YamlPath) -> None:
        """Parse free PromQL and hold every metric it selects to the metric contract."""
        reading = exprcheck.read(expr)
        if reading.error is not None:
            self.err(path, reading.error)
            return
        for sel in reading.selectors:
            if sel.metric is None:
                self.err(path, "a selector without a fixed metric name (a regex on __name__) cannot be checked "
                               "against the metrics this spec knows; name each metric")
                continue
            found = self.contract.candidates(sel.metric)
            if not found:
                where = ("no system in systems publishes" if self.contract.declared else
                         "is not published by the tradewatch exporter and not declared in external_metrics")
                self.err(path, f"the expression selects {sel.metric!r}, which {where}"
                               f"{_suggest(sel.metric, self.contract.series_names())}")
                continue
            if sel.metric not in declared and found[0].metric.name not in declared:
                self.err(path, f"the expression selects {sel.metric!r}; list it in metrics too")
            # Two systems may publish the name; the expression's job matcher picks one, so a label
            # any of them carries is a label the expression may match on.
            carried = tuple(dict.fromkeys(label for fam in found for label in fam.labels))
            for label in sel.labels:
                if label not in carried and label not in exprcheck.TARGET_LABELS:
                    self.err(path, f"the expression matches {sel.metric} on label {label!r}, which it does not carry "
                                   f"(labels: {', '.join((*carried, *exprcheck.TARGET_LABELS))})")

    def quantity(self, raw: Any, dim: Dimension, path: YamlPath, objective: float | None = None) -> float | None:
        try:
            multiplier = parse_multiplier(raw)
            if multiplier is None:
                return parse_quantity(raw, dim)
        except UnitError as exc:
            self.err(path, str(exc))
            return None
        if objective is None:
            self.err(path, f"{raw!r} multiplies the signal's objective, but the signal sets none")
            return None
        product = objective * multiplier
        if not math.isfinite(product):
            self.err(path, f"{raw!r} times the objective is not a finite number")
            return None
        return product

    # alerts

    def build_tier(self, severity: Severity, raw: dict[str, Any], signal: Signal, path: YamlPath) -> Tier | None:
        ops = [k for k in ("above", "below", "equals") if k in raw]
        absent = isinstance(signal.query, Absent)
        priority = cast(Priority, raw.get("priority", DEFAULT_PRIORITY[severity]))
        for_ = self.duration(raw.get("for"), (*path, "for"), DEFAULT_FOR)
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
        self.check_measurable(signal, op, value, (*path, key))
        self.check_provable(signal, op, value, for_, label=None, path=(*path, key))
        overrides = []
        for label, values in sorted(raw.get("per_label", {}).items()):
            if label not in signal.by:
                self.err((*path, "per_label", label), f"{label!r} is not in the signal's by: "
                         f"[{', '.join(signal.by)}]; per-label thresholds need one series per {label}")
                continue
            for label_value, raw_t in sorted(values.items()):
                t_path = (*path, "per_label", label, label_value)
                t = self.quantity(raw_t, signal.dim, t_path, signal.objective)
                if t is not None:
                    self.check_measurable(signal, op, t, t_path)
                    self.check_provable(signal, op, t, for_, label=(label, str(label_value)), path=t_path)
                    overrides.append(Override(label, str(label_value), t, format_quantity(t, signal.dim)))
        return Tier(severity, priority, op, value, format_quantity(value, signal.dim), for_, tuple(overrides))

    def check_measurable(self, signal: Signal, op: Op, value: float, path: YamlPath) -> None:
        """Refuse a threshold no value of the signal crosses: such an alert could never fire (or always would)."""
        query = signal.query
        rng = value_range(signal)
        shown = format_quantity(value, signal.dim)
        if isinstance(query, Quantile) and query.buckets and op == ">" and value >= rng.high:
            self.err(path, f"histogram_quantile() never returns more than the highest finite bucket "
                     f"({format_quantity(rng.high, signal.dim)}) of {query.source.metric}, so this alert could "
                     "never fire; add a larger bucket or lower the threshold")
        elif not rng.contains(value):
            self.err(path, f"{shown} is outside the values {signal.name} can take ({self.span(rng, signal.dim)}), "
                     "so this alert would fire always or never")
        elif rng.never_crossed(op, value):
            side = "above" if op == ">" else "below"
            self.err(path, f"{signal.name} is never {side} {shown} (its values run {self.span(rng, signal.dim)}), "
                     "so this alert could never fire")

    def check_provable(self, signal: Signal, op: Op, value: float, for_: Duration, *,
                       label: tuple[str, str] | None, path: YamlPath) -> None:
        """Free PromQL: refuse a threshold no raw series tradewatch can make will take it past for its
        ``for``, since the generated tests could not show the alert firing."""
        if not isinstance(signal.query, Expr) or op not in (">", "<") or exprcheck.read(signal.query.expr).error:
            return
        labels = {conventions.LEVEL_LABEL: conventions.signal_job_of(signal.query, self.raw["job"]),
                  **{name: f"example_{name}" for name in signal.by}}
        if label is not None:
            labels[label[0]] = label[1]
        window = expr_kind.KIND.window(signal)
        step = teststep.step(None if window is None else parse_duration(window), [parse_duration(for_)])
        if step is None:
            self.err(path, f"the expression reads {window} back, and no test step divides both it and the "
                           f"for ({for_}) in at most {teststep.MAX_STEPS} steps; make the range whole days")
            return
        past = value + (abs(value) * 0.02 or 1.0) * (1 if op == ">" else -1)
        try:
            made = expr_kind.KIND.synthesise(signal, labels, past, step, parse_duration(for_))
        except expr_kind.CannotSynthesise as exc:
            self.err(path, f"the generated tests must show this alert firing from raw series, and {exc}")
            return
        if not expr_kind.holds_for(made, op, value, parse_duration(for_), step):
            self.err(path, f"the raw series that bring {signal.name} to {format_quantity(past, signal.dim)} "
                           f"do not hold it {'above' if op == '>' else 'below'} the threshold for {for_}, "
                           "so the generated tests could not show this alert firing")

    @staticmethod
    def span(rng: ValueRange, dim: Dimension) -> str:
        low = "-∞" if math.isinf(rng.low) else format_quantity(rng.low, dim)
        high = "∞" if math.isinf(rng.high) else format_quantity(rng.high, dim)
        return f"{low} to {high}"

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

    def check_test_steps(self, alerts: list[Alert]) -> None:
        """Each ``for`` on a signal over a window of more than a day must be a whole number of the
        coarse step its promtool tests run at (``teststep``), or they could not tell it from a
        shorter one."""
        for alert in alerts:
            window = getattr(alert.signal.query, "window", None)
            if not isinstance(window, Duration) or not teststep.FINE_WINDOW < window.seconds <= MAX_WINDOW.seconds:
                continue
            finest = teststep.finest(window.seconds)
            if finest is None:
                continue  # the window itself is refused
            for tier in alert.tiers:
                if tier.for_.seconds % finest:
                    step = format_duration(finest)
                    self.err(("alerts", alert.name, "tiers", tier.severity, "for"),
                             f"for {tier.for_} is too fine for the {window} window of signal {alert.signal.name}: "
                             "the generated promtool tests step through a window over 1d at most "
                             f"{teststep.MAX_STEPS} times, in steps that divide every for of its alerts, so {window} "
                             f"takes steps of at least {step}; make the for a multiple of {step} (e.g. "
                             f"{format_duration(max(1, round(tier.for_.seconds / finest)) * finest)}), or the window "
                             "at most 1d")

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
        repeat = self.duration(raw.get("repeat_interval"), (*path, "repeat_interval"), "5m", positive=True)
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
            route_repeat = self.duration(route.get("repeat_interval"), (*path, "routes", priority, "repeat_interval"),
                                         repeat, positive=True)
            routes.append(PriorityRoute(priority, tuple(route["receivers"]), route_repeat))
        return Notifications(
            group_by=tuple(raw.get("group_by", ("alertname", "job", "severity"))),
            group_wait=self.duration(raw.get("group_wait"), (*path, "group_wait"), "10s"),
            group_interval=self.duration(raw.get("group_interval"), (*path, "group_interval"), "1m", positive=True),
            repeat_interval=repeat, resolved=bool(raw.get("send_resolved", True)),
            escalate_after=int(raw.get("escalate_after", 3)),
            escalate_window=self.duration(raw.get("escalate_window"), (*path, "escalate_window"), "1h",
                                          positive=True),
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
        self.check_test_steps(alerts)
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
            runbook_base=runbooks,
            evaluation_interval=self.scrape_interval,
            dashboards=dashboards, signals=tuple(signals.values()), alerts=tuple(alerts),
            notifications=self.notifications(used), labels=tuple(sorted(raw.get("labels", {}).items())),
            evaluator=cast(Evaluator, raw.get("evaluator", "prometheus")), analysis=analysis,
            views=build_views(self, signals.values(), names, alerts),
            scrape_jobs=self.scrape_jobs(),
        )

    def scrape_jobs(self) -> tuple[ScrapeJob, ...]:
        """One per watched system; the tradewatch exporter's address is the stack's to give."""
        systems: dict[str, Any] = self.raw.get("systems", {})
        jobs = tuple(ScrapeJob(job, tuple(body.get("targets", ())) or (
            () if body.get("exporter") == contract.EXPORTER else (conventions.default_target(job),)))
            for job, body in systems.items())
        if self.raw["job"] not in systems:
            jobs = (ScrapeJob(self.raw["job"]), *jobs)
        return jobs
