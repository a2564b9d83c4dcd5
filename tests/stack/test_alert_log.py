"""``tradewatch alert-log`` on its own: Alertmanager's webhook JSON in, one line per alert on the console
and in a log file rotated by size; SIGTERM stops it with exit code 0."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import pytest
import requests

from generator.procs import ManagedProcess, free_port, tcp_ready

pytestmark = pytest.mark.servers


def payload(status: str, n: int) -> dict[str, object]:
    """The shape Alertmanager 0.25 posts (webhook version 4), trimmed to what the log reads."""
    return {"version": "4", "status": status, "receiver": "webhook", "alerts": [{
        "status": status,
        "labels": {"alertname": "CircuitBreakerOpen", "severity": "critical", "job": "tradewatch-exporter"},
        "annotations": {"summary": "Circuit breaker activated", "description": f"breaker open, notice {n}",
                        "impact": "Trading is halted", "action": "Find the failing dependency"},
        "startsAt": "2026-01-01T00:00:00Z",
    }]}


def test_alert_log_prints_and_rotates_every_alert_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "alerts.log"
    console = tmp_path / "console.txt"
    proc = ManagedProcess.start(
        [sys.executable, "-m", "generator", "alert-log", "--listen", f"127.0.0.1:{port}",
         "--log-file", str(log), "--max-bytes", "2000", "--backups", "2"],
        ready=tcp_ready(port), log_path=console)
    try:
        for n in range(30):
            status = "resolved" if n % 2 else "firing"
            requests.post(f"http://127.0.0.1:{port}/alerts", json=payload(status, n), timeout=5).raise_for_status()
        assert requests.post(f"http://127.0.0.1:{port}/alerts", data=b"not json", timeout=5).status_code == 400
    finally:
        proc.proc.send_signal(signal.SIGTERM)
        code = proc.proc.wait(timeout=10)
        proc.stop()
    assert code == 0
    out = console.read_text()
    assert "[CRITICAL] CircuitBreakerOpen: Circuit breaker activated — breaker open, notice 28" in out
    assert "[RESOLVED] CircuitBreakerOpen: Circuit breaker activated (via webhook)" in out
    files = sorted(tmp_path.glob("alerts.log*"))
    assert [f.name for f in files] == ["alerts.log", "alerts.log.1", "alerts.log.2"]  # rotated, two kept
    assert all(f.stat().st_size <= 2000 for f in files)
    assert "notice 28" in log.read_text()
