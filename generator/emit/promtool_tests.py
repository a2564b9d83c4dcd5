"""promtool unit tests generated from the spec: every alert tier fires past its threshold, stays quiet
just inside it, and stays pending while a breach is shorter than its ``for``; every recording rule
turns raw series into the value the alerts and panels read.

Alert cases feed the recorded series directly (the raw metrics are absent, so recording rules
add nothing), which makes the timing exact; recording cases feed raw series. Together they cover
raw metric -> recorded signal -> alert. Expected annotations are the exact text Prometheus renders,
computed with the Python twins of its template functions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from generator import conventions, promql
from generator.emit.rules import alert_annotations, alert_labels
from generator.humanize import render_value
from generator.model import (
    Absent,
    Age,
    Alert,
    Expr,
    Gauge,
    Increase,
    Override,
    Quantile,
    Rate,
    Ratio,
    Selector,
    Signal,
    Spec,
    State,
    Tier,
)
from generator.render import to_yaml
from generator.units import Dimension, format_quantity, parse_duration

STEP = 60.0  # seconds between input samples and between rule evaluations in the tests
STEP_TEXT = "1m"


def _t(seconds: float) -> str:
    minutes = int(seconds // 60)
    return f"{minutes}m"


def fire_time(tier: Tier) -> float:
    """First evaluation at which a condition true from t=0 has held for ``for``."""
    return math.ceil(parse_duration(tier.for_) / STEP) * STEP


def _clean(v: float) -> float:
    """Six significant digits: values a person would write, so rendered text is stable."""
    return float(f"{v:.6g}")


# --- values either side of a threshold ----------------------------------------------------------

@dataclass(frozen=True)
class Case:
    """One alert case: a signal value held from t=0 and the time it is checked."""

    name: str
    value: float
    eval_at: float


def _severer(alert: Alert, tier: Tier, threshold: float) -> float | None:
    """The nearest threshold of a more severe tier beyond this one, if any."""
    beyond = [
        t.threshold for t in alert.tiers
        if t.threshold is not None and t.op == tier.op and t is not tier
        and ((t.threshold > threshold) if tier.op == ">" else (t.threshold < threshold))
    ]
    if not beyond:
        return None
    return min(beyond) if tier.op == ">" else max(beyond)


# Relative distance of the test values from a threshold: close enough that moving a threshold by
# more than this breaks a test, far enough that rendered values differ from the threshold.
MARGIN = 0.02


def breach_value(alert: Alert, tier: Tier, threshold: float) -> float:
    """Just past the threshold, short of any more severe tier; whole steps for counts."""
    dim = alert.signal.dim
    step = 1.0 if dim is Dimension.COUNT or threshold == 0 else abs(threshold) * MARGIN
    value = threshold + step if tier.op == ">" else threshold - step
    nxt = _severer(alert, tier, threshold)
    if nxt is not None and (value >= nxt if tier.op == ">" else value <= nxt):
        value = (threshold + nxt) / 2
    if dim is Dimension.RATIO:
        value = min(max(value, 0.0), 1.0)
    return _clean(value)


def inside_value(alert: Alert, tier: Tier, threshold: float) -> float:
    """Just inside the threshold. Counts sit exactly on it: the comparison is strict."""
    dim = alert.signal.dim
    if dim is Dimension.COUNT or threshold == 0:
        return threshold
    step = abs(threshold) * MARGIN
    value = threshold - step if tier.op == ">" else threshold + step
    if dim is Dimension.RATIO:
        value = min(value, 1.0)
    return _clean(value)


# --- series -------------------------------------------------------------------------------------

def series_labels(spec: Spec, signal: Signal, override: Override | None = None) -> dict[str, str]:
    labels = {conventions.LEVEL_LABEL: conventions.signal_job(spec, signal)}
    for label in signal.by:
        labels[label] = example_label_value(signal, label, override)
    return labels


def example_label_value(signal: Signal, label: str, override: Override | None) -> str:
    if override is not None and override.label == label:
        return override.value
    source = getattr(signal.query, "source", None)
    if isinstance(source, Selector):
        for name, value in source.match:
            if name == label:
                return value[0] if isinstance(value, tuple) else value
    return f"example_{label}"


def series_text(name: str, labels: dict[str, str]) -> str:
    inner = ", ".join(f"{k}={promql.quote(v)}" for k, v in labels.items())
    return f"{name}{{{inner}}}"


def constant(value: float, samples: int) -> str:
    return f"{promql.number(value)}+0x{samples}"


# --- alert cases --------------------------------------------------------------------------------

def expected_alerts(spec: Spec, alert: Alert, *, value: float, at: float, labels: dict[str, str],
                    override: Override | None) -> list[dict[str, Any]]:
    out = []
    for tier in alert.tiers:
        threshold = _threshold_for(tier, override)
        if threshold is None or not tier.crossed(value, threshold) or fire_time(tier) > at:
            continue
        display = format_quantity(threshold, alert.signal.dim) if override and threshold != tier.threshold \
            else tier.display
        text = _render_value(alert.signal, value)
        description = promql.describe(alert, tier, text, labels, display)
        out.append({
            "exp_labels": {**alert_labels(spec, alert, tier), **labels},
            "exp_annotations": alert_annotations(spec, alert, description, labels),
        })
    return out


def _threshold_for(tier: Tier, override: Override | None) -> float | None:
    if override is None:
        return tier.threshold
    chosen = next((o.threshold for o in tier.overrides if o.value == override.value and o.label == override.label),
                  None)
    return tier.threshold if chosen is None else chosen


def _render_value(signal: Signal, value: float) -> str:
    if isinstance(signal.query, State):
        index = int(value)
        return signal.query.states[index] if index == value and 0 <= index < len(signal.query.states) \
            else render_value(Dimension.COUNT, value)
    return render_value(signal.dim, value)


def _words(signal: Signal, value: float) -> str:
    if isinstance(signal.query, State):
        return _render_value(signal, value)
    return format_quantity(value, signal.dim)


def tier_cases(alert: Alert, tier: Tier, threshold: float) -> list[Case]:
    signal = alert.signal
    fires = fire_time(tier)
    latest = max(fire_time(t) for t in alert.tiers) + STEP
    where = f"{alert.name} {tier.severity}"
    if isinstance(signal.query, State):
        assert tier.threshold is not None
        cases = [Case(f"{where} fires once the state has been {tier.display} for {tier.for_}",
                      threshold, max(fires, STEP))]
        cases += [Case(f"{where} stays quiet while the state is {name}", float(i), latest)
                  for i, name in enumerate(signal.query.states) if i != int(threshold)]
    else:
        breach = breach_value(alert, tier, threshold)
        inside = inside_value(alert, tier, threshold)
        side = "above" if tier.op == ">" else "below"
        cases = [
            Case(f"{where} fires when {signal.title.lower()} is {_words(signal, breach)}, {side} "
                 f"{format_quantity(threshold, signal.dim)}, for {tier.for_}", breach, max(fires, STEP)),
            Case(f"{where} stays quiet at {_words(signal, inside)}, just inside "
                 f"{format_quantity(threshold, signal.dim)}", inside, latest),
        ]
    if fires >= STEP:
        cases.append(Case(f"{where} is still pending, not firing, when the breach has lasted less than its "
                          f"for of {tier.for_}", cases[0].value, fires - STEP))
    return cases


def alert_groups(spec: Spec, alert: Alert) -> list[dict[str, Any]]:
    signal = alert.signal
    groups = []
    if isinstance(signal.query, Absent):
        return absent_groups(spec, alert)
    record = conventions.record_name(signal)
    assert record is not None
    targets: list[tuple[Tier, Override | None, float]] = []
    for tier in alert.tiers:
        if tier.threshold is not None:
            targets.append((tier, None, tier.threshold))
        targets.extend((tier, o, o.threshold) for o in tier.overrides)
    for tier, override, threshold in targets:
        labels = series_labels(spec, signal, override)
        for case in tier_cases(alert, tier, threshold):
            name = case.name + (f" ({override.label}={override.value})" if override else "")
            samples = int(case.eval_at // STEP) + 2
            groups.append({
                "name": name,
                "interval": STEP_TEXT,
                "input_series": [{"series": series_text(record, labels), "values": constant(case.value, samples)}],
                "alert_rule_test": [{
                    "eval_time": _t(case.eval_at),
                    "alertname": alert.name,
                    "exp_alerts": expected_alerts(spec, alert, value=case.value, at=case.eval_at, labels=labels,
                                                override=override),
                }],
            })
    return groups


def absent_groups(spec: Spec, alert: Alert) -> list[dict[str, Any]]:
    signal = alert.signal
    assert isinstance(signal.query, Absent)
    sel = signal.query.source
    job = conventions.signal_job(spec, signal)
    labels = {conventions.LEVEL_LABEL: job}
    for name, value in sel.match:
        labels[name] = value[0] if isinstance(value, tuple) else value
    groups = []
    for tier in alert.tiers:
        fires = fire_time(tier)
        gone_at = 5 * STEP
        check = gone_at + STEP + fires + STEP
        # A target that stops exposing a series leaves a staleness marker: absent() sees it at once.
        present = f"{constant(1, int(gone_at // STEP))} stale"
        exp_labels = {conventions.LEVEL_LABEL: job,
                      **{k: v for k, v in sel.match if not isinstance(v, tuple)}}
        description = promql.describe(alert, tier, "", {conventions.LEVEL_LABEL: job}, tier.display)
        groups.append({
            "name": f"{alert.name} {tier.severity} fires when {sel.metric} has been gone for {tier.for_}, "
                    "and not while it is there",
            "interval": STEP_TEXT,
            "input_series": [{"series": series_text(sel.metric, labels), "values": present}],
            "alert_rule_test": [
                {"eval_time": _t(gone_at - STEP), "alertname": alert.name, "exp_alerts": []},
                {"eval_time": _t(check), "alertname": alert.name, "exp_alerts": [{
                    "exp_labels": {**alert_labels(spec, alert, tier), **exp_labels},
                    "exp_annotations": alert_annotations(spec, alert, description, exp_labels),
                }]},
            ],
        })
    return groups


# --- recording cases ----------------------------------------------------------------------------

@dataclass(frozen=True)
class _Raw:
    """One raw input series for a recording test: its labels and per-second growth or value."""

    name: str
    labels: dict[str, str]
    per_second: float


def _raw_for(sel: Selector, spec: Spec, signal: Signal, per_second: float, suffix: str = "") -> _Raw:
    labels = {conventions.LEVEL_LABEL: conventions.signal_job(spec, signal)}
    for label in signal.by:
        labels[label] = example_label_value(signal, label, None)
    for name, value in sel.match:
        labels[name] = value[0] if isinstance(value, tuple) else value
    return _Raw(sel.metric + suffix, labels, per_second)


def _matches(raw: _Raw, sel: Selector) -> bool:
    if raw.name != sel.metric:
        return False
    for label, value in sel.match:
        allowed = value if isinstance(value, tuple) else (value,)
        if raw.labels.get(label) not in allowed:
            return False
    return True


WINDOW_SAMPLES = 10  # samples past the window, so rate() sees a full window with no extrapolation


def recording_group(spec: Spec, signal: Signal) -> dict[str, Any] | None:
    """Raw series in, the recorded value out, at a time when the window is full."""
    query = signal.query
    out_labels = series_labels(spec, signal)
    record = conventions.record_name(signal)
    series: list[dict[str, str]] = []
    expected: list[tuple[str, float]] = []
    if isinstance(query, Quantile):
        window = parse_duration(query.window)
        at = window + WINDOW_SAMPLES * STEP
        n = int(at // STEP)
        # Every observation lands in one middle bucket: rate 1/s there and in every bucket above.
        k = len(query.buckets) // 2
        for i, le in enumerate((*query.buckets, math.inf)):
            grows = i >= k
            labels = {**_raw_for(query.source, spec, signal, 0).labels, "le": "+Inf" if le == math.inf else repr(le)}
            series.append({"series": series_text(f"{query.source.metric}_bucket", labels),
                           "values": f"0+{60 if grows else 0}x{n}"})
        start = query.buckets[k - 1] if k > 0 else 0.0
        end = query.buckets[k]
        for q in sorted({query.q, *query.show}):
            # histogram_quantile: bucketStart + (bucketEnd-bucketStart)*(rank/count), rank = q*1, count = 1
            expected.append((conventions.record_name(signal, q) or "", start + (end - start) * (q / 1.0)))
        what = f"P{conventions.quantile_tag(query.q)[1:]} of {query.source.metric}"
    elif isinstance(query, Ratio):
        raws: list[_Raw] = []
        for sel in (*query.numerator, *query.denominator):
            if not any(_matches(r, sel) for r in raws):
                raws.append(_raw_for(sel, spec, signal, float(len(raws) + 1)))
        at = parse_duration(query.window) + WINDOW_SAMPLES * STEP
        n = int(at // STEP)
        series = [{"series": series_text(r.name, r.labels), "values": f"0+{promql.number(r.per_second * 60)}x{n}"}
                  for r in raws]
        num = sum(r.per_second for s in query.numerator for r in raws if _matches(r, s))
        den = sum(r.per_second for s in query.denominator for r in raws if _matches(r, s))
        expected.append((record or "", num / den))
        what = "the ratio of the counter rates"
    elif isinstance(query, Rate | Increase):
        raw = _raw_for(query.source, spec, signal, 2.0)
        window = parse_duration(query.window)
        at = window + WINDOW_SAMPLES * STEP
        n = int(at // STEP)
        series = [{"series": series_text(raw.name, raw.labels), "values": f"0+120x{n}"}]
        expected.append((record or "", 2.0 if isinstance(query, Rate) else 2.0 * window))
        what = "the counter's rate" if isinstance(query, Rate) else f"the counter's increase over {query.window}"
    elif isinstance(query, Gauge):
        at = 5 * STEP
        raw = _raw_for(query.source, spec, signal, 3e9 if query.divide_by else 3.0)
        series = [{"series": series_text(raw.name, raw.labels), "values": constant(raw.per_second, 6)}]
        value = raw.per_second
        if query.divide_by:
            div = _raw_for(query.divide_by, spec, signal, 4e9)
            series.append({"series": series_text(div.name, div.labels), "values": constant(div.per_second, 6)})
            value = raw.per_second / div.per_second
        expected.append((record or "", value))
        what = f"the {query.aggregate} of the gauge" + (" over its limit" if query.divide_by else "")
    elif isinstance(query, State):
        at = 5 * STEP
        raw = _raw_for(query.source, spec, signal, 1.0)
        series = [{"series": series_text(raw.name, raw.labels), "values": constant(1, 6)}]
        expected.append((record or "", 1.0))
        what = "the state gauge"
    elif isinstance(query, Age):
        at = 10 * STEP
        raw = _raw_for(query.source, spec, signal, 100.0)
        series = [{"series": series_text(raw.name, raw.labels), "values": constant(100, 11)}]
        expected.append((record or "", at - 100.0))
        what = "seconds since the timestamp"
    else:
        assert isinstance(query, Absent | Expr)
        return None
    return {
        "name": f"{signal.name} records {what}",
        "interval": STEP_TEXT,
        "input_series": series,
        "promql_expr_test": [
            {"expr": name, "eval_time": _t(at),
             "exp_samples": [{"labels": series_text(name, out_labels), "value": value}]}
            for name, value in expected
        ],
    }


def emit(spec: Spec) -> dict[str, str]:
    files = {}
    for area, signals in spec.areas():
        tests: list[dict[str, Any]] = []
        for signal in signals:
            group = recording_group(spec, signal)
            if group is not None:
                tests.append(group)
        for signal in signals:
            for alert in spec.alerts_on(signal):
                tests.extend(alert_groups(spec, alert))
        rule_file = conventions.rule_file(area).removeprefix(conventions.RULES_DIR + "/")
        doc = {"rule_files": [f"../{rule_file}"], "evaluation_interval": STEP_TEXT, "tests": tests}
        files[conventions.rule_test_file(area)] = to_yaml(doc, source=spec.source)
    return files
