"""Runbook sections for the analysis alerts, appended to docs/runbooks.md by its emitter, so each
SLO, health and regression alert's ``runbook_url`` anchor exists."""

from __future__ import annotations

from generator import conventions
from generator.analysis import health, regression, slo
from generator.model import Spec
from generator.units import format_quantity


def _slo_sections(spec: Spec) -> list[tuple[str, list[str]]]:
    out = []
    for s in spec.analysis.slos if spec.analysis else ():
        name = s.alerts[0].name
        rows = ["| severity | priority | fires when the error budget burns faster than |", "|---|---|---|"]
        rows += [f"| {a.severity} | {a.priority} | {slo._windows_text(a)} |" for a in s.alerts]
        lines = [f"**{s.title}: error budget burning.** Objective {s.objective_display} over {s.period}; "
                 f"{s.description}".rstrip(), "", *rows, ""]
        if s.impact:
            lines += [f"**Impact:** {s.impact}.", ""]
        if s.action:
            lines += [f"**First action:** {s.action}.", ""]
        lines += ["The error ratio (SLI) over a window, here 1h:", "", "```promql",
                  slo.sli_expr(s, "1h"), "```", "", f"[Open the burn rates]({slo.burn_panel_url(spec, s)})", ""]
        out.append((name, lines))
    return out


def _health_sections(spec: Spec) -> list[tuple[str, list[str]]]:
    h = spec.analysis.health if spec.analysis else None
    if h is None:
        return []
    contracts = [f"| {c.name} | {c.max_latency_display} | {c.max_error_rate_display} |" for c in h.components]
    lines = [f"**{h.summary}.** A component's 0-100 health score stays at or below {h.healthy_above:g} for "
             f"{h.for_} ({h.severity}, {h.priority}).", "",
             "| component | max latency | max error rate |", "|---|---|---|", *contracts, "",
             "The score loses up to 50 for mean latency over the contract, up to 30 for an error rate over it, "
             f"and 5 per operation slower than the contract in the last {h.violations_window} (up to 20).", ""]
    if h.action:
        lines += [f"**First action:** {h.action}.", ""]
    lines += [f"[Open the health gauges]({conventions.analysis_dashboard_url(spec, health.AREA, health.GAUGE_PANEL)})",
              ""]
    return [(h.alert, lines)]


def _regression_sections(spec: Spec) -> list[tuple[str, list[str]]]:
    r = spec.analysis.regressions if spec.analysis else None
    out: list[tuple[str, list[str]]] = []
    for kpi in r.kpis if r else ():
        tolerance = regression._tolerance(kpi)
        if kpi.baseline is not None:
            base = format_quantity(kpi.baseline.value, kpi.signal.dim)
            out.append((conventions.kpi_baseline_alert(kpi.name), [
                f"**{kpi.signal.title} {kpi.worse} than its baseline.** Baseline {base}, measured over "
                f"{kpi.baseline.window} before {kpi.baseline.captured_at}; fires when worse by more than "
                f"{tolerance} for {r.for_ if r else ''}.", "",
                "```promql", regression.baseline_expr(spec, kpi), "```", "",
                "**First action:** `tradewatch baseline diff --prometheus URL` lists every KPI against the "
                "baseline; compare with the last deploy. If the change is accepted, capture a new baseline.", ""]))
        out.append((conventions.kpi_week_alert(kpi.name), [
            f"**{kpi.signal.title} {kpi.worse} than a week ago** by more than {tolerance}.", "",
            "```promql", regression.week_expr(spec, kpi), "```", "",
            "**First action:** compare with what changed this week (deploys, config, traffic).", ""]))
    return out


def sections(spec: Spec) -> list[tuple[str, list[str]]]:
    """(alert name, the lines under its heading) for every analysis alert."""
    return [*_slo_sections(spec), *_health_sections(spec), *_regression_sections(spec)]
