"""The storage rent rule (app.domain.storage_rent): periods from billing day to billing day, the
quantity-days of a period (a unit counts on the day it arrives, not on the day it leaves) checked
against a day-by-day count, and the rent rounded half up to the paisa once."""

from datetime import date, timedelta
from decimal import Decimal as D
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.storage_rent import Period, period_containing, quantity_days, rent


@pytest.mark.parametrize(
    ("day", "billing_day", "start", "end"),
    [
        (date(2026, 2, 10), 1, date(2026, 2, 1), date(2026, 3, 1)),
        (date(2026, 2, 1), 1, date(2026, 2, 1), date(2026, 3, 1)),
        (date(2026, 3, 14), 15, date(2026, 2, 15), date(2026, 3, 15)),
        (date(2026, 3, 15), 15, date(2026, 3, 15), date(2026, 4, 15)),
        (date(2026, 1, 5), 28, date(2025, 12, 28), date(2026, 1, 28)),
        (date(2026, 12, 31), 28, date(2026, 12, 28), date(2027, 1, 28)),
    ],
)
def test_the_period_containing_a_day(day, billing_day, start, end):
    assert period_containing(day, billing_day) == Period(start, end)


def test_periods_follow_each_other_and_know_their_length():
    february = period_containing(date(2028, 2, 20), 1)
    assert february.days == 29 and february.last_day == date(2028, 2, 29)  # a leap year
    assert february.next(1) == Period(date(2028, 3, 1), date(2028, 4, 1))
    with pytest.raises(ValueError):
        period_containing(date(2026, 1, 31), 29)


def test_a_unit_counts_on_the_day_it_arrives_not_on_the_day_it_leaves():
    period = Period(date(2026, 2, 1), date(2026, 3, 1))
    received, released = (date(2026, 2, 10), D(100)), (date(2026, 2, 20), D(-50))
    assert quantity_days([received, released], period, period.end) == D(100 * 10 + 50 * 9)
    assert quantity_days([(date(2026, 2, 5), D(3)), (date(2026, 2, 5), D(-3))], period, period.end) == 0
    held_before = (date(2026, 1, 3), D(7))  # summed into the period's start by the repository, or given as is
    assert quantity_days([held_before], period, period.end) == D(7 * 28)
    assert quantity_days([(date(2026, 3, 1), D(5))], period, period.end) == 0  # the next period's


def test_rent_is_exact_then_rounded_half_up_once():
    assert rent(D("1250.00"), D("2"), D(1450), 28) == D("1294.64")
    assert rent(D("1001.25"), D("2"), D(28), 28) == D("20.03")  # 20.025: half up, not to even
    assert rent(D("300"), D("2.5"), D(260), 31) == D("62.90")
    assert rent(D("0.01"), D("0.01"), D("0.001"), 31) == D("0.00")
    with pytest.raises(ValueError):
        rent(D("1"), D("2"), D(-1), 30)


@given(
    moves=st.lists(
        st.tuples(st.integers(min_value=-40, max_value=40), st.integers(min_value=1, max_value=500)), max_size=12
    ),
    billing_day=st.integers(min_value=1, max_value=28),
)
def test_quantity_days_equal_the_day_by_day_count(moves, billing_day):
    period = period_containing(date(2026, 2, 14), billing_day)
    changes, held = [], D(0)
    for offset, quantity in sorted(moves):
        day = period.start + timedelta(days=offset)
        change = D(quantity) if held < quantity else -D(quantity)  # never below zero
        held += change
        changes.append((day, change))
    by_day = D(0)
    day = period.start
    while day < period.end:
        by_day += sum((c for d, c in changes if d <= day), D(0))
        day += timedelta(days=1)
    assert quantity_days(changes, period, period.end) == by_day


@given(
    value=st.decimals(min_value=D("0.01"), max_value=D("9999999.99"), places=2),
    rate=st.decimals(min_value=D("0.01"), max_value=D("99.99"), places=2),
    qd=st.decimals(min_value=D("0"), max_value=D("31000000"), places=3),
    days=st.integers(min_value=28, max_value=31),
)
def test_rent_is_within_half_a_paisa_of_the_exact_figure(value, rate, qd, days):
    exact = Fraction(value) * Fraction(rate) * Fraction(qd) / (100 * days)
    got = rent(value, rate, qd, days)
    assert got == got.quantize(D("0.01"))
    assert -Fraction(1, 200) < Fraction(got) - exact <= Fraction(1, 200)
