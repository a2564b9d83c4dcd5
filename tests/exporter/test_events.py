"""The event contract the engine team codes against: the JSON Schema and the exporter's fast validator agree."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import jsonschema
import pytest

from exporters.events import MAX_EVENT_BYTES, RejectedEvent, SchemaError, compile_schema, decode, load_schema
from exporters.simulate import SCENARIOS, Snapshot, generate
from tests.exporter.helpers import benchmark, event, mev, trade

JSONSCHEMA = jsonschema.Draft202012Validator(load_schema())

GOOD: dict[str, dict[str, Any]] = {
    "trade with slippage": trade(slippage_expected=0.003, slippage_actual=-0.001),
    "failed trade without slippage": trade(status="failed", latency=1.5),
    "integer latency and ts": trade(ts=1_700_000_000, latency=0),
    "node latency": event("latency", component="solana_node", latency_seconds=0.2),
    "database write latency": event("latency", component="database_write", latency_seconds=0.001),
    "mev avoided with loss and fee": mev("SOL/USDC", "avoided", loss_usd=12.5, priority_fee_usd=0.2),
    "mev impacted, defaults": mev("JUP/USDC", "impacted"),
    "breaker opens": event("breaker", from_state="closed", to_state="open"),
    "postgres connection lost": event("connections", store="postgres", active=0),
    "integral float counts as integer": event("connections", store="redis", active=3.0),
    "resources": event("resources", memory_bytes=10, memory_limit_bytes=100, cpu_percent=250.5),
    "trade at version 2": {**trade(), "version": 2},
    "benchmark result": benchmark(),
    "benchmark result with baseline and advice": benchmark(baseline_operations_per_second=900.0,
                                                           recommendations="Raise the RPC pool size."),
}

# (event, reason, the field the message must name)
BAD: dict[str, tuple[Any, str, str]] = {
    "not an object": ([1, 2], "malformed_json", "JSON object"),
    "version 3": ({**trade(), "version": 3}, "unsupported_version", "version"),
    "benchmark result at version 1": ({**benchmark(), "version": 1}, "unsupported_version", "version"),
    "benchmark error ratio over 1": (benchmark(error_ratio=1.5), "invalid_field", "error_ratio"),
    "benchmark without p99": ({k: v for k, v in benchmark().items() if k != "p99_seconds"}, "invalid_field",
                              "p99_seconds"),
    "version missing": ({k: v for k, v in trade().items() if k != "version"}, "unsupported_version", "version"),
    "version true": ({**trade(), "version": True}, "unsupported_version", "version"),
    "unknown type": (event("order"), "unknown_type", "type"),
    "type missing": ({"version": 1, "ts": 1.0}, "unknown_type", "type"),
    "latency missing": ({k: v for k, v in trade().items() if k != "latency_seconds"}, "invalid_field",
                        "latency_seconds"),
    "negative latency": (trade(latency=-0.1), "invalid_field", "latency_seconds"),
    "latency as string": ({**trade(), "latency_seconds": "0.1"}, "invalid_field", "latency_seconds"),
    "latency as bool": (trade(latency=True), "invalid_field", "latency_seconds"),
    "status unknown": (trade(status="pending"), "invalid_field", "status"),
    "empty pair": (trade(pair=""), "invalid_field", "pair"),
    "pair too long": (trade(pair="X" * 65), "invalid_field", "pair"),
    "ts zero": (trade(ts=0), "invalid_field", "ts"),
    "expected slippage without actual": (trade(slippage_expected=0.01), "invalid_field", "slippage_actual"),
    "expected slippage zero": (trade(slippage_expected=0, slippage_actual=0.1), "invalid_field",
                               "slippage_expected"),
    "misspelt field": (trade(latency_ms=30), "invalid_field", "latency_ms"),
    "unknown component": (event("latency", component="rpc", latency_seconds=0.1), "invalid_field", "component"),
    "negative mev loss": (mev("SOL/USDC", "impacted", loss_usd=-5), "invalid_field", "loss_usd"),
    "breaker state misspelt": (event("breaker", from_state="closed", to_state="halfopen"), "invalid_field",
                               "to_state"),
    "unknown store": (event("connections", store="mysql", active=1), "invalid_field", "store"),
    "fractional connection count": (event("connections", store="redis", active=1.5), "invalid_field", "active"),
    "zero memory limit": (event("resources", memory_bytes=1, memory_limit_bytes=0, cpu_percent=1),
                          "invalid_field", "memory_limit_bytes"),
}


def test_published_schema_is_a_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(load_schema())


@pytest.mark.parametrize("name", GOOD)
def test_valid_event_is_accepted_by_the_exporter_and_by_the_schema(name: str) -> None:
    good = GOOD[name]
    assert decode(json.dumps(good).encode()) == good
    JSONSCHEMA.validate(good)


@pytest.mark.parametrize("name", BAD)
def test_invalid_event_is_rejected_with_a_reason_naming_the_field(name: str) -> None:
    bad, reason, field = BAD[name]
    with pytest.raises(RejectedEvent) as caught:
        decode(json.dumps(bad).encode())
    assert (caught.value.reason, field in caught.value.message) == (reason, True), caught.value.message
    assert not JSONSCHEMA.is_valid(bad), "the published schema must reject what the exporter rejects"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (None, "no_event_field"),
        (b"{not json", "malformed_json"),
        (b"\xff\xfe", "malformed_json"),
        (b'{"version":1,"type":"trade","ts":NaN}', "malformed_json"),
        (b'{"version":1,"type":"latency","ts":1e999,"component":"jupiter_api","latency_seconds":1}',
         "invalid_field"),
        (b"[" * 100_000, "malformed_json"),
        (b" " * (MAX_EVENT_BYTES + 1), "malformed_json"),
    ],
    ids=["missing", "not json", "not utf-8", "NaN", "overflows to infinity", "deeply nested", "oversized"],
)
def test_undecodable_entry_is_rejected_not_raised(raw: bytes | None, reason: str) -> None:
    with pytest.raises(RejectedEvent) as caught:
        decode(raw)
    assert caught.value.reason == reason


def test_schema_keyword_the_fast_validator_cannot_check_is_refused_at_import() -> None:
    schema = load_schema()
    schema["$defs"]["pair"]["pattern"] = "^[A-Z]+/[A-Z]+$"
    with pytest.raises(SchemaError, match="pattern"):
        compile_schema(schema)


def test_every_event_the_simulator_writes_follows_the_published_schema() -> None:
    per_type: Counter[str] = Counter()
    for item in generate(SCENARIOS["tour"], rate=2, seed=7, start=1_700_000_000.0):
        if isinstance(item, Snapshot):
            continue
        decode(json.dumps(item).encode())
        per_type[item["type"]] += 1
        if per_type[item["type"]] <= 300 or item["type"] == "breaker":  # jsonschema is slow; sample it
            JSONSCHEMA.validate(item)
    assert set(per_type) == {"trade", "latency", "mev", "breaker", "connections", "resources"}
