"""How much a counter grew over a window (triggers today, access attempts in the last hour)."""

from __future__ import annotations

from collections.abc import Mapping

from generator import conventions
from generator.kinds.base import RawSeries, Synthesis, counter, raw_labels
from generator.kinds.rate import RateKind
from generator.model import Increase, Signal
from generator.units import parse_duration


def _query(signal: Signal) -> Increase:
    assert isinstance(signal.query, Increase)
    return signal.query


class IncreaseKind(RateKind):
    function = "increase"

    def operation(self, signal: Signal) -> str:
        return conventions.increase_op(_query(signal).window)

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


KIND = IncreaseKind()
