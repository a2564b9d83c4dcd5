"""The metric contract: every metric a spec reads belongs to a watched system, with its labels.

Seed 002's ``cpu_usage_percent{component}`` and our exporter's label-less ``cpu_usage_percent``
are the running example: the same name in two systems, told apart by job.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from generator import generate, writer
from generator.contract import build
from generator.errors import SpecErrors, YamlPath
from generator.spec import load_text
from generator.tools import Promtool
from tests import rawseries
from tests.conftest import ROOT

TWO_SYSTEMS = """\
version: 1
name: two
title: Two systems
job: cex-trader
systems:
  tradewatch-exporter:
    exporter: tradewatch
  cex-trader:
    metrics:
      cpu_usage_percent: {type: gauge, unit: percent, labels: [component]}
      orders_total: {type: counter, unit: count, labels: [trading_pair, status]}
dashboards:
  system: {title: System}
signals:
  cpu:
    title: CPU
    dashboard: system
    by: [component]
    gauge: {metric: cpu_usage_percent, job: cex-trader, match: {component: market-data-processor}}
alerts:
  CpuUsageHigh:
    signal: cpu
    summary: CPU high
    tiers:
      critical: {above: 90%, for: 1m}
"""


def errors_of(text: str) -> list[str]:
    with pytest.raises(SpecErrors) as caught:
        load_text(text, "t.yaml")
    return [str(e) for e in caught.value.errors]


def test_the_same_name_in_two_systems_is_told_apart_by_job() -> None:
    spec = load_text(TWO_SYSTEMS, "t.yaml")
    assert spec.signals[0].query.source.match == (  # type: ignore[union-attr]
        ("component", "market-data-processor"), ("job", "cex-trader"))


def test_a_name_two_systems_publish_needs_a_job() -> None:
    text = TWO_SYSTEMS.replace("job: cex-trader, match", "match")
    assert errors_of(text) == [
        "t.yaml:19:13: signals.cpu.gauge.metric: 'cpu_usage_percent' is published by cex-trader and "
        "tradewatch-exporter; set job: to say which system's it is"]


def test_our_exporters_cpu_has_no_component_label() -> None:
    text = TWO_SYSTEMS.replace("job: cex-trader, match", "job: tradewatch-exporter, match")
    assert any("signals.cpu.gauge.match.component: cpu_usage_percent has no label 'component' (labels: none)"
               in e for e in errors_of(text))


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("by: [component]", "by: [trading_pair]",
     "t.yaml:18:10: signals.cpu.by[0]: the signal's metrics have no label 'trading_pair'"),
    ("job: cex-trader, match", "job: cex-trade, match",
     "signals.cpu.gauge.job: no system with job 'cex-trade' in systems; did you mean 'cex-trader'?"),
    ("metric: cpu_usage_percent, job", "metric: orders_total, job",
     "signals.cpu.gauge.metric: orders_total is a counter; this needs a gauge"),
    ("metric: cpu_usage_percent, job", "metric: cpu_usage_percents, job",
     "signals.cpu.gauge.metric: job cex-trader does not publish 'cpu_usage_percents' "
     "(see systems.cex-trader.metrics); did you mean 'cpu_usage_percent'?"),
    ("      orders_total:", "      up: {type: gauge, unit: count}\n      orders_total:",
     "systems.cex-trader.metrics.up: 'up' is already published by Prometheus for every target"),
    ("      orders_total:", "      lat_seconds: {type: histogram, unit: seconds}\n      orders_total:",
     "systems.cex-trader.metrics.lat_seconds: a histogram needs its buckets"),
    ("labels: [component]", "labels: [component, job]",
     "systems.cex-trader.metrics.cpu_usage_percent.labels[1]: label 'job' is set by Prometheus"),
    ("    exporter: tradewatch\n", "    description: nothing\n",
     "systems.tradewatch-exporter: list the metrics this job publishes (metrics:), or set exporter: tradewatch"),
    ("dashboards:", "external_metrics:\n  x_total: {type: counter, unit: count}\ndashboards:",
     "external_metrics: declare these metrics under the system that publishes them in systems:"),
    ("unit: percent, labels: [component]", "unit: milliseconds, labels: [component]",
     "signals.cpu.gauge.metric: cpu_usage_percent is in milliseconds and signals compare seconds"),
], ids=["by-label-not-in-contract", "unknown-job", "wrong-type", "not-published-by-job",
        "redeclared-up", "histogram-without-buckets", "job-label-declared", "empty-system",
        "external-metrics-beside-systems", "milliseconds-outside-an-expr"])
def test_the_contract_rejects(old: str, new: str, expected: str) -> None:
    text = TWO_SYSTEMS.replace(old, new, 1)
    assert text != TWO_SYSTEMS
    found = errors_of(text)
    assert any(expected in e for e in found), "\n".join(found)


def test_a_job_needs_systems() -> None:
    text = (ROOT / "tests/specs/good/minimal.yaml").read_text().replace(
        "{metric: solana_node_latency_seconds,", "{metric: solana_node_latency_seconds, job: j,")
    assert any("signals.node_latency.quantile.job: job: names a system in systems:, and this spec declares none"
               in e for e in errors_of(text))


def test_an_expr_reads_only_contracted_metrics() -> None:
    text = TWO_SYSTEMS.replace(
        "gauge: {metric: cpu_usage_percent, job: cex-trader, match: {component: market-data-processor}}",
        "expr: {expr: 'max by (job, component) (cpu_usage_pct)', unit: percent, metrics: [cpu_usage_pct]}")
    assert any("signals.cpu.expr.metrics[0]: metric 'cpu_usage_pct' is not published by any system in "
               "systems; did you mean 'cpu_usage_percent'?" in e for e in errors_of(text))


def test_one_lookup_answers_for_any_job() -> None:
    problems: list[tuple[YamlPath, str]] = []
    contract = build(yaml.safe_load(TWO_SYSTEMS), lambda path, msg: problems.append((path, msg)))
    assert problems == []
    theirs = contract.family("cex-trader", "cpu_usage_percent")
    ours = contract.family("tradewatch-exporter", "cpu_usage_percent")
    assert theirs is not None
    assert theirs.labels == ("component",)
    assert ours is not None
    assert ours.labels == ()
    assert contract.family(None, "cpu_usage_percent") is None  # ambiguous without a job
    assert contract.family(None, "up") is None  # every job has up
    bucket = contract.family("tradewatch-exporter", "trade_execution_latency_seconds_bucket")
    assert bucket is not None
    assert (bucket.series_kind, bucket.labels) == ("counter", ("le",))


def test_another_systems_series_of_the_same_name_does_not_fire_the_alert(
        promtool: Promtool, tmp_path: Path) -> None:
    """Our exporter's cpu_usage_percent at 99% must not fire CEX's CPU alert; theirs at 95% must."""
    writer.write(tmp_path, generate.render(load_text(TWO_SYSTEMS, "t.yaml")))
    rules = tmp_path / "alert_rules"
    series = [
        rawseries.gauge("cpu_usage_percent", {"job": "tradewatch-exporter", "instance": "tw:9108"}, [(10, 99.0)]),
        rawseries.gauge("cpu_usage_percent", {"job": "cex-trader", "instance": "cex:9100",
                                              "component": "market-data-processor"}, [(5, 10.0), (5, 95.0)]),
    ]

    def firing(at: str) -> dict[str, Any]:
        return {"expr": 'ALERTS{alertname="CpuUsageHigh", alertstate="firing"}', "eval_time": at}

    body = {"rule_files": ["system.rules.yml"], "evaluation_interval": rawseries.STEP, "tests": [{
        "interval": rawseries.STEP, "input_series": series, "promql_expr_test": [
            {**firing("4m"), "exp_samples": []},
            {**firing("7m"), "exp_samples": [{"labels": (
                '{__name__="ALERTS", alertname="CpuUsageHigh", alertstate="firing", component="market-data-processor",'
                ' instance="cex:9100", job="cex-trader", priority="critical", severity="critical"}'), "value": 1}]},
        ]}]}
    (rules / "contract.test.yml").write_text(yaml.safe_dump(body, sort_keys=False))
    result = promtool.test_rules([Path("contract.test.yml")], cwd=rules)
    assert result.ok, result.message


OTHER_JOB_SIGNALS = """\
  breaker:
    title: Breaker
    dashboard: system
    state: {metric: circuit_breaker_state}
  failures:
    title: Failures
    dashboard: system
    ratio:
      numerator: [{metric: trades_total, match: {status: failed}}]
      denominator: [{metric: trades_total}]
  gone:
    title: Trades reported
    dashboard: system
    absent: {metric: trades_total}
"""
OTHER_JOB_ALERTS = """\
  BreakerOpen:
    signal: breaker
    summary: Breaker open
    tiers:
      critical: {equals: open, for: 1m}
  TradeFailuresHigh:
    signal: failures
    summary: Trades fail
    tiers:
      critical: {above: 10%, for: 1m}
  TradesGone:
    signal: gone
    summary: No trades reported
    tiers:
      critical: {for: 1m}
"""


def test_signals_of_another_systems_job_generate_rules_and_tests_that_pass(
        promtool: Promtool, tmp_path: Path) -> None:
    """The spec's job is cex-trader; these signals read the tradewatch exporter's job. Their
    generated promtool tests feed series of that job and pass, as for the spec's own job."""
    text = TWO_SYSTEMS.replace("alerts:\n", OTHER_JOB_SIGNALS + "alerts:\n") + OTHER_JOB_ALERTS
    spec = load_text(text, "t.yaml")
    writer.write(tmp_path, generate.render(spec))
    rules = tmp_path / "alert_rules" / "system.rules.yml"
    assert 'absent(trades_total{job="tradewatch-exporter"})' in rules.read_text()
    tests = tmp_path / "alert_rules" / "tests"
    result = promtool.test_rules(sorted(Path(p.name) for p in tests.glob("*.test.yml")), cwd=tests)
    assert result.ok, result.message


def test_one_signal_reads_one_system() -> None:
    text = TWO_SYSTEMS.replace(
        "gauge: {metric: cpu_usage_percent, job: cex-trader, match: {component: market-data-processor}}",
        "gauge: {metric: cpu_usage_percent, job: cex-trader, divide_by: {metric: memory_usage_bytes}}")
    assert any("signals.cpu.gauge: reads cex-trader and tradewatch-exporter: a signal's series are combined "
               "per job, so one signal reads one system" in e for e in errors_of(text))
