"""The tenant's payment reminder settings: one row, written on the first save; until then the
defaults (reminders off) apply. Off by default: the product mails a business's own customers,
which the business must choose to do (and it can leave a customer out: customers.payment_reminders)."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.models.billing.reminder import DEFAULT_OFFSETS, ReminderSettings
from app.repositories.billing.reminder_settings import ReminderSettingsRepository
from app.services.platform import audit

FIELDS = ["enabled", "offsets", "send_hour", "channel"]


def defaults() -> ReminderSettings:
    """What applies before the first save (not added to the session)."""
    return ReminderSettings(enabled=False, offsets=list(DEFAULT_OFFSETS), send_hour=10, channel="email")


async def get(session: AsyncSession) -> ReminderSettings:
    settings = await ReminderSettingsRepository(session).current()
    return settings if settings is not None else defaults()


async def update(session: AsyncSession, changes: dict[str, Any]) -> ReminderSettings:
    settings = await ReminderSettingsRepository(session).ensure()
    before = audit.snapshot(settings, FIELDS)
    for name, value in changes.items():
        setattr(settings, name, value)
    await session.flush()
    await audit.record(
        session,
        action="reminder_settings.updated",
        entity_type="reminder_settings",
        entity_id=settings.id,
        before=before,
        after=audit.snapshot(settings, FIELDS),
    )
    return settings
