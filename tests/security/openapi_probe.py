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
SHAPE = "|"
IdsFor = Callable[[str], str]
FieldPath = tuple[str, ...]

# Tried, in order, for a string field with a pattern and no example in the spec.
PATTERN_CANDIDATES = ("probe", "Probe Name", "1", "100.00", "+91 98450 12345", "ABCDE1234F", "2026-04-01")


class MissingSample(LookupError):
    """The probe cannot build a valid value for a field from the spec alone."""


# Names that end in _id but name no row of ours: a Razorpay API key id (public: Checkout shows it).
NOT_IDS = frozenset({"key_id"})


def is_id_like(name: str) -> bool:
    return (name == "id" or name.endswith("_id")) and name not in NOT_IDS


def resolve(spec: dict, node: dict) -> dict:
    """Follow `$ref`s."""
    while "$ref" in node:
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def shapes(spec: dict, node: dict) -> list[dict]:
    """Every shape a schema can take: each non-null branch of its `anyOf`/`oneOf` (at any depth of
    nesting), merged with what the schema states beside them (properties, required)."""
    node = resolve(spec, node)
    options = node.get("anyOf") or node.get("oneOf")
    if not options:
        return [node]
    base = {k: v for k, v in node.items() if k not in ("anyOf", "oneOf")}
    found = []
    for option in options:
        option = resolve(spec, option)
        if option.get("type") == "null":
            continue
        for shape in shapes(spec, option):
            merged = {**base, **shape}
            merged["properties"] = {**base.get("properties", {}), **shape.get("properties", {})}
            merged["required"] = [*base.get("required", []), *shape.get("required", [])]
            found.append(merged)
    return found


def deref(spec: dict, node: dict) -> dict:
    """The schema's first shape (a parameter, or a minimal valid value)."""
    return shapes(spec, node)[0]


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
        if not media:
            return None
        schema = resolve(self.spec, media["schema"])
        if "example" in media and "example" not in schema:  # a free-form body described by its example
            schema = {**schema, "example": media["example"]}
        return schema

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
    """Every id-like field in a body schema, at any depth and in every shape: array items are `[]`,
    the n-th shape of an `anyOf`/`oneOf` with more than one is `|n`."""
    options = shapes(spec, schema)
    for index, shape in enumerate(options):
        here = (*prefix, f"{SHAPE}{index}") if len(options) > 1 else prefix
        if shape.get("type") == "array" and "items" in shape:
            yield from id_fields(spec, shape["items"], (*here, ARRAY_ITEM))
        for name, prop in shape.get("properties", {}).items():
            if is_id_like(name):
                yield (*here, name)
            else:
                yield from id_fields(spec, prop, (*here, name))
        if "properties" not in shape and isinstance(shape.get("example"), dict):
            yield from _example_id_fields(shape["example"], here)


def _example_id_fields(example: Any, prefix: FieldPath) -> Iterator[FieldPath]:
    """Id-like keys of a free-form body's example (a webhook event), at any depth."""
    if isinstance(example, dict):
        for name, value in example.items():
            yield from [(*prefix, name)] if is_id_like(name) else _example_id_fields(value, (*prefix, name))
    elif isinstance(example, list) and example:
        yield from _example_id_fields(example[0], (*prefix, ARRAY_ITEM))


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
    head, rest = path[0], path[1:]
    if head.startswith(SHAPE):
        return body_with(spec, shapes(spec, schema)[int(head.removeprefix(SHAPE))], ids, rest, value)
    schema = deref(spec, schema)
    if "properties" not in schema and "example" in schema:
        return _put(_with_ids(schema["example"], ids), path, value)
    if head == ARRAY_ITEM:
        return [body_with(spec, schema["items"], ids, rest, value)]
    body = {k: sample(spec, schema["properties"][k], k, ids) for k in schema.get("required", []) if k != head}
    prop = schema["properties"][head]
    body[head] = body_with(spec, prop, ids, rest, value) if rest else value
    return body


def _put(body: Any, path: FieldPath, value: Any) -> Any:
    """`body` with `value` at `path` (an example's structure: `[]` is its first item)."""
    head, rest = path[0], path[1:]
    key = 0 if head == ARRAY_ITEM else head
    body[key] = _put(body[key], rest, value) if rest else value
    return body


def required_query(spec: dict, operation: Operation, ids: IdsFor) -> dict[str, Any]:
    return {p["name"]: sample(spec, p["schema"], p["name"], ids) for p in operation.params("query") if p["required"]}


def required_headers(operation: Operation) -> dict[str, str]:
    """Header parameters the operation requires: a fresh Idempotency-Key for each request (a key
    used twice would replay, or answer 422 for another body, before the request reached its ids)."""
    headers = {}
    for param in operation.params("header"):
        if not param["required"]:
            continue
        if param["name"].lower() != "idempotency-key":
            raise MissingSample(f"required header {param['name']!r}: teach required_headers how to fill it")
        headers[param["name"]] = f"probe-{uuid.uuid4()}"
    return headers


UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def uuids_in(text: str) -> set[str]:
    return set(UUID_RE.findall(text.lower()))
