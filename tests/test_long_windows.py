"""Windows over a day are tested at a coarse step instead of being refused (generator/teststep.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from generator import conventions, generate, teststep, writer
from generator.errors import SpecErrors
from generator.kinds import kind_of
from generator.spec import load, load_text
from generator.tools import Promtool
from generator.units import parse_duration
from tests.conftest import ROOT

LONG = ROOT / "tests" / "specs" / "good" / "long-windows.yaml"
DAY = 86400.0


@pytest.mark.parametrize(
    ("window", "holds", "step"),
    [pytest.param("1d", ["7m"], "1m", id="a-day-stays-at-one-minute"),
     pytest.param("5m", ["0s"], "1m", id="short-window"),
     pytest.param("30d", ["1h", "2h"], "1h", id="30d-at-the-coarsest-step-every-for-is-made-of"),
     pytest.param("30d", ["0s"], "12h", id="30d-no-for-still-60-steps-a-window"),
     pytest.param("7d", ["10m", "30m"], "10m", id="7d-at-its-fors-common-step"),
     pytest.param("90d", ["6h"], "6h", id="90d")],
)
def test_the_step_divides_the_window_and_every_for_within_the_step_budget(window: str, holds: list[str],
                                                                           step: str) -> None:
    chosen = teststep.step(parse_duration(window), [parse_duration(h) for h in holds])
    assert chosen == parse_duration(step)
    assert parse_duration(window) / chosen <= teststep.MAX_STEPS


@pytest.mark.parametrize(("window", "hold"), [("30d", "5m"), ("7d", "5m"), ("90d", "1h")])
def test_no_step_for_a_for_finer_than_the_window_allows(window: str, hold: str) -> None:
    assert teststep.step(parse_duration(window), [parse_duration(hold)]) is None


def _tests(files: dict[str, str]) -> dict[str, dict[str, Any]]:
    return {path: yaml.safe_load(text) for path, text in files.items()
            if path.startswith(conventions.RULE_TESTS_DIR) and "escalation" not in path}


def _group_of(tests: dict[str, dict[str, Any]], signal: str) -> tuple[str, dict[str, Any]]:
    # Group names read "<area>: <signal>, <signal>: what the group shows".
    (found,) = [(path, group) for path, doc in tests.items() for group in doc["tests"]
                if signal in group["name"].split(": ")[1].split(", ")]
    return found


def test_a_long_window_is_tested_at_a_coarse_step_in_a_file_of_its_own() -> None:
    spec = load(LONG)
    tests = _tests(generate.render(spec))
    steps = {"api_month": "1h", "rejects_week": "10m", "msgs_quarter": "6h", "pauses_week": "2h",
             # Free PromQL reading 30 days back, too.
             "uptime_month": "1h"}
    for signal, step in steps.items():
        path, group = _group_of(tests, signal)
        assert path == conventions.rule_test_file("main", step)
        # promtool evaluates a file's rules at its evaluation_interval: the group's samples match it.
        assert tests[path]["evaluation_interval"] == group["interval"] == step
        # Small: the timeline is at most the window plus the longest for plus a step.
        found = next(s for s in spec.signals if s.name == signal)
        window = parse_duration(kind_of(found).window(found) or "0s")
        # Signals that share a timeline run as long as the longest for among them.
        together = group["name"].split(": ")[1].split(", ")
        longest_for = max(parse_duration(t.for_) for a in spec.alerts for t in a.tiers if a.signal.name in together)
        end = max(parse_duration(c["eval_time"]) for c in group["alert_rule_test"])
        assert end <= window + longest_for + parse_duration(step)
        assert end / parse_duration(step) <= teststep.MAX_STEPS + longest_for / parse_duration(step) + 1
    # The short window beside them, on the same counter as msgs_quarter, stays at one minute.
    path, group = _group_of(tests, "msgs_now")
    assert path == conventions.rule_test_file("main")
    assert tests[path]["evaluation_interval"] == group["interval"] == "1m"


def test_a_spec_without_long_windows_has_no_coarse_files() -> None:
    spec = load(ROOT / "tradewatch.yaml")
    tests = _tests(generate.render(spec))
    assert not [path for path in tests if ".every-" in path]
    for area, _ in spec.areas():
        assert tests[conventions.rule_test_file(area)]["evaluation_interval"] == "1m"


def test_pending_one_step_before_firing_at_the_coarse_step() -> None:
    # ApiSlowThisMonth critical (for: 2h) at a 1h step: no alert one step before it first fires.
    tests = _tests(generate.render(load(LONG)))
    _, group = _group_of(tests, "api_month")
    checks = [c for c in group["alert_rule_test"] if c["alertname"] == "ApiSlowThisMonth"]
    def critical(check: dict[str, Any]) -> list[str]:
        return [a["exp_labels"]["job"] for a in check["exp_alerts"] if a["exp_labels"]["severity"] == "critical"]
    first = next(i for i, c in enumerate(checks) if critical(c))
    assert parse_duration(checks[first]["eval_time"]) - parse_duration(checks[first - 1]["eval_time"]) == 3600
    assert not critical(checks[first - 1])


def _write(tmp_path: Path) -> Path:
    writer.write(tmp_path, generate.render(load(LONG)))
    return tmp_path / conventions.RULE_TESTS_DIR


@pytest.mark.parametrize(
    ("old", "new"),
    [pytest.param("for: 2h\n", "for: 1h\n", id="for-halved-at-a-1h-step"),
     pytest.param("for: 30m\n", "for: 20m\n", id="for-shortened-by-one-10m-step"),
     pytest.param("ratio_rate7d > 0.05\n", "ratio_rate7d > 0.0515\n", id="threshold-moved-3pct"),
     pytest.param("[90d]", "[60d]", id="90d-window-shortened")],
)
def test_coarse_tests_catch_a_rule_that_drifted(promtool: Promtool, tmp_path: Path, old: str, new: str) -> None:
    tests = _write(tmp_path)
    rules = tmp_path / conventions.rule_file("main")
    text = rules.read_text()
    assert text.count(old) >= 1, old
    rules.write_text(text.replace(old, new, 1))
    coarse = sorted(Path(p.name) for p in tests.glob("main.every-*.test.yml"))
    result = promtool.test_rules(coarse, cwd=tests)
    assert not result.ok, f"{old.strip()} became {new.strip()}, yet the coarse tests passed"
    assert "FAILED" in result.message


def test_validate_names_a_for_no_coarse_step_can_divide() -> None:
    text = LONG.read_text().replace("critical: {above: 5%, for: 30m}", "critical: {above: 5%, for: 15m}")
    with pytest.raises(SpecErrors) as caught:
        load_text(text, "lw.yaml")
    (error,) = caught.value.errors
    assert error.path == "alerts.RejectsHighThisWeek.tiers.critical.for"
    assert error.line == text.splitlines().index("  RejectsHighThisWeek:") + 5
    assert "make the for a multiple of 10m (e.g. 20m)" in error.message
