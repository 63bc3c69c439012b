"""Credit notes (CGST Rule 53): create (full, or by lines), reads.

A body is one of two shapes, each stated exactly in the spec: `full: true`, or `lines`, each line
with exactly one of `quantity` and `taxable_value`. Every amount is computed: a body that sends a
number, a total or a tenant is a 422 (request bodies forbid unknown fields)."""

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import Body
from pydantic import ConfigDict, Field, StrictBool

from app.models.billing.credit_note import CreditNote
from app.schemas.billing.business_fields import DecimalOut, IsoDate, Money
from app.schemas.billing.invoices import MAX_LINES, Quantity, Reason
from app.schemas.common import Page, ReadModel, RequestBody, SelectableRead
from app.schemas.money import CURRENCY, Currency

INVOICE_ID = "0194f0a2-5c1e-7b1a-9d7e-2f9c3e1a0b33"
LINE_ID = "0194f0a2-5c1e-7b1a-9d7e-2f9c3e1a0b44"


class QuantityCredit(RequestBody):
    """Goods returned or services not rendered: units of the line at its price and pro-rata discount."""

    invoice_line_id: uuid.UUID
    quantity: Quantity = Field(description="More than zero; at most what is not yet credited of the line.")


class ValueCredit(RequestBody):
    """A price reduction: taxable value off the line; tax follows at the line's rate."""

    invoice_line_id: uuid.UUID
    taxable_value: Money = Field(description="More than zero; at most the line's value not yet credited.")


class CreditNoteHeader(RequestBody):
    invoice_id: uuid.UUID = Field(description="An issued, partially paid or paid invoice.")
    reason: Reason
    credit_note_date: IsoDate | None = Field(
        None, description="Defaults to today (Asia/Kolkata); not before the invoice date."
    )
    restock: StrictBool = Field(
        False,
        description="The goods came back in a state to sell again: the credited units of the product lines return "
        "to the invoice's company's stock. False (the default): they do not (damaged, destroyed, kept by the "
        "customer). Only a credit by quantity (or a full one) returns goods (400 `restock-by-value`); at least one "
        "credited line must sell a product (400 `restock-without-goods`).",
    )


class FullCreditNoteIn(CreditNoteHeader):
    """Credit the whole invoice: every line and amount equal to the invoice's. Only when nothing
    was credited of it before."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"invoice_id": INVOICE_ID, "reason": "Invoice cancelled", "full": True}]}
    )

    full: Literal[True] = Field(examples=[True])


class PartialCreditNoteIn(CreditNoteHeader):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "invoice_id": INVOICE_ID,
                    "reason": "Two units returned",
                    "credit_note_date": "2026-11-30",
                    "lines": [{"invoice_line_id": LINE_ID, "quantity": "2"}],
                }
            ]
        }
    )

    lines: list[QuantityCredit | ValueCredit] = Field(
        min_length=1, max_length=MAX_LINES, description="Each invoice line at most once."
    )


CreditNoteCreate = Annotated[FullCreditNoteIn | PartialCreditNoteIn, Body()]


class CreditNoteLineRead(ReadModel):
    id: uuid.UUID
    position: int
    invoice_line_id: uuid.UUID
    description: str
    hsn_sac: str | None
    quantity: DecimalOut | None = Field(description="Null for a credit by taxable value.")
    gst_rate: DecimalOut
    taxable_value: DecimalOut
    cgst_amount: DecimalOut
    sgst_amount: DecimalOut
    utgst_amount: DecimalOut
    igst_amount: DecimalOut
    total: DecimalOut


class CreditNoteRead(SelectableRead):
    """Amounts are positive: they reduce what the customer owes."""

    id: uuid.UUID
    company_id: uuid.UUID
    company_name: str | None = Field(description="The company's trade name, else its legal name (now).")
    customer_id: uuid.UUID
    customer_name: str | None = Field(description="The customer's name (now).")
    invoice_id: uuid.UUID
    number: str
    financial_year: str
    credit_note_date: date
    invoice_number: str = Field(description="The original invoice's number (Rule 53).")
    invoice_date: date = Field(description="The original invoice's date (Rule 53).")
    reason: str
    is_full: bool
    restock: bool = Field(description="The credited goods went back to stock (`return` movements).")
    place_of_supply: str
    supply_type: Literal["intra_state", "inter_state"]
    taxable_value: DecimalOut
    cgst_amount: DecimalOut
    sgst_amount: DecimalOut
    utgst_amount: DecimalOut
    igst_amount: DecimalOut
    tax_total: DecimalOut
    round_off: DecimalOut
    total: DecimalOut
    currency: Currency = CURRENCY
    created_at: datetime
    updated_at: datetime
    lines: list[CreditNoteLineRead] | None = Field(None, description="On single reads (and lists with `lines=true`).")

    @classmethod
    def of(
        cls, note: CreditNote, *, with_lines: bool = True, names: tuple[str | None, str | None] = (None, None)
    ) -> "CreditNoteRead":
        """`names`: (customer name, company name), as the list's query or DisplayNameRepository.parties answers them."""
        plain = {name: getattr(note, name) for name in cls.model_fields if name not in NAMED}
        lines = [CreditNoteLineRead.model_validate(line) for line in note.lines] if with_lines else None
        return cls(**plain, lines=lines, customer_name=names[0], company_name=names[1])


NAMED = {"lines", "customer_name", "company_name", "currency"}


CreditNoteSort = Literal["credit_note_date", "-credit_note_date", "total", "-total", "created_at", "-created_at"]
CreditNotePage = Page[CreditNoteRead]
