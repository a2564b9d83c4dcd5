"""Grafana 11.4's published HTTP API (Swagger 2) as a checker: routes, parameters, bodies.

``tests/contracts/grafana-api.json`` (derived from Grafana's published ``api-merged.json``, checked
against ``../shared/contracts`` where it exists) is the contract; every schema is
checked with a Draft-4 validator whose root holds the spec's ``definitions`` (Swagger 2 schemas are
Draft-4 dialect), as the contracts README prescribes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import unquote

import jsonschema

from tests.contracts import load

ERROR_BODY = {"$ref": "#/definitions/ErrorResponseBody"}


@dataclass(frozen=True)
class Operation:
    method: str
    template: str  # full path, e.g. /api/dashboards/uid/{uid}
    operation_id: str
    pattern: re.Pattern[str]
    path_params: tuple[str, ...]
    query_params: frozenset[str]
    header_params: frozenset[str]
    body: dict[str, Any] | None
    responses: dict[int, dict[str, Any] | None]  # status -> body schema (None: no schema)
    literals: int


@cache
def grafana_spec() -> dict[str, Any]:
    data: dict[str, Any] = load("grafana-api.json")
    return data


@cache
def _validator(schema_json: str) -> jsonschema.Draft4Validator:
    schema = json.loads(schema_json)
    return jsonschema.Draft4Validator({"definitions": grafana_spec()["definitions"], **schema})


def schema_errors(schema: dict[str, Any], instance: Any) -> list[str]:
    """Every way ``instance`` breaks ``schema`` (a Swagger schema object), one line each."""
    validator = _validator(json.dumps(schema, sort_keys=True))
    return [f"{'/'.join(map(str, e.absolute_path)) or '(body)'}: {e.message}"
            for e in sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path)))]


def definition_errors(name: str, instance: Any) -> list[str]:
    return schema_errors({"$ref": f"#/definitions/{name}"}, instance)


class GrafanaContract:
    """Matches requests to the spec's operations and checks their bodies both ways."""

    def __init__(self) -> None:
        spec = grafana_spec()
        base = spec["basePath"]
        ops: list[Operation] = []
        for template, item in spec["paths"].items():
            shared = item.get("parameters", [])
            for method, op in item.items():
                if method == "parameters":
                    continue
                params = [*shared, *op.get("parameters", [])]
                body = next((p.get("schema") for p in params if p.get("in") == "body"), None)
                segments = template.strip("/").split("/")
                regex = "/".join("([^/]+)" if s.startswith("{") else re.escape(s) for s in segments)
                ops.append(Operation(
                    method=method.upper(),
                    template=base + template,
                    operation_id=op["operationId"],
                    pattern=re.compile(f"^{re.escape(base)}/{regex}$"),
                    path_params=tuple(s[1:-1] for s in segments if s.startswith("{")),
                    query_params=frozenset(p["name"] for p in params if p.get("in") == "query"),
                    header_params=frozenset(p["name"].lower() for p in params if p.get("in") == "header"),
                    body=body,
                    responses={int(code): self._response_schema(r) for code, r in op.get("responses", {}).items()
                               if code.isdigit()},
                    literals=sum(1 for s in segments if not s.startswith("{")),
                ))
        # A literal segment beats a parameter: /alert-rules/export is not /alert-rules/{UID}.
        self.operations = sorted(ops, key=lambda o: -o.literals)

    @staticmethod
    def _response_schema(response: dict[str, Any]) -> dict[str, Any] | None:
        if "$ref" in response:
            name = response["$ref"].rsplit("/", 1)[1]
            response = grafana_spec()["responses"][name]
        schema: dict[str, Any] | None = response.get("schema")
        return schema

    def match(self, method: str, path: str) -> tuple[Operation, dict[str, str]] | None:
        for op in self.operations:
            if op.method != method:
                continue
            m = op.pattern.match(path)
            if m:
                return op, {name: unquote(v) for name, v in zip(op.path_params, m.groups(), strict=True)}
        return None

    def request_errors(self, op: Operation, body: Any) -> list[str]:
        if op.body is None:
            return [] if body is None else [f"{op.operation_id} takes no body"]
        return schema_errors(op.body, body)

    def response_errors(self, op: Operation, status: int, body: Any) -> list[str]:
        if status not in op.responses:
            # Auth middleware, permission checks and server errors answer on every route, with
            # Grafana's error body, whether or not the spec lists them for that operation.
            if status >= 400:
                return schema_errors(ERROR_BODY, body)
            return [f"{op.operation_id} does not declare status {status}"]
        schema = op.responses[status]
        if schema is None:
            return []
        return schema_errors(schema, body)
