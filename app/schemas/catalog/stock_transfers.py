"""Stock transfers between two companies of the tenant (POST /stock/transfers) and the open
low-stock alerts (GET /stock/alerts)."""

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import ConfigDict, Field

from app.schemas.billing.business_fields import DecimalOut, IsoDate, long_text
from app.schemas.billing.invoices import Quantity, UnitPrice
from app.schemas.common import ReadModel, RequestBody

MAX_LINES = 200
Notes = long_text(2000, example="Diwali stock for the Pune branch.")
Paperwork = Literal["tax_invoice", "delivery_challan"]
EXAMPLE = {
    "from_company_id": "0194f0a2-5c1e-7b1a-9d7e-2f9c3e1a0b11",
    "to_company_id": "0194f0a2-5c1e-7b1a-9d7e-2f9c3e1a0b12",
    "document_date": "2026-11-23",
    "lines": [
        {"product_id": "0194f0a2-5c1e-7b1a-9d7e-2f9c3e1a0b44", "quantity": "24"},
        {"product_id": "0194f0a2-5c1e-7b1a-9d7e-2f9c3e1a0b45", "quantity": "12.5", "unit_value": "82.50"},
    ],
    "notes": "Diwali stock for the Pune branch.",
}


class StockTransferLineIn(RequestBody):
    product_id: uuid.UUID
    quantity: Quantity = Field(description="More than zero, with no more decimals than the product's unit allows.")
    unit_value: UnitPrice | None = Field(
        None,
        description="Value of one unit, before tax: the taxable value per unit on the tax invoice between two "
        "GST registrations (CGST Rules, rule 28). Defaults to the product's purchase cost; one of the two is "
        "required between registrations.",
    )


class StockTransferIn(RequestBody):
    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE]})

    from_company_id: uuid.UUID
    to_company_id: uuid.UUID
    document_date: IsoDate | None = Field(None, description="Defaults to today (Asia/Kolkata).")
    lines: list[StockTransferLineIn] = Field(min_length=1, max_length=MAX_LINES)
    notes: Notes | None = None


class StockTransferLineRead(ReadModel):
    position: int
    product_id: uuid.UUID
    product_name: str
    sku: str
    unit: str
    quantity: DecimalOut
    unit_value: DecimalOut | None = Field(description="Null on a delivery challan without a value or cost.")
    on_hand_from: DecimalOut | None = Field(description="What the source company holds of it after the transfer.")
    on_hand_to: DecimalOut | None = Field(description="What the destination holds of it after the transfer.")


class StockTransferRead(ReadModel):
    id: uuid.UUID
    kind: Literal["transfer"] = "transfer"
    from_company_id: uuid.UUID
    to_company_id: uuid.UUID
    document_date: date
    paperwork: Paperwork = Field(
        description="tax_invoice: between two GST registrations, a supply (CGST Act s.25(4), Schedule I para 2): "
        "`invoice_id` names the invoice issued from the source to the destination. delivery_challan: between "
        "two unregistered places of business of one person, not a supply: this document is the challan "
        "(CGST Rules, rule 55)."
    )
    invoice_id: uuid.UUID | None
    invoice_number: str | None
    notes: str | None
    lines: list[StockTransferLineRead]
    created_at: datetime


AlertSort = Literal["opened_at", "-opened_at"]


class StockAlertRead(ReadModel):
    id: uuid.UUID
    product_id: uuid.UUID
    product_name: str
    sku: str
    unit: str
    company_id: uuid.UUID
    company_name: str
    company_gstin: str | None
    on_hand: DecimalOut
    available: DecimalOut = Field(description="Available now (on hand less reserved).")
    available_at_open: DecimalOut = Field(description="Available when the alert opened.")
    reorder_level: DecimalOut = Field(description="The reorder level the alert crossed.")
    reorder_quantity: DecimalOut | None = Field(description="The product's quantity to reorder, if set.")
    opened_at: datetime
