"""`tradewatch generate` as a user runs it: one edit, one number changes; a typo changes nothing."""

from __future__ import annotations

import difflib
import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from generator import conventions, generate, promql, writer
from generator.cli import main
from generator.emit.promtool_tests import MARGIN
from generator.prove import Output, Proof, prove
from generator.spec import load
from generator.tools import Promtool
from generator.units import Dimension, format_quantity, parse_quantity
from generator.yamlsource import parse
from tests.conftest import ROOT, SPECS, spec_id


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A copy of the default spec with its committed generated files, as in a fresh clone."""
    spec = tmp_path / "tradewatch.yaml"
    shutil.copy(ROOT / "tradewatch.yaml", spec)
    # The committed baseline the spec's regression rules compare with is an input too.
    shutil.copy(ROOT / conventions.BASELINE_FILE, tmp_path / conventions.BASELINE_FILE)
    for rel in generate.render(load(spec)):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / rel, tmp_path / rel)
    return tmp_path


def snapshot(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_committed_outputs_are_what_the_spec_generates(spec: Path) -> None:
    files = generate.render(load(spec))
    drift = writer.compare(spec.parent, files)
    details: list[str] = []
    for rel in drift.changed:
        details += difflib.unified_diff((spec.parent / rel).read_text().splitlines(), files[rel].splitlines(),
                                        rel, rel, lineterm="", n=0)
    assert not drift, "\n".join(drift.lines() + details[:40] + ["run `make generate` and commit"])


@dataclass(frozen=True)
class Edit:
    """Where one latency threshold of the spec is written, and what it says."""

    alert: str
    dashboard: str
    line: int  # 1-based
    value: float


def a_latency_threshold(spec_path: Path) -> Edit:
    """The first single-tier latency alert of the spec, wherever the user has moved it."""
    spec = load(spec_path)
    located = parse(spec_path.read_text(), str(spec_path))
    for alert in spec.alerts:
        tier = alert.tiers[0]
        if alert.signal.dim is Dimension.TIME and len(alert.tiers) == 1 and tier.op == ">" and tier.threshold:
            line, _ = located.where(("alerts", alert.name, "tiers", tier.severity, "above"))
            return Edit(alert.name, alert.signal.dashboard, line, tier.threshold)
    raise AssertionError("the default spec has no single-tier latency alert to edit")


def _rewrite_line(path: Path, line: int, old: str, new: str) -> None:
    lines = path.read_text().splitlines(keepends=True)
    assert old in lines[line - 1], lines[line - 1]
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    path.write_text("".join(lines))


def test_editing_one_threshold_changes_that_number_in_rule_panel_and_test_only(workspace: Path) -> None:
    spec = workspace / "tradewatch.yaml"
    edit = a_latency_threshold(spec)
    old, new = format_quantity(edit.value, Dimension.TIME), format_quantity(edit.value * 1.1, Dimension.TIME)
    new_value = parse_quantity(new, Dimension.TIME)
    before = {p: (workspace / p).read_text() for p in snapshot(workspace)}
    _rewrite_line(spec, edit.line, f"above: {old}", f"above: {new}")
    assert main(["generate", str(spec)]) == 0
    after = {p: (workspace / p).read_text() for p in snapshot(workspace)}
    changed = {p for p in after if before.get(p) != after[p]} - {"tradewatch.yaml", conventions.BASELINE_FILE}
    assert changed == {f"alert_rules/{edit.dashboard}.rules.yml", f"dashboards/{edit.dashboard}.json",
                       f"alert_rules/tests/{edit.dashboard}.test.yml", "docs/runbooks.md"}
    # Every changed line is about the threshold: the number itself or the test values beside it.
    values = [v * f for v in (edit.value, new_value) for f in (1, 1 + MARGIN, 1 - MARGIN)]
    renderings = {format_quantity(v, Dimension.TIME) for v in values}
    renderings |= {promql.number(float(f"{v:.6g}")) for v in values}
    for path in changed:
        diff = [line for line in difflib.unified_diff(before[path].splitlines(), after[path].splitlines(), n=0,
                                                     lineterm="")
                if line[:1] in "+-" and not line.startswith(("+++", "---"))]
        assert diff, path
        # In the tests, the raw series that produce the values beside the threshold change too.
        assert all(any(r in line for r in renderings) or (path.endswith(".test.yml") and "values:" in line)
                   for line in diff), (path, diff)
    assert f"> {promql.number(new_value)}" in after[f"alert_rules/{edit.dashboard}.rules.yml"]


def test_a_typo_in_the_spec_names_the_line_and_leaves_every_file_as_it_was(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = workspace / "tradewatch.yaml"
    good = snapshot(workspace)
    edit = a_latency_threshold(spec)
    _rewrite_line(spec, edit.line, "above:", "abve:")
    assert main(["generate", str(spec)]) == 1
    err = capsys.readouterr().err
    assert f"{spec}:{edit.line}:" in err
    assert "unknown key 'abve'; did you mean 'above'?" in err
    assert "no file was written" in err
    after = snapshot(workspace)
    del after["tradewatch.yaml"], good["tradewatch.yaml"]
    assert after == good


def test_check_reports_drift_missing_and_stale_files_and_generate_repairs_them(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = str(workspace / "tradewatch.yaml")
    (workspace / "dashboards/latency.json").write_text("{}\n")
    (workspace / "alert_rules/mev.rules.yml").unlink()
    stale = workspace / "alert_rules/retired.rules.yml"
    stale.write_text((workspace / "alert_rules/system.rules.yml").read_text())
    notes = workspace / "docs/on-call.md"
    notes.write_text("# Our on-call notes\n")
    assert main(["generate", "--check", spec]) == 1
    err = capsys.readouterr().err
    assert "dashboards/latency.json: changed" in err
    assert "alert_rules/mev.rules.yml: missing" in err
    assert "alert_rules/retired.rules.yml: not generated any more" in err
    assert main(["generate", spec]) == 0
    assert main(["generate", "--check", spec]) == 0
    assert not stale.exists()
    assert notes.read_text() == "# Our on-call notes\n", "docs/ may hold files people write"


@pytest.mark.parametrize("rel", ["alert_rules/hand-written.rules.yml", "alert_rules/tests/extra.test.yml",
                                 "dashboards/team/mine.json", "provisioning/datasources/other.yml"])
def test_any_file_the_spec_did_not_generate_in_a_loaded_folder_is_drift_and_is_never_deleted(
    workspace: Path, rel: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Prometheus loads alert_rules/*.rules.yml and Grafana every dashboard file, header or not.
    spec = str(workspace / "tradewatch.yaml")
    mine = workspace / rel
    mine.parent.mkdir(parents=True, exist_ok=True)
    mine.write_text("groups: []\n")
    (workspace / "dashboards/latency.json").write_text("{}\n")
    assert main(["generate", "--check", spec]) == 1
    assert f"{rel}: not generated by the spec" in capsys.readouterr().err
    assert main(["generate", spec]) == 1
    assert f"{mine}: not generated by the spec" in capsys.readouterr().err
    assert mine.read_text() == "groups: []\n"
    assert (workspace / "dashboards/latency.json").read_text() == "{}\n", "nothing is written"
    mine.unlink()
    assert main(["generate", spec]) == 0
    assert main(["generate", "--check", spec]) == 0


def test_generate_writes_nothing_when_promtool_refuses_the_output(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The PromQL parser knows mad_over_time() (Prometheus 3); the installed promtool does not. The final
    # judge is promtool, run on the complete output before anything is written.
    spec = workspace / "tradewatch.yaml"
    text = spec.read_text()
    signal = ("  uptime:\n    title: Uptime spread\n    dashboard: system\n"
              "    expr: {expr: 'avg by (job) (mad_over_time(up[5m]))', unit: count, metrics: [up]}\n")
    metrics = "\nexternal_metrics:\n  up: {type: gauge, unit: count}"
    text = text.replace("\nsignals:\n", f"{metrics}\nsignals:\n{signal}", 1)
    spec.write_text(text)
    before = snapshot(workspace)
    assert main(["generate", str(spec)]) == 1
    err = capsys.readouterr().err
    assert "promtool check rules refused the generated rules" in err
    assert f"{workspace}/alert_rules/system.rules.yml" in err
    assert 'unknown function with name "mad_over_time"' in err
    assert "no file was written" in err
    assert snapshot(workspace) == before


def test_the_generated_tests_are_run_before_anything_is_written(workspace: Path, promtool: Promtool) -> None:
    # A spec cannot make its own tests fail (validation refuses what they cannot cover), so play a
    # generator bug: a recording rule that reads the wrong bucket. Only the tests whose files changed run.
    spec_path = workspace / "tradewatch.yaml"
    spec = load(spec_path)
    files = generate.render(spec)
    rules = "alert_rules/latency.rules.yml"
    assert 'rate(trade_execution_latency_seconds_bucket[' in files[rules]
    broken = {**files, rules: files[rules].replace("trade_execution_latency_seconds_bucket[",
                                                   'trade_execution_latency_seconds_bucket{le!="0.1"}[')}
    problems = prove([Output(workspace, broken, spec, str(spec_path))], promtool)
    said = "\n".join(problems)
    assert "promtool test rules failed on the generated tests" in said
    assert f"{workspace}/alert_rules/tests/latency.test.yml" in said
    assert "/tmp/tradewatch-prove-" not in said, "paths are the ones the user knows"
    assert prove([Output(workspace, files, spec, str(spec_path))], promtool, every_test=True) == []


def test_rule_files_that_differ_from_the_early_check_are_checked_again(workspace: Path, promtool: Promtool) -> None:
    # generate starts promtool check rules on each spec's rules while the rest renders; what it
    # judged must be what is written, or the files are checked again.
    spec_path = workspace / "tradewatch.yaml"
    spec = load(spec_path)
    files = generate.render(spec)
    rules = "alert_rules/latency.rules.yml"
    broken = {**files, rules: files[rules].replace("rate(", "rate_of(", 1)}
    with Proof(promtool) as proof:
        proof.early(0, files)
        said = "\n".join(proof.finish([Output(workspace, broken, spec, str(spec_path))]))
    assert "promtool check rules refused the generated rules" in said
    assert f"{workspace}/alert_rules/latency.rules.yml" in said
    with Proof(promtool) as proof:
        proof.early(0, broken)
        assert proof.finish([Output(workspace, files, spec, str(spec_path))]) == []


def test_windows_longer_than_the_tests_cover_are_refused(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = workspace / "tradewatch.yaml"
    text = spec.read_text()
    assert "window: 15m" in text
    spec.write_text(text.replace("window: 15m", "window: 91d", 1))
    before = snapshot(workspace)
    assert main(["generate", str(spec)]) == 1
    assert "91d is longer than 90d, the longest window tradewatch generates rules and promtool tests for" \
        in capsys.readouterr().err
    assert snapshot(workspace) == before


def test_generation_is_byte_stable(workspace: Path) -> None:
    first = snapshot(workspace)
    assert main(["generate", str(workspace / "tradewatch.yaml")]) == 0
    assert snapshot(workspace) == first


def test_validate_accepts_good_specs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", *map(str, SPECS)]) == 0
    assert capsys.readouterr().out.count(": ok") == len(SPECS)


def test_a_missing_spec_file_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(tmp_path / "nope.yaml")]) == 1
    assert "cannot read the spec: No such file or directory" in capsys.readouterr().err
