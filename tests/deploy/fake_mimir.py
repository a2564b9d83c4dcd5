"""A Mimir (or Cortex) ruler HTTP API of our own, following ``tests/contracts/mimir-ruler.json``.

Routes under ``/prometheus/config/v1/rules`` (Cortex: ``/api/v1/rules``): GET all / a namespace /
a group (YAML, 404 "no rule groups found"), POST a namespace with ``Content-Type: application/yaml``
and exactly one rule group (checked against SchemaStore's Prometheus rule-group schema), 202;
DELETE a group or a namespace, 202. Every request needs ``X-Scope-OrgID`` (401 "no org id"
otherwise); state is per tenant.
Durations are stored the way Mimir re-serialises them (``60s`` comes back as ``1m``), so a
deploy that compares text instead of meaning would see changes that are not there.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import jsonschema
import yaml

from tests.contracts import load
from tests.deploy.loopback import LoopbackServer

RULER = load("mimir-ruler.json")
PREFIX = RULER["mimir_rules_path"].format(prometheus_prefix="/prometheus")
_UNITS = (("y", 31536000), ("w", 604800), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1))
_PART = re.compile(r"(\d+)(ms|s|m|h|d|w|y)")


def go_duration(text: str) -> str:
    """Prometheus' model.Duration.String(): 90s -> 1m30s, 60s -> 1m, 0s -> 0s."""
    sizes = dict(_UNITS)
    secs = sum(int(n) * sizes.get(u, 0) for n, u in _PART.findall(text))
    if secs == 0:
        return "0s"
    out = ""
    for unit, size in _UNITS:
        if secs >= size:
            out += f"{secs // size}{unit}"
            secs %= size
    return out


def _group_validator() -> jsonschema.Draft7Validator:
    schema = load("prometheus-rules.schema.json")
    group = schema["properties"]["groups"]["items"]
    # Mimir accepts source_tenants on top of Prometheus' group fields (the notes say so).
    props = {**group["properties"], "source_tenants": {"type": "array", "items": {"type": "string"}}}
    return jsonschema.Draft7Validator({**group, "properties": props, "definitions": schema["definitions"]})


@dataclass
class Call:
    method: str
    path: str
    status: int
    tenant: str | None
    content_type: str | None
    authorization: str | None


class FakeMimir:
    def __init__(self, *, token: str | None = None, api: str = "mimir") -> None:
        self.token = token
        # Cortex serves the same API at its own path, which no Mimir prefix produces.
        self.prefix = RULER["cortex_rules_path"] if api == "cortex" else PREFIX
        self.tenants: dict[str, dict[str, dict[str, dict[str, Any]]]] = {}
        self.calls: list[Call] = []
        self.violations: list[str] = []
        self._validator = _group_validator()
        self._lock = threading.Lock()
        self._http: LoopbackServer | None = None

    def start(self) -> FakeMimir:
        self._http = LoopbackServer(self._respond, name="fake-mimir").start()
        return self

    def _respond(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, bytes, str | None]:
        status, text = self.handle(method, path, {k.lower(): v for k, v in headers.items()}, raw)
        return status, text.encode(), "application/yaml" if status == 200 else "text/plain"

    def stop(self) -> None:
        if self._http is not None:
            self._http.stop()

    @property
    def url(self) -> str:
        assert self._http is not None
        return self._http.url

    @property
    def writes(self) -> list[Call]:
        return [c for c in self.calls if c.method != "GET"]

    def seed(self, tenant: str, namespace: str, group: dict[str, Any]) -> None:
        with self._lock:
            self.tenants.setdefault(tenant, {}).setdefault(namespace, {})[group["name"]] = self._stored(group)

    def handle(self, method: str, raw_path: str, headers: dict[str, str], raw: bytes) -> tuple[int, str]:
        with self._lock:
            path = urlsplit(raw_path).path
            tenant = headers.get(RULER["tenant_header"].lower())
            status, text = self._route(method, path, headers, tenant, raw)
            self.calls.append(Call(method, path, status, tenant, headers.get("content-type"),
                                   headers.get("authorization")))
            return status, text

    def _route(self, method: str, path: str, headers: dict[str, str], tenant: str | None,
               raw: bytes) -> tuple[int, str]:
        if not path.startswith(self.prefix):
            self.violations.append(f"{method} {path}: not a ruler route")
            return 404, "404 page not found\n"
        if self.token is not None and headers.get("authorization") != f"Bearer {self.token}":
            return 401, "unauthorized\n"
        if not tenant:
            return 401, "no org id\n"
        segments = [unquote(s) for s in path[len(self.prefix):].split("/") if s]
        spaces = self.tenants.setdefault(tenant, {})
        if method == "GET" and not segments:
            if not any(spaces.values()):
                return 404, "no rule groups found\n"
            return 200, yaml.safe_dump({ns: list(g.values()) for ns, g in spaces.items() if g}, sort_keys=False)
        if method == "GET" and len(segments) == 1:
            groups = spaces.get(segments[0])
            if not groups:
                return 404, "no rule groups found\n"
            return 200, yaml.safe_dump({segments[0]: list(groups.values())}, sort_keys=False)
        if method == "GET" and len(segments) == 2:
            group = spaces.get(segments[0], {}).get(segments[1])
            if group is None:
                return 404, "group does not exist\n"
            return 200, yaml.safe_dump(group, sort_keys=False)
        if method == "POST" and len(segments) == 1:
            if headers.get("content-type") != RULER["content_type"]:
                self.violations.append(f"POST {path} with Content-Type {headers.get('content-type')!r}")
                return 400, "unsupported content type\n"
            try:
                group = yaml.safe_load(raw)
            except yaml.YAMLError as exc:
                return 400, f"unable to decode rule group: {exc}\n"
            if not isinstance(group, dict) or "groups" in group or "name" not in group:
                self.violations.append(f"POST {path}: body is not exactly one rule group")
                return 400, "the request body must contain the definition of one and only one rule group\n"
            problems = [e.message for e in self._validator.iter_errors(group)]
            if problems:
                self.violations.extend(f"POST {path}: {p}" for p in problems)
                return 400, "; ".join(problems) + "\n"
            spaces.setdefault(segments[0], {})[group["name"]] = self._stored(group)
            return 202, '{"status":"success","data":null,"errorType":"","error":""}'
        if method == "DELETE" and len(segments) == 2:
            if spaces.get(segments[0], {}).pop(segments[1], None) is None:
                return 404, "group does not exist\n"
            return 202, '{"status":"success","data":null,"errorType":"","error":""}'
        if method == "DELETE" and len(segments) == 1:
            spaces.pop(segments[0], None)
            return 202, '{"status":"success","data":null,"errorType":"","error":""}'
        self.violations.append(f"{method} {path}: not a ruler route")
        return 404, "404 page not found\n"

    @staticmethod
    def _stored(group: dict[str, Any]) -> dict[str, Any]:
        out = dict(group)
        if out.get("interval"):
            out["interval"] = go_duration(str(out["interval"]))
        rules = []
        for original in group.get("rules") or []:
            rule = dict(original)
            if "for" in rule:
                rule["for"] = go_duration(str(rule["for"]))
            rules.append(rule)
        out["rules"] = rules
        return out
