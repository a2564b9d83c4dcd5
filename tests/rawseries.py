"""Raw series as an exporter publishes them, sampled for promtool unit tests.

A scenario is a list of phases, each (minutes it lasts, value): a counter's per-second rate, a
histogram's one observed value per event at a steady rate, or a gauge's reading. The helpers turn
phases into promtool ``input_series`` entries, scrape by scrape.

Example::

    counter('market_data_updates_total{trading_pair="BTC_USDT"}', [(10, 1500.0), (5, 50.0)])
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

STEP_SECONDS = 15  # one scrape every 15s, as the examples evaluate
STEP = f"{STEP_SECONDS}s"
Phases = Sequence[tuple[float, float]]


def _per_scrape(phases: Phases) -> list[float]:
    out: list[float] = []
    for minutes, value in phases:
        out += [value] * round(minutes * 60 / STEP_SECONDS)
    return out


def _series(name: str, labels: dict[str, str], values: Sequence[float]) -> dict[str, Any]:
    inner = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return {"series": f"{name}{{{inner}}}", "values": " ".join(f"{v:g}" for v in values)}


def gauge(name: str, labels: dict[str, str], phases: Phases) -> dict[str, Any]:
    return _series(name, labels, _per_scrape(phases))


def counter(name: str, labels: dict[str, str], phases: Phases) -> dict[str, Any]:
    """A counter growing at each phase's rate (per second), starting from 0."""
    total, values = 0.0, [0.0]
    for rate in _per_scrape(phases):
        total += rate * STEP_SECONDS
        values.append(total)
    return _series(name, labels, values)


def histogram(name: str, labels: dict[str, str], buckets: Sequence[float], per_second: float,
              phases: Phases) -> list[dict[str, Any]]:
    """_bucket, _count and _sum series of ``per_second`` observations of each phase's value."""
    observed = _per_scrape(phases)
    out = []
    for le in [*buckets, math.inf]:
        rates = [per_second if v <= le else 0.0 for v in observed]
        bound = "+Inf" if le == math.inf else f"{le:g}"
        out.append(counter(f"{name}_bucket", {**labels, "le": bound}, [(STEP_SECONDS / 60, r) for r in rates]))
    out.append(counter(f"{name}_count", labels, [(STEP_SECONDS / 60, per_second) for _ in observed]))
    out.append(counter(f"{name}_sum", labels, [(STEP_SECONDS / 60, per_second * v) for v in observed]))
    return out
