"""promtool input series, shared by the analysis tests: label sets and counters in expanding notation."""

from __future__ import annotations

from generator import promql
from generator.model import Selector


def counter(phases: list[tuple[float, int]]) -> str:
    """A counter from 0 rising by ``inc`` per step for ``n`` steps, per (inc, n) phase.

    >>> counter([(0.0, 3), (10.0, 2)])
    '0+0x3 10+10x1'
    """
    parts = []
    value = 0.0
    for i, (inc, n) in enumerate(phases):
        start = value if i == 0 else value + inc
        parts.append(f"{promql.number(round(start, 9))}+{promql.number(round(inc, 9))}x{n if i == 0 else n - 1}")
        value += inc * n
    return " ".join(parts)


def first_match(sel: Selector) -> dict[str, str]:
    """The selector's label matchers, with the first alternative of a regex match."""
    return {k: (v[0] if isinstance(v, tuple) else v) for k, v in sel.match}


def series(name: str, labels: dict[str, str]) -> str:
    return name + "{" + ", ".join(f"{k}={promql.quote(v)}" for k, v in sorted(labels.items())) + "}"
