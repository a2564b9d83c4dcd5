"""What the exporter has counted, and its exposition as the catalogue's metric families.

``Recorder`` is a prometheus_client custom collector: sources call ``record_batch`` with decoded events,
``collect()`` yields one ``*MetricFamily`` per catalogue entry. The state is plain ints, floats and
lists behind one lock taken once per batch, not a prometheus_client metric per series: recording an
event then costs about as much as a single ``Histogram.observe``, which takes a lock per value.

Example::

    registry = CollectorRegistry()
    recorder = Recorder(max_pairs=50, sources=("redis",))
    registry.register(recorder)
    recorder.record_batch([decode(raw) for raw in raws])
    registry.get_sample_value("trades_total", {"status": "failed"})
"""

from __future__ import annotations

import logging
import math
import threading
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Final, TypeVar

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
    StateSetMetricFamily,
)
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from exporters.catalogue import BREAKER_STATES, CATALOGUE, MetricDef
from exporters.events import REJECT_REASONS, Event

log = logging.getLogger(__name__)

DEFAULT_MAX_PAIRS: Final = 50
OTHER_PAIR: Final = "other"

# dashboard:<key> snapshot values the engine pushes every 5 s, and the gauge each one sets. The
# others it pushes (P99s, rates) are left alone on purpose: Prometheus computes them from the
# histograms and counters over any window, and a second, engine-computed copy would disagree with
# the alerts.
SNAPSHOT_GAUGES: Final = {
    "active_positions": "engine_active_positions",
    "total_pnl": "engine_total_pnl_usd",
    "trades_per_minute": "engine_trades_per_minute",
}
# DOMAIN.md names the key circuit_breaker_state; the engine's own code writes circuit_breaker_status
# with Rust's Debug names (Closed, Open, HalfOpen). Either is read.
BREAKER_SNAPSHOT_KEYS: Final = ("circuit_breaker_state", "circuit_breaker_status")
SNAPSHOT_KEYS: Final = (*SNAPSHOT_GAUGES, *BREAKER_SNAPSHOT_KEYS)

_RESOURCE_GAUGES: Final = ("memory_usage_bytes", "memory_limit_bytes", "cpu_usage_percent")
_LATENCY_METRICS: Final = {
    "solana_node": "solana_node_latency_seconds",
    "jupiter_api": "jupiter_api_latency_seconds",
    "database_write": "database_write_latency_seconds",
}
_BREAKER_NAMES: Final = {
    **{state.replace("_", ""): state for state in BREAKER_STATES},
    **{str(i): state for i, state in enumerate(BREAKER_STATES)},
}
# Per-pair MEV row: indexes into the list kept for each pair label.
_AVOIDED, _IMPACTED, _LOSS, _LOSS_AVOIDED, _FEES = range(5)
_MEV_METRICS: Final = (
    "mev_attacks_avoided_total", "mev_attacks_impacted_total", "mev_loss_usd_total",
    "mev_loss_avoided_usd_total", "priority_fees_paid_usd_total",
)


class _Histogram:
    """Non-cumulative bucket counts (the last is +Inf) and the sum, for one catalogue histogram."""

    __slots__ = ("bounds", "counts", "definition", "le", "sum")

    def __init__(self, definition: MetricDef) -> None:
        self.definition = definition
        self.bounds = definition.buckets
        self.le = (*map(floatToGoString, definition.buckets), "+Inf")
        self.counts = [0] * (len(definition.buckets) + 1)
        self.sum = 0.0

    def observe(self, value: float) -> None:
        # bisect_left: a value equal to a bound belongs to that bucket (le means <=).
        self.counts[bisect_left(self.bounds, value)] += 1
        self.sum += value

    def family(self, counts: Sequence[int], total: float) -> HistogramMetricFamily:
        family = HistogramMetricFamily(self.definition.name, self.definition.help)
        cumulative, running = [], 0
        for le, count in zip(self.le, counts, strict=True):
            running += count
            cumulative.append((le, float(running)))
        family.add_metric([], cumulative, total)
        return family


def parse_breaker_state(value: str) -> str:
    """closed/open/half_open from 0/1/2 or any spelling of the names (HalfOpen, half-open)."""
    key = value.strip().lower().replace("_", "").replace("-", "")
    if key not in _BREAKER_NAMES:
        raise ValueError(f"not a circuit breaker state: {value!r}")
    return _BREAKER_NAMES[key]


class Recorder(Collector):
    """The exporter's counts; a prometheus_client collector over them."""

    def __init__(self, *, max_pairs: int = DEFAULT_MAX_PAIRS, sources: Sequence[str] = ("redis",)) -> None:
        if max_pairs < 0:
            raise ValueError(f"max_pairs must be >= 0, got {max_pairs}")
        self._lock = threading.Lock()
        self._max_pairs = max_pairs
        self._trades = {"success": 0, "failed": 0}
        self._trade_latency = _Histogram(CATALOGUE["trade_execution_latency_seconds"])
        self._slippage = _Histogram(CATALOGUE["slippage_error_ratio"])
        self._latency = {c: _Histogram(CATALOGUE[name]) for c, name in _LATENCY_METRICS.items()}
        self._mev: dict[str, list[float]] = {}
        self._admitted_pairs = 0
        self._breaker: str | None = None
        self._breaker_from_events = False
        self._transitions = {(a, b): 0 for a in BREAKER_STATES for b in BREAKER_STATES if a != b}
        self._connections: dict[str, int] = {}
        self._gauges: dict[str, float] = {}
        self._processed = 0
        self._rejected = dict.fromkeys(REJECT_REASONS, 0)
        self._last_ts = 0.0
        self._source_up = dict.fromkeys(sources, 0)
        self._benchmarks: dict[str, Event] = {}
        self._run_started = 0.0
        self._handlers: dict[str, Callable[[Event], None]] = {
            "trade": self._trade, "latency": self._latency_sample, "mev": self._mev_outcome,
            "breaker": self._breaker_change, "connections": self._connections_count,
            "resources": self._resources, "benchmark_result": self._benchmark,
        }

    # --- recording; callers hold no lock, record_batch takes it once ---

    def record_batch(self, events: Iterable[Event], rejected: Iterable[str] = ()) -> None:
        """Count valid events, and rejected ones by reason (one of REJECT_REASONS)."""
        handlers = self._handlers
        with self._lock:
            processed, last_ts = self._processed, self._last_ts
            for event in events:
                handlers[event["type"]](event)
                processed += 1
                last_ts = max(last_ts, event["ts"])
            self._processed, self._last_ts = processed, last_ts
            for reason in rejected:
                self._rejected[reason] += 1

    def _trade(self, e: Event) -> None:
        self._trades[e["status"]] += 1
        self._trade_latency.observe(e["latency_seconds"])
        expected = e.get("slippage_expected")
        if expected is not None:
            self._slippage.observe(abs(e["slippage_actual"] - expected) / expected)

    def _latency_sample(self, e: Event) -> None:
        self._latency[e["component"]].observe(e["latency_seconds"])

    def _mev_outcome(self, e: Event) -> None:
        row = self._mev.get(e["pair"]) or self._admit(e["pair"])
        if e["outcome"] == "avoided":
            row[_AVOIDED] += 1
            row[_LOSS_AVOIDED] += e.get("loss_usd", 0)
        else:
            row[_IMPACTED] += 1
            row[_LOSS] += e.get("loss_usd", 0)
        row[_FEES] += e.get("priority_fee_usd", 0)

    def _admit(self, pair: str) -> list[float]:
        # Pairs past the cap are not remembered: a faulty engine sending random pairs must not grow
        # memory any more than it grows series.
        if self._admitted_pairs < self._max_pairs:
            self._admitted_pairs += 1
            label = pair
        else:
            label = OTHER_PAIR
        return self._mev.setdefault(label, [0.0] * len(_MEV_METRICS))

    def _breaker_change(self, e: Event) -> None:
        before, after = e["from_state"], e["to_state"]
        if before != after:
            self._transitions[before, after] += 1
        self._breaker = after
        self._breaker_from_events = True

    def _connections_count(self, e: Event) -> None:
        self._connections[e["store"]] = e["active"]

    def _resources(self, e: Event) -> None:
        self._gauges["memory_usage_bytes"] = e["memory_bytes"]
        self._gauges["memory_limit_bytes"] = e["memory_limit_bytes"]
        self._gauges["cpu_usage_percent"] = e["cpu_percent"]

    def _benchmark(self, e: Event) -> None:
        # Scenarios share the pairs' cap: a runner sending random names must not grow series.
        scenario = e["scenario"]
        if scenario not in self._benchmarks and len(self._benchmarks) >= self._max_pairs:
            scenario = OTHER_PAIR
        self._benchmarks[scenario] = e
        self._run_started = max(self._run_started, e["run_started"])

    def apply_snapshot(self, values: Mapping[str, bytes | str | None]) -> None:
        """Take the ``dashboard:*`` values (keyed without the prefix); skip, with a warning, bad ones."""
        gauges: dict[str, float] = {}
        breaker: str | None = None
        for key, raw in values.items():
            if raw is None:
                continue
            text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
            try:
                if key in SNAPSHOT_GAUGES:
                    number = float(text)
                    if not math.isfinite(number):
                        raise ValueError(f"not a finite number: {text!r}")
                    gauges[SNAPSHOT_GAUGES[key]] = number
                elif key in BREAKER_SNAPSHOT_KEYS and breaker is None:
                    breaker = parse_breaker_state(text)
            except ValueError as exc:
                log.warning("ignoring dashboard:%s: %s", key, exc)
        with self._lock:
            self._gauges.update(gauges)
            # The snapshot only seeds the state (after a restart, before any change); from the first
            # breaker event on, events rule, since a snapshot read late would undo a newer change.
            if breaker is not None and not self._breaker_from_events:
                self._breaker = breaker

    def set_source_up(self, source: str, up: bool) -> None:
        with self._lock:
            self._source_up[source] = int(up)

    # --- exposition ---

    def describe(self) -> Iterator[Metric]:
        """The families ``collect`` yields, without samples: a registry refuses a name already taken."""
        for family in self.collect():
            yield Metric(family.name, family.documentation, family.type, family.unit)

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            trades = dict(self._trades)
            histograms = [(h, list(h.counts), h.sum)
                          for h in (self._trade_latency, *self._latency.values(), self._slippage)]
            mev = {pair: list(row) for pair, row in self._mev.items()}
            breaker = self._breaker
            transitions = dict(self._transitions)
            connections = dict(self._connections)
            gauges = dict(self._gauges)
            processed, last_ts = self._processed, self._last_ts
            rejected = dict(self._rejected)
            source_up = dict(self._source_up)
            benchmarks = sorted(self._benchmarks.items())
            run_started = self._run_started

        yield _counter("trades_total", [((status,), n) for status, n in trades.items()])
        for histogram, counts, total in histograms:
            yield histogram.family(counts, total)
        for i, name in enumerate(_MEV_METRICS):
            yield _counter(name, [((pair,), row[i]) for pair, row in sorted(mev.items())])
        state = [] if breaker is None else [((), BREAKER_STATES.index(breaker))]
        yield _gauge("circuit_breaker_state", state)
        status = StateSetMetricFamily("circuit_breaker_status", CATALOGUE["circuit_breaker_status"].help)
        if breaker is not None:
            status.add_metric([], {state: state == breaker for state in BREAKER_STATES})
        yield status
        yield _counter("circuit_breaker_transitions_total", list(transitions.items()))
        yield _gauge("active_connections", [((store,), n) for store, n in sorted(connections.items())])
        for name in (*_RESOURCE_GAUGES, *SNAPSHOT_GAUGES.values()):
            yield _gauge(name, [((), gauges[name])] if name in gauges else [])
        yield _gauge("tradewatch_exporter_source_up", [((s,), up) for s, up in source_up.items()])
        yield _gauge("tradewatch_exporter_last_event_timestamp_seconds", [((), last_ts)] if processed else [])
        yield _counter("tradewatch_exporter_events_processed_total", [((), processed)])
        yield _counter("tradewatch_exporter_events_rejected_total", [((r,), n) for r, n in rejected.items()])
        yield from _benchmark_families(benchmarks, run_started)


_BENCHMARK_FIELDS: Final = {
    "benchmark_operations_per_second": "operations_per_second",
    "benchmark_baseline_operations_per_second": "baseline_operations_per_second",
    "benchmark_error_ratio": "error_ratio",
    "benchmark_duration_seconds": "duration_seconds",
    "benchmark_operations": "operations",
    "benchmark_result_timestamp_seconds": "ts",
}
_BENCHMARK_QUANTILES: Final = (("0.5", "p50_seconds"), ("0.95", "p95_seconds"), ("0.99", "p99_seconds"))


def _benchmark_families(results: Sequence[tuple[str, Event]], run_started: float) -> Iterator[Metric]:
    for name, field in _BENCHMARK_FIELDS.items():
        yield _gauge(name, [((scenario,), e[field]) for scenario, e in results if field in e])
    yield _gauge("benchmark_latency_seconds",
                 [((scenario, q), e[field]) for scenario, e in results for q, field in _BENCHMARK_QUANTILES])
    yield _gauge("benchmark_run_started_timestamp_seconds", [((), run_started)] if results else [])


_Family = TypeVar("_Family", CounterMetricFamily, GaugeMetricFamily)


def _family(kind: type[_Family], name: str, samples: Iterable[tuple[tuple[str, ...], float]]) -> _Family:
    """A family named, described and labelled by its catalogue entry."""
    d = CATALOGUE[name]
    family = kind(d.name, d.help, labels=d.labels)
    for labels, value in samples:
        family.add_metric(labels, value)
    return family


def _counter(name: str, samples: Iterable[tuple[tuple[str, ...], float]]) -> CounterMetricFamily:
    return _family(CounterMetricFamily, name, samples)


def _gauge(name: str, samples: Iterable[tuple[tuple[str, ...], float]]) -> GaugeMetricFamily:
    return _family(GaugeMetricFamily, name, samples)
