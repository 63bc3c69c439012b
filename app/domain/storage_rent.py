"""Storage rent: the billing periods of a storage agreement and the rent of the goods it holds.

Periods. An agreement bills on its billing day (1..28, so that every month has it). A period runs
from one billing day to the next: [start, end), e.g. billing day 1 -> calendar months, billing day 15
-> 15 Jan .. 14 Feb. The first period is the one containing the agreement's start date (the days before
the start hold nothing and cost nothing); the period is billed in arrears, on its end day (the next
billing day), dated that day.

Proration rule. The rent of a product for a period is

    declared value per unit x monthly rate / 100 x quantity-days / days in the period

rounded half up to the paisa, once, on the final amount (no intermediate rounding: exact with
fractions). `quantity-days` sums, over every day of the period, the quantity held that day. A unit
counts on the day it is received and not on the day it is released: goods received on the 10th
and released on the 20th are stored 10 days (the 10th .. the 19th); received and released the same
day, 0 days. `days in the period` is the full period's length (28..31) even for the first period
of an agreement that started in its middle, or its last: a month's rate is for a full month. An end
date stops receipts, not the rent: goods still held after it are billed, day by day, until released
(the agreement ends once its last period leaves nothing held).
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

# SAC 996729 (group 9967, supporting services in transport; 99672 storage and warehousing; 996729
# other storage and warehousing services). Six digits: CGST Rule 46 asks a supplier whose turnover
# passed ₹5 crore for 6 digits (4 otherwise), and 6 digits are right for both. GST 18 % unless an
# agreement says 0 (storage the law exempts).
SAC = "996729"
GST_RATE = Decimal("18")
MAX_BILLING_DAY = 28
PAISA = Decimal("0.01")


def _billing_date(year: int, month: int, day: int) -> date:
    while month > 12:
        year, month = year + 1, month - 12
    while month < 1:
        year, month = year - 1, month + 12
    return date(year, month, day)


@dataclass(frozen=True)
class Period:
    """[start, end): `end` is the next billing day, the day the period is billed."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    def next(self, billing_day: int) -> "Period":
        return Period(self.end, _billing_date(self.end.year, self.end.month + 1, billing_day))


def period_containing(day: date, billing_day: int) -> Period:
    if not 1 <= billing_day <= MAX_BILLING_DAY:
        raise ValueError(f"billing day {billing_day} outside 1..{MAX_BILLING_DAY}")
    offset = 0 if day.day >= billing_day else -1
    start = _billing_date(day.year, day.month + offset, billing_day)
    return Period(start, _billing_date(start.year, start.month + 1, billing_day))


def rent(unit_value: Decimal, monthly_rate: Decimal, quantity_days: Decimal, days_in_period: int) -> Decimal:
    """The proration rule of the module docstring, exact, rounded half up to the paisa once."""
    if quantity_days < 0 or unit_value < 0 or monthly_rate < 0 or days_in_period <= 0:
        raise ValueError("rent of negative figures")
    exact = Fraction(unit_value) * Fraction(monthly_rate) * Fraction(quantity_days) / (100 * days_in_period)
    paise = (exact * 100 * 2 + 1) // 2  # half up (positive)
    return (Decimal(paise) / 100).quantize(PAISA, rounding=ROUND_HALF_UP)


def quantity_days(movements: list[tuple[date, Decimal]], period: Period, until: date) -> Decimal:
    """Σ over the days of [period.start, until) of the quantity held: each signed change made on
    day d counts on d and after (a receipt counts on its day, a release stops counting on its day).
    `movements` may be pre-summed by day (the repository sums the days before the period into one)."""
    total = Decimal("0")
    for day, change in movements:
        if day >= until:
            continue
        total += change * max(0, (until - max(day, period.start)).days)
    return total
