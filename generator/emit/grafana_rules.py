"""The model's alerts as Grafana-managed alert rules: the provisioning API's ``AlertRuleGroup``.

Each tier becomes one rule of three queries, the shape Grafana's own
rule editor makes: **A** the signal's recorded series from the Prometheus data source (the same
series the Prometheus rules compare), **B** reduce to the last value, **C** the threshold carrying
the tier's number. A per-label threshold (an override) becomes a rule of its own with its own number,
where the Prometheus rule folds them into one expression: Grafana's threshold expression holds one
number. Texts and labels come from the Prometheus rule emitter, so an alert reads the same whichever
evaluator runs it.

Example::

    >>> groups = rule_groups(spec, folder_uid="tw-solana-trader", datasource_uid="tradewatch-prometheus")
    >>> groups[0]["rules"][0]["title"]
    'TradeExecutionLatencyHigh'
"""

from __future__ import annotations

from typing import Any

from generator import conventions, promql
from generator.emit import rules as prom_rules
from generator.gotemplate import literal_alert
from generator.kinds import kind_of
from generator.model import Alert, Override, Spec, Tier
from generator.units import parse_duration

# Grafana schedules rules on a 10 s base tick; a group interval must be a multiple of it.
BASE_INTERVAL = 10
CONDITION = "C"
EXPR_DS = {"type": "__expr__", "uid": "__expr__"}
_OPS = {">": "gt", "<": "lt"}


def group_interval(spec: Spec) -> int:
    """The spec's evaluation interval in whole seconds, rounded up to Grafana's 10 s tick."""
    secs = max(parse_duration(spec.evaluation_interval), BASE_INTERVAL)
    return int(-(-secs // BASE_INTERVAL) * BASE_INTERVAL)


def _series(spec: Spec, alert: Alert, tier: Tier, override: Override | None) -> str:
    signal = alert.signal
    kind = kind_of(signal)
    record = kind.record_name(signal)
    if record is None:
        return kind.alert_expr(signal, tier, spec.job)
    if override is not None:
        return f"{record}{{{override.label}={promql.quote(override.value)}}}"
    return f"{record}{{{promql.override_exclusion(tier.overrides)}}}" if tier.overrides else record


def _condition(alert: Alert, tier: Tier, override: Override | None) -> dict[str, Any]:
    if kind_of(alert.signal).alerts_on_absence:  # any series is a breach
        return {"type": "threshold", "expression": "B",
                "conditions": [{"evaluator": {"type": "gt", "params": [0]}}]}
    threshold = override.threshold if override is not None else tier.threshold
    assert threshold is not None
    if tier.op == "==":
        return {"type": "math", "expression": f"$B == {promql.number(threshold)}"}
    return {"type": "threshold", "expression": "B",
            "conditions": [{"evaluator": {"type": _OPS[tier.op], "params": [threshold]}}]}


def _query(ref: str, datasource_uid: str, model: dict[str, Any], range_from: int) -> dict[str, Any]:
    datasource = EXPR_DS if datasource_uid == "__expr__" else {"type": "prometheus", "uid": datasource_uid}
    return {
        "refId": ref,
        "queryType": "",
        "relativeTimeRange": {"from": range_from, "to": 0},
        "datasourceUid": datasource_uid,
        "model": {"refId": ref, "datasource": datasource, "intervalMs": 1000, "maxDataPoints": 43200,
                  **model},
    }


def title(alert: Alert, tier: Tier, override: Override | None) -> str:
    """The rule title (Grafana's alertname); unique in the folder, as Grafana 11 requires."""
    text = alert.name
    if len(alert.tiers) > 1:
        text += f" ({tier.severity})"
    if override is not None:
        text += f" {override.label}={override.value}"
    return text


def rule(spec: Spec, alert: Alert, tier: Tier, override: Override | None, *, folder_uid: str,
         datasource_uid: str, org_id: int = 1) -> dict[str, Any]:
    """One ``ProvisionedAlertRule``."""
    signal = alert.signal
    display = override.display if override is not None else tier.display
    kind = kind_of(signal)
    value = kind.value_template(signal).replace("$value", "$values.B.Value")
    # Grafana runs annotations and labels as Go templates, as Prometheus does: the user's texts (and the
    # signal's title inside the description) are printed as written. The rule title is not a template.
    description = kind.describe(literal_alert(alert, title=True), tier, value, kind.labels_template(signal), display)
    texts = literal_alert(alert)
    return {
        "uid": conventions.grafana_rule_uid(spec, alert.name, tier.severity,
                               f"{override.label}-{override.value}" if override else ""),
        "orgID": org_id,
        "folderUID": folder_uid,
        "ruleGroup": conventions.group_name(spec, signal.dashboard),
        "title": title(alert, tier, override),
        "condition": CONDITION,
        "data": [
            _query("A", datasource_uid, {"expr": _series(spec, alert, tier, override), "instant": True,
                                         "range": False, "editorMode": "code", "legendFormat": "__auto"},
                   600),
            _query("B", "__expr__", {"type": "reduce", "expression": "A", "reducer": "last",
                                     "settings": {"mode": "dropNN"}}, 0),
            _query(CONDITION, "__expr__", _condition(alert, tier, override), 0),
        ],
        # As the Prometheus rule: a series that is missing or NaN (0/0 before the first trade) compares
        # false there, so it stays quiet; an absence alert's query returns nothing while all is well.
        "noDataState": "OK",
        "execErrState": "Error",
        "for": tier.for_,
        "labels": prom_rules.alert_labels(spec, texts, tier),
        "annotations": prom_rules.alert_annotations(spec, texts, description),
        "isPaused": False,
    }


def rule_groups(spec: Spec, *, folder_uid: str, datasource_uid: str, org_id: int = 1) -> list[dict[str, Any]]:
    """One ``AlertRuleGroup`` per dashboard area, as the Prometheus rule files group them."""
    groups = []
    for dashboard in spec.dashboards:
        rules = []
        for signal in spec.signals_on(dashboard.name):
            for alert in spec.alerts_on(signal):
                for tier in alert.tiers:
                    rules.append(rule(spec, alert, tier, None, folder_uid=folder_uid,
                                      datasource_uid=datasource_uid, org_id=org_id))
                    rules.extend(rule(spec, alert, tier, o, folder_uid=folder_uid,
                                      datasource_uid=datasource_uid, org_id=org_id) for o in tier.overrides)
        if rules:
            groups.append({"title": conventions.group_name(spec, dashboard.name), "folderUid": folder_uid,
                           "interval": group_interval(spec), "rules": rules})
    return groups


def file_group(group: dict[str, Any], folder_title: str) -> dict[str, Any]:
    """An ``AlertRuleGroup`` in Grafana's file-provisioning shape (``AlertRuleGroupExport``)."""
    return {
        "orgId": 1,
        "name": group["title"],
        "folder": folder_title,
        "interval": f"{group['interval']}s",
        "rules": [{k: v for k, v in r.items() if k not in ("orgID", "folderUID", "ruleGroup")}
                  for r in group["rules"]],
    }
