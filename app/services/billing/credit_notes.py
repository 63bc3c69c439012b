"""Credit notes (CGST Rule 53): a credit against one issued invoice, with its own number series.

The invoice row is locked first, so concurrent credit notes on one invoice queue, and what earlier
notes credited is read after the lock. Amounts come from app.domain.credit_notes. The
invoice's amount_credited moves by a guarded UPDATE that refuses to pass its total (409), and the
customer's balance falls by the note's total. With `restock`, the credited units of its product
lines go back to stock (`return` movements, app.services.billing.invoice_stock); without, they do not
(damaged goods). Audited in the same transaction; never commits.

A note for a refund (`create_refunding`) may credit a paid invoice: what its balance due lacks is
first released from the refunded receipt's allocations to it (receipts.release), to go back to the
customer from the receipt's advance."""

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.context import Context
from app.core.errors import Conflict, NotFound, RuleViolation
from app.domain import credit_notes as credit_note_math
from app.domain import gst, uqc
from app.domain.credit_notes import Credited, InvoicedLine, Supply
from app.domain.errors import DomainError
from app.domain.statuses import SETTLEABLE_STATUSES
from app.domain.zero_rated import TaxTreatment
from app.models.billing.credit_note import CreditNote, CreditNoteLine
from app.models.billing.invoice import Invoice, InvoiceLine
from app.repositories.billing.credit_notes import CreditNoteRepository
from app.repositories.billing.customers import CustomerRepository
from app.repositories.billing.invoices import InvoiceRepository
from app.schemas.billing.credit_notes import FullCreditNoteIn, PartialCreditNoteIn, QuantityCredit, ValueCredit
from app.services.billing import gst_settings, invoice_stock, invoicing, numbering, receipts
from app.services.billing.rules import DocumentDates, as_problem
from app.services.catalog.stock import StockLine
from app.services.platform import audit, event_payloads, events

AUDITED = [
    "number",
    "financial_year",
    "company_id",
    "customer_id",
    "invoice_id",
    "invoice_number",
    "invoice_date",
    "credit_note_date",
    "reason",
    "is_full",
    "restock",
    "supply_type",
    "taxable_value",
    "tax_total",
    "round_off",
    "total",
]
INVOICE_AUDITED = ["status", "amount_credited", "balance_due"]


@dataclass(frozen=True)
class Credit:
    """One line of the note: the invoice line, what was credited of it before, this credit."""

    line: InvoiceLine
    earlier: Credited
    amounts: gst.LineAmounts
    quantity: Decimal | None = None  # units, for a credit by quantity


async def get(session: AsyncSession, credit_note_id: uuid.UUID) -> CreditNote:
    note = await CreditNoteRepository(session).get_with_lines(credit_note_id)
    if note is None:
        raise NotFound("Credit note not found.", code="credit-note-not-found")
    return note


async def create(session: AsyncSession, ctx: Context, *, body: FullCreditNoteIn | PartialCreditNoteIn) -> CreditNote:
    return (await _create(session, ctx, body, release_from=None))[0]


async def create_refunding(
    session: AsyncSession,
    ctx: Context,
    *,
    body: FullCreditNoteIn | PartialCreditNoteIn,
    receipt_id: uuid.UUID,
    total: Decimal | None = None,
) -> tuple[CreditNote, Decimal]:
    """A credit note for money going back to the customer (app.services.commerce.refunds): what of
    the note the invoice's balance due does not take is released from `receipt_id`'s allocations
    to the invoice, back to the receipt's advance, to be refunded from there. Answers the note and
    the amount released (zero when the invoice still owed at least the note's total). `total`: the
    amount refunded that the note must come to (a refund of an amount, app.domain.credit_notes)."""
    return await _create(session, ctx, body, release_from=receipt_id, total=total)


async def value_credits(session: AsyncSession, invoice_id: uuid.UUID, gross: Decimal) -> list[ValueCredit]:
    """Credits by value on the invoice's lines coming to `gross`, tax included (a refund of an
    amount): spread over the lines in proportion to what remains uncredited of each
    (app.domain.credit_notes.taxable_for_gross). Read before the note's lock: the note checks again."""
    invoice = await invoicing.get(session, invoice_id)
    supply = Supply(
        gst.SupplyType(invoice.supply_type), invoice.place_of_supply, invoice.tax_treatment == TaxTreatment.under_lut
    )
    rows = await CreditNoteRepository(session).credited_by_line([line.id for line in invoice.lines])
    lines = [(line, Credited(*rows[line.id]) if line.id in rows else Credited()) for line in invoice.lines]
    taxable = credit_note_math.taxable_for_gross([(_invoiced(line), earlier) for line, earlier in lines], gross, supply)
    return [
        ValueCredit.model_construct(invoice_line_id=line.id, taxable_value=value)
        for (line, _), value in zip(lines, taxable, strict=True)
        if value > 0
    ]


async def _create(
    session: AsyncSession,
    ctx: Context,
    body: FullCreditNoteIn | PartialCreditNoteIn,
    *,
    release_from: uuid.UUID | None,
    total: Decimal | None = None,
) -> tuple[CreditNote, Decimal]:
    dates = DocumentDates.of(ctx)
    invoice = await invoicing.get(session, body.invoice_id, for_update=True)
    if invoice.status not in SETTLEABLE_STATUSES:
        raise Conflict(f"A {invoice.status} invoice cannot be credited.", code="invoice-not-creditable")
    day = dates.check("credit_note_date", body.credit_note_date or dates.today)
    if day < invoice.invoice_date:
        raise RuleViolation(
            "credit_note_date", "The credit note is dated before the invoice.", code="credit-note-before-invoice"
        )
    # A note inherits the invoice's supply: an export under bond or LUT credits no tax either.
    without_tax = invoice.tax_treatment == TaxTreatment.under_lut
    supply = Supply(gst.SupplyType(invoice.supply_type), invoice.place_of_supply, without_tax)
    rows = await CreditNoteRepository(session).credited_by_line([line.id for line in invoice.lines])
    credited = {line_id: Credited(quantity, taxable) for line_id, (quantity, taxable) in rows.items()}
    if isinstance(body, FullCreditNoteIn):
        credits = _full(invoice, credited, supply)
    else:
        by_value = any(isinstance(line, ValueCredit) for line in body.lines)
        try:
            credit_note_math.check_restock(restock=body.restock, by_value=by_value)
        except DomainError as exc:
            raise as_problem(exc) from exc
        credits = _partial(invoice, credited, supply, body.lines)
        _check_units(credits)
    returned = _returned(invoice, body, credits) if body.restock else []  # refused before a number is taken
    note = await _save(session, invoice, body, day, credits, closes=_closes(invoice, credited, credits), total=total)
    if returned:
        await invoice_stock.return_goods(session, ctx, invoice, note.id, returned)
    created = audit.snapshot(note, AUDITED)
    # the note's event first: the invoice's `invoice.paid` (if it closes it) follows it
    await events.record(
        session,
        "credit_note.created",
        resource_type="credit_note",
        resource_id=note.id,
        payload=event_payloads.credit_note(note),
    )
    settled, released = await _settle(session, ctx, invoice, note, release_from)
    await audit.record_many(  # the rows in one INSERT
        session,
        [
            {"action": "credit_note.created", "entity_type": "credit_note", "entity_id": note.id, "after": created},
            *settled,
        ],
    )
    return note, released


def _check_units(credits: list[Credit]) -> None:
    """A product line's credited quantity in its unit's precision (no half of a NOS), restocked or
    not; named by the body's line index."""
    for index, credit in enumerate(credits):
        line = credit.line
        if line.product_id is not None and credit.quantity is not None and line.unit in uqc.UNITS:
            try:
                uqc.check_quantity(line.unit, credit.quantity, field=f"lines.{index}.quantity")
            except DomainError as exc:
                raise as_problem(exc) from exc


def _returned(invoice: Invoice, body: FullCreditNoteIn | PartialCreditNoteIn, credits: list[Credit]) -> list[StockLine]:
    """What a note with restock returns to stock: the credited units of its product lines (by the
    index of the body's line); a full note returns every product line, the free ones too (a line worth
    nothing is on no credit note, but its goods come back with the rest).
    app.services.billing.invoice_stock moves those the invoice took stock of."""
    goods: list[tuple[int, uuid.UUID | None, Decimal | None]]
    if isinstance(body, FullCreditNoteIn):
        goods = [(line.position, line.product_id, line.quantity) for line in invoice.lines]
    else:
        # the body's line index: a quantity the product's unit does not take is named `lines.<index>.quantity`
        goods = [(n, credit.line.product_id, credit.quantity) for n, credit in enumerate(credits)]
    returned = [
        StockLine(product_id=product_id, quantity=quantity, position=position)
        for position, product_id, quantity in goods
        if product_id is not None and quantity is not None
    ]
    if not returned:
        raise RuleViolation("restock", "No line of this credit note returns a product.", code="restock-without-goods")
    return returned


def _full(invoice: Invoice, credited: dict[uuid.UUID, Credited], supply: Supply) -> list[Credit]:
    if credited:
        raise Conflict(
            "The invoice has credit notes already; credit what remains by lines.", code="invoice-already-credited"
        )
    return [
        Credit(line, Credited(), credit_note_math.full_credit(_invoiced(line), supply), line.quantity)
        for line in invoice.lines
        if line.taxable_value > 0  # a line worth nothing credits nothing (credit note lines are > 0)
    ]


def _partial(
    invoice: Invoice, credited: dict[uuid.UUID, Credited], supply: Supply, lines: list[QuantityCredit | ValueCredit]
) -> list[Credit]:
    if len({line.invoice_line_id for line in lines}) < len(lines):
        raise RuleViolation("lines", "Name each invoice line once.", code="duplicate-invoice-line")
    by_id = {line.id: line for line in invoice.lines}
    credits = []
    for index, line_in in enumerate(lines):
        line = by_id.get(line_in.invoice_line_id)
        if line is None:
            raise NotFound("The invoice has no line with this id.", code="invoice-line-not-found")
        credits.append(_credit(line, credited.get(line.id, Credited()), supply, line_in, f"lines.{index}"))
    return credits


def _credit(
    line: InvoiceLine, earlier: Credited, supply: Supply, line_in: QuantityCredit | ValueCredit, field: str
) -> Credit:
    invoiced = _invoiced(line)
    quantity = None
    if isinstance(line_in, QuantityCredit):
        quantity = line_in.quantity
        if earlier.quantity + quantity > line.quantity:
            raise Conflict(
                f"Only {line.quantity - earlier.quantity} units of line {line.position} remain uncredited.",
                code="line-quantity-exceeded",
            )
        taxable = credit_note_math.taxable_for_quantity(invoiced, quantity, earlier)
    else:
        taxable = line_in.taxable_value
    if taxable <= 0:
        raise RuleViolation(field, "This credits no taxable value.", code="credit-not-positive")
    if earlier.taxable_value + taxable > line.taxable_value:
        raise Conflict(
            f"Only {line.taxable_value - earlier.taxable_value} of line {line.position}'s taxable value "
            "remains uncredited.",
            code="line-value-exceeded",
        )
    return Credit(line, earlier, credit_note_math.credit_amounts(invoiced, taxable, earlier, supply), quantity)


def _closes(invoice: Invoice, credited: dict[uuid.UUID, Credited], credits: list[Credit]) -> bool:
    """Whether nothing of the invoice's lines remains uncredited once these credits apply."""
    after = {line_id: earlier.taxable_value for line_id, earlier in credited.items()}
    after |= {c.line.id: c.earlier.taxable_value + c.amounts.taxable_value for c in credits}
    return all(after.get(line.id, gst.ZERO) == line.taxable_value for line in invoice.lines)


async def _save(
    session: AsyncSession,
    invoice: Invoice,
    body: FullCreditNoteIn | PartialCreditNoteIn,
    day: date,
    credits: list[Credit],
    *,
    closes: bool,
    total: Decimal | None = None,
) -> CreditNote:
    settings = await gst_settings.get(session)
    totals = credit_note_math.note_totals(
        (c.amounts for c in credits),
        creditable=invoice.total - invoice.amount_credited,
        closes=closes,
        round_to_rupee=settings.round_off_enabled,
        reverse_charge=invoice.reverse_charge,
        exact=total,
    )
    if totals.total <= 0:
        raise Conflict("Nothing of the invoice remains to be credited.", code="invoice-fully-credited")
    number, financial_year = await numbering.assign(
        session,
        company_id=invoice.company_id,
        document_type="credit_note",
        day=day,
        pattern=settings.credit_note_number_pattern,
    )
    note = CreditNote(
        company_id=invoice.company_id,
        customer_id=invoice.customer_id,
        invoice_id=invoice.id,
        number=number,
        financial_year=financial_year,
        credit_note_date=day,
        invoice_number=invoice.number,
        invoice_date=invoice.invoice_date,
        reason=body.reason,
        is_full=isinstance(body, FullCreditNoteIn),
        restock=body.restock,
        place_of_supply=invoice.place_of_supply,
        supply_type=invoice.supply_type,
        **vars(totals),
    )
    repo = CreditNoteRepository(session)
    await repo.add(note)
    await repo.add_lines(note, [_line(position, credit) for position, credit in enumerate(credits, start=1)])
    return note


async def _settle(
    session: AsyncSession, ctx: Context, invoice: Invoice, note: CreditNote, release_from: uuid.UUID | None
) -> tuple[list[dict[str, Any]], Decimal]:
    """Apply the note to the invoice and the customer's balance (after releasing from
    `release_from` what the balance due lacks); the audit entries and the amount released."""
    before = audit.snapshot(invoice, INVOICE_AUDITED)
    entries: list[dict[str, Any]] = []
    released = gst.ZERO
    if release_from is not None and note.total > invoice.balance_due:
        released = note.total - invoice.balance_due
        entries.append(await receipts.release(session, ctx, release_from, invoice, released))
    if (settled := await InvoiceRepository(session).settle(invoice.id, credited=note.total)) is None:
        raise Conflict(
            f"A credit note cannot exceed the invoice's balance due ({invoice.balance_due}); release "
            "receipt allocations first (void the receipt).",
            code="invoice-credit-exceeded",
        )
    await CustomerRepository(session).add_to_balance(invoice.customer_id, -note.total)
    await invoicing.record_paid(session, settled, by="credit_note", source_id=note.id, on=note.credit_note_date)
    credited = {
        "action": "invoice.credited",
        "entity_type": "invoice",
        "entity_id": invoice.id,
        "before": before,
        "after": audit.snapshot(invoice, INVOICE_AUDITED),
    }
    return [*entries, credited], released


def _line(position: int, credit: Credit) -> CreditNoteLine:
    line, amounts = credit.line, credit.amounts
    return CreditNoteLine(
        invoice_line_id=line.id,
        position=position,
        description=line.description,
        hsn_sac=line.hsn_sac,
        quantity=credit.quantity,
        gst_rate=line.gst_rate,
        **vars(amounts),
        total=amounts.total,
    )


def _invoiced(line: InvoiceLine) -> InvoicedLine:
    return InvoicedLine(line.quantity, line.unit_price, line.discount, line.gst_rate, line.taxable_value)
