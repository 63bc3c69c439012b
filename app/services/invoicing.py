"""Invoices: drafts (create, replace, delete), issue (number from the series, frozen from then on)
and void. Every amount is computed here from the lines with app.services.gst; none is accepted
from the client. Each write is audited in the same transaction; a service never commits."""

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Conflict, NotFound
from app.core.runtime import Runtime
from app.domain import gst
from app.models.business import Company, GstSettings, ServiceType
from app.models.customer import Customer
from app.models.invoice import Invoice, InvoiceLine
from app.repositories.customers import CustomerRepository
from app.repositories.invoices import InvoiceRepository
from app.schemas.invoices import InvoiceIn, InvoiceLineIn
from app.services import audit, entitlements, gst_settings, numbering, tax_rates
from app.services import customers as customer_service
from app.services.rules import DocumentDates, RuleViolation

# Rule 46: an unregistered recipient's address must be shown from this taxable value on.
UNREGISTERED_ADDRESS_THRESHOLD = Decimal("50000")
UNIT_PRICE_PLACES = Decimal("0.0001")
AUDITED = [
    "status", "number", "financial_year", "company_id", "customer_id", "invoice_date", "due_date", "place_of_supply",
    "supply_type", "reverse_charge", "document_type", "supplier_registration_type", "taxable_value", "tax_total",
    "round_off", "total", "amount_paid", "amount_credited", "void_reason",
]  # fmt: skip
MONEY_FIELDS = ["taxable_value", "cgst_amount", "sgst_amount", "utgst_amount", "igst_amount", "total"]


@dataclass(frozen=True)
class Clock:
    """Now, and today in India (the date documents default to)."""

    now: datetime
    today: date


@dataclass(frozen=True)
class Context:
    """What composing and issuing an invoice read: its parties (active) and the GST settings."""

    company: Company
    customer: Customer
    settings: GstSettings


async def get(session: AsyncSession, invoice_id: uuid.UUID, *, for_update: bool = False) -> Invoice:
    invoice = await InvoiceRepository(session).get_with_lines(invoice_id, for_update=for_update)
    if invoice is None:
        raise NotFound("Invoice not found.", code="invoice-not-found")
    return invoice


async def create(session: AsyncSession, rt: Runtime, *, body: InvoiceIn, issue: bool, clock: Clock) -> Invoice:
    context = await _context(session, body.company_id, body.customer_id)
    header, lines = await _compose(session, body, _dates(rt, clock), context)
    invoice = Invoice(**header)
    repo = InvoiceRepository(session)
    await repo.add(invoice)
    await repo.add_lines(invoice, lines)
    await _audit(session, "invoice.created", invoice, before=None)
    return await _issue(session, rt, invoice, clock, context) if issue else invoice


async def replace(
    session: AsyncSession, rt: Runtime, invoice_id: uuid.UUID, *, body: InvoiceIn, clock: Clock
) -> Invoice:
    context = await _context(session, body.company_id, body.customer_id)  # first: a bad reference is a 404 in any state
    invoice = await get(session, invoice_id, for_update=True)  # an unknown invoice: 404 before any rule on the body
    header, lines = await _compose(session, body, _dates(rt, clock), context)
    _require_draft(invoice)
    before = audit.snapshot(invoice, AUDITED)
    for name, value in header.items():
        setattr(invoice, name, value)
    await session.flush()
    await InvoiceRepository(session).replace_lines(invoice, lines)
    await _audit(session, "invoice.updated", invoice, before=before)
    return invoice


async def delete(session: AsyncSession, invoice_id: uuid.UUID) -> None:
    invoice = await _draft(session, invoice_id)
    before = audit.snapshot(invoice, AUDITED)
    await InvoiceRepository(session).delete(invoice)
    await audit.record(session, action="invoice.deleted", entity_type="invoice", entity_id=invoice_id, before=before)


async def issue(session: AsyncSession, rt: Runtime, invoice_id: uuid.UUID, *, clock: Clock) -> Invoice:
    return await _issue(session, rt, await _draft(session, invoice_id), clock)


async def void(session: AsyncSession, invoice_id: uuid.UUID, *, reason: str, clock: Clock) -> Invoice:
    """Cancel an issued invoice: its number stays taken, the customer no longer owes its total."""
    invoice = await get(session, invoice_id, for_update=True)
    if invoice.status == "draft":
        raise Conflict("A draft has no number to void; delete it instead.", code="invoice-is-draft")
    if invoice.status == "void":
        raise Conflict("The invoice is already void.", code="invoice-already-void")
    if invoice.amount_paid > 0 or invoice.amount_credited > 0:
        raise Conflict(
            "Receipts or credit notes are applied to this invoice; release them first.", code="invoice-has-settlements"
        )
    before = audit.snapshot(invoice, AUDITED)
    invoice.status, invoice.void_reason, invoice.voided_at = "void", reason, clock.now
    await session.flush()
    await CustomerRepository(session).add_to_balance(invoice.customer_id, -invoice.total)
    await _audit(session, "invoice.voided", invoice, before=before)
    return invoice


async def _issue(
    session: AsyncSession, rt: Runtime, invoice: Invoice, clock: Clock, context: Context | None = None
) -> Invoice:
    """Number and freeze `invoice`. `context` is what a create in the same transaction has just
    composed the invoice with; a draft issued later is composed again with its company, customer
    and GST settings as they are now, so every rule that depends on them is checked at issue."""
    await entitlements.require(session, rt, entitlements.Limit.invoices_this_month)  # before the series' row lock
    before = audit.snapshot(invoice, AUDITED)
    if context is None:
        context = await _context(session, invoice.company_id, invoice.customer_id)
        await _recompose(session, invoice, _dates(rt, clock), context)
    _check_rule_46(context.customer, invoice.taxable_value)
    series, pattern = _series(invoice, context.settings)
    invoice.number, invoice.financial_year = await numbering.assign(
        session, company_id=invoice.company_id, document_type=series, day=invoice.invoice_date, pattern=pattern
    )
    invoice.status, invoice.issued_at = "issued", clock.now
    invoice.supplier, invoice.recipient = supplier_snapshot(context.company), recipient_snapshot(context.customer)
    await session.flush()
    await CustomerRepository(session).add_to_balance(invoice.customer_id, invoice.total)
    await _audit(session, "invoice.issued", invoice, before=before)
    return invoice


async def _recompose(session: AsyncSession, invoice: Invoice, dates: DocumentDates, context: Context) -> None:
    """The draft's amounts, supply type and document type computed again from its lines, with the
    rules of today: the date window, the supplier's registration (composition or no GSTIN: no tax),
    the rates in force, the company's state and the round-off setting."""
    company, customer, settings = context.company, context.customer, context.settings
    dates.check("invoice_date", invoice.invoice_date)
    supplier = gst.registration(company.gstin, settings.registration_type)
    supply = gst.supply_type(company.state_code, invoice.place_of_supply, sez=customer.is_sez)
    rates_checked: set[Decimal] = set()
    for line in invoice.lines:
        field = f"lines.{line.position - 1}.gst_rate"
        await _check_rate(session, line.gst_rate, invoice.invoice_date, supplier, field, rates_checked)
        amounts = gst.line_tax(line.taxable_value, line.gst_rate, supply, invoice.place_of_supply)
        for name, value in vars(amounts).items():
            setattr(line, name, value)
        line.total = amounts.total
    totals = gst.document_totals(
        [_amounts(line) for line in invoice.lines],
        round_to_rupee=settings.round_off_enabled,
        reverse_charge=invoice.reverse_charge,
    )
    for name, value in vars(totals).items():
        setattr(invoice, name, value)
    invoice.supply_type = supply.value
    invoice.supplier_registration_type = supplier.value
    invoice.document_type = _document_type(
        supplier, [ln.gst_rate for ln in invoice.lines], invoice.place_of_supply, customer
    ).value


def _document_type(
    supplier: gst.Registration, rates: list[Decimal], place: str, customer: Customer
) -> gst.DocumentType:
    zero_rated = customer.is_sez or place == gst.EXPORT_PLACE_OF_SUPPLY  # exports and SEZ supplies
    return gst.document_type(supplier, rates, zero_rated=zero_rated, recipient_registered=customer.gstin is not None)


def _series(invoice: Invoice, settings: GstSettings) -> tuple[str, str]:
    """(series, pattern): bills of supply have their own series when the settings give them a pattern."""
    if invoice.document_type == gst.DocumentType.bill_of_supply and settings.bill_of_supply_number_pattern:
        return "bill_of_supply", settings.bill_of_supply_number_pattern
    return "invoice", settings.invoice_number_pattern


def _dates(rt: Runtime, clock: Clock) -> DocumentDates:
    return DocumentDates(clock.today, rt.settings.document_future_days)


async def _draft(session: AsyncSession, invoice_id: uuid.UUID) -> Invoice:
    return _require_draft(await get(session, invoice_id, for_update=True))


def _require_draft(invoice: Invoice) -> Invoice:
    if invoice.status != "draft":
        raise Conflict("An issued invoice cannot change; void it or raise a credit note.", code="invoice-not-draft")
    return invoice


async def _context(session: AsyncSession, company_id: uuid.UUID, customer_id: uuid.UUID) -> Context:
    return Context(
        await active_company(session, company_id),
        await active_customer(session, customer_id),
        await gst_settings.get(session),
    )


async def _compose(
    session: AsyncSession, body: InvoiceIn, dates: DocumentDates, context: Context
) -> tuple[dict[str, Any], list[InvoiceLine]]:
    """The invoice's header columns and its lines, every amount computed, defaults applied."""
    company, customer, settings = context.company, context.customer, context.settings
    invoice_date = dates.check("invoice_date", body.invoice_date or dates.today)
    supplier = gst.registration(company.gstin, settings.registration_type)
    due_date = body.due_date or invoice_date + timedelta(days=_terms_days(customer, settings))
    if due_date < invoice_date:
        raise RuleViolation("due_date", "The due date is before the invoice date.", code="due-before-invoice-date")
    place = body.place_of_supply or customer.billing_state_code
    supply = gst.supply_type(company.state_code, place, sez=customer.is_sez)
    services = await InvoiceRepository(session).service_types({ln.service_type_id for ln in body.lines} - {None})
    rates_checked: set[Decimal] = set()  # each distinct rate is looked up once, not once per line
    lines = [
        await _line(session, position, line, services, supply, place, invoice_date, supplier, rates_checked)
        for position, line in enumerate(body.lines, start=1)
    ]
    amounts = [_amounts(line) for line in lines]
    totals = gst.document_totals(amounts, round_to_rupee=settings.round_off_enabled, reverse_charge=body.reverse_charge)
    header = {
        "company_id": company.id,
        "customer_id": customer.id,
        "invoice_date": invoice_date,
        "due_date": due_date,
        "place_of_supply": place,
        "supply_type": supply.value,
        "reverse_charge": body.reverse_charge,
        "document_type": _document_type(supplier, [ln.gst_rate for ln in lines], place, customer).value,
        "supplier_registration_type": supplier.value,
        "notes": body.notes,
        "terms": body.terms if body.terms is not None else company.default_terms,
        "supplier": supplier_snapshot(company),
        "recipient": recipient_snapshot(customer),
        **vars(totals),
    }
    return header, lines


async def _line(
    session: AsyncSession,
    position: int,
    line: InvoiceLineIn,
    services: dict[uuid.UUID, ServiceType],
    supply: gst.SupplyType,
    place: str,
    invoice_date: date,
    supplier: gst.Registration,
    rates_checked: set[Decimal],
) -> InvoiceLine:
    field = f"lines.{position - 1}"
    service = _service(line, services, field)
    # At the column's scale (4 places) whether sent or a service type's 2-place default, so the
    # create response shows what a later read does ("1500.0000", not "1500.00").
    unit_price = _default(line.unit_price, service and service.default_rate, f"{field}.unit_price").quantize(
        UNIT_PRICE_PLACES
    )
    gst_rate = _default(line.gst_rate, service and service.default_gst_rate, f"{field}.gst_rate")
    await _check_rate(session, gst_rate, invoice_date, supplier, f"{field}.gst_rate", rates_checked)
    if line.discount > line.quantity * unit_price:
        raise RuleViolation(f"{field}.discount", "The discount exceeds the line's value.", code="discount-too-large")
    amounts = gst.line_tax(gst.taxable_value(line.quantity, unit_price, line.discount), gst_rate, supply, place)
    return InvoiceLine(
        position=position,
        service_type_id=line.service_type_id,
        description=line.description or (service.name if service else None) or "",
        hsn_sac=line.hsn_sac or (service.sac_hsn_code if service else None),
        quantity=line.quantity,
        unit=line.unit or (service.unit if service else None),
        unit_price=unit_price,
        discount=line.discount,
        gst_rate=gst_rate,
        **vars(amounts),
        total=amounts.total,
    )


def _service(line: InvoiceLineIn, services: dict[uuid.UUID, ServiceType], field: str) -> ServiceType | None:
    if line.service_type_id is None:
        if line.description is None:
            raise RuleViolation(f"{field}.description", "A line needs a description or a service type.",
                                code="description-required")  # fmt: skip
        return None
    service = services.get(line.service_type_id)
    if service is None:
        raise NotFound("No service type with this id.", code="service-type-not-found")
    if not service.is_active:
        raise RuleViolation(f"{field}.service_type_id", "The service type is inactive.", code="service-type-inactive")
    return service


def _default(value: Decimal | None, fallback: Decimal | None, field: str) -> Decimal:
    if value is not None:
        return value
    if fallback is None:
        name = field.rsplit(".", 1)[-1]
        raise RuleViolation(
            field, f"A line without a service type needs {name}.", code=f"{name.replace('_', '-')}-required"
        )
    return fallback


async def _check_rate(
    session: AsyncSession, rate: Decimal, day: date, supplier: gst.Registration, field: str, checked: set[Decimal]
) -> None:
    if supplier is gst.Registration.composition and rate != 0:
        raise RuleViolation(field, "A composition taxpayer cannot charge GST (bill of supply).",
                            code="composition-no-tax")  # fmt: skip
    if supplier is gst.Registration.unregistered and rate != 0:
        raise RuleViolation(field, "A company without a GSTIN is not registered and cannot charge GST (s.32): "
                            "its documents are bills of supply.", code="unregistered-no-tax")  # fmt: skip
    if rate in checked:  # every line of a document has the same date
        return
    if not await tax_rates.is_in_force(session, rate, day):
        raise RuleViolation(field, f"{rate}% is not one of your tax rates in force on {day}.",
                            code="gst-rate-not-in-force")  # fmt: skip
    checked.add(rate)


def _amounts(line: InvoiceLine) -> gst.LineAmounts:
    return gst.LineAmounts(line.taxable_value, line.cgst_amount, line.sgst_amount, line.utgst_amount, line.igst_amount)


def _terms_days(customer: Customer, settings: GstSettings) -> int:
    return customer.payment_terms_days if customer.payment_terms_days is not None else settings.default_due_days


def _check_rule_46(customer: Customer, taxable: Decimal) -> None:
    if customer.gstin is None and taxable >= UNREGISTERED_ADDRESS_THRESHOLD and not customer.billing_address_line1:
        raise RuleViolation(
            "customer_id",
            "Rule 46: an unregistered customer billed ₹50,000 or more needs a billing address.",
            code="recipient-address-required",
        )


async def active_company(session: AsyncSession, company_id: uuid.UUID) -> Company:
    """The company, if it exists in this tenant (else 404) and is not archived (else 400)."""
    company = await InvoiceRepository(session).company(company_id)
    if company is None:
        raise NotFound("No company with this id.", code="company-not-found")
    if company.is_archived:
        raise RuleViolation("company_id", "The company is archived.", code="company-archived")
    return company


async def active_customer(session: AsyncSession, customer_id: uuid.UUID) -> Customer:
    """The customer, if it exists in this tenant (else 404) and is not archived (else 400)."""
    customer = await customer_service.get(session, customer_id)
    if customer.is_archived:
        raise RuleViolation("customer_id", "The customer is archived.", code="customer-archived")
    return customer


def supplier_snapshot(company: Company) -> dict[str, Any]:
    fields = ["legal_name", "trade_name", "gstin", "pan", "state_code", "address_line1", "address_line2", "city",
              "pincode", "email", "phone", "bank_account_name", "bank_account_number", "ifsc", "upi_vpa"]  # fmt: skip
    return {name: getattr(company, name) for name in fields} | {"state": gst.STATE_CODES[company.state_code]}


def recipient_snapshot(customer: Customer) -> dict[str, Any]:
    fields = ["name", "gstin", "billing_address_line1", "billing_address_line2", "billing_city", "billing_state_code",
              "billing_pincode", "shipping_address_line1", "shipping_address_line2", "shipping_city",
              "shipping_state_code", "shipping_pincode", "email", "phone"]  # fmt: skip
    return {name: getattr(customer, name) for name in fields} | {"state": gst.STATE_CODES[customer.billing_state_code]}


async def _audit(session: AsyncSession, action: str, invoice: Invoice, *, before: dict | None) -> None:
    after = audit.snapshot(invoice, AUDITED)
    await audit.record(session, action=action, entity_type="invoice", entity_id=invoice.id, before=before, after=after)
