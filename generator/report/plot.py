"""Panels drawn as the dashboards draw them, with matplotlib (Agg: no display, no downloads).

A panel is its queries' series as lines, its threshold steps as coloured bands with a line at each
step (Grafana's "line+area" threshold style, in the same colours), value mappings as the axis's
labels (closed/open/half_open), and the spans when an alert that reads the panel fired, shaded in
the colour of its severity.

Example::

    figure = draw(panel, series, spans, period)
    png = to_png(figure)
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib
import numpy as np
import numpy.typing as npt

matplotlib.use("Agg")
import matplotlib.dates as mdates
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.colors import PowerNorm
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from generator.humanize import humanize, humanize_1024, humanize_duration, humanize_percentage
from generator.report.panels import Panel, legend
from generator.report.query import Period, Series
from generator.report.stats import Span

SEVERITY_COLOURS = {"critical": "#C4162A", "warning": "#FF780A", "info": "#5794F2"}
# Grafana's classic palette, in its order, for the series lines.
PALETTE = ("#7EB26D", "#EAB839", "#6ED0E0", "#EF843C", "#E24D42", "#1F78C1", "#BA43A9", "#705DA0")
BAND_ALPHA = 0.12
SIZE = (10.0, 3.6)
DPI = 100


@dataclass(frozen=True)
class Drawn:
    """A panel's figure and whether it had any data (a panel without data says so)."""

    panel: Panel
    figure: Figure
    has_data: bool
    alerts: tuple[str, ...]


def unit_formatter(unit: str) -> FuncFormatter:
    def fmt(v: float, _pos: object = None) -> str:
        if unit == "s":
            return humanize_duration(v)
        if unit == "ms":
            return humanize_duration(v / 1000)
        if unit == "percentunit":
            return humanize_percentage(v)
        if unit == "percent":
            return f"{humanize(v)}%"
        if unit == "bytes":
            return humanize_1024(v) + "B"
        return humanize(v)
    return FuncFormatter(fmt)


def _days(times: npt.NDArray[np.float64] | Sequence[float]) -> npt.NDArray[np.float64]:
    """Unix seconds as matplotlib's date numbers (days since its 1970 epoch): no datetime objects,
    which would cost more than the drawing."""
    return np.asarray(times, dtype=np.float64) / 86400.0


def _bands(ax: Axes, panel: Panel) -> None:
    """Threshold steps: a band from each step to the next in its colour, a dashed line at each step."""
    low, high = ax.get_ylim()
    steps = panel.steps
    for i, step in enumerate(steps):
        start = low if step.value is None else step.value
        end = steps[i + 1].value if i + 1 < len(steps) else high
        end = high if end is None else end
        if end > start:
            ax.axhspan(max(start, low), min(end, high), color=step.colour, alpha=BAND_ALPHA, lw=0, zorder=0)
        if step.value is not None and low <= step.value <= high:
            ax.axhline(step.value, color=step.colour, lw=1.2, ls="--", zorder=1)
    ax.set_ylim(low, high)


def _limits(ax: Axes, panel: Panel, values: list[float]) -> None:
    marks = [s.value for s in panel.steps if s.value is not None] + values
    if panel.mappings:
        marks += [v for v, _ in panel.mappings]
    low, high = min(marks), max(marks)
    pad = (high - low) * 0.08 or abs(high) * 0.1 or 1.0
    ax.set_ylim(min(low - pad, 0) if low >= 0 else low - pad, high + pad)


def draw(panel: Panel, series: Sequence[tuple[str, Series]], spans: Sequence[Span], period: Period,
         board_title: str) -> Drawn:
    """``series`` are (legendFormat, series) pairs of the panel's targets, in target order."""
    fig = Figure(figsize=SIZE, dpi=DPI)
    # Fixed margins, room for "half_open" or "1.5 GiB" ticks: tight_layout would draw each figure once more.
    fig.subplots_adjust(left=0.09, right=0.985, top=0.9, bottom=0.14)
    ax = fig.add_subplot()
    ax.set_title(f"{board_title} / {panel.title}", loc="left", fontsize=11)
    ax.set_xlim(period.start / 86400.0, period.end / 86400.0)
    locator = mdates.AutoDateLocator()  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    ax.grid(True, color="#DDDDDD", lw=0.5)
    drawn = [(fmt, s) for fmt, s in series if len(s.values)]
    if not drawn:
        ax.set_ylim(0, 1)
        ax.set_yticks([])
        ax.text(0.5, 0.5, "No data in this period", transform=ax.transAxes, ha="center", va="center",
                fontsize=14, color="#888888")
        return Drawn(panel, fig, False, ())
    if panel.kind == "heatmap" and _heatmap(ax, panel, [s for _, s in drawn], period):
        return Drawn(panel, fig, True, ())
    stepped = panel.kind in ("state-timeline", "stat") and bool(panel.mappings)
    for i, (fmt, s) in enumerate(drawn):
        kwargs = {"color": PALETTE[i % len(PALETTE)], "lw": 1.3, "label": legend(fmt, s.labels), "zorder": 3}
        if stepped:
            ax.step(_days(s.times), s.values, where="post", **kwargs)  # type: ignore[arg-type]
        else:
            ax.plot(_days(s.times), s.values, **kwargs)  # type: ignore[arg-type]
    _limits(ax, panel, [float(v) for _, s in drawn for v in (s.values.min(), s.values.max())])
    _bands(ax, panel)
    if panel.mappings:
        ax.set_yticks([v for v, _ in panel.mappings], [t for _, t in panel.mappings])
    else:
        ax.yaxis.set_major_formatter(unit_formatter(panel.unit))
    names = []
    for span in spans:
        colour = SEVERITY_COLOURS.get(span.severity, "#888888")
        label = f"{span.alert} ({span.severity}) firing"
        first = label not in names
        names.append(label)
        a, b = _days([span.start, span.end])
        ax.axvspan(float(a), float(b), color=colour, alpha=0.22, lw=0, zorder=2, label=label if first else None)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper left", fontsize=7, framealpha=0.85, ncols=2)
    return Drawn(panel, fig, True, tuple(dict.fromkeys(names)))


def _heatmap(ax: Axes, panel: Panel, series: Sequence[Series], period: Period) -> bool:
    """Cumulative ``le`` buckets as Grafana's heatmap draws them (format "heatmap"): each bucket's own
    count (its ``le`` minus the one below), a row per bucket, in the panel's colour scheme."""
    by_le = sorted((float(s.labels["le"]), s) for s in series if "le" in s.labels)
    if not by_le:
        return False
    times = np.unique(np.concatenate([s.times for _, s in by_le]))
    grid = np.zeros((len(by_le), len(times)))
    for row, (_, s) in enumerate(by_le):
        grid[row, np.searchsorted(times, s.times)] = s.values
    cells = np.clip(np.diff(grid, axis=0, prepend=0.0), 0.0, None)
    x = _days(np.append(times, times[-1] + period.step))
    scheme = panel.scheme if panel.scheme in colormaps else "Oranges"
    # Rasterised: in the PDF thousands of cells become one image instead of one path each.
    ax.pcolormesh(x, np.arange(len(by_le) + 1), cells, cmap=scheme, norm=PowerNorm(0.5), shading="flat",
                  rasterized=True)
    fmt = unit_formatter(panel.y_unit)
    ax.set_yticks(np.arange(len(by_le)) + 0.5,
                  ["+Inf" if np.isinf(le) else fmt(le) for le, _ in by_le], fontsize=7)
    return True


def to_png(figure: Figure) -> bytes:
    buf = io.BytesIO()
    figure.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()
