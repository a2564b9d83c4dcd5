"""Escalation after ``escalate_after`` occurrences, proven by promtool on the generated rules and tests.

The generated test feeds ``ALERTS`` / ``ALERTS_FOR_STATE`` as input series, the way Prometheus
writes them: it expects the escalation on the 3rd firing within the window, not on the 2nd, not for
an episode that stayed pending, not when the firings span more than the window. A mutated rule
(escalating one occurrence early) must make the same test fail, so the test is known to bite.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from generator import conventions
from generator.emit import escalation
from generator.model import SEVERITIES, Spec
from generator.spec import load
from generator.tools import Promtool, ToolResult
from generator.units import format_duration, parse_duration
from tests.conftest import SPECS, spec_id
from tests.stack.conftest import write_tree

RULES = conventions.rule_file(escalation.AREA)
TESTS = conventions.rule_test_file(escalation.AREA)


def _tests_with_rule_changed(spec: Spec, old: str, new: str, tmp_path: Path, promtool: Promtool) -> ToolResult:
    """The generated escalation tests, run against the generated rules with ``old`` made ``new``."""
    files = escalation.emit(spec)
    mutated = files[RULES].replace(old, new)
    assert mutated != files[RULES], f"{old!r} is not in the rules"
    write_tree(tmp_path, {**files, RULES: mutated})
    return promtool.test_rules([tmp_path / TESTS])


@pytest.mark.parametrize("path", SPECS, ids=spec_id)
def test_generated_escalation_rules_pass_promtool_check_and_their_tests(
        path: Path, tmp_path: Path, promtool: Promtool) -> None:
    write_tree(tmp_path, escalation.emit(load(path)))
    checked = promtool.check_rules([tmp_path / RULES])
    assert checked.ok, checked.message
    tested = promtool.test_rules([tmp_path / TESTS])
    assert tested.ok, tested.message


def test_an_escalation_one_occurrence_early_fails_the_generated_test(
        default_spec: Spec, tmp_path: Path, promtool: Promtool) -> None:
    after = default_spec.notifications.escalate_after
    result = _tests_with_rule_changed(default_spec, f"+ 1 >= {after} and", f"+ 1 >= {after - 1} and", tmp_path,
                                      promtool)
    assert not result.ok
    fired = [ep for ep in escalation.timelines(default_spec)[0] if ep.fires]
    second = format_duration((fired[1].start + escalation.INSIDE) * escalation.step_of(default_spec))  # the 2nd
    assert f"alertname: TradeFailureRateHighRecurring, time: {second}" in result.message


def test_counting_firings_beyond_the_window_fails_the_generated_test(
        default_spec: Spec, tmp_path: Path, promtool: Promtool) -> None:
    # The spread-out firings share the counted ones' timeline under another instance; a rule that
    # looks back twice the window sees all of them and must be caught there.
    window = default_spec.notifications.escalate_window
    result = _tests_with_rule_changed(default_spec, f"[{window}]", f"[{format_duration(2 * parse_duration(window))}]",
                                      tmp_path, promtool)
    assert not result.ok
    assert f'instance="{escalation.SPREAD_INSTANCE}"' in result.message


def test_counting_pending_episodes_fails_the_generated_test(
        default_spec: Spec, tmp_path: Path, promtool: Promtool) -> None:
    result = _tests_with_rule_changed(default_spec, ' and ignoring(alertstate) ALERTS{alertstate="firing"}', "",
                                      tmp_path, promtool)
    assert not result.ok


def test_every_tier_below_critical_escalates_one_severity_up(default_spec: Spec) -> None:
    groups = yaml.safe_load(escalation.emit(default_spec)[RULES])["groups"]
    alerts = {r["alert"]: r for g in groups for r in g["rules"] if "alert" in r}
    expected = {f"{a.name}Recurring" for a in default_spec.alerts for t in a.tiers if t.severity != "critical"}
    assert set(alerts) == expected
    for rule in alerts.values():
        source = rule["labels"][escalation.ESCALATED_FROM]
        assert source in ("warning", "info")
        assert rule["labels"]["severity"] == SEVERITIES[SEVERITIES.index(source) - 1]
        assert f">= {default_spec.notifications.escalate_after}" in rule["expr"]
        assert f"[{default_spec.notifications.escalate_window}]" in rule["expr"]
