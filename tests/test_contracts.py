"""The contracts in tests/contracts/ are what scripts/derive_contracts.py makes of ../shared/contracts."""

from __future__ import annotations

import json

import pytest

from tests.contracts import derive as contracts


@pytest.mark.parametrize("name", sorted(contracts.DERIVED))
def test_the_in_repository_contract_is_the_one_derived_from_the_published_files(name: str) -> None:
    text = (contracts.HERE / name).read_text(encoding="utf-8")

    assert json.loads(text), f"{name} is empty"
    assert text == contracts.render(json.loads(text)), f"{name} was edited by hand"
    if contracts.SHARED.is_dir():
        # On machines with ../shared beside the checkout the copy must agree with it: never skipped there.
        assert contracts.derived_text(name) == text, f"run scripts/derive_contracts.py: {name} is stale"


def test_derivation_keeps_field_names_and_drops_prose() -> None:
    schema = {"description": "prose", "title": "T", "type": "object",
              "properties": {"description": {"type": "string", "description": "a field named description"}}}

    assert contracts.strip_prose(schema) == {"type": "object", "properties": {"description": {"type": "string"}}}
