"""What a plan costs with GST, and the taxable value of the SaaS's tax invoice for it.

A plan's `price_paise` is stated either tax-exclusive (GST is added) or tax-inclusive
(`price_includes_tax`: GST is inside it). The Razorpay order charges the price with tax; the tax
invoice for the payment carries one line (quantity 1, the plan's SAC and GST rate) whose unit price
is the taxable value:

- exclusive: the price itself; the invoice total is price + GST, computed per component as every
  invoice is (CGST+SGST halves rounded each, or IGST);
- inclusive: back-calculated so that the invoice's total equals the price charged EXACTLY. The
  rule: start from price x 100 / (100 + rate), rounded half-up to the paisa, and take the nearest
  value (within +/- 2 paise, nearest first, lower first on a tie) whose taxable value plus its tax
  components, each rounded as the invoice rounds them, is the price. If no paisa value hits the
  price (the tax can jump by a paisa between neighbours), the rounded quotient is used and the
  invoice differs from the charge by that paisa (never seen for whole-rupee prices).
"""

from decimal import Decimal

from app.domain.gst import PAISA, SupplyType, line_tax, money

HUNDRED = Decimal(100)


def _total(taxable: Decimal, rate: Decimal, supply: SupplyType, place_of_supply: str) -> Decimal:
    return line_tax(taxable, rate, supply, place_of_supply).total


def taxable_value(
    price: Decimal, rate: Decimal, *, includes_tax: bool, supply: SupplyType, place_of_supply: str
) -> Decimal:
    """The invoice line's taxable value for a plan priced `price` rupees (see the module's rule)."""
    if not includes_tax or rate == 0:
        return price
    base = money(price * HUNDRED / (HUNDRED + rate))
    for step in (0, -1, 1, -2, 2):
        candidate = base + PAISA * step
        if _total(candidate, rate, supply, place_of_supply) == price:
            return candidate
    return base


def price_with_tax(price: Decimal, rate: Decimal, *, includes_tax: bool) -> Decimal:
    """What one period costs with GST: the price when included, else price + GST (computed as IGST;
    CGST+SGST halves of a whole-rupee price come to the same paisa)."""
    if includes_tax:
        return price
    return price + money(price * rate / HUNDRED)
