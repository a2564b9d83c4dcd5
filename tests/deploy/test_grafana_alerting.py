"""Grafana-managed alert rules (``--evaluator grafana``) through the provisioning API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.deploy.conftest import TOKEN, Prometheus, run
from tests.deploy.fake_grafana import FakeGrafana

FOLDER = "tw-deploy-test"
LATENCY_GROUP = "tradewatch.deploy-test.latency"
TRADING_GROUP = "tradewatch.deploy-test.trading"


@pytest.fixture(autouse=True)
def token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRAFANA_TOKEN", TOKEN)


def argv(workdir: Path, grafana: FakeGrafana, *extra: str) -> list[str]:
    return ["deploy", str(workdir / "tradewatch.yaml"), "--grafana-url", grafana.url, "--evaluator", "grafana",
            "--datasource-prometheus-url", "http://prometheus:9090", "--retry-backoff", "0", *extra]


def rules_of(grafana: FakeGrafana, group: str) -> dict[str, dict[str, Any]]:
    return {r["title"]: r for r in grafana.store.rule_groups[(FOLDER, group)]["rules"]}


def test_each_tier_becomes_a_rule_carrying_its_threshold_and_a_rerun_writes_nothing(
    grafana: FakeGrafana, workdir: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    first = run(argv(workdir, grafana), capsys)

    assert first.code == 0, first.text
    assert f"+ create       alert rule group {LATENCY_GROUP}  (1 rule, every 20s)" in first.out
    assert f"+ create       alert rule group {TRADING_GROUP}  (3 rules, every 20s)" in first.out
    assert "note: Grafana evaluates groups on a 10s tick: evaluation_interval 15s becomes 20s" in first.out
    assert "give --prometheus-rule-dir or --mimir-url so deploy installs the recording rules" in first.out
    latency = rules_of(grafana, LATENCY_GROUP)["SolanaNodeLatencyHigh"]
    queries = {q["refId"]: q for q in latency["data"]}
    assert queries["A"]["datasourceUid"] == "tradewatch-prometheus"
    assert queries["A"]["model"]["expr"] == "job:node_latency:p99_5m"
    assert queries["B"]["model"]["type"] == "reduce"
    assert queries["C"]["model"]["conditions"][0]["evaluator"] == {"type": "gt", "params": [0.2]}
    assert latency["condition"] == "C"
    assert latency["for"] == "1m"
    assert latency["labels"] == {"severity": "critical", "priority": "critical"}
    assert latency["annotations"]["description"] == (
        "Solana node P99 latency on {{ $labels.job }} is {{ $values.B.Value | humanizeDuration }} "
        "(threshold: 200ms).")
    assert latency["provenance"] == "api"
    trading = rules_of(grafana, TRADING_GROUP)
    assert {t: r["data"][2]["model"].get("conditions", [{}])[0].get("evaluator") for t, r in trading.items()} == {
        "TradeFailureRateHigh (warning)": {"type": "gt", "params": [0.05]},
        "TradeFailureRateHigh (critical)": {"type": "gt", "params": [0.1]},
        "CircuitBreakerOpen": None,
    }
    assert trading["CircuitBreakerOpen"]["data"][2]["model"]["expression"] == "$B == 1"

    grafana.requests.clear()
    second = run(argv(workdir, grafana), capsys)

    assert second.code == 0, second.text
    assert "Nothing to change" in second.out
    assert grafana.writes == []


def test_disable_provenance_keeps_the_rules_editable_in_the_ui(
    grafana: FakeGrafana, workdir: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    assert run(argv(workdir, grafana), capsys).code == 0

    result = run(argv(workdir, grafana, "--disable-provenance"), capsys)

    assert result.code == 0, result.text
    assert '-      "provenance": "api",' in result.out
    assert '+      "provenance": "",' in result.out
    puts = [r for r in grafana.requests if r.operation == "RoutePutAlertRuleGroup"]
    assert puts[-1].headers.get("x-disable-provenance") == "true"
    assert {r["provenance"] for r in rules_of(grafana, TRADING_GROUP).values()} == {""}


def test_prune_removes_only_our_stale_rule_groups(
    grafana: FakeGrafana, workdir: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    assert run(argv(workdir, grafana), capsys).code == 0
    template = rules_of(grafana, LATENCY_GROUP)["SolanaNodeLatencyHigh"]
    for group, uid in (("tradewatch.deploy-test.retired", "tw-old"), ("team-a hand-made", "team-a-1")):
        rule = {**template, "uid": uid, "title": uid, "ruleGroup": group}
        grafana.store.rule_groups[(FOLDER, group)] = {"interval": 60, "rules": [rule], "writes": 1}

    kept = run(argv(workdir, grafana), capsys)

    assert kept.code == 0, kept.text
    assert "! would-delete alert rule group tradewatch.deploy-test.retired  (no longer generated)" in kept.out
    assert "team-a" not in kept.out
    assert len(grafana.store.rule_groups) == 4

    pruned = run(argv(workdir, grafana, "--prune"), capsys)

    assert pruned.code == 0, pruned.text
    assert "- delete       alert rule group tradewatch.deploy-test.retired" in pruned.out
    assert set(grafana.store.rule_groups) == {(FOLDER, LATENCY_GROUP), (FOLDER, TRADING_GROUP),
                                              (FOLDER, "team-a hand-made")}


def test_recording_rules_still_go_to_prometheus_when_grafana_evaluates_the_alerts(
    grafana: FakeGrafana, prometheus: Prometheus, workdir: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    result = run(argv(workdir, grafana, "--prometheus-url", prometheus.url, "--prometheus-rule-dir",
                      str(prometheus.rule_dir)), capsys)

    assert result.code == 0, result.text
    loaded = prometheus.loaded_rules()
    assert ("tradewatch.deploy-test.latency", "job:node_latency:p99_5m") in loaded
    assert not {name for _, name in loaded} & {"SolanaNodeLatencyHigh", "TradeFailureRateHigh", "CircuitBreakerOpen"}
    assert set(grafana.store.rule_groups) == {(FOLDER, LATENCY_GROUP), (FOLDER, TRADING_GROUP)}


def test_grafana_managed_rules_need_the_prometheus_data_source(
    grafana: FakeGrafana, workdir: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    args = ["deploy", str(workdir / "tradewatch.yaml"), "--grafana-url", grafana.url, "--evaluator", "grafana"]

    result = run(args, capsys)

    assert result.code == 1
    assert "pass --datasource-prometheus-url so deploy creates it" in result.err
    assert grafana.writes == []
