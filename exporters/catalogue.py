"""The one catalogue of metrics that tradewatch's exporter publishes.

The exporter builds its collectors from these definitions and the generator checks every metric a
threshold spec alerts on against them (or against the systems its ``systems`` declare), and takes
the panels' units from them. A metric that is not here is not published by us.

Example::

    >>> CATALOGUE["trades_total"].kind
    'counter'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

MetricKind = Literal["counter", "gauge", "histogram", "stateset"]
# The unit of a metric's *value*, as Prometheus stores it. Display units (ms, %) are derived.
# Milliseconds exist only in other systems' contracts (signals compare seconds: read them via expr).
MetricUnit = Literal[
    "seconds", "milliseconds", "bytes", "ratio", "percent", "usd", "count", "state", "timestamp", "gwei",
]
# Where the exporter serves /metrics unless told otherwise, and where the generated Prometheus config
# scrapes it: the generator reads it here rather than from the exporter's command line.
DEFAULT_PORT = 9105


@dataclass(frozen=True)
class MetricDef:
    """One published metric family, named as it appears on /metrics."""

    name: str
    kind: MetricKind
    unit: MetricUnit
    help: str
    labels: tuple[str, ...] = ()
    buckets: tuple[float, ...] = ()
    # For a gauge holding an enumerated state (0, 1, 2...): the state names, in value order.
    states: tuple[str, ...] = ()

    @property
    def series_names(self) -> tuple[str, ...]:
        """Names of the series this family exposes (histograms expose three)."""
        if self.kind == "histogram":
            return (f"{self.name}_bucket", f"{self.name}_sum", f"{self.name}_count")
        return (self.name,)


BREAKER_STATES = ("closed", "open", "half_open")

# Buckets follow the trading team's documents, with one change: solana_node_latency_seconds gets
# 0.5 and 1.0 above 0.2, because histogram_quantile() never returns more than the highest finite
# bucket, so with 0.2 on top the "node P99 > 200ms" alert could never fire.
_METRICS: tuple[MetricDef, ...] = (
    MetricDef(
        "trade_execution_latency_seconds", "histogram", "seconds",
        "Time from trade decision to confirmed execution.",
        buckets=(0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1.0),
    ),
    MetricDef(
        "solana_node_latency_seconds", "histogram", "seconds",
        "Round-trip latency of Solana RPC node requests.",
        buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.2, 0.5, 1.0),
    ),
    MetricDef(
        "jupiter_api_latency_seconds", "histogram", "seconds",
        "Latency of Jupiter aggregator API calls.",
        buckets=(0.01, 0.05, 0.1, 0.2, 0.5),
    ),
    MetricDef(
        "database_write_latency_seconds", "histogram", "seconds",
        "Latency of trade-record writes to the database.",
        buckets=(0.001, 0.005, 0.01, 0.05),
    ),
    MetricDef(
        "trades_total", "counter", "count",
        "Trades attempted, by outcome.",
        labels=("status",),
    ),
    MetricDef(
        "slippage_error_ratio", "histogram", "ratio",
        "Relative error between expected and actual slippage, |actual - expected| / expected.",
        buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
    ),
    MetricDef(
        "mev_attacks_avoided_total", "counter", "count",
        "MEV attacks (sandwiches) detected and avoided, by token pair.",
        labels=("pair",),
    ),
    MetricDef(
        "mev_attacks_impacted_total", "counter", "count",
        "Trades impacted by an MEV attack, by token pair.",
        labels=("pair",),
    ),
    MetricDef(
        "mev_loss_usd_total", "counter", "usd",
        "Value lost to MEV attacks that impacted our trades, in USD, by token pair.",
        labels=("pair",),
    ),
    MetricDef(
        "mev_loss_avoided_usd_total", "counter", "usd",
        "Estimated value that avoided MEV attacks would have cost, in USD, by token pair.",
        labels=("pair",),
    ),
    MetricDef(
        "priority_fees_paid_usd_total", "counter", "usd",
        "Priority fees paid to land trades ahead of attackers, in USD, by token pair.",
        labels=("pair",),
    ),
    MetricDef(
        "circuit_breaker_state", "gauge", "state",
        "Trading circuit breaker: 0 closed, 1 open, 2 half-open.",
        states=BREAKER_STATES,
    ),
    MetricDef(
        "circuit_breaker_status", "stateset", "state",
        "Trading circuit breaker as a state set: 1 for the current state, 0 for the others.",
        labels=("circuit_breaker_status",),
        states=BREAKER_STATES,
    ),
    MetricDef(
        "circuit_breaker_transitions_total", "counter", "count",
        "Circuit breaker state changes, by the state left and the state entered.",
        labels=("from_state", "to_state"),
    ),
    MetricDef(
        "active_connections", "gauge", "count",
        "Open connections to the engine's stores, by store type (questdb, postgres, redis).",
        labels=("type",),
    ),
    MetricDef("memory_usage_bytes", "gauge", "bytes", "Resident memory of the trading engine."),
    MetricDef("memory_limit_bytes", "gauge", "bytes", "Memory available to the trading engine."),
    MetricDef(
        "cpu_usage_percent", "gauge", "percent",
        "CPU used by the trading engine, in percent of the CPU available to it.",
    ),
    MetricDef("engine_active_positions", "gauge", "count", "Open positions, as the engine last reported."),
    MetricDef("engine_total_pnl_usd", "gauge", "usd", "Total profit and loss in USD, as the engine last reported."),
    MetricDef("engine_trades_per_minute", "gauge", "count", "Trades per minute, as the engine last reported."),
    MetricDef(
        "tradewatch_exporter_source_up", "gauge", "count",
        "1 when the exporter's source (redis or simulate) is reachable, else 0.",
        labels=("source",),
    ),
    MetricDef(
        "tradewatch_exporter_last_event_timestamp_seconds", "gauge", "timestamp",
        "Unix time of the last trade event the exporter counted.",
    ),
    MetricDef(
        "tradewatch_exporter_events_processed_total", "counter", "count",
        "Trade events counted by the exporter.",
    ),
    MetricDef(
        "tradewatch_exporter_events_rejected_total", "counter", "count",
        "Trade events rejected as malformed, by reason; each is parked in the dead-letter stream.",
        labels=("reason",),
    ),
    # Benchmark results (benchmark_result events), the latest per scenario.
    MetricDef("benchmark_operations_per_second", "gauge", "count",
              "Throughput of the latest result of each benchmark scenario, operations per second.",
              labels=("scenario",)),
    MetricDef("benchmark_baseline_operations_per_second", "gauge", "count",
              "The throughput each benchmark scenario is expected to reach, as the runner sent it.",
              labels=("scenario",)),
    MetricDef("benchmark_latency_seconds", "gauge", "seconds",
              "Operation latency percentiles (quantile 0.5, 0.95, 0.99) of the latest result of each scenario.",
              labels=("scenario", "quantile")),
    MetricDef("benchmark_error_ratio", "gauge", "ratio",
              "Failed over all operations in the latest result of each benchmark scenario.", labels=("scenario",)),
    MetricDef("benchmark_duration_seconds", "gauge", "seconds",
              "How long the latest run of each benchmark scenario took.", labels=("scenario",)),
    MetricDef("benchmark_operations", "gauge", "count",
              "Operations completed in the latest run of each benchmark scenario.", labels=("scenario",)),
    MetricDef("benchmark_result_timestamp_seconds", "gauge", "timestamp",
              "Unix time of the latest result of each benchmark scenario.", labels=("scenario",)),
    MetricDef("benchmark_run_started_timestamp_seconds", "gauge", "timestamp",
              "Unix time the latest benchmark run began; it moves once per run."),
)

CATALOGUE: dict[str, MetricDef] = {m.name: m for m in _METRICS}
