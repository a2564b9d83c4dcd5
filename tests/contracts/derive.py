"""The facts the tests need from the real tools' published contracts, in tradewatch's own form.

``../shared/contracts`` (beside our machines' checkouts) holds other projects' files verbatim; a
clone of this repository alone does not have it. This module reduces each of those files to what
the tests check against (routes, parameters, field names, types, enums, patterns) and drops their
prose (descriptions, titles, examples), writing one JSON file per contract to ``tests/contracts/``.
Tests always read the in-repository files; where ``../shared`` exists they also re-derive each
file from it and fail if the two disagree, so no contract check is skipped there.

Example::

    python scripts/derive_contracts.py            # rewrite tests/contracts/*.json from ../shared
    python scripts/derive_contracts.py --check    # exit 1 if they are out of date
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SHARED = ROOT.parent / "shared" / "contracts"

# Schema keywords that are prose, not contract.
PROSE = frozenset({"description", "title", "examples", "example", "$comment", "summary", "x-go-name",
                   "x-go-package", "tags", "externalDocs", "deprecated"})
# Keywords whose value maps names to schemas: a key "description" there is a field, not prose.
NAMED = frozenset({"properties", "patternProperties", "definitions", "$defs", "responses", "paths"})

# The Grafana API operations deploy (and its fake) use, by path prefix below ``/api``.
GRAFANA_PATHS = ("/health", "/folders", "/dashboards/db", "/dashboards/uid/", "/search", "/datasources",
                 "/v1/provisioning/alert-rules", "/v1/provisioning/folder/", "/org")
GRAFANA_DEFINITIONS = ("AddDataSourceCommand", "AlertRuleExport", "AlertingFileExport", "ProvisionedAlertRule",
                       "ErrorResponseBody")


def strip_prose(node: Any, *, named: bool = False) -> Any:
    """``node`` without prose keywords; keys of name->schema maps are kept whatever they are called."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            prose = key in PROSE and (not isinstance(value, dict | list) or key in ("description", "title"))
            if prose and not named:
                continue
            out[key] = strip_prose(value, named=not named and key in NAMED)
        return out
    if isinstance(node, list):
        return [strip_prose(v) for v in node]
    return node


def _refs(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                found.add(value)
            else:
                found |= _refs(value)
    elif isinstance(node, list):
        for v in node:
            found |= _refs(v)
    return found


def grafana_api(shared: Path) -> dict[str, Any]:
    """Grafana 11.4's HTTP API (Swagger 2), reduced to the operations deploy uses and what they reference."""
    spec = json.loads((shared / "grafana-11.4.0-api-merged.swagger2.json").read_text())
    paths = {p: item for p, item in spec["paths"].items()
             if p.startswith(GRAFANA_PATHS) and not p.startswith("/orgs")}
    out: dict[str, Any] = {"basePath": spec["basePath"], "paths": paths, "responses": {}, "definitions": {}}
    todo = _refs(paths) | {f"#/definitions/{d}" for d in GRAFANA_DEFINITIONS}
    seen: set[str] = set()
    while todo:
        ref = todo.pop()
        if ref in seen:
            continue
        seen.add(ref)
        _, section, name = ref.split("/", 2)
        item = spec[section][name]
        out[section][name] = item
        todo |= _refs(item)
    out["responses"] = dict(sorted(out["responses"].items()))
    out["definitions"] = dict(sorted(out["definitions"].items()))
    reduced: dict[str, Any] = strip_prose(out)
    return reduced


def _uncommented(text: str, prefix: str) -> Any:
    return yaml.safe_load("\n".join(ln[len(prefix):] if ln.startswith(prefix) else ln for ln in text.splitlines()))


def grafana_provisioning(shared: Path) -> dict[str, Any]:
    """The keys Grafana's provisioning files take, and a rule file Grafana's own tests accept."""
    folder = shared / "grafana-provisioning"
    datasource = _uncommented((folder / "datasources__sample.yaml").read_text(), "#")["datasources"][0]
    provider = _uncommented((folder / "dashboards__sample.yaml").read_text(), "#")["providers"][0]
    alerting = (folder / "alerting__sample.yaml").read_text()
    group = _uncommented(alerting[: alerting.index("# # List of alert rule UIDs")], "# ")["groups"][0]
    accepted = yaml.safe_load((folder / "alerting-testdata__alert_rules__correct-properties__rules.yml").read_text())
    return {
        "datasource_keys": sorted(datasource),
        "dashboard_provider_keys": sorted(provider),
        "dashboard_provider_option_keys": sorted(provider["options"]),
        "alert_rule_group_keys": sorted(group),
        "accepted_alert_rule_file": accepted,
    }


def _schema(name: str) -> Callable[[Path], dict[str, Any]]:
    def derive(shared: Path) -> dict[str, Any]:
        data: dict[str, Any] = strip_prose(json.loads((shared / name).read_text()))
        return data
    return derive


def mimir_ruler(shared: Path) -> dict[str, Any]:
    """The Mimir and Cortex ruler routes and headers, from the notes' route table and code excerpts."""
    notes = (shared / "mimir-ruler-api-notes.md").read_text()
    row = r"^\| (GET|POST|DELETE) \| `<prometheus-http-prefix>(/config/v1/rules[^`]*)`"
    rows = re.findall(row, notes, re.MULTILINE)
    cortex = re.search(r"Cortex ruler: `POST (/api/v1/rules)/\{namespace\}`", notes)
    return {"mimir_rules_path": "{prometheus_prefix}/config/v1/rules",
            "mimir_routes": [{"method": m, "path": p} for m, p in rows],
            "cortex_rules_path": cortex.group(1) if cortex else "",
            "content_type": "application/yaml" if "application/yaml" in notes else "",
            "tenant_header": "X-Scope-OrgID" if "X-Scope-OrgID" in notes else ""}


# In-repository file -> how it is made from ../shared/contracts.
DERIVED: dict[str, Callable[[Path], dict[str, Any]]] = {
    "grafana-api.json": grafana_api,
    "grafana-provisioning.json": grafana_provisioning,
    "grafana-dashboard.schema.json": _schema("grafana-foundation-sdk/v11.6.x/dashboard.jsonschema.json"),
    "prometheus-rules.schema.json": _schema("schemastore-prometheus.rules.json"),
    "compose.schema.json": _schema("compose-spec.json"),
    "mimir-ruler.json": mimir_ruler,
}


def render(data: Any) -> str:
    return json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def derived_text(name: str, shared: Path = SHARED) -> str:
    """The text ``tests/contracts/<name>`` must hold, made from ``shared``."""
    return render(DERIVED[name](shared))


def main(argv: list[str]) -> int:
    check = "--check" in argv
    if not SHARED.is_dir():
        print(f"derive_contracts: {SHARED} does not exist; nothing to derive from")
        return 1
    stale = []
    for name in DERIVED:
        text, path = derived_text(name), HERE / name
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        stale.append(name)
        if not check:
            path.write_text(text, encoding="utf-8")
    if check and stale:
        print(f"derive_contracts: out of date with {SHARED}: {', '.join(stale)}; run scripts/derive_contracts.py")
        return 1
    print("derive_contracts: " + (f"wrote {', '.join(stale)}" if stale and not check else "up to date"))
    return 0
