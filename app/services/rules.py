"""Business rules that no schema can state (a GSTIN's check character, a rate in force today)."""

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from app.core.errors import AppError

INDIA = ZoneInfo("Asia/Kolkata")


class RuleViolation(AppError):
    """400: the request is well-formed and schema-valid, but a business rule refuses it. The body
    carries `errors` shaped like a validation error's, pointing at the field."""

    status, code, title = 400, "rule-violation", "Rule violation"

    def __init__(self, field: str, message: str, *, code: str) -> None:
        errors: list[dict[str, Any]] = [{"loc": ["body", field], "msg": message, "type": code}]
        super().__init__(message, code=code, errors=errors)


def today_in_india(now: datetime) -> date:
    """Dates that matter to law are Indian dates."""
    return now.astimezone(INDIA).date()
