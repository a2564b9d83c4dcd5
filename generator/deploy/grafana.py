"""Grafana through its HTTP API: the folder, data sources, dashboards and alert rule groups we own.

Ownership: the folder is ours by uid (one per spec); a dashboard is ours when it carries the
``tradewatch`` tag and this spec's tag; a rule group is ours when it sits in our folder and its name
starts with this spec's group prefix; the two data sources are ours by uid. Anything else is foreign
and never written, nor deleted, even with ``--prune``.

Updates carry the version the plan read, without ``overwrite``: if someone saves the dashboard in
the UI between plan and apply, Grafana answers 412 and deploy reports it instead of clobbering it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import quote

from generator import conventions
from generator.deploy.config import DeployConfig
from generator.deploy.desired import Desired
from generator.deploy.errors import AuthError, DeployError, OwnershipError
from generator.deploy.http import HttpClient, parse_json
from generator.deploy.plan import Change, Section, Step, canonical_json, plural, unified
from generator.emit import grafana_rules as translate
from generator.emit.datasources import datasources as build_datasources
from generator.units import parse_duration

MIN_MAJOR = 9  # the alerting provisioning API arrived in Grafana 9.1
# Fields Grafana adds to what we save; they say nothing about what the object is.
DASHBOARD_SERVER_FIELDS = ("id", "version")
# Grafana's rule-group GET leaves provenance out; the rule list (GET .../alert-rules) carries it.
RULE_SERVER_FIELDS = ("id", "updated", "provenance")
TARGET = "Grafana"


def _seg(value: str) -> str:
    return quote(value, safe="")


class GrafanaApi:
    """The calls deploy makes; each returns parsed JSON (``None`` for a 404 on a GET)."""

    def __init__(self, http: HttpClient) -> None:
        self.http = http

    def health(self) -> dict[str, Any]:
        return self.http.object("GET", "/api/health", expect=(200, 503))

    def org_id(self) -> int:
        """The id of the organisation the credentials act in (a service account belongs to one)."""
        org = self.http.object("GET", "/api/org")
        if not isinstance(org.get("id"), int):
            raise DeployError(f"Grafana at {self.http.base_url} answered GET /api/org without an org id")
        return int(org["id"])

    def _get(self, path: str, params: Any = None) -> Any:
        response = self.http.request("GET", path, params=params, expect=(200, 404))
        if response.status_code == 404:
            return None
        data = parse_json(self.http.service, self.http.base_url, "GET", path, response)
        if not isinstance(data, dict):
            raise DeployError(f"Grafana answered GET {path} with {str(data)[:80]!r}, not an object")
        return data

    def folder(self, uid: str) -> dict[str, Any] | None:
        folder: dict[str, Any] | None = self._get(f"/api/folders/{_seg(uid)}")
        return folder

    def create_folder(self, uid: str, title: str) -> dict[str, Any]:
        body = {"uid": uid, "title": title}
        return self.http.object("POST", "/api/folders", json=body)

    def update_folder(self, uid: str, title: str, version: int) -> dict[str, Any]:
        body = {"title": title, "version": version, "overwrite": False}
        return self.http.object("PUT", f"/api/folders/{_seg(uid)}", json=body)

    def dashboard(self, uid: str) -> dict[str, Any] | None:
        full: dict[str, Any] | None = self._get(f"/api/dashboards/uid/{_seg(uid)}")
        return full

    def save_dashboard(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.http.object("POST", "/api/dashboards/db", json=body)

    def delete_dashboard(self, uid: str) -> None:
        self.http.request("DELETE", f"/api/dashboards/uid/{_seg(uid)}")

    def search_dashboards(self, tags: list[str], folder_uid: str) -> list[dict[str, Any]]:
        params = [("type", "dash-db"), ("folderUIDs", folder_uid), ("limit", "5000")]
        params += [("tag", t) for t in tags]  # several tags: dashboards carrying all of them
        return [h for h in self.http.array("GET", "/api/search", params=params) if isinstance(h, dict)]

    def datasource(self, uid: str) -> dict[str, Any] | None:
        ds: dict[str, Any] | None = self._get(f"/api/datasources/uid/{_seg(uid)}")
        return ds

    def create_datasource(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.http.object("POST", "/api/datasources", json=body)

    def update_datasource(self, uid: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.http.object("PUT", f"/api/datasources/uid/{_seg(uid)}", json=body)

    def rule_group(self, folder_uid: str, group: str) -> dict[str, Any] | None:
        data: dict[str, Any] | None = self._get(
            f"/api/v1/provisioning/folder/{_seg(folder_uid)}/rule-groups/{_seg(group)}")
        return data

    def put_rule_group(self, body: dict[str, Any], *, disable_provenance: bool) -> dict[str, Any]:
        headers = {"X-Disable-Provenance": "true"} if disable_provenance else {}
        path = f"/api/v1/provisioning/folder/{_seg(body['folderUid'])}/rule-groups/{_seg(body['title'])}"
        return self.http.object("PUT", path, json=body, headers=headers)

    def delete_rule_group(self, folder_uid: str, group: str) -> None:
        path = f"/api/v1/provisioning/folder/{_seg(folder_uid)}/rule-groups/{_seg(group)}"
        self.http.request("DELETE", path, expect=(200, 204))

    def alert_rules(self) -> list[dict[str, Any]]:
        return [r for r in self.http.array("GET", "/api/v1/provisioning/alert-rules") if isinstance(r, dict)]


def datasources(cfg: DeployConfig) -> list[dict[str, Any]]:
    """The data sources deploy keeps in Grafana, from the settings."""
    prom_url = cfg.datasource_prometheus_url or cfg.prometheus_url
    if prom_url is None and cfg.mimir_url:
        prom_url = cfg.mimir_url + cfg.mimir_prefix
    on_mimir = cfg.evaluator == "mimir" or bool(cfg.mimir_url and prom_url and prom_url.startswith(cfg.mimir_url))
    return build_datasources(prom_url, cfg.datasource_alertmanager_url, mimir=on_mimir,
                             mimir_tenant=cfg.mimir_tenant, grafana_alerts=cfg.evaluator == "grafana")


def _strip(board: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in board.items() if k not in DASHBOARD_SERVER_FIELDS}


def _comparable_rule(rule: dict[str, Any], keys: set[str]) -> dict[str, Any]:
    return {k: v for k, v in rule.items() if k in keys and v not in (None, {}, [])}


@dataclass
class GrafanaPlanner:
    """Reads Grafana and plans the folder, data sources, dashboards and rule groups."""

    api: GrafanaApi
    cfg: DeployConfig
    want: Desired
    prune: bool
    message: str

    def plan(self) -> Section:
        health = self.api.health()
        version = str(health.get("version", "unknown"))
        if health.get("database", "ok") != "ok":
            raise DeployError(f"Grafana at {self.api.http.base_url} is up but its database is "
                              f"{health['database']}")
        major = version.split(".", maxsplit=1)[0]
        if major.isdigit() and int(major) < MIN_MAJOR:
            raise DeployError(f"Grafana {version} is too old: deploy needs 9.1 or newer (provisioning API)")
        section = Section(f"Grafana {self.api.http.base_url} (version {version}), "
                          f"folder {self.want.folder_uid} {self.want.folder_title!r}")
        folder_exists = self._folder(section)
        self._datasources(section)
        self._dashboards(section, folder_exists)
        self._rule_groups(section, folder_exists)
        return section

    # --- folder -------------------------------------------------------------------------------

    def _folder(self, section: Section) -> bool:
        uid, title = self.want.folder_uid, self.want.folder_title
        live = self.api.folder(uid)
        if live is None:
            change = Change(TARGET, "folder", uid, "create", detail=title)
            section.changes.append(change)
            section.steps.append(Step("folder", (change,), partial(self._created_folder, uid, title)))
            return False
        if live.get("canEdit") is False and live.get("canSave") is False:
            raise AuthError(f"the Grafana credentials cannot edit folder {uid} ({live.get('title')!r}); "
                            "deploy needs a service account with the Editor or Admin role there")
        if live.get("title") == title:
            section.changes.append(Change(TARGET, "folder", uid, "unchanged", detail=title))
            return True
        diff = unified(canonical_json({"title": live.get("title")}), canonical_json({"title": title}),
                       f"folder {uid}")
        change = Change(TARGET, "folder", uid, "update", diff, title)
        section.changes.append(change)
        section.steps.append(Step("folder", (change,),
                                  partial(self._updated_folder, uid, title, int(live.get("version", 0)))))
        return True

    def _created_folder(self, uid: str, title: str) -> str:
        self.api.create_folder(uid, title)
        return "created"

    def _updated_folder(self, uid: str, title: str, version: int) -> str:
        return f"version {self.api.update_folder(uid, title, version).get('version')}"

    # --- data sources ---------------------------------------------------------------------------

    def _datasources(self, section: Section) -> None:
        wanted = datasources(self.cfg)
        if not wanted:
            section.notes.append("no data source URL configured: data sources are not managed")
        for body in wanted:
            uid = body["uid"]
            live = self.api.datasource(uid)
            label = f"datasource:{uid}"
            if live is None:
                change = Change(TARGET, "datasource", uid, "create", detail=f"{body['type']} {body['url']}")
                section.changes.append(change)
                section.steps.append(Step(label, (change,), partial(self._created_datasource, body)))
                continue
            keys = [k for k in body if k != "secureJsonData"]
            live_view = {k: live.get(k) for k in keys}
            want_view = {k: body[k] for k in keys}
            secure_missing = sorted(set(body.get("secureJsonData", {})) - {
                k for k, v in (live.get("secureJsonFields") or {}).items() if v})
            if live_view == want_view and not secure_missing:
                section.changes.append(Change(TARGET, "datasource", uid, "unchanged", detail=body["type"]))
                continue
            diff = unified(canonical_json(live_view), canonical_json(want_view), f"datasource {uid}")
            if secure_missing:
                diff += f"+ secure fields to set: {', '.join(secure_missing)}\n"
            if live.get("readOnly"):
                # Provisioned from a file with editable: false: Grafana answers 403 "Cannot update
                # read-only data source" to any write. Its file is the source of truth; leave it.
                section.changes.append(Change(TARGET, "datasource", uid, "unchanged",
                                              detail=f"{body['type']}, read-only: provisioned from files"))
                section.notes.append(f"data source {uid} is provisioned from files (read-only), so deploy leaves "
                                     "it as it is; it differs from what deploy would set:\n" + diff)
                continue
            change = Change(TARGET, "datasource", uid, "update", diff, body["type"])
            section.changes.append(change)
            section.steps.append(Step(label, (change,), partial(self._updated_datasource, body)))

    def _created_datasource(self, body: dict[str, Any]) -> str:
        self.api.create_datasource(body)
        return "created"

    def _updated_datasource(self, body: dict[str, Any]) -> str:
        data = self.api.update_datasource(body["uid"], body)
        return f"version {data.get('datasource', {}).get('version', '?')}"

    # --- dashboards -------------------------------------------------------------------------------

    def _dashboards(self, section: Section, folder_exists: bool) -> None:
        folder = self.want.folder_uid
        foreign: list[str] = []
        for board in self.want.dashboards:
            uid = board["uid"]
            live = self.api.dashboard(uid)
            if live is None:
                change = Change(TARGET, "dashboard", uid, "create", detail=board["title"])
                section.changes.append(change)
                section.steps.append(Step(f"dashboard:{uid}", (change,),
                                          partial(self._saved, board, None), needs=("folder",)))
                continue
            live_board = live.get("dashboard") or {}
            meta = live.get("meta") or {}
            if meta.get("provisioned"):
                foreign.append(f"dashboard {uid} is provisioned from files in this Grafana; its file provider "
                               "owns it (deploy to a Grafana without tradewatch's provisioning files)")
                continue
            if conventions.OWNED_TAG not in (live_board.get("tags") or []):
                folder_name = meta.get("folderTitle") or meta.get("folderUid") or "General"
                foreign.append(f'dashboard {uid} ("{live_board.get("title")}" in folder "{folder_name}")')
                continue
            before = {"folderUid": meta.get("folderUid", ""), "dashboard": _strip(live_board)}
            after = {"folderUid": folder, "dashboard": _strip(board)}
            if before == after:
                section.changes.append(Change(TARGET, "dashboard", uid, "unchanged", detail=board["title"]))
                continue
            diff = unified(canonical_json(before), canonical_json(after), f"dashboard {uid}")
            change = Change(TARGET, "dashboard", uid, "update", diff, board["title"])
            version = int(live_board.get("version") or meta.get("version") or 0)
            section.changes.append(change)
            section.steps.append(Step(f"dashboard:{uid}", (change,),
                                      partial(self._saved, board, version), needs=("folder",)))
        if foreign:
            raise OwnershipError(
                "deploy will not overwrite objects it does not own; these uids exist in Grafana without the "
                "'tradewatch' tag (delete or re-uid them there first) or belong to file provisioning:\n  "
                + "\n  ".join(foreign))
        if not folder_exists:
            return
        wanted = {b["uid"] for b in self.want.dashboards}
        tags = [conventions.OWNED_TAG, conventions.spec_tag(self.want.spec)]
        for hit in self.api.search_dashboards(tags, folder):
            uid = str(hit.get("uid"))
            if uid in wanted or hit.get("folderUid", folder) != folder:
                continue
            if not self.prune:
                section.changes.append(Change(TARGET, "dashboard", uid, "would-delete",
                                              detail=f"{hit.get('title')}; no longer generated"))
                continue
            change = Change(TARGET, "dashboard", uid, "delete", detail=str(hit.get("title")))
            section.changes.append(change)
            section.steps.append(Step(f"delete-dashboard:{uid}", (change,), partial(self._deleted, uid)))

    def _saved(self, board: dict[str, Any], version: int | None) -> str:
        dashboard = _strip(board)
        if version is not None:
            # The version the plan compared against: Grafana answers 412 if it moved since.
            dashboard["version"] = version
        body = {"dashboard": dashboard, "folderUid": self.want.folder_uid, "message": self.message,
                "overwrite": False}
        saved = self.api.save_dashboard(body)
        return f"version {saved.get('version')}"

    def _deleted(self, uid: str) -> str:
        self.api.delete_dashboard(uid)
        return "deleted"

    # --- Grafana-managed alert rules ----------------------------------------------------------------

    def _rule_groups(self, section: Section, folder_exists: bool) -> None:
        spec, folder = self.want.spec, self.want.folder_uid
        wanted: list[dict[str, Any]] = []
        if self.cfg.evaluator == "grafana":
            wanted = translate.rule_groups(spec, folder_uid=folder, datasource_uid=conventions.PROMETHEUS_DS_UID,
                                           org_id=self.api.org_id())
            configured = parse_duration(spec.evaluation_interval)
            if wanted and wanted[0]["interval"] != configured:
                section.notes.append(f"Grafana evaluates groups on a 10s tick: evaluation_interval "
                                     f"{spec.evaluation_interval} becomes {wanted[0]['interval']}s")
            if not any(d["uid"] == conventions.PROMETHEUS_DS_UID for d in datasources(self.cfg)) and \
                    self.api.datasource(conventions.PROMETHEUS_DS_UID) is None:
                raise DeployError("Grafana-managed alerts query the data source "
                                  f"{conventions.PROMETHEUS_DS_UID}, which does not exist; pass "
                                  "--datasource-prometheus-url so deploy creates it")
        needs = ("folder", f"datasource:{conventions.PROMETHEUS_DS_UID}")
        listed = self.api.alert_rules() if folder_exists else []
        provenance = {str(r.get("uid")): str(r.get("provenance") or "") for r in listed}
        wanted_provenance = "" if self.cfg.disable_provenance else "api"
        for group in wanted:
            name = group["title"]
            live = self.api.rule_group(folder, name) if folder_exists else None
            detail = f"{plural(len(group['rules']), 'rule')}, every {group['interval']}s"
            if live is None:
                change = Change(TARGET, "alert rule group", name, "create", detail=detail)
                section.changes.append(change)
                section.steps.append(Step(f"rule-group:{name}", (change,), partial(self._put, group), needs))
                continue
            keys = set().union(*(r.keys() for r in group["rules"])) - set(RULE_SERVER_FIELDS)
            before = {"interval": live.get("interval"),
                      "rules": [{**_comparable_rule(r, keys), "provenance": provenance.get(str(r.get("uid")), "")}
                                for r in live.get("rules") or []]}
            after = {"interval": group["interval"],
                     "rules": [{**_comparable_rule(r, keys), "provenance": wanted_provenance}
                               for r in group["rules"]]}
            if before == after:
                section.changes.append(Change(TARGET, "alert rule group", name, "unchanged", detail=detail))
                continue
            diff = unified(canonical_json(before), canonical_json(after), f"alert rule group {name}")
            change = Change(TARGET, "alert rule group", name, "update", diff, detail)
            section.changes.append(change)
            section.steps.append(Step(f"rule-group:{name}", (change,), partial(self._put, group), needs))
        if not folder_exists:
            return
        ours = conventions.group_name(spec, "")
        wanted_names = {g["title"] for g in wanted}
        stale = sorted({str(r.get("ruleGroup")) for r in listed
                        if r.get("folderUID") == folder and str(r.get("ruleGroup", "")).startswith(ours)}
                       - wanted_names)
        for name in stale:
            if not self.prune:
                section.changes.append(Change(TARGET, "alert rule group", name, "would-delete",
                                              detail="no longer generated"))
                continue
            change = Change(TARGET, "alert rule group", name, "delete")
            section.changes.append(change)
            section.steps.append(Step(f"delete-rule-group:{name}", (change,),
                                      partial(self._deleted_group, name)))

    def _put(self, group: dict[str, Any]) -> str:
        self.api.put_rule_group(group, disable_provenance=self.cfg.disable_provenance)
        return plural(len(group["rules"]), "rule")

    def _deleted_group(self, name: str) -> str:
        self.api.delete_rule_group(self.want.folder_uid, name)
        return "deleted"
