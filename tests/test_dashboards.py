"""Generated dashboards: a clean modern model, and the alert thresholds on the panels alerts open."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import jsonschema
import pytest
import yaml

from tests.conftest import SPECS, contract, spec_id

LEGACY_KEYS = {"rows", "hideControls", "sharedCrosshair", "style", "__inputs", "gnetId"}


def dashboards(spec: Path) -> dict[str, dict[str, Any]]:
    """Dashboards by uid."""
    out = {}
    for path in sorted((spec.parent / "dashboards").glob("*.json")):
        data = json.loads(path.read_text())
        out[data["uid"]] = data
    return out


def v11_schema() -> dict[str, Any]:
    schema = contract("grafana-dashboard.schema.json")
    # The 11.6 rendering says a threshold value is a number, yet its own description says "Nulls
    # currently appear here when serializing -Infinity"; Grafana writes null for the base step and
    # the newer (main) rendering allows it. Accept exactly that, nothing else.
    schema["definitions"]["Threshold"]["properties"]["value"] = {"anyOf": [{"type": "number"}, {"type": "null"}]}
    # The generic AnnotationQuery knows no data source's own fields; the Prometheus data source reads
    # these beside ``expr`` (grafonnet's prometheus annotation writes the same). Accept exactly them.
    schema["definitions"]["AnnotationQuery"]["properties"].update({
        "titleFormat": {"type": "string"}, "textFormat": {"type": "string"}, "tagKeys": {"type": "string"},
        "useValueForTime": {"type": "boolean"}, "step": {"type": "string"},
    })
    return schema


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_dashboards_validate_against_the_grafana_11_6_schema(spec: Path) -> None:
    validator = jsonschema.Draft7Validator(v11_schema())
    for uid, data in dashboards(spec).items():
        errors = [f"{list(e.absolute_path)}: {e.message[:200]}" for e in validator.iter_errors(data)]
        assert not errors, f"{uid}: {errors}"


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_dashboards_are_modern_with_stable_uids(spec: Path) -> None:
    boards = dashboards(spec)
    assert boards
    for uid, data in boards.items():
        assert data["schemaVersion"] >= 39
        assert not LEGACY_KEYS & set(data), uid
        assert len(uid) <= 40
        assert "tradewatch" in data["tags"]
        types = {p["type"] for p in data["panels"]}
        assert not types & {"graph", "singlestat"}, uid
        assert all("gridPos" in p for p in data["panels"])
        names = [v["name"] for v in data["templating"]["list"]]
        assert "datasource" in names
        ids = [p["id"] for p in data["panels"]]
        assert len(ids) == len(set(ids))


def test_overview_has_breaker_mev_failure_latency_and_firing_alerts() -> None:
    overview = dashboards(SPECS[0])["tw-solana-trader-overview"]
    titles = {p["title"]: p for p in _all_panels(overview)}
    assert {"Circuit breaker state", "MEV avoidance rate", "Trade failure rate",
            "Trade execution P99 latency"} <= set(titles)
    assert any(p["type"] == "alertlist" for p in overview["panels"])
    breaker = titles["Circuit breaker state"]
    mapping = breaker["fieldConfig"]["defaults"]["mappings"][0]["options"]
    assert mapping["1"] == {"text": "open", "color": "red", "index": 1}


def _all_panels(board: dict[str, Any]) -> list[dict[str, Any]]:
    return [q for p in board["panels"] for q in (p["panels"] if p["type"] == "row" else [p])]


def _numbers(expr: str) -> list[float]:
    """The numbers each comparison in an alert expression compares with."""
    return [float(n) for n in re.findall(r"(?:>|<|==)\s*([0-9.eE+-]+)\)?(?:\s|$)", expr)]


def _panel_thresholds(panel: dict[str, Any]) -> set[float]:
    values = {s["value"] for s in panel["fieldConfig"]["defaults"]["thresholds"]["steps"] if s["value"] is not None}
    for override in panel["fieldConfig"].get("overrides", []):
        for prop in override["properties"]:
            if prop["id"] == "thresholds":
                values |= {s["value"] for s in prop["value"]["steps"] if s["value"] is not None}
    return values


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_every_alert_threshold_is_a_step_on_the_panel_its_dashboard_url_opens(spec: Path) -> None:
    boards = dashboards(spec)
    checked = 0
    for rules_file in sorted((spec.parent / "alert_rules").glob("*.rules.yml")):
        for group in yaml.safe_load(rules_file.read_text())["groups"]:
            for rule in group["rules"]:
                url = rule.get("annotations", {}).get("dashboard_url")
                if "alert" not in rule or url is None or rule["expr"].startswith("absent("):
                    continue
                parsed = urlparse(url)
                uid = parsed.path.split("/")[2]
                panel_id = int(parse_qs(parsed.query)["viewPanel"][0])
                panel = next(p for p in _all_panels(boards[uid]) if p["id"] == panel_id)
                steps = _panel_thresholds(panel)
                for number in _numbers(rule["expr"]):
                    assert number in steps, (
                        f"{rule['alert']} ({rule['labels']['severity']}) compares with {number}, but panel "
                        f"{panel['title']!r} of {uid} draws {sorted(steps)}")
                    checked += 1
    assert checked, "no alert thresholds were checked"
