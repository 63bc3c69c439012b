"""Stock transfers between two companies of the tenant, with the paperwork GST asks of each.

A company here is one GSTIN (one registration, a place of business of its own) or, without a
GSTIN, an unregistered place of business. The rules (CGST Act 2017, IGST Act 2017, CGST Rules 2017):

- Between two registrations (both companies have a GSTIN: one PAN registered in two states, or two
  registrations in one state, or two PANs of one business): each registration is a distinct person
  (CGST Act s.25(4); establishments in different states, s.25(5)), and Schedule I para 2 makes a
  supply between distinct (or related) persons in the course or furtherance of business a supply
  even without consideration (s.7(1)(c)). So the source issues a tax invoice (s.31) to the
  destination, issued here through the invoicing service (app.services.billing.invoicing): the destination
  is its customer (the source's customer with the destination's GSTIN, or one made from the
  destination company's details), its lines name the products, tax is CGST + SGST within a state
  (IGST Act s.8) and IGST across states (IGST Act s.7), as for any invoice. The value of each unit is
  the `unit_value` sent, else the product's purchase cost: CGST Rules, rule 28, second proviso,
  "where the recipient is eligible for full input tax credit, the value declared in the invoice
  shall be deemed to be the open market value"; with neither, the transfer is refused (422
  `transfer-value-required`): we do not guess a value the law makes the declared one.
- Between two unregistered companies (no GSTIN on either): one person moving its own goods between
  its places of business, which is no supply (there are no distinct persons without registrations);
  no invoice is issued and the stock document is the delivery challan of the movement (CGST Rules,
  rule 55(1)(c): transport "for reasons other than by way of supply"). When both carry a PAN and the
  PANs differ they are two persons, and goods passing between them are a sale: refused (422
  `transfer-between-persons`; invoice it instead).
- Exactly one registered: refused (422 `transfer-registration-mismatch`). A registered person's
  goods going to an unregistered place of business are either a supply to another person (an
  invoice to a customer, not a transfer) or go to a place of business that must be on a
  registration (s.22, s.25(1)): add it to the registered company, or register it, first. From an
  unregistered place to a registered one, the same question, the other way round. We cannot tell
  which, so we do not paper it wrongly.
- Same company: 422 `transfer-same-company`.

All or nothing, in the request's one transaction: `transfer_out` at the source through
app.services.catalog.stock.take (409 `insufficient-stock` naming each short line, nothing written, no
invoice number used) and `transfer_in` at the destination through stock.put, both naming the
stock document (kind `transfer`). The invoice moves no stock itself (`stock_kind=None`), and it
cannot be voided (409 `invoice-of-stock-transfer`): its stock has moved; a transfer back, with its
own invoice, reverses it. Goods worth more than ₹50,000 also need an e-way bill (CGST Rules, rule
138), which is not generated here.
"""

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.context import Context
from app.core.errors import Conflict, NotFound, RuleViolation
from app.domain import stock_transfers as rules
from app.domain.errors import DomainError, RuleBroken
from app.domain.gst import STATE_CODES
from app.domain.uqc import check_quantity
from app.models.billing.business import Company
from app.models.billing.customer import Customer
from app.models.billing.invoice import Invoice
from app.models.catalog.product import Product
from app.models.catalog.stock import StockDocument, StockMovement
from app.repositories.billing.companies import CompanyRepository
from app.repositories.billing.customers import CustomerRepository
from app.repositories.catalog.stock import StockDocumentRepository
from app.schemas.billing.invoices import InvoiceIn
from app.schemas.catalog.stock_transfers import StockTransferIn
from app.services.billing import customers, invoicing
from app.services.billing.rules import DocumentDates, as_problem
from app.services.catalog import products, stock
from app.services.platform import audit

DOCUMENT_TYPE = "stock_document"  # what the movements name as their document
T = TypeVar("T")


@dataclass(frozen=True)
class TransferLine:
    position: int
    product: Product
    quantity: Decimal
    unit_value: Decimal | None
    on_hand_from: Decimal | None
    on_hand_to: Decimal | None


@dataclass(frozen=True)
class Transfer:
    document: StockDocument
    lines: list[TransferLine]
    invoice: Invoice | None

    @property
    def paperwork(self) -> rules.Paperwork:
        return rules.Paperwork.tax_invoice if self.invoice is not None else rules.Paperwork.delivery_challan


async def create(session: AsyncSession, ctx: Context, *, body: StockTransferIn) -> Transfer:
    source = await _company(session, body.from_company_id, "from_company_id")  # an unknown id: 404 first
    destination = await _company(session, body.to_company_id, "to_company_id")
    kind = _raise(rules.paperwork, _place(source), _place(destination))  # the same company twice included
    day = DocumentDates.of(ctx).check("document_date", body.document_date or ctx.today)
    found = await products.get_many(session, {line.product_id for line in body.lines})
    _check_products(body, found)
    values = _raise(
        rules.unit_values,
        [rules.LineValue(line.unit_value, found[line.product_id].purchase_cost) for line in body.lines],
        kind,
    )

    document = await StockDocumentRepository(session).add(
        StockDocument(
            kind="transfer",
            company_id=source.id,
            to_company_id=destination.id,
            document_date=day,
            notes=body.notes,
            actor_user_id=ctx.actor_id,
        )
    )
    ref = stock.DocumentRef(DOCUMENT_TYPE, document.id)
    lines = [
        stock.StockLine(line.product_id, line.quantity, position=position, unit_cost=value)
        for position, (line, value) in enumerate(zip(body.lines, values, strict=True), start=1)
    ]
    taken, put = await _move(session, ctx, source.id, destination.id, lines, ref)
    invoice = None
    if kind == rules.Paperwork.tax_invoice:
        recipient = await _recipient(session, ctx, destination)
        invoice_body = _invoice_body(body, source, recipient, destination, found, values, day)
        invoice = await invoicing.create(session, ctx, body=invoice_body, issue=True, stock_kind=None)
        document.invoice_id = invoice.id
        await session.flush()
    after_from, after_to = _after(taken), _after(put)
    result = Transfer(
        document,
        [
            TransferLine(
                position,
                found[line.product_id],
                line.quantity,
                value,
                after_from.get(line.product_id),
                after_to.get(line.product_id),
            )
            for position, (line, value) in enumerate(zip(body.lines, values, strict=True), start=1)
        ],
        invoice,
    )
    await _audit(session, result)
    return result


async def _move(
    session: AsyncSession,
    ctx: Context,
    source_id: uuid.UUID,
    destination_id: uuid.UUID,
    lines: list[stock.StockLine],
    ref: stock.DocumentRef,
) -> tuple[list[StockMovement], list[StockMovement]]:
    """(out, in): the levels are changed (so locked) company by company in id order, and each
    company's in product order by the ledger, so two transfers the opposite ways never deadlock.
    When the destination comes first and the source is short, the whole request is undone anyway."""

    async def take() -> list[StockMovement]:
        return await stock.take(session, ctx, company_id=source_id, lines=lines, kind="transfer_out", document=ref)

    async def put() -> list[StockMovement]:
        return await stock.put(session, ctx, company_id=destination_id, lines=lines, kind="transfer_in", document=ref)

    if source_id < destination_id:
        taken = await take()
        return taken, await put()
    into = await put()
    return await take(), into


def _raise(rule: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a domain rule; a broken one becomes the API's problem (422 for these rules)."""
    try:
        return rule(*args, **kwargs)
    except DomainError as exc:
        raise as_problem(exc) from exc


def _place(company: Company) -> rules.Place:
    return rules.Place(company.id, company.trade_name or company.legal_name, company.gstin, company.pan)


async def _company(session: AsyncSession, company_id: uuid.UUID, field: str) -> Company:
    company = await CompanyRepository(session).get(company_id)
    if company is None:
        raise NotFound("No company with this id.", code="company-not-found", errors=_errors(field))
    if company.is_archived:
        raise RuleViolation(field, "The company is archived.", code="company-archived")
    return company


def _errors(field: str) -> list[dict[str, Any]]:
    return [{"loc": ["body", field], "msg": "No company with this id.", "type": "company-not-found"}]


def _check_products(body: StockTransferIn, found: dict[uuid.UUID, Product]) -> None:
    for position, line in enumerate(body.lines, start=1):
        product, field = found[line.product_id], f"lines.{position - 1}"
        if product.is_archived:
            raise Conflict(f"Line {position}: {product.name} is archived.", code="product-archived")
        _raise(rules.check_tracked, f"{field}.product_id", product.name, product.track_stock)
        _raise(check_quantity, product.unit, line.quantity, field=f"{field}.quantity")


def _after(movements: Sequence[StockMovement]) -> dict[uuid.UUID, Decimal]:
    return {movement.product_id: movement.on_hand_after for movement in movements}


async def _recipient(session: AsyncSession, ctx: Context, destination: Company) -> Customer:
    """The source's customer for the destination: the oldest active customer with its GSTIN, else
    a new one made from the company's details. Such a customer (the tenant's own registration) is
    not counted against the plan's customer limit (app.repositories.platform.subscriptions), takes no
    payment reminders and has no email of its own."""
    assert destination.gstin is not None
    existing = await CustomerRepository(session).first_with_gstin(destination.gstin)
    if existing is not None:
        return existing
    values = {
        "name": destination.legal_name,
        "gstin": destination.gstin,
        "billing_address_line1": destination.address_line1,
        "billing_address_line2": destination.address_line2,
        "billing_city": destination.city,
        "billing_pincode": destination.pincode,
        "payment_reminders": False,
    }
    return await customers.create(session, ctx, values=values)


def _invoice_body(
    body: StockTransferIn,
    source: Company,
    recipient: Customer,
    destination: Company,
    found: dict[uuid.UUID, Product],
    values: list[Decimal | None],
    day: date,
) -> InvoiceIn:
    lines = []
    for line, value in zip(body.lines, values, strict=True):
        product = found[line.product_id]
        # the product gives the line its name, HSN code, unit and GST rate; the price is the transfer's value
        lines.append({"product_id": str(product.id), "quantity": f"{line.quantity:f}", "unit_price": f"{value:f}"})
    state = STATE_CODES.get(destination.state_code, destination.state_code)
    note = f"Stock transfer to {destination.trade_name or destination.legal_name}, GSTIN {destination.gstin} ({state})."
    try:
        return InvoiceIn.model_validate(
            {
                "company_id": str(source.id),
                "customer_id": str(recipient.id),
                "invoice_date": day.isoformat(),
                "lines": lines,
                "notes": f"{note}\n{body.notes}" if body.notes else note,
            }
        )
    except ValidationError as exc:  # a product's stored figures outside what an invoice line takes
        where = exc.errors()[0]["loc"]
        position = int(where[1]) + 1 if len(where) > 1 and where[0] == "lines" else 1
        message = f"Line {position} cannot be invoiced as it stands ({exc.errors()[0]['msg']})."
        raise as_problem(RuleBroken(f"lines.{position - 1}", message, code="transfer-value-required")) from exc


async def _audit(session: AsyncSession, transfer: Transfer) -> None:
    document = transfer.document
    after = {
        "kind": "transfer",
        "company_id": str(document.company_id),
        "to_company_id": str(document.to_company_id),
        "document_date": document.document_date.isoformat(),
        "invoice_id": str(document.invoice_id) if document.invoice_id else None,
        "paperwork": transfer.paperwork,
        "lines": [
            {
                "product_id": str(line.product.id),
                "quantity": f"{line.quantity:f}",
                "unit_value": f"{line.unit_value:f}" if line.unit_value is not None else None,
            }
            for line in transfer.lines
        ],
    }
    await audit.record(
        session, action="stock_transfer.created", entity_type="stock_document", entity_id=document.id, after=after
    )
