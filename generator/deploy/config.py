"""Deploy settings from flags, then env vars, then an optional ``deploy.yaml``, then defaults.

Secrets (``GRAFANA_TOKEN``, ``GRAFANA_PASSWORD``, ``MIMIR_TOKEN``, ``MIMIR_PASSWORD``) come from the
environment only: a config file naming one is refused, so no secret is ever committed.

Example ``deploy.yaml`` (next to the spec, or ``--config PATH``)::

    grafana:
      url: https://grafana.example.com
    evaluator: mimir
    mimir:
      url: https://mimir.example.com
      tenant: trading
"""

from __future__ import annotations

import argparse
import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

import yaml

from generator import options
from generator.deploy.errors import ConfigError
from generator.deploy.http import BasicAuth, BearerAuth, Secret, check_url
from generator.options import Option, boolean, choice, count, non_negative_float, positive_float

Evaluator = Literal["prometheus", "mimir", "grafana", "none"]
EVALUATORS: tuple[Evaluator, ...] = ("prometheus", "mimir", "grafana", "none")
DEFAULT_CONFIG = "deploy.yaml"
SECRET_ENV = ("GRAFANA_TOKEN", "GRAFANA_PASSWORD", "MIMIR_TOKEN", "MIMIR_PASSWORD")


OPTIONS: tuple[Option, ...] = (
    Option("grafana_url", "--grafana-url", "GRAFANA_URL", ("grafana", "url"),
           "Grafana to deploy to (default: the spec's links.grafana)"),
    Option("disable_provenance", "--disable-provenance", "TRADEWATCH_DISABLE_PROVENANCE",
           ("grafana", "disable_provenance"),
           "send X-Disable-Provenance so Grafana-managed rules stay editable in the UI",
           boolean, False, boolean=True),
    Option("ca_bundle", "--ca-bundle", "TRADEWATCH_CA_BUNDLE", ("ca_bundle",),
           "CA certificates (PEM) to verify HTTPS servers with; TLS is always verified"),
    Option("evaluator", "--evaluator", "TRADEWATCH_EVALUATOR", ("evaluator",),
           "where alert rules are evaluated: prometheus, mimir, grafana or none (default: the spec's evaluator)",
           choice(*EVALUATORS), None),
    Option("prometheus_url", "--prometheus-url", "PROMETHEUS_URL", ("prometheus", "url"),
           "Prometheus to reload (needs --web.enable-lifecycle) and check"),
    Option("prometheus_rule_dir", "--prometheus-rule-dir", "PROMETHEUS_RULE_DIR", ("prometheus", "rule_dir"),
           "directory Prometheus' rule_files glob reads; deploy writes tradewatch-<spec>-*.rules.yml there"),
    Option("mimir_url", "--mimir-url", "MIMIR_URL", ("mimir", "url"), "Mimir or Cortex ruler base URL"),
    Option("mimir_tenant", "--mimir-tenant", "MIMIR_TENANT", ("mimir", "tenant"),
           "tenant sent as X-Scope-OrgID (omit when multi-tenancy is off)"),
    Option("mimir_namespace", "--mimir-namespace", "MIMIR_NAMESPACE", ("mimir", "namespace"),
           "ruler namespace deploy owns (default tradewatch-<spec name>)"),
    Option("ruler_api", "--ruler-api", "TRADEWATCH_RULER_API", ("mimir", "api"),
           "the ruler's API: mimir (<prefix>/config/v1/rules) or cortex (/api/v1/rules)",
           choice("mimir", "cortex"), "mimir"),
    Option("mimir_prefix", "--mimir-prefix", "MIMIR_PROMETHEUS_PREFIX", ("mimir", "prometheus_prefix"),
           "Mimir's -http.prometheus-http-prefix", str, "/prometheus"),
    Option("datasource_prometheus_url", "--datasource-prometheus-url", "TRADEWATCH_DATASOURCE_PROMETHEUS_URL",
           ("datasources", "prometheus_url"),
           "URL Grafana reaches Prometheus (or Mimir's query path) at; default: --prometheus-url, "
           "or the Mimir URL plus its prefix"),
    Option("datasource_alertmanager_url", "--datasource-alertmanager-url",
           "TRADEWATCH_DATASOURCE_ALERTMANAGER_URL", ("datasources", "alertmanager_url"),
           "URL Grafana reaches Alertmanager at; without it the Alertmanager data source is not managed"),
    Option("timeout", "--timeout", "TRADEWATCH_TIMEOUT", ("timeout",), "seconds per HTTP request",
           positive_float, 10.0),
    Option("retries", "--retries", "TRADEWATCH_RETRIES", ("retries",),
           "retries of a GET, PUT or DELETE that timed out or got a 429 or 5xx (a POST is never re-sent: "
           "it may have landed)", count, 3),
    Option("retry_backoff", "--retry-backoff", "TRADEWATCH_RETRY_BACKOFF", ("retry_backoff",),
           "seconds before the first retry; doubles for each next one; a Retry-After header wins",
           non_negative_float, 0.5),
    Option("message", "--message", None, ("message",),
           "dashboard version message (default names the git revision)"),
)


@dataclass(frozen=True)
class DeployConfig:
    """Every setting deploy reads, resolved; secrets only as ``Secret``."""

    grafana_url: str | None = None
    grafana_token: Secret | None = None
    grafana_user: str | None = None
    grafana_password: Secret | None = None
    disable_provenance: bool = False
    ca_bundle: str | None = None
    evaluator: Evaluator | None = None  # None: the spec's own evaluator
    prometheus_url: str | None = None
    prometheus_rule_dir: str | None = None
    mimir_url: str | None = None
    mimir_tenant: str | None = None
    mimir_namespace: str | None = None
    mimir_prefix: str = "/prometheus"
    ruler_api: str = "mimir"
    mimir_token: Secret | None = None
    mimir_user: str | None = None
    mimir_password: Secret | None = None
    datasource_prometheus_url: str | None = None
    datasource_alertmanager_url: str | None = None
    timeout: float = 10.0
    retries: int = 3
    backoff: float = 0.5
    message: str | None = None
    sources: tuple[tuple[str, str], ...] = ()  # (setting, where it came from: flag, env var or file)

    @property
    def verify(self) -> bool | str:
        return self.ca_bundle or True

    def grafana_auth(self) -> BearerAuth | BasicAuth:
        if self.grafana_token is not None:
            return BearerAuth(self.grafana_token)
        if self.grafana_user and self.grafana_password is not None:
            return BasicAuth(self.grafana_user, self.grafana_password)
        raise ConfigError(
            "no Grafana credentials: set GRAFANA_TOKEN (a service-account token with the Admin role) "
            "or GRAFANA_USER and GRAFANA_PASSWORD"
        )

    def mimir_auth(self) -> BearerAuth | BasicAuth | None:
        if self.mimir_token is not None:
            return BearerAuth(self.mimir_token)
        if self.mimir_user and self.mimir_password is not None:
            return BasicAuth(self.mimir_user, self.mimir_password)
        return None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The deploy flags; each defaults to None so unset flags fall through to env and file."""
    options.add_arguments(parser, OPTIONS)
    parser.add_argument("--config", type=Path, default=None,
                        help=f"settings file (default: {DEFAULT_CONFIG} next to the spec, if present)")


def _file_values(path: Path) -> dict[str, Any]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the deploy config: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the deploy config must be a mapping")
    by_key = {opt.key: opt for opt in OPTIONS}
    values: dict[str, Any] = {}
    problems: list[str] = []

    def walk(node: Mapping[str, Any], prefix: tuple[str, ...]) -> None:
        for key, value in node.items():
            here = (*prefix, str(key))
            dotted = ".".join(here)
            if any(word in str(key).lower() for word in ("token", "password", "secret")):
                problems.append(f"{dotted}: secrets are read from the environment only "
                                f"({', '.join(SECRET_ENV)}), never from a file")
            elif here in by_key:
                values[by_key[here].name] = value
            elif isinstance(value, dict) and any(k[: len(here)] == here for k in by_key):
                walk(value, here)
            else:
                known = [".".join(k) for k in by_key]
                close = difflib.get_close_matches(dotted, known, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                problems.append(f"{dotted}: unknown setting{hint}")

    walk(raw, ())
    if problems:
        raise ConfigError("\n".join(f"{path}: {p}" for p in problems))
    return values


def resolve(
    flags: Mapping[str, Any],
    environ: Mapping[str, str],
    config_file: Path | None,
    *,
    default_config: Path | None = None,
) -> DeployConfig:
    """Flags beat env vars, which beat the config file, which beats the defaults."""
    path = config_file
    if path is None and default_config is not None and default_config.is_file():
        path = default_config
    from_file = _file_values(path) if path is not None else {}
    try:
        resolved = options.resolve(OPTIONS, flags, environ, from_file, str(path))
    except options.OptionError as exc:
        raise ConfigError(str(exc)) from None
    values, sources = resolved.values, list(resolved.sources)
    for name in ("grafana_url", "prometheus_url", "mimir_url", "datasource_prometheus_url",
                 "datasource_alertmanager_url"):
        if values.get(name):
            values[name] = check_url(name.replace("_", "-"), str(values[name]))
    if values.get("ca_bundle") and not Path(values["ca_bundle"]).is_file():
        raise ConfigError(f"--ca-bundle: {values['ca_bundle']} is not a file")

    def secret(name: str) -> Secret | None:
        value = environ.get(name, "")
        return Secret(value) if value else None

    return _build(values, environ, sources, secret)


def _build(
    values: dict[str, Any],
    environ: Mapping[str, str],
    sources: list[tuple[str, str]],
    secret: Callable[[str], Secret | None],
) -> DeployConfig:
    return DeployConfig(
        grafana_url=values["grafana_url"],
        disable_provenance=bool(values["disable_provenance"]),
        ca_bundle=values["ca_bundle"],
        evaluator=cast(Evaluator | None, values["evaluator"]),
        prometheus_url=values["prometheus_url"],
        prometheus_rule_dir=values["prometheus_rule_dir"],
        mimir_url=values["mimir_url"],
        mimir_tenant=values["mimir_tenant"],
        mimir_namespace=values["mimir_namespace"],
        mimir_prefix="/" + str(values["mimir_prefix"]).strip("/"),
        ruler_api=str(values["ruler_api"]),
        datasource_prometheus_url=values["datasource_prometheus_url"],
        datasource_alertmanager_url=values["datasource_alertmanager_url"],
        timeout=float(values["timeout"]),
        retries=int(values["retries"]),
        backoff=float(values["retry_backoff"]),
        message=values["message"],
        grafana_token=secret("GRAFANA_TOKEN"),
        grafana_user=environ.get("GRAFANA_USER") or None,
        grafana_password=secret("GRAFANA_PASSWORD"),
        mimir_token=secret("MIMIR_TOKEN"),
        mimir_user=environ.get("MIMIR_USER") or None,
        mimir_password=secret("MIMIR_PASSWORD"),
        sources=tuple(sources),
    )
