"""promtool, the version-exact judge, on everything the specs generate."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.tools import Promtool
from generator.units import format_duration, parse_duration
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


def _alerting_rules(rules_dir: Path) -> list[tuple[Path, dict[str, Any]]]:
    return [(path, rule) for path in sorted(rules_dir.glob("*.rules.yml"))
            for group in yaml.safe_load(path.read_text())["groups"] for rule in group["rules"] if "alert" in rule]


def _threshold_moved(op: str) -> Callable[[str, dict[str, Any]], str | None]:
    """Move the threshold of the first plain ``record op number`` alert by 3%, inward."""
    def mutate(text: str, rule: dict[str, Any]) -> str | None:
        match = re.fullmatch(rf"(\S+) {re.escape(op)} ([0-9.e+-]+)", rule["expr"])
        if not match or float(match[2]) == 0:
            return None
        moved = float(match[2]) * (1.03 if op == ">" else 0.97)
        return text.replace(f"expr: {rule['expr']}\n", f"expr: {match[1]} {op} {moved!r}\n", 1)
    return mutate


def _for_shortened(text: str, rule: dict[str, Any]) -> str | None:
    """Halve the first ``for`` of at least 2m (the tests evaluate once a minute)."""
    if parse_duration(rule.get("for", "0s")) < 120:
        return None
    block = f"expr: {rule['expr']}\n    for: {rule['for']}\n"
    shorter = format_duration(parse_duration(rule["for"]) // 2)
    return text.replace(block, f"expr: {rule['expr']}\n    for: {shorter}\n", 1) if block in text else None


@pytest.mark.parametrize(
    "mutate",
    [pytest.param(_threshold_moved(">"), id="above-threshold-moved-3pct"),
     pytest.param(_threshold_moved("<"), id="below-threshold-moved-3pct"),
     pytest.param(_for_shortened, id="for-halved")],
)
def test_generated_tests_catch_a_rule_that_drifted_from_the_spec(
    promtool: Promtool, tmp_path: Path, mutate: Callable[[str, dict[str, Any]], str | None]
) -> None:
    # A test suite that passes whatever the rules say proves nothing: break a rule, expect red.
    shutil.copytree(ROOT / "alert_rules", tmp_path / "alert_rules")
    for path, rule in _alerting_rules(tmp_path / "alert_rules"):
        text = path.read_text()
        changed = mutate(text, rule)
        if changed is not None and changed != text:
            path.write_text(changed)
            break
    else:
        pytest.fail("no generated alert rule to break")
    tests = tmp_path / "alert_rules" / "tests"
    result = promtool.test_rules([Path(p.name) for p in tests.glob("*.test.yml")], cwd=tests)
    assert not result.ok, f"{rule['alert']} was broken, yet its tests passed"
    assert "FAILED" in result.message


def test_promtool_wrapper_carries_promtools_own_message(promtool: Promtool, tmp_path: Path) -> None:
    bad = tmp_path / "bad.rules.yml"
    bad.write_text("groups:\n- name: x\n  rules:\n  - alert: Broken\n    expr: rate(foo[5m]\n")
    result = promtool.check_rules([bad])
    assert not result.ok
    assert "unclosed left parenthesis" in result.message
