"""model -> ``prometheus/prometheus.yml`` for docker-compose: scrape the watched systems, load the rules, alert.

One scrape job per system of the spec's ``systems`` (the spec's ``job`` alone without them), named after
its job, so the ``job`` label the rules select on is the one Prometheus attaches. A system scrapes the
``targets`` the spec gives it; the tradewatch exporter, without them, is the stack's exporter; any other
system, without them, a placeholder named after its job (``conventions.default_target``).

Rule files are found relative to this file (``../alert_rules``), the same
layout in the repository and in the container, so ``promtool check config`` here also checks the
rules the container will load.

Alertmanagers are discovered by DNS under one network alias that every Alertmanager container of
docker-compose carries: one instance normally, both peers in the ``ha`` profile. Prometheus sends
each alert to every Alertmanager, as their clustering expects (never through a load balancer).

``build`` takes the addresses, so ``tradewatch demo`` and the stack tests run the same
configuration on loopback ports.

Example::

    >>> build(spec, exporter="127.0.0.1:9105", alertmanagers=["127.0.0.1:9093"], rule_files=["r.yml"])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from exporters.catalogue import DEFAULT_PORT as EXPORTER_PORT
from generator.conventions import RULES_DIR
from generator.model import ScrapeJob, Spec
from generator.render import to_yaml

CONFIG_FILE = "prometheus/prometheus.yml"
# docker-compose names: services, the alias all Alertmanagers share, and ports inside the network.
EXPORTER_ADDRESS = f"exporter:{EXPORTER_PORT}"
ALERTMANAGER_ALIAS = "alertmanagers"
ALERTMANAGER_PORT = 9093
PROMETHEUS_ADDRESS = "localhost:9090"


def build(
    spec: Spec,
    *,
    exporter: str,
    alertmanagers: Sequence[str] | None,
    rule_files: Sequence[str],
    scrape_interval: str | None = None,
    evaluation_interval: str | None = None,
) -> dict[str, Any]:
    """A Prometheus configuration; ``alertmanagers=None`` discovers them by the compose alias."""
    interval = evaluation_interval or spec.evaluation_interval
    am: dict[str, Any]
    if alertmanagers is None:
        am = {"dns_sd_configs": [{"names": [ALERTMANAGER_ALIAS], "type": "A", "port": ALERTMANAGER_PORT}]}
    else:
        am = {"static_configs": [{"targets": list(alertmanagers)}]}
    scrapes: list[dict[str, Any]] = [
        {"job_name": j.job, "static_configs": [{"targets": list(j.targets or (exporter,))}]}
        for j in spec.scrape_jobs or (ScrapeJob(spec.job),)
    ]
    if alertmanagers is None:
        scrapes += [
            {"job_name": "prometheus", "static_configs": [{"targets": [PROMETHEUS_ADDRESS]}]},
            {"job_name": "alertmanager", **am},
        ]
    return {
        "global": {
            "scrape_interval": scrape_interval or interval,
            "evaluation_interval": interval,
        },
        "rule_files": list(rule_files),
        "alerting": {"alertmanagers": [am]},
        "scrape_configs": scrapes,
    }


def emit(spec: Spec) -> dict[str, str]:
    config = build(spec, exporter=EXPORTER_ADDRESS, alertmanagers=None,
                   rule_files=[f"../{RULES_DIR}/*.rules.yml"])
    return {CONFIG_FILE: to_yaml(config, source=spec.source)}
