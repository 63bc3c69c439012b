"""The calendar of a recurring invoice: which dates its periods fall on. Pure, no I/O.

A schedule recurs every `months` months (monthly 1, quarterly 3, yearly 12) on `day` of the month
(1-31). A month without that day takes its last day (day 31: 31 Jan, 28 Feb or 29 in a leap year,
31 Mar, 30 Apr ...): the clamp never drifts, each period is computed from the first one, not from
the one before. The first period is the first such date on or after the start date; period n
(0-based) is n x `months` months after it. A period is billed in advance: it runs from its date to
the day before the next period's date, and its invoice is dated its date.
"""

import calendar
import enum
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta


class Frequency(enum.StrEnum):
    monthly = "monthly"
    quarterly = "quarterly"
    yearly = "yearly"

    @property
    def months(self) -> int:
        return {"monthly": 1, "quarterly": 3, "yearly": 12}[self.value]


def on_day(year: int, month: int, day: int) -> date:
    """`day` of that month, or the month's last day when it is shorter."""
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def add_months(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


@dataclass(frozen=True)
class Recurrence:
    """`frequency` on `day` of the month, from `start` (the first period is on or after it)."""

    frequency: Frequency
    day: int
    start: date

    def __post_init__(self) -> None:
        if not 1 <= self.day <= 31:
            raise ValueError("day of the month must be 1-31")

    @property
    def first(self) -> date:
        candidate = on_day(self.start.year, self.start.month, self.day)
        if candidate >= self.start:
            return candidate
        year, month = add_months(self.start.year, self.start.month, 1)
        return on_day(year, month, self.day)

    def period(self, index: int) -> date:
        """The date of period `index` (0-based)."""
        if index < 0:
            raise ValueError("a period index is 0 or more")
        first = self.first
        year, month = add_months(first.year, first.month, index * self.frequency.months)
        return on_day(year, month, self.day)

    def period_end(self, index: int) -> date:
        """The last day period `index` covers: the day before the next period's date."""
        return self.period(index + 1) - timedelta(days=1)

    def first_on_or_after(self, day: date) -> int:
        """The index of the first period dated on or after `day`."""
        first = self.first
        if day <= first:
            return 0
        months = (day.year - first.year) * 12 + day.month - first.month
        index = max(0, months // self.frequency.months - 1)
        while self.period(index) < day:
            index += 1
        return index

    def periods(self, start_index: int) -> Iterator[tuple[int, date]]:
        index = start_index
        while True:
            yield index, self.period(index)
            index += 1


def last_index(recurrence: Recurrence, end_date: date | None) -> int | None:
    """The index of the last period dated on or before `end_date` (None: no end date; -1: none)."""
    if end_date is None:
        return None
    return recurrence.first_on_or_after(end_date + timedelta(days=1)) - 1
