from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert

from app.models.base import new_id
from app.models.catalog.stock import InventorySettings, StockLevel
from app.repositories.base import TenantRepository


class InventorySettingsRepository(TenantRepository[InventorySettings]):
    model = InventorySettings

    async def current(self, *, for_update: bool = False) -> InventorySettings | None:
        """The tenant's one row (None: never saved, the defaults apply)."""
        stmt = select(InventorySettings)
        if for_update:
            stmt = stmt.with_for_update()
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def hold(self) -> None:
        """Key-share lock the tenant's row (if saved) until the transaction ends, as every ledger
        statement does: taken before a caller locks level rows itself, so that locks are always
        taken settings first, then levels (a settings change waits instead of deadlocking)."""
        await self.session.execute(select(InventorySettings.id).with_for_update(key_share=True))

    async def ensure(self) -> InventorySettings:
        """The tenant's row, created with the defaults if missing, locked for the caller's change
        (which also waits for the stock changes in flight: they key-share lock it)."""
        stmt = (
            insert(InventorySettings)
            .values(tenant_id=self.tenant_id, id=new_id())
            .on_conflict_do_nothing(index_elements=["tenant_id"])
        )
        await self.session.execute(stmt)
        row = await self.current(for_update=True)
        assert row is not None  # inserted above or by a transaction that committed first
        return row

    async def below_zero(self, limit: int) -> list[StockLevel]:
        """Levels with less than nothing on hand, or more reserved than on hand (first `limit`)."""
        stmt = (
            select(StockLevel)
            .where(or_(StockLevel.on_hand < 0, StockLevel.reserved > StockLevel.on_hand))
            .order_by(StockLevel.product_id, StockLevel.company_id)
            .limit(limit)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def mark_levels(self, negative_allowed: bool) -> None:
        """Copy the setting onto every level of the tenant (the CHECK reads it from the row)."""
        stmt = (
            update(StockLevel)
            .where(StockLevel.negative_allowed.is_not(negative_allowed))
            .values(negative_allowed=negative_allowed)
            .execution_options(synchronize_session=False)
        )
        await self.session.execute(stmt)
