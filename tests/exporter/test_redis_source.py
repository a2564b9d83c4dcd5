"""Reading the engine's Redis: every event counted exactly once, whatever happens to Redis or to the events."""

from __future__ import annotations

import json
from pathlib import Path

import redis
from prometheus_client import CollectorRegistry

from exporters.metrics import Recorder
from exporters.redis_source import Backoff, RedisSource
from generator.procs import free_port
from tests.exporter.helpers import RedisServer, event, mev, running, trade, wait_until, xadd

STREAM, GROUP, CONSUMER = "tradewatch:events", "tradewatch", "exporter"


def source(recorder: Recorder, url: str) -> RedisSource:
    return RedisSource(recorder, url=url, stream=STREAM, group=GROUP, consumer=CONSUMER, batch=50,
                       block_ms=50, backoff=Backoff(initial=0.05, cap=0.2))


def entries(client: redis.Redis, stream: str) -> list[tuple[bytes, dict[bytes, bytes]]]:
    found: list[tuple[bytes, dict[bytes, bytes]]] = client.xrange(stream)  # type: ignore[assignment]
    return found


def processed(registry: CollectorRegistry) -> float | None:
    return registry.get_sample_value("tradewatch_exporter_events_processed_total")


def test_events_in_the_stream_become_exact_samples(
    redis_server: RedisServer, recorder: Recorder, registry: CollectorRegistry
) -> None:
    client = redis_server.client()
    xadd(client, STREAM,
         trade(latency=0.02), trade(status="failed", latency=0.4),
         mev("SOL/USDC", "impacted", loss_usd=30, priority_fee_usd=0.1),
         event("breaker", from_state="closed", to_state="open"),
         event("connections", store="postgres", active=0))
    with running(source(recorder, redis_server.url)):
        wait_until(lambda: processed(registry) == 5, "the 5 events are counted")
    get = registry.get_sample_value
    assert get("trades_total", {"status": "success"}) == 1
    assert get("trades_total", {"status": "failed"}) == 1
    assert get("trade_execution_latency_seconds_bucket", {"le": "0.025"}) == 1
    assert get("trade_execution_latency_seconds_bucket", {"le": "0.5"}) == 2
    assert get("mev_loss_usd_total", {"pair": "SOL/USDC"}) == 30
    assert get("circuit_breaker_state") == 1
    assert get("active_connections", {"type": "postgres"}) == 0
    info = client.xinfo_groups(STREAM)[0]
    assert (info["pending"], info["entries-read"]) == (0, 5), "every counted event is acknowledged"


def test_events_a_crashed_exporter_left_unacknowledged_are_counted_by_the_next(
    redis_server: RedisServer, recorder: Recorder, registry: CollectorRegistry
) -> None:
    client = redis_server.client()
    xadd(client, STREAM, *(trade() for _ in range(3)))
    client.xgroup_create(STREAM, GROUP, id="0")
    # The previous process read two entries and died before acknowledging them.
    client.xreadgroup(GROUP, CONSUMER, {STREAM: ">"}, count=2)
    xadd(client, STREAM, trade(status="failed"))
    with running(source(recorder, redis_server.url)):
        wait_until(lambda: processed(registry) == 4, "the 2 pending and the 2 new events are counted")
        wait_until(lambda: client.xpending(STREAM, GROUP)["pending"] == 0, "all are acknowledged")
    assert registry.get_sample_value("trades_total", {"status": "success"}) == 3
    assert registry.get_sample_value("trades_total", {"status": "failed"}) == 1


def test_malformed_events_are_counted_parked_with_their_reason_and_do_not_stop_the_exporter(
    redis_server: RedisServer, recorder: Recorder, registry: CollectorRegistry
) -> None:
    client = redis_server.client()
    xadd(client, STREAM, b"{oops", trade(latency=-1), event("order"), trade())
    client.xadd(STREAM, {"payload": "no event field"})
    xadd(client, STREAM, trade(status="failed"))
    with running(source(recorder, redis_server.url)):
        wait_until(lambda: processed(registry) == 2, "the 2 good events are counted")
        wait_until(lambda: client.xpending(STREAM, GROUP)["pending"] == 0, "all are acknowledged")
    rejected = {reason: registry.get_sample_value("tradewatch_exporter_events_rejected_total", {"reason": reason})
                for reason in ("malformed_json", "invalid_field", "unknown_type", "no_event_field")}
    assert rejected == {"malformed_json": 1, "invalid_field": 1, "unknown_type": 1, "no_event_field": 1}
    dead = entries(client, f"{STREAM}:dead")
    parked = [(f[b"reason"], f.get(b"event"), f[b"error"]) for _, f in dead]
    assert [(reason, raw) for reason, raw, _ in parked] == [
        (b"malformed_json", b"{oops"),
        (b"invalid_field", json.dumps(trade(latency=-1)).encode()),
        (b"unknown_type", json.dumps(event("order")).encode()),
        (b"no_event_field", None),
    ]
    assert b"latency_seconds" in parked[1][2], "the parked reason names the field"
    ids = [entry_id for entry_id, _ in entries(client, STREAM)]
    assert [f[b"source_id"] for _, f in dead] == [ids[0], ids[1], ids[2], ids[4]]


def test_redis_down_at_start_shows_the_source_down_then_counts_once_redis_is_up(
    tmp_path: Path, recorder: Recorder, registry: CollectorRegistry
) -> None:
    server = RedisServer(tmp_path, port=free_port())
    up = {"source": "redis"}
    with running(source(recorder, server.url)):
        wait_until(lambda: registry.get_sample_value("tradewatch_exporter_source_up", up) == 0,
                   "the exporter answers, source down")
        try:
            server.start()
            xadd(server.client(), STREAM, trade())
            wait_until(lambda: processed(registry) == 1, "the event is counted after Redis came up")
            assert registry.get_sample_value("tradewatch_exporter_source_up", up) == 1
            server.kill()
            wait_until(lambda: registry.get_sample_value("tradewatch_exporter_source_up", up) == 0,
                       "the source shows down after Redis died")
        finally:
            server.stop()


def test_snapshot_keys_are_read_on_connect_and_on_each_dashboard_update(
    redis_server: RedisServer, recorder: Recorder, registry: CollectorRegistry
) -> None:
    client = redis_server.client()
    client.mset({"dashboard:active_positions": "4", "dashboard:circuit_breaker_status": "Open"})
    with running(source(recorder, redis_server.url)):
        wait_until(lambda: registry.get_sample_value("engine_active_positions") == 4, "read on connect")
        assert registry.get_sample_value("circuit_breaker_state") == 1
        client.mset({"dashboard:active_positions": "9", "dashboard:total_pnl": "88.5"})
        client.publish("dashboard:updated", "1")
        wait_until(lambda: registry.get_sample_value("engine_active_positions") == 9, "read on update")
        assert registry.get_sample_value("engine_total_pnl_usd") == 88.5


def test_stopping_acknowledges_exactly_what_was_counted(
    redis_server: RedisServer, recorder: Recorder, registry: CollectorRegistry
) -> None:
    client = redis_server.client()
    xadd(client, STREAM, *(trade(ts=1.7e9 + i) for i in range(20_000)))
    with running(source(recorder, redis_server.url)):
        wait_until(lambda: (processed(registry) or 0) > 0, "counting has started")
    info = client.xinfo_groups(STREAM)[0]
    counted = processed(registry)
    assert counted is not None
    assert 0 < counted < 20_000, "stopped mid-stream, as the test intends"
    assert info["entries-read"] - info["pending"] == counted, "acknowledged == counted"


def test_consumer_group_lost_with_redis_data_is_recreated(
    redis_server: RedisServer, recorder: Recorder, registry: CollectorRegistry
) -> None:
    client = redis_server.client()
    with running(source(recorder, redis_server.url)):
        xadd(client, STREAM, trade())
        wait_until(lambda: processed(registry) == 1, "the first event is counted")
        client.flushall()  # as a restart without persistence would leave it
        xadd(client, STREAM, trade())
        wait_until(lambda: processed(registry) == 2, "the event after the loss is counted")



def test_events_counted_but_not_yet_acknowledged_are_not_counted_again_on_reconnect(
    redis_server: RedisServer, recorder: Recorder, registry: CollectorRegistry
) -> None:
    admin = redis_server.client()
    xadd(admin, STREAM, *(trade() for _ in range(10)))
    # A user who may read but not acknowledge: every XACK fails after the batch was counted, and the
    # source reconnects and re-reads the same pending entries, again and again.
    admin.acl_setuser("tw", enabled=True, passwords=["+secret"], keys=["*"], channels=["*"],
                      commands=["+@all", "-xack"])
    url = f"redis://tw:secret@127.0.0.1:{redis_server.port}/0"

    def connections() -> int:
        return int(admin.info("stats")["total_connections_received"])

    with running(source(recorder, url)):
        wait_until(lambda: processed(registry) == 10, "the events are counted")
        reconnects_from = connections()
        wait_until(lambda: connections() >= reconnects_from + 6, "the source has re-read them 3 times")
        admin.acl_setuser("tw", enabled=True, commands=["+xack"])
        wait_until(lambda: admin.xpending(STREAM, GROUP)["pending"] == 0, "they are acknowledged at last")
    assert processed(registry) == 10
