"""``tradewatch exporter`` and ``tradewatch simulate`` as users run them: real processes, real Redis, real scrapes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from generator.procs import ManagedProcess, free_port, http_ready
from generator.tools import Promtool
from tests.exporter.helpers import RedisServer, event, mev, trade, wait_until, xadd

TRADEWATCH = [sys.executable, "-m", "generator"]


@contextmanager
def exporter(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[tuple[ManagedProcess, str]]:
    port = free_port()
    url = f"http://127.0.0.1:{port}/metrics"
    proc = ManagedProcess.start([*TRADEWATCH, "exporter", "--listen", f"127.0.0.1:{port}", *args],
                                ready=http_ready(url), log_path=tmp_path / f"exporter-{port}.log",
                                env={**os.environ, **(env or {})})
    try:
        yield proc, url
    finally:
        proc.stop()


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = requests.get(url, timeout=5).text
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def sample(url: str, name: str, **labels: str) -> float | None:
    return scrape(url).get((name, tuple(sorted(labels.items()))))


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*TRADEWATCH, *args], capture_output=True, text=True, timeout=60, check=False,
                          env={**os.environ, **(env or {})})


def test_a_real_scrape_passes_promtool_check_metrics(tmp_path: Path, redis_server: RedisServer) -> None:
    xadd(redis_server.client(), "tradewatch:events",
         trade(slippage_expected=0.01, slippage_actual=0.011), mev("SOL/USDC", "avoided", loss_usd=3),
         event("breaker", from_state="closed", to_state="half_open"),
         event("connections", store="questdb", active=2), b"not json",
         event("resources", memory_bytes=5, memory_limit_bytes=10, cpu_percent=1))
    with exporter(tmp_path, "--redis-url", redis_server.url) as (_, url):
        wait_until(lambda: sample(url, "tradewatch_exporter_events_processed_total") == 5, "events are counted")
        body = requests.get(url, timeout=5).text
    result = Promtool.find().check_metrics(body)
    assert result.ok, result.message


def test_exporter_with_the_simulator_serves_moving_metrics_without_redis(tmp_path: Path) -> None:
    nowhere = f"redis://127.0.0.1:{free_port()}/0"
    with exporter(tmp_path, "--source", "simulate", "--rate", "1000", "--redis-url", nowhere) as (_, url):
        wait_until(lambda: (sample(url, "trades_total", status="success") or 0) > 100, "trades are counted")
        assert sample(url, "tradewatch_exporter_source_up", source="simulate") == 1
        body = requests.get(url, timeout=5).text
    result = Promtool.find().check_metrics(body)
    assert result.ok, result.message


def test_sigterm_stops_the_exporter_cleanly_leaving_nothing_pending(tmp_path: Path, redis_server: RedisServer) -> None:
    client = redis_server.client()
    xadd(client, "tradewatch:events", *(trade() for _ in range(100)))
    with exporter(tmp_path, env={"TRADEWATCH_REDIS_URL": redis_server.url}) as (proc, url):
        wait_until(lambda: sample(url, "tradewatch_exporter_events_processed_total") == 100, "events are counted")
        os.kill(proc.proc.pid, signal.SIGTERM)
        assert proc.proc.wait(timeout=10) == 0
    assert client.xpending("tradewatch:events", "tradewatch")["pending"] == 0
    assert "stopped" in proc.log_tail()


def test_redis_killed_and_restarted_mid_stream_leaves_totals_exactly_as_written(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    common = ["--redis-url", redis_server.url]
    with exporter(tmp_path, *common) as (_, url):
        simulate = subprocess.Popen(
            [*TRADEWATCH, "simulate", *common, "--scenario", "failure_burst 5s", "--rate", "3000", "--seed", "5"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        try:
            wait_until(lambda: (sample(url, "tradewatch_exporter_events_processed_total") or 0) > 2000,
                       "the exporter is counting the simulator's events")
            redis_server.kill()
            wait_until(lambda: sample(url, "tradewatch_exporter_source_up", source="redis") == 0,
                       "the exporter shows Redis down and keeps answering")
            redis_server.start()
            out, err = simulate.communicate(timeout=40)
        finally:
            simulate.kill()
        assert simulate.returncode == 0, err
        written = json.loads(out)["written"]
        assert "retrying" in err, "the simulator saw the outage and wrote through it"
        wait_until(lambda: sample(url, "tradewatch_exporter_events_processed_total") == sum(
            n for kind, n in written.items() if ":" not in kind), "every written event is counted", timeout=20)
        assert sample(url, "trades_total", status="failed") == written["trade:failed"]
        assert sample(url, "trades_total", status="success") == written["trade:success"]
        mev_avoided = sum(v for (n, _), v in scrape(url).items() if n == "mev_attacks_avoided_total")
        assert mev_avoided == written["mev:avoided"]


def test_simulate_writes_the_timeline_and_reports_exactly_what_it_wrote(redis_server: RedisServer) -> None:
    result = run("simulate", "--fast", "--scenario", "normal 3s, breaker_trip 4s", "--rate", "500",
                 env={"TRADEWATCH_REDIS_URL": redis_server.url, "TRADEWATCH_STREAM": "sim"})
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    client = redis_server.client()
    assert summary["finished"] is True
    assert summary["events_written"] == client.xlen("sim")
    assert summary["written"]["breaker"] == 3
    # The last snapshot, at 5 s, saw the breaker half-open (open at 3 s, half-open 4.6 s, closed 5.8 s).
    assert client.get("dashboard:circuit_breaker_state") == b"2"


def test_simulate_appends_after_a_stream_whose_ids_run_ahead_of_the_clock(redis_server: RedisServer) -> None:
    env = {"TRADEWATCH_REDIS_URL": redis_server.url}
    ahead = run("simulate", "--fast", "--scenario", "normal 3600s", "--rate", "1", env=env)  # ids up to now+1h
    after = run("simulate", "--fast", "--scenario", "normal 2s", "--rate", "100", env=env)
    assert after.returncode == 0, after.stderr
    written = json.loads(ahead.stdout)["events_written"] + json.loads(after.stdout)["events_written"]
    assert redis_server.client().xlen("tradewatch:events") == written


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["exporter", "--rate", "0"], {}, "flag --rate: '0' must be above 0"),
        (["exporter", "--listen", "9477"], {}, "flag --listen: must be [HOST]:PORT"),
        (["exporter", "--source", "kafka"], {}, "flag --source: 'kafka' is not one of redis, simulate"),
        (["exporter"], {"TRADEWATCH_MAX_PAIRS": "lots"}, "env TRADEWATCH_MAX_PAIRS: 'lots' is not a whole number"),
        (["exporter"], {"TRADEWATCH_REDIS_URL": "http://x"}, "env TRADEWATCH_REDIS_URL: must be a redis://"),
        (["simulate", "--scenario", "stampede"], {}, "unknown scenario 'stampede'"),
        (["simulate"], {"TRADEWATCH_LOOP": "maybe"}, "env TRADEWATCH_LOOP: 'maybe' is not a boolean (true/false)"),
    ],
    ids=["zero rate", "listen without colon", "unknown source", "env max pairs", "env redis url",
         "unknown scenario", "env loop"],
)
def test_misuse_exits_2_naming_the_flag_or_env_var(args: Sequence[str], env: dict[str, str], message: str) -> None:
    result = run(*args, env=env)
    assert (result.returncode, message in result.stderr) == (2, True), result.stderr


@pytest.mark.parametrize("command", ["exporter", "simulate"])
def test_help_names_the_env_twin_of_every_flag(command: str) -> None:
    result = run(command, "--help")
    flags = [word for word in result.stdout.split() if word.startswith("--") and word != "--help"]
    for flag in set(flags):
        env = "TRADEWATCH_" + flag.removeprefix("--").replace("-", "_").upper()
        assert env in result.stdout.replace("\n", " ").replace(" ", ""), flag


def test_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    with exporter(tmp_path, "--source", "simulate") as (_, url):
        port = url.split(":")[2].split("/")[0]
        result = run("exporter", "--source", "simulate", "--listen", f"127.0.0.1:{port}")
    assert (result.returncode, f"cannot listen on 127.0.0.1:{port}" in result.stderr) == (1, True), result.stderr
