"""The generated ``prometheus/prometheus.yml`` passes ``promtool check config`` (2.42, the version the
docker-compose image pins), loads the generated rules through its relative glob, and scrapes the
exporter under the spec's ``job`` and every watched system under its own."""

from __future__ import annotations

import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from generator.emit import prometheus_config
from generator.errors import SpecErrors
from generator.generate import render
from generator.model import Spec
from generator.procs import ManagedProcess, free_port, http_ready
from generator.spec import load, load_text
from generator.tools import Promtool
from tests.conftest import SPECS, spec_id
from tests.exporter.helpers import wait_until
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


SYSTEMS_SPEC = """\
version: 1
name: two-systems
title: Two systems
job: tradewatch-exporter
systems:
  tradewatch-exporter: {exporter: tradewatch}
  engine:
    targets: [ENGINE]
    metrics:
      engine_queue_depth: {type: gauge, unit: count, help: Orders waiting}
  feed:
    metrics:
      feed_lag_seconds: {type: gauge, unit: seconds, help: Market-data lag}
dashboards:
  engine: {title: Engine}
signals:
  queue_depth:
    title: Queue depth
    dashboard: engine
    gauge: {metric: engine_queue_depth, job: engine}
  feed_lag:
    title: Feed lag
    dashboard: engine
    gauge: {metric: feed_lag_seconds, job: feed}
alerts:
  EngineQueueDeep:
    signal: queue_depth
    summary: Orders are queueing
    tiers:
      warning: {above: 100, for: 1m}
"""


def serve_metrics(text: str) -> tuple[ThreadingHTTPServer, str]:
    class Metrics(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = text.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Metrics)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"127.0.0.1:{server.server_address[1]}"


def test_each_watched_system_is_scraped_as_its_job_at_its_targets(tmp_path: Path, promtool: Promtool) -> None:
    exporter, exporter_address = serve_metrics("tradewatch_exporter_source_up{source=\"redis\"} 1\n")
    engine, engine_address = serve_metrics("engine_queue_depth 7\n")
    spec = load_text(SYSTEMS_SPEC.replace("ENGINE", engine_address), "two.yaml")
    config = tmp_path / "prometheus.yml"
    config.write_text(yaml.safe_dump(prometheus_config.build(
        spec, exporter=exporter_address, alertmanagers=[], rule_files=[], scrape_interval="1s")))
    assert promtool.check_config(config).ok
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    argv = [shutil.which("prometheus") or "prometheus", f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}", f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"]
    try:
        with ManagedProcess.start(argv, ready=http_ready(f"{url}/-/ready"), log_path=tmp_path / "prometheus.log"):
            def scraped() -> dict[str, dict[str, Any]]:
                targets = requests.get(f"{url}/api/v1/targets", timeout=5).json()["data"]["activeTargets"]
                return {t["labels"]["job"]: t for t in targets if t["health"] != "unknown"}

            wait_until(lambda: {"tradewatch-exporter", "engine", "feed"} <= set(scraped()), "every job is scraped")
            jobs = scraped()
            up = requests.get(f"{url}/api/v1/query", params={"query": "engine_queue_depth"}, timeout=5).json()
    finally:
        for server in (exporter, engine):
            server.shutdown()
            server.server_close()

    assert jobs["tradewatch-exporter"]["health"] == "up"
    assert jobs["tradewatch-exporter"]["scrapeUrl"] == f"http://{exporter_address}/metrics"
    assert jobs["engine"]["health"] == "up"
    assert [r["metric"]["job"] for r in up["data"]["result"]] == ["engine"]
    # No targets in the spec: the placeholder named after the job, down until the user sets the address.
    assert jobs["feed"]["scrapeUrl"] == "http://feed:80/metrics"
    assert jobs["feed"]["health"] == "down"


def test_a_target_without_a_port_is_refused_naming_the_line() -> None:
    text = SYSTEMS_SPEC.replace("ENGINE", "engine.internal")

    with pytest.raises(SpecErrors) as caught:
        load_text(text, "two.yaml")

    assert str(caught.value) == "two.yaml:8:15: systems.engine.targets[0]: 'engine.internal' is not a valid host:port"
