"""Invoices: drafts (create, replace, delete), issue (number from the series, frozen from then on)
and void. Each use case reads as load -> compute -> write: one statement loads the parties, the
GST settings and the tax rates in force (app.repositories.billing.documents), one more the service types
the lines name (if any), one more their products (if any: app.services.billing.invoice_stock, which also
moves their stock at issue and void); app.domain.invoice_math computes the whole document (none of its amounts
is accepted from the client); then the rows are written, the lines in one INSERT. Each write is
audited in the same transaction; a service never commits."""

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.context import Context
from app.core.errors import Conflict, NotFound
from app.domain import gst, invoice_math, zero_rated
from app.domain.errors import DomainError
from app.domain.statuses import InvoiceStatus
from app.models.base import new_id
from app.models.billing.business import Company, GstSettings, ServiceType
from app.models.billing.customer import Customer
from app.models.billing.invoice import Invoice, InvoiceLine
from app.repositories.billing.customers import CustomerRepository
from app.repositories.billing.documents import DocumentPartiesRepository
from app.repositories.billing.invoices import InvoiceRepository
from app.repositories.billing.simple_lists import ServiceTypeRepository
from app.repositories.catalog.stock import StockDocumentRepository
from app.schemas.billing.invoices import InvoiceIn, InvoiceLineIn, ShippingBillRequest
from app.services.billing import companies, customers, gst_settings, invoice_stock, numbering
from app.services.billing.rules import DocumentDates, as_problem
from app.services.platform import audit, entitlements, event_payloads, events

AUDITED = [
    "status",
    "number",
    "financial_year",
    "company_id",
    "customer_id",
    "invoice_date",
    "due_date",
    "place_of_supply",
    "supply_type",
    "reverse_charge",
    "document_type",
    "supplier_registration_type",
    "supply_category",
    "tax_treatment",
    "destination_country",
    "port_code",
    "shipping_bill_number",
    "shipping_bill_date",
    "taxable_value",
    "tax_total",
    "round_off",
    "total",
    "amount_paid",
    "amount_credited",
    "void_reason",
]
T = TypeVar("T")
MONEY_FIELDS = ["taxable_value", "cgst_amount", "sgst_amount", "utgst_amount", "igst_amount", "total"]


@dataclass(frozen=True)
class Parties:
    """What composing and issuing an invoice read: its parties (active), the GST settings and the
    tax rates in force on its date."""

    company: Company
    customer: Customer
    settings: GstSettings
    rates_in_force: frozenset[Decimal]


async def get(session: AsyncSession, invoice_id: uuid.UUID, *, for_update: bool = False) -> Invoice:
    invoice = await InvoiceRepository(session).get_with_lines(invoice_id, for_update=for_update)
    if invoice is None:
        raise NotFound("Invoice not found.", code="invoice-not-found")
    return invoice


async def create(
    session: AsyncSession,
    ctx: Context,
    *,
    body: InvoiceIn,
    issue: bool,
    stock_kind: str | None = "sale",
    parties: Parties | None = None,
) -> Invoice:
    """A draft, or (`issue`) an issued invoice whose product lines take their stock as a movement of
    `stock_kind` (None: no stock moves; the caller moves it, as a transfer between companies does).
    `parties`: what `load_parties` gave the caller for this body's parties and date in this
    transaction (a counter sale reads them first), so that they are not read twice."""
    dates = DocumentDates.of(ctx)
    invoice_date = body.invoice_date or dates.today
    if parties is None or (parties.company.id, parties.customer.id) != (body.company_id, body.customer_id):
        parties = await load_parties(session, body.company_id, body.customer_id, invoice_date)
    resolved, products = await invoice_stock.resolve(session, body.lines, charges_tax=_charges_tax(parties))
    services = await _services(session, body.lines)
    computed = _compute(_document(body, dates, resolved), parties, services)
    invoice = Invoice(id=new_id(), **_header(body, parties, computed))  # its id names it in the audit rows
    created = audit.snapshot(invoice, AUDITED)  # what a draft of it is (numbered below if issued)
    lines = [InvoiceLine(**line.columns()) for line in computed.lines]
    if issue:
        await entitlements.require(session, ctx, entitlements.Limit.invoices_this_month)  # before the series' row lock
        # the stock first: a refusal leaves the series untouched (and the request writes nothing)
        await invoice_stock.take(session, ctx, invoice, lines, products, kind=stock_kind)
        await _number(session, ctx, invoice, parties)
    invoice.amount_paid = invoice.amount_credited = Decimal("0.00")  # what the INSERT gives it
    entries = [_entry("invoice.created", invoice, before=None, after=created | _written(invoice, draft=True))]
    if issue:
        entries.append(_entry("invoice.issued", invoice, before=entries[0]["after"]))
    # Write: the invoice, its lines, its audit rows and (issued) the customer's balance in one
    # statement; the invoice is the response as computed (nothing is loaded back).
    await InvoiceRepository(session).insert(invoice, lines, audit.rows(session, entries), issued=issue)
    if issue:
        await _event(session, "invoice.issued", invoice)
    return invoice


async def preview(
    session: AsyncSession, ctx: Context, *, body: InvoiceIn
) -> tuple[Parties, invoice_math.ComputedInvoice]:
    """What `create` would compute for `body`, writing nothing (an order's prices and GST)."""
    dates = DocumentDates.of(ctx)
    parties = await load_parties(session, body.company_id, body.customer_id, body.invoice_date or dates.today)
    resolved, _ = await invoice_stock.resolve(session, body.lines, charges_tax=_charges_tax(parties))
    return parties, _compute(_document(body, dates, resolved), parties, await _services(session, body.lines))


async def check(session: AsyncSession, ctx: Context, *, body: InvoiceIn) -> None:
    """What `create` refuses of `body` (its parties inactive or unknown, a line's product, service type
    or rate, the GST rules on its date), refused the same way, writing nothing: a recurring invoice
    checks its content when it is set up."""
    await preview(session, ctx, body=body)


async def replace(session: AsyncSession, ctx: Context, invoice_id: uuid.UUID, *, body: InvoiceIn) -> Invoice:
    dates = DocumentDates.of(ctx)
    invoice_date = body.invoice_date or dates.today
    # first: a bad reference is a 404 in any state
    parties = await load_parties(session, body.company_id, body.customer_id, invoice_date)
    invoice = await get(session, invoice_id, for_update=True)  # an unknown invoice: 404 before any rule on the body
    resolved, _ = await invoice_stock.resolve(session, body.lines, charges_tax=_charges_tax(parties))
    services = await _services(session, body.lines)
    computed = _compute(_document(body, dates, resolved), parties, services)
    _require_draft(invoice)
    before = audit.snapshot(invoice, AUDITED)
    for name, value in _header(body, parties, computed).items():
        setattr(invoice, name, value)
    await session.flush()
    await InvoiceRepository(session).replace_lines(invoice, [InvoiceLine(**line.columns()) for line in computed.lines])
    await _audit(session, "invoice.updated", invoice, before=before)
    return invoice


async def delete(session: AsyncSession, invoice_id: uuid.UUID) -> None:
    invoice = await _draft(session, invoice_id)
    before = audit.snapshot(invoice, AUDITED)
    await InvoiceRepository(session).delete(invoice)
    await audit.record(session, action="invoice.deleted", entity_type="invoice", entity_id=invoice_id, before=before)


async def issue(
    session: AsyncSession, ctx: Context, invoice_id: uuid.UUID, *, stock_kind: str | None = "sale"
) -> Invoice:
    """Number and freeze a draft. It is computed again with its company, customer, GST settings and
    tax rates as they are now, so every rule that depends on them is checked at issue; its products
    too (none archived since), and their stock is taken (`stock_kind`, as in `create`)."""
    invoice = await _draft(session, invoice_id)
    await entitlements.require(session, ctx, entitlements.Limit.invoices_this_month)  # before the series' row lock
    before = audit.snapshot(invoice, AUDITED)
    parties = await load_parties(session, invoice.company_id, invoice.customer_id, invoice.invoice_date)
    products = await invoice_stock.check_draft(session, invoice)
    dates = DocumentDates.of(ctx)
    dates.check("invoice_date", invoice.invoice_date)
    document = invoice_math.InvoiceIn(
        invoice.invoice_date,
        invoice.due_date,
        invoice.place_of_supply,
        invoice.reverse_charge,
        invoice.lines,
        _zero_rating(invoice),  # as the draft chose it: checked again against the parties as they are now
    )
    computed = _compute(document, parties, services=None)  # a draft's lines are resolved already
    for name, value in computed.columns().items():
        if name not in {"invoice_date", "due_date", "place_of_supply", "reverse_charge"}:
            setattr(invoice, name, value)
    for line, figures in zip(invoice.lines, computed.lines, strict=True):
        for name, value in vars(figures.amounts).items():
            setattr(line, name, value)
        line.total = figures.amounts.total
    await invoice_stock.take(session, ctx, invoice, invoice.lines, products, kind=stock_kind)  # before the number
    await _number(session, ctx, invoice, parties)
    await session.flush()
    await CustomerRepository(session).add_to_balance(invoice.customer_id, invoice.total)
    await _audit(session, "invoice.issued", invoice, before=before)
    await _event(session, "invoice.issued", invoice)
    return invoice


async def void(session: AsyncSession, ctx: Context, invoice_id: uuid.UUID, *, reason: str) -> Invoice:
    """Cancel an issued invoice: its number stays taken, the customer no longer owes its total and
    the stock its issue took goes back (app.services.billing.invoice_stock.restore)."""
    invoice = await get(session, invoice_id, for_update=True)
    if invoice.status == InvoiceStatus.draft:
        raise Conflict("A draft has no number to void; delete it instead.", code="invoice-is-draft")
    if invoice.status == InvoiceStatus.void:
        raise Conflict("The invoice is already void.", code="invoice-already-void")
    if invoice.amount_paid > 0 or invoice.amount_credited > 0:
        raise Conflict(
            "Receipts or credit notes are applied to this invoice; release them first.", code="invoice-has-settlements"
        )
    if await StockDocumentRepository(session).invoices_a_transfer(invoice.id):  # its goods have moved
        raise Conflict(
            "This invoice is a stock transfer's; reverse it with a transfer back.", code="invoice-of-stock-transfer"
        )
    before = audit.snapshot(invoice, AUDITED)
    invoice.status, invoice.void_reason, invoice.voided_at = InvoiceStatus.void.value, reason, ctx.now
    await session.flush()
    await invoice_stock.restore(session, ctx, invoice, reason=reason)
    await CustomerRepository(session).add_to_balance(invoice.customer_id, -invoice.total)
    await _audit(session, "invoice.voided", invoice, before=before)
    await events.record(
        session,
        "invoice.voided",
        resource_type="invoice",
        resource_id=invoice.id,
        payload=event_payloads.invoice_voided(invoice),
    )
    # its open payment links are withdrawn (payment_links imports this module: imported here)
    from app.services.commerce import payment_links

    await payment_links.withdraw(session, ctx, invoice.id, reason="the invoice was voided")
    return invoice


async def record_shipping_bill(
    session: AsyncSession, ctx: Context, invoice_id: uuid.UUID, *, body: ShippingBillRequest
) -> Invoice:
    """Record (or correct) an issued export's shipping bill: it often comes after the invoice and
    changes no tax, only the print and the return. Drafts take it in the invoice itself."""
    invoice = await get(session, invoice_id, for_update=True)
    if invoice.status == InvoiceStatus.draft:
        raise Conflict("A draft takes its shipping bill in the invoice itself (PUT).", code="invoice-is-draft")
    if invoice.status == InvoiceStatus.void:
        raise Conflict("The invoice is void.", code="invoice-already-void")
    DocumentDates.of(ctx).check("shipping_bill_date", body.shipping_bill_date)
    port_code = body.port_code or invoice.port_code
    details = zero_rated.ExportDetails(
        invoice.destination_country, port_code, body.shipping_bill_number, body.shipping_bill_date
    )
    _raise(zero_rated.shipping_bill_after_issue, invoice.supply_category, details, invoice.invoice_date)
    before = audit.snapshot(invoice, AUDITED)
    invoice.port_code, invoice.shipping_bill_number = port_code, body.shipping_bill_number
    invoice.shipping_bill_date = body.shipping_bill_date
    await session.flush()
    await _audit(session, "invoice.shipping_bill_recorded", invoice, before=before)
    return invoice


async def _number(session: AsyncSession, ctx: Context, invoice: Invoice, parties: Parties) -> None:
    """Give `invoice` (computed, not yet numbered) its number and freeze its parties."""
    _raise(invoice_math.check_rule_46, parties.customer, invoice.taxable_value)
    series, pattern = _series(invoice, parties.settings)
    invoice.number, invoice.financial_year = await numbering.assign(
        session, company_id=invoice.company_id, document_type=series, day=invoice.invoice_date, pattern=pattern
    )
    invoice.status, invoice.issued_at = InvoiceStatus.issued.value, ctx.now
    invoice.supplier, invoice.recipient = supplier_snapshot(parties.company), recipient_snapshot(parties.customer)


def _series(invoice: Invoice, settings: GstSettings) -> tuple[str, str]:
    """(series, pattern): bills of supply have their own series when the settings give them a pattern."""
    if invoice.document_type == gst.DocumentType.bill_of_supply and settings.bill_of_supply_number_pattern:
        return "bill_of_supply", settings.bill_of_supply_number_pattern
    return "invoice", settings.invoice_number_pattern


async def _draft(session: AsyncSession, invoice_id: uuid.UUID) -> Invoice:
    return _require_draft(await get(session, invoice_id, for_update=True))


def _require_draft(invoice: Invoice) -> Invoice:
    if invoice.status != InvoiceStatus.draft:
        raise Conflict("An issued invoice cannot change; void it or raise a credit note.", code="invoice-not-draft")
    return invoice


async def load_parties(session: AsyncSession, company_id: uuid.UUID, customer_id: uuid.UUID, day: date) -> Parties:
    """Load: the parties (active, company first), the GST settings and the rates in force on `day`."""
    found = await DocumentPartiesRepository(session).load(company_id, customer_id, day)
    company, customer = companies.active(found.company), customers.active(found.customer)
    settings = found.settings if found.settings is not None else await gst_settings.get(session)
    return Parties(company, customer, settings, found.rates_in_force)


def _charges_tax(parties: Parties) -> bool:
    """Whether the invoice's company charges GST (a regular taxpayer); a composition taxpayer or an
    unregistered company issues bills of supply, so its product lines default to 0 %."""
    return gst.registration(parties.company.gstin, parties.settings.registration_type) is gst.Registration.regular


async def _services(session: AsyncSession, lines: list[InvoiceLineIn]) -> dict[uuid.UUID, ServiceType]:
    return await ServiceTypeRepository(session).by_ids({ln.service_type_id for ln in lines if ln.service_type_id})


def _document(body: InvoiceIn, dates: DocumentDates, lines: Sequence[invoice_math.LineIn]) -> invoice_math.InvoiceIn:
    invoice_date = dates.check("invoice_date", body.invoice_date or dates.today)
    if body.shipping_bill_date is not None:  # a customs document's date: within the window a document's is
        dates.check("shipping_bill_date", body.shipping_bill_date)
    return invoice_math.InvoiceIn(
        invoice_date, body.due_date, body.place_of_supply, body.reverse_charge, lines, _zero_rating(body)
    )


def _zero_rating(source: InvoiceIn | Invoice) -> zero_rated.ZeroRatingIn:
    """What a body (or a stored draft) says of its supply's category and export details."""
    details = zero_rated.ExportDetails(
        source.destination_country, source.port_code, source.shipping_bill_number, source.shipping_bill_date
    )
    return zero_rated.ZeroRatingIn(source.supply_category, source.tax_treatment, details)


def _compute(
    document: invoice_math.InvoiceIn, parties: Parties, services: dict[uuid.UUID, ServiceType] | None
) -> invoice_math.ComputedInvoice:
    """Compute: the whole document in one domain call."""
    return _raise(
        invoice_math.compute_invoice,
        document,
        supplier=parties.company,
        recipient=parties.customer,
        settings=parties.settings,
        rates_in_force=parties.rates_in_force,
        services=services,
    )


def _raise(rule: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a domain rule; a broken one becomes the API's problem (400, or 404 for a missing reference)."""
    try:
        return rule(*args, **kwargs)
    except DomainError as exc:
        raise as_problem(exc) from exc


def _header(body: InvoiceIn, parties: Parties, computed: invoice_math.ComputedInvoice) -> dict[str, Any]:
    company, customer = parties.company, parties.customer
    return {
        "company_id": company.id,
        "customer_id": customer.id,
        "notes": body.notes,
        "terms": body.terms if body.terms is not None else company.default_terms,
        "supplier": supplier_snapshot(company),
        "recipient": recipient_snapshot(customer),
        **computed.columns(),
    }


def _written(invoice: Invoice, *, draft: bool) -> dict[str, Any]:
    """The audited columns the INSERT gives an invoice (its defaults), as a draft when `draft`."""
    written = audit.snapshot(invoice, ["amount_paid", "amount_credited"])
    return written | ({"status": "draft", "number": None, "financial_year": None} if draft else {})


def _entry(
    action: str, invoice: Invoice, *, before: dict[str, Any] | None, after: dict[str, Any] | None = None
) -> dict[str, Any]:
    after = after if after is not None else audit.snapshot(invoice, AUDITED)
    return {"action": action, "entity_type": "invoice", "entity_id": invoice.id, "before": before, "after": after}


def supplier_snapshot(company: Company) -> dict[str, Any]:
    fields = [
        "legal_name",
        "trade_name",
        "gstin",
        "pan",
        "state_code",
        "address_line1",
        "address_line2",
        "city",
        "pincode",
        "email",
        "phone",
        "bank_account_name",
        "bank_account_number",
        "ifsc",
        "upi_vpa",
    ]
    return {name: getattr(company, name) for name in fields} | {"state": gst.STATE_CODES[company.state_code]}


def recipient_snapshot(customer: Customer) -> dict[str, Any]:
    fields = [
        "name",
        "gstin",
        "billing_address_line1",
        "billing_address_line2",
        "billing_city",
        "billing_state_code",
        "billing_pincode",
        "shipping_address_line1",
        "shipping_address_line2",
        "shipping_city",
        "shipping_state_code",
        "shipping_pincode",
        "email",
        "phone",
    ]
    return {name: getattr(customer, name) for name in fields} | {"state": gst.STATE_CODES[customer.billing_state_code]}


async def _audit(session: AsyncSession, action: str, invoice: Invoice, *, before: dict[str, Any] | None) -> None:
    await audit.record_many(session, [_entry(action, invoice, before=before)])


async def _event(session: AsyncSession, event_type: str, invoice: Invoice) -> None:
    await events.record(
        session, event_type, resource_type="invoice", resource_id=invoice.id, payload=event_payloads.invoice(invoice)
    )


async def record_paid(
    session: AsyncSession, invoice: Invoice, *, by: str, source_id: uuid.UUID, on: date | None = None
) -> None:
    """`invoice.paid` when `invoice` (as a settling UPDATE returned it) owes nothing any more."""
    if invoice.status == InvoiceStatus.paid:
        await events.record(
            session,
            "invoice.paid",
            resource_type="invoice",
            resource_id=invoice.id,
            payload=event_payloads.invoice_paid(invoice, by=by, source_id=source_id, on=on),
        )
