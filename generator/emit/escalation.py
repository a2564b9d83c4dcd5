"""Escalation after repeated occurrences: an alert over Prometheus' own ``ALERTS`` series.

"Escalate after 3 occurrences" is counted where the occurrences are recorded: each alert that fires
leaves ``ALERTS_FOR_STATE`` (value: the Unix time its episode became active) and
``ALERTS{alertstate="firing"}``. A recording rule keeps the activation time of firing episodes only
(pending episodes that never fired do not count); ``changes()`` of that series over the window,
plus one, is the number of distinct firing episodes seen in the window. While the
``escalate_after``-th episode (or a later one) fires, ``<Alert>Recurring`` fires one severity higher.

Only tiers below the top severity escalate: a critical alert already pages.

Example::

    >>> emit(spec)["alert_rules/escalation.rules.yml"]   # TradeFailureRateHighRecurring, ...
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from generator import conventions, promql
from generator.emit.rules import alert_annotations
from generator.gotemplate import literal_alert
from generator.model import DEFAULT_PRIORITY, PRIORITIES, SEVERITIES, Alert, Priority, Severity, Spec, Tier
from generator.render import to_yaml
from generator.units import format_duration, parse_duration

AREA = conventions.ESCALATION_AREA
FIRING_SINCE = conventions.FIRING_SINCE
ESCALATED_FROM = conventions.ESCALATED_FROM


@dataclass(frozen=True)
class Escalation:
    """One tier that escalates, and what it escalates to."""

    alert: Alert
    tier: Tier
    name: str
    severity: Severity
    priority: Priority


recurring_name = conventions.recurring_alert_name


def escalations(spec: Spec) -> tuple[Escalation, ...]:
    """Every tier that can rise one severity, in spec order."""
    out = []
    for alert in spec.alerts:
        for tier in alert.tiers:
            rank = SEVERITIES.index(tier.severity)
            if rank == 0:
                continue
            severity = SEVERITIES[rank - 1]
            # One step more urgent than the tier, and at least what the new severity gets by default.
            stepped = PRIORITIES[max(PRIORITIES.index(tier.priority) - 1, 0)]
            priority = min(stepped, DEFAULT_PRIORITY[severity], key=PRIORITIES.index)
            out.append(Escalation(alert, tier, recurring_name(alert.name), severity, priority))
    return tuple(out)


def _source(esc: Escalation) -> str:
    return (f"{FIRING_SINCE}{{alertname={promql.quote(esc.alert.name)}, "
            f"severity={promql.quote(esc.tier.severity)}}}")


def _summary(esc: Escalation, count: str, window: str) -> str:
    return f"{esc.alert.summary}, again: fired {count} times in {window}"


def _description(esc: Escalation, count: str, job: str, window: str) -> str:
    return (f"{esc.alert.name} ({esc.tier.severity}) on {job} fired {count} times within {window}; "
            f"escalated to {esc.severity}.")


def _annotations(spec: Spec, esc: Escalation, count: str, job: str,
                 labels: dict[str, str] | None = None) -> dict[str, str]:
    """The original alert's texts and links, with summary and description saying how often it fired."""
    window = spec.notifications.escalate_window
    out = alert_annotations(spec, esc.alert, _description(esc, count, job, window), labels)
    out["summary"] = _summary(esc, count, window)
    return out


def alerting_rule(spec: Spec, esc: Escalation) -> dict[str, Any]:
    notes = spec.notifications
    window = notes.escalate_window
    return {
        "alert": esc.name,
        # Fires only while the escalate_after-th (or a later) episode fires, and resolves with it.
        "expr": f"changes({_source(esc)}[{window}]) + 1 >= {notes.escalate_after} and {_source(esc)}",
        "labels": {"severity": esc.severity, "priority": esc.priority, ESCALATED_FROM: esc.tier.severity},
        # The user's texts printed as written: Prometheus runs annotations as templates.
        "annotations": _annotations(spec, dataclasses.replace(esc, alert=literal_alert(esc.alert)), "{{ $value }}",
                                    "{{ $labels.job }}"),
    }


def rule_group(spec: Spec) -> dict[str, Any] | None:
    escs = escalations(spec)
    if not escs:
        return None
    names = "|".join(dict.fromkeys(e.alert.name for e in escs))
    firing = 'ALERTS{alertstate="firing"}'
    record = {"record": FIRING_SINCE,
              "expr": f'ALERTS_FOR_STATE{{alertname=~"{names}"}} and ignoring(alertstate) {firing}'}
    return {"name": conventions.group_name(spec, AREA), "interval": spec.evaluation_interval,
            "rules": [record, *(alerting_rule(spec, e) for e in escs)]}


# --- the promtool test --------------------------------------------------------------------------
# An episode fires for EPISODE steps then resolves; episodes start EPISODE + GAP steps apart, and
# a pending-only episode of GAP - 3 steps sits between the first two. Short episodes keep the
# timeline short: promtool evaluates every escalation rule at every step of it.
EPISODE = 1
GAP = 4
# Where each check looks, in steps after its episode started: while the episode fires.
INSIDE = EPISODE - 1
# The instance label of the spread-out episodes, which share the timeline of the counted ones.
SPREAD_INSTANCE = "spread-out"
# Escalations tested on one timeline. The recording rule reads every alert's series in one query,
# which promtool's unit tests bound to 10,000 samples; more escalations go to another round.
PER_ROUND = 1000


def step_of(spec: Spec) -> float:
    """Whole seconds per test step: as coarse as lets all ``escalate_after`` episodes fit in one
    window, since promtool evaluates every escalation rule at every step."""
    needed = (spec.notifications.escalate_after - 1) * (EPISODE + GAP) + EPISODE + 3
    return float(max(1, math.floor(parse_duration(spec.notifications.escalate_window) / needed)))


def steps_per_window(spec: Spec) -> int:
    return math.ceil(parse_duration(spec.notifications.escalate_window) / step_of(spec))


@dataclass(frozen=True)
class _Episode:
    start: int  # step
    fires: bool = True  # False: pending only, resolved before its `for` ran out
    length: int = EPISODE


def _series_values(episodes: list[_Episode], step_seconds: float, total: int,
                   *, for_state: bool, state: str) -> str:
    values = ["_"] * total
    for ep in episodes:
        if ep.fires != (state == "firing") and not for_state:
            continue
        for i in range(ep.start, ep.start + ep.length):
            values[i] = str(round(ep.start * step_seconds)) if for_state else "1"
        values[ep.start + ep.length] = "stale"
    return " ".join(values)


def _labels(spec: Spec, esc: Escalation) -> dict[str, str]:
    job = conventions.signal_job(spec, esc.alert.signal)
    return {"job": job, **dict.fromkeys(esc.alert.signal.by, "example"), **dict(esc.alert.labels)}


def _selector(name: str, labels: dict[str, str]) -> str:
    return name + "{" + ", ".join(f"{k}={promql.quote(v)}" for k, v in labels.items()) + "}"


def _input(spec: Spec, esc: Escalation, episodes: list[_Episode], step_seconds: float,
           instance: str | None = None) -> list[dict[str, str]]:
    total = max(ep.start for ep in episodes) + EPISODE + 4
    base = {"alertname": esc.alert.name, **_labels(spec, esc),
            "severity": esc.tier.severity, "priority": esc.tier.priority}
    if instance is not None:
        base["instance"] = instance
    series = [{"series": _selector("ALERTS_FOR_STATE", base),
               "values": _series_values(episodes, step_seconds, total, for_state=True, state="")}]
    for state in ("firing", "pending"):
        if any(ep.fires == (state == "firing") for ep in episodes):
            series.append({"series": _selector("ALERTS", {**base, "alertstate": state}),
                           "values": _series_values(episodes, step_seconds, total, for_state=False,
                                                    state=state)})
    return series


def _expected(spec: Spec, esc: Escalation, count: int) -> dict[str, Any]:
    labels = {**_labels(spec, esc), "severity": esc.severity, "priority": esc.priority,
              ESCALATED_FROM: esc.tier.severity}
    job = conventions.signal_job(spec, esc.alert.signal)
    return {"exp_labels": labels, "exp_annotations": _annotations(spec, esc, str(count), job, labels)}


def _at(step: int, step_seconds: float) -> str:
    return format_duration(step * step_seconds)


def tests(spec: Spec) -> list[dict[str, Any]]:
    # Every escalation rule reads only its own alert's series, so all of them share two timelines:
    # promtool then evaluates each rule once per step, however many alerts escalate.
    # Two tiers of one alert (info and warning) escalate under the same alert name, so each round
    # holds at most one tier per alert: in one round their escalations would fire side by side.
    rounds: list[list[Escalation]] = []
    for esc in escalations(spec):
        free = next((r for r in rounds if len(r) < PER_ROUND and all(e.name != esc.name for e in r)), None)
        if free is None:
            rounds.append([esc])
        else:
            free.append(esc)
    return [group for escs in rounds for group in _round(spec, escs)]


def timelines(spec: Spec) -> tuple[list[_Episode], list[_Episode]]:
    """The counted episodes and the spread-out ones, placed on one timeline as short as it can be.

    Counted: ``escalate_after`` firing episodes one period apart, and one that stayed pending
    between the first two. Spread out: as many firings, far enough apart that the first has left
    the window when the last fires; they run under another instance (escalation counts each
    series apart) and never while a counted episode is active, so the recording rule's query holds
    one episode's series per escalation at a time.
    """
    n = spec.notifications.escalate_after
    period = EPISODE + GAP
    counted = [_Episode(k * period) for k in range(n)]
    if n < 2:
        return counted, []
    counted.insert(1, _Episode(EPISODE + 1, fires=False, length=GAP - 3))
    least = math.ceil(steps_per_window(spec) / (n - 1)) + EPISODE
    reach = (n - 1) * (least + period) + period  # no shift beyond this can shorten the timeline
    best: tuple[int, list[_Episode], list[_Episode]] | None = None
    for spread in range(least, least + period + 1):
        for shift in range(-reach, reach + 1):  # > 0: the counted episodes start later
            a, o = max(shift, 0), max(-shift, 0)
            ours = [dataclasses.replace(ep, start=ep.start + a) for ep in counted]
            far = [_Episode(o + k * spread) for k in range(n)]
            if _busy(ours) & _busy(far):
                continue
            end = max(ours[-1].start + EPISODE + 2, far[-1].start + INSIDE)
            if best is None or end < best[0]:
                best = (end, ours, far)
    assert best is not None, "a shift past every counted episode always fits"
    return best[1], best[2]


def _busy(episodes: list[_Episode]) -> set[int]:
    """The steps with a sample of the episodes' series, their staleness markers included."""
    return {step for ep in episodes for step in range(ep.start, ep.start + ep.length + 1)}


def _round(spec: Spec, escs: list[Escalation]) -> list[dict[str, Any]]:
    notes = spec.notifications
    n = notes.escalate_after
    step_seconds = step_of(spec)
    window = notes.escalate_window
    name = (f"Each <Alert>Recurring fires at the {_ordinal(n)} firing of its alert within {window}, "
            f"not at the {_ordinal(n - 1)}, not for a pending-only episode, and resolves with it")
    if n >= 2:
        name += f"; on another instance, it stays quiet when {n} firings span more than {window}"
    group: dict[str, Any] = {"name": name, "interval": format_duration(step_seconds),
                             "input_series": [], "alert_rule_test": []}
    checks: list[dict[str, Any]] = group["alert_rule_test"]
    episodes, far = timelines(spec)
    fired = [ep for ep in episodes if ep.fires]
    last = fired[-1].start + INSIDE
    for esc in escs:
        if n >= 2:
            checks.append({"eval_time": _at(fired[-2].start + INSIDE, step_seconds), "alertname": esc.name,
                           "exp_alerts": []})
        checks.append({"eval_time": _at(last, step_seconds), "alertname": esc.name,
                       "exp_alerts": [_expected(spec, esc, n)]})
        checks.append({"eval_time": _at(fired[-1].start + EPISODE + 2, step_seconds),
                       "alertname": esc.name, "exp_alerts": []})
        group["input_series"] += _input(spec, esc, episodes, step_seconds)
        if n >= 2:
            group["input_series"] += _input(spec, esc, far, step_seconds, instance=SPREAD_INSTANCE)
            checks.append({"eval_time": _at(far[-1].start + INSIDE, step_seconds), "alertname": esc.name,
                           "exp_alerts": []})
    return [group]


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def emit(spec: Spec) -> dict[str, str]:
    group = rule_group(spec)
    if group is None:
        return {}
    rules_path = conventions.rule_file(AREA)
    test_path = conventions.rule_test_file(AREA)
    step = format_duration(step_of(spec))
    test = {"rule_files": [f"../{rules_path.rsplit('/', 1)[1]}"], "evaluation_interval": step,
            "tests": tests(spec)}
    return {rules_path: to_yaml({"groups": [group]}, source=spec.source),
            test_path: to_yaml(test, source=spec.source)}
