"""The per-second rate of a counter (messages processed, transactions)."""

from __future__ import annotations

import math
from collections.abc import Mapping

from generator import conventions, promql
from generator.kinds.base import Synthesis, WindowedKind, counter, raw_labels
from generator.model import Increase, Rate, Signal
from generator.units import parse_duration


def _query(signal: Signal) -> Rate | Increase:
    assert isinstance(signal.query, Rate | Increase)
    return signal.query


class RateKind(WindowedKind):
    """A counter over a window; ``increase`` is the same kind with another function (its subclass)."""

    function = "rate"

    def operation(self, signal: Signal) -> str:
        return conventions.rate_op(_query(signal).window)

    def expr(self, signal: Signal) -> str:
        query = _query(signal)
        return f"sum by ({self.by(signal)}) ({self.function}({promql.selector(query.source)}[{query.window}]))"

    def metrics(self, signal: Signal) -> tuple[str, ...]:
        return (_query(signal).source.metric,)

    def value_range(self, signal: Signal) -> tuple[float, float]:
        return (0.0, math.inf)

    def synthesise(self, signal: Signal, labels: Mapping[str, str], value: float, step: float,
                   hold: float = 0.0) -> Synthesis:
        query = _query(signal)
        made = max(value, 0.0)
        # A counter from 0 at t=0: rate() does not extrapolate below zero, so until the window is
        # full it reads (samples so far) / window, a ramp up to the counter's slope.
        return Synthesis((counter(query.source.metric, raw_labels(labels, query.source), made, step),),
                         made, first=step, ramp=parse_duration(query.window), exact=made == value)

    def no_traffic(self, signal: Signal, labels: Mapping[str, str], step: float) -> Synthesis | None:
        return self.synthesise(signal, labels, 0.0, step)


KIND = RateKind()
