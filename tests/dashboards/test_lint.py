"""The generated dashboards, checked the way grafana/dashboard-linter checks dashboards, plus the
promises a trading team relies on: every published metric is drawn, every breakdown can be
filtered, alerts are marked on the graphs, and per-label thresholds land on their own series."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import yaml

from generator.emit.dashboards import contract_metrics, display_name
from generator.kinds import kind_of
from generator.layout import panel_of
from generator.model import Quantile, Spec
from generator.spec import load
from tests.conftest import SPECS, spec_id
from tests.dashboards.helpers import boards, exprs, names_in, panels, records

UNITLESS = {"alertlist"}


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_every_panel_has_a_unit_and_a_description(spec: Path) -> None:
    for name, board in boards(spec).items():
        for panel in panels(board):
            assert panel.get("description"), f"{name}: panel {panel['title']!r} says nothing about itself"
            if panel["type"] in UNITLESS:
                continue
            assert panel["fieldConfig"]["defaults"].get("unit"), f"{name}: panel {panel['title']!r} has no unit"


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_every_range_is_the_rate_interval(spec: Path) -> None:
    for name, board in boards(spec).items():
        for where, expr in exprs(board):
            for window in re.findall(r"\[([^\]]*)\]", expr):
                assert window == "$__rate_interval", f"{name}: {where} uses [{window}] in {expr}"


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_every_variable_is_used_and_every_panel_uses_the_variables_its_series_carry(spec: Path) -> None:
    model = load(spec)
    label_sets = {m.name: set(m.labels) for m in model.views.contract}
    for name, board in boards(spec).items():
        queries = [e for _, e in exprs(board)]
        variables = [v for v in board["templating"]["list"] if v["type"] == "query"]
        for var in variables:
            assert var["multi"], f"{name}: ${var['name']} is not multi-select"
            assert var["includeAll"], f"{name}: ${var['name']} has no All"
            assert any(f"${var['name']}\"" in q for q in queries), f"{name}: ${var['name']} filters nothing"
        breakdowns = {v["name"] for v in variables} - {"job"}
        for panel in panels(board):
            for target in panel.get("targets", []):
                expr = target["expr"]
                assert 'job=~"$job"' in expr, f"{name}: {panel['title']!r} ignores $job"
                for metric in names_in(expr) & set(label_sets):
                    for label in label_sets[metric] & breakdowns:
                        # A query that pins the label itself (status="success") takes no filter on it.
                        assert re.search(rf"\b{label}=", expr), (
                            f"{name}: {panel['title']!r} reads {metric}, which carries {label}, but ignores ${label}")


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_every_metric_the_watched_systems_publish_is_on_a_panel(spec: Path) -> None:
    model = load(spec)
    rules = records(spec)
    drawn: set[str] = set()
    for board in boards(spec).values():
        for _, expr in exprs(board):
            words = names_in(expr)
            drawn |= words
            for record in words & set(rules):
                drawn |= names_in(rules[record])
    wanted = contract_metrics(model)
    assert wanted
    missing = [m.name for m in wanted if not drawn & {m.name, *m.series_names}]
    assert not missing, f"published but on no panel: {missing}"


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_each_spec_places_every_metric_itself(spec: Path) -> None:
    """Nothing falls into the overview's catch-all row: each metric has its view on an area dashboard."""
    overview = boards(spec)["overview"]
    assert not [p for p in overview["panels"] if p["type"] == "row" and p["panels"]]


def test_the_default_spec_shows_what_mev_protection_costs_and_saves() -> None:
    mev = {p["title"] for p in panels(boards(SPECS[0])["mev"])}
    assert {"Priority-fee ROI by pair", "Net benefit of MEV protection per hour by pair",
            "USD lost to MEV per hour by pair"} <= mev


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_every_published_histogram_has_a_heatmap_of_its_distribution(spec: Path) -> None:
    model = load(spec)
    heatmapped = {name for board in boards(spec).values() for p in panels(board) if p["type"] == "heatmap"
                  for t in p["targets"] for name in names_in(t["expr"])}
    histograms = [m.name for m in contract_metrics(model) if m.kind == "histogram"]
    missing = [name for name in histograms if f"{name}_bucket" not in heatmapped]
    assert not missing, f"no heatmap for {missing}"


def test_the_defi_executive_overview_opens_the_technical_and_business_dashboards() -> None:
    """Seed 004's three audiences: the executive glance (the overview) leads to both other dashboards."""
    spec = next(s for s in SPECS if spec_id(s) == "defi-testnet")
    dashboards = boards(spec)
    uids = {dashboards[name]["uid"]: name for name in ("technical", "business")}
    opened = {uids[uid] for p in panels(dashboards["overview"]) for link in p.get("links", [])
              for uid in uids if f"/d/{uid}/" in link["url"]}
    assert opened == {"technical", "business"}


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_every_dashboard_marks_when_its_alerts_fired_and_refreshes_as_the_spec_says(spec: Path) -> None:
    model = load(spec)
    for name, board in boards(spec).items():
        assert board["refresh"] == model.views.refresh
        assert model.views.refresh in board["timepicker"]["refresh_intervals"]
        alerts = [a.name for a in model.alerts if name in ("overview", a.signal.dashboard)]
        if not alerts:
            continue
        (annotation,) = [a for a in board["annotations"]["list"] if "expr" in a]
        assert annotation["expr"].startswith('ALERTS{alertstate="firing"')
        for alert in alerts:
            assert alert in annotation["expr"], f"{name}: {alert} is not marked"
        assert [r for r in board["panels"] if r["type"] == "row"], f"{name} has no rows"


def test_display_names_follow_grafanas_legend_rendering() -> None:
    # Grafana's renderLegendFormat: placeholders trimmed; an unknown label stays as written.
    assert display_name("P95 {{ endpoint }}", {"endpoint": "price_feed"}) == "P95 price_feed"
    assert display_name("{{pair}} {{nope}}", {"pair": "SOL/USDC"}) == "SOL/USDC {{nope}}"


def _per_label(model: Spec) -> list[tuple[str, int, str, str, float]]:
    return [(a.signal.dashboard, panel_of(model, a.signal), o.label, o.value, o.threshold)
            for a in model.alerts for t in a.tiers for o in t.overrides]


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_each_per_label_threshold_is_drawn_on_its_own_series_only(spec: Path) -> None:
    model = load(spec)
    cases = _per_label(model)
    if spec_id(spec) == "defi-testnet":
        assert cases, "the DeFi example has a per-endpoint threshold"
    for dashboard, panel_id, label, value, threshold in cases:
        panel = next(p for p in panels(boards(spec)[dashboard]) if p["id"] == panel_id)
        default = {s["value"] for s in panel["fieldConfig"]["defaults"]["thresholds"]["steps"]}
        for target in panel["targets"]:
            for series_value in (value, "some_other_value"):
                shown = display_name(target["legendFormat"], {"job": model.job, label: series_value})
                steps = set(default)
                for override in panel["fieldConfig"]["overrides"]:
                    assert override["matcher"]["id"] == "byNames"
                    if shown in override["matcher"]["options"]["names"]:
                        steps = {s["value"] for p in override["properties"] for s in p["value"]["steps"]}
                if series_value == value:
                    assert threshold in steps, f"{shown!r} is drawn with {steps}, not its own {threshold}"
                else:
                    assert steps == default, f"{shown!r} took another series' threshold"


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_an_alert_on_one_series_opens_its_panel_with_that_series_selected(spec: Path) -> None:
    by_uid = {b["uid"]: b for b in boards(spec).values()}
    checked = 0
    for path in sorted((spec.parent / "alert_rules").glob("*.rules.yml")):
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                url = rule.get("annotations", {}).get("dashboard_url")
                if url is None:
                    continue
                parsed = urlparse(url)
                board = by_uid[parsed.path.split("/")[2]]
                variables = {v["name"] for v in board["templating"]["list"]}
                for key, (value,) in parse_qs(parsed.query).items():
                    if key.startswith("var-"):
                        assert key[4:] in variables, f"{rule['alert']} selects ${key[4:]}, which {board['uid']} lacks"
                        assert value == f"{{{{ $labels.{key[4:]} | urlquery }}}}"
                        checked += 1
    if spec_id(spec) in ("default", "cex", "defi-testnet"):
        assert checked, "no alert on a broken-down signal selects its series"


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_an_overview_stat_shows_the_quantile_its_alerts_read(spec: Path) -> None:
    """A stat titled P95 whose thresholds are P95 thresholds must not show the P99 drawn beside it."""
    model = load(spec)
    stats = {p["title"]: p for p in boards(spec)["overview"]["panels"] if p["type"] == "stat"}
    checked = 0
    for signal in model.signals:
        if signal.overview and isinstance(signal.query, Quantile):
            (target,) = stats[signal.title]["targets"]
            assert target["expr"].startswith(f"{kind_of(signal).record_name(signal)}{{"), signal.title
            checked += 1
    if spec_id(spec) in ("default", "cex", "sla-contracts"):
        assert checked
