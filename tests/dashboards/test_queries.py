"""Every query of every spec's dashboards, run on a real Prometheus that evaluates the generated rules
and scrapes, for the default spec, ``tradewatch exporter --source simulate``, and for the examples
(whose systems have no simulator) a loopback endpoint publishing their contracts: each returns series."""

from __future__ import annotations

import dataclasses
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml

from generator.demo.stack import LocalStack, quick
from generator.model import Spec
from generator.procs import ManagedProcess, free_port, http_ready
from generator.spec import load
from generator.tools import Promtool
from tests.conftest import SPECS, spec_id
from tests.dashboards.helpers import boards, exprs, panels, records
from tests.dashboards.synthetic import label_values, synthetic_exporter

pytestmark = pytest.mark.servers

# What Grafana puts for the variables with "All" selected; $__rate_interval at 1 s scrapes.
ALL = {"$job": ".+", "$__rate_interval": "10s"}
WARM_UP = 12.0
# Queries that are run (they must be valid) but cannot have series in a test seconds old: they compare
# with a week ago, or with the quarter hour before the last one; and the benchmark results, which only
# the engine's benchmark runner sends (tests/analysis/test_benchmark.py sends them through Redis).
NO_SERIES_YET = re.compile(r" offset |health_latency_trend|benchmark_")


def substitute(expr: str, variables: list[str]) -> str:
    for name in variables:
        expr = expr.replace(f"${name}", ".*")
    for var, value in ALL.items():
        expr = expr.replace(var, value)
    assert "$" not in expr, f"unsubstituted variable in {expr}"
    return expr


@pytest.fixture(scope="module")
def prometheus(default_spec: Spec, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp("dash-queries")
    port = free_port()
    exporter = ManagedProcess.start(
        [sys.executable, "-m", "generator", "exporter", "--source", "simulate", "--rate", "500",
         "--listen", f"127.0.0.1:{port}", "--redis-url", "redis://127.0.0.1:1/0"],
        ready=http_ready(f"http://127.0.0.1:{port}/metrics"), log_path=workdir / "exporter.log", timeout=30)
    try:
        with LocalStack(workdir / "stack") as stack:
            (server,) = stack.start_prometheus(quick(default_spec), exporter=f"127.0.0.1:{port}", scrape_interval="1s")
            time.sleep(WARM_UP)  # enough scrapes for rate() over 10s and every recording rule's window
            yield server.url
    finally:
        exporter.stop()


def query(url: str, expr: str) -> list[dict[str, object]]:
    body = requests.get(f"{url}/api/v1/query", params={"query": expr}, timeout=10).json()
    assert body["status"] == "success", f"{expr}: {body.get('error')}"
    result: list[dict[str, object]] = body["data"]["result"]
    return result


def assert_every_query_returns_series(url: str, spec: Path) -> int:
    """Run every panel query with its variables set to All; returns how many ran."""
    empty = []
    checked = 0
    for name, board in boards(spec).items():
        variables = [v["name"] for v in board["templating"]["list"] if v["type"] == "query"]
        for panel in panels(board):
            for target in panel.get("targets", []):
                expr = substitute(target["expr"], variables)
                checked += 1
                if not query(url, expr) and not NO_SERIES_YET.search(expr):
                    empty.append(f"{name}: {panel['title']!r} {target['refId']}: {expr}")
        for annotation in board["annotations"]["list"]:
            if "expr" in annotation:
                query(url, substitute(annotation["expr"], variables))  # valid; fires only on breaches
        for var in board["templating"]["list"]:
            if var["type"] != "query":
                continue
            metric, label = re.fullmatch(r"label_values\((.+), (\w+)\)", var["query"]).groups()  # type: ignore[union-attr]
            values = requests.get(f"{url}/api/v1/label/{label}/values",
                                  params={"match[]": substitute(metric, [])}, timeout=10).json()["data"]
            if not values and not NO_SERIES_YET.search(metric):
                empty.append(f"{name}: ${var['name']} lists no values from {var['query']}")
    assert not empty, "queries without series:\n" + "\n".join(empty)
    return checked


def test_every_panel_query_returns_series_and_every_variable_lists_values(prometheus: str) -> None:
    assert assert_every_query_returns_series(prometheus, SPECS[0]) > 40


@pytest.mark.parametrize("spec", SPECS[1:], ids=spec_id)
def test_every_example_panel_query_returns_series_from_its_systems_metrics(spec: Path,
                                                                          tmp_path: Path) -> None:
    model = load(spec)
    queries = [e for board in boards(spec).values() for _, e in exprs(board)] + list(records(spec).values())
    with synthetic_exporter(model.views.contract, label_values(model, queries)) as address, \
            LocalStack(tmp_path / "stack") as stack:
        # Every watched system is served by the one synthetic endpoint.
        served = dataclasses.replace(model, scrape_jobs=tuple(dataclasses.replace(j, targets=(address,))
                                                              for j in model.scrape_jobs))
        (server,) = stack.start_prometheus(quick(served), exporter=address, scrape_interval="1s")
        time.sleep(WARM_UP)
        assert assert_every_query_returns_series(server.url, spec) > 20


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_every_query_of_every_spec_parses_with_prometheus_own_parser(spec: Path, promtool: Promtool,
                                                                    tmp_path: Path) -> None:
    """Prometheus's own parser names a bad query in seconds, before any server is started."""
    rules: list[dict[str, object]] = []
    for name, board in boards(spec).items():
        variables = [v["name"] for v in board["templating"]["list"] if v["type"] == "query"]
        for where, expr in exprs(board):
            rules.append({"record": f"dashboard:{name}:{len(rules)}", "expr": substitute(expr, variables),
                          "labels": {"where": where}})
    path = tmp_path / "queries.rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard queries", "rules": rules}]}))
    result = promtool.check_rules([path])
    assert result.ok, result.message
