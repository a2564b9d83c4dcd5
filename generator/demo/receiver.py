"""The alert log: an Alertmanager webhook receiver that writes each notification to the console and to
a rotating log file (the "console + rotating file" channels the trading teams asked for).

Alertmanager posts its webhook JSON (version 4), which names the receiver, to any path (``/alerts``
for the spec's webhook; the demo points every receiver at ``/<name>``).

Example::

    with AlertReceiver.serve("127.0.0.1", 9099, log_file=Path("alerts.log")) as rx:
        ...  # rx.deliveries() lists what arrived
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import Any

LOGGER = "tradewatch.alerts"


@dataclass(frozen=True)
class Delivery:
    """One alert of one notification, as a receiver got it."""

    receiver: str
    status: str  # "firing" or "resolved": the alert's own status
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: str
    received_at: float = field(compare=False)  # time.time() on arrival

    @property
    def alertname(self) -> str:
        return self.labels.get("alertname", "")

    def line(self) -> str:
        """``[CRITICAL] summary — description — Impact: ... — Action: ...`` (the users' own format)."""
        if self.status == "resolved":  # the texts describe the breach; the notice only needs its name
            return f"[RESOLVED] {self.alertname}: {self.annotations.get('summary', '')} (via {self.receiver})"
        parts = [f"[{self.labels.get('severity', 'alert').upper()}] {self.alertname}: "
                 f"{self.annotations.get('summary', '')}"]
        parts += [self.annotations[k] if k == "description" else f"{k.capitalize()}: {self.annotations[k]}"
                  for k in ("description", "impact", "action") if self.annotations.get(k)]
        return " — ".join(parts) + f" (via {self.receiver})"


def parse(receiver: str, body: dict[str, Any], received_at: float) -> list[Delivery]:
    return [
        Delivery(receiver, str(a.get("status", body.get("status", ""))), dict(a.get("labels", {})),
                 dict(a.get("annotations", {})), str(a.get("startsAt", "")), received_at)
        for a in body.get("alerts", [])
    ]


def file_logger(path: Path, max_bytes: int = 1_000_000, backups: int = 5) -> logging.Logger:
    """A logger writing to ``path``, rotated at ``max_bytes`` with ``backups`` old files kept."""
    path.parent.mkdir(parents=True, exist_ok=True)
    logger = logging.getLogger(f"{LOGGER}.{path.resolve()}")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    if not logger.handlers:
        handler = RotatingFileHandler(path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        logger.addHandler(handler)
    return logger


class AlertReceiver:
    """A webhook endpoint on a background thread that records, logs and reports every delivery."""

    def __init__(self, server: ThreadingHTTPServer, logger: logging.Logger | None,
                 on_delivery: Callable[[Delivery], None] | None, log_file: Path | None = None) -> None:
        self.server = server
        self.logger = logger
        self.log_file = log_file
        self.on_delivery = on_delivery
        self._lock = threading.Lock()
        self._deliveries: list[Delivery] = []
        self._thread = threading.Thread(target=server.serve_forever, name="alert-receiver", daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def deliveries(self) -> list[Delivery]:
        with self._lock:
            return list(self._deliveries)

    def wait_for(self, predicate: Callable[[Delivery], bool], timeout: float,
                 count: int = 1) -> list[Delivery]:
        """The deliveries matching ``predicate`` once there are ``count``; [] past ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            found = [d for d in self.deliveries() if predicate(d)]
            if len(found) >= count or time.monotonic() >= deadline:
                return found if len(found) >= count else []
            time.sleep(0.05)

    def record(self, deliveries: list[Delivery]) -> None:
        # Logged before it is seen: whoever waits for a delivery finds it in the log file too.
        if self.logger is not None:
            for d in deliveries:
                self.logger.info(d.line())
        with self._lock:
            self._deliveries.extend(deliveries)
        if self.on_delivery is not None:
            for d in deliveries:
                self.on_delivery(d)

    @classmethod
    @contextmanager
    def serve(cls, host: str, port: int, *, log_file: Path | None = None,
              on_delivery: Callable[[Delivery], None] | None = None,
              max_bytes: int = 1_000_000, backups: int = 5) -> Iterator[AlertReceiver]:
        """Listen on ``host:port`` (port 0: any free one) until the block ends."""
        logger = file_logger(log_file, max_bytes, backups) if log_file else None
        holder: list[AlertReceiver] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                except json.JSONDecodeError:
                    self.send_error(400, "not JSON")
                    return
                # Alertmanager names the receiver in the body; the path's last segment stands in otherwise.
                name = str(body.get("receiver") or self.path.rstrip("/").rsplit("/", 1)[-1] or "webhook")
                holder[0].record(parse(name, body, time.time()))
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # the alert log is the log
                return

        server = ThreadingHTTPServer((host, port), Handler)
        server.daemon_threads = True
        rx = cls(server, logger, on_delivery, log_file)
        holder.append(rx)
        rx._thread.start()
        try:
            yield rx
        finally:
            server.shutdown()
            server.server_close()
            rx._thread.join(timeout=5)
            if logger is not None:
                for handler in list(logger.handlers):
                    handler.close()
                    logger.removeHandler(handler)
