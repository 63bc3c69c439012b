"""The customer ledger (GET /customers/{id}/ledger)."""

import uuid
from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema

from app.schemas.billing.business_fields import CENTS
from app.schemas.money import CURRENCY, Currency

# Money in a report: a decimal string with exactly two places ("1180.00", "0.00", "-250.00").
MoneyOut = Annotated[
    Decimal,
    AfterValidator(lambda value: value.quantize(CENTS)),
    WithJsonSchema({"type": "string", "pattern": r"^-?[0-9]+\.[0-9]{2}$", "examples": ["1180.00"]}),
]
EntryType = Literal["invoice", "invoice_void", "receipt", "receipt_void", "credit_note", "refund", "refund_failed"]

EXAMPLE = {
    "customer_id": "0194f0a2-5c1e-7b1a-9d7e-2f9c3e1a0b22",
    "from": "2026-04-01",
    "to": "2026-06-30",
    "opening_balance": "500.00",
    "items": [
        {
            "date": "2026-04-10",
            "type": "invoice",
            "document_id": "0194f0a2-5c1e-7b1a-9d7e-2f9c3e1a0c01",
            "number": "INV/26-27/00001",
            "description": "Tax invoice",
            "debit": "1180.00",
            "credit": "0.00",
            "balance": "1680.00",
        },
        {
            "date": "2026-04-20",
            "type": "receipt",
            "document_id": "0194f0a2-5c1e-7b1a-9d7e-2f9c3e1a0c02",
            "number": "RCT/26-27/00001",
            "description": "Receipt, upi, UTR 612345",
            "debit": "0.00",
            "credit": "1000.00",
            "balance": "680.00",
        },
        {
            "date": "2026-05-02",
            "type": "credit_note",
            "document_id": "0194f0a2-5c1e-7b1a-9d7e-2f9c3e1a0c03",
            "number": "CN/26-27/00001",
            "description": "Credit note against INV/26-27/00001: rate revised",
            "debit": "0.00",
            "credit": "118.00",
            "balance": "562.00",
        },
    ],
    "closing_balance": "562.00",
    "next_cursor": None,
}


class LedgerEntry(BaseModel):
    date: date
    type: EntryType = Field(
        description="invoice: debit of an issued invoice's total on its date; invoice_void: credit of that total "
        "on the day it was voided; receipt: credit of the amount on the receipt date (void receipts too); "
        "receipt_void: debit of the amount on the day it was voided; credit_note: credit of its total; refund: "
        "debit of money sent back through the payment gateway, on the day it was made (number: the gateway's "
        "refund id); refund_failed: credit of that amount on the day the gateway reported the refund failed."
    )
    document_id: uuid.UUID = Field(description="The invoice, receipt, credit note or refund.")
    number: str
    description: str
    debit: MoneyOut = Field(description="Raises what the customer owes.")
    credit: MoneyOut = Field(description="Lowers what the customer owes.")
    balance: MoneyOut = Field(description="Running balance after this entry (negative: the customer is in advance).")


class LedgerRead(BaseModel):
    model_config = ConfigDict(populate_by_name=True, json_schema_extra={"examples": [EXAMPLE]})

    customer_id: uuid.UUID
    date_from: date = Field(alias="from")
    date_to: date = Field(alias="to")
    opening_balance: MoneyOut = Field(
        description="The customer's opening balance plus every movement dated before `from`."
    )
    items: list[LedgerEntry] = Field(description="This page's entries, in ledger order.")
    currency: Currency = CURRENCY
    closing_balance: MoneyOut = Field(
        description="Balance after every movement dated on or before `to` (the same on every page)."
    )
    next_cursor: str | None = Field(None, description="Pass as `cursor` for the next entries; null on the last page.")
