"""The OpenAPI document, shaped for client generators: readable operationIds, one shared Problem
component for every error answer, shared response headers, the rules that hold for every operation
stated on each of them, and links from every create to the operations on what it created."""

from collections import defaultdict
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

from app.core.errors import PROBLEM_JSON, PROBLEM_TYPE_BASE, PROBLEM_TYPES
from app.schemas.common import QUERY_TEXT, Problem, QuotaProblem

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


def operation_id(route: APIRoute) -> str:
    """The route function's name in camelCase, `read_` said as `get` (`read_invoice` → `getInvoice`):
    what a generated client calls the operation. The CRUD factory names its own (app/api/crud.py)."""
    head, *rest = route.name.split("_")
    return ("get" if head == "read" else head) + "".join(word.capitalize() for word in rest)


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


# Response headers, defined once under components/headers. ETag and Location are not listed: the
# API sends neither (a create answers the created resource in its body, with its `id`).
HEADERS: dict[str, dict[str, Any]] = {
    "X-Request-ID": {
        "description": "The request's id (the client's own `X-Request-ID` if it sent a valid one): quote it "
        "when reporting a problem; the server's logs carry it.",
        "schema": {"type": "string"},
    },
    "Retry-After": {
        "description": "Seconds to wait before retrying.",
        "schema": {"type": "integer", "minimum": 1},
    },
    "Idempotent-Replayed": {
        "description": "Sent when the request carried an `Idempotency-Key`: `true` if this is the stored "
        "answer to an earlier request with the same key, `false` if the request ran now.",
        "schema": {"type": "string", "enum": ["true", "false"]},
    },
    "Idempotency-Key": {
        "description": "The request's `Idempotency-Key`, echoed.",
        "schema": {"type": "string"},
    },
}
RETRY_STATUSES = ("409", "429", "503")  # 409: `concurrent-update` only


def _codes_by_status() -> dict[int, list[str]]:
    by_status: dict[int, list[str]] = defaultdict(list)
    for code, (status, _) in sorted(PROBLEM_TYPES.items()):
        by_status[status].append(code)
    return dict(sorted(by_status.items()))


def _problem_schemas() -> dict[str, Any]:
    """Problem (every error answer), QuotaProblem (402: Problem plus the plan's limit), FieldError,
    and ProblemCode: every code the API can answer, enumerable. Problem's `code` itself stays a
    plain string, so a client generated today still parses a code added tomorrow."""
    schemas: dict[str, Any] = {}
    for model in (Problem, QuotaProblem):
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    table = "\n".join(
        f"- **{status}**: " + ", ".join(f"`{code}`" for code in codes) for status, codes in _codes_by_status().items()
    )
    schemas["ProblemCode"] = {
        "type": "string",
        "enum": sorted(PROBLEM_TYPES),
        "description": "Every `code` a problem answer can carry (its `type` is "
        f"`{PROBLEM_TYPE_BASE}<code>`), by HTTP status:\n\n{table}",
    }
    schemas["QuotaProblem"] = {
        "allOf": [_ref("schemas", "Problem"), schemas["QuotaProblem"]],
        "description": schemas["QuotaProblem"].get("description", ""),
    }
    return schemas


def share_problems(spec: dict[str, Any]) -> dict[str, Any]:
    """Every error answer (4xx, 5xx, FastAPI's own 422 included) refers to the one Problem component
    (QuotaProblem on 402) as `application/problem+json`; every answer documents X-Request-ID, 429
    503 and 409 Retry-After, and operations taking an Idempotency-Key their replay headers."""
    components = spec.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas.update(_problem_schemas())
    components["headers"] = HEADERS
    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            idempotent = any(p.get("name", "").lower() == "idempotency-key" for p in operation.get("parameters", []))
            for status, response in operation.get("responses", {}).items():
                headers = response.setdefault("headers", {})
                headers["X-Request-ID"] = _ref("headers", "X-Request-ID")
                if status[0] in "45":
                    name = "QuotaProblem" if status == "402" else "Problem"
                    response["content"] = {PROBLEM_JSON: {"schema": _ref("schemas", name)}}
                    if status in RETRY_STATUSES:
                        headers["Retry-After"] = _ref("headers", "Retry-After")
                elif idempotent and status[0] == "2":
                    headers["Idempotent-Replayed"] = _ref("headers", "Idempotent-Replayed")
                    headers["Idempotency-Key"] = _ref("headers", "Idempotency-Key")
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return spec


# One tag per area, in the order the docs show them; a generated client makes a module of each.
TAGS = {
    "auth": "Sign-up, login, tokens, email verification, password reset, invitations accepted.",
    "users": "The signed-in user and the tenant's users and invitations.",
    "tenants": "The business (tenant) and its subscription.",
    "billing": "Paid plans: upgrade through Razorpay, payments.",
    "usage": "Usage quotas (tokens): reads and debits.",
    "companies": "The tenant's companies (GSTINs) that issue documents.",
    "customers": "Customers and their ledgers.",
    "invoices": "Invoices: drafts, issue, void.",
    "recurring invoices": "Invoices issued each month, quarter or year by the job: schedules, pause, resume, history.",
    "receipts": "Receipts and their allocation to invoices.",
    "sales": "Quick sale at the counter: invoice, stock, payments and udhaar in one call.",
    "online payments": "Pay by link on the business's own Razorpay: invoices' payment links, payments received online.",
    "payment gateways": "The business's own Razorpay account (owner only): keys checked, encrypted, never shown.",
    "orders": "Orders: a cart priced like an invoice, placed with its stock reserved, paid online or on delivery.",
    "credit notes": "Credit notes against issued invoices.",
    "refunds": "Money given back through the business's own Razorpay: of an order (full, by lines, by amount), "
    "of a payment flagged for refund; the refunds made and their state.",
    "client types": "Configuration: client types.",
    "account managers": "Configuration: account managers.",
    "service types": "Configuration: service types (SAC/HSN, default rates).",
    "tax rates": "Configuration: GST rates in force.",
    "product categories": "The catalogue: product categories (a tree of at most 3 levels).",
    "products": "The catalogue: products (SKU, barcode, HSN, UQC unit, prices, GST rate, reorder levels).",
    "stock": "Stock per company: levels, movements, goods in, counts, transfers, low-stock alerts, negative stock.",
    "storage": "Storage rent: agreements to store customers' goods, goods received and released, periods billed.",
    "gst settings": "Configuration: GST registration and document numbering.",
    "reminder settings": "Configuration: payment reminders to customers (schedule, send hour, on/off).",
    "dashboard": "Figures for the dashboard.",
    "audit": "The audit log.",
    "events": "Business events (invoice.issued, receipt.created, ...): the log the webhooks and analytics read.",
    "webhooks": "Inbound webhooks (Razorpay): the upgrades', and each business's own account's.",
    "health": "Liveness and readiness.",
}


def describe_tags(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec's tags with a line each; a tag used but not described here is still listed."""
    used = {tag for ops in spec.get("paths", {}).values() for op in ops.values() for tag in op.get("tags", [])}
    order = [tag for tag in TAGS if tag in used] + sorted(used - set(TAGS))
    spec["tags"] = [{"name": tag, **({"description": TAGS[tag]} if tag in TAGS else {})} for tag in order]
    return spec


def install_openapi(app: FastAPI) -> None:
    build = app.openapi  # FastAPI's own, which caches its result in app.openapi_schema

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            link_created_resources(state_query_text_rule(share_problems(describe_tags(build()))))
        return app.openapi_schema

    app.openapi = openapi
