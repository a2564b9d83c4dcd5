"""The generated ``prometheus/prometheus.yml`` passes ``promtool check config`` (2.42, the version the
docker-compose image pins), loads the generated rules through its relative glob, and scrapes the
exporter under the spec's ``job``."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from generator.emit import prometheus_config
from generator.generate import render
from generator.model import Spec
from generator.spec import load
from generator.tools import Promtool
from tests.conftest import SPECS, spec_id
from tests.stack.conftest import write_tree


@pytest.mark.parametrize("path", SPECS, ids=spec_id)
def test_generated_prometheus_config_passes_promtool_with_every_rule_file(
        path: Path, tmp_path: Path, promtool: Promtool) -> None:
    files = render(load(path))
    write_tree(tmp_path, files)
    result = promtool.check_config(tmp_path / prometheus_config.CONFIG_FILE)
    assert result.ok, result.message
    rule_files = sorted(p for p in files if p.endswith(".rules.yml") and "/tests/" not in p)
    assert rule_files
    for rule_file in rule_files:
        assert f"Checking {tmp_path / rule_file}" in result.stdout + result.stderr


def test_the_exporter_is_scraped_as_the_specs_job_and_alerts_go_to_every_alertmanager(default_spec: Spec) -> None:
    spec = default_spec
    config = yaml.safe_load(prometheus_config.emit(spec)[prometheus_config.CONFIG_FILE])
    jobs = {j["job_name"]: j for j in config["scrape_configs"]}
    assert jobs[spec.job]["static_configs"] == [{"targets": [prometheus_config.EXPORTER_ADDRESS]}]
    (am,) = config["alerting"]["alertmanagers"]
    assert am["dns_sd_configs"][0]["names"] == [prometheus_config.ALERTMANAGER_ALIAS]
    assert config["global"]["evaluation_interval"] == spec.evaluation_interval
