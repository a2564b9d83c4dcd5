"""Data flows one way: spec file -> parse/validate -> model -> emitters. An emitter that imported
the spec parser could read the spec's shape instead of the model, and drift from what validation checked."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EMITTERS = sorted((ROOT / "generator" / "emit").glob("*.py"))
PARSING = {"generator.spec", "generator.spec_panels", "generator.yamlsource"}


def imported(path: Path) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
            out |= {f"{node.module}.{alias.name}" for alias in node.names}
    return out


@pytest.mark.parametrize("path", EMITTERS, ids=lambda p: p.stem)
def test_no_emitter_imports_spec_parsing(path: Path) -> None:
    assert not imported(path) & PARSING, f"{path.name} imports {sorted(imported(path) & PARSING)}"


# Pure emitters sit below what runs them: deploy, the demo, the exporter's command line, the report.
RUNNERS = ("generator.deploy", "generator.demo", "generator.report", "exporters.commands", "exporters.cli")


@pytest.mark.parametrize("path", EMITTERS, ids=lambda p: p.stem)
def test_no_emitter_imports_what_runs_it(path: Path) -> None:
    reaching = sorted(m for m in imported(path) if m.startswith(RUNNERS))
    assert not reaching, f"{path.name} imports {reaching}"
