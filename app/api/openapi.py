"""The OpenAPI document, with the rules that hold for every operation stated on each of them, and
links from every create to the operations on what it created."""

from typing import Any

from fastapi import FastAPI

from app.schemas.common import QUERY_TEXT

# A string that already says what it holds (a pattern, a format, a fixed set) needs nothing more.
SPECIFIC = ("pattern", "format", "enum", "const")


def _free_text_schemas(schema: dict[str, Any]) -> list[dict[str, Any]]:
    options = schema.get("anyOf") or schema.get("oneOf") or [schema]
    return [s for s in options if s.get("type") == "string" and not any(k in s for k in SPECIFIC)]


def state_query_text_rule(spec: dict[str, Any]) -> dict[str, Any]:
    """Every free-text query parameter refuses control characters (QueryTextMiddleware enforces it)."""
    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                if parameter.get("in") == "query":
                    for schema in _free_text_schemas(parameter.get("schema", {})):
                        schema["pattern"] = QUERY_TEXT
    return spec


def link_created_resources(spec: dict[str, Any]) -> dict[str, Any]:
    """OpenAPI links from each create (a POST answering 201 with an `id`) to every operation under
    the created resource's path (`POST /customers` → `GET /customers/{customer_id}`, its PATCH,
    DELETE, `/ledger` ...): clients, and the fuzzer's stateful phase, follow real ids."""
    paths = spec.get("paths", {})
    for path, operations in paths.items():
        created = operations.get("post", {}).get("responses", {}).get("201")
        if created is None:
            continue
        prefix = path.rstrip("/") + "/{"
        links = created.setdefault("links", {})
        for target, target_operations in paths.items():
            if not target.startswith(prefix):
                continue
            name = target[len(prefix) : target.index("}", len(prefix))]
            for method, operation in target_operations.items():
                if isinstance(operation, dict) and "operationId" in operation:
                    links[operation["operationId"]] = {
                        "operationId": operation["operationId"],
                        "parameters": {f"path.{name}": "$response.body#/id"},
                        "description": f"`{method.upper()} {target}` on the created resource.",
                    }
    return spec


def install_openapi(app: FastAPI) -> None:
    build = app.openapi  # FastAPI's own, which caches its result in app.openapi_schema

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            link_created_resources(state_query_text_rule(build()))
        return app.openapi_schema

    app.openapi = openapi
