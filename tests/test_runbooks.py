"""Every runbook link of every spec opens a section that exists: the link's file is the runbook
page generated beside that spec, and its anchor is a heading of that page as GitHub renders it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, SPECS, spec_id

REPOSITORY = "https://github.com/tradewatch/tradewatch/blob/main/"


def github_anchors(markdown: str) -> set[str]:
    """The ids GitHub gives a page's headings: lower case, punctuation dropped, spaces to dashes."""
    anchors = set()
    for line in markdown.splitlines():
        heading = re.match(r"#{1,6} (.+)", line)
        if heading:
            text = re.sub(r"[^\w\- ]", "", heading.group(1).strip().lower())
            anchors.add(text.replace(" ", "-"))
    return anchors


def runbook_links(spec: Path) -> list[str]:
    links = []
    for path in sorted((spec.parent / "alert_rules").glob("*.rules.yml")):
        for group in yaml.safe_load(path.read_text())["groups"]:
            links += [r["annotations"]["runbook_url"] for r in group["rules"] if "alert" in r]
    return links


def broken(spec: Path, links: list[str]) -> list[str]:
    """The links that do not open a section of the runbook page generated beside ``spec``."""
    own = (spec.parent / "docs" / "runbooks.md").relative_to(ROOT).as_posix()
    anchors = github_anchors((spec.parent / "docs" / "runbooks.md").read_text())
    out = []
    for link in links:
        page, _, anchor = link.removeprefix(REPOSITORY).partition("#")
        if not link.startswith(REPOSITORY) or page != own:
            out.append(f"{link} opens {page}, not this spec's runbook {own}")
        elif anchor not in anchors:
            out.append(f"{link}: no heading #{anchor} in {own}")
    return out


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_every_runbook_link_opens_a_section_of_the_specs_own_runbook(spec: Path) -> None:
    links = runbook_links(spec)
    assert links, "the spec has no alerts"
    assert broken(spec, links) == []


def test_links_to_another_page_or_a_missing_section_are_caught() -> None:
    cex = ROOT / "examples/cex/tradewatch.yaml"
    assert len(broken(cex, [
        f"{REPOSITORY}docs/runbooks.md#orderexecutionlatencyhigh",  # the default spec's page
        f"{REPOSITORY}examples/cex/docs/runbooks.md#emergencypause",  # a DeFi alert
        f"{REPOSITORY}examples/cex/docs/runbooks.md#orderexecutionlatencyhigh",  # fine
    ])) == 2
