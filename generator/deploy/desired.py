"""What the repository says should exist: the generated dashboards and rule files, as objects.

Deploy reads the files ``generator.generate.render`` produced (the same bytes ``make generate``
writes and reviewers saw), never re-derives them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from generator import conventions
from generator.deploy.errors import DeployError
from generator.model import Spec

_RULE_FILE = re.compile(rf"^{re.escape(conventions.RULES_DIR)}/[^/]+\.rules\.ya?ml$")
_DASHBOARD_FILE = re.compile(rf"^{re.escape(conventions.DASHBOARDS_DIR)}/[^/]+\.json$")


@dataclass(frozen=True)
class Desired:
    spec: Spec
    folder_uid: str
    folder_title: str
    dashboards: tuple[dict[str, Any], ...]
    rule_files: tuple[tuple[str, str], ...]  # (generated path, text)

    @property
    def rule_groups(self) -> list[dict[str, Any]]:
        """Every rule group of every rule file, in file order."""
        groups: list[dict[str, Any]] = []
        for path, text in self.rule_files:
            data = yaml.safe_load(text) or {}
            for group in data.get("groups") or []:
                if not isinstance(group, dict) or "name" not in group:
                    raise DeployError(f"{path}: a rule group without a name")
                groups.append(group)
        return groups


def desired(spec: Spec, files: Mapping[str, str]) -> Desired:
    """The objects to deploy, from the generated ``files`` (relative path -> text)."""
    dashboards = []
    for path in sorted(p for p in files if _DASHBOARD_FILE.match(p)):
        try:
            board = json.loads(files[path])
        except ValueError as exc:
            raise DeployError(f"{path}: not JSON ({exc}); run `make generate`") from None
        if not isinstance(board, dict) or not board.get("uid") or not board.get("title"):
            raise DeployError(f"{path}: a dashboard needs a uid and a title")
        if conventions.OWNED_TAG not in board.get("tags", []):
            raise DeployError(f"{path}: the dashboard lacks the {conventions.OWNED_TAG!r} tag that marks it ours")
        dashboards.append(board)
    rule_files = tuple((p, files[p]) for p in sorted(files) if _RULE_FILE.match(p))
    return Desired(spec, conventions.folder_uid(spec), spec.grafana_folder, tuple(dashboards), rule_files)


def recording_only(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The groups with their alerting rules removed (when Grafana evaluates the alerts)."""
    out = []
    for group in groups:
        rules = [r for r in group.get("rules") or [] if "record" in r]
        if rules:
            out.append({**group, "rules": rules})
    return out
