"""The spec: good specs build, bad specs each give their own clear error at the right line."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path
from typing import get_args

import pytest

from exporters.catalogue import MetricUnit
from generator import generate, writer
from generator.cli import main
from generator.errors import SpecErrors
from generator.model import Absent, Gauge, Quantile, Ratio, Spec, State
from generator.spec import SCHEMA_PATH, external_unit, load, load_text
from generator.tools import Promtool
from generator.units import UNIT_DIMENSION, Dimension, Duration, UnitError
from tests.conftest import ROOT

BAD = sorted((ROOT / "tests" / "specs" / "bad").glob("*.yaml"))
GOOD = sorted((ROOT / "tests" / "specs" / "good").glob("*.yaml"))


def expected_error(path: Path) -> str:
    first = path.read_bytes().decode("utf-8", "replace").splitlines()[0]
    assert first.startswith("# expect: "), f"{path.name} must start with '# expect: LINE:COL: PATH: MESSAGE'"
    return first.removeprefix("# expect: ")


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.stem)
def test_bad_spec_reports_file_line_and_path(path: Path) -> None:
    with pytest.raises(SpecErrors) as caught:
        load(path)
    lines = [str(e) for e in caught.value.errors]
    prefix = f"{path}:{expected_error(path)}"
    assert any(line.startswith(prefix) for line in lines), "\n".join(lines)


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.stem)
def test_the_cli_refuses_each_bad_spec_with_its_error_and_no_traceback(
    path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}:{expected_error(path)}" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("name", ["yaml-billion-laughs", "yaml-deep-nesting"])
def test_hostile_yaml_fails_fast_in_bounded_memory(name: str) -> None:
    # A separate process with a 512 MiB address-space cap: expanding the aliases or recursing
    # 5,000 levels would exhaust it (or the timeout) instead of printing the one error.
    path = ROOT / "tests" / "specs" / "bad" / f"{name}.yaml"
    limit = 512 * 2**20
    proc = subprocess.run(
        [sys.executable, "-m", "generator", "validate", str(path)], capture_output=True, text=True, timeout=20,
        cwd=ROOT, preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (limit, limit)), check=False,
    )
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.startswith(f"{path}:{expected_error(path)}"), proc.stderr


def test_every_error_is_reported_not_just_the_first() -> None:
    text = (ROOT / "tests/specs/good/minimal.yaml").read_text()
    text = text.replace("above: 200ms", "above: 200")
    text = text.replace("summary: Node slow", "summary: Node slow\n    x: 1")
    text = text.replace("title: Latency", "title: Latency, colour: red")
    with pytest.raises(SpecErrors) as caught:
        load_text(text, "t.yaml")
    paths = {e.path for e in caught.value.errors}
    assert {"alerts.NodeLatencyHigh.x", "dashboards.latency.colour"} <= paths


@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.stem)
def test_good_spec_generates_rules_and_tests_promtool_accepts(path: Path, tmp_path: Path,
                                                               promtool: Promtool) -> None:
    files = generate.render(load(path))
    writer.write(tmp_path, files)
    rules = sorted((tmp_path / "alert_rules").glob("*.rules.yml"))
    assert promtool.check_rules(rules).ok, promtool.check_rules(rules).message
    tests = tmp_path / "alert_rules" / "tests"
    result = promtool.test_rules(sorted(Path(p.name) for p in tests.glob("*.test.yml")), cwd=tests)
    assert result.ok, result.message


def test_default_spec_models_every_alert_of_the_domain(default_spec: Spec) -> None:
    # The kinds and directions of the users' alerts; the numbers are theirs to edit.
    alerts = {a.name: a for a in default_spec.alerts}
    node = alerts["SolanaNodeLatencyHigh"]
    assert isinstance(node.signal.query, Quantile)
    assert node.signal.dim is Dimension.TIME
    assert [(t.severity, t.op) for t in node.tiers] == [("critical", ">")]
    failure = alerts["TradeFailureRateHigh"]
    assert [t.severity for t in failure.tiers] == ["critical", "warning"]
    assert isinstance(alerts["MevAvoidanceLow"].signal.query, Ratio)
    assert alerts["MevAvoidanceLow"].tiers[0].op == "<"
    breaker = alerts["CircuitBreakerOpen"]
    assert isinstance(breaker.signal.query, State)
    assert breaker.tiers[0].display == "open"
    assert breaker.inhibits == ("TradeFailureRateHigh", "TradeExecutionLatencyHigh")
    memory = alerts["MemoryUsageHigh"].signal.query
    assert isinstance(memory, Gauge)
    assert memory.divide_by is not None


def test_sla_multipliers_resolve_against_the_objective() -> None:
    spec = load(ROOT / "examples/sla-contracts/tradewatch.yaml")
    tiers = {a.name: a.tiers for a in spec.alerts}["TokenValidatorSlow"]
    assert [(t.severity, round(t.threshold or 0, 9), t.display) for t in tiers] == [
        ("critical", 0.006, "6ms"), ("warning", 0.0045, "4.5ms")]


def test_per_label_thresholds_and_absence() -> None:
    spec = load(ROOT / "examples/defi-testnet/tradewatch.yaml")
    alerts = {a.name: a for a in spec.alerts}
    override = alerts["ApiEndpointSlow"].tiers[0].overrides[0]
    assert (override.label, override.value, override.threshold) == ("endpoint", "trade_execution", 5.0)
    assert isinstance(alerts["OracleMetricsAbsent"].signal.query, Absent)
    assert alerts["OracleMetricsAbsent"].tiers[0].threshold is None


@pytest.mark.parametrize("text", ["5m", "1h30m", "1d2h3m4s5ms", "0", "0s", "292y", "30s1m", "1m1m", "1.5h", "5 m",
                                  "", "1h1y", "293y", "99999999999999999999999s", "5M", "-1m"])
def test_durations_are_judged_as_prometheus_judges_them(text: str, tmp_path: Path, promtool: Promtool) -> None:
    rules = tmp_path / "r.yml"
    rules.write_text(f'groups: [{{name: g, rules: [{{alert: A, expr: vector(1), for: "{text}"}}]}}]\n')
    prometheus_accepts = promtool.check_rules([rules]).ok
    try:
        Duration(text)
        accepted = True
    except UnitError:
        accepted = False
    assert accepted == prometheus_accepts


def test_one_unit_list_the_catalogue_the_schema_file_and_the_dimensions_agree() -> None:
    # Editors read the schema file; validation takes the list from the catalogue. They must not drift.
    units = list(get_args(MetricUnit))
    assert external_unit(json.loads(SCHEMA_PATH.read_text()))["enum"] == units
    assert set(UNIT_DIMENSION) == set(units)
