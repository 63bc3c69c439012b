from sqlalchemy import select

from app.models.billing.business import GstSettings
from app.repositories.base import TenantRepository


class GstSettingsRepository(TenantRepository[GstSettings]):
    model = GstSettings

    async def current(self, *, for_update: bool = False) -> GstSettings | None:
        """The tenant's one row."""
        stmt = select(GstSettings)
        if for_update:
            stmt = stmt.with_for_update()
        return (await self.session.execute(stmt)).scalar_one_or_none()
