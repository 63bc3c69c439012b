"""A counter sale's payments against its total (pure, no I/O): what each receipt records, the
change to hand back and what goes on the customer's account (udhaar).

Rules: payments may exceed the total only in cash, and only up to the cash tendered (the excess is
change, taken off the cash payments, the last one first, so the receipts record what the shop
keeps); any other overpayment is refused. Payments short of the total need `on_credit`, and credit
needs a named customer (a walk-in cannot owe). Refusals are RuleBroken (400: rules no schema can state)."""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from app.domain.errors import RuleBroken

ZERO = Decimal("0.00")


class PaymentIn(Protocol):
    @property
    def mode(self) -> str: ...
    @property
    def amount(self) -> Decimal: ...


@dataclass(frozen=True)
class Settlement:
    tendered: Decimal  # the payments as given
    change: Decimal  # cash handed back
    paid: Decimal  # what the receipts record: tendered - change
    unpaid: Decimal  # on the customer's account
    receipts: list[tuple[int, Decimal]]  # (index of the payment, amount its receipt records), none of 0


def check_credit_customer(*, on_credit: bool, named_customer: bool) -> None:
    if on_credit and not named_customer:
        raise RuleBroken(
            "customer_id",
            "A sale on credit needs a named customer: a walk-in customer cannot owe.",
            code="credit-needs-customer",
        )


def settle(total: Decimal, payments: Sequence[PaymentIn], *, on_credit: bool) -> Settlement:
    tendered = sum((p.amount for p in payments), ZERO)
    cash = sum((p.amount for p in payments if p.mode == "cash"), ZERO)
    change = max(tendered - total, ZERO)
    if change > cash:
        raise RuleBroken(
            "payments",
            f"The payments ({tendered}) exceed the total ({total}) by {change}, more than the cash tendered "
            f"({cash}): only cash can be given back as change.",
            code="overpayment-not-cash",
        )
    unpaid = max(total - tendered, ZERO)
    if unpaid > 0 and not on_credit:
        raise RuleBroken(
            "payments",
            f'The payments ({tendered}) are {unpaid} short of the total ({total}); send "on_credit": true '
            "to put the rest on the customer's account.",
            code="sale-underpaid",
        )
    amounts = [p.amount for p in payments]
    left = change
    for index in reversed(range(len(payments))):
        if left > 0 and payments[index].mode == "cash":
            taken = min(left, amounts[index])
            amounts[index] -= taken
            left -= taken
    receipts = [(index, amount) for index, amount in enumerate(amounts) if amount > 0]
    return Settlement(tendered, change, tendered - change, unpaid, receipts)
