"""Shared fixtures: where the repository, its specs and the tools' published contracts are."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from generator.model import Spec
from generator.spec import load
from generator.tools import Promtool
from tests.contracts import load as load_contract

ROOT = Path(__file__).resolve().parent.parent
SPECS = (ROOT / "tradewatch.yaml", *sorted(ROOT.glob("examples/*/tradewatch.yaml")))


def spec_id(path: Path) -> str:
    return "default" if path.parent == ROOT else path.parent.name


def contract(name: str) -> dict[str, Any]:
    """A published schema, from tests/contracts/ (checked against ../shared/contracts where it exists)."""
    data: dict[str, Any] = load_contract(name)
    return data


@pytest.fixture(scope="session")
def promtool() -> Promtool:
    return Promtool.find()


@pytest.fixture(scope="session")
def default_spec() -> Spec:
    return load(ROOT / "tradewatch.yaml")
