"""Dates the law cares about: the Indian date, GST's first day, the Indian financial year."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

INDIA = ZoneInfo("Asia/Kolkata")
# GST (and with it the tax invoice, the bill of supply and the receipt voucher) began on 1 July 2017.
GST_START = date(2017, 7, 1)


def today_in_india(now: datetime) -> date:
    """Dates that matter to law are Indian dates."""
    return now.astimezone(INDIA).date()


def financial_year_start(day: date) -> date:
    """1 April of the Indian financial year (1 April - 31 March) that `day` falls in."""
    return date(day.year if day.month >= 4 else day.year - 1, 4, 1)


def financial_year(day: date) -> str:
    """The Indian financial year of a date, as `25-26` (the printed `{fy}` token)."""
    start = financial_year_start(day).year
    return f"{start % 100:02d}-{(start + 1) % 100:02d}"


def series_year(day: date) -> str:
    """The financial year as a number series is keyed by, `2025-26`: unlike `25-26`, no two
    centuries share it."""
    start = financial_year_start(day).year
    return f"{start}-{(start + 1) % 100:02d}"
