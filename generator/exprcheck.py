"""Free PromQL from the spec (``expr`` signals), read with a real PromQL parser before anything is written.

``promql-parser`` is the Rust parser GreptimeDB uses, which follows Prometheus's grammar; it finds
syntax errors (``avg by (job) (up``) and gives the selectors, whose metric names the spec's metric
contract must know. Anything it lets through that Prometheus would still refuse (a function newer
than the installed Prometheus) is caught by ``promtool check rules`` before ``generate`` writes.

Example::

    >>> read("avg by (job) (avg_over_time(up{job='x'}[1d]))").selectors
    (Selected(metric='up', labels=('job',)),)
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import promql_parser

# Labels Prometheus adds to every scraped series, so a selector may match them on any metric.
TARGET_LABELS = ("job", "instance")


@dataclass(frozen=True)
class Selected:
    """One vector selector: its metric name (None when it has none) and the labels it matches on."""

    metric: str | None
    labels: tuple[str, ...]
    name_regex: bool = False
    # The labels it matches with ``=``, and their values (``job="defi-monitor"``).
    equal: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Reading:
    """What the parser made of an expression: an error, or its selectors."""

    error: str | None = None
    selectors: tuple[Selected, ...] = field(default=())


# Node types whose value is not an instant vector or a scalar: a rule cannot record them.
_NOT_RECORDABLE = {
    promql_parser.MatrixSelector: "a range vector",
    promql_parser.SubqueryExpr: "a range vector",
    promql_parser.StringLiteral: "a string",
}


@functools.lru_cache(maxsize=1024)
def read(expr: str) -> Reading:
    """Parse ``expr``; a syntax error or a result a recording rule cannot hold comes back as ``error``."""
    try:
        tree = promql_parser.parse(expr)
    except ValueError as exc:
        return Reading(error=f"PromQL syntax error: {exc}")
    top = tree
    while isinstance(top, promql_parser.ParenExpr):
        top = top.expr
    kind = _NOT_RECORDABLE.get(type(top))
    if kind is not None:
        return Reading(error=f"the expression is {kind}; a recording rule needs an instant vector "
                             "(wrap it in a function such as rate() or avg_over_time())")
    found: list[Selected] = []

    def visit(node: promql_parser.Expr) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            labels, name, regex, equal = [], node.name, False, []
            for m in node.matchers.matchers:
                if m.name == "__name__":
                    if m.op == promql_parser.MatchOp.Equal:
                        name = m.value
                    else:
                        regex = True
                else:
                    labels.append(m.name)
                    if m.op == promql_parser.MatchOp.Equal:
                        equal.append((m.name, m.value))
            found.append(Selected(name, tuple(labels), regex, tuple(equal)))

    promql_parser.walk(tree, visit)
    return Reading(selectors=tuple(found))
