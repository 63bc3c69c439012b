"""One error type, rendered as RFC 9457 problem details."""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import Scope

log = logging.getLogger(__name__)

PROBLEM_TYPE_BASE = "https://rms-billing.dev/problems/"
PROBLEM_JSON = "application/problem+json"


# Every problem type the API can answer, each defined once: its code (the last segment of the
# problem's `type` URI), HTTP status and title. An AppError names a code from here (its class's
# default or `code=` at the raise); the OpenAPI spec lists them (app/api/openapi.py), and
# tests/api/test_problem_codes.py keeps this table, the code and the spec in step.
PROBLEM_TYPES: dict[str, tuple[int, str]] = {
    # The classes' own codes (below), the handlers' answers, and the refusals of who asks.
    "malformed-request": (400, "Malformed request"),
    "value-out-of-range": (400, "Value out of range"),
    "invalid-cursor": (400, "Invalid cursor"),
    "invalid-token": (400, "Invalid or expired token"),
    "wrong-password": (400, "Current password is wrong"),
    "signature-invalid": (400, "Signature invalid"),
    "webhook-malformed": (400, "Malformed webhook"),
    "unauthorized": (401, "Not authenticated"),
    "invalid-credentials": (401, "Invalid credentials"),
    "invalid-refresh-token": (401, "Invalid refresh token"),
    "quota-exceeded": (402, "Quota exceeded"),
    "subscription-locked": (402, "Subscription locked"),
    "payment-required": (402, "Payment required"),
    "role-forbidden": (403, "Role forbidden"),
    "owner-only": (403, "Owner only"),
    "credit-override-forbidden": (403, "Only an owner or admin may override a credit limit"),
    "email-unverified": (403, "Email unverified"),
    "not-found": (404, "Not found"),
    "method-not-allowed": (405, "Method Not Allowed"),
    "conflict": (409, "Conflict"),
    "concurrent-update": (409, "Concurrent update"),
    "idempotency-key-in-flight": (409, "Request with this idempotency key is in progress"),
    "payload-too-large": (413, "Payload too large"),
    "logo-too-large": (413, "Logo too large"),
    "logo-format-unsupported": (415, "Logo format unsupported"),
    "logo-corrupt": (422, "Logo corrupt"),
    "validation-error": (422, "Validation error"),
    "idempotency-key-reused": (422, "Idempotency key reused with another request"),
    "no-recipient": (422, "No recipient"),
    "rate-limited": (429, "Too many requests"),
    "mail-rate-limited": (429, "Customer mail limit reached"),
    "internal-error": (500, "Internal server error"),
    "payment-gateway-error": (502, "Payment gateway error"),
    "service-unavailable": (503, "Service unavailable"),
    "payment-gateway-unavailable": (503, "Payment gateway unavailable"),
    # 400 rule violations: a well-formed request a business rule refuses; `errors` names the field.
    **dict.fromkeys(
        [
            "billing-state-mismatch",
            "billing-state-required",
            "category-cycle",
            "category-too-deep",
            "company-archived",
            "composition-no-tax",
            "credit-not-positive",
            "credit-note-before-invoice",
            "credit-needs-customer",
            "customer-archived",
            "date-out-of-range",
            "date-range-too-long",
            "description-required",
            "discount-too-large",
            "document-date-before-gst",
            "document-date-too-late",
            "due-before-invoice-date",
            "duplicate-allocation",
            "duplicate-order-line",
            "duplicate-invoice-line",
            "duplicate-product-line",
            "gateway-keys-invalid",
            "gst-rate-not-in-force",
            "gst-rate-required",
            "invalid-barcode",
            "invalid-date-range",
            "invalid-gstin",
            "invalid-hsn",
            "invalid-pan",
            "invalid-period",
            "invoice-of-another-party",
            "line-service-and-product",
            "notes-required",
            "number-patterns-overlap",
            "overpayment-not-cash",
            "pan-gstin-mismatch",
            "pan-mismatch",
            "product-not-tracked",
            "plan-not-purchasable",
            "plan-not-selectable",
            "price-above-mrp",
            "product-line-fixed",
            "quantity-not-positive",
            "quantity-too-precise",
            "recipient-address-required",
            "recurring-content-invalid",
            "recurring-count-below-issued",
            "recurring-end-before-start",
            "recurring-lines-required",
            "recurring-no-periods",
            "restock-by-value",
            "restock-without-goods",
            "sale-underpaid",
            "service-type-inactive",
            "share-link-too-long",
            "state-mismatch",
            "storage-value-required",
            "too-many-periods",
            "unit-price-required",
            "unknown-event-type",
            "unknown-uqc",
            "unregistered-no-tax",
        ],
        (400, ""),
    ),
    # 422: an export's or SEZ supply's details that do not fit together, or with the invoice's parties
    # (app/domain/zero_rated.py); `errors` names the field.
    **dict.fromkeys(
        [
            "customer-not-sez",
            "destination-country-required",
            "export-details-not-export",
            "export-place-of-supply",
            "export-reverse-charge",
            "sez-place-of-supply",
            "shipping-bill-before-invoice",
            "shipping-bill-incomplete",
            "tax-treatment-without-zero-rating",
            "zero-rated-supply-not-allowed",
        ],
        (422, ""),
    ),
    # 422: a stock transfer GST does not let us paper as asked (app/services/catalog/stock_transfers.py).
    **dict.fromkeys(
        [
            "transfer-between-persons",
            "transfer-registration-mismatch",
            "transfer-same-company",
            "transfer-value-required",
        ],
        (422, ""),
    ),
    # 404: what was not found, by name.
    **dict.fromkeys(
        [
            "account-manager-not-found",
            "client-type-not-found",
            "company-not-found",
            "credit-note-not-found",
            "customer-not-found",
            "invoice-line-not-found",
            "invoice-not-found",
            "logo-not-found",
            "meter-not-found",
            "order-line-not-found",
            "order-not-found",
            "payment-gateway-not-found",
            "plan-not-found",
            "product-category-not-found",
            "product-not-found",
            "receipt-not-found",
            "refund-not-found",
            "recurring-invoice-not-found",
            "service-type-not-found",
            "share-link-not-found",
            "stock-document-not-found",
            "storage-agreement-not-found",
        ],
        (404, ""),
    ),
    # 409: the request conflicts with the state of what it changes.
    **dict.fromkeys(
        [
            "account-manager-exists",
            "allocation-not-releasable",
            "client-type-exists",
            "company-exists",
            "credit-limit-exceeded",
            "duplicate-barcode",
            "duplicate-sku",
            "email-taken",
            "gateway-in-use",
            "gateway-not-configured",
            "gateway-not-verified",
            "invitation-not-pending",
            "invoice-already-credited",
            "invoice-already-void",
            "invoice-credit-exceeded",
            "invoice-fully-credited",
            "invoice-has-settlements",
            "invoice-is-draft",
            "invoice-not-creditable",
            "invoice-not-draft",
            "invoice-not-issued",
            "invoice-of-stock-transfer",
            "invoice-over-allocated",
            "invoice-void",
            "insufficient-stock",
            "last-owner",
            "line-quantity-exceeded",
            "line-value-exceeded",
            "negative-stock-exists",
            "nothing-to-refund",
            "number-series-exhausted",
            "order-not-invoiced",
            "order-not-refundable",
            "order-empty",
            "order-line-exists",
            "order-not-cancellable",
            "order-not-draft",
            "order-not-fulfillable",
            "order-not-paid",
            "order-too-many-lines",
            "order-total-zero",
            "product-archived",
            "product-category-exists",
            "product-category-not-empty",
            "product-in-use",
            "receipt-over-allocated",
            "receipt-of-online-payment",
            "receipt-refunded",
            "receipt-void",
            "refund-already-recorded",
            "refund-below-minimum",
            "refund-exceeds-paid",
            "refund-not-due",
            "recurring-invoice-active",
            "recurring-invoice-ended",
            "recurring-invoice-paused",
            "service-type-exists",
            "storage-agreement-ended",
            "storage-goods-held",
            "storage-gst-rate-missing",
            "storage-insufficient-goods",
            "storage-movement-out-of-order",
            "storage-period-billed",
            "storage-too-many-products",
            "storage-value-mismatch",
            "storage-value-too-large",
            "tax-rate-closed",
            "tax-rate-overlap",
            "walk-in-customer",
        ],
        (409, ""),
    ),
    # Outbound webhooks (issue 13 §4: app.services.platform.webhook_endpoints): `errors` names the field.
    **dict.fromkeys(
        [
            "unknown-event-type",
            "webhook-endpoint-disabled",
            "webhook-url-invalid",
            "webhook-url-refused",
            "webhook-url-unresolvable",
        ],
        (400, ""),
    ),
    # Pay by link (issue 12 §2: app/services/commerce/payment_links.py, online_payments.py).
    "online-payment-not-found": (404, ""),
    "payment-link-too-long": (400, "Payment link too long"),
    **dict.fromkeys(
        [
            "invoice-settled",
            "online-payment-has-receipt",
            "online-payment-not-paid",
            "payment-link-amount-too-small",
        ],
        (409, ""),
    ),
}
# A code without a title of its own is titled after itself ("invoice-void" -> "Invoice void").
PROBLEM_TYPES = {
    code: (status, title or code.replace("-", " ").capitalize()) for code, (status, title) in PROBLEM_TYPES.items()
}


class AppError(Exception):
    """An answer in problem details. `code` (the class's default, or `code=` at the raise) names a
    registered problem type, which gives the status and the title; extra keywords join the body."""

    code: str
    status: int
    title: str

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "code" in cls.__dict__:
            cls.status, cls.title = PROBLEM_TYPES[cls.code]

    def __init__(
        self,
        detail: str | None = None,
        *,
        code: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        default: str = getattr(type(self), "code", "")  # Forbidden, RuleViolation: no default
        self.code = code or default
        if self.code not in PROBLEM_TYPES:  # a bug: tests/api/test_problem_codes.py finds it first
            raise KeyError(f"problem code {self.code!r} is not in app.core.errors.PROBLEM_TYPES")
        self.status, self.title = PROBLEM_TYPES[self.code]
        self.detail = detail or self.title
        super().__init__(self.detail)
        self.headers = headers or {}
        self.extra = extra


class NotFound(AppError):
    code = "not-found"


class Conflict(AppError):
    code = "conflict"


class Unauthorized(AppError):
    code = "unauthorized"

    def __init__(self, detail: str | None = None, **kwargs: Any) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"}, **kwargs)


class Forbidden(AppError):
    """403: the caller may not do this. No default code: each refusal names its reason."""

    status = 403


class TooManyRequests(AppError):
    code = "rate-limited"

    def __init__(self, retry_after: int, detail: str | None = None) -> None:
        super().__init__(detail, headers={"Retry-After": str(max(1, retry_after))})


class MailRateLimited(TooManyRequests):
    """429: the tenant's hourly customer-mail limit (its plan's `customer_emails_per_hour`)."""

    code = "mail-rate-limited"


class QuotaExceeded(AppError):
    """402: the tenant's plan does not allow one more of something. The body names the limit,
    its value, the current use and the plans that lift it (the spec's QuotaProblem)."""

    code = "quota-exceeded"

    def __init__(self, limit: str, limit_value: int, used: int, upgrade_plans: list[str]) -> None:
        detail = f"Your plan allows {limit_value} ({limit.replace('_', ' ')}); {used} used. Upgrade to go further."
        super().__init__(detail, limit=limit, limit_value=limit_value, used=used, upgrade_plans=upgrade_plans)


class InsufficientStock(Conflict):
    """409: some lines of a document ask for more stock than is available (app.services.catalog.stock);
    `lines` names each: its position in the document, the product, what it asked for and what was
    available, quantities as strings."""

    code = "insufficient-stock"

    def __init__(self, short: list[dict[str, str | int]]) -> None:
        names = ", ".join(f"line {line['position']}" for line in short)
        super().__init__(f"Not enough stock for {names}.", lines=short)


class SubscriptionLocked(AppError):
    """402: the trial or paid period ended (hard_lock mode, after grace): reads only until upgrade."""

    code = "subscription-locked"


class PaymentRequired(AppError):
    """402: the change needs a verified payment first (POST /api/v1/tenants/upgrade, then verify).
    The body names the plan and where to pay (`upgrade_url`)."""

    code = "payment-required"

    def __init__(self, detail: str, *, plan: str) -> None:
        super().__init__(detail, plan=plan, upgrade_url="/api/v1/tenants/upgrade")


class ServiceUnavailable(AppError):
    code = "service-unavailable"


class PaymentGatewayError(AppError):
    """502: Razorpay answered, but not with what we asked for (a refusal or a malformed reply).
    Unreachable or failing after the bounded retries: 503 PaymentGatewayUnavailable."""

    code = "payment-gateway-error"


class PaymentGatewayUnavailable(ServiceUnavailable):
    code = "payment-gateway-unavailable"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"Retry-After": "5"})


class RuleViolation(AppError):
    """400: the request is well-formed and schema-valid, but a business rule refuses it. The body
    carries `errors` shaped like a validation error's, pointing at the field. No default code: each
    rule names its own."""

    status = 400

    def __init__(self, field: str, message: str, *, code: str) -> None:
        errors: list[dict[str, Any]] = [{"loc": ["body", field], "msg": message, "type": code}]
        super().__init__(message, code=code, errors=errors)


class CreditLimitExceeded(Conflict):
    """409: a sale on credit would take the customer past their credit limit. The body carries
    `credit_limit`, `balance` (before the sale) and `unpaid` (this sale's), as rupee strings."""

    code = "credit-limit-exceeded"


class ReferenceNotFound(NotFound):
    """A referenced row (client type, account manager) that does not exist in this tenant (another
    tenant's too): `<field>-not-found`, the field named in `errors`."""

    def __init__(self, field: str) -> None:
        detail = f"No {field.removesuffix('_id').replace('_', ' ')} with this id."
        code = f"{field.removesuffix('_id').replace('_', '-')}-not-found"
        super().__init__(detail, code=code, errors=[{"loc": ["body", field], "msg": detail, "type": code}])


class InvalidCursor(AppError):
    """400, not 422: the cursor is well-formed but not one this API issued (like a bad token)."""

    code = "invalid-cursor"


class InvalidSingleUseToken(AppError):
    """A verification, reset, invitation or email-change token that is unknown, used or expired."""

    code = "invalid-token"


class WrongPassword(AppError):
    code = "wrong-password"


class SignatureInvalid(AppError):
    """A Razorpay payment or webhook signature that does not match."""

    code = "signature-invalid"


class MalformedWebhook(AppError):
    code = "webhook-malformed"


class IdempotencyKeyReused(AppError):
    code = "idempotency-key-reused"


class IdempotencyKeyInFlight(Conflict):
    code = "idempotency-key-in-flight"


def problem(code: str, detail: str, **extra: Any) -> dict[str, Any]:
    """The body of a registered problem type (the one shape: the spec's Problem component)."""
    status, title = PROBLEM_TYPES[code]
    body = {"type": PROBLEM_TYPE_BASE + code, "title": title, "status": status, "detail": detail, "code": code}
    body.update(extra)
    return body


def problem_response(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


async def _app_error(_: Request, exc: AppError) -> JSONResponse:
    body = problem(exc.code, exc.detail, **exc.extra)
    return problem_response(exc.status, body, exc.headers)


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {"loc": [str(part) for part in err.get("loc", ())], "msg": str(err.get("msg", "")), "type": err.get("type", "")}
        for err in exc.errors()
    ]


async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
    body = problem("validation-error", "The request is not valid.", errors=_field_errors(exc))
    return problem_response(422, body)


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    code = {
        400: "malformed-request",
        404: "not-found",
        405: "method-not-allowed",
        413: "payload-too-large",
    }.get(exc.status_code)
    if code is None:  # Starlette raises no other status; one it might add later is answered as a 400
        log.warning("HTTP %s answered as malformed-request: %s", exc.status_code, exc.detail)
        code = "malformed-request"
    headers = dict(getattr(exc, "headers", None) or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(_allowed_methods(request))
    body = problem(code, str(exc.detail))
    return problem_response(body["status"], body, headers)


HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path: each is tried against the router's routes
    through their public `matches` (included routers are not flat lists of routes any more)."""
    allowed = []
    for method in HTTP_METHODS:
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] is Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return allowed


# Set in a request's scope state when its transaction may succeed if run again (ConflictRetryMiddleware).
RETRYABLE = "retryable_conflict"


def _request_id(request: Request) -> str | None:
    request_id = request.scope.get("state", {}).get("request_id")
    return request_id if isinstance(request_id, str) else None


def database_error_text(exc: BaseException) -> str:
    """A database error for the log: the driver's error class, SQLSTATE and the schema objects it
    names. Never the statement's parameters (engines also set hide_parameters) nor the server's
    message, which may quote a value (`invalid input syntax for type uuid: "..."`): people's data."""
    orig = getattr(exc, "orig", None) or exc
    driver = orig.__cause__ or orig  # SQLAlchemy's adapter error wraps asyncpg's
    parts = [type(driver).__name__]
    for attribute in ("sqlstate", "table_name", "column_name", "constraint_name"):
        if value := getattr(driver, attribute, None) or getattr(orig, attribute, None):
            parts.append(f"{attribute}={value}")
    return " ".join(parts)


def unavailable_response(scope: Scope, exc: BaseException) -> JSONResponse:
    request_id = scope.get("state", {}).get("request_id")
    log.warning("database unavailable (request %s): %s", request_id, database_error_text(exc))
    body = problem("service-unavailable", "The database is unavailable; retry.")
    return problem_response(503, body, {"Retry-After": "1"})


def _unavailable(request: Request, exc: BaseException) -> JSONResponse:
    return unavailable_response(request.scope, exc)


def internal_error_response(scope: Scope) -> JSONResponse:
    """The generic 500 (logged with its traceback and the request id): no internals leak."""
    request_id = scope.get("state", {}).get("request_id")
    log.exception("unhandled error (request %s)", request_id)
    body = problem("internal-error", "Something went wrong.", request_id=request_id)
    return problem_response(500, body)


def _internal(request: Request) -> JSONResponse:
    return internal_error_response(request.scope)


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    """Database errors the code did not turn into an AppError. Registered by class, so the
    response is final (a handler for Exception would have Starlette re-raise after answering)."""
    from app.core.database import is_connection_error

    if is_connection_error(exc):
        return _unavailable(request, exc)
    sqlstate = getattr(getattr(exc, "orig", None), "sqlstate", None)
    if sqlstate in ("40001", "40P01"):
        log.warning("transaction conflict (request %s): %s", _request_id(request), database_error_text(exc))
        request.scope.setdefault("state", {})[RETRYABLE] = True
        body = problem("concurrent-update", "Another request changed the same data; retry.")
        return problem_response(409, body, {"Retry-After": "1"})
    if sqlstate in ("22001", "22003"):  # string too long, numeric out of range: a bound the schema missed
        log.error("value out of range (request %s): %s", _request_id(request), database_error_text(exc))
        body = problem("value-out-of-range", "A value is too long or too large to store.")
        return problem_response(400, body)
    if isinstance(exc, IntegrityError):
        log.warning("integrity error (request %s): %s", _request_id(request), database_error_text(exc))
        body = problem("conflict", "The change conflicts with existing data.")
        return problem_response(409, body)
    return _internal(request)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    """Outside UnhandledErrorMiddleware (app/middleware/unhandled.py), which answers the rest."""
    from app.core.database import is_connection_error

    return _unavailable(request, exc) if is_connection_error(exc) else _internal(request)


def install_error_handlers(app: FastAPI) -> None:
    # Starlette types a handler as taking any Exception; it calls each with the class it is registered for
    app.add_exception_handler(AppError, _app_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(OSError, _database_error)
    app.add_exception_handler(Exception, _unexpected)
