"""Gather everything a report shows: KPIs, alert spans, every dashboard panel drawn, extra sections.

Nothing is written here; ``render`` turns a ``Report`` into bytes and ``write`` puts them on disk.

Example::

    report = build(spec, boards, Source(url), Period.last(86400))
"""

from __future__ import annotations

from dataclasses import dataclass

from generator.kinds import record_name
from generator.model import Spec
from generator.report.extras import ExtraSection, extra_sections
from generator.report.panels import Board, grafana_variables, resolve
from generator.report.plot import Drawn, draw
from generator.report.query import Period, ReportError, Source
from generator.report.stats import Kpi, Span, alert_spans, kpis


@dataclass(frozen=True)
class BoardDrawing:
    board: Board
    panels: tuple[Drawn, ...]


@dataclass(frozen=True)
class Report:
    spec: Spec
    period: Period
    prometheus: str
    kpis: tuple[Kpi, ...]
    spans: tuple[Span, ...]
    boards: tuple[BoardDrawing, ...]
    extras: tuple[ExtraSection, ...]

    def verdict(self) -> str:
        worst = {k.verdict for k in self.kpis}
        for v in ("critical threshold crossed", "warning threshold crossed"):
            if v in worst:
                return v
        return "ok"


def panel_alerts(spec: Spec, spans: list[Span]) -> dict[str, list[Span]]:
    """Spans by the recording rule their alert reads, so a panel showing that rule shades them."""
    by_rule: dict[str, list[Span]] = {}
    alert_rule = {a.name: record_name(a.signal) for a in spec.alerts}
    for span in spans:
        rule = alert_rule.get(span.alert)
        if rule:
            by_rule.setdefault(rule, []).append(span)
    return by_rule


def build(spec: Spec, boards: list[Board], source: Source, period: Period, scrape_interval: float = 15.0) -> Report:
    """Raise ``ReportError`` if Prometheus cannot be read or holds no data of the spec in ``period``."""
    rows = kpis(spec, source, period)
    if not any(k.samples for k in rows):
        raise ReportError(f"Prometheus at {source.url} holds no data of {spec.source} ({spec.title}) "
                          f"from {period.label()}: no sample of any recorded signal for job {spec.job!r}")
    spans = alert_spans(source, period)
    by_rule = panel_alerts(spec, spans)
    builtins = grafana_variables(period.step, period.seconds, scrape_interval)
    drawings = []
    for board in boards:
        drawn = []
        for raw in board.panels:
            panel = resolve(raw, builtins)
            series = [(t.legend, s) for t in panel.targets for s in source.range(t.expr, period)]
            shaded = [s for rule, rs in by_rule.items() if panel.reads(rule) for s in rs]
            drawn.append(draw(panel, series, sorted(shaded, key=lambda s: s.start), period, board.title))
        drawings.append(BoardDrawing(board, tuple(drawn)))
    return Report(spec, period, source.url, tuple(rows), tuple(spans), tuple(drawings),
                  tuple(extra_sections(source, period)))
