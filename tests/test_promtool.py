"""promtool, the version-exact judge, on everything the specs generate."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from generator.tools import Promtool
from tests.conftest import ROOT, SPECS, spec_id


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_generated_rule_files_pass_promtool_check(promtool: Promtool, spec: Path) -> None:
    files = sorted((spec.parent / "alert_rules").glob("*.rules.yml"))
    assert files, "no rule files were generated"
    result = promtool.check_rules(files)
    assert result.ok, result.message


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_generated_promtool_tests_pass(promtool: Promtool, spec: Path) -> None:
    tests = sorted((spec.parent / "alert_rules" / "tests").glob("*.test.yml"))
    assert tests
    result = promtool.test_rules([Path(t.name) for t in tests], cwd=tests[0].parent)
    assert result.ok, result.message


def test_hand_written_edge_cases_pass(promtool: Promtool) -> None:
    tests = sorted((ROOT / "tests" / "promtool").glob("*.test.yml"))
    result = promtool.test_rules([Path(t.name) for t in tests], cwd=tests[0].parent)
    assert result.ok, result.message


@pytest.mark.parametrize(
    ("before", "after"),
    [
        pytest.param("job:trade_failure:ratio_rate5m > 0.1", "job:trade_failure:ratio_rate5m > 0.103",
                     id="critical-threshold-moved-3pct"),
        pytest.param("job:mev_avoidance:ratio_rate15m < 0.8", "job:mev_avoidance:ratio_rate15m < 0.78",
                     id="below-threshold-moved"),
        pytest.param("    for: 2m\n", "    for: 1m\n", id="for-shortened"),
    ],
)
def test_generated_tests_catch_a_rule_that_drifted_from_the_spec(
    promtool: Promtool, tmp_path: Path, before: str, after: str
) -> None:
    # A test suite that passes whatever the rules say proves nothing: break a rule, expect red.
    shutil.copytree(ROOT / "alert_rules", tmp_path / "alert_rules")
    for rules in (tmp_path / "alert_rules").glob("*.rules.yml"):
        text = rules.read_text()
        if before in text:
            rules.write_text(text.replace(before, after, 1))
            break
    else:
        pytest.fail(f"{before!r} not found in the generated rules")
    tests = tmp_path / "alert_rules" / "tests"
    result = promtool.test_rules([Path(p.name) for p in tests.glob("*.test.yml")], cwd=tests)
    assert not result.ok
    assert "FAILED" in result.message


def test_promtool_wrapper_carries_promtools_own_message(promtool: Promtool, tmp_path: Path) -> None:
    bad = tmp_path / "bad.rules.yml"
    bad.write_text("groups:\n- name: x\n  rules:\n  - alert: Broken\n    expr: rate(foo[5m]\n")
    result = promtool.check_rules([bad])
    assert not result.ok
    assert "unclosed left parenthesis" in result.message
