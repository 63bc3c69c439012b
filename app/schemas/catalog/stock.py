"""Stock: levels, movements, goods received, count adjustments and the inventory settings.

Quantities are decimal strings with up to 3 places; the product's unit decides how many it really
takes (422 `quantity-too-precise`: 1.5 NOS). Levels and movements are output only: stock changes
through documents (receipts, adjustments, transfers, invoices, sales), never by writing a level."""

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Literal, Self

from pydantic import ConfigDict, Field, StrictBool, computed_field

from app.models.catalog.product import Product
from app.models.catalog.stock import DOCUMENT_KINDS, MOVEMENT_KINDS, StockDocument, StockLevel, StockMovement
from app.schemas.billing.business_fields import DecimalOut, Gstin, IsoDate, decimal_string, long_text, text
from app.schemas.common import ReadModel, RequestBody, SelectableRead

THOUSANDTH = Decimal("0.001")
# More than zero, below 10^9, up to 3 decimal places (no lookaheads: "0.000" is refused by the pattern).
StockQuantity = decimal_string(
    r"^([1-9][0-9]{0,8}(\.[0-9]{1,3})?|0\.([1-9][0-9]{0,2}|0[1-9][0-9]?|00[1-9]))$", "24", THOUSANDTH
)
# A physical count: zero or more.
Counted = decimal_string(r"^[0-9]{1,9}(\.[0-9]{1,3})?$", "18", THOUSANDTH)
# A signed change, not zero.
Change = decimal_string(
    r"^-?([1-9][0-9]{0,8}(\.[0-9]{1,3})?|0\.([1-9][0-9]{0,2}|0[1-9][0-9]?|00[1-9]))$", "-2", THOUSANDTH
)
UnitCost = decimal_string(r"^[0-9]{1,9}(\.[0-9]{1,4})?$", "182.50", Decimal("0.0001"))
AdjustmentReason = Literal["count_correction", "damaged", "expired", "lost", "stolen", "found", "own_use", "other"]
MovementKind = Literal[*MOVEMENT_KINDS]
DocumentKind = Literal[*DOCUMENT_KINDS]
Notes = long_text(2000, example="Bill received with the goods; two cartons short, to be sent Monday.")
SupplierName = text(200, example="Gupta Wholesale")
SupplierReference = text(50, example="GW/2526/0412")
MAX_LINES = 200

RECEIPT_EXAMPLE = {
    "company_id": "0194f0a2-5c1e-7b1a-9d7e-2f9c3e1a0b11",
    "document_date": "2026-11-23",
    "supplier_name": "Gupta Wholesale",
    "supplier_gstin": "27AAPFU0939F1ZV",
    "supplier_reference": "GW/2526/0412",
    "lines": [{"product_id": "0194f0a2-5c1e-7b1a-9d7e-2f9c3e1a0b44", "quantity": "24", "unit_cost": "182.50"}],
}
ADJUSTMENT_EXAMPLE = {
    "company_id": "0194f0a2-5c1e-7b1a-9d7e-2f9c3e1a0b11",
    "reason": "count_correction",
    "notes": "Shelf count of 23 November.",
    "lines": [
        {"product_id": "0194f0a2-5c1e-7b1a-9d7e-2f9c3e1a0b44", "counted": "18"},
        {"product_id": "0194f0a2-5c1e-7b1a-9d7e-2f9c3e1a0b55", "change": "-2"},
    ],
}


class InventorySettingsRead(SelectableRead):
    allow_negative_stock: bool = Field(
        description="true: sales and other takes never wait for stock (levels may go below zero)."
    )
    updated_at: datetime | None = Field(description="null until the settings are first saved.")


class InventorySettingsUpdate(RequestBody):
    model_config = ConfigDict(json_schema_extra={"examples": [{"allow_negative_stock": True}]})

    allow_negative_stock: StrictBool


class ReceiptLineIn(RequestBody):
    product_id: uuid.UUID
    quantity: StockQuantity = Field(description="In the product's unit (its decimal places).")
    unit_cost: UnitCost | None = Field(None, description="What one unit cost, before tax (optional).")


class StockReceiptCreate(RequestBody):
    """Goods in from a supplier. Lines naming the same product are added together."""

    model_config = ConfigDict(json_schema_extra={"examples": [RECEIPT_EXAMPLE]})

    company_id: uuid.UUID = Field(description="The company (place of business) receiving the goods.")
    document_date: IsoDate | None = Field(None, description="Defaults to today (India); never in the future.")
    supplier_name: SupplierName | None = None
    supplier_gstin: Gstin | None = Field(None, description="Checked like a customer's (check character, state).")
    supplier_reference: SupplierReference | None = Field(None, description="The supplier's bill (invoice) number.")
    notes: Notes | None = None
    lines: list[ReceiptLineIn] = Field(min_length=1, max_length=MAX_LINES)


class CountedLine(RequestBody):
    """What the shelf holds: the change is the difference with what is on hand, read under the
    level's row lock (a count equal to the stock moves nothing)."""

    product_id: uuid.UUID
    counted: Counted


class ChangeLine(RequestBody):
    """A signed change, not zero."""

    product_id: uuid.UUID
    change: Change


# Exactly one of `counted` or `change` per line: each form forbids the other's field, so the
# schema itself says it (a line with both, or neither, matches no form: 422).
AdjustmentLineIn = CountedLine | ChangeLine


class StockAdjustmentCreate(RequestBody):
    model_config = ConfigDict(json_schema_extra={"examples": [ADJUSTMENT_EXAMPLE]})

    company_id: uuid.UUID
    document_date: IsoDate | None = Field(None, description="Defaults to today (India); never in the future.")
    reason: AdjustmentReason
    notes: Notes | None = Field(None, description="Required when the reason is `other` (400 `notes-required`).")
    lines: list[AdjustmentLineIn] = Field(min_length=1, max_length=MAX_LINES)


class MovementRead(SelectableRead):
    id: uuid.UUID
    product_id: uuid.UUID
    company_id: uuid.UUID
    kind: MovementKind
    on_hand_change: DecimalOut = Field(description="Signed.")
    reserved_change: DecimalOut = Field(description="Signed.")
    on_hand_after: DecimalOut
    reserved_after: DecimalOut
    document_type: str | None = Field(description="invoice, credit_note, stock_document, order ...")
    document_id: uuid.UUID | None
    unit_cost: DecimalOut | None
    reason: str | None
    actor_user_id: uuid.UUID | None
    created_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def available_after(self) -> DecimalOut:
        return self.on_hand_after - self.reserved_after

    @classmethod
    def of(cls, movement: StockMovement) -> Self:
        return cls.model_validate(movement)


class DocumentLineRead(ReadModel):
    """A stock document's line: its movement, with the product's name, SKU and unit."""

    movement_id: uuid.UUID
    product_id: uuid.UUID
    product_name: str
    sku: str
    unit: str
    kind: MovementKind
    on_hand_change: DecimalOut
    on_hand_after: DecimalOut
    unit_cost: DecimalOut | None

    @classmethod
    def of(cls, movement: StockMovement, product: Product) -> Self:
        return cls(
            movement_id=movement.id,
            product_id=product.id,
            product_name=product.name,
            sku=product.sku,
            unit=product.unit,
            kind=movement.kind,  # type: ignore[arg-type]
            on_hand_change=movement.on_hand_change,
            on_hand_after=movement.on_hand_after,
            unit_cost=movement.unit_cost,
        )


class StockDocumentRead(SelectableRead):
    id: uuid.UUID
    kind: DocumentKind
    company_id: uuid.UUID
    to_company_id: uuid.UUID | None
    document_date: date
    supplier_name: str | None
    supplier_gstin: str | None
    supplier_reference: str | None
    reason: str | None
    notes: str | None
    invoice_id: uuid.UUID | None
    actor_user_id: uuid.UUID | None
    created_at: datetime
    lines: list[DocumentLineRead] | None = Field(None, description="On single reads and writes; null in lists.")

    @classmethod
    def of(cls, document: StockDocument, lines: list[DocumentLineRead] | None = None) -> Self:
        plain = {name: getattr(document, name) for name in cls.model_fields if name != "lines"}
        return cls(**plain, lines=lines)


class StockLevelRead(SelectableRead):
    product_id: uuid.UUID
    product_name: str
    sku: str
    unit: str
    company_id: uuid.UUID
    on_hand: DecimalOut
    reserved: DecimalOut
    available: DecimalOut = Field(description="on_hand - reserved: what can be sold.")
    reorder_level: DecimalOut | None
    low: bool = Field(
        description="available is at or below the reorder level (never for a product that no longer tracks stock)."
    )
    updated_at: datetime

    @classmethod
    def of(cls, level: StockLevel, product: Product) -> Self:
        low = product.track_stock and product.reorder_level is not None and level.available <= product.reorder_level
        return cls(
            product_id=level.product_id,
            product_name=product.name,
            sku=product.sku,
            unit=product.unit,
            company_id=level.company_id,
            on_hand=level.on_hand,
            reserved=level.reserved,
            available=level.available,
            reorder_level=product.reorder_level,
            low=low,
            updated_at=level.updated_at,
        )
