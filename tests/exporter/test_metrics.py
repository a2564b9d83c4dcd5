"""What users read on /metrics after the exporter counts events: exact samples from the catalogue."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, Counter

from exporters.catalogue import CATALOGUE
from exporters.metrics import Recorder
from tests.exporter.helpers import TS, benchmark, event, mev, trade


def value(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, labels)


def test_trades_become_exact_counts_latency_buckets_and_slippage_error(
    recorder: Recorder, registry: CollectorRegistry
) -> None:
    recorder.record_batch([
        trade(latency=0.05, slippage_expected=0.01, slippage_actual=0.0104),  # error 0.04
        trade(latency=0.3, slippage_expected=0.01, slippage_actual=0.006),  # error 0.4
        trade(status="failed", latency=2.0),
    ])
    assert value(registry, "trades_total", status="success") == 2
    assert value(registry, "trades_total", status="failed") == 1
    h = "trade_execution_latency_seconds"
    assert [value(registry, f"{h}_bucket", le=le) for le in ("0.025", "0.05", "0.2", "0.5", "1.0", "+Inf")] == [
        0, 1, 1, 2, 2, 3,  # 0.05 sits in le="0.05": buckets are <=
    ]
    assert value(registry, f"{h}_count") == 3
    assert value(registry, f"{h}_sum") == pytest.approx(2.35)
    s = "slippage_error_ratio"
    assert [value(registry, f"{s}_bucket", le=le) for le in ("0.025", "0.05", "0.1", "0.25", "0.5", "+Inf")] == [
        0, 1, 1, 1, 2, 2,  # the failed trade carries no slippage
    ]
    assert value(registry, f"{s}_sum") == pytest.approx(0.44)


def test_latency_samples_land_in_their_components_histogram(recorder: Recorder, registry: CollectorRegistry) -> None:
    recorder.record_batch([
        event("latency", component="solana_node", latency_seconds=0.25),
        event("latency", component="jupiter_api", latency_seconds=0.07),
        event("latency", component="database_write", latency_seconds=0.0005),
    ])
    assert value(registry, "solana_node_latency_seconds_bucket", le="0.2") == 0
    assert value(registry, "solana_node_latency_seconds_bucket", le="0.5") == 1
    assert value(registry, "jupiter_api_latency_seconds_bucket", le="0.05") == 0
    assert value(registry, "jupiter_api_latency_seconds_bucket", le="0.1") == 1
    assert value(registry, "database_write_latency_seconds_bucket", le="0.001") == 1
    assert value(registry, "database_write_latency_seconds_sum") == 0.0005


def test_mev_outcomes_count_by_pair_with_losses_and_fees(recorder: Recorder, registry: CollectorRegistry) -> None:
    recorder.record_batch([
        mev("SOL/USDC", "avoided", loss_usd=100, priority_fee_usd=0.5),
        mev("SOL/USDC", "impacted", loss_usd=40, priority_fee_usd=0.25),
        mev("SOL/USDC", "avoided"),
        mev("JUP/USDC", "impacted", loss_usd=7),
    ])
    sol, jup = {"pair": "SOL/USDC"}, {"pair": "JUP/USDC"}
    assert value(registry, "mev_attacks_avoided_total", **sol) == 2
    assert value(registry, "mev_attacks_impacted_total", **sol) == 1
    assert value(registry, "mev_loss_avoided_usd_total", **sol) == 100
    assert value(registry, "mev_loss_usd_total", **sol) == 40
    assert value(registry, "priority_fees_paid_usd_total", **sol) == 0.75
    # A pair's first impact still exposes its avoided counter, at 0, so avoided/(avoided+impacted) works.
    assert value(registry, "mev_attacks_avoided_total", **jup) == 0
    assert value(registry, "mev_loss_usd_total", **jup) == 7


def test_breaker_change_sets_gauge_state_set_and_transition(recorder: Recorder, registry: CollectorRegistry) -> None:
    assert value(registry, "circuit_breaker_state") is None  # unknown until the engine says
    recorder.record_batch([event("breaker", from_state="closed", to_state="open"),
                           event("breaker", from_state="open", to_state="half_open")])
    assert value(registry, "circuit_breaker_state") == 2
    assert [value(registry, "circuit_breaker_status", circuit_breaker_status=s)
            for s in ("closed", "open", "half_open")] == [0, 0, 1]
    assert value(registry, "circuit_breaker_transitions_total", from_state="closed", to_state="open") == 1
    assert value(registry, "circuit_breaker_transitions_total", from_state="open", to_state="half_open") == 1
    assert value(registry, "circuit_breaker_transitions_total", from_state="half_open", to_state="closed") == 0


def test_connections_and_resources_set_their_gauges(recorder: Recorder, registry: CollectorRegistry) -> None:
    recorder.record_batch([
        event("connections", store="postgres", active=5),
        event("connections", store="postgres", active=0),
        event("resources", memory_bytes=900, memory_limit_bytes=1000, cpu_percent=42.5),
    ])
    assert value(registry, "active_connections", type="postgres") == 0
    assert value(registry, "active_connections", type="questdb") is None
    assert (value(registry, "memory_usage_bytes"), value(registry, "memory_limit_bytes")) == (900, 1000)
    assert value(registry, "cpu_usage_percent") == 42.5


def test_pairs_beyond_the_cap_fold_into_other(recorder: Recorder, registry: CollectorRegistry) -> None:
    pairs = [f"P{i}/USDC" for i in range(10)]
    recorder.record_batch([mev(p, "avoided") for p in pairs] + [mev("P0/USDC", "avoided"), mev("P9/USDC", "avoided")])
    published = {s.labels["pair"]: s.value for m in registry.collect() if m.name == "mev_attacks_avoided"
                 for s in m.samples}
    assert published == {"P0/USDC": 2, "P1/USDC": 1, "P2/USDC": 1, "other": 8}  # the fixture caps at 3


def test_exporter_health_shows_counts_rejections_and_the_last_event_time(
    recorder: Recorder, registry: CollectorRegistry
) -> None:
    assert value(registry, "tradewatch_exporter_source_up", source="redis") == 0
    assert value(registry, "tradewatch_exporter_last_event_timestamp_seconds") is None
    recorder.set_source_up("redis", True)
    recorder.record_batch([trade(ts=TS + 5), trade(ts=TS + 2)], ["invalid_field", "invalid_field", "unknown_type"])
    assert value(registry, "tradewatch_exporter_source_up", source="redis") == 1
    assert value(registry, "tradewatch_exporter_events_processed_total") == 2
    assert value(registry, "tradewatch_exporter_events_rejected_total", reason="invalid_field") == 2
    assert value(registry, "tradewatch_exporter_events_rejected_total", reason="unknown_type") == 1
    assert value(registry, "tradewatch_exporter_events_rejected_total", reason="malformed_json") == 0
    assert value(registry, "tradewatch_exporter_last_event_timestamp_seconds") == TS + 5  # events may arrive late


def test_snapshot_keys_set_engine_gauges_and_seed_the_breaker_until_an_event_moves_it(
    recorder: Recorder, registry: CollectorRegistry
) -> None:
    recorder.apply_snapshot({"active_positions": b"7", "total_pnl": b"-1234.5", "trades_per_minute": None,
                             "circuit_breaker_status": b"HalfOpen"})
    assert value(registry, "engine_active_positions") == 7
    assert value(registry, "engine_total_pnl_usd") == -1234.5
    assert value(registry, "engine_trades_per_minute") is None
    assert value(registry, "circuit_breaker_state") == 2
    recorder.record_batch([event("breaker", from_state="half_open", to_state="closed")])
    recorder.apply_snapshot({"circuit_breaker_state": b"1"})  # written before the change, read after it
    assert value(registry, "circuit_breaker_state") == 0


def test_bad_snapshot_value_is_skipped_and_the_others_kept(
    recorder: Recorder, registry: CollectorRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    recorder.apply_snapshot({"active_positions": b"lots", "total_pnl": b"inf", "trades_per_minute": b"60",
                             "circuit_breaker_state": b"tripped"})
    assert value(registry, "engine_active_positions") is None
    assert value(registry, "engine_total_pnl_usd") is None
    assert value(registry, "engine_trades_per_minute") == 60
    assert value(registry, "circuit_breaker_state") is None
    assert "dashboard:active_positions" in caplog.text
    assert "dashboard:circuit_breaker_state" in caplog.text


def test_every_metric_in_the_catalogue_is_published_with_its_declared_type(
    recorder: Recorder, registry: CollectorRegistry
) -> None:
    recorder.record_batch([
        trade(slippage_expected=0.01, slippage_actual=0.01), mev("SOL/USDC", "impacted"),
        event("breaker", from_state="closed", to_state="open"), event("connections", store="redis", active=1),
        event("resources", memory_bytes=1, memory_limit_bytes=2, cpu_percent=3),
        benchmark(baseline_operations_per_second=900.0),
    ])
    recorder.apply_snapshot({"active_positions": "1", "total_pnl": "2", "trades_per_minute": "3"})
    published = {}
    for family in registry.collect():
        assert family.samples, f"{family.name} has no samples"
        published[family.samples[0].name.removesuffix("_bucket")] = family.type
    assert published == {name: d.kind for name, d in CATALOGUE.items()}


def test_readme_metric_table_matches_the_catalogue() -> None:
    readme = (Path(__file__).resolve().parents[2] / "exporters" / "README.md").read_text()
    table = readme.split("## Metrics")[1].split("\n## ")[0]
    rows = re.findall(r"^\| `([a-z_]+)` \| (\w+) \|([^|]*)\|", table, flags=re.MULTILINE)
    documented = {name: (kind, tuple(re.findall(r"`(\w+)`", labels))) for name, kind, labels in rows}
    assert documented == {name: (d.kind, d.labels) for name, d in CATALOGUE.items()}


def test_a_registry_refuses_a_second_collector_of_the_same_metric_names() -> None:
    registry = CollectorRegistry()
    registry.register(Recorder())
    before = registry.get_sample_value("trades_total", {"status": "success"})

    with pytest.raises(ValueError, match="Duplicated timeseries"):
        registry.register(Recorder())
    with pytest.raises(ValueError, match="Duplicated timeseries"):
        Counter("trades", "a second trades counter", ["status"], registry=registry)
    assert registry.get_sample_value("trades_total", {"status": "success"}) == before == 0.0
