"""SLOs: the spec is checked where the burn-rate maths would silently go wrong, and the generated
promtool tests catch a burn-rate alert that moved (they start from raw buckets and counters)."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator import generate
from generator.analysis.spec import burn_windows
from generator.spec import load_text
from generator.tools import Promtool
from tests.analysis.helpers import DEFAULT, errors_of, line_of, run_area_tests


def test_latency_objective_must_be_a_bucket_boundary() -> None:
    text = DEFAULT.replace("le: 100ms}", "le: 120ms}")
    errors = errors_of(text)
    [err] = [e for e in errors if e.path == "slos.trade_latency.latency.le"]
    assert err.line == line_of(text, "le: 120ms")
    assert "120ms is not a bucket boundary of trade_execution_latency_seconds" in err.message
    assert "100ms" in err.message  # the boundaries it could be


@pytest.mark.parametrize(("objective", "why"), [("100%", "between 0% and 100%"), ("99.9ms", "")])
def test_objective_is_a_ratio_below_100_percent(objective: str, why: str) -> None:
    text = DEFAULT.replace("objective: 99.9%", f"objective: {objective}")
    [err] = [e for e in errors_of(text) if e.path == "slos.trade_latency.objective"]
    assert why in err.message


def test_a_page_priority_without_a_route_is_an_error() -> None:
    text = DEFAULT.replace("    objective: 98%\n", "    objective: 98%\n    page: {priority: medium}\n")
    text = text.replace("    medium: {receivers: [chat], repeat_interval: 1h}\n", "")
    [err] = [e for e in errors_of(text) if e.path == "slos.trade_success.page"]
    assert "priority 'medium', which has no route" in err.message


def test_events_slo_counters_must_exist() -> None:
    text = DEFAULT.replace("errors: {metric: trades_total, match", "errors: {metric: trade_total, match")
    [err] = [e for e in errors_of(text) if e.path == "slos.trade_success.events.errors.metric"]
    assert "did you mean 'trades_total'" in err.message


def test_windows_follow_the_period() -> None:
    """A 30d period gets the workbook's windows; a 7d period the same shares of its budget."""
    month = burn_windows("30d")
    assert [(w.long, w.short, w.factor) for w in month["page"]] == [("1h", "5m", 14.4), ("6h", "30m", 6.0)]
    assert [(w.long, w.short, w.factor) for w in month["ticket"]] == [("1d", "2h", 3.0), ("3d", "6h", 1.0)]
    week = burn_windows("7d")
    assert [(w.long, w.short) for w in week["page"]] == [("14m", "1m"), ("1h24m", "7m")]


def test_a_weekly_slo_generates_tests_that_pass(promtool: Promtool, tmp_path: Path) -> None:
    text = DEFAULT.replace("    period: 30d\n", "    period: 7d\n")
    ok, message = run_area_tests(promtool, text, "slo", tmp_path)
    assert ok, message


def test_rules_read_raw_buckets_and_alert_on_both_windows() -> None:
    files = generate.render(load_text(DEFAULT, "tradewatch.yaml"))
    rules = files["alert_rules/slo.rules.yml"]
    assert 'trade_execution_latency_seconds_bucket{le="0.1"}[1h]' in rules
    tests = files["alert_rules/tests/slo.test.yml"]
    assert 'trade_execution_latency_seconds_bucket{job="tradewatch-exporter", le="0.1"}' in tests


@pytest.mark.parametrize(("before", "after", "broken"), [
    ("/ 0.001 > 14.4", "/ 0.001 > 16", "fires when trades execute under 100 ms fails at 15.12x"),
    ("/ 0.001 > 6", "/ 0.001 > 5.5", "stays quiet when trades execute under 100 ms fails at 5.7x"),
    ("/ 0.02 > 1)", "/ 0.02 > 1.1)", "fires when trades land fails at 1.05x"),
])
def test_generated_tests_catch_a_moved_burn_rate(promtool: Promtool, tmp_path: Path, before: str, after: str,
                                                 broken: str) -> None:
    ok, message = run_area_tests(promtool, DEFAULT, "slo", tmp_path, mutate=(before, after))
    assert not ok
    assert broken in message
