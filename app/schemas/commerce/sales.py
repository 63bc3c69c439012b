"""Quick sale at the counter: POST /sales (one call: the invoice issued, the stock taken, the
payments received and allocated, whatever is unpaid on the customer's account).

A line names its product by `product_id` or by `barcode` (exactly one: two shapes, each stated in
the spec). Amounts are computed: a body that sends a total, a number or a tenant is a 422
(request bodies forbid unknown fields)."""

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from app.schemas.billing.business_fields import DecimalOut, Money, long_text
from app.schemas.billing.invoices import MAX_LINES, Quantity, UnitPrice
from app.schemas.billing.receipts import PositiveMoney, Reference
from app.schemas.common import RequestBody
from app.schemas.money import CURRENCY, Currency

SALE_PAYMENT_MODES = ("cash", "upi", "card", "bank_transfer")
SalePaymentMode = Literal[*SALE_PAYMENT_MODES]
MAX_PAYMENTS = 10
Barcode = Field(pattern=r"^[0-9]{8,14}$", examples=["8901030865278"], description="EAN-13, UPC-A or EAN-8 digits.")
Notes = long_text(2000, example="Delivered to the car park.")

EXAMPLE = {
    "company_id": "0194f0a2-5c1e-7b1a-9d7e-2f9c3e1a0b11",
    "lines": [
        {"product_id": "0194f0a2-5c1e-7b1a-9d7e-2f9c3e1a0b55", "quantity": "2"},
        {"barcode": "8901030865278", "quantity": "1", "discount": "5.00"},
    ],
    "payments": [{"mode": "cash", "amount": "500.00"}, {"mode": "upi", "amount": "120.00", "reference": "UTR 4026"}],
}
CREDIT_EXAMPLE = {
    "company_id": "0194f0a2-5c1e-7b1a-9d7e-2f9c3e1a0b11",
    "customer_id": "0194f0a2-5c1e-7b1a-9d7e-2f9c3e1a0b22",
    "lines": [{"product_id": "0194f0a2-5c1e-7b1a-9d7e-2f9c3e1a0b55", "quantity": "1.5"}],
    "payments": [{"mode": "cash", "amount": "100.00"}],
    "on_credit": True,
}


class SaleLine(RequestBody):
    quantity: Quantity = Field(
        description="More than zero, with no more decimal places than the product's unit allows "
        "(whole units for NOS, PCS, BOX ...; three for KGS, LTR, MTR ...)."
    )
    price: UnitPrice | None = Field(
        None,
        description="Per unit, before tax; defaults to the product's sale price (made tax-exclusive when the "
        "product's price includes tax).",
    )
    discount: Money = Field(Decimal("0.00"), description="Off the line's value, before tax.")


class ProductLine(SaleLine):
    """A product named by its id."""

    product_id: uuid.UUID


class BarcodeLine(SaleLine):
    """A product named by its barcode (as scanned)."""

    barcode: str = Barcode


class PaymentIn(RequestBody):
    mode: SalePaymentMode
    amount: PositiveMoney = Field(description="Cash may exceed what is due: the excess is the change returned.")
    reference: Reference | None = Field(None, description="UTR, card slip number ...")


class SaleCreate(RequestBody):
    """A sale at the counter. Without `customer_id` it is a walk-in (B2C) sale, paid in full."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE, CREDIT_EXAMPLE]})

    company_id: uuid.UUID = Field(description="The shop (a company: one GSTIN): its stock, its invoice series.")
    customer_id: uuid.UUID | None = Field(
        None, description="A named customer; required when part of the sale is on credit (udhaar)."
    )
    lines: list[ProductLine | BarcodeLine] = Field(min_length=1, max_length=MAX_LINES)
    payments: list[PaymentIn] = Field(
        default_factory=list,
        max_length=MAX_PAYMENTS,
        description="One receipt each. More than the total only in cash (the change); less only `on_credit`.",
    )
    on_credit: StrictBool = Field(
        False, description="true: what the payments leave unpaid goes on the customer's account."
    )
    override_credit_limit: StrictBool = Field(
        False,
        description="true: sell on credit beyond the customer's credit limit (owner or admin only: 403 otherwise).",
    )
    notes: Notes | None = None


class SaleLineRead(BaseModel):
    position: int
    product_id: uuid.UUID | None
    description: str
    hsn_sac: str | None
    quantity: DecimalOut
    unit: str | None
    unit_price: DecimalOut
    discount: DecimalOut
    gst_rate: DecimalOut
    taxable_value: DecimalOut
    tax: DecimalOut = Field(description="CGST + SGST/UTGST + IGST of the line.")
    total: DecimalOut


class SaleReceiptRead(BaseModel):
    id: uuid.UUID
    number: str
    mode: SalePaymentMode
    amount: DecimalOut = Field(description="What the receipt records: a cash payment less the change returned.")
    reference: str | None


class ShareRead(BaseModel):
    """The token is in `url` and `whatsapp_url` here (and in a replay of this request) only."""

    id: uuid.UUID
    url: str = Field(description="The invoice's public page (no login).")
    pdf_url: str = Field(description="Its PDF, public like the page (for a receipt printer or a download).")
    whatsapp_url: str = Field(description="https://wa.me/<the customer's phone>?text=<the message with the link>.")
    expires_at: datetime


class SaleRead(BaseModel):
    """What a counter screen prints or shares."""

    invoice_id: uuid.UUID
    number: str
    invoice_date: date
    title: str = Field(description="Tax Invoice, Bill of Supply or Invoice-cum-Bill of Supply.")
    company_id: uuid.UUID
    customer_id: uuid.UUID
    customer_name: str
    walk_in: bool = Field(description="true: sold to the company's walk-in customer (no customer named).")
    place_of_supply: str
    supply_type: Literal["intra_state", "inter_state"]
    lines: list[SaleLineRead]
    taxable_value: DecimalOut
    cgst_amount: DecimalOut
    sgst_amount: DecimalOut
    utgst_amount: DecimalOut
    igst_amount: DecimalOut
    tax_total: DecimalOut
    round_off: DecimalOut
    total: DecimalOut
    currency: Currency = CURRENCY
    tendered: DecimalOut = Field(description="The payments as given, change included.")
    paid: DecimalOut = Field(description="What the receipts record against the invoice (tendered minus change).")
    change_due: DecimalOut = Field(description="Cash to hand back.")
    on_credit: DecimalOut = Field(description="Left unpaid: added to the customer's account (udhaar).")
    customer_balance: DecimalOut = Field(description="What the customer owes after this sale (negative: advance).")
    credit_limit_overridden: bool
    receipts: list[SaleReceiptRead]
    pdf_url: str = Field(description="The invoice's PDF (GET, with the bearer token).")
    share: ShareRead = Field(description="A public link to the invoice's page, and a WhatsApp message carrying it.")
