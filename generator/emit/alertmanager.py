"""model -> ``alertmanager/alertmanager.yml``: who hears about which alert, how often, and what silences it.

- Routing by the ``priority`` label every generated alert carries: one route per priority, fanning out
  to each of its receivers at once (a sub-route per receiver with ``continue: true``), with the
  priority's own ``repeat_interval``. Alerts from elsewhere that carry only ``severity`` are routed
  as their severity's default priority; alerts with neither go to the least urgent route.
- Grouping, ``group_wait``/``group_interval`` and the repeat suppression ("the same alert at most
  every 5 minutes") from the spec; ``send_resolved`` on every receiver.
- Inhibition, as kube-prometheus does it: a firing alert silences the less severe tiers of the same
  alert on the same series (``equal`` on alertname, job and the signals' ``by`` labels); and an
  alert silences the alerts listed in its ``inhibits`` (their symptoms), and their escalations.
- Secrets are never written here: receivers reference them by file (``*_file``), which the
  deployment fills (docker secrets, Kubernetes secrets).

Example::

    >>> build(spec)["route"]["routes"][0]["matchers"]
    ['priority="critical"']
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from generator.emit.escalation import escalations
from generator.model import DEFAULT_PRIORITY, PRIORITIES, SEVERITIES, Alert, PriorityRoute, Receiver, Spec
from generator.promql import quote
from generator.render import to_yaml

CONFIG_FILE = "alertmanager/alertmanager.yml"

CONFIG_KEY = {
    "webhook": "webhook_configs",
    "slack": "slack_configs",
    "pagerduty": "pagerduty_configs",
    "email": "email_configs",
}
# Settings that would put a secret into the generated (committed) file; each has a *_file twin.
INLINE_SECRETS = frozenset({"api_url", "routing_key", "service_key", "auth_password", "auth_secret"})

# What a person reads first: "[FIRING] CircuitBreakerOpen (critical)" and each alert's texts.
_TITLE = '[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }} ({{ .CommonLabels.severity }})'
_TEXT = (
    "{{ range .Alerts }}*{{ .Annotations.summary }}*\n{{ .Annotations.description }}\n"
    "Impact: {{ .Annotations.impact }}\nAction: {{ .Annotations.action }}\n"
    "Runbook: {{ .Annotations.runbook_url }} | Dashboard: {{ .Annotations.dashboard_url }}\n{{ end }}"
)
_PAGER_DESCRIPTION = (
    "[{{ .CommonLabels.severity | toUpper }}] {{ .CommonAnnotations.summary }}"
    "{{ if .CommonAnnotations.description }}: {{ .CommonAnnotations.description }}{{ end }}"
)


def matcher(label: str, value: str, op: str = "=") -> str:
    return f"{label}{op}{quote(value)}"


def receiver_config(receiver: Receiver, send_resolved: bool) -> dict[str, Any]:
    settings = dict(receiver.settings)
    inline = sorted(INLINE_SECRETS & settings.keys())
    if inline:
        raise ValueError(f"receiver {receiver.name!r}: {', '.join(inline)} would be committed in clear; "
                         f"use {', '.join(k + '_file' for k in inline)}")
    config: dict[str, Any] = {**settings, "send_resolved": send_resolved}
    if receiver.kind == "slack":
        config.setdefault("title", _TITLE)
        config.setdefault("text", _TEXT)
    elif receiver.kind == "pagerduty":
        config.setdefault("description", _PAGER_DESCRIPTION)
    return {"name": receiver.name, CONFIG_KEY[receiver.kind]: [config]}


def fan_out(route: PriorityRoute, matchers: list[str]) -> dict[str, Any]:
    """One route matching ``matchers`` that notifies every receiver of ``route`` at once."""
    node: dict[str, Any] = {"receiver": route.receivers[0]}
    if matchers:
        node["matchers"] = matchers
    node["repeat_interval"] = route.repeat_interval
    if len(route.receivers) > 1:
        # Children without matchers match every alert of the parent; continue lets each one fire.
        node["routes"] = [
            {"receiver": name, "continue": i < len(route.receivers) - 1}
            for i, name in enumerate(route.receivers)
        ]
    return node


def routes(spec: Spec) -> dict[str, Any]:
    notes = spec.notifications
    by_priority = {r.priority: r for r in notes.routes}
    ordered = [by_priority[p] for p in PRIORITIES if p in by_priority]
    if not ordered:
        raise ValueError("notifications: no route for any priority")
    children = [fan_out(r, [matcher("priority", r.priority)]) for r in ordered]
    for severity in SEVERITIES:
        fallback = by_priority.get(DEFAULT_PRIORITY[severity])
        if fallback is not None:
            children.append(fan_out(fallback, [matcher("severity", severity)]))
    least = ordered[-1]
    # Neither a known priority nor a known severity: reviewed with the least urgent alerts.
    children.append(fan_out(least, []))
    return {
        "receiver": least.receivers[0],
        "group_by": list(notes.group_by),
        "group_wait": notes.group_wait,
        "group_interval": notes.group_interval,
        "repeat_interval": notes.repeat_interval,
        "routes": children,
    }


def series_labels(alerts: Iterable[Alert]) -> list[str]:
    """The labels that tell one alerted series from another: job and every signal's ``by``."""
    extra = sorted({label for a in alerts for label in a.signal.by} - {"job"})
    return ["alertname", "job", *extra]


def _names_regex(names: Iterable[str]) -> str:
    return "|".join(re.escape(n) for n in dict.fromkeys(names))


def inhibit_rules(spec: Spec) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = []
    equal = series_labels(spec.alerts)
    for rank, severity in enumerate(SEVERITIES[:-1]):
        rules.append({
            "source_matchers": [matcher("severity", severity)],
            "target_matchers": [matcher("severity", "|".join(SEVERITIES[rank + 1:]), "=~")],
            "equal": equal,
        })
    recurring = {e.alert.name: e.name for e in escalations(spec)}
    by_name = {a.name: a for a in spec.alerts}
    for alert in spec.alerts:
        if not alert.inhibits:
            continue
        targets = [by_name[n] for n in alert.inhibits if n in by_name]
        names = [n for t in targets for n in (t.name, recurring.get(t.name)) if n is not None]
        # Only labels both sides carry can be compared: the breaker has no `pair`, trades may.
        shared = sorted(set(alert.signal.by).intersection(*(t.signal.by for t in targets)) - {"job"})
        rules.append({
            "source_matchers": [matcher("alertname", alert.name)],
            "target_matchers": [matcher("alertname", _names_regex(names), "=~")],
            "equal": ["job", *shared],
        })
    return rules


def build(spec: Spec) -> dict[str, Any]:
    """The Alertmanager configuration as data, before rendering."""
    notes = spec.notifications
    return {
        "route": routes(spec),
        "inhibit_rules": inhibit_rules(spec),
        "receivers": [receiver_config(r, notes.resolved) for r in notes.receivers],
    }


def emit(spec: Spec) -> dict[str, str]:
    return {CONFIG_FILE: to_yaml(build(spec), source=spec.source)}
