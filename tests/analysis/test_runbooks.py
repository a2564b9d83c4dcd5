"""Every alert's runbook link opens a section of the generated runbooks, analysis alerts included."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from generator import generate
from generator.spec import load
from tests.conftest import SPECS, spec_id


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_every_runbook_url_has_its_section(spec: Path) -> None:
    model = load(spec)
    files = generate.render(model)
    headings = {line[3:].lower() for line in files["docs/runbooks.md"].splitlines() if line.startswith("## ")}
    base = model.runbook_base.rstrip("/") + "#"
    checked = 0
    for path, text in files.items():
        if not path.endswith(".rules.yml"):
            continue
        for group in yaml.safe_load(text.split("\n", 1)[1])["groups"]:
            for rule in group["rules"]:
                url = rule.get("annotations", {}).get("runbook_url", "")
                if url.startswith(base):
                    assert url.removeprefix(base) in headings, f"{rule['alert']}: no section for {url}"
                    checked += 1
    assert checked
