"""An enumerated gauge (circuit breaker: 0 closed, 1 open, 2 half-open), alerting per instance.

The recorded series keeps ``instance``: with one breaker open and another half-open, ``max by (job)``
reads 2 and the open breaker never alerts; per instance, the open one does, and is named.
"""

from __future__ import annotations

from collections.abc import Mapping

from generator import conventions, promql
from generator.humanize import render_value
from generator.kinds.base import Kind, Synthesis, gauge, raw_labels, where
from generator.model import Alert, Signal, State, Tier
from generator.units import Dimension


def _query(signal: Signal) -> State:
    assert isinstance(signal.query, State)
    return signal.query


def state_template(states: tuple[str, ...]) -> str:
    """A Prometheus template printing the state name for $value."""
    branches = "".join(
        f"{'{{ if' if i == 0 else '{{ else if'} eq $value {float(i)!r} }}}}{name}"
        for i, name in enumerate(states)
    )
    return branches + "{{ else }}{{ $value }}{{ end }}"


class StateKind(Kind):
    per_instance = True

    def operation(self, signal: Signal) -> str:
        return conventions.STATE_OP

    def expr(self, signal: Signal) -> str:
        return f"max by ({self.by(signal)}) ({promql.selector(_query(signal).source)})"

    def states(self, signal: Signal) -> tuple[str, ...]:
        return _query(signal).states

    def metrics(self, signal: Signal) -> tuple[str, ...]:
        return (_query(signal).source.metric,)

    def value_range(self, signal: Signal) -> tuple[float, float]:
        return (0.0, float(len(_query(signal).states) - 1))

    def value_template(self, signal: Signal) -> str:
        return state_template(_query(signal).states)

    def render_value(self, signal: Signal, value: float) -> str:
        states = _query(signal).states
        index = int(value)
        if index == value and 0 <= index < len(states):
            return states[index]
        return render_value(Dimension.COUNT, value)

    def describe(self, alert: Alert, tier: Tier, value: str, labels: Mapping[str, str], display: str) -> str:
        job = labels.get(conventions.LEVEL_LABEL, "")
        return f"{alert.signal.title} on {job}{where(labels)} is {value}."

    def synthesise(self, signal: Signal, labels: Mapping[str, str], value: float, step: float,
                   hold: float = 0.0) -> Synthesis:
        source = _query(signal).source
        return Synthesis((gauge(source.metric, raw_labels(labels, source), value),), value)


KIND = StateKind()
