"""The panels of the generated Grafana dashboards, read from their JSON as Grafana reads them.

The report draws what the dashboards show: the same queries (template variables replaced by the
values Grafana would give them), legends, units, threshold steps and value mappings. Reading the
dashboard JSON, not the emitter, keeps the report true to whatever the dashboards become.

Example::

    for board in load_dashboards(Path("dashboards")):
        for panel in board.panels:
            print(board.title, panel.title, [t.expr for t in panel.targets])
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.report.query import ReportError

# Grafana's named colours (its classic palette), so a band is the colour the dashboard shows.
NAMED_COLOURS = {
    "green": "#73BF69", "red": "#F2495C", "orange": "#FF9830", "yellow": "#FADE2A", "blue": "#5794F2",
    "purple": "#B877D9", "dark-green": "#37872D", "dark-red": "#C4162A", "dark-orange": "#FA6400",
    "dark-yellow": "#E0B400", "semi-dark-green": "#56A64B", "semi-dark-red": "#E02F44",
    "semi-dark-orange": "#FF780A", "semi-dark-yellow": "#F2CC0C", "light-green": "#96D98D",
    "light-red": "#FF7383", "light-orange": "#FFB357", "light-yellow": "#FFEE52", "text": "#464646",
    "transparent": "#00000000",
}
# Panels that draw no series of their own.
NOT_DRAWN = {"alertlist", "row", "text", "dashlist", "news", "annolist"}


def colour(name: str) -> str:
    """A Grafana colour (named, #hex or rgb()) as a matplotlib colour."""
    if name in NAMED_COLOURS:
        return NAMED_COLOURS[name]
    m = re.fullmatch(r"rgba?\((\d+),\s*(\d+),\s*(\d+)(?:,\s*[\d.]+)?\)", name.strip())
    if m:
        return "#" + "".join(f"{int(c):02X}" for c in m.groups())
    return name if name.startswith("#") else "#808080"


@dataclass(frozen=True)
class Target:
    expr: str
    legend: str


@dataclass(frozen=True)
class Step:
    """A threshold step: from ``value`` (None: from minus infinity) upward the colour is ``colour``."""

    value: float | None
    colour: str


@dataclass(frozen=True)
class Panel:
    id: int
    title: str
    kind: str  # Grafana's panel type: timeseries, stat, state-timeline...
    targets: tuple[Target, ...]
    unit: str
    steps: tuple[Step, ...]
    mappings: tuple[tuple[float, str], ...]  # value -> text (a state name)
    description: str
    scheme: str = "Oranges"  # a heatmap's colour scheme (Grafana's names are matplotlib's)
    y_unit: str = ""  # a heatmap's bucket axis unit

    def reads(self, metric: str) -> bool:
        return any(re.search(rf"(?<![\w:]){re.escape(metric)}(?![\w:])", t.expr) for t in self.targets)


@dataclass(frozen=True)
class Board:
    uid: str
    title: str
    file: str
    panels: tuple[Panel, ...]


def substitute(expr: str, variables: Mapping[str, str]) -> str:
    """Replace ``$name``, ``${name}`` and ``[[name]]`` as Grafana does (longest names first)."""
    def value(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(2) or m.group(3)
        return variables.get(name, m.group(0))
    return re.sub(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]", value, expr)


def _variables(board: dict[str, Any]) -> dict[str, str]:
    """Each dashboard variable at "All" (its allValue, else a match-all regex)."""
    out = {}
    for var in board.get("templating", {}).get("list", []):
        if var.get("type") in ("query", "custom", "textbox", "constant"):
            out[str(var["name"])] = str(var.get("allValue") or ".+")
    return out


def _panel(raw: dict[str, Any], variables: Mapping[str, str]) -> Panel:
    defaults = raw.get("fieldConfig", {}).get("defaults", {})
    steps = tuple(Step(None if s.get("value") is None else float(s["value"]), colour(str(s.get("color", ""))))
                  for s in defaults.get("thresholds", {}).get("steps", []))
    mappings: list[tuple[float, str]] = []
    for m in defaults.get("mappings", []):
        if m.get("type") == "value":
            for key, opt in m.get("options", {}).items():
                try:
                    mappings.append((float(key), str(opt.get("text", key))))
                except ValueError:
                    continue
    targets = tuple(Target(substitute(str(t["expr"]), variables), str(t.get("legendFormat", "")))
                    for t in raw.get("targets", []) if t.get("expr") and not t.get("hide"))
    options = raw.get("options", {})
    return Panel(int(raw.get("id", 0)), str(raw.get("title", "")), str(raw.get("type", "")), targets,
                 str(defaults.get("unit", "")), steps, tuple(sorted(mappings)), str(raw.get("description", "")),
                 str(options.get("color", {}).get("scheme", "Oranges")),
                 str(options.get("yAxis", {}).get("unit", "")))


def parse_board(doc: dict[str, Any], file: str) -> Board:
    variables = _variables(doc)
    panels: list[Panel] = []
    for raw in doc.get("panels", []):
        inner = raw.get("panels", []) if raw.get("type") == "row" else [raw]
        panels += [_panel(p, variables) for p in inner if p.get("type") not in NOT_DRAWN]
    return Board(str(doc.get("uid", "")), str(doc.get("title", file)), file, tuple(panels))


def load_dashboards(directory: Path) -> list[Board]:
    """Every dashboard JSON file in ``directory``, the overview first, then by file name."""
    files = sorted(directory.glob("*.json"), key=lambda p: (p.stem != "overview", p.name))
    if not files:
        raise ReportError(f"{directory}: no dashboard JSON files; run `tradewatch generate` first")
    boards = []
    for path in files:
        try:
            doc = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise ReportError(f"{path}: not a readable dashboard JSON file: {exc}") from None
        if not isinstance(doc, dict):
            raise ReportError(f"{path}: not a Grafana dashboard (the top level is not an object)")
        try:
            boards.append(parse_board(doc, str(path)))
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise ReportError(f"{path}: not a dashboard the report can read: {type(exc).__name__}: {exc}; "
                              "regenerate it with `tradewatch generate`") from None
    return boards


def grafana_variables(step: float, period_seconds: float, scrape_interval: float) -> dict[str, str]:
    """Grafana's built-in interval variables for a graph of ``step`` resolution."""
    rate_interval = max(step + scrape_interval, 4 * scrape_interval)
    return {"__interval": f"{int(step)}s", "__rate_interval": f"{int(rate_interval)}s",
            "__range": f"{int(period_seconds)}s", "__interval_ms": str(int(step * 1000))}


def resolve(panel: Panel, builtins: Mapping[str, str]) -> Panel:
    """``panel`` with Grafana's built-in variables replaced."""
    targets = tuple(Target(substitute(t.expr, builtins), t.legend) for t in panel.targets)
    return dataclasses.replace(panel, targets=targets)


def legend(template: str, labels: Mapping[str, str]) -> str:
    """Grafana's legendFormat: ``{{label}}`` replaced by the series' label value; where that leaves
    nothing (no template, or the series lacks the label), the series' labels, as Grafana shows them."""
    shown = re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: labels.get(m.group(1), ""), template).strip()
    if not shown:
        inner = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()) if k != "__name__")
        return f"{labels.get('__name__', '')}{{{inner}}}"
    return shown
