"""The trade-event contract: decode one stream entry and check it against ``trade_event.schema.json``.

The JSON Schema is what the engine team codes against. A general JSON Schema validator costs tens of
microseconds per event, more than everything else the exporter does with it, so the schema is
compiled once, at import, into one check per event type. The compiler knows only the keywords the
schema uses and refuses any other, so the schema cannot gain a rule that this path silently skips;
the tests check that it agrees with ``jsonschema`` on good and bad events.

Example::

    >>> decode(b'{"version":1,"type":"latency","ts":1.7e9,"component":"jupiter_api","latency_seconds":0.05}')
    {'version': 1, 'type': 'latency', 'ts': 1700000000.0, 'component': 'jupiter_api', 'latency_seconds': 0.05}
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final

SCHEMA_PATH: Final = Path(__file__).with_name("trade_event.schema.json")
MAX_EVENT_BYTES: Final = 64 * 1024

# The `reason` label of tradewatch_exporter_events_rejected_total: a closed set, so a faulty engine
# cannot grow it; the detail (which field, which value) goes to the dead-letter entry instead.
REJECT_REASONS: Final = (
    "no_event_field", "malformed_json", "unsupported_version", "unknown_type", "invalid_field", "trimmed",
)

Event = dict[str, Any]
"""A decoded, valid event: the JSON object, as ``json`` returns it."""

_Check = Callable[[Any], "str | None"]


class RejectedEvent(ValueError):
    """An event that breaks the contract; ``reason`` is one of REJECT_REASONS, the message names the field."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class SchemaError(RuntimeError):
    """trade_event.schema.json uses something the fast validator does not implement."""


@dataclass(frozen=True)
class _EventType:
    name: str
    required: frozenset[str]
    allowed: frozenset[str]
    fields: tuple[tuple[str, _Check], ...]
    dependent: tuple[tuple[str, tuple[str, ...]], ...]
    versions: frozenset[int] = frozenset()  # the versions this type exists in


_TOP_KEYS = {"$schema", "$id", "title", "description", "oneOf", "$defs"}
_OBJECT_KEYS = {"description", "type", "required", "additionalProperties", "dependentRequired", "properties"}
_FIELD_KEYS = {
    "description", "type", "enum", "const", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
    "minLength", "maxLength",
}


def _show(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _compile_field(where: str, schema: Mapping[str, Any]) -> _Check:
    unknown = set(schema) - _FIELD_KEYS
    if unknown:
        raise SchemaError(f"{where}: keywords {sorted(unknown)} are not implemented by exporters/events.py")
    if "enum" in schema or "const" in schema:
        choices = tuple(schema["enum"]) if "enum" in schema else (schema["const"],)
        if not all(isinstance(c, str) for c in choices) or set(schema) - {"enum", "const", "description"}:
            raise SchemaError(f"{where}: only enums of strings are implemented")
        allowed = frozenset(choices)
        expected = ", ".join(map(repr, choices))

        def check_choice(value: Any) -> str | None:
            if type(value) is str and value in allowed:
                return None
            return f"must be one of {expected}, got {_show(value)}"

        return check_choice
    kind = schema.get("type")
    if kind == "string":
        shortest, longest = schema.get("minLength", 0), schema.get("maxLength", math.inf)

        def check_string(value: Any) -> str | None:
            if type(value) is str and shortest <= len(value) <= longest:
                return None
            return f"must be a string of {shortest} to {longest} characters, got {_show(value)}"

        return check_string
    if kind in ("number", "integer"):
        # Defaults of +-inf make the bounds reject the infinities json parses from 1e999.
        low = schema.get("minimum", -math.inf)
        above = schema.get("exclusiveMinimum", -math.inf)
        high = schema.get("maximum", math.inf)
        below = schema.get("exclusiveMaximum", math.inf)
        integer = kind == "integer"
        symbols = {"minimum": ">=", "exclusiveMinimum": ">", "maximum": "<=", "exclusiveMaximum": "<"}
        bounds = [f"{symbol} {schema[key]}" for key, symbol in symbols.items() if key in schema]
        expected = " ".join(["an integer" if integer else "a number", *bounds])

        def check_number(value: Any) -> str | None:
            t = type(value)
            if (t is int or (t is float and (not integer or value.is_integer()))) and (
                low <= value <= high and above < value < below
            ):
                return None
            return f"must be {expected}, got {_show(value)}"

        return check_number
    raise SchemaError(f"{where}: type {kind!r} is not implemented")


class _Compiler:
    def __init__(self, schema: Mapping[str, Any]) -> None:
        self.defs: Mapping[str, Any] = schema.get("$defs", {})

    def resolve(self, where: str, schema: Mapping[str, Any]) -> dict[str, Any]:
        """Inline a local ``$ref``; the sibling keywords (a description) are merged in."""
        if "$ref" not in schema:
            return dict(schema)
        ref: str = schema["$ref"]
        name = ref.removeprefix("#/$defs/")
        if name == ref or name not in self.defs:
            raise SchemaError(f"{where}: $ref {ref!r} is not a local #/$defs/ reference")
        target = self.resolve(ref, self.defs[name])
        siblings = {k: v for k, v in schema.items() if k != "$ref"}
        clash = (set(siblings) & set(target)) - {"description"}
        if clash:
            raise SchemaError(f"{where}: {sorted(clash)} both beside and inside $ref {ref!r}")
        return {**target, **siblings}

    def event_type(self, where: str, schema: Mapping[str, Any]) -> _EventType:
        obj = self.resolve(where, schema)
        unknown = set(obj) - _OBJECT_KEYS
        if unknown or obj.get("type") != "object" or obj.get("additionalProperties") is not False:
            raise SchemaError(f"{where}: an event must be an object with additionalProperties false "
                              f"and no other keywords than {sorted(_OBJECT_KEYS)}")
        props: Mapping[str, Any] = obj["properties"]
        name = self.resolve(f"{where}/type", props["type"]).get("const")
        if not isinstance(name, str):
            raise SchemaError(f"{where}: properties.type must be a const string")
        fields = tuple(
            (field, _compile_field(f"{where}/properties/{field}", self.resolve(where, sub)))
            for field, sub in props.items()
            if field not in ("version", "type")  # checked before dispatch, against the top-level rules
        )
        return _EventType(
            name=name,
            required=frozenset(obj.get("required", ())),
            allowed=frozenset(props),
            fields=fields,
            dependent=tuple((k, tuple(v)) for k, v in obj.get("dependentRequired", {}).items()),
        )


def compile_schema(schema: Mapping[str, Any]) -> tuple[tuple[int, ...], dict[str, _EventType]]:
    """(versions, checks per event type) from the schema; SchemaError for what this module cannot check.

    ``$defs/version`` lists every version this schema describes; an event type that exists in all of
    them refers to it, one added later pins its first version with ``const``.
    """
    unknown = set(schema) - _TOP_KEYS
    if unknown:
        raise SchemaError(f"top level: keywords {sorted(unknown)} are not implemented")
    compiler = _Compiler(schema)
    rule = compiler.defs["version"]
    versions = tuple(rule["enum"]) if "enum" in rule else (rule.get("const"),)
    if not all(type(v) is int for v in versions):
        raise SchemaError("$defs/version: const or enum must hold integers")
    types: dict[str, _EventType] = {}
    for i, option in enumerate(schema["oneOf"]):
        event_type = compiler.event_type(f"oneOf/{i}", option)
        version_rule = compiler.resolve(f"oneOf/{i}", option)["properties"].get("version", {})
        if "version" not in event_type.required:
            raise SchemaError(f"oneOf/{i}: every event must require version")
        if version_rule.get("$ref") == "#/$defs/version":
            accepted = frozenset(versions)
        elif set(version_rule) == {"const"} and version_rule["const"] in versions:
            accepted = frozenset({version_rule["const"]})
        else:
            raise SchemaError(f"oneOf/{i}: version must be #/$defs/version or a const among {versions}")
        types[event_type.name] = replace(event_type, versions=accepted)
    return versions, types


def load_schema() -> dict[str, Any]:
    """The published JSON Schema, as a dict (for jsonschema, docs and tests)."""
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema


VERSIONS, _TYPES = compile_schema(load_schema())
VERSION: Final = max(VERSIONS)  # what new events should carry
EVENT_TYPES: Final = tuple(_TYPES)
_TYPE_NAMES = ", ".join(map(repr, EVENT_TYPES))


def validate(obj: Any) -> Event:
    """``obj`` itself if it is a valid event, else RejectedEvent naming the field."""
    if type(obj) is not dict:
        raise RejectedEvent("malformed_json", f"an event must be a JSON object, got {_show(obj)}")
    version = obj.get("version")
    if not (version in VERSIONS and type(version) in (int, float)):
        raise RejectedEvent(
            "unsupported_version",
            f"version: this exporter reads versions {', '.join(map(str, VERSIONS))}, got {_show(version)}",
        )
    name = obj.get("type")
    spec = _TYPES.get(name) if type(name) is str else None
    if spec is None:
        raise RejectedEvent("unknown_type", f"type: must be one of {_TYPE_NAMES}, got {_show(name)}")
    if version not in spec.versions:
        first = min(spec.versions)
        raise RejectedEvent("unsupported_version", f"version: a {name} event needs version {first}, got {version}")
    keys = obj.keys()
    if not spec.required <= keys:
        missing = sorted(spec.required - keys)
        raise RejectedEvent("invalid_field", f"{', '.join(missing)}: required in a {name} event")
    if not keys <= spec.allowed:
        extra = sorted(keys - spec.allowed)
        raise RejectedEvent("invalid_field", f"{', '.join(extra)}: not a field of a {name} event")
    for field, check in spec.fields:
        if field in obj:
            problem = check(obj[field])
            if problem is not None:
                raise RejectedEvent("invalid_field", f"{field}: {problem}")
    for field, needs in spec.dependent:
        if field in obj:
            for other in needs:
                if other not in obj:
                    raise RejectedEvent("invalid_field", f"{other}: required in a {name} event with {field}")
    return obj


def _no_constant(token: str) -> Any:
    raise ValueError(f"{token} is not a JSON number")


_decoder = json.JSONDecoder(parse_constant=_no_constant)


def decode(raw: bytes | None) -> Event:
    """Parse the UTF-8 JSON text of a stream entry's ``event`` field and validate it."""
    if raw is None:
        raise RejectedEvent("no_event_field", "the stream entry has no 'event' field")
    if len(raw) > MAX_EVENT_BYTES:
        raise RejectedEvent("malformed_json", f"event is {len(raw)} bytes; the limit is {MAX_EVENT_BYTES}")
    try:
        obj = _decoder.decode(raw.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise RejectedEvent("malformed_json", f"not UTF-8 JSON: {exc}") from None
    return validate(obj)
