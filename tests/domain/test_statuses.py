"""app.domain.statuses: one definition of open, overdue and settled, for Python and SQL alike."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.statuses import OPEN_STATUSES, SETTLEABLE_STATUSES, InvoiceStatus, is_overdue, settled_status

TODAY = date(2026, 4, 1)


@pytest.mark.parametrize(
    ("status", "due", "balance", "overdue"),
    [
        ("issued", TODAY - timedelta(days=1), Decimal("1"), True),
        ("partially_paid", TODAY - timedelta(days=1), Decimal("0.01"), True),
        ("issued", TODAY, Decimal("1"), False),  # due today is not overdue yet
        ("issued", TODAY - timedelta(days=1), Decimal("0"), False),
        ("paid", TODAY - timedelta(days=30), Decimal("0"), False),
        ("draft", TODAY - timedelta(days=30), Decimal("100"), False),
        ("void", TODAY - timedelta(days=30), Decimal("100"), False),
    ],
)
def test_overdue(status, due, balance, overdue):
    assert is_overdue(status, due, balance, TODAY) is overdue


def test_the_status_sets():
    assert set(OPEN_STATUSES) == {"issued", "partially_paid"}
    assert set(SETTLEABLE_STATUSES) == {*OPEN_STATUSES, "paid"}
    assert [s.value for s in InvoiceStatus] == ["draft", "issued", "partially_paid", "paid", "void"]


money = st.decimals(min_value=Decimal("0"), max_value=Decimal("10000"), places=2)


@given(money, money, money)
def test_settled_status(total, paid, credited):
    status = settled_status(total, paid, credited)
    if paid + credited >= total:
        assert status is InvoiceStatus.paid
    elif paid + credited > 0:
        assert status is InvoiceStatus.partially_paid
    else:
        assert status is InvoiceStatus.issued
