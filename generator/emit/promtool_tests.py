"""promtool unit tests generated from the spec, proving each alert from the raw series an exporter
publishes (histogram buckets, counters, gauges) through the real recording rules.

For every tier and every per-label threshold: it fires just past the threshold once its ``for`` has
passed, is still pending one evaluation earlier, stays quiet just inside; a quiet system (counters
that do not move) raises only what it should. Per-instance kinds put a healthy instance beside the
one in trouble, under one job. Expected annotations are the exact text Prometheus renders, computed
with the Python twins of its template functions.

So that promtool evaluates each rule once per step however many cases there are, every case of a
rule file runs on one timeline in one test group, told apart by a ``job`` of its own
(``conventions.case_job``). Signals that read the same raw metric go to separate groups, so no case
feeds another's rules.

Signals looking back over more than a day are tested at a coarser step (``generator.teststep``):
input samples and evaluations alike, in a test file of their own per step, since promtool
evaluates every rule of a test file at the file's one ``evaluation_interval``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from generator import conventions, teststep
from generator.emit.rules import alert_annotations, alert_labels
from generator.kinds import kind_of
from generator.kinds.base import Synthesis, series_text
from generator.layout import alert_url
from generator.model import Alert, Override, Selector, Signal, Spec, Tier
from generator.render import to_yaml
from generator.units import Dimension, format_duration, parse_duration

STEP = teststep.FINE  # seconds between input samples and between rule evaluations in most tests
STEP_TEXT = "1m"
# Relative distance of the test values from a threshold: close enough that moving a threshold by
# more than this breaks a test, far enough that rendered values differ from the threshold.
MARGIN = 0.02
# An absent series disappears after this long, once every rule has seen it.
GONE_AFTER = 5 * STEP
HEALTHY_INSTANCE = "healthy:9100"
TROUBLED_INSTANCE = "troubled:9100"


def _t(seconds: float) -> str:
    return f"{int(seconds // 60)}m"


def _clean(v: float) -> float:
    """Six significant digits: values a person would write, so rendered text is stable."""
    return float(f"{v:.6g}")


# --- values either side of a threshold ----------------------------------------------------------

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


def _counts(signal: Signal) -> bool:
    return signal.dim is Dimension.COUNT


def breach_value(alert: Alert, tier: Tier, threshold: float) -> float:
    """Just past the threshold, short of any more severe tier; whole steps for counts."""
    step = 1.0 if _counts(alert.signal) or threshold == 0 else abs(threshold) * MARGIN
    value = threshold + step if tier.op == ">" else threshold - step
    nxt = _severer(alert, tier, threshold)
    if nxt is not None and (value >= nxt if tier.op == ">" else value <= nxt):
        value = (threshold + nxt) / 2
    lo, hi = kind_of(alert.signal).value_range(alert.signal)
    return _clean(min(max(value, lo), hi))


def inside_value(alert: Alert, tier: Tier, threshold: float, labels: dict[str, str], *, hold: float = 0.0,
                 step: float = STEP) -> float:
    """Just inside the threshold. Counts sit exactly on it (the comparison is strict) when the raw
    series of the recorded series ``labels`` reproduce them exactly, else one whole event inside."""
    signal = alert.signal
    kind = kind_of(signal)
    lo, hi = kind.value_range(signal)
    if _counts(signal) or threshold == 0:
        exact = kind.synthesise(signal, labels, threshold, step, hold).ramp == 0
        value = threshold if exact or threshold == 0 else threshold - 1 if tier.op == ">" else threshold + 1
    else:
        margin = abs(threshold) * MARGIN
        value = threshold - margin if tier.op == ">" else threshold + margin
    return _clean(min(max(value, lo), hi))


def _threshold_for(tier: Tier, labels: dict[str, str]) -> tuple[float | None, Override | None]:
    for o in tier.overrides:
        if labels.get(o.label) == o.value:
            return o.threshold, o
    return tier.threshold, None


# --- cases ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    """Raw series giving one recorded series (``labels``) a value over the test's timeline, from
    ``offset`` on (before it, no sample: each case starts as late as its checks allow, since
    promtool expands every active alert's templates at every step)."""

    signal: Signal
    labels: dict[str, str]
    made: Synthesis
    offset: float = 0.0
    # The scenario's case job. A signal the metric contract ties to one system's job cannot give each
    # scenario a job of its own, so its scenarios run in groups of their own, one per case job.
    lane: str = ""
    step: float = STEP  # between input samples and between evaluations (``signal_step``)

    def at(self, t: float) -> float | None:
        return None if t < self.offset else self.made.at(t - self.offset)

    def span(self, spec: Spec) -> float:
        """How long the case must run: its value settled (the window full, for exact records),
        then every ``for`` of its signal's alerts, then one more step."""
        kind = kind_of(self.signal)
        settle = self.made.settled()
        if self.made.extra:
            settle = max(settle, parse_duration(kind.window(self.signal) or "0s"))
        longest_for = max((parse_duration(t.for_) for a in spec.alerts_on(self.signal) for t in a.tiers),
                          default=0.0)
        return math.ceil((settle + longest_for) / self.step) * self.step + self.step


def example_label_value(signal: Signal, label: str, override: Override | None) -> str:
    if override is not None and override.label == label:
        return override.value
    source = getattr(signal.query, "source", None)
    if isinstance(source, Selector):
        for name, value in source.match:
            if name == label:
                return value[0] if isinstance(value, tuple) else value
    return f"example_{label}"


class _Jobs:
    """Hands out one case job per scenario, numbered in order, so test files read top to bottom."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, what: str) -> str:
        self.count += 1
        return conventions.case_job(self.count, what)


def tied_job(signal: Signal) -> str | None:
    """The job the metric contract tied the signal's selectors to, if any."""
    return next((value for sel in conventions.selectors(signal.query) for label, value in sel.match
                 if label == conventions.LEVEL_LABEL and isinstance(value, str)), None)


def _labels(signal: Signal, job: str, instance: str | None, override: Override | None) -> dict[str, str]:
    labels = {conventions.LEVEL_LABEL: tied_job(signal) or job}
    if kind_of(signal).per_instance and instance is not None:
        labels[conventions.INSTANCE_LABEL] = instance
    for label in signal.by:
        labels[label] = example_label_value(signal, label, override)
    return labels


def signal_step(spec: Spec, signal: Signal) -> float:
    """The step the signal's tests run at: one minute, coarser for windows over a day."""
    text = kind_of(signal).window(signal)
    window = None if text is None else parse_duration(text)
    found = teststep.step(window, (parse_duration(t.for_) for a in spec.alerts_on(signal) for t in a.tiers))
    if found is None:
        # Validation refuses such a window and for; only a spec made in code gets here (the demo's
        # copy scaled to run faster, whose tests nobody runs).
        assert window is not None
        return teststep.finest(window) or STEP
    return found


def signal_cases(spec: Spec, signal: Signal, jobs: _Jobs) -> list[Case]:
    """Every scenario the signal's alerts are checked against, on one timeline."""
    kind = kind_of(signal)
    cases: list[Case] = []
    hold = max((parse_duration(t.for_) for a in spec.alerts_on(signal) for t in a.tiers), default=0.0)
    step = signal_step(spec, signal)

    lane = ""

    def add(labels: dict[str, str], value: float) -> None:
        cases.append(Case(signal, labels, kind.synthesise(signal, labels, value, step, hold), lane=lane, step=step))

    def case_job(what: str) -> str:
        nonlocal lane
        lane = jobs(what)
        return lane

    if kind.alerts_on_absence:
        # One instance keeps the series, one loses it (both scraped); absent() for a job that is
        # not scraped at all has a group of its own (``absent_job_group``).
        add(_labels(signal, spec.job, HEALTHY_INSTANCE, None), math.inf)
        add(_labels(signal, spec.job, TROUBLED_INSTANCE, None), GONE_AFTER)
        return cases
    for alert in spec.alerts_on(signal):
        for tier in alert.tiers:
            assert tier.threshold is not None
            targets: list[tuple[Override | None, float]] = [(None, tier.threshold)]
            targets += [(o, o.threshold) for o in tier.overrides]
            for override, threshold in targets:
                where = f" {override.label} {override.value}" if override else ""
                if kind.states(signal):
                    # Every state at once, one instance each: only the alerting one may fire.
                    job = case_job(f"{alert.name} {tier.severity} each state")
                    for i, state in enumerate(kind.states(signal)):
                        add(_labels(signal, job, f"{state}:9100", override), float(i))
                    continue
                breach = breach_value(alert, tier, threshold)
                inside = inside_value(alert, tier, threshold, _labels(signal, spec.job, TROUBLED_INSTANCE, override),
                                      hold=hold, step=step)
                if kind.per_instance:
                    job = case_job(f"{alert.name} {tier.severity}{where} one instance in trouble")
                    add(_labels(signal, job, TROUBLED_INSTANCE, override), breach)
                    add(_labels(signal, job, HEALTHY_INSTANCE, override), inside)
                else:
                    past = case_job(f"{alert.name} {tier.severity}{where} past")
                    add(_labels(signal, past, None, override), breach)
                    add(_labels(signal, case_job(f"{alert.name} {tier.severity}{where} inside"), None, override),
                        inside)
    labels = _labels(signal, case_job(f"{signal.name} no traffic"), HEALTHY_INSTANCE, None)
    quiet = kind.no_traffic(signal, labels, step)
    if quiet is not None:
        cases.append(Case(signal, labels, quiet, lane=lane, step=step))
    window = kind.window(signal)
    if window is None or parse_duration(window) % step == 0:  # rate() extrapolates nothing: exact
        labels = _labels(signal, case_job(f"{signal.name} records"), HEALTHY_INSTANCE, None)
        exact = kind.exact_records(signal, labels, step)
        if exact is not None:
            cases.append(Case(signal, labels, exact, lane=lane, step=step))
    return cases


def record_checks(cases: Iterable[Case], until: float) -> list[dict[str, Any]]:
    """Every series the cases' kinds record besides what alerts read (a P50 beside the alerting
    P99), to the bit, once the window is full."""
    return [
        {"expr": series_text(record, case.labels), "eval_time": _t(until),
         "exp_samples": [{"labels": series_text(record, case.labels), "value": value}]}
        for case in cases for record, value in case.made.extra.items()
        if until - case.offset >= (parse_duration(kind_of(case.signal).window(case.signal) or "0s"))
    ]


# --- the alerting timeline ----------------------------------------------------------------------

def firing_times(case: Case, tier: Tier, until: float) -> list[float]:
    """Evaluation times (0, one step, ... ``until``) at which the tier's alert fires for the case,
    replaying Prometheus' pending/firing state machine over the case's recorded values."""
    kind = kind_of(case.signal)
    threshold, _ = _threshold_for(tier, case.labels)
    hold = parse_duration(tier.for_)
    since: float | None = None
    out = []
    for i in range(int(until // case.step) + 1):
        t = i * case.step
        value = case.at(t)
        holds = value is not None and not math.isnan(value) and kind.fires(tier, threshold, value)
        since = (since if since is not None else t) if holds else None
        if since is not None and t - since >= hold:
            out.append(t)
    return out


def aligned(spec: Spec, cases: list[Case]) -> tuple[list[Case], float]:
    """The cases, each starting so that it ends with the longest: one timeline as short as the
    longest case (promtool evaluates every rule of the file at every step), and its end."""
    spans = [case.span(spec) for case in cases]
    until = max(spans, default=STEP)
    return [dataclasses.replace(c, offset=until - span) for c, span in zip(cases, spans, strict=True)], until


def expected_alerts(spec: Spec, alert: Alert, cases: Iterable[Case], at: float,
                    fired: dict[tuple[int, int], set[float]], *, annotations: dict[str, str]) -> list[dict[str, Any]]:
    """The alerts firing at ``at``; every annotation but the description is in ``annotations``."""
    kind = kind_of(alert.signal)
    out = []
    for ci, case in enumerate(cases):
        for ti, tier in enumerate(alert.tiers):
            if at not in fired[(ci, ti)]:
                continue
            _, override = _threshold_for(tier, case.labels)
            value = case.at(at)
            assert value is not None
            display = override.display if override is not None else tier.display
            description = kind.describe(alert, tier, kind.render_value(alert.signal, value),
                                        kind.rendered_labels(alert.signal, case.labels), display)
            out.append({
                "exp_labels": {**alert_labels(spec, alert, tier), **kind.alert_labels(alert.signal, case.labels)},
                "exp_annotations": {**annotations, "description": description,
                                    "dashboard_url": alert_url(spec, alert.signal, case.labels)},
            })
    return out


def alert_checks(spec: Spec, alert: Alert, cases: list[Case], until: float) -> list[dict[str, Any]]:
    """The evaluations that tell: each first firing, the one before it, and the end of the timeline."""
    firing = {(ci, ti): firing_times(case, tier, until)
              for ci, case in enumerate(cases) for ti, tier in enumerate(alert.tiers)}
    times = {until}
    for (ci, ti), when in firing.items():
        if when:
            times.add(when[0])
            if when[0] >= cases[ci].step and parse_duration(alert.tiers[ti].for_) > 0:
                times.add(when[0] - cases[ci].step)
    fired = {key: set(when) for key, when in firing.items()}
    annotations = alert_annotations(spec, alert, "")
    return [{"eval_time": _t(t), "alertname": alert.name,
             "exp_alerts": expected_alerts(spec, alert, cases, t, fired=fired, annotations=annotations)}
            for t in sorted(times)]


def _input(cases: Iterable[Case], until: float) -> list[dict[str, str]]:
    return [{"series": raw.text(), "values": raw.text_values(int(until // c.step), int(c.offset // c.step))}
            for c in cases for raw in c.made.series]


def _family(metric: str) -> str:
    """A histogram's series share a family: its _bucket, _count and _sum feed each other's readers."""
    for suffix in ("_bucket", "_count", "_sum"):
        if metric.endswith(suffix):
            return metric.removesuffix(suffix)
    return metric


def lanes(signals: Iterable[Signal]) -> list[list[Signal]]:
    """Signals in groups that share no raw metric, so one signal's cases never feed another's rules."""
    out: list[tuple[set[str], list[Signal]]] = []
    for signal in signals:
        kind = kind_of(signal)
        used = {*map(_family, kind.metrics(signal)), *(r.name for r in kind.records(signal))}
        lane = next((lane for lane in out if not lane[0] & used), None)
        if lane is None:
            out.append((set(used), [signal]))
        else:
            lane[0].update(used)
            lane[1].append(signal)
    return [lane for _, lane in out]


def lane_groups(spec: Spec, area: str, signals: list[Signal], jobs: _Jobs) -> list[dict[str, Any]]:
    """One group for the lane; a signal tied to one system's job, or whose PromQL mixes jobs (a
    ``scalar(max(x))`` reads every case's series), gets one group per case job."""
    cases = [c for s in signals for c in signal_cases(spec, s, jobs)]
    if not any(tied_job(s) or not kind_of(s).keeps_jobs_apart(s) for s in signals):
        return [lane_group(spec, area, signals, cases)]
    apart: dict[str, list[Case]] = {}
    for case in cases:
        apart.setdefault(case.lane, []).append(case)
    return [lane_group(spec, area, signals, part) for part in apart.values()]


def lane_group(spec: Spec, area: str, signals: list[Signal], cases: list[Case]) -> dict[str, Any]:
    every, until = aligned(spec, cases)
    tested = {c.signal.name for c in cases}
    signals = [s for s in signals if s.name in tested]
    by_signal: dict[str, list[Case]] = {}
    for case in every:
        by_signal.setdefault(case.signal.name, []).append(case)
    checks = [check for s in signals for alert in spec.alerts_on(s)
              for check in alert_checks(spec, alert, by_signal[s.name], until)]
    group: dict[str, Any] = {
        "name": f"{area}: {', '.join(s.name for s in signals)}: from raw series, each alert fires just past "
                "its thresholds once its for has passed, is pending before, and stays quiet inside them",
        "interval": format_duration(every[0].step) if every else STEP_TEXT,
        "input_series": _input(every, until),
        "alert_rule_test": checks,
    }
    records = record_checks(every, until)
    if records:
        group["promql_expr_test"] = records
    return group


def absent_job_group(spec: Spec, signal: Signal) -> dict[str, Any]:
    """No target of the job is scraped and the series is gone: absent() alerts for the job."""
    kind = kind_of(signal)
    job = tied_job(signal) or spec.job
    labels = {conventions.LEVEL_LABEL: job}
    (case,), until = aligned(spec, [Case(signal, labels, kind.synthesise(signal, labels, GONE_AFTER, STEP))])
    return {
        "name": f"{signal.name}: with no target of {job} scraped, each alert fires once the series has "
                "been gone for its for, and not before",
        "interval": STEP_TEXT,
        "input_series": _input([case], until),
        "alert_rule_test": [check for alert in spec.alerts_on(signal)
                            for check in alert_checks(spec, alert, [case], until)],
    }


def emit(spec: Spec) -> dict[str, str]:
    files = {}
    for area, signals in spec.areas():
        jobs = _Jobs()
        by_step: dict[float, list[Signal]] = {STEP: []}
        for signal in signals:
            if spec.alerts_on(signal):
                by_step.setdefault(signal_step(spec, signal), []).append(signal)
        rule_file = conventions.rule_file(area).removeprefix(conventions.RULES_DIR + "/")
        for step, alerting in sorted(by_step.items()):
            tests = [group for lane in lanes(alerting) for group in lane_groups(spec, area, lane, jobs)]
            tests += [absent_job_group(spec, s) for s in alerting if kind_of(s).alerts_on_absence]
            every = format_duration(step)
            doc = {"rule_files": [f"../{rule_file}"], "evaluation_interval": every, "tests": tests}
            path = conventions.rule_test_file(area, None if step == STEP else every)
            files[path] = to_yaml(doc, source=spec.source)
    return files


