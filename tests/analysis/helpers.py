"""Specs derived from the default one, and the analysis outputs promtool runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator import generate
from generator.errors import SpecError, SpecErrors
from generator.spec import load_text
from generator.tools import Promtool
from tests.conftest import ROOT

DEFAULT = (ROOT / "tradewatch.yaml").read_text()


def errors_of(text: str) -> list[SpecError]:
    with pytest.raises(SpecErrors) as caught:
        load_text(text, "spec.yaml")
    return caught.value.errors


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def run_area_tests(promtool: Promtool, text: str, area: str, tmp_path: Path,
                   mutate: tuple[str, str] | None = None) -> tuple[bool, str]:
    """Generate ``text``, optionally replace a string in the area's rule file, run its promtool test."""
    files = generate.render(load_text(text, "tradewatch.yaml"))
    rules = files[f"alert_rules/{area}.rules.yml"]
    if mutate is not None:
        assert mutate[0] in rules, f"{mutate[0]!r} is not in the generated rules"
        rules = rules.replace(mutate[0], mutate[1])
    (tmp_path / "tests").mkdir()
    (tmp_path / f"{area}.rules.yml").write_text(rules)
    (tmp_path / "tests" / f"{area}.test.yml").write_text(files[f"alert_rules/tests/{area}.test.yml"])
    result = promtool.test_rules([Path(f"{area}.test.yml")], cwd=tmp_path / "tests")
    return result.ok, result.message
