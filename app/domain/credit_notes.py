"""What a credit note is worth (pure, no I/O): the amounts of crediting part of an invoice line.

Crediting telescopes. A credit is what the line's credited part is worth after it minus what it
was worth before it, so however a line is credited (at once or over many notes) the credits on it
add up to exactly the line's own amounts once all of it is credited, and a full credit note
repeats the invoice line by line.

- By quantity q, after c units credited earlier: taxable = value(c + q) - value(c), where
  value(x) = gst.taxable_value(x, unit_price, discount * x / quantity rounded to the paisa) is the
  invoice's own formula with the discount taken pro rata, so value(quantity) = the line's value.
- By taxable value t (a price reduction): t as given.
- Tax, per component: line_tax(T + t) - line_tax(T), T being the taxable value credited earlier on
  the line, at the line's rate with the invoice's supply type and place of supply (none at all when
  the invoice is zero-rated under bond or LUT: a credit note inherits its treatment).

Round-off: a note that leaves nothing of the invoice's lines uncredited (a full one always)
closes the invoice: its total is what remains creditable (invoice total - credited so far), so a
full credit note repeats the invoice's round_off. Any other note is rounded to the rupee like an
invoice when round-off is on, unless rounding would make it zero or take it past what remains
creditable: then it is not rounded.
"""

from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal

from app.domain import gst
from app.domain.errors import RuleBroken
from app.domain.gst import ZERO, LineAmounts


@dataclass(frozen=True)
class InvoicedLine:
    quantity: Decimal
    unit_price: Decimal
    discount: Decimal
    gst_rate: Decimal
    taxable_value: Decimal


@dataclass(frozen=True)
class Credited:
    """What earlier credit notes took of a line: units (of credits by quantity) and taxable value (of all)."""

    quantity: Decimal = ZERO
    taxable_value: Decimal = ZERO


@dataclass(frozen=True)
class Supply:
    type: gst.SupplyType
    place_of_supply: str
    without_tax: bool = False  # the invoice is zero-rated under bond or LUT: its credits carry no tax either


def check_restock(*, restock: bool, by_value: bool) -> None:
    """Restocking returns goods, so only a credit by quantity does: a credit by taxable value is a
    price reduction (the goods stay with the customer)."""
    if restock and by_value:
        raise RuleBroken(
            "restock",
            "A credit by taxable value returns no goods: credit the returned goods by quantity to restock them.",
            code="restock-by-value",
        )


def quantity_value(line: InvoicedLine, quantity: Decimal) -> Decimal:
    """The taxable value of `quantity` units of the line; all of them are worth the line's value."""
    discount = gst.money(line.discount * quantity / line.quantity)
    return gst.taxable_value(quantity, line.unit_price, discount)


def taxable_for_quantity(line: InvoicedLine, quantity: Decimal, earlier: Credited) -> Decimal:
    return quantity_value(line, earlier.quantity + quantity) - quantity_value(line, earlier.quantity)


def credit_amounts(line: InvoicedLine, taxable: Decimal, earlier: Credited, supply: Supply) -> LineAmounts:
    """The amounts of crediting `taxable` more of the line."""

    def tax(value: Decimal) -> LineAmounts:
        return gst.line_tax(value, line.gst_rate, supply.type, supply.place_of_supply, without_tax=supply.without_tax)

    before, after = tax(earlier.taxable_value), tax(earlier.taxable_value + taxable)
    return LineAmounts(
        taxable,
        after.cgst_amount - before.cgst_amount,
        after.sgst_amount - before.sgst_amount,
        after.utgst_amount - before.utgst_amount,
        after.igst_amount - before.igst_amount,
    )


def full_credit(line: InvoicedLine, supply: Supply) -> LineAmounts:
    """Crediting all of a line that nothing was credited of."""
    return credit_amounts(line, taxable_for_quantity(line, line.quantity, Credited()), Credited(), supply)


def note_totals(
    lines: Iterable[LineAmounts],
    *,
    creditable: Decimal,
    closes: bool,
    round_to_rupee: bool,
    reverse_charge: bool = False,
    exact: Decimal | None = None,
) -> gst.DocumentTotals:
    """Totals of a note whose lines are `lines`, `creditable` being the invoice's total less what
    was credited before, `closes` whether nothing of the invoice's lines remains uncredited after it.
    A total over `creditable` (or not over zero) is left as is: the caller refuses it.
    `exact`: a refunded amount the note must come to (its lines from `taxable_for_gross`): the few
    paise its tax rounding leaves go to round_off instead of rounding to the rupee."""
    base = gst.document_totals(lines, round_to_rupee=False, reverse_charge=reverse_charge)
    grand = base.total
    if closes:
        total = creditable
    elif exact is not None and 0 < exact <= creditable and abs(exact - grand) < gst.RUPEE:
        total = exact
    else:
        rounded = gst.money(grand.quantize(gst.RUPEE, rounding=ROUND_HALF_UP)) if round_to_rupee else grand
        total = rounded if 0 < rounded <= creditable else grand
    return replace(base, round_off=total - grand, total=total)


def taxable_for_gross(
    lines: list[tuple[InvoicedLine, Credited]], gross: Decimal, supply: Supply, *, passes: int = 3
) -> list[Decimal]:
    """Taxable values to credit on `lines` (each with what was credited of it before) so that the
    credits, tax included, come to `gross` (a refund of an amount): each line in proportion to
    what remains of it, tax included, then the largest share corrected by the paise its rounding
    missed (a few passes). Zero for a line that gets nothing; all that remains of every line when
    `gross` covers it."""
    remaining = [max(line.taxable_value - earlier.taxable_value, ZERO) for line, earlier in lines]

    def worth(index: int, taxable: Decimal) -> Decimal:
        line, earlier = lines[index]
        return credit_amounts(line, taxable, earlier, supply).total if taxable > 0 else ZERO

    whole = [worth(i, value) for i, value in enumerate(remaining)]
    if gross >= sum(whole, ZERO):
        return remaining
    share = gross / sum(whole, ZERO)
    taxable = [min(gst.money(value * share), value) for value in remaining]
    largest = max(range(len(lines)), key=lambda i: taxable[i])
    for _ in range(passes):
        missing = gross - sum((worth(i, value) for i, value in enumerate(taxable)), ZERO)
        if missing == 0:
            break
        rate = ZERO if supply.without_tax else lines[largest][0].gst_rate
        step = gst.money(missing * 100 / (100 + rate))
        if step == 0:
            step = Decimal("0.01") if missing > 0 else Decimal("-0.01")
        taxable[largest] = min(max(taxable[largest] + step, ZERO), remaining[largest])
    return taxable
