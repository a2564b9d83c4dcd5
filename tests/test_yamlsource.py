"""Specs are parsed by libyaml's scanner under PyYAML's composer: the same values and marks as pure PyYAML."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator import yamlsource
from tests.conftest import ROOT, SPECS

GOOD = sorted((ROOT / "tests" / "specs" / "good").glob("*.yaml"))


ODD_BUT_VALID = """\
version: 1  # a comment
name: "démo — ünïcode"
title: 'x'   # après
dashboards: {a: {title: "é, tab\\tand emoji 🚀", after: 1}}
folded: >
  folded
  text
anchors: &shared {k: [1, 2.5, .inf, 0x1F, 0o17, ~, yes, "2026-01-01", "q"]}
again: *shared
block: |
  line
  line 2
"""


@pytest.mark.parametrize("path", [*SPECS, *GOOD], ids=lambda p: p.parent.name + "/" + p.stem)
def test_libyaml_reads_each_spec_as_pure_pyyaml_does(path: Path) -> None:
    # Specs are parsed by libyaml's scanner under PyYAML's composer for speed; what each value is and
    # the line and column every error names must not change with that.
    text = path.read_text()
    fast, pure = yamlsource.parse(text, "t.yaml"), _pure_parse(text)
    assert fast.data == pure.data
    assert fast.marks == pure.marks


def test_libyaml_and_pure_pyyaml_agree_on_unicode_columns_anchors_and_scalar_types() -> None:
    fast, pure = yamlsource.parse(ODD_BUT_VALID, "t.yaml"), _pure_parse(ODD_BUT_VALID)
    assert fast.data == pure.data
    assert fast.marks == pure.marks
    assert fast.marks[("dashboards", "a", "after")] == (4, 48)  # columns count characters, not bytes


def _pure_parse(text: str) -> yamlsource.Located:
    fast = yamlsource._FastLoader
    assert fast is not None, "PyYAML is installed with libyaml"
    yamlsource._FastLoader = None
    try:
        return yamlsource.parse(text, "t.yaml")
    finally:
        yamlsource._FastLoader = fast
