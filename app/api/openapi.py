"""The OpenAPI document, with the rules that hold for every operation stated on each of them."""

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


def install_openapi(app: FastAPI) -> None:
    build = app.openapi  # FastAPI's own, which caches its result in app.openapi_schema

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            state_query_text_rule(build())
        return app.openapi_schema

    app.openapi = openapi
