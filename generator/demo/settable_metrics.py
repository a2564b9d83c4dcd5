"""A /metrics endpoint whose gauges the caller sets: a breach that starts at an instant we know exactly,
which the stack tests and the detection benchmark measure delays from.

Example::

    with SettableMetrics.serve() as source:
        source.set("circuit_breaker_state", 0)
        ...  # point Prometheus at source.address
        breach = source.set("circuit_breaker_state", 1)   # returns time.time() of the change
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_Key = tuple[str, tuple[tuple[str, str], ...]]


class SettableMetrics:
    def __init__(self, server: ThreadingHTTPServer) -> None:
        self.server = server
        self._lock = threading.Lock()
        self._values: dict[_Key, float] = {}

    @property
    def address(self) -> str:
        host, port = self.server.server_address[:2]
        return f"{host!s}:{port}"

    def set(self, metric: str, value: float, **labels: str) -> float:
        """Set a gauge; the returned ``time.time()`` is when scrapes start seeing the new value."""
        with self._lock:
            self._values[(metric, tuple(sorted(labels.items())))] = value
            return time.time()

    def exposition(self) -> str:
        with self._lock:
            items = sorted(self._values.items())
        lines: list[str] = []
        for (metric, labels), value in items:
            if not any(line == f"# TYPE {metric} gauge" for line in lines):
                lines.append(f"# TYPE {metric} gauge")
            inner = ",".join(f'{k}="{v}"' for k, v in labels)
            lines.append(f"{metric}{{{inner}}} {value!r}" if inner else f"{metric} {value!r}")
        return "\n".join(lines) + "\n"

    @classmethod
    @contextmanager
    def serve(cls, host: str = "127.0.0.1", port: int = 0) -> Iterator[SettableMetrics]:
        holder: list[SettableMetrics] = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = holder[0].exposition().encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        server = ThreadingHTTPServer((host, port), Handler)
        server.daemon_threads = True
        source = cls(server)
        holder.append(source)
        thread = threading.Thread(target=server.serve_forever, name="metrics-source", daemon=True)
        thread.start()
        try:
            yield source
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)


@dataclass(frozen=True)
class Breach:
    """A gauge of the default spec flipped from healthy to bad: what fires ``alert``'s ``severity`` tier."""

    alert: str
    severity: str
    metric: str
    healthy: float
    bad: float
    labels: dict[str, str] = field(default_factory=dict)
    # A `for` to measure with instead of the spec's (1m would make each measurement a minute long).
    for_: str | None = None


BREAKER = Breach("CircuitBreakerOpen", "critical", "circuit_breaker_state", 0, 1)
DATABASE = Breach("DatabaseConnectionLost", "critical", "active_connections", 8, 0, {"type": "postgres"}, "2s")
BREACHES = (BREAKER, DATABASE)
PINNED_FOR = {b.alert: b.for_ for b in BREACHES if b.for_ is not None}


def healthy(source: SettableMetrics) -> None:
    """Every gauge the breaches use at its healthy value, plus the other database, connected."""
    for b in BREACHES:
        source.set(b.metric, b.healthy, **b.labels)
    source.set("active_connections", 4, type="questdb")
