"""Product categories (a tree of at most 3 levels) and products.

Formats are patterns in the spec (SKU, barcode digits, HSN of 4/6/8 digits, a UQC from the GSTN
list, prices, rates, quantities). What no pattern can state is checked by the service: a barcode's
check digit (400 `invalid-barcode`), a quantity with more decimals than its unit allows (400
`quantity-too-precise`), the GST rate among the tenant's rates in force today (400), the price
against the MRP (400 `price-above-mrp`): like every rule the schema cannot state, a 400
(a schema-valid request is never a 422).
"""

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StringConstraints

from app.domain.uqc import UNITS
from app.schemas.billing.business_fields import DecimalOut, Money, Rate, decimal_string, text
from app.schemas.billing.invoices import UnitPrice
from app.schemas.common import RequestBody, SelectableRead

CategoryName = text(100, example="Staples")
ProductName = text(200, example="Tata Salt 1 kg")
Description = text(500, example="Iodised salt, 1 kg pouch")
# Letters, digits and . _ / - (no blanks: a SKU is typed and scanned as one token), up to 40.
SKU_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,39}$"
Sku = Annotated[str, StringConstraints(pattern=SKU_PATTERN), Field(examples=["SALT-1KG"])]
Barcode = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9]{8,14}$"),
    Field(
        examples=["8901030865275"],
        description="EAN-13, UPC-A (stored as its EAN-13 form, with a leading 0), EAN-8 or GTIN-14; "
        "the check digit is verified (400 `invalid-barcode`).",
    ),
]
Hsn = Annotated[
    str,
    StringConstraints(pattern=r"^([0-9]{4}|[0-9]{6}|[0-9]{8})$"),
    Field(examples=["25010020"], description="HSN code: 4, 6 or 8 digits."),
]


def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


UnitCode = Annotated[
    Literal[*UNITS],  # type: ignore[valid-type]
    BeforeValidator(_upper),
    Field(
        examples=["NOS"],
        description="A GST unit quantity code (UQC) from the GSTN list (`GET /products/units`); "
        "case-insensitive, stored upper-case.",
    ),
]
# A reorder level: zero or more, up to 3 decimal places (the unit decides how many are allowed).
QUANTITY_OR_ZERO = r"^[0-9]{1,9}(\.[0-9]{1,3})?$"
ReorderLevel = decimal_string(QUANTITY_OR_ZERO, "10", Decimal("0.001"))
# A reorder quantity: more than zero (the same pattern as an invoice line's quantity, wider).
ReorderQuantity = decimal_string(
    r"^([1-9][0-9]{0,8}(\.[0-9]{1,3})?|0\.([1-9][0-9]{0,2}|0[1-9][0-9]?|00[1-9]))$", "50", Decimal("0.001")
)
Mrp = Money


class CategoryCreate(RequestBody):
    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "Staples"}]})

    name: CategoryName
    parent_id: uuid.UUID | None = Field(None, description="The parent category; none = a top-level category.")


class CategoryUpdate(RequestBody):
    """Rename, or move under another parent (`parent_id`, null = top level). A move keeps the
    whole sub-tree within 3 levels and never under itself (400)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "Pulses and grains"}]})

    name: CategoryName = None
    parent_id: uuid.UUID | None = None


class CategoryRead(SelectableRead):
    id: uuid.UUID
    name: str
    parent_id: uuid.UUID | None
    depth: int = Field(description="1 for a top-level category, up to 3.")
    created_at: datetime
    updated_at: datetime


class CategoryNode(BaseModel):
    id: uuid.UUID
    name: str
    depth: int
    children: list["CategoryNode"]


class CategoryTree(BaseModel):
    items: list[CategoryNode] = Field(description="The top-level categories, each with its sub-tree, by name.")


CategorySort = Literal["name", "-name", "created_at", "-created_at"]

EXAMPLE = {
    "name": "Tata Salt 1 kg",
    "sku": "SALT-1KG",
    "barcode": "8901030865275",
    "hsn_code": "25010020",
    "unit": "NOS",
    "sale_price": "28.00",
    "price_includes_tax": True,
    "mrp": "28.00",
    "gst_rate": "5",
    "reorder_level": "10",
    "reorder_quantity": "50",
}


class ProductCreate(RequestBody):
    """`sale_price` is per `unit`, tax included when `price_includes_tax` is true. With an `mrp`,
    the price a customer pays (tax included) may not exceed it (400 `price-above-mrp`)."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE]})

    name: ProductName
    sku: Sku = Field(description="Unique in the tenant, case-insensitively (409 `duplicate-sku`).")
    barcode: Barcode | None = None
    description: Description | None = None
    category_id: uuid.UUID | None = None
    hsn_code: Hsn
    unit: UnitCode
    sale_price: UnitPrice
    price_includes_tax: StrictBool = False
    mrp: Mrp | None = Field(None, description="Maximum retail price (tax included), per unit.")
    purchase_cost: UnitPrice | None = None
    gst_rate: Rate = Field(description="One of the tenant's tax rates in force today (400 `gst-rate-not-in-force`).")
    track_stock: StrictBool = Field(True, description="false: a product sold without stock (no movements).")
    reorder_level: ReorderLevel | None = Field(
        None, description="Low stock at or below this (in `unit`, with its decimal places)."
    )
    reorder_quantity: ReorderQuantity | None = Field(None, description="What to order when low (in `unit`).")


class ProductUpdate(RequestBody):
    """Only the fields sent change; `null` clears an optional field. `is_archived` archives
    (hidden from the default list and refused on new documents) or restores (counted again against
    the plan's product limit). `unit` cannot change once documents or stock use the product (409)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"sale_price": "30.00", "mrp": "30.00"}]})

    # Not nullable (NOT NULL columns): the default only means "not sent".
    name: ProductName = None
    sku: Sku = None  # type: ignore[assignment]
    barcode: Barcode | None = None
    description: Description | None = None
    category_id: uuid.UUID | None = None
    hsn_code: Hsn = None  # type: ignore[assignment]
    unit: UnitCode = None  # type: ignore[assignment]
    sale_price: UnitPrice = None
    price_includes_tax: StrictBool = None  # type: ignore[assignment]
    mrp: Mrp | None = None
    purchase_cost: UnitPrice | None = None
    gst_rate: Rate = None
    track_stock: StrictBool = None  # type: ignore[assignment]
    reorder_level: ReorderLevel | None = None
    reorder_quantity: ReorderQuantity | None = None
    is_archived: StrictBool = None  # type: ignore[assignment]


NOT_NULL = {"name", "sku", "hsn_code", "unit", "sale_price", "price_includes_tax", "gst_rate", "track_stock"}


class ProductRead(SelectableRead):
    id: uuid.UUID
    name: str
    sku: str
    barcode: str | None
    description: str | None
    category_id: uuid.UUID | None
    hsn_code: str
    unit: str
    sale_price: DecimalOut
    price_includes_tax: bool
    mrp: DecimalOut | None
    purchase_cost: DecimalOut | None
    gst_rate: DecimalOut
    track_stock: bool
    reorder_level: DecimalOut | None
    reorder_quantity: DecimalOut | None
    is_archived: bool
    created_at: datetime
    updated_at: datetime


class UnitRead(BaseModel):
    code: str
    description: str
    decimals: int = Field(description="Decimal places a quantity in this unit may carry (0: whole units).")


class UnitList(BaseModel):
    items: list[UnitRead]


ProductSort = Literal["name", "-name", "sku", "-sku", "created_at", "-created_at", "sale_price", "-sale_price"]
