"""How much a counter grew over a window (triggers today, access attempts in the last hour)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping

from generator import conventions, promql
from generator.kinds.base import Kind, RawSeries, Synthesis, counter, raw_labels
from generator.model import Increase, Signal
from generator.units import Duration, parse_duration


def _query(signal: Signal) -> Increase:
    assert isinstance(signal.query, Increase)
    return signal.query


class IncreaseKind(Kind):
    def operation(self, signal: Signal) -> str:
        return conventions.increase_op(_query(signal).window)

    def expr(self, signal: Signal) -> str:
        query = _query(signal)
        return f"sum by ({self.by(signal)}) (increase({promql.selector(query.source)}[{query.window}]))"

    def metrics(self, signal: Signal) -> tuple[str, ...]:
        return (_query(signal).source.metric,)

    def window(self, signal: Signal) -> str | None:
        return _query(signal).window

    def with_window(self, signal: Signal, window: str) -> Signal:
        return dataclasses.replace(signal, query=dataclasses.replace(_query(signal), window=Duration(window)))

    def value_range(self, signal: Signal) -> tuple[float, float]:
        return (0.0, math.inf)

    def synthesise(self, signal: Signal, labels: Mapping[str, str], value: float, step: float,
                   hold: float = 0.0) -> Synthesis:
        query = _query(signal)
        window = parse_duration(query.window)
        made = max(value, 0.0)
        metric, base = query.source.metric, raw_labels(labels, query.source)
        if step + hold + step <= window:
            # One jump of `value` at the second sample: increase() reads exactly `value` while the
            # window holds the jump and the zero before it (no extrapolation below a counter's
            # start at zero), then 0. Exact, where a steady climb sums inexact fractions.
            jump = RawSeries(metric, tuple(base.items()), 0.0, 0.0, values=(0.0, made))
            return Synthesis((jump,), made, first=step, last=window, exact=made == value)
        # A counter growing by `value` per window from 0 at t=0: the increase ramps up to `value`
        # while the window fills.
        return Synthesis((counter(metric, base, made / window, step),), made, first=step, ramp=window,
                         exact=made == value)

    def no_traffic(self, signal: Signal, labels: Mapping[str, str], step: float) -> Synthesis | None:
        return self.synthesise(signal, labels, 0.0, step)


KIND = IncreaseKind()
