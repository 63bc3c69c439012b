"""The calendar of recurring invoices: month-end clamping without drift, quarters, years, the
first period on or after the start, period ends and the last period an end date allows."""

import calendar
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.recurrence import Frequency, Recurrence, last_index


def dates(recurrence: Recurrence, n: int) -> list[date]:
    return [recurrence.period(i) for i in range(n)]


class TestMonthEnd:
    def test_day_31_clamps_to_each_months_last_day_and_comes_back(self):
        monthly = Recurrence(Frequency.monthly, 31, date(2027, 1, 1))
        assert dates(monthly, 5) == [
            date(2027, 1, 31),
            date(2027, 2, 28),
            date(2027, 3, 31),
            date(2027, 4, 30),
            date(2027, 5, 31),
        ]

    def test_leap_february_takes_the_29th(self):
        monthly = Recurrence(Frequency.monthly, 31, date(2028, 1, 31))
        assert dates(monthly, 3) == [date(2028, 1, 31), date(2028, 2, 29), date(2028, 3, 31)]
        assert monthly.period_end(0) == date(2028, 2, 28)
        assert monthly.period_end(1) == date(2028, 3, 30)

    def test_day_30_in_february_then_30(self):
        monthly = Recurrence(Frequency.monthly, 30, date(2027, 2, 1))
        assert dates(monthly, 2) == [date(2027, 2, 28), date(2027, 3, 30)]

    def test_yearly_on_29_february_is_28_february_in_common_years(self):
        yearly = Recurrence(Frequency.yearly, 29, date(2028, 2, 1))
        assert dates(yearly, 5) == [
            date(2028, 2, 29),
            date(2029, 2, 28),
            date(2030, 2, 28),
            date(2031, 2, 28),
            date(2032, 2, 29),
        ]


class TestFirstPeriod:
    def test_on_the_start_date_when_it_is_the_day(self):
        assert Recurrence(Frequency.monthly, 15, date(2027, 3, 15)).first == date(2027, 3, 15)

    def test_the_next_month_when_the_day_has_passed(self):
        assert Recurrence(Frequency.monthly, 10, date(2027, 3, 15)).first == date(2027, 4, 10)
        assert Recurrence(Frequency.monthly, 10, date(2027, 12, 15)).first == date(2028, 1, 10)

    def test_quarterly_and_yearly_count_from_the_first_period(self):
        quarterly = Recurrence(Frequency.quarterly, 1, date(2027, 11, 20))
        assert dates(quarterly, 4) == [date(2027, 12, 1), date(2028, 3, 1), date(2028, 6, 1), date(2028, 9, 1)]
        assert quarterly.period_end(0) == date(2028, 2, 29)
        yearly = Recurrence(Frequency.yearly, 1, date(2027, 4, 1))
        assert dates(yearly, 3) == [date(2027, 4, 1), date(2028, 4, 1), date(2029, 4, 1)]
        assert yearly.period_end(0) == date(2028, 3, 31)


class TestEnds:
    def test_last_index_is_the_last_period_on_or_before_the_end_date(self):
        monthly = Recurrence(Frequency.monthly, 31, date(2027, 1, 1))
        assert last_index(monthly, None) is None
        assert last_index(monthly, date(2027, 4, 30)) == 3  # 31 Jan, 28 Feb, 31 Mar, 30 Apr
        assert last_index(monthly, date(2027, 4, 29)) == 2
        assert last_index(monthly, date(2027, 1, 30)) == -1

    def test_first_on_or_after(self):
        monthly = Recurrence(Frequency.monthly, 31, date(2027, 1, 1))
        assert monthly.first_on_or_after(date(2026, 6, 1)) == 0
        assert monthly.first_on_or_after(date(2027, 2, 28)) == 1
        assert monthly.first_on_or_after(date(2027, 3, 1)) == 2
        assert monthly.first_on_or_after(date(2030, 12, 31)) == 47

    def test_a_day_outside_1_to_31_is_refused(self):
        with pytest.raises(ValueError):
            Recurrence(Frequency.monthly, 32, date(2027, 1, 1))


@given(
    st.sampled_from(list(Frequency)),
    st.integers(1, 31),
    st.dates(date(2017, 7, 1), date(2060, 1, 1)),
    st.integers(0, 150),
)
def test_every_period_is_on_its_day_or_its_months_last_day_and_in_order(frequency, day, start, index):
    recurrence = Recurrence(frequency, day, start)
    this, following = recurrence.period(index), recurrence.period(index + 1)
    assert this.day == min(day, calendar.monthrange(this.year, this.month)[1])
    assert recurrence.period(0) >= start and recurrence.period(0) - start < timedelta(days=32)
    months = (following.year - this.year) * 12 + following.month - this.month
    assert months == frequency.months
    assert recurrence.first_on_or_after(this) == index
    assert recurrence.first_on_or_after(this + timedelta(days=1)) == index + 1
    assert recurrence.period_end(index) == following - timedelta(days=1)
