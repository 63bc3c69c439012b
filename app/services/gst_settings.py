"""The tenant's GST settings: one row, created at sign-up (and here, should it be missing)."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.models.business import GstSettings
from app.repositories.gst_settings import GstSettingsRepository
from app.services import audit

FIELDS = [
    "registration_type", "round_off_enabled", "default_due_days", "invoice_number_pattern",
    "credit_note_number_pattern", "receipt_number_pattern",
]  # fmt: skip


async def get(session: AsyncSession, *, for_update: bool = False) -> GstSettings:
    repo = GstSettingsRepository(session)
    settings = await repo.current(for_update=for_update)
    return settings if settings is not None else await repo.add(GstSettings())


async def update(session: AsyncSession, changes: dict[str, Any]) -> GstSettings:
    settings = await get(session, for_update=True)
    before = audit.snapshot(settings, FIELDS)
    for name, value in changes.items():
        setattr(settings, name, value)
    await session.flush()
    await audit.record(
        session,
        action="gst_settings.updated",
        entity_type="gst_settings",
        entity_id=settings.id,
        before=before,
        after=audit.snapshot(settings, FIELDS),
    )
    return settings
