"""Per-endpoint and per-component alerts, run the way production runs them: the examples' generated
rules under promtool, fed the raw series the watched system publishes. One bad endpoint or
component fires, with its label kept; the healthy ones stay quiet. (Per trading pair: see
tests/test_seed_rules.py, which also runs seed 002's own rules.)"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

from generator.tools import Promtool
from tests import rawseries
from tests.conftest import ROOT


def run(promtool: Promtool, example: str, series: list[dict[str, Any]], cases: list[dict[str, Any]],
        tmp_path: Path) -> None:
    rules = sorted((ROOT / "examples" / example / "alert_rules").glob("*.rules.yml"))
    for path in rules:
        shutil.copy(path, tmp_path / path.name)
    interval = yaml.safe_load(rules[0].read_text())["groups"][0]["interval"]
    body = {"rule_files": [p.name for p in rules], "evaluation_interval": interval,
            "tests": [{"interval": rawseries.STEP, "input_series": series, "promql_expr_test": cases}]}
    (tmp_path / "per_label.test.yml").write_text(yaml.safe_dump(body, sort_keys=False))
    result = promtool.test_rules([Path("per_label.test.yml")], cwd=tmp_path)
    assert result.ok, result.message[-4000:]


def firing(alert: str, label: str, at: str, expected: list[tuple[str, str]]) -> dict[str, Any]:
    """The (label value, severity) pairs of ``alert`` firing at ``at``, and no others."""
    return {"expr": f'count by ({label}, severity) (ALERTS{{alertname="{alert}", alertstate="firing"}})',
            "eval_time": at,
            "exp_samples": [{"labels": f'{{{label}="{v}", severity="{s}"}}', "value": 1} for v, s in expected]}


def test_one_slow_endpoint_fires_against_its_own_limit(promtool: Promtool, tmp_path: Path) -> None:
    """Seed 004's limits: price feed 1000ms, trade execution 5000ms (targets 500ms, 2000ms, 300ms).
    The price feed at 1500ms is past its limit; trade execution at 3000ms is past only its target;
    the balance query at 200ms is fine."""
    target = {"job": "defi-monitor", "instance": "defi:9100"}
    series = [rawseries.gauge("api_response_time_ms", {**target, "endpoint": endpoint}, [(45, ms)])
              for endpoint, ms in (("price_feed", 1500.0), ("trade_execution", 3000.0), ("balance_query", 200.0))]
    run(promtool, "defi-testnet", series, [
        firing("ApiEndpointSlow", "endpoint", "10m", [("price_feed", "warning")]),
        firing("ApiEndpointSlow", "endpoint", "40m",
               [("price_feed", "info"), ("price_feed", "warning"), ("trade_execution", "info")]),
    ], tmp_path)


def test_one_failing_component_fires_against_its_own_contract(promtool: Promtool, tmp_path: Path) -> None:
    """Seed 003: the token validator may fail 0.1% of its operations, the rest warn at 5% and are
    critical at 10%. Token validator at 0.5% and end-to-end at 12% fire; RPC at 3% does not."""
    target = {"job": "meme-trader", "instance": "meme:9100"}
    series = []
    for component, ops, failed in (("tokenValidator", 1000.0, 5.0), ("rpcConnection", 100.0, 3.0),
                                   ("endToEnd", 100.0, 12.0), ("httpClient", 500.0, 0.0)):
        series += [
            rawseries.counter("component_requests_total", {**target, "component": component, "success": "true"},
                              [(20, ops - failed)]),
            rawseries.counter("component_requests_total", {**target, "component": component, "success": "false"},
                              [(20, failed)]),
        ]
    run(promtool, "sla-contracts", series, [
        firing("ComponentErrorRateHigh", "component", "2m", []),
        firing("ComponentErrorRateHigh", "component", "15m",
               [("endToEnd", "critical"), ("endToEnd", "warning"), ("tokenValidator", "warning")]),
    ], tmp_path)
