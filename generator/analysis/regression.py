"""Regression alerts: a KPI worse than its committed baseline, or than the same hour a week earlier,
by more than its tolerance; their promtool tests and the regression dashboard.

A KPI is a signal; its value is the signal's recorded series, so alert, panel and
``tradewatch baseline`` read the same number.

Example::

    >>> rule_group(spec)["rules"][0]["expr"]
    'job:trade_latency:p99_5m{job="tradewatch-exporter"} > 0.0825'
"""

from __future__ import annotations

import math
from typing import Any

from generator import conventions, promql
from generator.analysis import panels
from generator.analysis.model import Kpi, Regressions
from generator.kinds import kind_of
from generator.kinds.base import Synthesis
from generator.model import Spec
from generator.units import format_duration, format_quantity, parse_duration

AREA = conventions.REGRESSION_AREA
WEEK = "1w"
PANELS_PER_KPI = 2
UNITS = {"time": "s", "ratio": "percentunit", "percent": "percent", "bytes": "bytes", "rate": "reqps"}


def _regressions(spec: Spec) -> Regressions | None:
    r = spec.analysis.regressions if spec.analysis else None
    return r if r is not None and r.kpis else None


def _series(spec: Spec, kpi: Kpi) -> str:
    return f"{kpi.record}{{job={promql.quote(conventions.signal_job(spec, kpi.signal))}}}"


def _op(kpi: Kpi) -> str:
    return ">" if kpi.worse == "higher" else "<"


def _index(spec: Spec, kpi: Kpi) -> int:
    r = _regressions(spec)
    assert r is not None
    return next(i for i, k in enumerate(r.kpis) if k.name == kpi.name)


def _url(spec: Spec, kpi: Kpi, which: int) -> str:
    return conventions.analysis_dashboard_url(spec, AREA, _index(spec, kpi) * PANELS_PER_KPI + which)


def baseline_expr(spec: Spec, kpi: Kpi) -> str:
    limit = kpi.limit()
    assert limit is not None
    return f"{_series(spec, kpi)} {_op(kpi)} {promql.number(limit)}"


def week_expr(spec: Spec, kpi: Kpi) -> str:
    return f"{_series(spec, kpi)} / {_series(spec, kpi)} offset {WEEK} {_op(kpi)} {promql.number(kpi.week_factor())}"


def _tolerance(kpi: Kpi) -> str:
    return f"{promql.number(round(kpi.tolerance * 100, 6))}%"


def _annotations(spec: Spec, kpi: Kpi, week: bool, value: str) -> dict[str, str]:
    title = kpi.signal.title
    if week:
        summary = f"{title} {kpi.worse} than a week ago"
        text = (f"{title} on {spec.job} is {value} of its value at the same time a week ago "
                f"({kpi.worse} is worse; tolerance {_tolerance(kpi)}).")
    else:
        assert kpi.baseline is not None
        base = format_quantity(kpi.baseline.value, kpi.signal.dim)
        summary = f"{title} {kpi.worse} than its baseline"
        text = (f"{title} on {spec.job} is {value}, worse than its baseline {base} (measured over "
                f"{kpi.baseline.window} before {kpi.baseline.captured_at}) by more than {_tolerance(kpi)}.")
    return {"summary": summary, "description": text,
            "action": "Compare with the last deploy or config change; `tradewatch baseline diff` lists every KPI",
            "runbook_url": conventions.runbook_url(spec.runbook_base,
                                                   (conventions.kpi_week_alert if week
                                                    else conventions.kpi_baseline_alert)(kpi.name)),
            "dashboard_url": _url(spec, kpi, 2 if week else 1)}


def _labels(spec: Spec, r: Regressions) -> dict[str, str]:
    return {**dict(spec.labels), "severity": r.severity, "priority": r.priority}


def _value(kpi: Kpi) -> str:
    return kind_of(kpi.signal).value_template(kpi.signal)


def rule_group(spec: Spec) -> dict[str, Any] | None:
    r = _regressions(spec)
    if r is None:
        return None
    rules: list[dict[str, Any]] = []
    for kpi in r.kpis:
        if kpi.baseline is not None:
            rules.append({"alert": conventions.kpi_baseline_alert(kpi.name), "expr": baseline_expr(spec, kpi),
                          "for": r.for_, "labels": _labels(spec, r),
                          "annotations": _annotations(spec, kpi, False, _value(kpi))})
        rules.append({"alert": conventions.kpi_week_alert(kpi.name), "expr": week_expr(spec, kpi), "for": r.for_,
                      "labels": _labels(spec, r),
                      "annotations": _annotations(spec, kpi, True, "{{ $value | humanizePercentage }}")})
    return {"name": conventions.group_name(spec, AREA), "rules": rules}


# --- promtool tests -----------------------------------------------------------------------------
# From raw series through the KPI's own recording rules (its area's rule file) to the regression alerts.
OVER = 1.05  # of the allowed change: just past the tolerance
UNDER = 0.95
STEP = 300  # raw samples 5 minutes apart, unless a KPI's window is shorter
# Sample spacings that divide STEP, for KPIs whose window is shorter than it (rate() needs samples in its window).
SPACINGS = (60, 30, 15, 10, 5, 1)


def eval_step(r: Regressions) -> int:
    """The tests' rule evaluation interval: the alerts' ``for`` where it is a whole number of STEPs
    dividing a week (a week of evaluations is the week-over-week tests' cost), else STEP."""
    hold = int(parse_duration(r.for_))
    week = int(parse_duration(WEEK))
    return hold if hold >= STEP and hold % STEP == 0 and week % hold == 0 else STEP


def _moved(kpi: Kpi, base: float, share: float) -> float:
    sign = 1 if kpi.worse == "higher" else -1
    return base * (1 + sign * kpi.tolerance * share)


def _recorded_labels(spec: Spec, kpi: Kpi) -> dict[str, str]:
    """The labels of the one recorded series a test makes: the job, an instance, example ``by`` values."""
    labels = {conventions.LEVEL_LABEL: conventions.signal_job(spec, kpi.signal)}
    if kind_of(kpi.signal).per_instance:
        labels[conventions.INSTANCE_LABEL] = "kpi:9100"
    return labels | {label: f"example_{label}" for label in kpi.signal.by}


def _nominal(spec: Spec, kpi: Kpi) -> float:
    """A normal value of the KPI, for the week-over-week tests: its baseline, else half (or twice)
    its mildest alert threshold, else mid-range."""
    if kpi.baseline is not None:
        return kpi.baseline.value
    lo, hi = kind_of(kpi.signal).value_range(kpi.signal)
    thresholds = [t.threshold for a in spec.alerts_on(kpi.signal) for t in a.tiers
                  if t.threshold is not None and t.op in (">", "<")]
    if thresholds:
        value = min(thresholds) / 2 if kpi.worse == "higher" else max(thresholds) * 2
        if lo < value < hi and value > 0:
            return value
    if math.isfinite(lo) and math.isfinite(hi):
        return (lo + hi) / 2
    return max(lo, 1.0) if math.isfinite(lo) else 1.0


def _spacing(kpi: Kpi) -> int:
    """Seconds between the raw samples: STEP, or for a window shorter than STEP four samples per window."""
    window = parse_duration(kind_of(kpi.signal).window(kpi.signal) or "0s")
    if not window or window >= STEP:
        return STEP
    return next((s for s in SPACINGS if s <= window / 4), SPACINGS[-1])


def _made(spec: Spec, kpi: Kpi, value: float) -> Synthesis:
    return kind_of(kpi.signal).synthesise(kpi.signal, _recorded_labels(spec, kpi), value, _spacing(kpi))


def _settle_steps(step: int, *made: Synthesis) -> int:
    return max(math.ceil(m.settled() / step) for m in made)


def _segment(start: float, increment: float, count: int) -> str:
    sign = "+" if increment >= 0 else ""
    return f"{promql.number(start)}{sign}{promql.number(increment)}x{count - 1}"


def _switching(before: Synthesis, after: Synthesis, at: int, total: int) -> list[dict[str, str]]:
    """Raw series giving ``before``'s value for ``at`` samples, then ``after``'s, ``total`` samples in
    all: counters go on from where they were at the new slope, gauges jump to the new value."""
    pairs = {(r.metric, r.labels): r for r in before.series}
    out = []
    for late in after.series:
        early = pairs[(late.metric, late.labels)]
        assert not early.values, "piecewise series start plain"
        assert not late.values, "piecewise series start plain"
        if early.increment == 0 and late.increment == 0:
            resume = late.start
        else:
            resume = early.start + early.increment * (at - 1) + late.increment
        first, then = _segment(early.start, early.increment, at), _segment(resume, late.increment, total - at)
        out.append({"series": late.text(), "values": f"{first} {then}"})
    return out


def _steady(made: Synthesis, total: int) -> list[dict[str, str]]:
    return [{"series": r.text(), "values": r.text_values(total - 1)} for r in made.series]


def _fires(kpi: Kpi, value: float, limit: float) -> bool:
    return value > limit if kpi.worse == "higher" else value < limit


def tests(spec: Spec, r: Regressions) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    ev = eval_step(r)
    for_steps = round(parse_duration(r.for_) / ev)
    week = round(parse_duration(WEEK) / ev)
    for kpi in r.kpis:
        labels = {**_recorded_labels(spec, kpi), **_labels(spec, r)}
        if kpi.baseline is not None:
            limit = kpi.limit()
            assert limit is not None
            alert = conventions.kpi_baseline_alert(kpi.name)
            for share in (OVER, UNDER):
                made = _made(spec, kpi, _moved(kpi, kpi.baseline.value, share))
                per = ev // _spacing(kpi)
                fires = _fires(kpi, made.value, limit)
                end = _settle_steps(ev, made) + for_steps + 1
                exp = [{"exp_labels": labels,
                        "exp_annotations": _annotations(spec, kpi, False, _render(kpi, made.value))}] if fires else []
                out.append({
                    "name": f"{alert} {'fires' if fires else 'stays quiet'} when {kpi.name} is "
                            f"{_render(kpi, made.value)} for {r.for_}, {'past' if fires else 'within'} "
                            f"{_tolerance(kpi)} of its baseline",
                    "interval": format_duration(_spacing(kpi)),
                    "input_series": _steady(made, end * per + 1),
                    "alert_rule_test": [{"eval_time": format_duration(end * ev), "alertname": alert,
                                         "exp_alerts": exp}],
                })
        # Week over week: steady for a week, then just past (or within) the tolerance.
        alert = conventions.kpi_week_alert(kpi.name)
        nominal = _nominal(spec, kpi)
        before = _made(spec, kpi, nominal)
        per = ev // _spacing(kpi)
        for share in (OVER, UNDER):
            after = _made(spec, kpi, _moved(kpi, nominal, share))
            ratio = after.value / before.value
            fires = _fires(kpi, ratio, kpi.week_factor())
            # The switch comes once the old value has settled; the new one holds once the window has
            # moved past the switch, and for its for after that.
            start = week + _settle_steps(ev, before, after)
            window = math.ceil(parse_duration(kind_of(kpi.signal).window(kpi.signal) or "0s") / ev)
            end = start + window + for_steps + 1
            exp = [{"exp_labels": labels,
                    "exp_annotations": _annotations(spec, kpi, True, _ratio_text(ratio))}] if fires else []
            out.append({
                "name": f"{alert} {'fires' if fires else 'stays quiet'} when {kpi.name} moves from "
                        f"{_render(kpi, before.value)} to {_render(kpi, after.value)} a week later, for {r.for_}",
                "interval": format_duration(_spacing(kpi)),
                "input_series": _switching(before, after, start * per, end * per + 1),
                "alert_rule_test": [{"eval_time": format_duration(end * ev), "alertname": alert,
                                     "exp_alerts": exp}],
            })
    return out


def _ratio_text(value: float) -> str:
    from generator.humanize import render_value
    from generator.units import Dimension

    return render_value(Dimension.RATIO, value)


def _render(kpi: Kpi, value: float) -> str:
    from generator.humanize import render_value

    return render_value(kpi.signal.dim, value)


# --- dashboard ----------------------------------------------------------------------------------

def dashboard(spec: Spec, r: Regressions) -> dict[str, Any]:
    out: list[dict[str, Any]] = []
    job = '{job=~"$job"}'
    for i, kpi in enumerate(r.kpis):
        y = i * 8
        limit = kpi.limit()
        dim = kpi.signal.dim.value
        limit_steps = panels.steps("green", [(limit, "orange")]) if limit is not None and kpi.worse == "higher" \
            else panels.steps("orange", [(limit, "green")]) if limit is not None else panels.steps("green", [])
        if kpi.baseline is not None:
            base = format_quantity(kpi.baseline.value, kpi.signal.dim)
            about = (f"Baseline {base}, measured over {kpi.baseline.window} before {kpi.baseline.captured_at}; "
                     f"{conventions.kpi_baseline_alert(kpi.name)} fires past {_tolerance(kpi)} {kpi.worse}.")
        else:
            about = "No baseline captured yet: run `tradewatch baseline capture`, commit the file, `make generate`."
        out.append(panels.panel(
            "timeseries", i * PANELS_PER_KPI + 1, f"{kpi.signal.title} against its baseline", about,
            grid=(0, y, 12, 8), targets=[panels.target(f"{kpi.record}{job}", "{{job}}", "A")],
            unit=UNITS.get(dim, "none"), thresholds=limit_steps))
        factor = kpi.week_factor()
        week_steps = panels.steps("green", [(factor, "orange")]) if kpi.worse == "higher" \
            else panels.steps("orange", [(factor, "green")])
        out.append(panels.panel(
            "timeseries", i * PANELS_PER_KPI + 2, f"{kpi.signal.title}, now over a week ago",
            f"{conventions.kpi_week_alert(kpi.name)} fires past {promql.number(factor)}x.", grid=(12, y, 12, 8),
            targets=[panels.target(f"{kpi.record}{job} / {kpi.record}{job} offset {WEEK}", "{{job}}", "A")],
            unit="x", thresholds=week_steps))
    return panels.dashboard(spec, AREA, "Each KPI against its captured baseline and against a week earlier.",
                            out, "now-7d", alerts=[name for kpi in r.kpis for name in (
                                conventions.kpi_baseline_alert(kpi.name), conventions.kpi_week_alert(kpi.name))])


def emit(spec: Spec) -> dict[str, str]:
    from generator.render import to_json, to_yaml

    r = _regressions(spec)
    group = rule_group(spec)
    if r is None or group is None:
        return {}
    rules_path = conventions.rule_file(AREA)
    # The KPIs' own recording rules come from their areas' rule files.
    areas = [area for area, signals in spec.areas() if any(kpi.signal in signals for kpi in r.kpis)]
    files = [conventions.rule_file(area) for area in areas] + [rules_path]
    # At each evaluation the KPIs are recorded before the regression alerts read them, as Prometheus's
    # 15s evaluations make it look; promtool would otherwise order the groups as it likes.
    order = [conventions.group_name(spec, area) for area in [*areas, AREA]]
    test = {"rule_files": [f"../{path.rsplit('/', 1)[1]}" for path in files],
            "evaluation_interval": format_duration(eval_step(r)), "group_eval_order": order, "tests": tests(spec, r)}
    return {rules_path: to_yaml({"groups": [group]}, source=spec.source),
            conventions.rule_test_file(AREA): to_yaml(test, source=spec.source),
            conventions.dashboard_file(AREA): to_json(dashboard(spec, r))}
