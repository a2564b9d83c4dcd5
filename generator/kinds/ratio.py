"""The ratio of two sums of counter rates (failures over trades, attacks avoided over detected)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from generator import conventions, promql
from generator.kinds.base import RawSeries, Synthesis, WindowedKind, counter, matches, raw_labels
from generator.model import Ratio, Selector, Signal

# A label value no selector asks for: a series that counts in the denominator only.
OTHER = "tradewatch_other"
RATE = 1.0
_Raw = tuple[str, dict[str, str]]  # a metric and its labels


def _query(signal: Signal) -> Ratio:
    assert isinstance(signal.query, Ratio)
    return signal.query


def sum_of_rates(sels: Sequence[Selector], window: str, by: str) -> str:
    if len(sels) == 1:
        return f"sum by ({by}) (rate({promql.selector(sels[0])}[{window}]))"
    # rate() drops metric names, so two counters with equal labels would collide in one vector;
    # a term label keeps them apart until sum() folds them. A missing counter then counts as 0
    # instead of making the whole sum empty, as `a + b` would.
    terms = " or ".join(
        f'label_replace(rate({promql.selector(s)}[{window}]), "tradewatch_term", "{i}", "", "")'
        for i, s in enumerate(sels)
    )
    return f"sum by ({by}) ({terms})"


class RatioKind(WindowedKind):
    def operation(self, signal: Signal) -> str:
        return conventions.ratio_op(_query(signal).window)

    def expr(self, signal: Signal) -> str:
        query = _query(signal)
        by = self.by(signal)
        num = sum_of_rates(query.numerator, query.window, by)
        return f"{num} / {sum_of_rates(query.denominator, query.window, by)}"

    def metrics(self, signal: Signal) -> tuple[str, ...]:
        query = _query(signal)
        return tuple(dict.fromkeys(s.metric for s in (*query.numerator, *query.denominator)))

    def _raws(self, signal: Signal, labels: Mapping[str, str]) -> tuple[list[_Raw], list[_Raw]]:
        """Series that count in the numerator, and series that count in the denominator only."""
        query = _query(signal)
        counted: list[_Raw] = []
        for sel in query.numerator:
            if not any(matches(m, lab, sel) for m, lab in counted):
                counted.append((sel.metric, raw_labels(labels, sel)))
        others: list[_Raw] = []
        for sel in query.denominator:
            if any(matches(m, lab, sel) for m, lab in (*counted, *others)
                   if not any(matches(m, lab, n) for n in query.numerator)):
                continue
            candidate = raw_labels(labels, sel)
            for num in query.numerator:
                if num.metric == sel.metric:
                    for label, _ in num.match:
                        if label not in dict(sel.match):
                            candidate[label] = OTHER
            if not any(matches(sel.metric, candidate, n) for n in query.numerator):
                others.append((sel.metric, candidate))
        return counted, others

    @staticmethod
    def _weight(metric: str, labels: Mapping[str, str], sels: Sequence[Selector]) -> int:
        return sum(matches(metric, labels, s) for s in sels)

    def value_range(self, signal: Signal) -> tuple[float, float]:
        query = _query(signal)
        counted, others = self._raws(signal, {})
        num = sum(self._weight(m, lab, query.numerator) for m, lab in counted)
        den = sum(self._weight(m, lab, query.denominator) for m, lab in counted)
        top = num / den if den else math.inf
        return (0.0 if others else top, top)

    def synthesise(self, signal: Signal, labels: Mapping[str, str], value: float, step: float,
                   hold: float = 0.0) -> Synthesis:
        query = _query(signal)
        counted, others = self._raws(signal, labels)
        num = sum(self._weight(m, lab, query.numerator) for m, lab in counted)
        den = sum(self._weight(m, lab, query.denominator) for m, lab in counted)
        den_other = sum(self._weight(m, lab, query.denominator) for m, lab in others)
        lo, hi = self.value_range(signal)
        target = min(max(value, lo), hi)
        # value = a*num / (a*den + b*den_other): counted series at rate a, the others at rate b.
        if target == 0:
            a, b = 0.0, RATE
        elif den_other:
            a, b = RATE, RATE * (num / target - den) / den_other
        else:
            a, b = RATE, 0.0
        series = [counter(m, lab, a, step) for m, lab in counted] + [counter(m, lab, b, step) for m, lab in others]
        made = a * num / (a * den + b * den_other)
        # Numerator and denominator scale alike while rate() warms up: the ratio holds from the 2nd sample.
        return Synthesis(tuple(series), made, first=step, exact=math.isclose(made, value, rel_tol=1e-9))

    def no_traffic(self, signal: Signal, labels: Mapping[str, str], step: float) -> Synthesis | None:
        counted, others = self._raws(signal, labels)
        series: tuple[RawSeries, ...] = tuple(counter(m, lab, 0.0, step) for m, lab in (*counted, *others))
        return Synthesis(series, math.nan, first=step)


KIND = RatioKind()
