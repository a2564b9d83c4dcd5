"""`tradewatch baseline capture` then `diff`, as a CI job runs them, against a real Prometheus that
scrapes the exporter's simulator and evaluates the default spec's rules: no regression while trading
is normal, a regression once the simulator's slow-execution phase runs."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml

from generator import generate
from generator.demo.stack import LocalStack, quick
from generator.errors import SpecErrors
from generator.model import Spec
from generator.procs import ManagedProcess, free_port, http_ready
from generator.spec import load
from tests.conftest import ROOT

TRADEWATCH = [sys.executable, "-m", "generator"]
NORMAL = 45.0  # seconds of normal trading before the slow executions start


def baseline(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*TRADEWATCH, "baseline", *args], capture_output=True, text=True, timeout=60,
                          check=False, cwd=ROOT)


def has_data(url: str, expr: str) -> bool:
    result = requests.get(f"{url}/api/v1/query", params={"query": expr}, timeout=2).json()["data"]["result"]
    return bool(result)


@pytest.fixture(scope="module")
def prometheus(default_spec: Spec, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, float]]:
    """Prometheus URL, and the monotonic time the simulator started."""
    workdir = tmp_path_factory.mktemp("baseline")
    port = free_port()
    started = time.monotonic()
    exporter = ManagedProcess.start(
        [*TRADEWATCH, "exporter", "--source", "simulate", "--listen", f"127.0.0.1:{port}", "--rate", "500",
         "--seed", "3", "--scenario", f"normal {NORMAL:.0f}s, slow_execution 300s",
         "--redis-url", f"redis://127.0.0.1:{free_port()}/0"],
        ready=http_ready(f"http://127.0.0.1:{port}/metrics"), log_path=workdir / "exporter.log")
    try:
        with LocalStack(workdir / "stack") as stack:
            (server,) = stack.start_prometheus(quick(default_spec), exporter=f"127.0.0.1:{port}",
                                               scrape_interval="1s")
            deadline = time.monotonic() + 30
            while not has_data(server.url, "job:trade_latency:p99_5m"):
                assert time.monotonic() < deadline, "Prometheus recorded no trade latency within 30s"
                time.sleep(0.5)
            yield server.url, started
    finally:
        exporter.stop()


@pytest.mark.servers
def test_capture_then_diff_reports_no_regression_then_the_slow_executions(
        prometheus: tuple[str, float], tmp_path: Path) -> None:
    url, started = prometheus
    file = tmp_path / "tradewatch.baseline.yaml"
    time.sleep(max(0.0, started + 30 - time.monotonic()))
    captured = baseline("capture", "tradewatch.yaml", "--prometheus", url, "--window", "20s", "--baseline", str(file))
    assert captured.returncode == 0, captured.stderr
    data = yaml.safe_load(file.read_text())
    assert data["window"] == "20s"
    assert set(data["kpis"]) == {"trade_latency", "node_latency", "mev_avoidance"}
    assert 0.01 < data["kpis"]["trade_latency"]["value"] < 0.1  # the normal P99, under the 100 ms target

    normal = baseline("diff", "tradewatch.yaml", "--prometheus", url, "--window", "15s", "--baseline", str(file))
    assert normal.returncode == 0, normal.stdout + normal.stderr
    assert "no regression" in normal.stdout
    assert time.monotonic() - started < NORMAL, "the machine was too slow: the diff ran after the slow phase began"

    time.sleep(max(0.0, started + NORMAL + 20 - time.monotonic()))
    slow = baseline("diff", "tradewatch.yaml", "--prometheus", url, "--window", "10s", "--baseline", str(file))
    assert slow.returncode == 1, slow.stdout + slow.stderr
    row = next(line for line in slow.stdout.splitlines() if line.startswith("trade_latency"))
    assert "REGRESSION" in row
    assert "REGRESSION: trade_latency" in slow.stdout


def test_diff_without_a_baseline_or_prometheus_says_why(tmp_path: Path) -> None:
    missing = baseline("diff", "tradewatch.yaml", "--prometheus", "http://127.0.0.1:9", "--baseline",
                       str(tmp_path / "none.yaml"))
    assert missing.returncode == 2
    assert "no baseline at" in missing.stderr
    assert "Traceback" not in missing.stderr
    down = baseline("capture", "tradewatch.yaml", "--prometheus", f"http://127.0.0.1:{free_port()}",
                    "--baseline", str(tmp_path / "b.yaml"))
    assert down.returncode == 2
    assert "cannot reach Prometheus" in down.stderr
    assert not (tmp_path / "b.yaml").exists()


def test_a_broken_baseline_file_is_a_spec_error_naming_its_line(tmp_path: Path) -> None:
    spec = tmp_path / "tradewatch.yaml"
    spec.write_text((ROOT / "tradewatch.yaml").read_text())
    (tmp_path / "tradewatch.baseline.yaml").write_text(
        "version: 1\ncaptured_at: '2026-01-01T00:00:00Z'\nwindow: 7d\nkpis:\n  trade_latency:\n    value: fast\n")
    with pytest.raises(SpecErrors) as caught:
        load(spec)
    [err] = caught.value.errors
    assert (err.file, err.line, err.path) == (str(tmp_path / "tradewatch.baseline.yaml"), 6,
                                              "kpis.trade_latency.value")
    assert "expected a finite number" in err.message


def test_generate_alerts_past_the_committed_baseline_by_the_tolerance() -> None:
    """The default spec's committed baseline becomes alerts at baseline x (1 +- tolerance)."""
    files = generate.render(load(ROOT / "tradewatch.yaml"))
    committed = yaml.safe_load((ROOT / "tradewatch.baseline.yaml").read_text())["kpis"]
    rules = {r["alert"]: r["expr"] for g in yaml.safe_load(files["alert_rules/regression.rules.yml"])["groups"]
             for r in g["rules"]}
    latency = committed["trade_latency"]["value"]
    assert rules["TradeLatencyRegression"].endswith(f"> {round(latency * 1.1, 12)!r}")
    mev = committed["mev_avoidance"]["value"]
    assert rules["MevAvoidanceRegression"].endswith(f"< {round(mev * 0.95, 12)!r}")
