"""The exporter install (``pip install tradewatch``, no ``generator`` extra; the exporter image) runs the
exporter, the simulator and the alert log, and ``tradewatch``'s other commands say what is missing.

Each command runs in a real process whose imports of any distribution outside the base dependencies
of pyproject.toml (and theirs) fail as they would in that install: grafanalib, jsonschema, requests,
PyYAML, promql-parser, pytest...
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path

import pytest
import requests
from packaging.requirements import Requirement

from generator.procs import ManagedProcess, free_port, http_ready, tcp_ready
from tests.exporter.helpers import RedisServer, wait_until

ROOT = Path(__file__).resolve().parents[2]
GUARD = """\
import importlib.abc, runpy, sys
FORBIDDEN = frozenset(sys.argv[1].split(","))
class NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.partition(".")[0] in FORBIDDEN:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, NotInstalled())
module = sys.argv[2]
sys.argv = [module, *sys.argv[3:]]
runpy.run_module(module, run_name="__main__", alter_sys=True)
"""


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def base_distributions() -> set[str]:
    """The distributions ``pip install tradewatch`` brings: pyproject's base dependencies and theirs."""
    pending = [Requirement(r).name for r in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
               ["dependencies"]]
    found = {"tradewatch"}
    while pending:
        name = _norm(pending.pop())
        if name in found:
            continue
        found.add(name)
        for text in metadata.requires(name) or ():
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                pending.append(req.name)
    return found


def not_installed() -> frozenset[str]:
    """Top-level modules of every installed distribution the exporter install does not have."""
    base = base_distributions()
    return frozenset(module for module, dists in metadata.packages_distributions().items()
                     if not any(_norm(d) in base for d in dists))


def slim(module: str, *args: str) -> list[str]:
    return [sys.executable, "-c", GUARD, ",".join(sorted(not_installed())), module, *args]


@contextmanager
def running(argv: list[str], tmp_path: Path, ready_url: str | None = None,
            port: int | None = None) -> Iterator[ManagedProcess]:
    ready = http_ready(ready_url) if ready_url else tcp_ready(port or 0)
    with ManagedProcess.start(argv, ready=ready, log_path=tmp_path / "console.txt") as proc:
        yield proc


def test_the_generator_dependencies_are_not_in_the_exporter_install() -> None:
    missing = not_installed()

    assert {"grafanalib", "jsonschema", "requests", "yaml", "promql_parser", "pytest"} <= missing
    assert not {"prometheus_client", "redis", "hiredis"} & missing


def test_the_exporter_serves_metrics_with_only_its_own_dependencies(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/metrics"
    argv = slim("exporters", "exporter", "--source", "simulate", "--rate", "1000", "--listen", f"127.0.0.1:{port}")

    with running(argv, tmp_path, ready_url=url):
        wait_until(lambda: 'trades_total{status="success"}' in requests.get(url, timeout=5).text,
                   "the simulated trades are counted")


def test_simulate_writes_to_redis_with_only_the_exporter_dependencies(redis_server: RedisServer) -> None:
    result = subprocess.run(
        slim("exporters", "simulate", "--fast", "--scenario", "normal 2s", "--rate", "200",
             "--redis-url", redis_server.url, "--stream", "slim"),
        capture_output=True, text=True, timeout=60, check=False)

    assert result.returncode == 0, result.stderr
    assert redis_server.client().xlen("slim") > 300


def test_the_alert_log_logs_a_webhook_with_only_the_exporter_dependencies(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "alerts.log"
    alert = {"status": "firing", "labels": {"alertname": "CircuitBreakerOpen", "severity": "critical"},
             "annotations": {"summary": "Circuit breaker activated"}, "startsAt": "2026-01-01T00:00:00Z"}

    with running(slim("exporters", "alert-log", "--listen", f"127.0.0.1:{port}", "--log-file", str(log)),
                 tmp_path, port=port):
        requests.post(f"http://127.0.0.1:{port}/alerts", timeout=5, json={
            "version": "4", "status": "firing", "receiver": "webhook", "alerts": [alert]}).raise_for_status()

    assert "CircuitBreakerOpen: Circuit breaker activated" in log.read_text()


@pytest.mark.parametrize(("command", "prefix"), [
    (["generate", "tradewatch.yaml"], "tradewatch: 'generate' is not available: "),
    (["deploy", "tradewatch.yaml"], "tradewatch: 'deploy' is not available: "),
    (["demo"], "tradewatch demo: "),  # its command module is light; it imports requests when it runs
], ids=["generate", "deploy", "demo"])
def test_tradewatch_says_which_extra_a_generator_command_needs(command: list[str], prefix: str) -> None:
    result = subprocess.run(slim("generator", *command), capture_output=True, text=True,
                            timeout=60, check=False, cwd=ROOT)

    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith(prefix + "this installation lacks "), result.stderr
    assert "pip install 'tradewatch[generator]' installs the generator's dependencies" in result.stderr
    assert "Traceback" not in result.stderr


def test_tradewatch_still_runs_the_exporter_commands_in_the_exporter_install() -> None:
    result = subprocess.run(slim("generator", "exporter", "--help"), capture_output=True, text=True, timeout=60,
                            check=False)

    assert result.returncode == 0, result.stderr
    assert "TRADEWATCH_REDIS_URL" in result.stdout
