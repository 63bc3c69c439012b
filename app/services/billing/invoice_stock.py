"""Invoices and credit notes that sell products: their lines' defaults from the catalogue, and the
stock they move (through app.services.catalog.stock, in the request's transaction).

- A draft (create, replace) loads the products its lines name in one query; an unknown or another
  tenant's product is a 404 `product-not-found`, an archived one a 409 `product-archived`. Drafts
  take no stock.
- Issue takes the stock: one `sale` movement per product line (lines of one product are merged by
  the ledger) at the invoice's company, before the number is assigned; all or nothing (409
  `insufficient-stock` naming each short line; the request then writes nothing, number included).
  A product archived since the draft was made is a 409 `product-archived` at issue. Products that
  do not track stock never move.
- Void gives back exactly what issue took: the invoice's own `sale` movements, reversed
  (`sale_reversal`). An invoice with a credit note cannot be voided (invoice-has-settlements), so
  nothing of it was returned to stock before the void.
- A credit note with `restock` returns its credited quantities of the product lines (`return`),
  only for the products the invoice's issue took stock of (a note none of whose goods were taken
  from stock is 400 `restock-without-goods`); credit notes never credit more units of a line than
  it sold (line-quantity-exceeded), so never more than was sold is returned.
"""

import uuid
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.context import Context
from app.core.errors import Conflict, RuleViolation
from app.domain import product_lines
from app.domain.errors import DomainError
from app.domain.product_lines import ProductLine
from app.models.billing.invoice import Invoice
from app.models.catalog.product import Product
from app.repositories.catalog.stock import StockMovementRepository
from app.schemas.billing.invoices import InvoiceLineIn
from app.services.billing.rules import as_problem
from app.services.catalog import products, stock
from app.services.catalog.stock import DocumentRef, StockLine

Products = dict[uuid.UUID, Product]


class ProductLineLike(Protocol):
    @property
    def position(self) -> int: ...
    @property
    def product_id(self) -> uuid.UUID | None: ...
    @property
    def quantity(self) -> Decimal: ...


async def resolve(
    session: AsyncSession, lines: list[InvoiceLineIn], *, charges_tax: bool = True
) -> tuple[list[InvoiceLineIn | ProductLine], Products]:
    """The lines with their products' defaults applied, and the products (one query; none when no
    line names one). `charges_tax` false (a composition or unregistered supplier): a product line's
    rate defaults to 0, not the product's."""
    ids = {line.product_id for line in lines if line.product_id is not None}
    if not ids:
        return list(lines), {}
    found = await products.get_many(session, ids)
    _refuse_archived(found, ((n, line.product_id) for n, line in enumerate(lines, start=1)))
    resolved: list[InvoiceLineIn | ProductLine] = []
    for index, line in enumerate(lines):
        if line.product_id is None:
            resolved.append(line)
            continue
        try:
            product = found[line.product_id]
            resolved.append(product_lines.resolve(line, product, f"lines.{index}", charges_tax=charges_tax))
        except DomainError as exc:
            raise as_problem(exc) from exc
    return resolved, found


async def check_draft(session: AsyncSession, invoice: Invoice) -> Products:
    """At issue: the draft's products as they are now, none archived since. (Their units cannot have
    changed: the catalogue refuses a new unit once an invoice line names the product, so the draft's
    quantities still fit them.)"""
    ids = {line.product_id for line in invoice.lines if line.product_id is not None}
    if not ids:
        return {}
    found = await products.get_many(session, ids)
    _refuse_archived(found, ((line.position, line.product_id) for line in invoice.lines))
    return found


async def take(
    session: AsyncSession,
    ctx: Context,
    invoice: Invoice,
    lines: Iterable[ProductLineLike],
    found: Products,
    *,
    kind: str | None,
) -> None:
    """Issue: take the stock of the product lines that track it (`kind` None: move nothing)."""
    if kind is None:
        return
    stock_lines = [
        StockLine(product_id=line.product_id, quantity=line.quantity, position=line.position)
        for line in lines
        if line.product_id is not None and found[line.product_id].track_stock
    ]
    if stock_lines:
        await stock.take(
            session,
            ctx,
            company_id=invoice.company_id,
            lines=stock_lines,
            kind=kind,
            document=DocumentRef("invoice", invoice.id),
            loaded=found,
        )


async def restore(session: AsyncSession, ctx: Context, invoice: Invoice, *, reason: str) -> None:
    """Void: reverse the invoice's own `sale` movements (what its issue took, whatever the products
    say now)."""
    if not any(line.product_id is not None for line in invoice.lines):
        return
    sold = await _sold(session, invoice)
    if sold:
        await stock.put(
            session,
            ctx,
            company_id=invoice.company_id,
            lines=[
                StockLine(product_id=product_id, quantity=quantity) for product_id, quantity in sorted(sold.items())
            ],
            kind="sale_reversal",
            document=DocumentRef("invoice", invoice.id),
            reason=reason,
            untracked_too=True,  # a product untracked since gets back what its issue took all the same
        )


async def return_goods(
    session: AsyncSession, ctx: Context, invoice: Invoice, credit_note_id: uuid.UUID, lines: Sequence[StockLine]
) -> None:
    """A credit note with restock: its credited units of the products the invoice's issue took
    stock of go back to the invoice's company (`return`)."""
    sold = await _sold(session, invoice)
    returned = [line for line in lines if line.product_id in sold]
    if not returned:  # `restock: true` on the note would say goods came back when none can
        raise RuleViolation(
            "restock",
            "None of these goods was taken from stock when the invoice was issued (their products did not "
            "track stock, or the invoice is a stock transfer's): there is nothing to restock.",
            code="restock-without-goods",
        )
    await stock.put(
        session,
        ctx,
        company_id=invoice.company_id,
        lines=returned,
        kind="return",
        document=DocumentRef("credit_note", credit_note_id),
        untracked_too=True,
    )


async def _sold(session: AsyncSession, invoice: Invoice) -> dict[uuid.UUID, Decimal]:
    """product_id -> the units the invoice's issue took (its `sale` movements, unsigned)."""
    sold: dict[uuid.UUID, Decimal] = {}
    for movement, _ in await StockMovementRepository(session).of_document("invoice", invoice.id):
        if movement.kind == "sale":
            sold[movement.product_id] = sold.get(movement.product_id, Decimal(0)) - movement.on_hand_change
    return sold


def _refuse_archived(found: Products, lines: Iterable[tuple[int, uuid.UUID | None]]) -> None:
    archived = [
        {"position": position, "product_id": str(product_id)}
        for position, product_id in lines
        if product_id is not None and found[product_id].is_archived
    ]
    if archived:
        positions = ", ".join(str(line["position"]) for line in archived)
        raise Conflict(
            f"The product of line {positions} is archived: it is no longer sold.",
            code="product-archived",
            lines=archived,
        )
