"""Where settings come from (flags, then env vars, then deploy.yaml) and that secrets never show."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.deploy.config import resolve
from generator.deploy.errors import ConfigError
from generator.deploy.http import BearerAuth, Secret


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_flags_beat_env_vars_which_beat_the_file_which_beats_the_defaults(tmp_path: Path) -> None:
    config = write(tmp_path / "deploy.yaml", "grafana:\n  url: http://from-file:3000\nevaluator: mimir\n"
                   "mimir:\n  url: http://mimir-from-file\ntimeout: 3\n")

    cfg = resolve({"grafana_url": "http://from-flag:3000"},
                  {"GRAFANA_URL": "http://from-env:3000", "TRADEWATCH_EVALUATOR": "grafana"}, config)

    assert cfg.grafana_url == "http://from-flag:3000"
    assert cfg.evaluator == "grafana"
    assert cfg.mimir_url == "http://mimir-from-file"
    assert cfg.timeout == 3.0
    assert cfg.retries == 3
    assert dict(cfg.sources) == {"grafana_url": "flag --grafana-url", "evaluator": "env TRADEWATCH_EVALUATOR",
                                 "mimir_url": f"{config}: mimir.url", "timeout": f"{config}: timeout"}


def test_deploy_yaml_next_to_the_spec_is_read_without_asking(tmp_path: Path) -> None:
    write(tmp_path / "deploy.yaml", "prometheus:\n  rule_dir: /etc/prometheus/rules\n")

    cfg = resolve({}, {}, None, default_config=tmp_path / "deploy.yaml")

    assert cfg.prometheus_rule_dir == "/etc/prometheus/rules"


@pytest.mark.parametrize(("text", "message"), [
    ("grafana:\n  token: glsa_abc\n", "grafana.token: secrets are read from the environment only"),
    ("grafana:\n  ulr: http://x\n", "grafana.ulr: unknown setting; did you mean 'grafana.url'?"),
    ("retries: many\n", "retries: 'many' is not a whole number"),
    ("grafana:\n  url: http://admin:hunter2@grafana:3000\n", "put credentials in the environment, not in the URL"),
    ("evaluator: thanos\n", "'thanos' is not one of prometheus, mimir, grafana, none"),
], ids=["secret-in-file", "typo", "not-a-number", "credentials-in-url", "unknown-evaluator"])
def test_a_bad_config_file_is_refused_with_its_reason(tmp_path: Path, text: str, message: str) -> None:
    config = write(tmp_path / "deploy.yaml", text)

    with pytest.raises(ConfigError) as caught:
        resolve({}, {}, config)

    assert message in str(caught.value)
    assert "hunter2" not in str(caught.value)
    assert "glsa_abc" not in str(caught.value)


def test_a_bad_env_value_names_the_variable() -> None:
    with pytest.raises(ConfigError, match=r"env TRADEWATCH_RETRIES: '-1' must be 0 or more"):
        resolve({}, {"TRADEWATCH_RETRIES": "-1"}, None)


def test_secrets_print_as_stars_everywhere() -> None:
    cfg = resolve({}, {"GRAFANA_TOKEN": "glsa_topsecret", "MIMIR_PASSWORD": "mimir-topsecret",
                       "MIMIR_USER": "u"}, None)

    shown = " ".join([repr(cfg), str(cfg), repr(cfg.grafana_auth()), repr(cfg.mimir_auth()),
                      str(Secret("glsa_topsecret")), f"{cfg.grafana_token}"])

    assert "topsecret" not in shown
    assert cfg.grafana_token is not None
    assert cfg.grafana_token.reveal() == "glsa_topsecret"
    assert repr(BearerAuth(Secret("x"))) == "BearerAuth(***)"


def test_no_credentials_is_one_clear_error() -> None:
    with pytest.raises(ConfigError, match="set GRAFANA_TOKEN"):
        resolve({}, {}, None).grafana_auth()


def test_a_ca_bundle_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is not a file"):
        resolve({"ca_bundle": str(tmp_path / "missing.pem")}, {}, None)
    assert resolve({}, {}, None).verify is True
