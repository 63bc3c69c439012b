"""One money format for the whole API: rupees as a decimal string with two places ("999.00"),
beside a `currency` ("INR") wherever money appears in a resource.

Invoices, receipts, credit notes and the ledger always carried rupee strings; plans, payments and
upgrade orders carried integer paise. Paise stay where Razorpay wants them: the database columns
that mirror its orders (`plans.price_paise`, `payments.amount_paise`), the gateway client
(app/services/platform/razorpay.py) and the webhook. A response turns them into rupees here.
"""

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field, WithJsonSchema

CURRENCY = "INR"
PAISE_PER_RUPEE = 100
RUPEE_PATTERN = r"^-?[0-9]+\.[0-9]{2}$"
Currency = Annotated[Literal["INR"], Field(description="ISO 4217; amounts are in this currency's units.")]


def paise_to_rupees(paise: int) -> Decimal:
    return (Decimal(paise) / PAISE_PER_RUPEE).quantize(Decimal("0.01"))


def _from_paise(value: object) -> object:
    """Integer paise (a database column, a gateway amount) read as rupees; Decimals pass as they are."""
    return paise_to_rupees(value) if isinstance(value, int) and not isinstance(value, bool) else value


# A rupee amount in a response: a decimal string with exactly two places. Built from Decimal rupees,
# or from integer paise (the Razorpay-facing columns), which it divides by 100.
Rupees = Annotated[
    Decimal,
    BeforeValidator(_from_paise),
    AfterValidator(lambda value: value.quantize(Decimal("0.01"))),
    WithJsonSchema({"type": "string", "pattern": RUPEE_PATTERN, "examples": ["999.00"]}),
]
