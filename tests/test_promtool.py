"""promtool, the version-exact judge, on everything the specs generate."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.kinds import kind_of
from generator.model import Expr
from generator.spec import load
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


# --- every kind's recording rule, broken on purpose ------------------------------------------------

@dataclass(frozen=True)
class RuleBreak:
    """A hand-made mistake in one signal's rule, as a person editing the rule file might make it."""

    spec: Path
    signal: str
    how: str
    # The rule to break (a record name, or an alert name for kinds that record nothing).
    rule: str
    old: str
    new: str

    def __str__(self) -> str:
        return f"{spec_id(self.spec)}-{self.signal}-{self.how}"


def _by_without(expr: str, label: str) -> str:
    return re.sub(rf"by \(([^)]*)\b{label}\b(, )?", lambda m: f"by ({m[1]}", expr).replace(", )", ")")


def _breaks() -> list[RuleBreak]:
    """For one signal of every kind in the repo's specs: its metric renamed, a grouping label
    dropped, and the kind's own subtle mistakes (the bucket bound, the per-instance grouping)."""
    out: list[RuleBreak] = []
    seen: set[str] = set()
    for path in SPECS:
        spec = load(path)
        for signal in spec.signals:
            kind = kind_of(signal)
            if not spec.alerts_on(signal):
                continue
            records = kind.records(signal)
            if records:
                rule, expr = records[0].name, records[0].expr
            else:
                alert = spec.alerts_on(signal)[0]
                rule, expr = alert.name, kind.alert_expr(signal, alert.tiers[0], spec.job)
            metric = kind.metrics(signal)[0]
            mistakes = {"wrong-metric": re.sub(rf"\b{metric}(?=(_bucket|_count|_sum)?\b)", f"{metric}_typo", expr,
                                               count=1),
                        "job-dropped": _by_without(expr, "job")}
            if "le)" in expr:
                mistakes["le-dropped"] = _by_without(expr, "le")
            if (le := re.search(r'le="([^"]+)"', expr)) is not None:
                mistakes["wrong-le"] = expr.replace(le[0], 'le="+Inf"')
            if kind.per_instance:
                mistakes["fleet-wide"] = _by_without(expr, "instance")
            breaks = [RuleBreak(path, signal.name, how, rule, expr, new) for how, new in mistakes.items()]
            # Series recorded beside the one alerts read (a P50 beside the alerting P99).
            breaks += [RuleBreak(path, signal.name, f"{r.name}-wrong-metric", r.name, r.expr,
                                 re.sub(rf"\b{metric}(?=(_bucket|_count|_sum)?\b)", f"{metric}_typo", r.expr))
                       for r in records[1:]]
            for mistake in breaks:
                # Free PromQL is different in every signal: each one's rule is broken.
                each = f"{path}-{signal.name}" if isinstance(signal.query, Expr) else ""
                key = f"{type(kind).__name__}-{mistake.how.split(':')[-1]}{each}"
                if key not in seen:
                    seen.add(key)
                    out.append(mistake)
    return out


@pytest.mark.parametrize("mistake", _breaks(), ids=str)
def test_breaking_any_kinds_rule_turns_its_generated_tests_red(
        promtool: Promtool, tmp_path: Path, mistake: RuleBreak) -> None:
    assert mistake.new != mistake.old, f"{mistake}: the mistake changed nothing"
    rules_dir = tmp_path / "alert_rules"
    shutil.copytree(mistake.spec.parent / "alert_rules", rules_dir)
    for path in rules_dir.glob("*.rules.yml"):
        doc = yaml.safe_load(path.read_text())
        hits = [r for g in doc["groups"] for r in g["rules"] if mistake.rule in (r.get("record"), r.get("alert"))]
        for rule in hits:
            assert rule["expr"] == mistake.old
            rule["expr"] = mistake.new
        if hits:
            path.write_text(yaml.safe_dump(doc, sort_keys=False))
            test_file = rules_dir / "tests" / path.name.replace(".rules.yml", ".test.yml")
            break
    else:
        pytest.fail(f"{mistake.rule} is in no rule file")
    assert promtool.check_rules([path]).ok, f"{mistake}: the broken rule should still load"
    result = promtool.test_rules([Path(test_file.name)], cwd=test_file.parent)
    assert not result.ok, f"{mistake}: {mistake.new!r} replaced {mistake.old!r}, yet the tests passed"
    assert "FAILED" in result.message


@pytest.mark.parametrize("spec_path", SPECS, ids=spec_id)
def test_every_tier_and_per_label_threshold_is_seen_firing_from_raw_series(spec_path: Path) -> None:
    # The generated tests pass (above); here: for each tier and per-label threshold, one of them
    # expects the alert firing, and none of them feeds the recorded series the alert reads.
    spec = load(spec_path)
    firing: set[tuple[str, str, str]] = set()
    fed: set[str] = set()
    for path in (spec_path.parent / "alert_rules" / "tests").glob("*.test.yml"):
        for group in yaml.safe_load(path.read_text())["tests"]:
            fed |= {s["series"].split("{")[0] for s in group["input_series"]}
            for check in group.get("alert_rule_test", []):
                for exp in check["exp_alerts"]:
                    labels = exp["exp_labels"]
                    firing |= {(check["alertname"], labels["severity"], f"{k}={v}") for k, v in labels.items()}
                    firing.add((check["alertname"], labels["severity"], ""))
    rules = [rule for path in (spec_path.parent / "alert_rules").glob("*.rules.yml")
             for group in yaml.safe_load(path.read_text())["groups"] for rule in group["rules"]]
    # No test file feeds a series some rule records (the regression alerts' KPIs included) ...
    recorded = {rule["record"] for rule in rules if "record" in rule}
    assert not recorded & fed, f"recorded series fed to tests: {sorted(recorded & fed)}"
    # ... and every alerting rule, the SLO, health, regression and escalation ones too, is seen firing.
    seen = {name for name, _, _ in firing}
    assert not {rule["alert"] for rule in rules if "alert" in rule} - seen
    for alert in spec.alerts:
        for tier in alert.tiers:
            assert (alert.name, tier.severity, "") in firing, f"{alert.name} {tier.severity} never fires"
            for o in tier.overrides:
                assert (alert.name, tier.severity, f"{o.label}={o.value}") in firing, \
                    f"{alert.name} {tier.severity} never fires for {o.label}={o.value}"
