"""Grafana file provisioning: docker-compose starts Grafana already holding what deploy would put in.

Three files under ``provisioning/`` (mount it at ``/etc/grafana/provisioning``):

- ``datasources/tradewatch.yaml``: the Prometheus (alert view on) and Alertmanager data sources, with
  the uids ``tradewatch deploy`` uses, at the compose service addresses;
- ``dashboards/tradewatch.yaml``: a file provider putting ``dashboards/*.json`` (mounted at
  ``/var/lib/grafana/dashboards``) in the spec's folder, with the folder uid deploy uses;
- ``alerting/tradewatch.yaml``: the Grafana-managed alert rules, only when Grafana evaluates alerts.

Example::

    >>> sorted(emit(spec))
    ['provisioning/dashboards/tradewatch.yaml', 'provisioning/datasources/tradewatch.yaml']
"""

from __future__ import annotations

from typing import Any

from generator import conventions
from generator.emit import grafana_rules as translate
from generator.emit.datasources import datasources
from generator.model import Spec
from generator.render import to_yaml

# Where the compose stack serves Prometheus and Alertmanager, and mounts the dashboards.
PROMETHEUS_URL = "http://prometheus:9090"
ALERTMANAGER_URL = "http://alertmanager:9093"
DASHBOARDS_PATH = "/var/lib/grafana/dashboards"
DATASOURCES_FILE = "provisioning/datasources/tradewatch.yaml"
DASHBOARDS_FILE = "provisioning/dashboards/tradewatch.yaml"
ALERTING_FILE = "provisioning/alerting/tradewatch.yaml"


def datasources_file(spec: Spec, *, grafana_alerts: bool = False) -> dict[str, Any]:
    entries = []
    for body in datasources(PROMETHEUS_URL, ALERTMANAGER_URL, grafana_alerts=grafana_alerts):
        # editable: false, so a UI edit cannot drift from the file; Grafana re-applies it on start.
        entries.append({"name": body["name"], "uid": body["uid"], "type": body["type"], "access": body["access"],
                        "orgId": 1, "url": body["url"], "isDefault": body["isDefault"], "jsonData": body["jsonData"],
                        "editable": False})
    return {"apiVersion": 1, "datasources": entries}


def dashboards_file(spec: Spec) -> dict[str, Any]:
    return {"apiVersion": 1, "providers": [{
        "name": conventions.spec_tag(spec),
        "orgId": 1,
        "folder": spec.grafana_folder,
        "folderUid": conventions.folder_uid(spec),
        "type": "file",
        "options": {"path": DASHBOARDS_PATH},
    }]}


def alerting_file(spec: Spec) -> dict[str, Any]:
    groups = translate.rule_groups(spec, folder_uid=conventions.folder_uid(spec),
                                   datasource_uid=conventions.PROMETHEUS_DS_UID)
    return {"apiVersion": 1, "groups": [translate.file_group(g, spec.grafana_folder) for g in groups]}


def emit(spec: Spec) -> dict[str, str]:
    """The provisioning files; the alerting one only when the spec has Grafana evaluate the alerts."""
    grafana_alerts = spec.evaluator == "grafana"
    files = {
        DATASOURCES_FILE: to_yaml(datasources_file(spec, grafana_alerts=grafana_alerts), source=spec.source),
        DASHBOARDS_FILE: to_yaml(dashboards_file(spec), source=spec.source),
    }
    if grafana_alerts:
        files[ALERTING_FILE] = to_yaml(alerting_file(spec), source=spec.source)
    return files
