"""Plan every target (all reads, no writes), then apply the steps: the body of ``tradewatch deploy``.

Example::

    with ExitStack() as stack:
        plan = make_plan(spec, render(spec), cfg, prune=False, root=Path("."), stack=stack)
        print(plan.render())
        report = apply(plan.steps)
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from contextlib import ExitStack
from pathlib import Path

import yaml
from requests.auth import AuthBase

from generator import conventions
from generator.deploy.config import DeployConfig
from generator.deploy.desired import Desired, desired, recording_only
from generator.deploy.errors import ConfigError
from generator.deploy.grafana import GrafanaApi, GrafanaPlanner
from generator.deploy.http import HttpClient
from generator.deploy.mimir import MimirRuler
from generator.deploy.plan import Plan, Section
from generator.deploy.prometheus import PrometheusRules
from generator.model import Spec
from generator.render import to_yaml


def git_revision(directory: Path) -> str:
    """``git describe --always --dirty`` of the spec's checkout, or a plain reason it has none."""
    try:
        argv = ["git", "-C", str(directory), "describe", "--always", "--dirty", "--abbrev=12"]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown revision (git not available)"
    return result.stdout.strip() if result.returncode == 0 and result.stdout.strip() else "uncommitted"


def _client(stack: ExitStack, service: str, url: str, cfg: DeployConfig, *, auth: AuthBase | None = None,
            headers: Mapping[str, str] | None = None) -> HttpClient:
    http = HttpClient(service, url, auth=auth, headers=headers, verify=cfg.verify, timeout=cfg.timeout,
                      retries=cfg.retries, backoff=cfg.backoff)
    stack.callback(http.close)
    return http


def _rule_files(want: Desired, cfg: DeployConfig) -> list[tuple[str, str]]:
    """Rule files for Prometheus; recording rules only when Grafana evaluates the alerts."""
    if cfg.evaluator != "grafana":
        return list(want.rule_files)
    out = []
    for path, text in want.rule_files:
        groups = recording_only((yaml.safe_load(text) or {}).get("groups") or [])
        if groups:
            out.append((path, to_yaml({"groups": groups}, source=want.spec.source)))
    return out


def make_plan(
    spec: Spec,
    files: Mapping[str, str],
    cfg: DeployConfig,
    *,
    prune: bool,
    root: Path,
    stack: ExitStack,
) -> Plan:
    """Read every target and decide each object's fate; writes nothing."""
    want = desired(spec, files)
    grafana_url = cfg.grafana_url or spec.grafana_url.rstrip("/")
    message = cfg.message or f"tradewatch deploy of {spec.source} at {git_revision(root)}"
    evaluator = cfg.evaluator
    # Grafana-managed alerts still need the recording rules evaluated where they query them.
    to_prometheus = evaluator == "prometheus" or (evaluator == "grafana" and bool(cfg.prometheus_rule_dir))
    to_mimir = evaluator == "mimir" or (evaluator == "grafana" and bool(cfg.mimir_url) and not to_prometheus)
    if to_prometheus and not (cfg.prometheus_rule_dir and cfg.prometheus_url):
        raise ConfigError("the prometheus evaluator needs --prometheus-rule-dir (the directory its "
                          "rule_files glob reads) and --prometheus-url (to reload and check it)")
    if to_mimir and not cfg.mimir_url:
        raise ConfigError("the mimir evaluator needs --mimir-url (and --mimir-tenant when multi-tenancy "
                          "is on)")

    # Credentials are checked by the first reads below, before anything is written anywhere.
    auth = cfg.grafana_auth()
    plan = Plan()
    grafana = GrafanaApi(_client(stack, "Grafana", grafana_url, cfg, auth=auth))
    plan.sections.append(GrafanaPlanner(grafana, cfg, want, prune, message).plan())
    rule_files = _rule_files(want, cfg)
    if to_prometheus:
        assert cfg.prometheus_url is not None
        assert cfg.prometheus_rule_dir is not None
        prometheus = PrometheusRules(_client(stack, "Prometheus", cfg.prometheus_url, cfg),
                                     Path(cfg.prometheus_rule_dir), conventions.rule_file_prefix(spec), prune)
        plan.sections.append(prometheus.plan(rule_files))
    elif to_mimir:
        assert cfg.mimir_url
        headers = {"X-Scope-OrgID": cfg.mimir_tenant} if cfg.mimir_tenant else {}
        service = "Cortex" if cfg.ruler_api == "cortex" else "Mimir"
        http = _client(stack, service, cfg.mimir_url, cfg, auth=cfg.mimir_auth(), headers=headers)
        ruler = MimirRuler(http, cfg.mimir_prefix, cfg.mimir_namespace or conventions.mimir_namespace(spec), prune,
                           cfg.ruler_api)
        groups = [g for _, text in rule_files for g in (yaml.safe_load(text) or {}).get("groups") or []]
        plan.sections.append(ruler.plan(groups))
    elif evaluator == "grafana":
        plan.sections[0].notes.append("Grafana-managed alerts query the recorded series: give "
                                      "--prometheus-rule-dir or --mimir-url so deploy installs the "
                                      "recording rules")
    elif evaluator == "none":
        plan.sections.append(Section("Rules: evaluator 'none', rule files are not deployed"))
    return plan
