"""Rule groups into a Mimir (or Cortex) ruler namespace, the way ``mimirtool rules sync`` does.

Mimir serves the ruler API at ``<prometheus prefix>/config/v1/rules``; Cortex at
``/api/v1/rules`` (cortextool's ``rulerAPIPath``), which no prefix can produce: ``--ruler-api``
picks one. ``GET <rules path>/<namespace>`` lists what the ruler has; each created or changed
group is POSTed whole (``Content-Type: application/yaml``, one group per request, 202); groups of our
namespace the spec no longer has are DELETEd with ``--prune``. Unlike ``mimirtool rules sync``,
other namespaces are never looked at: the namespace is what we own.

Comparison is semantic (durations as seconds, empty labels as none), as mimirtool's
``CompareGroups`` is, so the ruler re-serialising a group is not a change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import quote

import yaml

from generator.deploy.errors import DeployError
from generator.deploy.http import HttpClient
from generator.deploy.plan import Change, Section, Step, canonical_yaml, plural, unified
from generator.units import format_duration, parse_duration

TARGET = "Mimir"
CORTEX_RULES_PATH = "/api/v1/rules"
RULER_APIS = ("mimir", "cortex")


def duration(value: Any) -> str | None:
    """'60s' and '1m' both as '1m' (Mimir answers in its own form); zero and empty as None."""
    if value in (None, "", 0, "0"):
        return None
    secs = parse_duration(str(value))
    return format_duration(secs) if secs else None


def normal_rule(rule: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ("record", "alert"):
        if rule.get(key):
            out[key] = str(rule[key])
    out["expr"] = str(rule.get("expr", "")).strip()
    for key in ("for", "keep_firing_for"):
        if duration(rule.get(key)):
            out[key] = duration(rule.get(key))
    for key in ("labels", "annotations"):
        if rule.get(key):
            out[key] = {str(k): str(v) for k, v in rule[key].items()}
    return out


def normal_group(group: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"name": str(group["name"])}
    if duration(group.get("interval")):
        out["interval"] = duration(group.get("interval"))
    for key in ("source_tenants", "limit", "query_offset", "labels"):
        if group.get(key):
            out[key] = group[key]
    out["rules"] = [normal_rule(r) for r in group.get("rules") or []]
    return out


@dataclass
class MimirRuler:
    """Plans and applies the rule groups of one spec in one ruler namespace."""

    http: HttpClient
    prefix: str
    namespace: str
    prune: bool
    api: str = "mimir"  # or "cortex"

    @property
    def flavour(self) -> str:
        return "Cortex" if self.api == "cortex" else "Mimir"

    @property
    def path(self) -> str:
        base = CORTEX_RULES_PATH if self.api == "cortex" else f"{self.prefix}/config/v1/rules"
        return f"{base}/{quote(self.namespace, safe='')}"

    def live(self) -> dict[str, dict[str, Any]]:
        response = self.http.request("GET", self.path, expect=(200, 404))
        if response.status_code == 404:
            return {}
        try:
            data = yaml.safe_load(response.text) or {}
        except yaml.YAMLError as exc:
            raise DeployError(f"{self.flavour} answered GET {self.path} with YAML it cannot parse: {exc}") from None
        if not isinstance(data, dict):
            raise DeployError(f"{self.flavour} answered GET {self.path} with {response.text[:80]!r}, not a "
                              "namespace of rule groups: is the URL (and --ruler-api) right?")
        return {str(g["name"]): g for g in data.get(self.namespace) or [] if isinstance(g, dict) and "name" in g}

    def plan(self, groups: Sequence[dict[str, Any]]) -> Section:
        section = Section(f"{self.flavour} ruler {self.http.base_url}, namespace {self.namespace}", first=True)
        live = self.live()
        for group in groups:
            name = str(group["name"])
            detail = plural(len(group.get("rules") or []), "rule")
            if name not in live:
                change = Change(TARGET, "rule group", name, "create", detail=detail)
            else:
                before, after = normal_group(live[name]), normal_group(group)
                if before == after:
                    section.changes.append(Change(TARGET, "rule group", name, "unchanged", detail=detail))
                    continue
                change = Change(TARGET, "rule group", name, "update",
                                unified(canonical_yaml(before), canonical_yaml(after), name), detail)
            section.changes.append(change)
            section.steps.append(Step(f"mimir:{name}", (change,), partial(self._post, group), gate=True))
        for name in sorted(set(live) - {str(g["name"]) for g in groups}):
            if not self.prune:
                section.changes.append(Change(TARGET, "rule group", name, "would-delete",
                                              detail="no longer generated"))
                continue
            change = Change(TARGET, "rule group", name, "delete")
            section.changes.append(change)
            section.steps.append(Step(f"mimir-delete:{name}", (change,), partial(self._delete, name)))
        return section

    def _post(self, group: dict[str, Any]) -> str:
        body = yaml.safe_dump(group, sort_keys=False, allow_unicode=True, width=10_000)
        self.http.request("POST", self.path, data=body, headers={"Content-Type": "application/yaml"},
                          expect=(200, 202))
        return "accepted"

    def _delete(self, name: str) -> str:
        self.http.request("DELETE", f"{self.path}/{quote(name, safe='')}", expect=(200, 202, 204))
        return "deleted"
