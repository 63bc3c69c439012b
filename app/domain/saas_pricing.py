"""What a plan costs with GST, and the taxable value of the SaaS's tax invoice for it.

A plan's `price_paise` is stated either tax-exclusive (GST is added) or tax-inclusive
(`price_includes_tax`: GST is inside it). The Razorpay order charges the price with tax; the tax
invoice for the payment carries one line (quantity 1, the plan's SAC and GST rate) whose unit price
is the taxable value:

- exclusive: the price itself; the invoice total is price + GST, computed per component as every
  invoice is (CGST+SGST halves rounded each, or IGST), rounded to the rupee by the invoice's
  round-off: the amount charged (`price_with_tax`);
- inclusive: back-calculated so that the invoice's total equals the price charged EXACTLY. The
  rule: start from price x 100 / (100 + rate), rounded half-up to the paisa, and take the nearest
  value (within +/- 2 paise, nearest first, lower first on a tie) whose taxable value plus its tax
  components, each rounded as the invoice rounds them, is the price. No paisa value may hit it:
  CGST and SGST are rounded each, so the total moves by 1 or 3 paise per paisa of taxable value
  (₹999 at 18% intra-state: 846.61 gives 998.99, 846.62 gives 999.02). Then the nearest total is
  taken, the one below the price on a tie: it is a paisa off, which the invoice's round-off to the
  rupee (GST settings) absorbs for a whole-rupee price.
"""

from decimal import ROUND_HALF_UP, Decimal

from app.domain.gst import PAISA, RUPEE, SupplyType, line_tax, money

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
    candidates = [base + PAISA * step for step in (0, -1, 1, -2, 2)]
    # exact first; else the nearest total, below the price rather than above on a tie
    return min(candidates, key=lambda t: _miss(_total(t, rate, supply, place_of_supply), price))


def _miss(total: Decimal, price: Decimal) -> tuple[Decimal, bool]:
    return abs(total - price), total > price


def price_with_tax(price: Decimal, rate: Decimal, *, includes_tax: bool) -> Decimal:
    """What one period is charged: the price when GST is included, else price + GST rounded to the
    rupee (half up), which is the total of its tax invoice (taxable value = the price) under the
    invoice's round-off to the rupee (GST settings' default, which the platform company keeps):
    ₹999 + 18% = 999 + 179.82 + round-off 0.18 = ₹1,179. Charging 1,178.82 would leave the invoice
    ₹0.18 unpaid. The GST is computed as IGST; CGST+SGST halves rounded each never move the total
    across a half rupee for the rates in use."""
    if includes_tax:
        return price
    return money((price + money(price * rate / HUNDRED)).quantize(RUPEE, rounding=ROUND_HALF_UP))
