"""Which published metrics a signal or a PromQL text reads: shared by spec validation and emitters.

Kept out of the spec-parsing modules so emitters read only the model (and this), never the parser.

Example::

    metrics_in('rate(trades_total{job=~"$job"}[5m])', contract)  # {'trades_total'}
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from exporters.catalogue import MetricDef
from generator.model import Selector, Signal

_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")


def metrics_in(expr: str, contract: Iterable[MetricDef]) -> set[str]:
    """The contract metrics an expression reads (a histogram counts when any of its series is named)."""
    words = set(_NAME.findall(expr))
    return {m.name for m in contract if words & {m.name, *m.series_names}}


def signal_metrics(signal: Signal) -> set[str]:
    """Series names a signal reads, whatever its kind (read by attribute, so a new kind's selectors
    count as long as it names them ``source``, ``divide_by``, ``numerator``, ``denominator`` or ``metrics``)."""
    names: set[str] = set()
    query: Any = signal.query
    for attr in ("source", "divide_by"):
        sel = getattr(query, attr, None)
        if isinstance(sel, Selector):
            names.add(sel.metric)
    for attr in ("numerator", "denominator"):
        names |= {s.metric for s in getattr(query, attr, ())}
    names |= set(getattr(query, "metrics", ()))
    return names
