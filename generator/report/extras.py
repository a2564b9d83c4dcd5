"""Sections shown only where the spec has them: SLOs, component health, regressions, benchmarks.

They are found by the names of the recording rules that hold them, so the report needs no knowledge
of the spec sections that make them: a section is a title and a regex over metric names, and the
report lists the last value over the period of every series whose name matches. A spec without
those rules gets no such section.

Example::

    for section in extra_sections(source, period):
        print(section.title, section.rows)
"""

from __future__ import annotations

from dataclasses import dataclass

from generator.report.query import Period, Source

NAME = "tradewatch_metric"


@dataclass(frozen=True)
class Extra:
    title: str
    names: str  # a PromQL regex over __name__
    explain: str


# The rule names the analysis modules record (slo:*, component health, baseline regressions and
# benchmark results); a new family of rules gets a section by a line here.
EXTRAS: tuple[Extra, ...] = (
    Extra("SLO attainment and error budget", r".*:slo_[a-z_]+:.*|slo:.+",
          "attainment over the SLO window and the share of the error budget left"),
    Extra("Component health and trend", r".*:health:score|.*:health_latency_trend:state",
          "0-100 health score per component and its latency trend"),
    Extra("Regressions against the baseline", r".*:baseline_[a-z_]+:.*|baseline:.+",
          "current value against the stored baseline"),
    Extra("Latest benchmark results", r"benchmark_(operations_per_second|latency_seconds|error_ratio)",
          "the last results the benchmark published"),
)


@dataclass(frozen=True)
class ExtraSection:
    extra: Extra
    rows: tuple[tuple[str, str, float], ...]  # (metric, labels, last value)


def extra_sections(source: Source, period: Period, extras: tuple[Extra, ...] = EXTRAS) -> list[ExtraSection]:
    out = []
    window = f"{int(period.seconds)}s"
    for extra in extras:
        # last_over_time drops the metric name; label_replace keeps it in a label of its own first.
        named = f'label_replace({{__name__=~"{extra.names}"}}, "{NAME}", "$1", "__name__", "(.+)")'
        found = source.instant(f"last_over_time({named}[{window}:{int(period.step)}s])", period.end)
        rows = []
        for labels, value in found:
            name = labels.pop(NAME, "")
            labels.pop("__name__", None)
            shown = ", ".join(f"{k}={v}" for k, v in sorted(labels.items()))
            rows.append((name, shown, value))
        if rows:
            out.append(ExtraSection(extra, tuple(sorted(rows))))
    return out
