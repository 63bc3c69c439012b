"""Walking the OpenAPI spec: operations, their id parameters, and minimal valid requests.

Everything here reads the spec only, so a route added later is found without editing the probe.
"""

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from tests.conftest import unique_email

METHODS = ("get", "put", "patch", "post", "delete")
ARRAY_ITEM = "[]"
IdsFor = Callable[[str], str]
FieldPath = tuple[str, ...]

# Tried, in order, for a string field with a pattern and no example in the spec.
PATTERN_CANDIDATES = ("probe", "Probe Name", "1", "100.00", "+91 98450 12345", "ABCDE1234F", "2026-04-01")


class MissingSample(LookupError):
    """The probe cannot build a valid value for a field from the spec alone."""


def is_id_like(name: str) -> bool:
    return name == "id" or name.endswith("_id")


def deref(spec: dict, node: dict) -> dict:
    """Follow `$ref`s, and pick the non-null branch of `anyOf`/`oneOf` (optional fields)."""
    while True:
        if "$ref" in node:
            target: Any = spec
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            node = target
        elif "anyOf" in node or "oneOf" in node:
            options = node.get("anyOf") or node.get("oneOf")
            node = next(o for o in options if o.get("type") != "null")
        else:
            return node


@dataclass(frozen=True)
class Operation:
    spec: dict
    method: str
    path: str
    op: dict

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path}"

    def params(self, where: str) -> list[dict]:
        return [p for p in (deref(self.spec, p) for p in self.op.get("parameters", [])) if p["in"] == where]

    @property
    def path_params(self) -> list[str]:
        return [p["name"] for p in self.params("path")]

    @property
    def id_query_params(self) -> list[str]:
        return [p["name"] for p in self.params("query") if is_id_like(p["name"])]

    @property
    def body_schema(self) -> dict | None:
        content = self.op.get("requestBody", {}).get("content", {})
        media = content.get("application/json")
        return deref(self.spec, media["schema"]) if media else None

    @property
    def returns_items(self) -> bool:
        ok = self.op.get("responses", {}).get("200", {}).get("content", {}).get("application/json")
        return bool(ok) and "items" in deref(self.spec, ok["schema"]).get("properties", {})

    def url(self, path_values: dict[str, str]) -> str:
        return self.path.format(**path_values)


def operations(spec: dict) -> list[Operation]:
    return [
        Operation(spec, method, path, op)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if method in METHODS
    ]


def id_fields(spec: dict, schema: dict, prefix: FieldPath = ()) -> Iterator[FieldPath]:
    """Every id-like field in a body schema, at any depth (array items are `[]`)."""
    schema = deref(spec, schema)
    if schema.get("type") == "array" and "items" in schema:
        yield from id_fields(spec, schema["items"], (*prefix, ARRAY_ITEM))
    for name, prop in schema.get("properties", {}).items():
        if is_id_like(name):
            yield (*prefix, name)
        else:
            yield from id_fields(spec, prop, (*prefix, name))


def sample(spec: dict, schema: dict, name: str, ids: IdsFor) -> Any:
    """A value the schema accepts: id-like names come from `ids`, the rest from the spec."""
    schema = deref(spec, schema)
    if is_id_like(name):
        return ids(name)
    for key in ("examples", "example", "default", "enum"):
        if schema.get(key) not in (None, []):
            value = schema[key]
            return _with_ids(value[0] if key in ("examples", "enum") else value, ids)
    kind = schema.get("type")
    if kind == "object":
        return {k: sample(spec, schema["properties"][k], k, ids) for k in schema.get("required", [])}
    if kind == "array":
        return [sample(spec, schema["items"], name, ids)] * max(1, schema.get("minItems", 1))
    if kind in ("integer", "number"):
        return schema.get("minimum", 1)
    if kind == "boolean":
        return False
    if kind == "string":
        return _sample_string(schema, name)
    raise MissingSample(f"field {name!r}: no example and no type in the spec")


def _with_ids(example: Any, ids: IdsFor) -> Any:
    """An example from the spec with its id-like fields replaced by the tenant's real ids."""
    if isinstance(example, dict):
        return {k: ids(k) if is_id_like(k) else _with_ids(v, ids) for k, v in example.items()}
    if isinstance(example, list):
        return [_with_ids(item, ids) for item in example]
    return example


def _sample_string(schema: dict, name: str) -> str:
    fmt = schema.get("format")
    by_format = {
        "email": unique_email,
        "uuid": lambda: str(uuid.uuid4()),
        "date": lambda: datetime.now(ZoneInfo("Asia/Kolkata")).date().isoformat(),
        "date-time": lambda: datetime.now(ZoneInfo("Asia/Kolkata")).isoformat(),
    }
    if fmt in by_format:
        return by_format[fmt]()
    pattern = schema.get("pattern")
    if "email" in name:
        return unique_email("probe")
    if pattern is None:
        return "probe" * max(1, schema.get("minLength", 1))
    for candidate in PATTERN_CANDIDATES:
        if re.search(pattern, candidate) and len(candidate) >= schema.get("minLength", 0):
            return candidate
    raise MissingSample(f"field {name!r}: nothing in PATTERN_CANDIDATES matches {pattern!r}; add an example")


def body_with(spec: dict, schema: dict, ids: IdsFor, path: FieldPath = (), value: Any = None) -> Any:
    """A minimal valid body (required fields only) with `value` put at `path`."""
    if not path:
        return value if value is not None else sample(spec, schema, "body", ids)
    schema = deref(spec, schema)
    head, rest = path[0], path[1:]
    if head == ARRAY_ITEM:
        return [body_with(spec, schema["items"], ids, rest, value)]
    body = {k: sample(spec, schema["properties"][k], k, ids) for k in schema.get("required", []) if k != head}
    prop = schema["properties"][head]
    body[head] = body_with(spec, prop, ids, rest, value) if rest else value
    return body


def required_query(spec: dict, operation: Operation, ids: IdsFor) -> dict[str, Any]:
    return {p["name"]: sample(spec, p["schema"], p["name"], ids) for p in operation.params("query") if p["required"]}


UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def uuids_in(text: str) -> set[str]:
    return set(UUID_RE.findall(text.lower()))
