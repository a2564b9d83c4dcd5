"""Grafana-managed rules print the user's texts as written: Grafana runs labels and annotations as Go
templates, so a ``{{`` in a summary must not be executed.

No Grafana binary exists here; Prometheus expands alert labels and annotations with the same Go
``text/template`` language, so a real Prometheus renders the rules deploy would send to Grafana.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from generator.emit.grafana_rules import rule_groups
from generator.procs import ManagedProcess, free_port, http_ready
from generator.spec import load

SPEC = Path(__file__).resolve().parent.parent / "specs" / "good" / "go-template-text.yaml"
# Grafana's template data has ``$values`` (one entry per query); Prometheus's has ``$value``.
GRAFANA_VALUE = "$values.B.Value"


def rendered_alerts(rules: list[dict[str, Any]], tmp_path: Path) -> list[dict[str, Any]]:
    """Each Grafana rule's labels and annotations as a real Prometheus renders them, firing at once."""
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.fail("prometheus is not installed: run scripts/setup.sh (Debian package 'prometheus')")
    prom_rules = [{
        "alert": r["title"].replace(" ", "_").replace("(", "").replace(")", ""),
        "expr": 'label_replace(vector(0.25), "job", "j", "", "")',
        "labels": r["labels"],
        "annotations": {k: v.replace(GRAFANA_VALUE, "$value") for k, v in r["annotations"].items()},
    } for r in rules]
    (tmp_path / "rules.yml").write_text(yaml.safe_dump({"groups": [{"name": "grafana", "rules": prom_rules}]}))
    (tmp_path / "prometheus.yml").write_text(
        f"global:\n  evaluation_interval: 1s\nrule_files:\n  - {tmp_path / 'rules.yml'}\n")
    port = free_port()
    argv = [binary, f"--config.file={tmp_path / 'prometheus.yml'}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"]
    url = f"http://127.0.0.1:{port}"
    with ManagedProcess.start(argv, ready=http_ready(f"{url}/-/ready"), log_path=tmp_path / "prometheus.log"):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            alerts: list[dict[str, Any]] = requests.get(f"{url}/api/v1/alerts", timeout=5).json()["data"]["alerts"]
            if len(alerts) == len(prom_rules):
                return alerts
            time.sleep(0.2)
    pytest.fail(f"Prometheus did not fire the {len(prom_rules)} rules within 30 s")


def test_texts_that_look_like_go_templates_reach_the_grafana_alert_as_written(tmp_path: Path) -> None:
    spec = load(SPEC)
    rules = rule_groups(spec, folder_uid="tw-braces", datasource_uid="tradewatch-prometheus")[0]["rules"]

    alerts = rendered_alerts(rules, tmp_path)

    assert len(alerts) == 2
    for alert in alerts:
        annotations = alert["annotations"]
        assert annotations["summary"] == "Node slow: {{ $value }} and }} and {{{"
        assert annotations["impact"] == '{{ template "x" }}'
        assert annotations["action"] == "Run `kubectl get pods -o go-template='{{.metadata.name}}'`"
        assert annotations["description"].startswith("Node {{ P99 }} on j is 250ms"), annotations["description"]
        assert alert["labels"]["team"] == "{{ .Labels.team }}"
