"""The simulator's scenarios push each alert of the default spec across its threshold and back.

Each scenario is replayed through the exporter's Recorder, and the value each alert watches is computed
from the metrics it produced, over each phase: normal before, anomaly, normal after. The thresholds come
from tradewatch.yaml through the generator's own model.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from exporters.metrics import Recorder
from exporters.simulate import SCENARIOS, Phase, Snapshot, Timeline, generate, scenario
from generator.spec import load

DEFAULT_SPEC = Path(__file__).resolve().parents[2] / "tradewatch.yaml"
START = 1_700_000_000.0
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def readings(timeline: Timeline, at: Iterable[float], *, rate: float = 50, seed: int = 3) -> list[Samples]:
    """Every sample the exporter would publish, at each of the simulated times ``at``."""
    recorder = Recorder(sources=("simulate",))
    registry = CollectorRegistry()
    registry.register(recorder)
    times, taken = sorted(at), []
    for item in generate(timeline, rate=rate, seed=seed, start=START):
        ts = item.ts if isinstance(item, Snapshot) else item["ts"]
        while times and ts >= times[0]:
            taken.append(_samples(registry))
            times.pop(0)
        if isinstance(item, Snapshot):
            recorder.apply_snapshot(item.values)
        else:
            recorder.record_batch([item])
    taken.extend(_samples(registry) for _ in times)
    return taken


def _samples(registry: CollectorRegistry) -> Samples:
    return {(s.name, frozenset(s.labels.items())): s.value for m in registry.collect() for s in m.samples}


def total(samples: Samples, name: str, **labels: str) -> float:
    """Sum of the series of ``name`` whose labels include ``labels``."""
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= ls)


def quantile(q: float, name: str, before: Samples, after: Samples) -> float:
    """histogram_quantile(q, increase(name_bucket)) between two readings, as PromQL computes it."""
    buckets = sorted(
        (float(dict(ls)["le"]), v - before.get((n, ls), 0.0)) for (n, ls), v in after.items() if n == f"{name}_bucket"
    )
    rank = q * buckets[-1][1]
    lower, below = 0.0, 0.0
    for upper, count in buckets:
        if count >= rank:
            if upper == float("inf"):
                return lower
            return lower + (upper - lower) * (rank - below) / (count - below)
        lower, below = upper, count
    raise AssertionError("unreachable: +Inf holds every observation")


def ratio(num: Callable[[Samples], float], den: Callable[[Samples], float]) -> Callable[[Samples, Samples], float]:
    return lambda b, a: (num(a) - num(b)) / (den(a) - den(b))


# What each alert of the default spec watches, computed from the exporter's metrics over a phase
# (before, after), and the scenario that should fire it.
WATCHED: dict[str, tuple[str, Callable[[Samples, Samples], float]]] = {
    "SolanaNodeLatencyHigh": ("node_latency_spike",
                              lambda b, a: quantile(0.99, "solana_node_latency_seconds", b, a)),
    "TradeExecutionLatencyHigh": ("slow_execution",
                                  lambda b, a: quantile(0.99, "trade_execution_latency_seconds", b, a)),
    "TradeFailureRateHigh": ("failure_burst", ratio(lambda s: total(s, "trades_total", status="failed"),
                                                     lambda s: total(s, "trades_total"))),
    "MevAvoidanceLow": ("mev_wave", ratio(lambda s: total(s, "mev_attacks_avoided_total"),
                                          lambda s: total(s, "mev_attacks_avoided_total")
                                          + total(s, "mev_attacks_impacted_total"))),
    "SlippageAccuracyLow": ("slippage_drift", ratio(lambda s: total(s, "slippage_error_ratio_bucket", le="0.1"),
                                                    lambda s: total(s, "slippage_error_ratio_count"))),
    "MemoryUsageHigh": ("memory_pressure",
                        lambda b, a: total(a, "memory_usage_bytes") / total(a, "memory_limit_bytes")),
    "DatabaseConnectionLost": ("db_connection_lost", lambda b, a: min(
        total(a, "active_connections", type="postgres"), total(a, "active_connections", type="questdb"))),
    "CircuitBreakerOpen": ("breaker_trip", lambda b, a: total(a, "circuit_breaker_state")),
}
SPEC_ALERTS = {alert.name: alert for alert in load(DEFAULT_SPEC).alerts}
# Driven by the benchmark runner's results, not by trading: tests/analysis/test_benchmark.py sends them.
BENCHMARK_ALERTS = {"BenchmarkSlowerThanBaseline", "BenchmarkResultsAvailable"}


def test_every_alert_of_the_default_spec_has_a_scenario() -> None:
    assert set(WATCHED) == set(SPEC_ALERTS) - BENCHMARK_ALERTS


@pytest.mark.parametrize("alert_name", WATCHED)
def test_scenario_drives_its_alert_across_the_threshold_and_back(alert_name: str) -> None:
    name, watched = WATCHED[alert_name]
    timeline = SCENARIOS[name]
    assert [p.name for p in timeline] == ["normal", name, "normal"]
    lead_in, anomaly, recovery = (p.seconds for p in timeline)
    # The breaker is open for the first 40% of its phase only: read it while open.
    anomaly_end = lead_in + (0.3 * anomaly if name == "breaker_trip" else anomaly)
    marks = [START + t for t in (0.0, lead_in, lead_in + 1e-3, anomaly_end, lead_in + anomaly, lead_in + anomaly
                                 + recovery)]
    start, lead_in_end, anomaly_start, during, recovery_start, end = readings(timeline, marks)
    values = {"normal before": watched(start, lead_in_end), "anomaly": watched(anomaly_start, during),
              "normal after": watched(recovery_start, end)}
    tiers = SPEC_ALERTS[alert_name].tiers
    crossed = {phase: [t.display for t in tiers if t.crossed(value)] for phase, value in values.items()}
    assert crossed == {"normal before": [], "anomaly": [t.display for t in tiers], "normal after": []}, values


def test_breaker_trip_opens_then_half_opens_then_closes_and_halts_trading_while_open() -> None:
    timeline = (Phase("normal", 10), Phase("breaker_trip", 100), Phase("normal", 10))
    marks = [START + t for t in (5, 30, 60, 100, 119)]
    at = readings(timeline, marks)
    assert [total(r, "circuit_breaker_state") for r in at] == [0, 1, 2, 0, 0]
    transitions = {(f, t): total(at[-1], "circuit_breaker_transitions_total", from_state=f, to_state=t)
                   for f, t in [("closed", "open"), ("open", "half_open"), ("half_open", "closed")]}
    assert transitions == {("closed", "open"): 1, ("open", "half_open"): 1, ("half_open", "closed"): 1}
    assert total(at[1], "trades_total") == total(readings(timeline, [START + 10])[0], "trades_total")


def test_same_seed_gives_the_same_traffic_and_another_seed_different_traffic() -> None:
    def first(seed: int) -> list[object]:
        return list(itertools.islice(generate(SCENARIOS["tour"], rate=100, seed=seed, start=START), 2000))

    assert first(1) == first(1)
    assert first(1) != first(2)


def test_repeat_loops_the_timeline_with_time_moving_on() -> None:
    items = generate((Phase("normal", 2),), rate=10, seed=1, start=START, repeat=True)
    times = [item.ts if isinstance(item, Snapshot) else item["ts"] for item in itertools.islice(items, 200)]
    assert times == sorted(times)
    assert times[-1] > START + 10


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("normal 60s, node_latency_spike 90s, normal 60s",
         (Phase("normal", 60), Phase("node_latency_spike", 90), Phase("normal", 60))),
        ("failure_burst 2m", (Phase("failure_burst", 120),)),
        ("mev_wave", SCENARIOS["mev_wave"]),
    ],
)
def test_scenario_is_a_name_or_a_written_timeline(text: str, expected: Timeline) -> None:
    assert scenario(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("stampede", "unknown scenario 'stampede'"),
        ("normal 60s, stampede 30s", "phase 2: unknown phase 'stampede'"),
        ("normal sixty", "unknown scenario"),
        ("normal 60s, failure_burst", "phase 2 'failure_burst'"),
        ("normal 0s", "duration must be > 0"),
    ],
)
def test_bad_scenario_is_refused_naming_the_phase(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        scenario(text)
