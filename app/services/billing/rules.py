"""Business rules that need the app around them: RuleViolation (the 400 problem a broken rule
answers) and the document date window (from the settings). The pure rules are in app.domain."""

from dataclasses import dataclass
from datetime import date, timedelta

from app.core.context import Context
from app.core.errors import AppError, NotFound, RuleViolation
from app.domain.errors import DomainError, ReferenceMissing
from app.domain.fiscal import GST_START


def as_problem(error: DomainError) -> AppError:
    """The API's problem for a domain error: a missing reference is a 404, any other a 400."""
    if isinstance(error, ReferenceMissing):
        return NotFound(error.message, code=error.code)
    return RuleViolation(error.field, error.message, code=error.code)


@dataclass(frozen=True)
class DocumentDates:
    """The dates a document may carry: from GST's first day to `future_days` after today (India)."""

    today: date
    future_days: int

    @classmethod
    def of(cls, ctx: Context) -> "DocumentDates":
        """The window of the request's (or job step's) day in India."""
        return cls(ctx.today, ctx.settings.document_future_days)

    @property
    def latest(self) -> date:
        return self.today + timedelta(days=self.future_days)

    def check(self, field: str, day: date) -> date:
        if day < GST_START:
            raise RuleViolation(
                field, f"A document cannot be dated before GST began ({GST_START}).", code="document-date-before-gst"
            )
        if day > self.latest:
            raise RuleViolation(
                field,
                f"A document can be dated at most {self.future_days} days ahead (until {self.latest}).",
                code="document-date-too-late",
            )
        return day
