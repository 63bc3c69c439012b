"""The stock ledger's queries: levels changed only by one guarded upsert per document, which writes
the movements and opens or closes the low-stock alerts in the same statement."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import TextClause, bindparam, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import DateTime, Integer, Numeric, String, Uuid

from app.models.stock import StockLevel
from app.repositories.base import TenantOwnedRepository


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
    RETURNING product_id
),
closed AS (
    UPDATE stock_alerts a SET closed_at = :at
    FROM lv JOIN req r USING (product_id) CROSS JOIN ok
    WHERE ok.all_lines AND a.tenant_id = :tenant_id AND a.company_id = :company_id
      AND a.product_id = lv.product_id AND a.closed_at IS NULL
      AND (r.reorder_level IS NULL OR lv.available > r.reorder_level)
    RETURNING a.product_id
)
SELECT lv.product_id, lv.on_hand, lv.reserved, lv.available, mv.id AS movement_id
FROM lv LEFT JOIN mv USING (product_id)
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
    RETURNING id
)
UPDATE stock_alerts a SET closed_at = :at
FROM lv
WHERE a.tenant_id = :tenant_id AND a.product_id = lv.product_id AND a.company_id = lv.company_id
  AND a.closed_at IS NULL
  AND (CAST(:reorder_level AS numeric) IS NULL OR lv.available > CAST(:reorder_level AS numeric))
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
        changes = [AppliedChange(r.product_id, r.on_hand, r.reserved, r.available, r.movement_id) for r in rows]
        if len(changes) < len(deltas):
            await self._undo(
                movement.company_id, [d for d in deltas if d.product_id in {c.product_id for c in changes}]
            )
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

    async def refresh_alerts(self, product_id: uuid.UUID, reorder_level: Decimal | None, at: datetime) -> None:
        """Open or close the product's alerts in every company after its reorder level changed."""
        params = {"tenant_id": self.tenant_id, "product_id": product_id, "reorder_level": reorder_level, "at": at}
        await self.session.execute(_REFRESH, params)
