"""Benchmark results as data, end to end on real servers: the runner's benchmark_result events go
through Redis to the exporter's /metrics, Prometheus evaluates the default spec's rules, and the
"benchmark results available" notification (once per run) and the slower-than-baseline alert reach
the alert log through the generated Alertmanager routing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from generator.demo.receiver import AlertReceiver, Delivery
from generator.demo.stack import LocalStack, quick
from generator.model import Spec
from tests.exporter.helpers import RedisServer, benchmark, wait_until, xadd
from tests.exporter.test_cli import exporter, sample

pytestmark = pytest.mark.servers

RUN = 1_750_000_000.0


@dataclass(frozen=True)
class Env:
    redis: RedisServer
    metrics_url: str
    receiver: AlertReceiver


@pytest.fixture
def env(default_spec: Spec, tmp_path: Path) -> Iterator[Env]:
    spec = quick(default_spec)
    redis_server = RedisServer(tmp_path / "redis")
    redis_server.dir.mkdir()
    redis_server.start()
    try:
        with exporter(tmp_path, "--redis-url", redis_server.url) as (_, url), \
                AlertReceiver.serve("127.0.0.1", 0, log_file=tmp_path / "alerts.log") as rx, \
                LocalStack(tmp_path / "stack") as stack:
            stack.start_alertmanagers(spec, receiver_url=rx.url)
            stack.start_prometheus(spec, exporter=url.removeprefix("http://").removesuffix("/metrics"))
            yield Env(redis_server, url, rx)
    finally:
        redis_server.stop()


def test_a_run_publishes_its_results_and_notifies_once_and_a_slow_scenario_alerts(env: Env) -> None:
    scenarios = {"trade_throughput_c10": 1000.0, "latency_100tps": 100.0, "db_batch_writes": 800.0}
    client = env.redis.client()
    xadd(client, "tradewatch:events", *(
        benchmark(name, ts=RUN + i, run_started=RUN, operations_per_second=ops, baseline_operations_per_second=1000.0)
        for i, (name, ops) in enumerate(scenarios.items())
    ))
    wait_until(lambda: sample(env.metrics_url, "benchmark_operations_per_second", scenario="db_batch_writes") == 800,
               "the results show on /metrics")
    assert sample(env.metrics_url, "benchmark_latency_seconds", scenario="latency_100tps", quantile="0.99") == 0.08
    assert sample(env.metrics_url, "benchmark_run_started_timestamp_seconds") == RUN

    def firing(name: str) -> list[Delivery]:
        return env.receiver.wait_for(lambda d: d.alertname == name and d.status == "firing", timeout=40)

    [available] = firing("BenchmarkResultsAvailable")
    assert available.labels["severity"] == "info"
    assert available.annotations["summary"] == "Benchmark results available"
    slow = {d.labels["scenario"] for d in env.receiver.wait_for(
        lambda d: d.alertname == "BenchmarkSlowerThanBaseline" and d.status == "firing", timeout=40, count=2)}
    assert slow == {"latency_100tps", "db_batch_writes"}  # 10% and 80% of the baseline; 100% is fine
    assert env.receiver.log_file is not None
    assert available.line() in env.receiver.log_file.read_text()
    # One run, one notification: three results of the same run did not notify three times.
    deliveries = [d for d in env.receiver.deliveries() if d.alertname == "BenchmarkResultsAvailable"]
    assert len({d.starts_at for d in deliveries}) == 1
