from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from app.models.base import new_id
from app.models.billing.reminder import ReminderSettings
from app.repositories.base import TenantRepository


class ReminderSettingsRepository(TenantRepository[ReminderSettings]):
    model = ReminderSettings

    async def current(self, *, for_update: bool = False) -> ReminderSettings | None:
        """The tenant's one row (None: never saved, the defaults apply)."""
        stmt = select(ReminderSettings)
        if for_update:
            stmt = stmt.with_for_update()
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def ensure(self) -> ReminderSettings:
        """The tenant's row, created with the defaults if missing (two first saves at once make one
        row: the second waits on the unique key), locked for the caller's change."""
        stmt = (
            insert(ReminderSettings)
            .values(tenant_id=self.tenant_id, id=new_id())
            .on_conflict_do_nothing(index_elements=["tenant_id"])
        )
        await self.session.execute(stmt)
        row = await self.current(for_update=True)
        assert row is not None  # inserted above or by a transaction that committed first
        return row
