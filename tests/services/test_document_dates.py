"""The document date window: GST's first day to DOCUMENT_FUTURE_DAYS after today in India."""

from datetime import UTC, date, datetime

import pytest

from app.core.errors import RuleViolation
from app.core.runtime import Runtime
from app.services.billing.rules import DocumentDates


@pytest.fixture
def window(app):
    """The window of a context at `now` (a request's single instant) with DOCUMENT_FUTURE_DAYS=`days`."""
    rt = app.state.runtime

    def at(now: datetime, days: int) -> DocumentDates:
        settings = rt.settings.model_copy(update={"document_future_days": days})
        return DocumentDates.of(Runtime(settings, rt.db).context(at=now))

    return at


@pytest.mark.parametrize(
    ("now", "today"),
    [
        (datetime(2027, 3, 31, 18, 25, tzinfo=UTC), date(2027, 3, 31)),  # 23:55 IST
        (datetime(2027, 3, 31, 18, 35, tzinfo=UTC), date(2027, 4, 1)),
    ],  # 00:05 IST: already 1 April in India
)
def test_today_is_the_date_in_india(window, now, today):
    dates = window(now, 0)
    assert dates.today == today and dates.latest == today
    assert dates.check("invoice_date", today) == today


def test_the_bounds_are_inclusive_and_each_has_its_code(window):
    dates = window(datetime(2027, 3, 31, 18, 35, tzinfo=UTC), 30)  # today 1 April 2027 in India
    assert dates.check("d", date(2017, 7, 1)) == date(2017, 7, 1)
    assert dates.check("d", date(2027, 5, 1)) == date(2027, 5, 1)
    with pytest.raises(RuleViolation) as early:
        dates.check("d", date(2017, 6, 30))
    with pytest.raises(RuleViolation) as late:
        dates.check("receipt_date", date(2027, 5, 2))
    assert (early.value.code, late.value.code) == ("document-date-before-gst", "document-date-too-late")
    assert late.value.extra["errors"][0]["loc"] == ["body", "receipt_date"]
