"""PromQL for each signal kind, and the alert texts built around it.

Both the rule emitter (which writes Prometheus templates) and the promtool test emitter (which
needs the text Prometheus will render) call ``describe``, so the two cannot drift apart.

Example::

    >>> signal_expr(trade_failure)
    'sum by (job) (rate(trades_total{status="failed"}[5m])) / sum by (job) (rate(trades_total[5m]))'
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from generator import conventions
from generator.model import (
    Absent,
    Age,
    Alert,
    Expr,
    Gauge,
    Increase,
    Quantile,
    Rate,
    Ratio,
    Selector,
    Signal,
    State,
    Tier,
)

_REGEX_SPECIAL = re.compile(r"([\\.^$|?*+()\[\]{}])")


def quote(value: str) -> str:
    """A PromQL string literal (JSON's escaping is PromQL's for the characters that matter)."""
    return json.dumps(value)


def selector(sel: Selector, extra: Sequence[str] = (), suffix: str = "") -> str:
    matchers = list(extra)
    for label, value in sel.match:
        if isinstance(value, tuple):
            alternatives = "|".join(escape_regex(v) for v in value)
            matchers.append(f"{label}=~{quote(alternatives)}")
        else:
            matchers.append(f"{label}={quote(value)}")
    inner = ", ".join(matchers)
    return f"{sel.metric}{suffix}{{{inner}}}" if inner else f"{sel.metric}{suffix}"


def number(value: float) -> str:
    """Shortest text that reads back as the same float: 0.2, 1, 1e-05."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def _sum_of_rates(sels: Sequence[Selector], window: str, by: str) -> str:
    if len(sels) == 1:
        return f"sum by ({by}) (rate({selector(sels[0])}[{window}]))"
    # rate() drops metric names, so two counters with equal labels would collide in one vector;
    # a term label keeps them apart until sum() folds them. A missing counter then counts as 0
    # instead of making the whole sum empty, as `a + b` would.
    terms = " or ".join(
        f'label_replace(rate({selector(s)}[{window}]), "tradewatch_term", "{i}", "", "")'
        for i, s in enumerate(sels)
    )
    return f"sum by ({by}) ({terms})"


def signal_expr(signal: Signal, q: float | None = None) -> str:
    """The expression a signal's recording rule evaluates."""
    by = ", ".join(conventions.group_labels(signal))
    query = signal.query
    if isinstance(query, Quantile):
        inner = f"sum by ({by}, le) (rate({selector(query.source, suffix='_bucket')}[{query.window}]))"
        return f"histogram_quantile({number(query.q if q is None else q)}, {inner})"
    if isinstance(query, Ratio):
        return (f"{_sum_of_rates(query.numerator, query.window, by)} / "
                f"{_sum_of_rates(query.denominator, query.window, by)}")
    if isinstance(query, Rate):
        return f"sum by ({by}) (rate({selector(query.source)}[{query.window}]))"
    if isinstance(query, Gauge):
        expr = f"{query.aggregate} by ({by}) ({selector(query.source)})"
        if query.divide_by:
            expr += f" / {query.aggregate} by ({by}) ({selector(query.divide_by)})"
        return expr
    if isinstance(query, State):
        return f"max by ({by}) ({selector(query.source)})"
    if isinstance(query, Increase):
        return f"sum by ({by}) (increase({selector(query.source)}[{query.window}]))"
    if isinstance(query, Age):
        return f"time() - max by ({by}) ({selector(query.source)})"
    if isinstance(query, Expr):
        return query.expr
    raise ValueError(f"{signal.name}: absence is an alert condition, not a recorded series")


def absent_expr(signal: Signal, job: str) -> str:
    assert isinstance(signal.query, Absent)
    # A selector the metric contract tied to its system already names the job.
    has_job = any(label == conventions.LEVEL_LABEL for label, _ in signal.query.source.match)
    return f"absent({selector(signal.query.source, extra=[] if has_job else [f'job={quote(job)}'])})"


def escape_regex(value: str) -> str:
    """A label value as an RE2 literal, for ``=~`` and ``!~`` alternatives."""
    return _REGEX_SPECIAL.sub(r"\\\1", value)


def alert_expr(signal: Signal, tier: Tier, job: str) -> str:
    """``record op threshold``; per-label thresholds become one union, each label value with its own
    number and the rest with the tier's, so one rule (and one alert identity) serves them all."""
    if isinstance(signal.query, Absent):
        return absent_expr(signal, job)
    record = conventions.record_name(signal)
    assert record is not None
    assert tier.threshold is not None
    if not tier.overrides:
        return f"{record} {tier.op} {number(tier.threshold)}"
    parts = [f"{record}{{{o.label}={quote(o.value)}}} {tier.op} {number(o.threshold)}" for o in tier.overrides]
    rest = []
    for label in sorted({o.label for o in tier.overrides}):
        values = "|".join(escape_regex(o.value) for o in tier.overrides if o.label == label)
        rest.append(f"{label}!~{quote(values)}")
    parts.append(f"{record}{{{', '.join(rest)}}} {tier.op} {number(tier.threshold)}")
    return " or ".join(f"({p})" for p in parts)


def threshold_template(tier: Tier) -> str:
    """The tier's threshold as text; with per-label thresholds, the one for the alerting series."""
    text = tier.display
    for o in reversed(tier.overrides):
        text = f'{{{{ if eq $labels.{o.label} {quote(o.value)} }}}}{o.display}{{{{ else }}}}{text}{{{{ end }}}}'
    return text


def state_template(states: Sequence[str]) -> str:
    """A Prometheus template printing the state name for $value."""
    branches = "".join(
        f"{'{{ if' if i == 0 else '{{ else if'} eq $value {float(i)!r} }}}}{name}"
        for i, name in enumerate(states)
    )
    return branches + "{{ else }}{{ $value }}{{ end }}"


def value_template(signal: Signal) -> str:
    if isinstance(signal.query, State):
        return state_template(signal.query.states)
    return signal.dim.value_template()


def labels_template(signal: Signal) -> dict[str, str]:
    return {label: f"{{{{ $labels.{label} }}}}" for label in conventions.group_labels(signal)}


def describe(alert: Alert, tier: Tier, value: str, labels: dict[str, str], display: str) -> str:
    """The description annotation: measured value, threshold, and which series.

    ``value`` and ``labels`` are templates in rule files and rendered text in tests.
    """
    where = ", ".join(f"{k}={v}" for k, v in labels.items() if k != conventions.LEVEL_LABEL)
    series = f" ({where})" if where else ""
    job = labels.get(conventions.LEVEL_LABEL, "")
    signal = alert.signal
    if isinstance(signal.query, Absent):
        return f"{signal.title}: no {signal.query.source.metric} series from {job} for {tier.for_}."
    if isinstance(signal.query, State):
        return f"{signal.title} on {job}{series} is {value}."
    return f"{signal.title} on {job}{series} is {value} (threshold: {display})."
