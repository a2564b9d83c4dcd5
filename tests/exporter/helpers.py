"""Test helpers for the exporter: a real redis-server, polling, event builders."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import redis

from exporters.events import Event
from exporters.redis_source import connect
from generator.procs import ManagedProcess, free_port, tcp_ready

TS = 1_700_000_000.0


@dataclass
class RedisServer:
    """redis-server on a free loopback port, persisting every write (appendfsync always) in ``dir``."""

    dir: Path
    port: int = field(default_factory=free_port)
    proc: ManagedProcess | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = ManagedProcess.start(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir),
             "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--daemonize", "no"],
            ready=tcp_ready(self.port), log_path=self.dir / "redis.log",
        )

    def kill(self) -> None:
        """SIGKILL: what survives is what Redis had fsynced."""
        assert self.proc is not None
        self.proc.kill()

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()

    def client(self) -> redis.Redis:
        return connect(self.url)


def wait_until(predicate: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting until {what}")
        time.sleep(0.01)


class Runnable(Protocol):
    def run(self, stop: threading.Event) -> None: ...


@contextmanager
def running(source: Runnable) -> Iterator[threading.Event]:
    """Run ``source`` in a thread; on exit, stop it and check it stopped."""
    stop = threading.Event()
    thread = threading.Thread(target=source.run, args=(stop,), daemon=True)
    thread.start()
    try:
        yield stop
    finally:
        stop.set()
        thread.join(timeout=10)
        assert not thread.is_alive(), "the source did not stop within 10 s of being asked"


def event(kind: str, ts: float = TS, **fields: Any) -> Event:
    return {"version": 1, "type": kind, "ts": ts, **fields}


def trade(ts: float = TS, *, status: str = "success", latency: float = 0.03, pair: str = "SOL/USDC",
          **fields: Any) -> Event:
    return event("trade", ts, pair=pair, status=status, latency_seconds=latency, **fields)


def benchmark(scenario: str = "trade_throughput_c10", ts: float = TS, **fields: Any) -> Event:
    """A benchmark_result (since version 2) with plausible numbers; ``fields`` override them."""
    result = {"run_started": ts - 60, "scenario": scenario, "duration_seconds": 30.0, "operations": 30_000,
              "operations_per_second": 1000.0, "p50_seconds": 0.012, "p95_seconds": 0.04, "p99_seconds": 0.08,
              "error_ratio": 0.002}
    return {**event("benchmark_result", ts, **{**result, **fields}), "version": 2}


def mev(pair: str, outcome: str, ts: float = TS, **fields: Any) -> Event:
    return event("mev", ts, pair=pair, outcome=outcome, **fields)


def xadd(client: redis.Redis, stream: str, *events: Event | bytes) -> None:
    """Append events as the engine does: one entry per event, its JSON in the ``event`` field."""
    pipe = client.pipeline(transaction=False)
    for e in events:
        pipe.xadd(stream, {"event": e if isinstance(e, bytes) else json.dumps(e)})
    pipe.execute()
