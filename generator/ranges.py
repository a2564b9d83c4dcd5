"""The values a signal's recorded series can take, so validation can refuse thresholds it never crosses.

Each signal kind knows its range (``Kind.value_range``); this gives it the questions validation
asks. A threshold outside the range (a
negative rate, a CPU share above 100%) or on its edge in the direction of the alert (``above`` the
highest value a histogram quantile can return, ``below`` 0%) can never fire, however bad things get.

Example::

    >>> value_range(p99_signal)  # buckets up to 0.2s
    ValueRange(low=0.00099, high=0.2)
"""

from __future__ import annotations

from dataclasses import dataclass

from generator import kinds
from generator.model import Signal


@dataclass(frozen=True)
class ValueRange:
    """Closed bounds of a series' values (``-inf``/``inf`` where unbounded)."""

    low: float
    high: float

    def never_crossed(self, op: str, threshold: float) -> bool:
        """True if ``value op threshold`` holds for no value in the range."""
        if op == ">":
            return threshold >= self.high
        if op == "<":
            return threshold <= self.low
        return not self.low <= threshold <= self.high

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high


def value_range(signal: Signal) -> ValueRange:
    """Every value the signal's recording rule can hold, as its kind knows it."""
    low, high = kinds.value_range(signal)
    return ValueRange(low, high)
