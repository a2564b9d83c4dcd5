"""A loopback /metrics endpoint publishing every metric of a spec's contract, with the label values the
spec's queries ask for: the examples' systems have no simulator, so this stands in for them.

Counters grow and histograms observe at a steady rate from the moment the server starts, so rates,
increases and quantiles have data after two scrapes. The text is written by hand rather than through
prometheus_client, which would rename a counter without ``_total`` (the DeFi seed's
``circuit_breaker_triggers``) and so publish a name the contract does not have.

Example::

    with SyntheticExporter(spec.views.contract, label_values(spec, queries)) as address:
        ...  # scrape http://{address}/metrics
"""

from __future__ import annotations

import itertools
import math
import re
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from exporters.catalogue import MetricDef
from generator import conventions
from generator.model import Spec

# Labels Prometheus sets or the exposition format owns: never published by a system.
NOT_PUBLISHED = {"job", "instance", "le"}
# Values a label matched by a pattern (status=~"5..") may take; the first that fits is published.
CANDIDATES = ("200", "500", "404", "true", "false", "success", "failed")
_MATCHER = re.compile(r'(\w+)\s*(=~|=)\s*"([^"]*)"')
_LITERALS = re.compile(r"[\w\-.:/]+(\|[\w\-.:/]+)*")


def label_values(spec: Spec, queries: Iterable[str]) -> dict[str, set[str]]:
    """For each label, the values the spec's selectors, per-label thresholds and queries name, plus
    one they do not (so a filter or a per-label override has a series it must leave alone)."""
    values: dict[str, set[str]] = {}

    def add(label: str, value: str) -> None:
        if label not in NOT_PUBLISHED:
            values.setdefault(label, set()).add(value)

    selectors = [sel for s in spec.signals for sel in conventions.selectors(s.query)]
    selectors += [p.source for p in spec.views.panels if p.source is not None]
    for sel in selectors:
        for label, value in sel.match:
            for v in (value,) if isinstance(value, str) else value:
                add(label, v)
    for alert in spec.alerts:
        for tier in alert.tiers:
            for o in tier.overrides:
                add(o.label, o.value)
    for query in queries:
        for label, op, value in _MATCHER.findall(query):
            if "$" in value:
                continue
            if op == "=" or _LITERALS.fullmatch(value):
                for v in value.split("|"):
                    add(label, v)
            else:
                add(label, next(c for c in CANDIDATES if re.fullmatch(value, c)))
    return values


def _labels(metric: MetricDef, values: Mapping[str, set[str]]) -> list[dict[str, str]]:
    choices = [sorted(values.get(label, set()) | {"other"}) for label in metric.labels]
    return [dict(zip(metric.labels, combo, strict=True)) for combo in itertools.product(*choices)]


def _series(name: str, labels: Mapping[str, str], value: float) -> str:
    inner = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return f"{name}{{{inner}}} {value:.6g}" if inner else f"{name} {value:.6g}"


def exposition(contract: Iterable[MetricDef], values: Mapping[str, set[str]], elapsed: float) -> str:
    """The /metrics text ``elapsed`` seconds after the start: 10 events a second per series."""
    lines: list[str] = []
    events = 10 * elapsed
    for m in contract:
        kind = {"counter": "counter", "histogram": "histogram"}.get(m.kind, "gauge")
        lines += [f"# HELP {m.name} {m.help or m.name}", f"# TYPE {m.name} {kind}"]
        for labels in _labels(m, values):
            if kind == "counter":
                lines.append(_series(m.name, labels, events))
            elif kind == "histogram":
                # Observations spread evenly over the buckets: every quantile lands inside them.
                bounds = [*m.buckets, math.inf]
                for i, le in enumerate(bounds):
                    bound = "+Inf" if le == math.inf else f"{le:g}"
                    lines.append(_series(f"{m.name}_bucket", {**labels, "le": bound}, events * (i + 1) / len(bounds)))
                lines.append(_series(f"{m.name}_count", labels, events))
                lines.append(_series(f"{m.name}_sum", labels, events * m.buckets[len(m.buckets) // 2]))
            else:
                lines.append(_series(m.name, labels, 1.0 + (elapsed % 7)))
    return "\n".join(lines) + "\n"


@contextmanager
def synthetic_exporter(contract: Iterable[MetricDef], values: Mapping[str, set[str]]) -> Iterator[str]:
    """Serve ``exposition`` on a free loopback port; yields ``host:port`` and stops the server on exit."""
    metrics = tuple(contract)
    started = time.monotonic()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = exposition(metrics, values, time.monotonic() - started).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
