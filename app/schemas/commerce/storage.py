"""Storage agreements: a customer's goods stored by a company for a monthly rent (a percentage of
their declared value, prorated by the days stored), the goods received and released, and the
periods billed. Statuses, holdings, balances and rents are output only."""

import uuid
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal, Self

from pydantic import ConfigDict, Field

from app.domain.storage_rent import GST_RATE
from app.models.catalog.product import Product
from app.models.commerce.storage import AGREEMENT_STATUSES, MOVEMENT_KINDS, StorageHolding, StorageMovement
from app.schemas.billing.business_fields import DecimalOut, IsoDate, Rate, decimal_string, integer, long_text, text
from app.schemas.billing.invoices import Quantity
from app.schemas.common import ReadModel, RequestBody, SelectableRead

# 0.01 .. 99.99 percent a month.
MonthlyRate = decimal_string(r"^(0\.(0[1-9]|[1-9][0-9]?)|[1-9][0-9]?(\.[0-9]{1,2})?)$", "2")
# A declared value per unit: more than zero, below ₹1 crore, to the paisa.
UnitValue = decimal_string(r"^([1-9][0-9]{0,6}(\.[0-9]{1,2})?|0\.([1-9][0-9]?|0[1-9]))$", "1250.00")
Reference = text(50, example="WH-2026-014")
Notes = long_text(2000, example="Cartons stacked in bay 4; forklift access only.")
AgreementStatus = Literal[*AGREEMENT_STATUSES]
MovementKind = Literal[*MOVEMENT_KINDS]
MAX_LINES = 100
BillingDay = integer(1, 28)

AGREEMENT_EXAMPLE = {
    "company_id": "0194f0a2-5c1e-7b1a-9d7e-2f9c3e1a0b11",
    "customer_id": "0194f0a2-5c1e-7b1a-9d7e-2f9c3e1a0b22",
    "reference": "WH-2026-014",
    "monthly_rate": "2",
    "billing_day": 1,
    "start_date": "2026-11-01",
}
RECEIPT_EXAMPLE = {
    "movement_date": "2026-11-10",
    "reference": "GRN-0412",
    "lines": [{"product_id": "0194f0a2-5c1e-7b1a-9d7e-2f9c3e1a0b44", "quantity": "100", "unit_value": "1250.00"}],
}
RELEASE_EXAMPLE = {
    "movement_date": "2026-11-20",
    "reference": "GP-0077",
    "lines": [{"product_id": "0194f0a2-5c1e-7b1a-9d7e-2f9c3e1a0b44", "quantity": "50"}],
}
PRORATION = (
    "Rent of a product for a period = declared value per unit x monthly rate / 100 x quantity-days / days in "
    "the period, rounded half up to the paisa once. Quantity-days: the quantity held on each day of the period, "
    "summed; a unit counts on the day it is received and not on the day it is released."
)


class StorageAgreementCreate(RequestBody):
    model_config = ConfigDict(json_schema_extra={"examples": [AGREEMENT_EXAMPLE]})

    company_id: uuid.UUID = Field(description="The company (warehouse, one GSTIN) that stores and bills.")
    customer_id: uuid.UUID = Field(description="Whose goods are stored and who is billed.")
    reference: Reference | None = None
    monthly_rate: MonthlyRate = Field(Decimal("2"), description=f"Percent of the goods' value a month. {PRORATION}")
    billing_day: BillingDay = Field(
        1,
        description="The day of the month a period ends and is billed (in arrears): 1 bills calendar months on "
        "the 1st of the next; 15 bills 15th to 14th. At most 28, so that every month has it.",
    )
    gst_rate: Rate = Field(
        GST_RATE,
        description="GST on the rent, one of the tenant's rates in force (409 `storage-gst-rate-missing`): 18 % "
        "for storage and warehousing; 0 for storage the law exempts (e.g. of agricultural produce, or rice: "
        "Notification 12/2017-CT(R)), billed on a bill of supply. A composition or unregistered company "
        "charges none whatever it says.",
    )
    start_date: IsoDate | None = Field(None, description="Defaults to today (India). Goods come in from this day.")
    end_date: IsoDate | None = Field(
        None,
        description="The last day goods are received (optional): no receipts after it. Goods still held after it "
        "are billed until released; the agreement ends after the period that leaves nothing held.",
    )
    notes: Notes | None = None


class StorageAgreementEnd(RequestBody):
    model_config = ConfigDict(json_schema_extra={"examples": [{"end_date": "2026-12-31"}]})

    end_date: IsoDate | None = Field(
        None,
        description="The last day billed; defaults to today (India), never later, nor before the agreement's "
        "last movement (an agreement not started yet: its start date). Every good must have been released "
        "(409 `storage-goods-held`).",
    )


class StorageAgreementRead(SelectableRead):
    id: uuid.UUID
    company_id: uuid.UUID
    customer_id: uuid.UUID
    reference: str | None
    monthly_rate: DecimalOut
    billing_day: int
    gst_rate: DecimalOut
    start_date: date
    end_date: date | None
    status: AgreementStatus = Field(description="active, or ended (no more goods come in).")
    next_period_start: date = Field(description="The first day of the first period not billed yet.")
    next_bill_on: date | None = Field(
        description="When that period is billed (its end); null once the agreement's last period is billed."
    )
    notes: str | None
    billing_problem: str | None = Field(
        description="Why the period due could not be billed at the scheduled job's last run (`<code>: <detail>`, "
        "e.g. the rate not in force on the billing day, the customer archived); every run tries again. "
        "null when billing is on time."
    )
    created_at: datetime
    updated_at: datetime


class GoodsReceiptLine(RequestBody):
    product_id: uuid.UUID = Field(description="A product of the catalogue naming the goods (not archived).")
    quantity: Quantity = Field(description="In the product's unit (its decimal places).")
    unit_value: UnitValue | None = Field(
        None,
        description="The declared value of one unit, the base of the rent: required at the product's first "
        "receipt under the agreement; later receipts may leave it out or repeat it (another value: 409).",
    )


class GoodsReleaseLine(RequestBody):
    product_id: uuid.UUID
    quantity: Quantity = Field(description="At most what the agreement holds of the product (409 otherwise).")


class _GoodsMovement(RequestBody):
    movement_date: IsoDate | None = Field(
        None,
        description="Defaults to today (India); never in the future, before the agreement's start, in a period "
        "already billed, or before the product's last movement under the agreement.",
    )
    reference: Reference | None = Field(None, description="The goods receipt note or gate pass number.")
    notes: Notes | None = None


class GoodsReceiptCreate(_GoodsMovement):
    """The customer's goods brought into storage (not the shop's stock). Lines name distinct products."""

    model_config = ConfigDict(json_schema_extra={"examples": [RECEIPT_EXAMPLE]})

    lines: list[GoodsReceiptLine] = Field(min_length=1, max_length=MAX_LINES)


class GoodsReleaseCreate(_GoodsMovement):
    """The customer's goods handed back, all lines or none. Lines name distinct products."""

    model_config = ConfigDict(json_schema_extra={"examples": [RELEASE_EXAMPLE]})

    lines: list[GoodsReleaseLine] = Field(min_length=1, max_length=MAX_LINES)


class StorageMovementRead(SelectableRead):
    id: uuid.UUID
    agreement_id: uuid.UUID
    product_id: uuid.UUID
    kind: MovementKind
    quantity: DecimalOut
    quantity_after: DecimalOut = Field(description="What the agreement holds of the product after it.")
    movement_date: date
    reference: str | None
    notes: str | None
    actor_user_id: uuid.UUID | None
    created_at: datetime

    @classmethod
    def of(cls, movement: StorageMovement) -> Self:
        return cls.model_validate(movement)


class StorageMovementsRead(ReadModel):
    movements: list[StorageMovementRead]


class HoldingRead(ReadModel):
    product_id: uuid.UUID
    product_name: str
    sku: str
    unit: str
    quantity: DecimalOut
    unit_value: DecimalOut
    value: DecimalOut = Field(description="quantity x unit_value, to the paisa.")
    last_movement_on: date

    @classmethod
    def of(cls, holding: StorageHolding, product: Product) -> Self:
        value = (holding.quantity * holding.unit_value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        return cls(
            product_id=product.id,
            product_name=product.name,
            sku=product.sku,
            unit=product.unit,
            quantity=holding.quantity,
            unit_value=holding.unit_value,
            value=value,
            last_movement_on=holding.last_movement_on,
        )


class HoldingsRead(ReadModel):
    items: list[HoldingRead] = Field(description="Every product the agreement has held, by name (0 once released).")
    total_value: DecimalOut


class RentPeriodRead(ReadModel):
    period_start: date
    period_end: date = Field(description="Exclusive: the billing day.")
    invoice_id: uuid.UUID | None = Field(description="null when nothing was stored in the period.")
    rent: DecimalOut = Field(description="Before tax.")
    created_at: datetime


class RentPeriodsRead(ReadModel):
    items: list[RentPeriodRead]
