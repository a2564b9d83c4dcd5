"""The spec's dashboard keys: metrics no panel places land in the overview's collapsed catch-all row,
``leave_out`` removes them, and bad panel entries are errors naming file, line and field."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from exporters.catalogue import CATALOGUE
from generator.emit.dashboards import build
from generator.errors import SpecErrors
from generator.spec import load_text
from generator.spec_panels import contract_metrics
from tests.conftest import ROOT
from tests.dashboards.helpers import panels


def default_with(**changes: Any) -> dict[str, Any]:
    raw: dict[str, Any] = yaml.safe_load((ROOT / "tradewatch.yaml").read_text())
    for key, value in changes.items():
        if value is None:
            raw.pop(key, None)
        else:
            raw[key] = value
    return raw


def test_metrics_no_panel_places_are_drawn_in_a_collapsed_row_of_the_overview() -> None:
    spec = load_text(yaml.safe_dump(default_with(panels=None)), "t.yaml")
    overview = build(spec, "overview")
    (row,) = [p for p in overview["panels"] if p["type"] == "row" and p["collapsed"]]
    exprs = " ".join(t["expr"] for p in row["panels"] for t in p["targets"])
    for metric in ("jupiter_api_latency_seconds_bucket", "priority_fees_paid_usd_total", "engine_total_pnl_usd",
                   "tradewatch_exporter_events_rejected_total"):
        assert metric in exprs
    assert "trades_total" not in exprs  # an alerted signal already draws it


def test_leave_out_keeps_a_metric_off_every_dashboard() -> None:
    spec = load_text(yaml.safe_dump(default_with(panels=None, leave_out=["engine_total_pnl_usd"])), "t.yaml")
    text = str([build(spec, d.name) for d in spec.dashboards])
    assert "engine_total_pnl_usd" not in text
    assert "engine_active_positions" in text


@pytest.mark.parametrize(("panel", "field", "message"), [
    ({"title": "x", "dashboard": "mev", "expr": {"query": 'rate(mev_loss_usd_total{job=~"$job"}[5m])', "unit": "usd"}},
     "panels.p.expr.query", "use [$__rate_interval]"),
    ({"title": "x", "dashboard": "mev", "expr": {"query": 'up{token=~"$token"}', "unit": "count"}},
     "panels.p.expr.query", "$token is not a variable of dashboard 'mev'"),
    ({"title": "x", "dashboard": "mev", "by": ["venue"], "rate": {"metric": "mev_loss_usd_total"}},
     "panels.p.by[0]", "has no label 'venue'"),
    ({"title": "x", "dashboard": "mev", "rate": {"metric": "memory_usage_bytes"}},
     "panels.p.rate.metric", "is a gauge"),
    ({"title": "x", "dashboard": "nowhere", "value": {"metric": "memory_usage_bytes"}},
     "panels.p.dashboard", "no dashboard 'nowhere'"),
])
def test_a_bad_panel_is_an_error_naming_its_field(panel: dict[str, Any], field: str, message: str) -> None:
    with pytest.raises(SpecErrors) as caught:
        load_text(yaml.safe_dump(default_with(panels={"p": panel})), "t.yaml")
    text = str(caught.value)
    assert "t.yaml:" in text
    assert field in text
    assert message in text


def test_leaving_out_an_unknown_metric_is_an_error() -> None:
    with pytest.raises(SpecErrors, match=r"leave_out\[0\].*'pnl' is not a metric of the watched systems"):
        load_text(yaml.safe_dump(default_with(leave_out=["pnl"])), "t.yaml")


def test_a_per_label_threshold_on_a_signal_broken_down_by_two_labels_is_an_error() -> None:
    raw = default_with()
    raw["signals"]["transitions"] = {"title": "Breaker transitions", "dashboard": "trading",
                                     "by": ["from_state", "to_state"],
                                     "rate": {"metric": "circuit_breaker_transitions_total"}}
    raw["alerts"]["BreakerFlapping"] = {"signal": "transitions", "summary": "Breaker flapping", "tiers": {
        "warning": {"above": "1/s", "per_label": {"to_state": {"open": "0.5/s"}}}}}
    with pytest.raises(SpecErrors) as caught:
        load_text(yaml.safe_dump(raw), "t.yaml")
    (error,) = caught.value.errors
    assert "alerts.BreakerFlapping.tiers.warning.per_label.to_state" in str(error)
    assert "need a signal broken down by 'to_state' alone" in str(error)


def test_the_contract_of_a_spec_with_systems_is_what_each_system_publishes() -> None:
    raw = {"systems": {
        "engine": {"exporter": "tradewatch"},
        "cex-trader": {"metrics": {
            "order_latency_seconds": {"type": "histogram", "unit": "seconds", "labels": ["trading_pair"],
                                      "buckets": [0.1, 1]},
            "cpu_usage_percent": {"type": "gauge", "unit": "percent", "labels": ["component"]}}},
    }}
    names = [m.name for m in contract_metrics(raw, read=())]
    assert names[:len(CATALOGUE)] == list(CATALOGUE)
    assert names[len(CATALOGUE):] == ["order_latency_seconds"]  # cpu_usage_percent is drawn once


def test_without_systems_the_exporter_is_watched_only_when_the_spec_reads_it() -> None:
    raw = {"external_metrics": {"gas_price_gwei": {"type": "gauge", "unit": "gwei"}}}
    assert [m.name for m in contract_metrics(raw, read=["gas_price_gwei"])] == ["gas_price_gwei"]
    assert len(contract_metrics(raw, read=["trades_total"])) == len(CATALOGUE) + 1


def cex_with_a_second_cpu_publisher() -> dict[str, Any]:
    """The CEX example plus a gateway system that publishes cpu_usage_percent too."""
    raw: dict[str, Any] = yaml.safe_load((ROOT / "examples" / "cex" / "tradewatch.yaml").read_text())
    raw["systems"]["cex-gateway"] = {"metrics": {
        "cpu_usage_percent": {"type": "gauge", "unit": "percent", "labels": ["component"]}}}
    raw["signals"]["cpu"]["gauge"]["job"] = "cex-trader"
    return raw


def test_a_panel_names_one_systems_metric_with_job() -> None:
    raw = cex_with_a_second_cpu_publisher()
    raw["panels"] = {"gateway_cpu": {"title": "Gateway CPU", "dashboard": "system", "by": ["component"],
                                     "value": {"metric": "cpu_usage_percent", "job": "cex-gateway"}}}
    spec = load_text(yaml.safe_dump(raw), "t.yaml")
    board = build(spec, "system")
    panel = next(p for p in panels(board) if p["title"] == "Gateway CPU")
    (target,) = panel["targets"]
    assert 'job="cex-gateway"' in target["expr"]
    assert 'job="cex-trader"' not in target["expr"]


@pytest.mark.parametrize(("job", "message"), [
    (None, "'cpu_usage_percent' is published by cex-gateway and cex-trader; set job: to say which"),
    ("cex-router", "no system with job 'cex-router' in systems"),
])
def test_a_panel_on_a_name_two_systems_publish_must_say_whose(job: str | None, message: str) -> None:
    raw = cex_with_a_second_cpu_publisher()
    value: dict[str, Any] = {"metric": "cpu_usage_percent"}
    if job is not None:
        value["job"] = job
    raw["panels"] = {"gateway_cpu": {"title": "Gateway CPU", "dashboard": "system", "value": value}}
    with pytest.raises(SpecErrors) as caught:
        load_text(yaml.safe_dump(raw), "t.yaml")
    assert "t.yaml:" in str(caught.value)
    assert "panels.gateway_cpu.value" in str(caught.value)
    assert message in str(caught.value)


def test_a_system_publishing_a_name_the_exporter_also_has_keeps_it_in_the_contract_with_its_labels() -> None:
    raw = {"systems": {"cex-trader": {"metrics": {
        "memory_usage_bytes": {"type": "gauge", "unit": "bytes", "labels": ["component"]}}}}}
    (memory,) = contract_metrics(raw, read=())
    assert (memory.name, memory.labels) == ("memory_usage_bytes", ("component",))
