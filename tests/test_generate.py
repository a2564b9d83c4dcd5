"""`tradewatch generate` as a user runs it: one edit, one number changes; a typo changes nothing."""

from __future__ import annotations

import difflib
import hashlib
import shutil
from pathlib import Path

import pytest

from generator import generate, writer
from generator.cli import main
from generator.spec import load
from tests.conftest import ROOT, SPECS, spec_id


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A copy of the default spec with its generated files, as in a fresh clone."""
    spec = tmp_path / "tradewatch.yaml"
    shutil.copy(ROOT / "tradewatch.yaml", spec)
    assert main(["generate", str(spec)]) == 0
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


def test_editing_one_threshold_changes_that_number_in_rule_panel_and_test_only(workspace: Path) -> None:
    spec = workspace / "tradewatch.yaml"
    before = {p: (workspace / p).read_text() for p in snapshot(workspace)}
    spec.write_text(spec.read_text().replace("critical: {above: 200ms, for: 1m}", "critical: {above: 250ms, for: 1m}"))
    assert main(["generate", str(spec)]) == 0
    after = {p: (workspace / p).read_text() for p in snapshot(workspace)}
    changed = {p for p in after if before.get(p) != after[p]} - {"tradewatch.yaml"}
    assert changed == {"alert_rules/latency.rules.yml", "dashboards/latency.json", "alert_rules/tests/latency.test.yml",
                       "docs/runbooks.md"}
    # Every changed line is about the threshold: the number itself or values derived from it.
    renderings = ("0.2", "0.25", "200ms", "250ms", "0.204", "0.255", "204ms", "255ms", "0.196", "0.245",
                  "196ms", "245ms")
    for path in changed:
        diff = [line for line in difflib.unified_diff(before[path].splitlines(), after[path].splitlines(), n=0,
                                                     lineterm="")
                if line[:1] in "+-" and not line.startswith(("+++", "---"))]
        assert diff, path
        assert all(any(r in line for r in renderings) for line in diff), (path, diff)
    rules = after["alert_rules/latency.rules.yml"]
    assert "job:node_latency:p99_5m > 0.25" in rules
    assert '"value": 0.25' in after["dashboards/latency.json"]


def test_a_typo_in_the_spec_names_the_line_and_leaves_every_file_as_it_was(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = workspace / "tradewatch.yaml"
    good = snapshot(workspace)
    text = spec.read_text().replace("critical: {above: 200ms, for: 1m}", "critical: {abve: 250ms, for: 1m}")
    spec.write_text(text)
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "abve" in t)
    assert main(["generate", str(spec)]) == 1
    err = capsys.readouterr().err
    assert f"{spec}:{line}:" in err
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
    mine = workspace / "alert_rules/hand-written.rules.yml"
    mine.write_text("groups: []\n")
    assert main(["generate", "--check", spec]) == 1
    err = capsys.readouterr().err
    assert "dashboards/latency.json: changed" in err
    assert "alert_rules/mev.rules.yml: missing" in err
    assert "alert_rules/retired.rules.yml: not generated any more" in err
    assert main(["generate", spec]) == 0
    assert main(["generate", "--check", spec]) == 0
    assert not stale.exists()
    assert mine.read_text() == "groups: []\n", "a file tradewatch did not generate must be left alone"


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
