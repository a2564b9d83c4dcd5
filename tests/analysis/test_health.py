"""Component health: contracts are checked against the histogram, and the generated promtool tests
(raw buckets and counters in, seed 003's score and trend out) catch a formula that drifts."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.tools import Promtool
from tests.analysis.helpers import errors_of, line_of, run_area_tests
from tests.conftest import ROOT

SLA = (ROOT / "examples" / "sla-contracts" / "tradewatch.yaml").read_text()


def test_contract_latency_must_be_a_bucket_boundary() -> None:
    text = SLA.replace("rpcConnection: {max_latency: 10ms", "rpcConnection: {max_latency: 11ms")
    [err] = [e for e in errors_of(text) if e.path == "health.components.rpcConnection.max_latency"]
    assert err.line == line_of(text, "rpcConnection: {max_latency: 11ms")
    assert "11ms is not a bucket boundary of component_latency_seconds" in err.message


def test_every_health_metric_needs_the_component_label() -> None:
    text = SLA.replace("  by: component\n", "  by: service\n")
    paths = {e.path for e in errors_of(text)}
    assert {"health.latency.metric", "health.errors.metric", "health.total.metric"} <= paths


def test_health_alert_name_must_not_clash() -> None:
    text = SLA.replace("    name: ComponentUnhealthy\n", "    name: UptimeBelowContract\n")
    [err] = [e for e in errors_of(text) if e.path == "health.alert.name"]
    assert "another alert is named UptimeBelowContract" in err.message


@pytest.mark.parametrize(("before", "after", "broken"), [
    # promtool names the expression that failed (the score, or the trend state) and the values.
    ("/ 0.03 - 1) * 100", "/ 0.03 - 1) * 90", 'health:score{component=\\"endToEnd\\"}'),
    # errors under the contract must cost nothing
    ("> bool 0.001)", "> bool 0)", 'health:score{component=\\"tokenValidator\\"}'),
    ("> bool 1.2)", "> bool 1.6)", 'job="meme-trader"} 1E+00'),
    ("< bool 0.8)", "< bool 0.4)", "-1E+00"),
])
def test_generated_tests_catch_a_drifting_formula(promtool: Promtool, tmp_path: Path, before: str, after: str,
                                                 broken: str) -> None:
    ok, message = run_area_tests(promtool, SLA, "health", tmp_path, mutate=(before, after))
    assert not ok
    assert broken in message


def test_unmutated_health_tests_pass(promtool: Promtool, tmp_path: Path) -> None:
    ok, message = run_area_tests(promtool, SLA, "health", tmp_path)
    assert ok, message
