"""Seconds since a timestamp gauge last moved (an oracle update, a heartbeat)."""

from __future__ import annotations

import math
from collections.abc import Mapping

from generator import conventions, promql
from generator.kinds.base import Kind, RawSeries, Synthesis, raw_labels
from generator.model import Age, Signal


def _query(signal: Signal) -> Age:
    assert isinstance(signal.query, Age)
    return signal.query


class AgeKind(Kind):
    def operation(self, signal: Signal) -> str:
        return conventions.AGE_OP

    def expr(self, signal: Signal) -> str:
        return f"time() - max by ({self.by(signal)}) ({promql.selector(_query(signal).source)})"

    def metrics(self, signal: Signal) -> tuple[str, ...]:
        return (_query(signal).source.metric,)

    def value_range(self, signal: Signal) -> tuple[float, float]:
        return (0.0, math.inf)

    def synthesise(self, signal: Signal, labels: Mapping[str, str], value: float, step: float,
                   hold: float = 0.0) -> Synthesis:
        source = _query(signal).source
        # A timestamp that keeps `value` seconds behind the clock: it starts at -value and moves
        # with time, so the age holds at every evaluation.
        stamp = RawSeries(source.metric, tuple(raw_labels(labels, source).items()), -value, step, clock=True)
        return Synthesis((stamp,), value)


KIND = AgeKind()
