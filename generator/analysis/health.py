"""Component health and trend (seed 003) as recording rules, an alert, promtool tests and a dashboard.

Per component, from its SLA contract (the seed's ``getComponentHealth``)::

    score = max(0, 100 - min(50, (mean latency / max latency - 1) x 100)   when over the contract
                       - min(30, error rate x 100)                          when over the contract
                       - min(20, 5 x operations slower than the contract in the violations window))

The seed counts each operation over the contract as a violation; the histogram bucket at the
contract latency (a bucket boundary, checked) counts them. The trend compares the mean latency of
the last quarter of the trend window with the quarter before: above 1.2 rising, below 0.8 falling.

Example::

    >>> rule_group(spec)["rules"][0]["record"]
    'job_component:health_latency_seconds:mean5m'
"""

from __future__ import annotations

from typing import Any

from generator import conventions, promql
from generator.analysis import panels
from generator.analysis.model import Health, HealthComponent
from generator.analysis.series import counter, first_match, series
from generator.model import Selector, Spec
from generator.units import format_duration, parse_duration

AREA = conventions.HEALTH_AREA
RISING = 1.2
FALLING = 0.8
LATENCY_CAP = 50
ERROR_CAP = 30
VIOLATION_CAP = 20
PER_VIOLATION = 5
GAUGE_PANEL = 1


def _health(spec: Spec) -> Health | None:
    return spec.analysis.health if spec.analysis else None


def _by(h: Health) -> str:
    return f"{conventions.LEVEL_LABEL}, {h.by}"


def _sum(fn: str, sel: Selector, window: str, h: Health, *, suffix: str = "", extra: tuple[str, ...] = (),
         offset: str = "") -> str:
    off = f" offset {offset}" if offset else ""
    return f"sum by ({_by(h)}) ({fn}({promql.selector(sel, extra, suffix)}[{window}]{off}))"


def _mean(h: Health, window: str, offset: str = "") -> str:
    return (f"{_sum('rate', h.latency, window, h, suffix='_sum', offset=offset)} / "
            f"{_sum('rate', h.latency, window, h, suffix='_count', offset=offset)}")


def _component(h: Health, c: HealthComponent) -> str:
    return f"{h.by}={promql.quote(c.name)}"


def score_expr(h: Health, c: HealthComponent) -> str:
    mean = f"{conventions.health_latency_mean(h.by, h.window)}{{{_component(h, c)}}}"
    errors = f"{conventions.health_error_ratio(h.by, h.window)}{{{_component(h, c)}}}"
    le = f"le={promql.quote(c.le_label)}"
    slow = (f"{_sum('increase', h.latency, h.violations_window, h, suffix='_count', extra=(_component(h, c),))} - "
            f"{_sum('increase', h.latency, h.violations_window, h, suffix='_bucket', extra=(_component(h, c), le))}")
    return (
        f"clamp_min(100"
        f" - clamp(({mean} / {promql.number(c.max_latency)} - 1) * 100, 0, {LATENCY_CAP})"
        f" - clamp_max({errors} * 100, {ERROR_CAP}) * ({errors} > bool {promql.number(c.max_error_rate)})"
        f" - clamp_max(({slow}) * {PER_VIOLATION}, {VIOLATION_CAP}), 0)"
    )


def trend_expr(h: Health) -> str:
    quarter = format_duration(parse_duration(h.trend_window) / 4)
    return f"({_mean(h, quarter)}) / ({_mean(h, quarter, offset=quarter)})"


def description(h: Health, component: str, job: str, value: str) -> str:
    return (f"Health of {component} on {job} is {value} out of 100 (healthy above {h.healthy_above:g}): "
            f"latency, errors or slow operations break its SLA contract.")


def alert_annotations(spec: Spec, h: Health, component: str, job: str, value: str) -> dict[str, str]:
    out = {"summary": h.summary, "description": description(h, component, job, value)}
    if h.impact:
        out["impact"] = h.impact
    if h.action:
        out["action"] = h.action
    out["runbook_url"] = h.runbook_url
    out["dashboard_url"] = conventions.analysis_dashboard_url(spec, AREA, GAUGE_PANEL)
    return out


def alert_labels(spec: Spec, h: Health) -> dict[str, str]:
    return {**dict(spec.labels), "severity": h.severity, "priority": h.priority}


def rule_group(spec: Spec) -> dict[str, Any] | None:
    h = _health(spec)
    if h is None:
        return None
    total = _sum("rate", h.total, h.window, h)
    score = conventions.health_score(h.by)
    ratio = conventions.health_trend_ratio(h.by)
    rules: list[dict[str, Any]] = [
        {"record": conventions.health_latency_mean(h.by, h.window), "expr": _mean(h, h.window)},
        # A counter of errors that never happened may not exist yet: count it as none.
        {"record": conventions.health_error_ratio(h.by, h.window),
         "expr": f"({_sum('rate', h.errors, h.window, h)} or {total} * 0) / {total}"},
        *({"record": score, "expr": score_expr(h, c)} for c in h.components),
        {"record": conventions.HEALTH_OVERALL, "expr": f"avg by ({conventions.LEVEL_LABEL}) ({score})"},
        {"record": ratio, "expr": trend_expr(h)},
        {"record": conventions.health_trend_state(h.by),
         "expr": f"({ratio} > bool {promql.number(RISING)}) - ({ratio} < bool {promql.number(FALLING)})"},
        {"alert": h.alert, "expr": f"{score} < {promql.number(h.healthy_above)}", "for": h.for_,
         "labels": alert_labels(spec, h),
         "annotations": alert_annotations(spec, h, f"{{{{ $labels.{h.by} }}}}", "{{ $labels.job }}",
                                    "{{ $value | humanize }}")},
    ]
    return {"name": conventions.group_name(spec, AREA), "rules": rules}


# --- promtool tests -----------------------------------------------------------------------------
# Raw series at one sample a minute, OPS operations a minute per component.
STEP = 60
OPS = 100.0
EVALUATION = "1m"


def component_series(spec: Spec, h: Health, c: HealthComponent,
                     phases: list[tuple[float, float, float, int]]) -> list[dict[str, str]]:
    """Raw series of one component over phases of (mean latency, error ratio, share over the contract, minutes)."""
    base = {conventions.LEVEL_LABEL: spec.job, h.by: c.name}
    lat = {**base, **first_match(h.latency)}
    count = [(OPS, n) for *_, n in phases]
    out = [
        {"series": series(f"{h.latency.metric}_sum", lat),
         "values": counter([(OPS * m, n) for m, _, _, n in phases])},
        {"series": series(f"{h.latency.metric}_count", lat), "values": counter(count)},
        {"series": series(f"{h.latency.metric}_bucket", {**lat, "le": c.le_label}),
         "values": counter([(OPS * (1 - slow), n) for _, _, slow, n in phases])},
    ]
    errors = {**base, **first_match(h.total), **first_match(h.errors)}
    bad = counter([(OPS * e, n) for _, e, _, n in phases])
    if h.errors.metric == h.total.metric:
        others = {**base, **first_match(h.total), **{k: f"not_{v}" for k, v in first_match(h.errors).items()
                                                if k not in first_match(h.total)}}
        out += [{"series": series(h.errors.metric, errors), "values": bad},
                {"series": series(h.total.metric, others),
                 "values": counter([(OPS * (1 - e), n) for _, e, _, n in phases])}]
    else:
        out += [{"series": series(h.errors.metric, errors), "values": bad},
                {"series": series(h.total.metric, {**base, **first_match(h.total)}), "values": counter(count)}]
    return out


def _round(expr: str) -> str:
    return f"round({expr}, 0.01)"


def _sample(spec: Spec, h: Health, c: HealthComponent | None, value: float) -> dict[str, Any]:
    labels = {conventions.LEVEL_LABEL: spec.job, **({h.by: c.name} if c else {})}
    return {"labels": series("", labels), "value": value}


def tests(spec: Spec, h: Health) -> list[dict[str, Any]]:
    good, bad = h.components[0], h.components[-1]
    calm = 40  # minutes of healthy traffic first
    sick = 30
    # The unhealthy component: 1.2x its latency contract (-20), errors at 2% and at least twice its
    # contract (-2 or more), every operation slower than the contract (-20, capped).
    err = min(0.2, max(0.02, 2 * bad.max_error_rate))
    expected = round(100 - 20 - err * 100 - VIOLATION_CAP, 2)
    # The healthy one has errors, but under its contract: they cost nothing.
    healthy = [(0.5 * good.max_latency, 0.5 * good.max_error_rate, 0.0, calm + sick)]
    inputs = component_series(spec, h, good, healthy) if good != bad else []
    inputs += component_series(spec, h, bad, [(0.5 * bad.max_latency, 0.0, 0.0, calm),
                                              (1.2 * bad.max_latency, err, 1.0, sick)])
    score = conventions.health_score(h.by)
    at_end = format_duration((calm + sick) * STEP)
    others = [good] if good != bad else []
    overall = (100 * len(others) + expected) / (len(others) + 1)
    for_ = parse_duration(h.for_)
    out: list[dict[str, Any]] = [{
        "name": f"{bad.name} at 1.2x its {bad.max_latency_display} contract, {promql.number(err * 100)}% errors "
                f"and every operation slow scores {promql.number(expected)}; {h.alert} fires after {h.for_}",
        "interval": format_duration(STEP),
        "input_series": inputs,
        "promql_expr_test": [
            {"expr": _round(f"{score}{{{_component(h, c)}}}"), "eval_time": format_duration(calm * STEP),
             "exp_samples": [_sample(spec, h, c, 100)]} for c in {good.name: good, bad.name: bad}.values()
        ] + [
            {"expr": _round(f"{score}{{{_component(h, bad)}}}"), "eval_time": at_end,
             "exp_samples": [_sample(spec, h, bad, expected)]},
            {"expr": _round(conventions.HEALTH_OVERALL), "eval_time": at_end,
             "exp_samples": [_sample(spec, h, None, round(overall, 2))]},
        ],
        "alert_rule_test": [
            {"eval_time": format_duration(calm * STEP), "alertname": h.alert, "exp_alerts": []},
            # Unhealthy, but not yet for `for`: pending, not firing.
            {"eval_time": format_duration(calm * STEP + for_ / 2), "alertname": h.alert, "exp_alerts": []},
            {"eval_time": at_end, "alertname": h.alert, "exp_alerts": [{
                "exp_labels": {conventions.LEVEL_LABEL: spec.job, h.by: bad.name, **alert_labels(spec, h)},
                "exp_annotations": alert_annotations(spec, h, bad.name, spec.job, f"{expected:.4g}"),
            }]},
        ],
    }]
    quarter = parse_duration(h.trend_window) / 4
    steps = round(quarter / STEP)
    state = conventions.health_trend_state(h.by)
    for word, factor, value in (("rising", 1.5, 1), ("stable", 1.1, 0), ("falling", 0.5, -1)):
        phases = [(0.4 * good.max_latency, 0.0, 0.0, 2 * steps), (0.4 * factor * good.max_latency, 0.0, 0.0, steps)]
        out.append({
            "name": f"{good.name}'s mean latency at {promql.number(factor)}x the quarter before reads {word}",
            "interval": format_duration(STEP),
            "input_series": component_series(spec, h, good, phases),
            "promql_expr_test": [{"expr": f"{state}{{{_component(h, good)}}}",
                                  "eval_time": format_duration(3 * steps * STEP),
                                  "exp_samples": [{"labels": series(state, {conventions.LEVEL_LABEL: spec.job,
                                                                             h.by: good.name}),
                                                   "value": value}]}],
        })
    return out


# --- dashboard ----------------------------------------------------------------------------------

def dashboard(spec: Spec, h: Health) -> dict[str, Any]:
    job = '{job=~"$job"}'
    score = conventions.health_score(h.by)
    legend = f"{{{{{h.by}}}}}"
    healthy = panels.steps("red", [(h.healthy_above, "green")])
    contracts = ", ".join(f"{c.name} {c.max_latency_display} / {c.max_error_rate_display}" for c in h.components)
    trend_map = [{"type": "value", "options": {
        "1": {"text": "rising", "color": "orange", "index": 0},
        "0": {"text": "stable", "color": "green", "index": 1},
        "-1": {"text": "falling", "color": "blue", "index": 2}}}]
    quarter = format_duration(parse_duration(h.trend_window) / 4)
    out = [
        panels.panel("gauge", GAUGE_PANEL, "Health score by component",
                     f"0-100 from each SLA contract (latency / error rate: {contracts}); healthy above "
                     f"{h.healthy_above:g}. {h.alert} fires below it for {h.for_}.",
                     grid=(0, 0, 16, 8), targets=[panels.target(f"{score}{job}", legend, "A")], unit="none",
                     thresholds=healthy, options=panels.gauge_options(), minmax=(0, 100)),
        panels.panel("stat", 2, "Overall health", "The mean of the components' scores.", grid=(16, 0, 8, 8),
                     targets=[panels.target(f"{conventions.HEALTH_OVERALL}{job}", "{{job}}", "A")], unit="none",
                     thresholds=healthy, options=panels.stat_options(), minmax=(0, 100)),
        panels.panel("stat", 3, "Latency trend by component",
                     f"Mean latency of the last {quarter} against the {quarter} before: rising above "
                     f"{RISING:g}x, falling below {FALLING:g}x.", grid=(0, 8, 12, 6),
                     targets=[panels.target(f"{conventions.health_trend_state(h.by)}{job}", legend, "A")],
                     unit="none", thresholds=panels.steps("green", []), options=panels.stat_options(),
                     mappings=trend_map),
        panels.panel("timeseries", 4, "Latency trend ratio", f"Rising above {RISING:g}, falling below {FALLING:g}.",
                     grid=(12, 8, 12, 6),
                     targets=[panels.target(f"{conventions.health_trend_ratio(h.by)}{job}", legend, "A")],
                     unit="x", thresholds=panels.steps("blue", [(FALLING, "green"), (RISING, "orange")])),
        panels.panel("timeseries", 5, "Health score over time", "Each component's score.", grid=(0, 14, 18, 8),
                     targets=[panels.target(f"{score}{job}", legend, "A")], unit="none", thresholds=healthy,
                     minmax=(0, 100)),
        panels.alert_list(6, (18, 14, 6, 8), [h.alert]),
    ]
    return panels.dashboard(spec, AREA, "Health score and latency trend of each component against its SLA "
                            "contract (seed 003).", out, "now-6h", alerts=[h.alert])


def emit(spec: Spec) -> dict[str, str]:
    from generator.render import to_json, to_yaml

    h = _health(spec)
    group = rule_group(spec)
    if h is None or group is None:
        return {}
    rules_path = conventions.rule_file(AREA)
    test = {"rule_files": [f"../{rules_path.rsplit('/', 1)[1]}"], "evaluation_interval": EVALUATION,
            "tests": tests(spec, h)}
    return {rules_path: to_yaml({"groups": [group]}, source=spec.source),
            conventions.rule_test_file(AREA): to_yaml(test, source=spec.source),
            conventions.dashboard_file(AREA): to_json(dashboard(spec, h))}
