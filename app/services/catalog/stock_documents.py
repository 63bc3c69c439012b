"""Stock documents: goods received from a supplier (`receipt`) and count corrections
(`adjustment`). Each is one row of stock_documents whose lines are the movements the ledger
(app.services.catalog.stock) wrote for it, in the same transaction; each is audited.

- A receipt puts its lines' quantities into the company's stock. When it is dated today, a line's
  unit cost becomes the product's `purchase_cost` (the latest purchase price, what the counter and
  the margin reports read); a back-dated receipt (entering old bills) leaves the cost as it is.
- An adjustment gives, per product, either the physical count (`counted`: the change is the
  difference with what is on hand, read under the level's row lock, so a sale between the count
  being typed and saved is not lost; a count equal to the stock moves nothing) or a signed
  `change`. Decreases go through the ledger's guarded take: a count or change that would leave less
  than is reserved (or less than zero) is 409 `insufficient-stock` unless negative stock is allowed.
- Both are dated today (India) by default, never in the future; lines must name products that track
  stock (400 `product-not-tracked`); an adjustment names each product once (400 `duplicate-product-line`).
"""

import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.context import Context
from app.core.errors import NotFound, RuleViolation
from app.domain import uqc
from app.domain.errors import DomainError
from app.domain.fiscal import GST_START, INDIA
from app.domain.gst import InvalidGstin, normalize_gstin
from app.models.catalog.product import Product
from app.models.catalog.stock import StockDocument, StockMovement
from app.repositories.catalog.inventory_settings import InventorySettingsRepository
from app.repositories.catalog.stock import DocumentFilters, StockDocumentRepository, StockMovementRepository
from app.schemas.catalog.stock import (
    CountedLine,
    DocumentLineRead,
    StockAdjustmentCreate,
    StockDocumentRead,
    StockReceiptCreate,
)
from app.services.billing import companies
from app.services.billing.rules import as_problem
from app.services.catalog import products, stock
from app.services.catalog.stock import DocumentRef, StockLine
from app.services.platform import audit

DOCUMENT_TYPE = "stock_document"
AUDITED = [
    "kind",
    "company_id",
    "to_company_id",
    "document_date",
    "supplier_name",
    "supplier_gstin",
    "supplier_reference",
    "reason",
    "notes",
    "invoice_id",
]


def ref(document: StockDocument) -> DocumentRef:
    return DocumentRef(DOCUMENT_TYPE, document.id)


async def receive(session: AsyncSession, ctx: Context, *, body: StockReceiptCreate) -> StockDocumentRead:
    await companies.get_active(session, body.company_id)
    found = await products.get_many(session, {line.product_id for line in body.lines})
    _check_tracked(body.lines, found)
    day = document_day(ctx, body.document_date)
    gstin = _supplier_gstin(body.supplier_gstin)
    document = await StockDocumentRepository(session).add(
        StockDocument(
            kind="receipt",
            company_id=body.company_id,
            document_date=day,
            supplier_name=body.supplier_name,
            supplier_gstin=gstin,
            supplier_reference=body.supplier_reference,
            notes=body.notes,
            actor_user_id=ctx.actor_id,
        )
    )
    lines = [StockLine(line.product_id, line.quantity, i, line.unit_cost) for i, line in enumerate(body.lines)]
    movements = await stock.put(
        session, ctx, company_id=body.company_id, lines=lines, kind="receipt", document=ref(document)
    )
    costs = await _update_costs(session, movements, found) if day == ctx.today else []
    await _audit(session, "stock_receipt.created", document, movements, purchase_costs=costs)
    return await read(session, document.id)


async def adjust(session: AsyncSession, ctx: Context, *, body: StockAdjustmentCreate) -> StockDocumentRead:
    await companies.get_active(session, body.company_id)
    found = await products.get_many(session, {line.product_id for line in body.lines})
    _check_tracked(body.lines, found)
    if body.reason == "other" and not body.notes:
        raise RuleViolation("notes", "Say what happened when the reason is `other`.", code="notes-required")
    seen: set[uuid.UUID] = set()
    for i, line in enumerate(body.lines):
        if line.product_id in seen:
            raise RuleViolation(
                f"lines.{i}.product_id", "Each product can appear once in an adjustment.", code="duplicate-product-line"
            )
        seen.add(line.product_id)
        field, quantity = ("counted", line.counted) if isinstance(line, CountedLine) else ("change", line.change)
        try:
            uqc.check_precision(found[line.product_id].unit, quantity, field=f"lines.{i}.{field}")
        except DomainError as error:
            raise as_problem(error) from None
    day = document_day(ctx, body.document_date)
    repo = StockDocumentRepository(session)
    document = await repo.add(
        StockDocument(
            kind="adjustment",
            company_id=body.company_id,
            document_date=day,
            reason=body.reason,
            notes=body.notes,
            actor_user_id=ctx.actor_id,
        )
    )
    counted = {line.product_id for line in body.lines if isinstance(line, CountedLine)}
    on_hand: dict[uuid.UUID, Decimal] = {}
    if counted:
        await InventorySettingsRepository(session).hold()  # settings, then levels: the ledger's lock order
        on_hand = await repo.lock_levels(body.company_id, counted)
    ups: list[StockLine] = []
    downs: list[StockLine] = []
    for i, line in enumerate(body.lines):
        if isinstance(line, CountedLine):
            change = line.counted - on_hand.get(line.product_id, Decimal(0))
        else:
            change = line.change
        # numbered from 1 like an invoice's or a transfer's lines: "Not enough stock for line 2" is the second
        if change > 0:
            ups.append(StockLine(line.product_id, change, i + 1))
        elif change < 0:
            downs.append(StockLine(line.product_id, -change, i + 1))
    common: dict[str, Any] = {
        "company_id": body.company_id,
        "kind": "adjustment",
        "document": ref(document),
        "reason": body.reason,
    }
    movements = await stock.take(session, ctx, lines=downs, **common)
    movements += await stock.put(session, ctx, lines=ups, **common)
    await _audit(session, "stock_adjustment.created", document, movements)
    return await read(session, document.id)


async def opening(
    session: AsyncSession, ctx: Context, *, company_id: uuid.UUID, lines: list[StockLine]
) -> StockDocument:
    """Opening stock (the demo's; an import's later): a receipt document dated today without a
    supplier, whose movements are of kind `opening`."""
    document = await StockDocumentRepository(session).add(
        StockDocument(
            kind="receipt",
            company_id=company_id,
            document_date=ctx.today,
            notes="Opening stock",
            actor_user_id=ctx.actor_id,
        )
    )
    movements = await stock.put(
        session, ctx, company_id=company_id, lines=lines, kind="opening", document=ref(document)
    )
    await _audit(session, "stock_opening.created", document, movements)
    return document


async def get(session: AsyncSession, document_id: uuid.UUID) -> StockDocument:
    document = await StockDocumentRepository(session).get(document_id)
    if document is None:
        raise NotFound("No stock document with this id.", code="stock-document-not-found")
    return document


async def read(session: AsyncSession, document_id: uuid.UUID) -> StockDocumentRead:
    """The document with its lines (its movements, in the order they were written)."""
    document = await get(session, document_id)
    rows = await StockMovementRepository(session).of_document(DOCUMENT_TYPE, document.id)
    return StockDocumentRead.of(document, [DocumentLineRead.of(movement, product) for movement, product in rows])


async def page(
    session: AsyncSession, filters: DocumentFilters, *, limit: int, cursor: str | None
) -> tuple[list[StockDocument], str | None]:
    return await StockDocumentRepository(session).list_page(filters, limit=limit, cursor=cursor)


def document_day(ctx: Context, day: date | None) -> date:
    """The document's date: today (India) by default; from GST's first day to today."""
    if day is None:
        return ctx.today
    if day > ctx.today:
        raise RuleViolation(
            "document_date",
            f"A stock document cannot be dated after today ({ctx.today}).",
            code="document-date-too-late",
        )
    if day < GST_START:
        raise RuleViolation(
            "document_date",
            f"A stock document cannot be dated before GST began ({GST_START}).",
            code="document-date-before-gst",
        )
    return day


def check_range(date_from: date | None, date_to: date | None) -> None:
    if date_from is not None and date_to is not None and date_to < date_from:
        raise RuleViolation("to", "`to` is before `from`.", code="invalid-date-range")


def day_bounds(date_from: date | None, date_to: date | None) -> tuple[datetime | None, datetime | None]:
    """[start of `date_from`, start of the day after `date_to`) as instants, days in India."""
    start = datetime.combine(date_from, time(), INDIA) if date_from is not None else None
    end = datetime.combine(date_to + timedelta(days=1), time(), INDIA) if date_to is not None else None
    return start, end


def _supplier_gstin(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return normalize_gstin(value)
    except InvalidGstin as exc:
        raise RuleViolation("supplier_gstin", f"The GSTIN is not valid ({exc}).", code="invalid-gstin") from exc


def _check_tracked(lines: Any, found: dict[uuid.UUID, Product]) -> None:
    for i, line in enumerate(lines):
        if not found[line.product_id].track_stock:
            raise RuleViolation(
                f"lines.{i}.product_id",
                "This product does not track stock (track_stock is false).",
                code="product-not-tracked",
            )


async def _update_costs(
    session: AsyncSession, movements: list[StockMovement], found: dict[uuid.UUID, Product]
) -> list[dict[str, str | None]]:
    """The received unit costs become the products' purchase costs; the changes, for the audit."""
    changed = []
    for movement in movements:
        product = found[movement.product_id]
        if movement.unit_cost is None or product.purchase_cost == movement.unit_cost:
            continue
        before = None if product.purchase_cost is None else str(product.purchase_cost)
        product.purchase_cost = movement.unit_cost
        changed.append({"product_id": str(product.id), "before": before, "after": str(movement.unit_cost)})
    if changed:
        await session.flush()
    return changed


async def _audit(
    session: AsyncSession, action: str, document: StockDocument, movements: list[StockMovement], **extra: Any
) -> None:
    lines = [
        {
            "movement_id": str(m.id),
            "product_id": str(m.product_id),
            "on_hand_change": str(m.on_hand_change),
            "on_hand_after": str(m.on_hand_after),
            **({"unit_cost": str(m.unit_cost)} if m.unit_cost is not None else {}),
        }
        for m in movements
    ]
    after = audit.snapshot(document, AUDITED) | {"lines": lines} | {k: v for k, v in extra.items() if v}
    await audit.record(session, action=action, entity_type="stock_document", entity_id=document.id, after=after)
