"""The tenant's GST settings: one row, created at sign-up (and here, should it be missing)."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import RuleViolation
from app.domain.numbering import never_collide
from app.models.billing.business import GstSettings
from app.repositories.billing.gst_settings import GstSettingsRepository
from app.services.platform import audit

FIELDS = [
    "registration_type",
    "round_off_enabled",
    "default_due_days",
    "invoice_number_pattern",
    "credit_note_number_pattern",
    "receipt_number_pattern",
    "bill_of_supply_number_pattern",
]


async def get(session: AsyncSession, *, for_update: bool = False) -> GstSettings:
    repo = GstSettingsRepository(session)
    settings = await repo.current(for_update=for_update)
    return settings if settings is not None else await repo.add(GstSettings())


async def update(session: AsyncSession, changes: dict[str, Any]) -> GstSettings:
    settings = await get(session, for_update=True)
    before = audit.snapshot(settings, FIELDS)
    for name, value in changes.items():
        setattr(settings, name, value)
    _check_bill_of_supply_series(settings)
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


def _check_bill_of_supply_series(settings: GstSettings) -> None:
    """Bills of supply and invoices share the invoices' table and its unique numbers: a series of
    their own must never render a number the invoice series can."""
    pattern = settings.bill_of_supply_number_pattern
    if pattern is not None and not never_collide(pattern, settings.invoice_number_pattern):
        raise RuleViolation(
            "bill_of_supply_number_pattern",
            "Bills of supply need a pattern whose leading letters differ from the invoice pattern's "
            "(e.g. BOS/{fy}/{seq:05} beside INV/{fy}/{seq:05}), so that no two numbers can be the same.",
            code="number-patterns-overlap",
        )
