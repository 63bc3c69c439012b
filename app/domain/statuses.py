"""Document statuses and the rules on them, in one place for Python and for SQL.

A rule that a query also needs (an overdue invoice, an open one) is stated here once over plain
values; app.repositories.billing.invoices builds the SQL condition from the same constants
(`overdue_condition`), so the list filter, the dashboard and a read's `is_overdue` agree. The
SQL builder lives in the repository layer because the domain does not import SQLAlchemy."""

from datetime import date
from decimal import Decimal
from enum import StrEnum


class InvoiceStatus(StrEnum):
    draft = "draft"
    issued = "issued"
    partially_paid = "partially_paid"
    paid = "paid"
    void = "void"


class ReceiptStatus(StrEnum):
    active = "active"
    void = "void"


# Issued and not fully settled: what the customer still owes something on.
OPEN_STATUSES: tuple[InvoiceStatus, ...] = (InvoiceStatus.issued, InvoiceStatus.partially_paid)
# Receipts and credit notes can be applied to these (a paid invoice can still be credited).
SETTLEABLE_STATUSES: tuple[InvoiceStatus, ...] = (*OPEN_STATUSES, InvoiceStatus.paid)


def is_open(status: str, balance_due: Decimal) -> bool:
    return status in OPEN_STATUSES and balance_due > 0


def is_overdue(status: str, due_date: date, balance_due: Decimal, today: date) -> bool:
    """Open, with something still due, and its due date before `today` (an Indian date)."""
    return is_open(status, balance_due) and due_date < today


def settled_status(total: Decimal, paid: Decimal, credited: Decimal) -> InvoiceStatus:
    """The status an issued invoice has once `paid` and `credited` apply."""
    if total - paid - credited <= 0:
        return InvoiceStatus.paid
    if paid + credited > 0:
        return InvoiceStatus.partially_paid
    return InvoiceStatus.issued
