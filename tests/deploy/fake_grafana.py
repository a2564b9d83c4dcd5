"""A Grafana of our own for the deploy tests: Grafana cannot be installed here.

Every request is matched to an operation of Grafana 11.4's published API and its body validated
against that operation's schema; every response body the fake sends is validated too. An unknown
route, an undeclared query parameter or header, or a body off the contract is recorded in
``violations`` (the fixture fails the test on any) and answered like Grafana would (404/400).

State is kept the way Grafana keeps it, for the behaviours deploy relies on: ids and versions
(incremented on every save, even of identical content), 412 on a stale dashboard version without
``overwrite``, 404 for a ``folderUid`` that does not exist, 409 on duplicate folder or data source,
401 on a bad credential, 403 for a role without the permission, rule-group validation (10 s
interval tick, unique titles per folder, known data sources, condition refId), and provenance.

Where Grafana's source says so, the fake answers the way deploy found awkward: a rule group read
back through ``GET .../rule-groups/{Group}`` carries no ``provenance`` (Grafana builds that answer
from the group without it); rules are stored in the caller's organisation whatever ``orgID`` the
body says; a data source provisioned from files (``seed_datasource(read_only=True)``) answers 403
"Cannot update read-only data source" to a PUT; and a ``Fault`` can answer after the save landed
(``after=True``), redirect (a 3xx with ``Location``), send ``Retry-After``, or send a non-JSON body
(an SSO login page).
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.deploy.contract import GrafanaContract, Operation
from tests.deploy.loopback import LoopbackServer

Reply = tuple[int, Any]
WRITE_METHODS = ("POST", "PUT", "DELETE", "PATCH")
_DURATION = re.compile(r"^(\d+(ms|s|m|h|d|w|y))+$")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _error(code: int, message: str, **extra: str) -> Reply:
    return code, {"message": message, **extra}


@dataclass
class Recorded:
    method: str
    path: str
    operation: str
    status: int
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)


@dataclass
class Fault:
    """Answer ``status`` to the next ``times`` requests whose method and path match."""

    method: str
    path: re.Pattern[str]
    status: int
    times: int
    message: str = "injected failure"
    body: str | None = None  # only requests whose raw body contains this
    after: bool = False  # do the work, then answer the fault (a save that landed but reads as failed)
    headers: dict[str, str] = field(default_factory=dict)  # e.g. Location, Retry-After
    raw: str | None = None  # answer this text (as text/html) instead of Grafana's JSON error


@dataclass(frozen=True)
class Raw:
    """A reply that is not Grafana JSON: its text, content type and extra headers."""

    text: str
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Store:
    folders: dict[str, dict[str, Any]] = field(default_factory=dict)
    dashboards: dict[str, dict[str, Any]] = field(default_factory=dict)
    datasources: dict[str, dict[str, Any]] = field(default_factory=dict)
    rule_groups: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    next_id: int = 1

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id


class FakeGrafana:
    """Start with ``start()``, stop with ``stop()``; ``url`` is its base URL on 127.0.0.1."""

    def __init__(self, *, tokens: dict[str, str] | None = None,
                 users: dict[tuple[str, str], str] | None = None, version: str = "11.4.0",
                 tls: tuple[Path, Path] | None = None, org_id: int = 1) -> None:
        self.org_id = org_id  # the organisation every credential acts in
        self.tls = tls  # (certificate, key): serve HTTPS
        self.tokens = tokens if tokens is not None else {"admin-token": "Admin"}
        self.users = users if users is not None else {("admin", "admin-password"): "Admin"}
        self.version = version
        self.contract = GrafanaContract()
        self.store = Store()
        self.requests: list[Recorded] = []
        self.violations: list[str] = []
        self.faults: list[Fault] = []
        self.dashboard_messages: dict[str, list[str]] = {}
        self._lock = threading.Lock()
        self._http: LoopbackServer | None = None

    # --- lifecycle -------------------------------------------------------------------------------

    def start(self) -> FakeGrafana:
        self._http = LoopbackServer(self._respond, name="fake-grafana", tls=self.tls).start()
        return self

    def _respond(self, method: str, path: str, headers: dict[str, str],
                 raw: bytes) -> tuple[int, bytes, str | dict[str, str] | None]:
        status, body = self.handle(method, path, headers, raw)
        if isinstance(body, Raw):
            return status, body.text.encode(), {"Content-Type": body.content_type, **body.headers}
        if body is None:
            return status, b"", None
        return status, json.dumps(body).encode(), "application/json"

    def stop(self) -> None:
        if self._http is not None:
            self._http.stop()

    @property
    def url(self) -> str:
        assert self._http is not None
        return self._http.url

    # --- what tests look at ---------------------------------------------------------------------

    @property
    def writes(self) -> list[Recorded]:
        return [r for r in self.requests if r.method in WRITE_METHODS]

    def versions(self) -> dict[str, int]:
        """Dashboard uid -> version, folder uid -> version, data source uid -> version."""
        with self._lock:
            out = {f"dashboard/{u}": d["version"] for u, d in self.store.dashboards.items()}
            out.update({f"folder/{u}": f["version"] for u, f in self.store.folders.items()})
            out.update({f"datasource/{u}": d["version"] for u, d in self.store.datasources.items()})
            out.update({f"rule-group/{g}": r["writes"] for (_, g), r in self.store.rule_groups.items()})
            return out

    def fail(self, method: str, path: str, status: int, *, times: int = 1, message: str = "injected failure",
             body: str | None = None, after: bool = False, headers: dict[str, str] | None = None,
             raw: str | None = None) -> None:
        with self._lock:
            self.faults.append(Fault(method, re.compile(path), status, times, message, body, after,
                                     headers or {}, raw))

    def seed_datasource(self, body: dict[str, Any], *, read_only: bool = False) -> None:
        """A data source as Grafana's file provisioning makes it (``editable: false`` -> read-only)."""
        with self._lock:
            self.store.datasources[body["uid"]] = {
                "basicAuth": False, "basicAuthUser": "", "database": "", "user": "", "withCredentials": False,
                "isDefault": False, "jsonData": {}, "url": "", **body, "id": self.store.new_id(), "version": 1,
                "readOnly": read_only}

    def heal(self) -> None:
        with self._lock:
            self.faults.clear()

    def seed_folder(self, uid: str, title: str) -> None:
        with self._lock:
            self._put_folder(uid, title)

    def seed_dashboard(self, dashboard: dict[str, Any], folder_uid: str = "") -> None:
        """Put a dashboard in as if a person had saved it in the UI."""
        with self._lock:
            uid = dashboard["uid"]
            self.store.dashboards[uid] = {"dashboard": {**dashboard, "id": self.store.new_id(), "version": 1},
                                          "folderUid": folder_uid, "version": 1, "id": self.store.next_id,
                                          "created": _now(), "updated": _now()}

    def edit_dashboard(self, uid: str, **changes: Any) -> None:
        """Save a changed dashboard as a person in the UI would: new version."""
        with self._lock:
            row = self.store.dashboards[uid]
            row["version"] += 1
            row["dashboard"].update(changes, version=row["version"])

    # --- request handling ----------------------------------------------------------------------

    def handle(self, method: str, raw_path: str, headers: dict[str, str], raw: bytes) -> Reply:
        with self._lock:
            split = urlsplit(raw_path)
            query = parse_qsl(split.query, keep_blank_values=True)
            lower = {k.lower(): v for k, v in headers.items()}
            matched = self.contract.match(method, split.path)
            if matched is None:
                self.violations.append(f"{method} {split.path}: no such operation in Grafana 11.4's API")
                status, body = _error(404, "Not found")
                self.requests.append(Recorded(method, split.path, "?", status, lower))
                return status, body
            op, params = matched
            try:
                status, body = self._dispatch(op, split.path, params=params, query=query, headers=lower, raw=raw)
            except Exception as exc:  # a bug in the fake must fail the test, not hang the client
                self.violations.append(f"the fake crashed on {op.operation_id}: {exc!r}")
                status, body = _error(500, "fake crashed")
            problems = [] if isinstance(body, Raw) else self.contract.response_errors(op, status, body)
            self.violations.extend(f"response to {op.operation_id} ({status}): {p}" for p in problems)
            self.requests.append(Recorded(method, split.path, op.operation_id, status, lower))
            return status, body

    def _dispatch(self, op: Operation, path: str, *, params: dict[str, str], query: list[tuple[str, str]],
                  headers: dict[str, str], raw: bytes) -> Reply:
        unknown = {k for k, _ in query} - op.query_params
        if unknown:
            self.violations.append(f"{op.operation_id}: undeclared query parameters {sorted(unknown)}")
            return _error(400, f"unknown query parameters {sorted(unknown)}")
        for name in ("x-disable-provenance",):
            if name in headers and name not in op.header_params:
                self.violations.append(f"{op.operation_id}: header {name} is not a parameter of it")
        body: Any = None
        if raw:
            if "application/json" not in headers.get("content-type", ""):
                self.violations.append(f"{op.operation_id}: body sent as {headers.get('content-type')!r}")
            try:
                body = json.loads(raw)
            except ValueError:
                self.violations.append(f"{op.operation_id}: body is not JSON")
                return _error(400, "bad request data")
        problems = self.contract.request_errors(op, body)
        if problems:
            self.violations.extend(f"request to {op.operation_id}: {p}" for p in problems)
            return _error(400, "bad request data: " + "; ".join(problems))
        if op.operation_id != "getHealth":
            role = self._role(headers.get("authorization", ""))
            if role is None:
                return _error(401, "Unauthorized")
            denied = self._denied(role, op)
            if denied:
                return _error(403, f"You'll need additional permissions to perform this action. "
                                   f"Permissions needed: {denied}")
        fault = next((f for f in self.faults if f.times > 0 and f.method == op.method and f.path.search(path)
                      and (f.body is None or f.body in raw.decode(errors="replace"))), None)
        if fault is not None:
            fault.times -= 1
        handler = getattr(self, f"op_{op.operation_id}", None)
        if handler is None:
            self.violations.append(f"{op.operation_id}: deploy called an operation the fake does not implement")
            return _error(500, "not implemented in the fake")
        if fault is None or fault.after:
            reply: Reply = handler(params=params, query=query, body=body, headers=headers)
            if fault is None:
                return reply
        if fault.raw is not None or fault.headers:
            return fault.status, Raw(fault.raw or "", headers=fault.headers)
        return _error(fault.status, fault.message)

    def _role(self, authorization: str) -> str | None:
        scheme, _, credential = authorization.partition(" ")
        if scheme == "Bearer":
            return self.tokens.get(credential)
        if scheme == "Basic":
            try:
                user, _, password = base64.b64decode(credential).decode().partition(":")
            except ValueError:
                return None
            return self.users.get((user, password))
        return None

    @staticmethod
    def _denied(role: str, op: Operation) -> str:
        if "atasource" in op.operation_id and role != "Admin":
            return "datasources:read" if op.method == "GET" else "datasources:write"
        if op.method in WRITE_METHODS and role == "Viewer":
            return "dashboards:write"
        return ""

    def op_getHealth(self, **_: Any) -> Reply:
        return 200, {"commit": "0000000", "database": "ok", "version": self.version}

    def op_getCurrentOrg(self, **_: Any) -> Reply:
        return 200, {"id": self.org_id, "name": f"Org {self.org_id}",
                     "address": {"address1": "", "address2": "", "city": "", "zipCode": "", "state": "",
                                 "country": ""}}

    # --- folders ---------------------------------------------------------------------------------

    def _put_folder(self, uid: str, title: str) -> dict[str, Any]:
        old = self.store.folders.get(uid)
        row = {"uid": uid, "title": title, "id": old["id"] if old else self.store.new_id(),
               "version": old["version"] + 1 if old else 1, "created": old["created"] if old else _now(),
               "updated": _now()}
        self.store.folders[uid] = row
        return row

    def _folder_view(self, row: dict[str, Any], role: str = "Admin") -> dict[str, Any]:
        can = role in ("Admin", "Editor")
        return {"id": row["id"], "uid": row["uid"], "title": row["title"], "orgId": 1,
                "url": f"/dashboards/f/{row['uid']}/{_slug(row['title'])}", "version": row["version"],
                "hasAcl": False, "canSave": can, "canEdit": can, "canAdmin": role == "Admin",
                "canDelete": can, "created": row["created"], "updated": row["updated"],
                "createdBy": "admin", "updatedBy": "admin"}

    def op_getFolderByUID(self, *, params: dict[str, str], headers: dict[str, str], **_: Any) -> Reply:
        row = self.store.folders.get(params["folder_uid"])
        if row is None:
            return _error(404, "folder not found", status="not-found")
        return 200, self._folder_view(row, self._role(headers["authorization"]) or "Viewer")

    def op_createFolder(self, *, body: dict[str, Any], **_: Any) -> Reply:
        uid, title = body.get("uid") or f"f{self.store.next_id}", body.get("title") or ""
        if not title:
            return _error(400, "folder title cannot be empty")
        if len(uid) > 40:
            return _error(400, "uid too long, max 40 characters")
        if uid in self.store.folders:
            return _error(409, "a folder with the same uid already exists")
        if any(f["title"] == title for f in self.store.folders.values()):
            return _error(409, "a folder or dashboard in the general folder with the same name already exists")
        return 200, self._folder_view(self._put_folder(uid, title))

    def op_updateFolder(self, *, params: dict[str, str], body: dict[str, Any], **_: Any) -> Reply:
        row = self.store.folders.get(params["folder_uid"])
        if row is None:
            return _error(404, "folder not found")
        if not body.get("overwrite") and body.get("version") != row["version"]:
            return _error(409, "the folder has been changed by someone else", status="version-mismatch")
        return 200, self._folder_view(self._put_folder(row["uid"], body.get("title") or row["title"]))

    # --- dashboards ------------------------------------------------------------------------------

    def op_search(self, *, query: list[tuple[str, str]], **_: Any) -> Reply:
        tags = [v for k, v in query if k == "tag"]
        folders = {u for k, v in query if k == "folderUIDs" for u in v.split(",")}
        kinds = {v for k, v in query if k == "type"}
        hits: list[dict[str, Any]] = []
        if not kinds or "dash-db" in kinds:
            for uid, row in sorted(self.store.dashboards.items()):
                board = row["dashboard"]
                if not set(tags) <= set(board.get("tags") or []):
                    continue
                if folders and row["folderUid"] not in folders:
                    continue
                hit = {"id": row["id"], "uid": uid, "title": board["title"], "type": "dash-db",
                       "uri": f"db/{_slug(board['title'])}", "url": f"/d/{uid}/{_slug(board['title'])}",
                       "slug": "", "tags": board.get("tags") or [], "isStarred": False, "sortMeta": 0}
                folder = self.store.folders.get(row["folderUid"])
                if folder:
                    hit.update(folderId=folder["id"], folderUid=folder["uid"], folderTitle=folder["title"],
                               folderUrl=f"/dashboards/f/{folder['uid']}/{_slug(folder['title'])}")
                hits.append(hit)
        return 200, hits

    def op_getDashboardByUID(self, *, params: dict[str, str], headers: dict[str, str], **_: Any) -> Reply:
        row = self.store.dashboards.get(params["uid"])
        if row is None:
            return _error(404, "Dashboard not found")
        role = self._role(headers["authorization"]) or "Viewer"
        folder = self.store.folders.get(row["folderUid"])
        title = row["dashboard"]["title"]
        meta = {"type": "db", "canSave": role != "Viewer", "canEdit": role != "Viewer", "canAdmin": role == "Admin",
                "canStar": True, "canDelete": role != "Viewer", "slug": _slug(title),
                "url": f"/d/{params['uid']}/{_slug(title)}", "expires": "0001-01-01T00:00:00Z",
                "created": row["created"], "updated": row["updated"], "updatedBy": "admin", "createdBy": "admin",
                "version": row["version"], "hasAcl": False, "isFolder": False, "provisioned": False,
                "provisionedExternalId": "", "folderUid": row["folderUid"],
                "folderId": folder["id"] if folder else 0, "folderTitle": folder["title"] if folder else "General",
                "folderUrl": f"/dashboards/f/{folder['uid']}/" if folder else ""}
        return 200, {"dashboard": row["dashboard"], "meta": meta}

    def op_postDashboard(self, *, body: dict[str, Any], **_: Any) -> Reply:
        board = body.get("dashboard")
        if not isinstance(board, dict):
            return _error(400, "bad request data: dashboard is required")
        title = str(board.get("title") or "").strip()
        if not title:
            return _error(400, "Dashboard title cannot be empty", status="empty-name")
        uid = str(board.get("uid") or f"d{self.store.next_id}")
        if len(uid) > 40:
            return _error(400, "uid too long, max 40 characters", status="bad-uid")
        folder_uid = str(body.get("folderUid") or "")
        if folder_uid and folder_uid not in self.store.folders:
            return _error(404, "folder not found", status="not-found")
        existing = self.store.dashboards.get(uid)
        overwrite = bool(body.get("overwrite"))
        if existing is None and board.get("id"):
            return _error(404, "Dashboard not found", status="not-found")
        if existing is not None and not overwrite and board.get("version") != existing["version"]:
            return _error(412, "The dashboard has been changed by someone else", status="version-mismatch")
        for other_uid, other in self.store.dashboards.items():
            if other_uid != uid and other["folderUid"] == folder_uid and other["dashboard"]["title"] == title \
                    and not overwrite:
                return _error(412, "A dashboard with the same name in the folder already exists",
                              status="name-exists")
        version = existing["version"] + 1 if existing else 1
        ident = existing["id"] if existing else self.store.new_id()
        stored = {**board, "id": ident, "uid": uid, "version": version}
        self.store.dashboards[uid] = {"dashboard": stored, "folderUid": folder_uid, "version": version,
                                      "id": ident, "created": existing["created"] if existing else _now(),
                                      "updated": _now()}
        self.dashboard_messages.setdefault(uid, []).append(str(body.get("message") or ""))
        return 200, {"id": ident, "uid": uid, "url": f"/d/{uid}/{_slug(title)}", "status": "success",
                     "version": version, "slug": _slug(title), "title": _slug(title), "folderUid": folder_uid}

    def op_deleteDashboardByUID(self, *, params: dict[str, str], **_: Any) -> Reply:
        row = self.store.dashboards.pop(params["uid"], None)
        if row is None:
            return _error(404, "Dashboard not found")
        title = row["dashboard"]["title"]
        return 200, {"uid": params["uid"], "title": title, "message": f"Dashboard {title} deleted"}

    # --- data sources -----------------------------------------------------------------------------

    def _ds_view(self, row: dict[str, Any]) -> dict[str, Any]:
        view = {k: v for k, v in row.items() if k != "secureJsonData"}
        view.update(orgId=self.org_id, typeLogoUrl=f"public/app/plugins/datasource/{row['type']}/img/logo.svg",
                    readOnly=bool(row.get("readOnly")),
                    secureJsonFields=dict.fromkeys(row.get("secureJsonData", {}), True))
        return view

    def op_getDataSourceByUID(self, *, params: dict[str, str], **_: Any) -> Reply:
        row = self.store.datasources.get(params["uid"])
        if row is None:
            return _error(404, "Data source not found")
        return 200, self._ds_view(row)

    def op_addDataSource(self, *, body: dict[str, Any], **_: Any) -> Reply:
        for required in ("name", "type", "access"):
            if not body.get(required):
                self.violations.append(f"addDataSource without {required}")
                return _error(400, f"{required} is required")
        uid = body.get("uid") or f"ds{self.store.next_id}"
        if uid in self.store.datasources:
            return _error(409, "data source with the same uid already exists")
        if any(d["name"] == body["name"] for d in self.store.datasources.values()):
            return _error(409, "data source with the same name already exists")
        row = {"basicAuth": False, "basicAuthUser": "", "database": "", "user": "", "withCredentials": False,
               "isDefault": False, "jsonData": {}, "url": "", **body, "uid": uid, "id": self.store.new_id(),
               "version": 1, "readOnly": False}
        self.store.datasources[uid] = row
        return 200, {"id": row["id"], "name": row["name"], "message": "Datasource added",
                     "datasource": self._ds_view(row)}

    def op_updateDataSourceByUID(self, *, params: dict[str, str], body: dict[str, Any], **_: Any) -> Reply:
        row = self.store.datasources.get(params["uid"])
        if row is None:
            return _error(404, "Data source not found")
        if row.get("readOnly"):  # pkg/api/datasources.go: provisioned with editable: false
            return _error(403, "Cannot update read-only data source")
        if any(d["name"] == body.get("name") and u != params["uid"] for u, d in self.store.datasources.items()):
            return _error(409, "data source with the same name already exists")
        secure = {**row.get("secureJsonData", {}), **body.get("secureJsonData", {})}
        row.update({k: v for k, v in body.items() if k not in ("secureJsonData", "version", "uid")})
        row.update(secureJsonData=secure, version=row["version"] + 1)
        return 200, {"id": row["id"], "name": row["name"], "message": "Datasource updated",
                     "datasource": self._ds_view(row)}

    # --- alert rule groups ------------------------------------------------------------------------

    def _group_view(self, folder: str, name: str) -> dict[str, Any]:
        row = self.store.rule_groups[(folder, name)]
        # Grafana answers from the group as stored, without its provenance (omitempty).
        rules = [{k: v for k, v in r.items() if k != "provenance"} for r in row["rules"]]
        return {"title": name, "folderUid": folder, "interval": row["interval"], "rules": rules}

    def op_RouteGetAlertRuleGroup(self, *, params: dict[str, str], **_: Any) -> Reply:
        key = (params["FolderUID"], params["Group"])
        if key not in self.store.rule_groups:
            return _error(404, "rule group does not exist")
        return 200, self._group_view(*key)

    def op_RouteGetAlertRules(self, **_: Any) -> Reply:
        return 200, [r for g in self.store.rule_groups.values() for r in g["rules"]]

    def op_RoutePutAlertRuleGroup(self, *, params: dict[str, str], body: dict[str, Any],
                                  headers: dict[str, str], **_: Any) -> Reply:
        folder, name = params["FolderUID"], params["Group"]
        if folder not in self.store.folders:
            return _error(400, f"folder {folder} does not exist")
        interval = body.get("interval") or 0
        if interval <= 0 or interval % 10:
            return _error(400, f"invalid rule group: interval ({interval}s) should be non-zero and divided "
                               "exactly by scheduler interval: 10s")
        if body.get("title", name) != name or body.get("folderUid", folder) != folder:
            return _error(400, "the group's title and folderUid must match the path")
        others = [r for key, g in self.store.rule_groups.items() if key != (folder, name) for r in g["rules"]]
        old = {r["uid"]: r for r in self.store.rule_groups.get((folder, name), {}).get("rules", [])}
        titles: set[str] = {r["title"] for r in others if r["folderUID"] == folder}
        provenance = "" if "x-disable-provenance" in headers else "api"
        rules = []
        for rule in body.get("rules") or []:
            uid = rule.get("uid") or f"r{self.store.next_id}"
            if rule["ruleGroup"] != name or rule["folderUID"] != folder:
                return _error(400, f"rule {uid}: ruleGroup and folderUID must match the path")
            if any(r["uid"] == uid for r in others):
                return _error(400, f"rule {uid} already exists in another rule group")
            if rule["title"] in titles:
                return _error(400, f"a conflicting alert rule is found: rule title {rule['title']!r} under the "
                                   "same organisation and folder should be unique")
            titles.add(rule["title"])
            refs = [q.get("refId") for q in rule["data"]]
            if rule["condition"] not in refs:
                return _error(400, f"condition {rule['condition']} does not exist, must be one of {refs}")
            for q in rule["data"]:
                ds = q.get("datasourceUid")
                if ds != "__expr__" and ds not in self.store.datasources:
                    return _error(400, f"failed to build query '{q.get('refId')}': data source not found")
            if not _DURATION.match(rule["for"]):
                return _error(400, f"invalid for: {rule['for']!r}")
            ident = old[uid]["id"] if uid in old else self.store.new_id()
            rules.append({**rule, "uid": uid, "id": ident, "orgID": self.org_id, "updated": _now(),
                          "provenance": provenance})
        writes = self.store.rule_groups.get((folder, name), {}).get("writes", 0) + 1
        self.store.rule_groups[(folder, name)] = {"interval": interval, "rules": rules, "writes": writes}
        return 200, self._group_view(folder, name)

    def op_RouteDeleteAlertRuleGroup(self, *, params: dict[str, str], **_: Any) -> Reply:
        if self.store.rule_groups.pop((params["FolderUID"], params["Group"]), None) is None:
            return 404, {}
        return 204, None
