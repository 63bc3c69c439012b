"""Business rules that no schema can state (a GSTIN's check character, a rate in force today)."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from app.core.config import Settings
from app.core.errors import RuleViolation

INDIA = ZoneInfo("Asia/Kolkata")
# GST (and with it the tax invoice, the bill of supply and the receipt voucher) began on 1 July 2017.
GST_START = date(2017, 7, 1)


def today_in_india(now: datetime) -> date:
    """Dates that matter to law are Indian dates."""
    return now.astimezone(INDIA).date()


@dataclass(frozen=True)
class DocumentDates:
    """The dates a document may carry: from GST's first day to `future_days` after today (India)."""

    today: date
    future_days: int

    @classmethod
    def at(cls, now: datetime, settings: Settings) -> "DocumentDates":
        return cls(today_in_india(now), settings.document_future_days)

    @property
    def latest(self) -> date:
        return self.today + timedelta(days=self.future_days)

    def check(self, field: str, day: date) -> date:
        if day < GST_START:
            raise RuleViolation(field, f"A document cannot be dated before GST began ({GST_START}).",
                                code="document-date-before-gst")  # fmt: skip
        if day > self.latest:
            raise RuleViolation(field, f"A document can be dated at most {self.future_days} days ahead "
                                f"(until {self.latest}).", code="document-date-too-late")  # fmt: skip
        return day
