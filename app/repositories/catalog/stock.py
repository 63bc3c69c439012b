"""The stock ledger's queries: levels changed only by one guarded upsert per document, which writes
the movements and opens or closes the low-stock alerts in the same statement."""

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    TextClause,
    and_,
    bindparam,
    func,
    literal,
    not_,
    or_,
    select,
    text,
    tuple_,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import aliased
from sqlalchemy.types import DateTime, Integer, Numeric, String, Uuid

from app.core import counting
from app.core.cursors import decode_cursor, encode_cursor, session_key
from app.models.catalog.product import Product, ProductCategory
from app.models.catalog.stock import StockDocument, StockLevel, StockMovement
from app.repositories.base import SortKey, TenantOwnedRepository, TenantRepository, starts_with


@dataclass(frozen=True)
class LevelDelta:
    """One product's change: signed deltas of on_hand and reserved, already merged per product."""

    product_id: uuid.UUID
    on_hand: Decimal
    reserved: Decimal
    unit_cost: Decimal | None = None
    reorder_level: Decimal | None = None


@dataclass(frozen=True)
class AppliedChange:
    """What a level became after its delta (and the movement that records it)."""

    product_id: uuid.UUID
    on_hand: Decimal
    reserved: Decimal
    available: Decimal
    movement_id: uuid.UUID | None  # None when another line was short: nothing was written
    alert_id: uuid.UUID | None = None  # the low-stock alert this change opened (it crossed the reorder level)
    alert_level: Decimal | None = None  # that alert's reorder level


@dataclass(frozen=True)
class Movement:
    """Whom and what a movement names besides the level change itself."""

    company_id: uuid.UUID
    kind: str
    document_type: str | None
    document_id: uuid.UUID | None
    reason: str | None
    actor_user_id: uuid.UUID | None
    at: datetime


# One statement for every line of a document:
# 1. `req`: the deltas, sorted by product_id, so that concurrent documents lock their level rows in
#    the same order (INSERT ... SELECT ... ORDER BY feeds ON CONFLICT row by row): no deadlock.
# 2. `lv`: the upsert. A new row starts from the delta itself (only when the change cannot break the
#    no-negative CHECK, or negative stock is allowed); the proposed row carries |reserved change| and
#    `reserved_sign` its sign, and says negative_allowed whenever its values need it, because the
#    CHECKs apply to the proposed row even when it then conflicts (a row that really is inserted
#    passed the WHERE, so its flag is then the tenant's setting). An existing row is locked and changed only when
#    the guard holds on its latest committed version: available stays >= 0 (or negative stock is
#    allowed, or the change does not lower available) and reserved stays >= 0. A line whose guard
#    fails is simply not returned.
# 1b. `neg`: the tenant's negative-stock setting, key-share locked until the transaction ends, so
#    that turning it off (which locks the row for update) waits for the changes in flight and
#    holds back new ones while it checks that no level is below zero.
# 3. `mv`, `opened`, `closed`: only when every line came back (`ok`): the movements, with the levels
#    after them, and the low-stock alerts (open one at or below the reorder level; the partial
#    unique index keeps one open per level, so it is once per crossing; close it above the level).
APPLY_SQL = """
WITH req AS (
    SELECT * FROM unnest(:product_ids, :on_hand, :reserved, :unit_costs, :reorder_levels)
        AS r(product_id, d_on_hand, d_reserved, unit_cost, reorder_level)
),
neg AS (
    SELECT coalesce(
        (SELECT allow_negative_stock FROM inventory_settings WHERE tenant_id = :tenant_id FOR KEY SHARE), false
    ) AS allowed
),
lv AS (
    INSERT INTO stock_levels AS l (tenant_id, product_id, company_id, on_hand, reserved, negative_allowed, updated_at)
    SELECT :tenant_id, r.product_id, :company_id, r.d_on_hand, abs(r.d_reserved),
           neg.allowed OR r.d_on_hand < 0 OR abs(r.d_reserved) > r.d_on_hand, :at
    FROM req r CROSS JOIN neg
    WHERE (r.d_reserved >= 0 AND (neg.allowed OR (r.d_on_hand >= 0 AND r.d_on_hand - r.d_reserved >= 0)))
       OR EXISTS (
            SELECT 1 FROM stock_levels x
            WHERE x.tenant_id = :tenant_id AND x.product_id = r.product_id AND x.company_id = :company_id
       )
    ORDER BY r.product_id
    ON CONFLICT (tenant_id, product_id, company_id) DO UPDATE
        SET on_hand = l.on_hand + excluded.on_hand,
            reserved = l.reserved + :reserved_sign * excluded.reserved,
            updated_at = excluded.updated_at
        WHERE l.reserved + :reserved_sign * excluded.reserved >= 0
          AND (l.negative_allowed
               OR excluded.on_hand - :reserved_sign * excluded.reserved >= 0
               OR l.available + excluded.on_hand - :reserved_sign * excluded.reserved >= 0)
    RETURNING l.product_id, l.on_hand, l.reserved, l.available
),
ok AS (
    SELECT count(*) = :n AS all_lines,
           floor(extract(epoch FROM clock_timestamp()) * 1000000)::bigint AS us
    FROM lv
),
mv AS (
    INSERT INTO stock_movements (
        tenant_id, id, product_id, company_id, kind, on_hand_change, reserved_change,
        on_hand_after, reserved_after, document_type, document_id, unit_cost, reason, actor_user_id, created_at
    )
    SELECT :tenant_id, {UUID7}, r.product_id, :company_id, :kind, r.d_on_hand, r.d_reserved,
           lv.on_hand, lv.reserved, :document_type, :document_id, r.unit_cost, :reason, :actor_user_id, :at
    FROM lv JOIN req r USING (product_id) CROSS JOIN ok
    WHERE ok.all_lines
    ORDER BY r.product_id
    RETURNING product_id, id
),
opened AS (
    INSERT INTO stock_alerts (tenant_id, id, product_id, company_id, available_at_open, reorder_level, opened_at)
    SELECT :tenant_id, {UUID7}, r.product_id, :company_id, lv.available, r.reorder_level, :at
    FROM lv JOIN req r USING (product_id) CROSS JOIN ok
    WHERE ok.all_lines AND r.reorder_level IS NOT NULL AND lv.available <= r.reorder_level
    ON CONFLICT (tenant_id, product_id, company_id) WHERE closed_at IS NULL DO NOTHING
    RETURNING product_id, id AS alert_id, reorder_level AS alert_level
),
closed AS (
    UPDATE stock_alerts a SET closed_at = :at
    FROM lv JOIN req r USING (product_id) CROSS JOIN ok
    WHERE ok.all_lines AND a.tenant_id = :tenant_id AND a.company_id = :company_id
      AND a.product_id = lv.product_id AND a.closed_at IS NULL
      AND (r.reorder_level IS NULL OR lv.available > r.reorder_level)
    RETURNING a.product_id
)
SELECT lv.product_id, lv.on_hand, lv.reserved, lv.available, mv.id AS movement_id,
       op.alert_id, op.alert_level
FROM lv LEFT JOIN mv USING (product_id) LEFT JOIN opened op USING (product_id)
ORDER BY lv.product_id
"""
# A UUIDv7 made after every level row of the statement was locked (`ok` counts them all first): the 48-bit Unix
# milliseconds, then (RFC 9562 method 3) the microseconds within the millisecond as the 12-bit
# rand_a, then random bits. Movements of one level are thus ordered by id as they were applied
# (the next holder of the row lock writes after the previous one committed), which the levels
# after each movement (`on_hand_after`, `reserved_after`) and the newest-first pages rely on.
UUID7 = """(
    lpad(to_hex(ok.us / 1000), 12, '0') || '7' || lpad(to_hex((ok.us % 1000 * 4)::int), 3, '0')
    || to_hex(8 + floor(random() * 4)::int)
    || substr(replace(gen_random_uuid()::text, '-', ''), 1, 15)
)::uuid"""
APPLY_SQL = APPLY_SQL.replace("{UUID7}", UUID7)

_ARRAYS: dict[str, ARRAY[Any]] = {
    "product_ids": ARRAY(Uuid()),
    "on_hand": ARRAY(Numeric(15, 3)),
    "reserved": ARRAY(Numeric(15, 3)),
    "unit_costs": ARRAY(Numeric(18, 4)),
    "reorder_levels": ARRAY(Numeric(15, 3)),
}


def _apply_statement() -> TextClause:
    return text(APPLY_SQL).bindparams(
        *(bindparam(name, type_=type_) for name, type_ in _ARRAYS.items()),
        bindparam("n", type_=Integer()),
        bindparam("reserved_sign", type_=Integer()),
        bindparam("tenant_id", type_=Uuid()),
        bindparam("company_id", type_=Uuid()),
        bindparam("kind", type_=String()),
        bindparam("document_type", type_=String()),
        bindparam("document_id", type_=Uuid()),
        bindparam("reason", type_=String()),
        bindparam("actor_user_id", type_=Uuid()),
        bindparam("at", type_=DateTime(timezone=True)),
    )


_APPLY = _apply_statement()
# A product's reorder level changed: bring its alerts in step with every level it has (under the
# level rows' locks, company by company, so a stock change in flight is counted first).
REFRESH_SQL = """
WITH lv AS (
    SELECT product_id, company_id, available FROM stock_levels
    WHERE tenant_id = :tenant_id AND product_id = :product_id
    ORDER BY company_id
    FOR NO KEY UPDATE
),
ok AS (
    SELECT true AS all_lines, floor(extract(epoch FROM clock_timestamp()) * 1000000)::bigint AS us
),
opened AS (
    INSERT INTO stock_alerts (tenant_id, id, product_id, company_id, available_at_open, reorder_level, opened_at)
    SELECT :tenant_id, {UUID7}, lv.product_id, lv.company_id, lv.available, CAST(:reorder_level AS numeric), :at
    FROM lv CROSS JOIN ok
    WHERE CAST(:reorder_level AS numeric) IS NOT NULL AND lv.available <= CAST(:reorder_level AS numeric)
    ON CONFLICT (tenant_id, product_id, company_id) WHERE closed_at IS NULL DO NOTHING
    RETURNING id, company_id, available_at_open, reorder_level
),
closed AS (
    UPDATE stock_alerts a SET closed_at = :at
    FROM lv
    WHERE a.tenant_id = :tenant_id AND a.product_id = lv.product_id AND a.company_id = lv.company_id
      AND a.closed_at IS NULL
      AND (CAST(:reorder_level AS numeric) IS NULL OR lv.available > CAST(:reorder_level AS numeric))
    RETURNING a.id
)
SELECT id, company_id, available_at_open, reorder_level FROM opened ORDER BY company_id
""".replace("{UUID7}", UUID7)
_REFRESH = text(REFRESH_SQL).bindparams(
    bindparam("tenant_id", type_=Uuid()),
    bindparam("product_id", type_=Uuid()),
    bindparam("reorder_level", type_=Numeric(15, 3)),
    bindparam("at", type_=DateTime(timezone=True)),
)
_UNDO = text(
    "UPDATE stock_levels l SET on_hand = l.on_hand - r.d_on_hand, reserved = l.reserved - r.d_reserved "
    "FROM unnest(:product_ids, :on_hand, :reserved) AS r(product_id, d_on_hand, d_reserved) "
    "WHERE l.tenant_id = :tenant_id AND l.company_id = :company_id AND l.product_id = r.product_id"
).bindparams(
    bindparam("product_ids", type_=ARRAY(Uuid())),
    bindparam("on_hand", type_=ARRAY(Numeric(15, 3))),
    bindparam("reserved", type_=ARRAY(Numeric(15, 3))),
    bindparam("tenant_id", type_=Uuid()),
    bindparam("company_id", type_=Uuid()),
)


# A level that this change lifted above its reorder level: its open alert is closed by a statement
# of its own. The ledger statement's `closed` reads stock_alerts with the snapshot it started with,
# so an alert opened by a document that held the level's lock while this one waited for it (and
# committed in between) is invisible to it; this later statement sees it, and no other document can
# open or close an alert of these levels while this transaction holds their locks.
_CLOSE_LIFTED = text(
    "UPDATE stock_alerts SET closed_at = :at "
    "WHERE tenant_id = :tenant_id AND company_id = :company_id AND product_id = ANY(:product_ids) "
    "AND closed_at IS NULL"
).bindparams(
    bindparam("product_ids", type_=ARRAY(Uuid())),
    bindparam("tenant_id", type_=Uuid()),
    bindparam("company_id", type_=Uuid()),
    bindparam("at", type_=DateTime(timezone=True)),
)


class StockRepository(TenantOwnedRepository[StockLevel]):
    model = StockLevel

    async def apply(self, movement: Movement, deltas: Sequence[LevelDelta]) -> list[AppliedChange]:
        """Apply every delta or none: the levels that changed, in product_id order. Fewer than
        `deltas` means some guard failed: then no movement or alert was written, and the levels
        that did change are put back (`undo`) so that the caller's transaction stays consistent
        even if it goes on."""
        deltas = sorted(deltas, key=lambda d: d.product_id)
        params = {
            "product_ids": [d.product_id for d in deltas],
            "on_hand": [d.on_hand for d in deltas],
            "reserved": [d.reserved for d in deltas],
            "unit_costs": [d.unit_cost for d in deltas],
            "reorder_levels": [d.reorder_level for d in deltas],
            "n": len(deltas),
            "reserved_sign": -1 if any(d.reserved < 0 for d in deltas) else 1,
            "tenant_id": self.tenant_id,
            "company_id": movement.company_id,
            "kind": movement.kind,
            "document_type": movement.document_type,
            "document_id": movement.document_id,
            "reason": movement.reason,
            "actor_user_id": movement.actor_user_id,
            "at": movement.at,
        }
        rows = (await self.session.execute(_APPLY, params)).all()
        changes = [
            AppliedChange(r.product_id, r.on_hand, r.reserved, r.available, r.movement_id, r.alert_id, r.alert_level)
            for r in rows
        ]
        if len(changes) < len(deltas):
            await self._undo(
                movement.company_id, [d for d in deltas if d.product_id in {c.product_id for c in changes}]
            )
            return changes
        by_product = {d.product_id: d for d in deltas}
        lifted = [c.product_id for c in changes if _lifted_above_reorder_level(by_product[c.product_id], c)]
        if lifted:
            close = {"product_ids": lifted, "tenant_id": self.tenant_id, "company_id": movement.company_id}
            await self.session.execute(_CLOSE_LIFTED, close | {"at": movement.at})
        return changes

    async def _undo(self, company_id: uuid.UUID, deltas: Sequence[LevelDelta]) -> None:
        if not deltas:
            return
        params = {
            "product_ids": [d.product_id for d in deltas],
            "on_hand": [d.on_hand for d in deltas],
            "reserved": [d.reserved for d in deltas],
            "tenant_id": self.tenant_id,
            "company_id": company_id,
        }
        await self.session.execute(_UNDO, params)

    async def levels(
        self, company_id: uuid.UUID, product_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, tuple[Decimal, Decimal]]:
        """(on_hand, reserved) of each product's level in the company (products without one are absent)."""
        stmt = select(StockLevel.product_id, StockLevel.on_hand, StockLevel.reserved).where(
            StockLevel.company_id == company_id, StockLevel.product_id.in_(list(product_ids))
        )
        return {row.product_id: (row.on_hand, row.reserved) for row in await self.session.execute(stmt)}

    async def refresh_alerts(
        self, product_id: uuid.UUID, reorder_level: Decimal | None, at: datetime
    ) -> list[tuple[uuid.UUID, uuid.UUID, Decimal, Decimal]]:
        """Open or close the product's alerts in every company after its reorder level changed.
        The levels are locked by a statement of their own first: the alerts statement then starts
        (takes its snapshot) after every document that held them committed, so it sees the alerts
        they opened or closed (in one statement, one opened while this waited stayed open).
        Answers the alerts it opened: (alert id, company id, available, reorder level)."""
        lock = (
            select(StockLevel.company_id)
            .where(StockLevel.product_id == product_id)
            .order_by(StockLevel.company_id)
            .with_for_update(key_share=True)  # FOR NO KEY UPDATE, as the ledger statement takes them
        )
        await self.session.execute(lock)
        params = {"tenant_id": self.tenant_id, "product_id": product_id, "reorder_level": reorder_level, "at": at}
        rows = (await self.session.execute(_REFRESH, params)).all()
        return [(r.id, r.company_id, r.available_at_open, r.reorder_level) for r in rows]


def _lifted_above_reorder_level(delta: LevelDelta, change: AppliedChange) -> bool:
    """Whether the change took `available` from at or below the product's reorder level to above it."""
    if delta.reorder_level is None or change.available <= delta.reorder_level:
        return False
    before = change.available - (delta.on_hand - delta.reserved)
    return before <= delta.reorder_level


@dataclass(frozen=True)
class LevelFilters:
    company_id: uuid.UUID | None = None
    product_id: uuid.UUID | None = None
    category_id: uuid.UUID | None = None
    low: bool | None = None
    q: str | None = None


LEVELS_SCOPE = "stock_levels:name,product_id,company_id"


def _category_and_below(tenant_id: uuid.UUID, root_id: uuid.UUID) -> Select[tuple[uuid.UUID]]:
    """The ids of `root_id` and of every category below it (the tree has at most 3 levels)."""
    child, grandchild = aliased(ProductCategory), aliased(ProductCategory)
    below = select(child.id).where(child.tenant_id == tenant_id, child.parent_id == root_id)
    further = select(grandchild.id).where(grandchild.tenant_id == tenant_id, grandchild.parent_id.in_(below))
    return (
        union_all(select(ProductCategory.id).where(ProductCategory.id == root_id), below, further).subquery().select()
    )


class StockLevelListRepository(TenantOwnedRepository[StockLevel]):
    """GET /stock: levels with their product, keyset-paged by (product name, product, company)."""

    model = StockLevel

    async def list_page(
        self, filters: LevelFilters, *, limit: int, cursor: str | None
    ) -> tuple[list[tuple[StockLevel, Product]], str | None]:
        stmt = select(StockLevel, Product).join(Product, Product.id == StockLevel.product_id)
        stmt = stmt.where(*self._conditions(filters))
        slot = counting.count_slot()
        if slot is not None:
            counted = select(func.count()).select_from(
                stmt.with_only_columns(StockLevel.product_id).limit(counting.COUNT_CAP + 1).subquery()
            )
            slot.total = (await self.session.execute(counted)).scalar_one()
        key = (Product.name_lower, StockLevel.product_id, StockLevel.company_id)
        if cursor:
            values = decode_cursor(session_key(self.session), LEVELS_SCOPE, cursor, [str, uuid.UUID, uuid.UUID])
            after = tuple_(*(literal(v, c.type) for v, c in zip(values, key, strict=True)))
            stmt = stmt.where(tuple_(*key) > after)
        stmt = stmt.order_by(*key).limit(limit + 1)
        rows = [(level, product) for level, product in (await self.session.execute(stmt)).all()]
        if len(rows) <= limit:
            return rows, None
        level, product = rows[limit - 1]
        values = [product.name_lower, level.product_id, level.company_id]
        return rows[:limit], encode_cursor(session_key(self.session), LEVELS_SCOPE, values)

    def _conditions(self, f: LevelFilters) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if f.company_id is not None:
            conditions.append(StockLevel.company_id == f.company_id)
        if f.product_id is not None:
            conditions.append(StockLevel.product_id == f.product_id)
        if f.category_id is not None:
            conditions.append(Product.category_id.in_(_category_and_below(self.tenant_id, f.category_id)))
        if f.low is not None:
            # as the products' `low` filter and the alerts: a product that no longer tracks stock is never low
            low = and_(
                Product.track_stock.is_(True),
                Product.reorder_level.is_not(None),
                StockLevel.available <= Product.reorder_level,
            )
            conditions.append(low if f.low else not_(low))
        if f.q:
            lowered = f.q.lower()
            conditions.append(or_(starts_with(Product.name_lower, lowered), starts_with(Product.sku_lower, lowered)))
        return conditions


@dataclass(frozen=True)
class MovementFilters:
    product_id: uuid.UUID | None = None
    company_id: uuid.UUID | None = None
    kind: str | None = None
    created_from: datetime | None = None
    created_before: datetime | None = None
    document_id: uuid.UUID | None = None


class StockMovementRepository(TenantRepository[StockMovement]):
    model = StockMovement

    async def list_page(
        self, filters: MovementFilters, *, limit: int, cursor: str | None
    ) -> tuple[list[StockMovement], str | None]:
        """Newest first (ids are time-ordered, in the order the levels changed)."""
        stmt = select(StockMovement).where(*self._conditions(filters))
        return await self.page(stmt, limit=limit, cursor=cursor, descending=True)

    async def of_document(self, document_type: str, document_id: uuid.UUID) -> list[tuple[StockMovement, Product]]:
        """A document's movements (its lines) with their products, in the order they were written."""
        stmt = (
            select(StockMovement, Product)
            .join(Product, Product.id == StockMovement.product_id)
            .where(StockMovement.document_id == document_id, StockMovement.document_type == document_type)
            .order_by(StockMovement.id)
        )
        return [(movement, product) for movement, product in (await self.session.execute(stmt)).all()]

    def _conditions(self, f: MovementFilters) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if f.product_id is not None:
            conditions.append(StockMovement.product_id == f.product_id)
        if f.company_id is not None:
            conditions.append(StockMovement.company_id == f.company_id)
        if f.kind is not None:
            conditions.append(StockMovement.kind == f.kind)
        if f.created_from is not None:
            conditions.append(StockMovement.created_at >= f.created_from)
        if f.created_before is not None:
            conditions.append(StockMovement.created_at < f.created_before)
        return conditions


@dataclass(frozen=True)
class DocumentFilters:
    kind: str | None = None
    company_id: uuid.UUID | None = None
    date_from: date | None = None
    date_to: date | None = None


class StockDocumentRepository(TenantRepository[StockDocument]):
    model = StockDocument

    async def list_page(
        self, filters: DocumentFilters, *, limit: int, cursor: str | None
    ) -> tuple[list[StockDocument], str | None]:
        """Newest first: by document date, then by creation."""
        stmt = select(StockDocument)
        if filters.kind is not None:
            stmt = stmt.where(StockDocument.kind == filters.kind)
        if filters.company_id is not None:
            stmt = stmt.where(
                or_(StockDocument.company_id == filters.company_id, StockDocument.to_company_id == filters.company_id)
            )
        if filters.date_from is not None:
            stmt = stmt.where(StockDocument.document_date >= filters.date_from)
        if filters.date_to is not None:
            stmt = stmt.where(StockDocument.document_date <= filters.date_to)
        sort = SortKey(StockDocument.document_date, descending=True)
        return await self.page(stmt, limit=limit, cursor=cursor, sort=sort)

    async def lock_levels(self, company_id: uuid.UUID, product_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Decimal]:
        """on_hand of the products' levels in the company, locked in product order (a count is
        compared with what is on hand under the lock, so a sale in between is not lost)."""
        stmt = (
            select(StockLevel.product_id, StockLevel.on_hand)
            .where(StockLevel.company_id == company_id, StockLevel.product_id.in_(list(product_ids)))
            .order_by(StockLevel.product_id)
            .with_for_update()
        )
        return {row.product_id: row.on_hand for row in await self.session.execute(stmt)}

    async def invoices_a_transfer(self, invoice_id: uuid.UUID) -> bool:
        """Whether `invoice_id` is the tax invoice of a stock transfer (app.services.catalog.stock_transfers)."""
        stmt = select(StockDocument.id).where(StockDocument.kind == "transfer", StockDocument.invoice_id == invoice_id)
        return (await self.session.execute(stmt.limit(1))).scalar_one_or_none() is not None
