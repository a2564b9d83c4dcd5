"""Raw PromQL, for what the other kinds cannot say.

No raw series can be derived from arbitrary PromQL, so its tests feed the recorded series itself.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from generator import conventions
from generator.kinds.base import Kind, Synthesis, gauge
from generator.kinds.gauge import dimension_range
from generator.model import Expr, Signal


def _query(signal: Signal) -> Expr:
    assert isinstance(signal.query, Expr)
    return signal.query


class ExprKind(Kind):
    synthesises_raw = False

    def operation(self, signal: Signal) -> str:
        return conventions.EXPR_OP

    def expr(self, signal: Signal) -> str:
        return _query(signal).expr

    def metrics(self, signal: Signal) -> tuple[str, ...]:
        return _query(signal).metrics

    def value_range(self, signal: Signal) -> tuple[float, float]:
        lo, hi = dimension_range(signal.dim)
        return (lo if signal.dim.value in ("ratio", "percent") else -math.inf, hi)

    def synthesise(self, signal: Signal, labels: Mapping[str, str], value: float, step: float,
                   hold: float = 0.0) -> Synthesis:
        record = self.record_name(signal)
        assert record is not None
        return Synthesis((gauge(record, labels, value),), value)


KIND = ExprKind()
