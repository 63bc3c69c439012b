"""Invoices: draft create/replace, issue, void, reads.

Every computed amount (line and document totals, supply type, balance) is output only: a body that
sends one is a 422 (request bodies forbid unknown fields)."""

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StrictBool, StringConstraints

from app.domain.gst import STATE_CODES, title_and_declaration
from app.domain.statuses import is_overdue
from app.domain.words import amount_in_words
from app.domain.zero_rated import (
    COUNTRIES,
    SHIPPING_BILL_NUMBER_PATTERN,
    SupplyCategory,
    TaxTreatment,
    country_name,
    endorsement,
)
from app.models.billing.invoice import DOCUMENT_TYPES, REGISTRATION_TYPES, Invoice
from app.schemas.billing.business_fields import (
    DecimalOut,
    IsoDate,
    Money,
    Rate,
    SacHsn,
    code,
    decimal_string,
    long_text,
    text,
)
from app.schemas.common import Page, ReadModel, RequestBody, SelectableRead
from app.schemas.money import CURRENCY, Currency

# Bounds keep every amount inside NUMERIC(18,2): a line is below ₹10^13 (quantity < 10^6, unit
# price < 10^7), so 200 lines with tax stay far below 10^16.
# Quantity: more than zero, up to 3 decimal places (the pattern says "more than zero" without lookaheads).
Quantity = decimal_string(
    r"^([1-9][0-9]{0,5}(\.[0-9]{1,3})?|0\.([1-9][0-9]{0,2}|0[1-9][0-9]?|00[1-9]))$", "2", Decimal("0.001")
)
UnitPrice = decimal_string(r"^[0-9]{1,7}(\.[0-9]{1,4})?$", "1500.00", Decimal("0.0001"))
PlaceOfSupply = Literal[*sorted(STATE_CODES)]
Description = text(500, example="Monthly bookkeeping, October 2026")
Unit = text(20, example="NOS")
LongText = long_text(2000, example="Payment within 15 days by bank transfer.")
Reason = text(500, example="Raised against the wrong customer")
InvoiceStatus = Literal["draft", "issued", "partially_paid", "paid", "void"]
DocumentTypeName = Literal[*DOCUMENT_TYPES]
RegistrationName = Literal[*REGISTRATION_TYPES]
SupplyCategoryName = Literal[*(category.value for category in SupplyCategory)]
TaxTreatmentName = Literal[*(treatment.value for treatment in TaxTreatment)]
CountryCode = Literal[*COUNTRIES]
PortCode = code(r"^[Ii][Nn][A-Za-z0-9]{4}$", "INNSA1")  # upper-cased: PORT_CODE_PATTERN
ShippingBillNumber = Annotated[
    str, StringConstraints(pattern=SHIPPING_BILL_NUMBER_PATTERN), Field(examples=["4567123"])
]
MAX_LINES = 200
DERIVED = {
    "amount_in_words",
    "is_overdue",
    "lines",
    "title",
    "declaration",
    "customer_name",
    "company_name",
    "currency",
    "endorsement",
    "destination_country_name",
}

LINE_EXAMPLE = {
    "description": "GST return filing, October 2026",
    "hsn_sac": "998231",
    "quantity": "1",
    "unit_price": "2500.00",
    "gst_rate": "18",
}
EXAMPLE = {
    "company_id": "0194f0a2-5c1e-7b1a-9d7e-2f9c3e1a0b11",
    "customer_id": "0194f0a2-5c1e-7b1a-9d7e-2f9c3e1a0b22",
    "invoice_date": "2026-11-23",
    "lines": [
        LINE_EXAMPLE,
        {
            **LINE_EXAMPLE,
            "description": "Payroll processing",
            "quantity": "12",
            "unit_price": "150.00",
            "discount": "100.00",
            "hsn_sac": "998222",
        },
    ],
}
EXPORT_EXAMPLE = {
    "company_id": "0194f0a2-5c1e-7b1a-9d7e-2f9c3e1a0b11",
    "customer_id": "0194f0a2-5c1e-7b1a-9d7e-2f9c3e1a0b33",
    "invoice_date": "2026-11-23",
    "supply_category": "export",
    "tax_treatment": "under_lut",
    "destination_country": "AE",
    "port_code": "INNSA1",
    "shipping_bill_number": "4567123",
    "shipping_bill_date": "2026-11-25",
    "lines": [{**LINE_EXAMPLE, "description": "Bookkeeping for a Dubai client, October 2026"}],
}
PRODUCT_EXAMPLE = {  # lines from the catalogue: name, HSN, unit, price and rate from each product
    "company_id": "0194f0a2-5c1e-7b1a-9d7e-2f9c3e1a0b11",
    "customer_id": "0194f0a2-5c1e-7b1a-9d7e-2f9c3e1a0b22",
    "lines": [
        {"product_id": "0194f0a2-5c1e-7b1a-9d7e-2f9c3e1a0b55", "quantity": "2"},
        {"product_id": "0194f0a2-5c1e-7b1a-9d7e-2f9c3e1a0b66", "quantity": "1.5", "discount": "10.00"},
    ],
}
ZERO_RATED = (
    "Exports and supplies to an SEZ are zero-rated: `with_payment_of_igst` (IGST at each line's rate, "
    "whatever the states) or `under_lut` (under bond or letter of undertaking: no tax, the lines keep their rate)."
)


class InvoiceLineIn(RequestBody):
    """`hsn_sac`, `unit`, `unit_price` and `gst_rate` default to the service type's when one is named.
    A line names a service type or a product, not both. A product gives the line its name, HSN code,
    unit (UQC), price and GST rate: the description, price and rate may be overridden; HSN and unit
    are the product's. A product priced with tax included sells at the tax-exclusive price at the
    line's rate (the invoice's round-off absorbs the paise). Issuing takes the product's stock."""

    service_type_id: uuid.UUID | None = None
    product_id: uuid.UUID | None = Field(
        None, description="A product of the catalogue (not archived); its stock is taken when the invoice is issued."
    )
    description: Description | None = Field(None, description="Defaults to the service type's name, or the product's.")
    hsn_sac: SacHsn | None = Field(None, description="A product line's is the product's HSN code (leave it out).")
    quantity: Quantity = Field(
        description="More than zero, below 1,000,000; up to 3 decimal places (a product's unit may allow fewer: "
        "whole units for NOS, PCS, BOX ...)."
    )
    unit: Unit | None = Field(None, description="A product line's is the product's unit (UQC; leave it out).")
    unit_price: UnitPrice | None = Field(
        None,
        description="Before tax. Required without a service type or product; a product line's defaults to the "
        "product's sale price (made tax-exclusive when the product's price includes tax).",
    )
    discount: Money = Field(Decimal("0.00"), description="Off the line's value, before tax.")
    gst_rate: Rate | None = Field(
        None,
        description="Percent; one of the tenant's tax rates in force on the date. Defaults to the service type's "
        "or the product's.",
    )


class InvoiceIn(RequestBody):
    """A draft's content. `PUT` replaces the whole draft with the same shape."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE, EXPORT_EXAMPLE, PRODUCT_EXAMPLE]})

    company_id: uuid.UUID
    customer_id: uuid.UUID
    invoice_date: IsoDate | None = Field(None, description="Defaults to today (Asia/Kolkata).")
    due_date: IsoDate | None = Field(None, description="Defaults to the customer's terms, else gst_settings.")
    place_of_supply: PlaceOfSupply | None = Field(
        None, description="State code; defaults to the customer's state (96 = export, always inter-state)."
    )
    reverse_charge: StrictBool = False
    supply_category: SupplyCategoryName | None = Field(
        None,
        description="regular, export (place of supply 96), sez_unit or sez_developer (always inter-state). "
        "Defaults from the parties: place of supply 96 is an export, an SEZ customer (is_sez) an SEZ unit's "
        "supply (a regular taxpayer's only). Frozen at issue.",
    )
    tax_treatment: TaxTreatmentName | None = Field(
        None,
        description=f"{ZERO_RATED} Defaults to with_payment_of_igst for a zero-rated supply; none for a regular one.",
    )
    destination_country: CountryCode | None = Field(
        None, description="An export's country of destination (ISO 3166-1 alpha-2, not IN); required for an export."
    )
    port_code: PortCode | None = Field(None, description="An export's Indian customs port code (6 characters).")
    shipping_bill_number: ShippingBillNumber | None = Field(
        None, description="An export's shipping bill (or bill of export) number, up to 7 digits, with its date."
    )
    shipping_bill_date: IsoDate | None = Field(None, description="On or after the invoice date.")
    notes: LongText | None = None
    terms: LongText | None = Field(None, description="Defaults to the company's default terms.")
    lines: list[InvoiceLineIn] = Field(min_length=1, max_length=MAX_LINES)


class InvoiceCreate(InvoiceIn):
    issue: StrictBool = Field(False, description="Issue at once: a number is assigned in the same request.")


class VoidRequest(RequestBody):
    reason: Reason


class ShippingBillRequest(RequestBody):
    """An issued export's shipping bill (and port), recorded when customs gives it."""

    shipping_bill_number: ShippingBillNumber
    shipping_bill_date: IsoDate = Field(description="On or after the invoice date.")
    port_code: PortCode | None = Field(None, description="Kept as it is when not given.")


class InvoiceLineRead(ReadModel):
    id: uuid.UUID
    position: int
    service_type_id: uuid.UUID | None
    product_id: uuid.UUID | None = Field(description="The product the line sells; null for other lines.")
    description: str
    hsn_sac: str | None
    quantity: DecimalOut
    unit: str | None
    unit_price: DecimalOut
    discount: DecimalOut
    gst_rate: DecimalOut
    taxable_value: DecimalOut
    cgst_amount: DecimalOut
    sgst_amount: DecimalOut
    utgst_amount: DecimalOut
    igst_amount: DecimalOut
    total: DecimalOut


class InvoiceRead(SelectableRead):
    id: uuid.UUID
    company_id: uuid.UUID
    customer_id: uuid.UUID
    customer_name: str | None = Field(description="The customer's name as the invoice shows it (`recipient.name`).")
    company_name: str | None = Field(
        description="The issuing company as the invoice shows it: its trade name, else its legal name (`supplier`)."
    )
    status: InvoiceStatus
    number: str | None = Field(description="Assigned at issue; null on drafts.")
    financial_year: str | None
    invoice_date: date
    due_date: date
    place_of_supply: str
    supply_type: Literal["intra_state", "inter_state"]
    reverse_charge: bool
    document_type: DocumentTypeName = Field(
        description="tax_invoice, bill_of_supply (Rule 49: composition, no GSTIN, or every line exempt) or "
        "invoice_cum_bill_of_supply (Rule 46A). Follows the draft; frozen at issue."
    )
    supplier_registration_type: RegistrationName = Field(
        description="The supplier's registration: regular, composition, or unregistered (no GSTIN); frozen at issue."
    )
    title: str = Field(description="The document's heading: Tax Invoice, Bill of Supply, Invoice-cum-Bill of Supply.")
    declaration: str | None = Field(
        description="Printed on the document: the composition declaration (Rule 5(1)(g)) or why an unregistered "
        "supplier shows no tax; null otherwise."
    )
    supply_category: SupplyCategoryName = Field(description="regular, export, sez_unit or sez_developer.")
    tax_treatment: TaxTreatmentName | None = Field(description=f"{ZERO_RATED} Null for a regular supply.")
    endorsement: str | None = Field(
        description="The Rule 46 endorsement a zero-rated supply's invoice carries, in the rule's words; "
        "null otherwise."
    )
    destination_country: str | None = Field(description="An export's country of destination (ISO 3166-1 alpha-2).")
    destination_country_name: str | None = Field(description="Its name in English, as the document prints it.")
    port_code: str | None
    shipping_bill_number: str | None
    shipping_bill_date: date | None
    notes: str | None
    terms: str | None
    supplier: dict = Field(description="The issuing company as the invoice shows it.")
    recipient: dict = Field(description="The customer as the invoice shows it.")
    taxable_value: DecimalOut
    cgst_amount: DecimalOut
    sgst_amount: DecimalOut
    utgst_amount: DecimalOut
    igst_amount: DecimalOut
    tax_total: DecimalOut
    round_off: DecimalOut
    total: DecimalOut
    currency: Currency = CURRENCY
    amount_paid: DecimalOut
    amount_credited: DecimalOut
    balance_due: DecimalOut
    amount_in_words: str
    is_overdue: bool
    issued_at: datetime | None
    voided_at: datetime | None
    void_reason: str | None
    created_at: datetime
    updated_at: datetime
    lines: list[InvoiceLineRead] | None = Field(None, description="On single reads (and lists with `lines=true`).")

    @classmethod
    def of(cls, invoice: Invoice, *, today: date, with_lines: bool = True) -> "InvoiceRead":
        plain = {name: getattr(invoice, name) for name in cls.model_fields if name not in DERIVED}
        overdue = is_overdue(invoice.status, invoice.due_date, invoice.balance_due, today)
        lines = [InvoiceLineRead.model_validate(line) for line in invoice.lines] if with_lines else None
        title, declaration = title_and_declaration(invoice.document_type, invoice.supplier_registration_type)
        supplier, recipient = invoice.supplier or {}, invoice.recipient or {}
        return cls(
            **plain,
            amount_in_words=amount_in_words(invoice.total),
            is_overdue=overdue,
            lines=lines,
            title=title,
            declaration=declaration,
            endorsement=endorsement(invoice.supply_category, invoice.tax_treatment),
            destination_country_name=country_name(invoice.destination_country),
            customer_name=recipient.get("name"),
            company_name=supplier.get("trade_name") or supplier.get("legal_name"),
        )


InvoiceSort = Literal[
    "invoice_date", "-invoice_date", "due_date", "-due_date", "total", "-total", "created_at", "-created_at"
]
InvoicePage = Page[InvoiceRead]
