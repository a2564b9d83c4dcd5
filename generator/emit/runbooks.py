"""docs/runbooks.md: one section per alert, the anchor each alert's runbook_url points at.

The thresholds, conditions and queries come from the model, like the rules', so the page people
read at 3 a.m. says what the alert really does.
"""

from __future__ import annotations

from generator import conventions
from generator.analysis import runbooks as analysis_runbooks
from generator.kinds import kind_of
from generator.layout import signal_url
from generator.model import Alert, Spec

RUNBOOKS = "docs/runbooks.md"


def _condition(alert: Alert) -> list[str]:
    rows = ["| severity | priority | fires when | for |", "|---|---|---|---|"]
    for tier in alert.tiers:
        kind = kind_of(alert.signal)
        if kind.alerts_on_absence:
            when = f"no `{kind.metrics(alert.signal)[0]}` series"
        else:
            op = {">": "above", "<": "below", "==": "is"}[tier.op]
            when = f"{alert.signal.title} {op} **{tier.display}**"
            when += "".join(f"; {o.label}={o.value}: **{o.display}**" for o in tier.overrides)
        rows.append(f"| {tier.severity} | {tier.priority} | {when} | {tier.for_} |")
    return rows


def section(spec: Spec, alert: Alert) -> list[str]:
    signal = alert.signal
    kind = kind_of(signal)
    record = kind.record_name(signal)
    query = kind.query_text(signal, spec.job)
    lines = [f"## {alert.name}", "", f"**{alert.summary}.** {signal.description}".rstrip(), ""]
    lines += _condition(alert)
    lines += [""]
    if alert.impact:
        lines += [f"**Impact:** {alert.impact}.", ""]
    if alert.action:
        lines += [f"**First action:** {alert.action}.", ""]
    if signal.by:
        each = " and ".join(f"`{label}`" for label in signal.by)
        lines += [f"It fires separately for each {each}; the alert keeps the label and its description "
                  "names the value, so one bad series pages while the healthy ones stay quiet.", ""]
    if alert.inhibits:
        lines += [f"While it fires it silences: {', '.join(alert.inhibits)}.", ""]
    where = f"`{record}`, recorded as" if record else "the alert evaluates"
    lines += [f"The signal is {where}:", "", "```promql", query, "```", "",
              f"[Open the panel]({signal_url(spec, signal)})", ""]
    return lines


def emit(spec: Spec) -> dict[str, str]:
    note = conventions.HEADER.removeprefix("# ").format(source=spec.source)
    head = [f"<!-- {note} -->", "", f"# {spec.title}: alert runbooks", "",
            "One section per alert; each alert's `runbook_url` links to its section.", ""]
    body = [line for alert in sorted(spec.alerts, key=lambda a: a.name) for line in section(spec, alert)]
    # SLO, health and regression alerts (generator/analysis).
    body += [line for name, lines in analysis_runbooks.sections(spec) for line in (f"## {name}", "", *lines)]
    return {RUNBOOKS: "\n".join(head + body).rstrip() + "\n"}
