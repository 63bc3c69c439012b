"""Invoice lines that sell a product (pure, no I/O): what the product gives the line.

A line naming a product takes from it, unless the line says otherwise:
- `description`: the product's name (a line may override it: "Rice 5 kg, festival pack");
- `unit_price`: the product's sale price; the line's own `unit_price` overrides it and, like every
  line's price, is tax-exclusive;
- `gst_rate`: the product's rate (a line may override it; the rate is checked against the tax rates
  in force like any line's); 0 when the supplier charges no tax (a composition taxpayer or an
  unregistered company issues bills of supply: CGST Act s.10(4), s.32), and a tax-inclusive sale
  price is then the price itself (a kirana shop's sticker price is what its customer pays);
- `discount`: the line's, as on any line.
A product with an MRP is never sold above it (Legal Metrology (Packaged Commodities) Rules, 2011,
r.18(2), the rule the catalogue applies to the sale price): a line whose price with tax per unit,
after its discount, is above the MRP is refused (`price-above-mrp`), whether the price or the rate
was overridden.
`hsn_sac` and `unit` are the product's and cannot be overridden: the stock is counted in the
product's unit and the HSN summary of the return is the product's. A line that sends them with
another value is refused (`product-line-fixed`); sending the product's own values is accepted.

A product whose sale price includes tax sells at the tax-exclusive unit price
`sale_price * 100 / (100 + line rate)`, to the unit price's 4 decimals (ROUND_HALF_UP): the tax
computed on the line brings it back to the sticker price within paise, and the invoice's round-off
to the rupee (GST settings, on by default) absorbs them. A line is off its sticker value by at most
(0.005 + 0.00005 * quantity) * (1 + rate) + 0.01 (the unit price's, the taxable value's and the
tax components' roundings): under 0.033 for a quantity below 100. So with round-off on, whole-rupee
sticker prices sell at exactly their sum on an invoice of up to 15 such lines (in practice the
errors cancel and many more). It cannot be exact when the tenant turns round-off off (100.00 at 12%
intra-state is 89.29 + 5.36 + 5.36 = 100.01) or when the sticker prices carry paise (the total is
rounded to the rupee). A line's quantity must fit the unit's
precision (app.domain.uqc: whole units for NOS/PCS/BOX..., three decimals for KGS/LTR/MTR...).
"""

import uuid
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol

from app.domain import uqc
from app.domain.errors import RuleBroken
from app.domain.invoice_math import LineIn  # a line as sent (InvoiceLineIn)
from app.domain.product_codes import price_with_tax

HUNDRED = Decimal(100)
UNIT_PRICE_PLACES = Decimal("0.0001")
NO_TAX = Decimal("0.00")


class Product(Protocol):
    @property
    def id(self) -> uuid.UUID: ...
    @property
    def name(self) -> str: ...
    @property
    def hsn_code(self) -> str: ...
    @property
    def unit(self) -> str: ...
    @property
    def sale_price(self) -> Decimal: ...
    @property
    def price_includes_tax(self) -> bool: ...
    @property
    def gst_rate(self) -> Decimal: ...
    @property
    def mrp(self) -> Decimal | None: ...


@dataclass(frozen=True)
class ProductLine:
    """A line with its product's defaults applied: what app.domain.invoice_math computes."""

    product_id: uuid.UUID
    description: str
    hsn_sac: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    discount: Decimal
    gst_rate: Decimal
    service_type_id: None = None


def tax_exclusive(price: Decimal, rate: Decimal) -> Decimal:
    """The unit price before tax of a tax-inclusive `price` at `rate` percent (4 decimals)."""
    return (price * HUNDRED / (HUNDRED + rate)).quantize(UNIT_PRICE_PLACES, rounding=ROUND_HALF_UP)


def resolve(line: LineIn, product: Product, field: str, *, charges_tax: bool = True) -> ProductLine:
    """`line` (which names `product`) with the product's defaults; `field` is the line's path (lines.0);
    `charges_tax` false: the supplier issues bills of supply (the line's rate defaults to 0)."""
    if line.service_type_id is not None:
        raise RuleBroken(
            f"{field}.product_id",
            "A line names a service type or a product, not both.",
            code="line-service-and-product",
        )
    for name, value, own in (("hsn_sac", line.hsn_sac, product.hsn_code), ("unit", line.unit, product.unit)):
        if value is not None and value != own:
            raise RuleBroken(
                f"{field}.{name}",
                f"A product line's {name} is the product's ({own}); leave it out.",
                code="product-line-fixed",
            )
    uqc.check_quantity(product.unit, line.quantity, field=f"{field}.quantity")
    rate = line.gst_rate if line.gst_rate is not None else (product.gst_rate if charges_tax else NO_TAX)
    if line.unit_price is not None:
        price = line.unit_price
    elif product.price_includes_tax:
        price = tax_exclusive(product.sale_price, rate)
    else:
        price = product.sale_price
    _check_mrp(product.mrp, price, line.discount, line.quantity, rate, field)
    return ProductLine(
        product_id=product.id,
        description=line.description or product.name,
        hsn_sac=product.hsn_code,
        quantity=line.quantity,
        unit=product.unit,
        unit_price=price,
        discount=line.discount,
        gst_rate=rate,
    )


def _check_mrp(
    mrp: Decimal | None, unit_price: Decimal, discount: Decimal, quantity: Decimal, rate: Decimal, field: str
) -> None:
    """A unit's price with tax, after the line's discount, to the paisa, is at most the MRP (a
    tax-inclusive sale price made tax-exclusive comes back to itself: its rounding is below 0.0001)."""
    if mrp is None:
        return
    paid = price_with_tax(unit_price - discount / quantity, includes_tax=False, gst_rate=rate)
    if paid > mrp:
        raise RuleBroken(
            f"{field}.unit_price",
            f"A unit's price with tax ({paid}) is above the product's MRP ({mrp}): it cannot be sold above its MRP.",
            code="price-above-mrp",
        )
