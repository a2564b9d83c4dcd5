"""Where each signal's panel sits: ids and grid positions, shared by dashboards and alert links.

An alert's ``dashboard_url`` opens ``viewPanel=<id>``; the id comes from here, so the rule emitter
and the dashboard emitter agree without either reading the other's output.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote_plus

from generator import conventions
from generator.model import Signal, Spec

WIDTH = 12
HEIGHT = 8
STAT_WIDTH = 6
STAT_HEIGHT = 5
COLUMNS = 24
ROW_HEIGHT = 1


@dataclass(frozen=True)
class Slot:
    signal: Signal
    panel_id: int
    x: int
    y: int
    w: int
    h: int


def area_slots(spec: Spec, dashboard: str) -> tuple[Slot, ...]:
    """Two panels a row, in spec order, under the "Alerted signals" row header; ids from 1."""
    signals = spec.signals_on(dashboard)
    per_row = COLUMNS // WIDTH
    return tuple(
        Slot(s, i + 1, (i % per_row) * WIDTH, ROW_HEIGHT + (i // per_row) * HEIGHT, WIDTH, HEIGHT)
        for i, s in enumerate(signals)
    )


def overview_slots(spec: Spec) -> tuple[Slot, ...]:
    """Stats of the signals marked ``overview``, four a row; the alert list goes below them."""
    signals = [s for s in spec.signals if s.overview]
    per_row = COLUMNS // STAT_WIDTH
    return tuple(
        Slot(s, i + 1, (i % per_row) * STAT_WIDTH, (i // per_row) * STAT_HEIGHT, STAT_WIDTH, STAT_HEIGHT)
        for i, s in enumerate(signals)
    )


def panel_of(spec: Spec, signal: Signal) -> int:
    """Id of the panel drawing ``signal`` on its own dashboard."""
    return spec.place_on_dashboard(signal) + 1  # as area_slots numbers them, without laying out the area


def signal_url(spec: Spec, signal: Signal) -> str:
    return conventions.dashboard_url(spec, signal.dashboard, panel_of(spec, signal))


def alert_url(spec: Spec, signal: Signal, labels: Mapping[str, str] | None = None) -> str:
    """The signal's panel with the alerting series' breakdown labels selected in its variables.

    ``labels``: the series' label values (as promtool tests expect them rendered); None gives
    the Prometheus template that renders them, URL-escaped as Go's ``urlquery`` does.
    """
    def value(label: str) -> str:
        if labels is None:
            return f"{{{{ $labels.{label} | urlquery }}}}"
        return quote_plus(labels[label], safe="")
    selected = "".join(f"&var-{label}={value(label)}" for label in signal.by if labels is None or label in labels)
    return signal_url(spec, signal) + selected
