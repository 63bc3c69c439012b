"""One error type, rendered as RFC 9457 problem details."""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

log = logging.getLogger(__name__)

PROBLEM_TYPE_BASE = "https://rms-billing.dev/problems/"
PROBLEM_JSON = "application/problem+json"


class AppError(Exception):
    status = 400
    code = "bad-request"
    title = "Bad request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        code: str | None = None,
        status: int | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.code = code or self.code
        self.status = status or self.status
        self.headers = headers or {}
        self.extra = extra


class NotFound(AppError):
    status, code, title = 404, "not-found", "Not found"


class Conflict(AppError):
    status, code, title = 409, "conflict", "Conflict"


class Unauthorized(AppError):
    status, code, title = 401, "unauthorized", "Not authenticated"

    def __init__(self, detail: str | None = None, **kwargs: Any) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"}, **kwargs)


class Forbidden(AppError):
    status, code, title = 403, "forbidden", "Forbidden"


class TooManyRequests(AppError):
    status, code, title = 429, "rate-limited", "Too many requests"

    def __init__(self, retry_after: int, detail: str | None = None) -> None:
        super().__init__(detail, headers={"Retry-After": str(max(1, retry_after))})


class QuotaExceeded(AppError):
    """402: the tenant's plan does not allow one more of something. The body names the limit,
    its value, the current use and the plans that lift it."""

    status, code, title = 402, "quota-exceeded", "Quota exceeded"

    def __init__(self, limit: str, limit_value: int, used: int, upgrade_plans: list[str]) -> None:
        detail = f"Your plan allows {limit_value} ({limit.replace('_', ' ')}); {used} used. Upgrade to go further."
        super().__init__(detail, limit=limit, limit_value=limit_value, used=used, upgrade_plans=upgrade_plans)


class SubscriptionLocked(AppError):
    """402: the trial or paid period ended (hard_lock mode, after grace): reads only until upgrade."""

    status, code, title = 402, "subscription-locked", "Subscription locked"


class PaymentRequired(AppError):
    """402: the change needs a verified payment first (POST /api/v1/tenants/upgrade, then verify).
    The body names the plan and where to pay (`upgrade_url`)."""

    status, code, title = 402, "payment-required", "Payment required"

    def __init__(self, detail: str, *, plan: str) -> None:
        super().__init__(detail, plan=plan, upgrade_url="/api/v1/tenants/upgrade")


class ServiceUnavailable(AppError):
    status, code, title = 503, "service-unavailable", "Service unavailable"


class PaymentGatewayError(AppError):
    """502: Razorpay answered, but not with what we asked for (a refusal or a malformed reply).
    Unreachable or failing after the bounded retries: 503 `payment-gateway-unavailable`."""

    status, code, title = 502, "payment-gateway-error", "Payment gateway error"


def problem(status: int, code: str, title: str, detail: str, **extra: Any) -> dict[str, Any]:
    body = {"type": PROBLEM_TYPE_BASE + code, "title": title, "status": status, "detail": detail, "code": code}
    body.update(extra)
    return body


def problem_response(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


async def _app_error(_: Request, exc: AppError) -> JSONResponse:
    title = type(exc).title if exc.code == type(exc).code else exc.code.replace("-", " ").capitalize()
    body = problem(exc.status, exc.code, title, exc.detail, **exc.extra)
    return problem_response(exc.status, body, exc.headers)


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {"loc": [str(part) for part in err.get("loc", ())], "msg": str(err.get("msg", "")), "type": err.get("type", "")}
        for err in exc.errors()
    ]


async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
    body = problem(422, "validation-error", "Validation error", "The request is not valid.", errors=_field_errors(exc))
    return problem_response(422, body)


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    code = {
        400: "malformed-request",
        404: "not-found",
        405: "method-not-allowed",
        413: "payload-too-large",
    }.get(exc.status_code, "http-error")
    headers = dict(getattr(exc, "headers", None) or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(_allowed_methods(request))
    body = problem(exc.status_code, code, str(exc.detail), str(exc.detail))
    return problem_response(exc.status_code, body, headers)


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
    return request.scope.get("state", {}).get("request_id")


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


def unavailable_response(scope: dict[str, Any], exc: BaseException) -> JSONResponse:
    request_id = scope.get("state", {}).get("request_id")
    log.warning("database unavailable (request %s): %s", request_id, database_error_text(exc))
    body = problem(503, "service-unavailable", "Service unavailable", "The database is unavailable; retry.")
    return problem_response(503, body, {"Retry-After": "1"})


def _unavailable(request: Request, exc: BaseException) -> JSONResponse:
    return unavailable_response(request.scope, exc)


def internal_error_response(scope: dict[str, Any]) -> JSONResponse:
    """The generic 500 (logged with its traceback and the request id): no internals leak."""
    request_id = scope.get("state", {}).get("request_id")
    log.exception("unhandled error (request %s)", request_id)
    body = problem(500, "internal-error", "Internal server error", "Something went wrong.", request_id=request_id)
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
        body = problem(409, "concurrent-update", "Concurrent update", "Another request changed the same data; retry.")
        return problem_response(409, body, {"Retry-After": "1"})
    if sqlstate in ("22001", "22003"):  # string too long, numeric out of range: a bound the schema missed
        log.error("value out of range (request %s): %s", _request_id(request), database_error_text(exc))
        body = problem(400, "value-out-of-range", "Value out of range", "A value is too long or too large to store.")
        return problem_response(400, body)
    if isinstance(exc, IntegrityError):
        log.warning("integrity error (request %s): %s", _request_id(request), database_error_text(exc))
        body = problem(409, "conflict", "Conflict", "The change conflicts with existing data.")
        return problem_response(409, body)
    return _internal(request)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    """Outside UnhandledErrorMiddleware (app/middleware/unhandled.py), which answers the rest."""
    from app.core.database import is_connection_error

    return _unavailable(request, exc) if is_connection_error(exc) else _internal(request)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(OSError, _database_error)
    app.add_exception_handler(Exception, _unexpected)
