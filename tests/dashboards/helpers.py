"""Reading generated dashboards as Grafana would: every panel (rows opened), every query."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml


def boards(spec: Path) -> dict[str, dict[str, Any]]:
    """The spec's generated dashboards by file stem."""
    return {p.stem: json.loads(p.read_text()) for p in sorted((spec.parent / "dashboards").glob("*.json"))}


def panels(board: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel that draws something, including those inside collapsed rows."""
    for panel in board["panels"]:
        if panel["type"] == "row":
            yield from panel["panels"]
        else:
            yield panel


def exprs(board: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(where, PromQL) for every query the dashboard runs: panels, annotations, variables."""
    for panel in panels(board):
        for target in panel.get("targets", []):
            yield f"panel {panel['title']!r} {target['refId']}", target["expr"]
    for annotation in board["annotations"]["list"]:
        if "expr" in annotation:
            yield f"annotation {annotation['name']!r}", annotation["expr"]


def records(spec: Path) -> dict[str, str]:
    """Recording rule name -> expression, from the spec's generated rule files."""
    out = {}
    for path in sorted((spec.parent / "alert_rules").glob("*.rules.yml")):
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                if "record" in rule:
                    out[rule["record"]] = rule["expr"]
    return out


def names_in(expr: str) -> set[str]:
    return set(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", expr))
