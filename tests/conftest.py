"""Shared fixtures: where the repository, its specs and the tools' published contracts are."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from generator.model import Spec
from generator.spec import load
from generator.tools import Promtool

ROOT = Path(__file__).resolve().parent.parent
CONTRACTS = ROOT.parent / "shared" / "contracts"
SPECS = (ROOT / "tradewatch.yaml", *sorted(ROOT.glob("examples/*/tradewatch.yaml")))


def spec_id(path: Path) -> str:
    return "default" if path.parent == ROOT else path.parent.name


def contract(name: str) -> dict[str, Any]:
    """A published schema from ../shared/contracts (CI has shared/ beside the clone)."""
    path = CONTRACTS / name
    if not path.exists():
        pytest.fail(f"{path} is missing: the tests need ../shared/contracts beside the repository")
    data: dict[str, Any] = json.loads(path.read_text())
    return data


@pytest.fixture(scope="session")
def promtool() -> Promtool:
    return Promtool.find()


@pytest.fixture(scope="session")
def default_spec() -> Spec:
    return load(ROOT / "tradewatch.yaml")
