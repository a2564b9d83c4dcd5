"""Prometheus rule files: one group per dashboard area, recording rules first, then alerts.

Alerts read the recorded series (so panels and alerts see the same numbers) and sit in the same
group as the rules that feed them, evaluated in order, so a breach is seen in one evaluation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from generator import conventions, promql
from generator.gotemplate import literal_alert
from generator.kinds import kind_of
from generator.layout import alert_url
from generator.model import Alert, Signal, Spec, Tier
from generator.render import to_yaml
from generator.units import parse_duration


def recording_rules(signal: Signal) -> list[dict[str, Any]]:
    return [{"record": r.name, "expr": r.expr} for r in kind_of(signal).records(signal)]


def alert_labels(spec: Spec, alert: Alert, tier: Tier) -> dict[str, str]:
    return {"severity": tier.severity, "priority": tier.priority, **dict(alert.labels)}


def alert_annotations(spec: Spec, alert: Alert, description: str,
                      labels: Mapping[str, str] | None = None) -> dict[str, str]:
    out = {"summary": alert.summary, "description": description}
    if alert.impact:
        out["impact"] = alert.impact
    if alert.action:
        out["action"] = alert.action
    out["runbook_url"] = alert.runbook_url
    out["dashboard_url"] = alert_url(spec, alert.signal, labels)
    return out


def alerting_rule(spec: Spec, alert: Alert, tier: Tier) -> dict[str, Any]:
    kind = kind_of(alert.signal)
    # Prometheus runs annotations and labels as templates; the user's texts are printed as written.
    description = kind.describe(literal_alert(alert, title=True), tier, kind.value_template(alert.signal),
                                kind.labels_template(alert.signal), promql.threshold_template(tier))
    rule: dict[str, Any] = {"alert": alert.name, "expr": kind.alert_expr(alert.signal, tier, spec.job)}
    if parse_duration(tier.for_) > 0:
        rule["for"] = tier.for_
    rule["labels"] = alert_labels(spec, literal_alert(alert), tier)
    rule["annotations"] = alert_annotations(spec, literal_alert(alert), description)
    return rule


def emit(spec: Spec) -> dict[str, str]:
    files = {}
    for area, signals in spec.areas():
        rules: list[dict[str, Any]] = []
        for signal in signals:
            rules.extend(recording_rules(signal))
        for signal in signals:
            for alert in spec.alerts_on(signal):
                rules.extend(alerting_rule(spec, alert, tier) for tier in alert.tiers)
        group = {"name": conventions.group_name(spec, area),
                 "interval": spec.evaluation_interval, "rules": rules}
        files[conventions.rule_file(area)] = to_yaml({"groups": [group]}, source=spec.source)
    return files
