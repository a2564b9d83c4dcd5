"""SLOs: SLI recording rules per burn-rate window, the error budget left, page and ticket alerts,
their promtool tests fed raw series, and the SLO dashboard.

As in sloth and pyrra, every SLO's series share their names and carry an ``slo`` label. The SLI is
the error ratio (bad events over all events): for a latency SLO, the observations above the ``le``
bucket of the histogram, straight from its raw ``_bucket`` and ``_count`` counters. An alert
compares the burn rate (error ratio / error budget) of a long and a short window with the
workbook's factor; the long window makes it significant, the short one lets it resolve quickly.

Example::

    >>> rule_group(spec)["rules"][0]["record"]
    'job:slo_errors:ratio_rate5m'
"""

from __future__ import annotations

import math
from typing import Any

from generator import conventions, promql, teststep
from generator.analysis import panels
from generator.analysis.model import BurnAlert, EventsSli, LatencySli, Slo
from generator.analysis.series import counter, first_match, series
from generator.model import Selector, Spec
from generator.units import format_duration, parse_duration

AREA = conventions.SLO_AREA
LEVEL = conventions.LEVEL_LABEL
# Panels per SLO on the dashboard: attainment, budget left, burn rates, alerts.
PANELS_PER_SLO = 4
BURN_PANEL = 3


def _sum_rate(sel: Selector, window: str, suffix: str = "", extra: tuple[str, ...] = ()) -> str:
    return f"sum by ({LEVEL}) (rate({promql.selector(sel, extra, suffix)}[{window}]))"


def sli_expr(slo: Slo, window: str) -> str:
    """The error ratio over ``window``; 0/0 (no traffic) gives no value, so no alert."""
    sli = slo.sli
    if isinstance(sli, LatencySli):
        good = _sum_rate(sli.histogram, window, "_bucket", (f"le={promql.quote(sli.le_label)}",))
        total = _sum_rate(sli.histogram, window, "_count")
        return f"1 - {good} / {total}"
    total = _sum_rate(sli.total, window)
    # A counter of errors that never happened may not exist yet: count it as none.
    return f"({_sum_rate(sli.errors, window)} or {total} * 0) / {total}"


def _ref(record: str, slo: Slo) -> str:
    return f"{record}{{{conventions.SLO_LABEL}={promql.quote(slo.name)}}}"


def _burn(slo: Slo, window: str) -> str:
    return f"{_ref(conventions.slo_error_ratio(window), slo)} / {promql.number(slo.budget)}"


def alert_expr(slo: Slo, alert: BurnAlert) -> str:
    """Fires while both windows of any pair burn faster than its factor; $value is the long
    window's burn rate."""
    pairs = [f"({_burn(slo, w.long)} > {promql.number(w.factor)} and {_burn(slo, w.short)} > "
             f"{promql.number(w.factor)})" for w in alert.windows]
    return " or ".join(pairs)


def _alert_labels(spec: Spec, alert: BurnAlert) -> dict[str, str]:
    return {**dict(spec.labels), "severity": alert.severity, "priority": alert.priority}


def _windows_text(alert: BurnAlert) -> str:
    return " or ".join(f"{promql.number(w.factor)}x over {w.long} and {w.short}" for w in alert.windows)


def summary(slo: Slo, alert: BurnAlert) -> str:
    speed = "fast" if alert.kind == "page" else "steadily"
    return f"{slo.title}: error budget burning {speed}"


def description(slo: Slo, alert: BurnAlert, job: str, burn: str) -> str:
    return (f"{slo.title} on {job}: the error budget of the {slo.objective_display} objective over {slo.period} "
            f"burns {burn}x as fast as it may ({alert.kind} when {_windows_text(alert)}).")


def burn_panel_url(spec: Spec, slo: Slo) -> str:
    index = next(i for i, s in enumerate(spec.analysis.slos if spec.analysis else ()) if s.name == slo.name)
    return conventions.analysis_dashboard_url(spec, AREA, index * PANELS_PER_SLO + BURN_PANEL)


def burn_annotations(spec: Spec, slo: Slo, alert: BurnAlert, job: str, burn: str) -> dict[str, str]:
    out = {"summary": summary(slo, alert), "description": description(slo, alert, job, burn)}
    if slo.impact:
        out["impact"] = slo.impact
    if slo.action:
        out["action"] = slo.action
    out["runbook_url"] = slo.runbook_url
    out["dashboard_url"] = burn_panel_url(spec, slo)
    return out


def rules(spec: Spec, slo: Slo) -> list[dict[str, Any]]:
    label = {conventions.SLO_LABEL: slo.name}
    out: list[dict[str, Any]] = [
        {"record": conventions.slo_error_ratio(w), "expr": sli_expr(slo, w), "labels": label} for w in slo.windows()
    ]
    # Over the whole period, the mean of the shortest window's ratio (as sloth does): a rate over
    # 30 days of raw buckets at every evaluation would be too costly.
    shortest = conventions.slo_error_ratio(slo.windows()[0])
    out.append({"record": conventions.slo_error_ratio(slo.period),
                "expr": f"avg_over_time({_ref(shortest, slo)}[{slo.period}])", "labels": label})
    out.append({"record": conventions.SLO_BUDGET_REMAINING,
                "expr": f"1 - {_burn(slo, slo.period)}", "labels": label})
    for alert in slo.alerts:
        out.append({"alert": alert.name, "expr": alert_expr(slo, alert), "labels": _alert_labels(spec, alert),
                    "annotations": burn_annotations(spec, slo, alert, "{{ $labels.job }}", "{{ $value | humanize }}")})
    return out


def rule_group(spec: Spec) -> dict[str, Any] | None:
    slos = spec.analysis.slos if spec.analysis else ()
    if not slos:
        return None
    # No group interval: rules evaluate at the evaluator's global interval, and promtool tests at
    # the test file's, so day-long windows can be tested at a coarse step.
    return {"name": conventions.group_name(spec, AREA), "rules": [r for s in slos for r in rules(spec, s)]}


# --- promtool tests -----------------------------------------------------------------------------
# Each window pair is tested twice from raw series: events flow at TRAFFIC per step, clean for
# the longest window of the alert, then failing at just over (or just under) the pair's burn rate
# for its long window. Just over fires the alert; just under stays quiet, and so do the other
# pairs (the workbook's windows are chosen so that they do).
TRAFFIC = 1000.0
OVER = 1.05
UNDER = 0.95
# Rules are evaluated hourly in the tests: days of data at a
# fine step would take promtool minutes.
EVALUATION = 3600


def _step(alert: BurnAlert) -> float:
    """Input sample spacing: at most a twelfth of the shortest short window, dividing an hour."""
    shortest = min(parse_duration(w.short) for w in alert.windows)
    return max(s for s in teststep.CANDIDATES if EVALUATION % s == 0 and s <= max(teststep.FINE, shortest / 12))


def input_series(spec: Spec, slo: Slo, phases: list[tuple[float, int]]) -> list[dict[str, str]]:
    """Raw counters for ``phases`` of (error ratio, steps) at TRAFFIC events per step."""
    job = {LEVEL: spec.job}
    total = [(TRAFFIC, n) for _, n in phases]
    bad = [(TRAFFIC * ratio, n) for ratio, n in phases]
    good = [(TRAFFIC * (1 - ratio), n) for ratio, n in phases]
    sli = slo.sli
    if isinstance(sli, LatencySli):
        labels = {**job, **first_match(sli.histogram)}
        return [{"series": series(f"{sli.histogram.metric}_bucket", {**labels, "le": sli.le_label}),
                 "values": counter(good)},
                {"series": series(f"{sli.histogram.metric}_count", labels), "values": counter(total)}]
    assert isinstance(sli, EventsSli)
    errors = {**job, **first_match(sli.total), **first_match(sli.errors)}
    if sli.errors.metric == sli.total.metric:
        # The other events are the same counter with another value of the labels that pick errors.
        others = {**job, **first_match(sli.total), **{k: f"not_{v}" for k, v in first_match(sli.errors).items()
                                                 if k not in first_match(sli.total)}}
        return [{"series": series(sli.errors.metric, errors), "values": counter(bad)},
                {"series": series(sli.total.metric, others), "values": counter(good)}]
    return [{"series": series(sli.errors.metric, errors), "values": counter(bad)},
            {"series": series(sli.total.metric, {**job, **first_match(sli.total)}), "values": counter(total)}]


def _expected(spec: Spec, slo: Slo, alert: BurnAlert, burn: float) -> dict[str, Any]:
    labels = {LEVEL: spec.job, conventions.SLO_LABEL: slo.name, **_alert_labels(spec, alert)}
    return {"exp_labels": labels, "exp_annotations": burn_annotations(spec, slo, alert, spec.job, f"{burn:.4g}")}


def _at(seconds: float) -> str:
    return format_duration(seconds)


def burn_tests(spec: Spec, slo: Slo, alert: BurnAlert) -> list[dict[str, Any]]:
    step = _step(alert)
    # Clean for the longest window of every alert of the SLO, so that none sees the start of data.
    clean = max(parse_duration(w) for w in slo.windows())
    out = []
    for window in alert.windows:
        bad_steps = round(parse_duration(window.long) / step)
        # Checked on the hourly evaluation grid: the clean phase grows to meet it.
        at = math.ceil((clean + bad_steps * step) / EVALUATION) * EVALUATION
        for factor, fires in ((OVER, True), (UNDER, False)):
            burn = window.factor * factor
            ratio = burn * slo.budget
            phases = [(0.0, round(at / step) - bad_steps), (ratio, bad_steps)]
            check = {"eval_time": _at(at), "alertname": alert.name,
                     "exp_alerts": [_expected(spec, slo, alert, burn)] if fires else []}
            verb = "fires" if fires else "stays quiet"
            out.append({
                "name": f"{alert.name} ({alert.kind}) {verb} when {slo.title.lower()} fails at "
                        f"{promql.number(round(burn, 6))}x the budget rate for {window.long} "
                        f"({'over' if fires else 'under'} {promql.number(window.factor)}x over "
                        f"{window.long} and {window.short})",
                "interval": format_duration(step),
                "input_series": input_series(spec, slo, phases),
                "alert_rule_test": [check],
            })
    return out


def budget_test(spec: Spec, slo: Slo) -> dict[str, Any]:
    """Failing at half the budget rate the whole time leaves half the budget."""
    step = 60.0
    span = 3 * 3600.0
    labels = {LEVEL: spec.job, conventions.SLO_LABEL: slo.name}
    # Rounded to a ten-thousandth: the ratio of two rates carries float noise in the last digits.
    remaining = f"round({_ref(conventions.SLO_BUDGET_REMAINING, slo)}, 0.0001)"
    longest_ratio = _ref(conventions.slo_error_ratio(slo.windows()[-1]), slo)
    longest = f"round({longest_ratio} / {promql.number(slo.budget)}, 0.0001)"
    return {
        "name": f"{slo.title}: failing at half the rate the objective allows leaves half the error budget, "
                f"and the longest window burns at 0.5x",
        "interval": format_duration(step),
        "input_series": input_series(spec, slo, [(slo.budget / 2, round(span / step))]),
        "promql_expr_test": [
            {"expr": remaining, "eval_time": _at(span), "exp_samples": [{"labels": series("", labels), "value": 0.5}]},
            {"expr": longest, "eval_time": _at(span), "exp_samples": [{"labels": series("", labels), "value": 0.5}]},
        ],
    }


def tests(spec: Spec) -> list[dict[str, Any]]:
    out = []
    for slo in spec.analysis.slos if spec.analysis else ():
        for alert in slo.alerts:
            out.extend(burn_tests(spec, slo, alert))
        out.append(budget_test(spec, slo))
    return out


# --- dashboard ----------------------------------------------------------------------------------

def _burn_steps(slo: Slo) -> dict[str, Any]:
    color = {"page": "red", "ticket": "orange"}
    return panels.steps("green", [(w.factor, color[a.kind]) for a in slo.alerts for w in a.windows])


def dashboard(spec: Spec) -> dict[str, Any] | None:
    slos = spec.analysis.slos if spec.analysis else ()
    if not slos:
        return None
    out: list[dict[str, Any]] = []
    job = '{job=~"$job", ' + conventions.SLO_LABEL + "="
    for i, slo in enumerate(slos):
        base = i * PANELS_PER_SLO
        y = i * 8
        sel = job + promql.quote(slo.name) + "}"
        period_ratio = conventions.slo_error_ratio(slo.period)
        out.append(panels.panel(
            "stat", base + 1, f"{slo.title}: attained over {slo.period}",
            f"Share of good events over the last {slo.period}; the objective is {slo.objective_display}. "
            f"{slo.description}".strip(), grid=(0, y, 6, 8),
            targets=[panels.target(f"1 - {period_ratio}{sel}", "{{job}}", "A")], unit="percentunit",
            thresholds=panels.steps("red", [(slo.objective, "green")]), options=panels.stat_options()))
        out.append(panels.panel(
            "stat", base + 2, f"{slo.title}: error budget left",
            f"The share of the {slo.period} error budget ({promql.number(slo.budget * 100)}% of events may fail) "
            "not yet spent; below 0 the objective is missed.", grid=(6, y, 6, 8),
            targets=[panels.target(f"{conventions.SLO_BUDGET_REMAINING}{sel}", "{{job}}", "A")], unit="percentunit",
            thresholds=panels.steps("red", [(0.0, "orange"), (0.25, "green")]), options=panels.stat_options()))
        targets = [panels.target(f"{conventions.slo_error_ratio(w)}{sel} / {promql.number(slo.budget)}",
                                 f"{w} {{{{job}}}}", chr(ord("A") + k)) for k, w in enumerate(slo.windows())]
        lines = "; ".join(f"{a.kind}: {_windows_text(a)}" for a in slo.alerts)
        out.append(panels.panel(
            "timeseries", base + BURN_PANEL, f"{slo.title}: burn rate",
            f"Error ratio over each window, in multiples of the budget rate (1x spends the budget exactly over "
            f"{slo.period}). {lines}.", grid=(12, y, 8, 8), targets=targets, unit="x", thresholds=_burn_steps(slo),
            options={"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
                     "tooltip": {"mode": "multi", "sort": "desc"}}))
        out.append(panels.alert_list(base + 4, (20, y, 4, 8), sorted({a.name for a in slo.alerts})))
    return panels.dashboard(spec, AREA, "Service level objectives: attainment, error budget left, burn rates "
                            "and their alerts.", out, "now-7d",
                            alerts=[a.name for slo in slos for a in slo.alerts])


def emit(spec: Spec) -> dict[str, str]:
    from generator.render import to_json, to_yaml

    group = rule_group(spec)
    board = dashboard(spec)
    if group is None or board is None:
        return {}
    rules_path = conventions.rule_file(AREA)
    test = {"rule_files": [f"../{rules_path.rsplit('/', 1)[1]}"],
            "evaluation_interval": format_duration(EVALUATION), "tests": tests(spec)}
    return {rules_path: to_yaml({"groups": [group]}, source=spec.source),
            conventions.rule_test_file(AREA): to_yaml(test, source=spec.source),
            conventions.dashboard_file(AREA): to_json(board)}
