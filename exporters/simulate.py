"""Deterministic trading traffic that drives each alert of the default spec across its threshold and back.

Pure: ``generate(timeline, rate=..., seed=..., start=...)`` yields events (JSON objects of
``trade_event.schema.json``) and dashboard snapshots over *simulated* time, with no clock, I/O or
global state; the same arguments give the same items. ``exporters.simulate_io`` paces them in real
time, into Redis (``tradewatch simulate``) or straight into the exporter (``--source simulate``).

A timeline is a sequence of phases, each a set of conditions held for some seconds: by name from
``SCENARIOS`` or written out, ``"normal 60s, node_latency_spike 90s, normal 60s"``.

Example::

    >>> from itertools import islice
    >>> items = generate(scenario("failure_burst"), rate=100, seed=1, start=1_700_000_000.0)
    >>> [item["type"] for item in islice(items, 3) if isinstance(item, dict)]
    ['resources', 'connections', 'connections']
"""

from __future__ import annotations

import itertools
import math
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Final

from exporters.catalogue import BREAKER_STATES
from exporters.events import VERSION, Event

STATUS_INTERVAL: Final = 1.0  # seconds between resources events
SNAPSHOT_EVERY: Final = 5  # status ticks between connections events and dashboard snapshots
MEMORY_LIMIT_BYTES: Final = 4 * 1024**3
PAIRS: Final = ("SOL/USDC", "JUP/USDC", "BONK/SOL", "WIF/USDC", "RAY/SOL", "SOL/USDT")
# Share of the event rate per kind of event; trades are 40% of all events.
_MIX: Final = (("trade", 0.40), ("solana_node", 0.25), ("jupiter_api", 0.15), ("database_write", 0.10),
               ("mev", 0.10))
_KINDS: Final = tuple(kind for kind, _ in _MIX)
_CUMULATIVE: Final = tuple(itertools.accumulate(share for _, share in _MIX))
_Z99: Final = 2.3263  # standard normal 99th percentile, for the snapshot's P99s


@dataclass(frozen=True)
class Snapshot:
    """The ``dashboard:*`` values the engine pushes every 5 s (keys without the prefix), then publishes."""

    ts: float
    values: dict[str, str]


Item = Event | Snapshot


@dataclass(frozen=True)
class Conditions:
    """What the engine goes through during a phase. Latencies are log-normal: (median seconds, sigma)."""

    trade_latency: tuple[float, float] = (0.020, 0.3)
    node_latency: tuple[float, float] = (0.015, 0.5)
    jupiter_latency: tuple[float, float] = (0.045, 0.4)
    db_write_latency: tuple[float, float] = (0.002, 0.5)
    failure_ratio: float = 0.01
    mev_avoided_ratio: float = 0.95
    slippage_within_ratio: float = 0.92  # share of trades whose slippage error is <= 0.1
    memory_ratio: float = 0.55
    cpu_percent: float = 35.0
    postgres_connections: int = 8
    trips_breaker: bool = False  # open at the start, half-open at 40%, closed at 70% of the phase


_NORMAL = Conditions()
PHASES: Final[dict[str, Conditions]] = {
    "normal": _NORMAL,
    "node_latency_spike": replace(_NORMAL, node_latency=(0.150, 0.5)),  # P99 ~ 480 ms
    "slow_execution": replace(_NORMAL, trade_latency=(0.090, 0.4)),  # 40% of trades over 100 ms
    "failure_burst": replace(_NORMAL, failure_ratio=0.15),
    "mev_wave": replace(_NORMAL, mev_avoided_ratio=0.40),
    "slippage_drift": replace(_NORMAL, slippage_within_ratio=0.30),
    "memory_pressure": replace(_NORMAL, memory_ratio=0.90),
    "db_connection_lost": replace(_NORMAL, postgres_connections=0),
    "breaker_trip": replace(_NORMAL, trips_breaker=True),
}


@dataclass(frozen=True)
class Phase:
    name: str
    seconds: float

    def __str__(self) -> str:
        return f"{self.name} {self.seconds:g}s"


Timeline = tuple[Phase, ...]

# Sized for the default spec (tradewatch.yaml): each anomaly lasts long enough for its alert's window
# and `for:` to fire it, and the recovery after it long enough for the alert to resolve.
_ANOMALIES: Final = {
    "node_latency_spike": (180, 360),
    "breaker_trip": (180, 120),
    "db_connection_lost": (180, 120),
    "failure_burst": (480, 360),
    "slow_execution": (420, 360),
    "memory_pressure": (420, 120),
    "mev_wave": (1080, 900),
    "slippage_drift": (1080, 900),
}
_LEAD_IN: Final = Phase("normal", 120)
SCENARIOS: Final[dict[str, Timeline]] = {
    "normal": (Phase("normal", 600),),
    **{name: (_LEAD_IN, Phase(name, on), Phase("normal", off)) for name, (on, off) in _ANOMALIES.items()},
    "tour": (_LEAD_IN, *(p for name, (on, off) in _ANOMALIES.items()
                         for p in (Phase(name, on), Phase("normal", off)))),
}

_PHASE_TEXT = re.compile(r"^\s*([a-z_]+)\s+(\d+(?:\.\d+)?)\s*(s|m)?\s*$")


def describe(timeline: Timeline) -> str:
    return ", ".join(map(str, timeline))


def name_of(timeline: Timeline) -> str:
    """The scenario's name if it has one, else its phases."""
    return next((name for name, named in SCENARIOS.items() if named == timeline), describe(timeline))


def scenario(text: str) -> Timeline:
    """A named scenario or a timeline written out ("normal 60s, failure_burst 2m"); ValueError if neither."""
    if text in SCENARIOS:
        return SCENARIOS[text]
    if "," not in text and _PHASE_TEXT.match(text) is None:
        raise ValueError(f"unknown scenario {text!r}; named scenarios: {', '.join(SCENARIOS)}; "
                         f"or write a timeline: 'normal 60s, failure_burst 120s'")
    phases = []
    for i, part in enumerate(text.split(","), start=1):
        match = _PHASE_TEXT.match(part)
        if match is None:
            raise ValueError(
                f"timeline phase {i} {part.strip()!r}: write '<phase> <seconds>s', e.g. 'normal 60s'"
            )
        name, amount, unit = match.groups()
        if name not in PHASES:
            raise ValueError(f"timeline phase {i}: unknown phase {name!r}; phases: {', '.join(PHASES)}")
        seconds = float(amount) * (60 if unit == "m" else 1)
        if seconds <= 0:
            raise ValueError(f"timeline phase {i}: duration must be > 0, got {part.strip()!r}")
        phases.append(Phase(name, seconds))
    return tuple(phases)


def generate(
    timeline: Timeline, *, rate: float, seed: int, start: float, repeat: bool = False,
) -> Iterator[Item]:
    """Items in time order: ``rate`` events/s from the mix, plus a resources event every second and,
    every 5 s, a connections event per store and a dashboard snapshot. ``repeat`` loops forever."""
    if rate <= 0 or not math.isfinite(rate):
        raise ValueError(f"rate must be a positive number of events per second, got {rate}")
    if not timeline:
        raise ValueError("timeline has no phases")
    sim = _Simulation(random.Random(seed), rate, start)
    phase_start = start
    while True:
        for phase in timeline:
            phase_end = phase_start + phase.seconds
            yield from sim.run(PHASES[phase.name], phase_start, phase_end)
            phase_start = phase_end
        if not repeat:
            return


class _Simulation:
    """State that lasts across phases: the clock of each stream of items, the breaker, the book."""

    def __init__(self, rng: random.Random, rate: float, start: float) -> None:
        self.rng = rng
        self.rate = rate
        self.start = start
        self.slot = 0  # event i falls at start + i / rate; computed, not summed, so time never drifts
        self.status_tick = 0
        self.breaker = "closed"
        self.positions = 12
        self.pnl = 0.0

    def run(self, cond: Conditions, begin: float, end: float) -> Iterator[Item]:
        span = end - begin
        changes = [(begin, "open"), (begin + 0.4 * span, "half_open"), (begin + 0.7 * span, "closed")]
        if not cond.trips_breaker:
            changes = []
        while True:
            next_slot = self.start + self.slot / self.rate
            next_status = self.start + self.status_tick * STATUS_INTERVAL
            next_change = changes[0][0] if changes else math.inf
            t = min(next_slot, next_status, next_change)
            if t >= end:
                return
            if t == next_change:
                yield self.breaker_change(t, changes.pop(0)[1])
            elif t == next_status:
                self.status_tick += 1
                yield from self.status(cond, t)
            else:
                self.slot += 1
                event = self.event(cond, t)
                if event is not None:
                    yield event

    def event(self, cond: Conditions, t: float) -> Event | None:
        rng = self.rng
        kind = rng.choices(_KINDS, cum_weights=_CUMULATIVE)[0]
        if kind == "trade":
            return None if self.breaker == "open" else self.trade(cond, t)  # trading halts while open
        if kind == "mev":
            return self.mev(cond, t)
        if kind == "database_write" and cond.postgres_connections == 0:
            return None  # nothing to write to
        median, sigma = {"solana_node": cond.node_latency, "jupiter_api": cond.jupiter_latency,
                         "database_write": cond.db_write_latency}[kind]
        return _event("latency", t, component=kind, latency_seconds=self.lognormal(median, sigma))

    def trade(self, cond: Conditions, t: float) -> Event:
        rng = self.rng
        failed = rng.random() < cond.failure_ratio
        event = _event("trade", t, pair=rng.choice(PAIRS), status="failed" if failed else "success",
                       latency_seconds=self.lognormal(*cond.trade_latency))
        if not failed:
            expected = round(rng.uniform(0.001, 0.01), 6)
            within = rng.random() < cond.slippage_within_ratio
            error = rng.uniform(0.0, 0.08) if within else rng.uniform(0.15, 0.8)
            event["slippage_expected"] = expected
            event["slippage_actual"] = round(expected * (1 + rng.choice((-1, 1)) * error), 9)
        return event

    def mev(self, cond: Conditions, t: float) -> Event:
        rng = self.rng
        avoided = rng.random() < cond.mev_avoided_ratio
        return _event("mev", t, pair=rng.choice(PAIRS), outcome="avoided" if avoided else "impacted",
                      loss_usd=round(rng.uniform(5, 250), 2),
                      priority_fee_usd=round(rng.uniform(0.02, 0.6), 4))

    def breaker_change(self, t: float, state: str) -> Event:
        before, self.breaker = self.breaker, state
        return _event("breaker", t, from_state=before, to_state=state)

    def status(self, cond: Conditions, t: float) -> Iterator[Item]:
        rng = self.rng
        yield _event("resources", t, memory_limit_bytes=MEMORY_LIMIT_BYTES,
                     memory_bytes=int(MEMORY_LIMIT_BYTES * cond.memory_ratio * rng.uniform(0.98, 1.02)),
                     cpu_percent=round(cond.cpu_percent * rng.uniform(0.8, 1.2), 1))
        if (self.status_tick - 1) % SNAPSHOT_EVERY:
            return
        for store, active in (("questdb", 4), ("postgres", cond.postgres_connections), ("redis", 2)):
            yield _event("connections", t, store=store, active=active)
        self.positions = max(0, self.positions + rng.randint(-2, 2))
        self.pnl = round(self.pnl + rng.gauss(15, 120), 2)
        trades_per_minute = 0.0 if self.breaker == "open" else self.rate * _MIX[0][1] * 60
        yield Snapshot(t, {
            "trade_latency_p99": f"{_p99(cond.trade_latency) * 1000:.0f}",
            "node_latency_p99": f"{_p99(cond.node_latency) * 1000:.0f}",
            "slippage_accuracy": f"{cond.slippage_within_ratio:g}",
            "mev_avoidance_rate": f"{cond.mev_avoided_ratio:g}",
            "trades_per_minute": f"{trades_per_minute:g}",
            "success_rate": f"{1 - cond.failure_ratio:g}",
            "circuit_breaker_state": str(BREAKER_STATES.index(self.breaker)),
            "active_positions": str(self.positions),
            "total_pnl": f"{self.pnl:.2f}",
        })

    def lognormal(self, median: float, sigma: float) -> float:
        return round(self.rng.lognormvariate(math.log(median), sigma), 6)


def _p99(latency: tuple[float, float]) -> float:
    median, sigma = latency
    return median * math.exp(_Z99 * sigma)


def _event(kind: str, t: float, **fields: object) -> Event:
    return {"version": VERSION, "type": kind, "ts": round(t, 6), **fields}
