"""The tenant's inventory settings: one row, written on the first save; until then the defaults
(negative stock not allowed) apply.

`allow_negative_stock` is for shops that sell before they enter their purchases: a sale then never
waits for a receipt. The setting is copied onto every level row (`negative_allowed`), because the
database's CHECK reads it there. Turning it off while some level is below zero (or has more
reserved than on hand) is refused, naming those levels: correct them first (POST /stock/adjustments
or a receipt).
"""

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Conflict
from app.models.catalog.stock import InventorySettings
from app.repositories.catalog.inventory_settings import InventorySettingsRepository
from app.services.catalog.stock import quantity_text
from app.services.platform import audit

FIELDS = ["allow_negative_stock"]
NAMED_LEVELS = 50


def defaults() -> InventorySettings:
    """What applies before the first save (not added to the session)."""
    return InventorySettings(allow_negative_stock=False)


async def get(session: AsyncSession) -> InventorySettings:
    settings = await InventorySettingsRepository(session).current()
    return settings if settings is not None else defaults()


async def update(session: AsyncSession, *, allow_negative_stock: bool) -> InventorySettings:
    repo = InventorySettingsRepository(session)
    settings = await repo.ensure()  # locked: no stock change runs until this transaction ends
    before = audit.snapshot(settings, FIELDS)
    if settings.allow_negative_stock != allow_negative_stock:
        if not allow_negative_stock:
            below = await repo.below_zero(NAMED_LEVELS + 1)
            if below:
                raise Conflict(
                    "Some stock levels are below zero (or have more reserved than on hand): "
                    "adjust them before turning negative stock off.",
                    code="negative-stock-exists",
                    levels=[
                        {
                            "product_id": str(level.product_id),
                            "company_id": str(level.company_id),
                            "on_hand": quantity_text(level.on_hand),
                            "reserved": quantity_text(level.reserved),
                        }
                        for level in below[:NAMED_LEVELS]
                    ],
                    more=len(below) > NAMED_LEVELS,
                )
        await repo.mark_levels(allow_negative_stock)
        settings.allow_negative_stock = allow_negative_stock
        await session.flush()
    await audit.record(
        session,
        action="inventory_settings.updated",
        entity_type="inventory_settings",
        entity_id=settings.id,
        before=before,
        after=audit.snapshot(settings, FIELDS),
    )
    return settings
