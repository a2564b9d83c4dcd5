"""The real tools' contracts, as tests read them: ``load("grafana-api.json")``.

The files here are derived from ``../shared/contracts`` by ``scripts/derive_contracts.py``
(see ``derive.py``). A clone of the repository alone reads them as they are; where
``../shared/contracts`` exists, every load also re-derives the file from it and fails the test if
the two disagree, so a stale copy can never hide a contract change.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest

from tests.contracts.derive import DERIVED, HERE, SHARED, derived_text


@cache
def _text(name: str) -> str:
    if name not in DERIVED:
        raise KeyError(f"{name} is not a contract file; known: {', '.join(DERIVED)}")
    text = (HERE / name).read_text(encoding="utf-8")
    if SHARED.is_dir() and derived_text(name) != text:
        pytest.fail(f"tests/contracts/{name} no longer agrees with {SHARED}: run scripts/derive_contracts.py "
                    "and review the change")
    return text


def load(name: str) -> Any:
    """A contract file's data (a fresh copy each call: callers may change it)."""
    return json.loads(_text(name))
