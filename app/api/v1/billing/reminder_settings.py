from typing import Annotated, Any

from fastapi import APIRouter, Depends

from app.api.deps import CurrentUser, ManagerUser, SessionDep
from app.api.fields import Selection, field_selection, respond
from app.schemas.billing.reminder_settings import ReminderSettingsRead, ReminderSettingsUpdate
from app.schemas.common import problem_responses
from app.services.billing import reminder_settings

router = APIRouter(prefix="/reminder-settings", tags=["reminder settings"], responses=problem_responses(401, 422))


@router.get("", response_model=ReminderSettingsRead)
async def read_reminder_settings(
    _: CurrentUser, session: SessionDep, fields: Annotated[Selection, Depends(field_selection(ReminderSettingsRead))]
) -> Any:
    """Payment reminders to customers: on/off, the days relative to the due date, the send hour (India)."""
    return respond(ReminderSettingsRead.model_validate(await reminder_settings.get(session)), fields)


@router.put("", response_model=ReminderSettingsRead, responses=problem_responses(403))
async def update_reminder_settings(
    body: ReminderSettingsUpdate, _: ManagerUser, session: SessionDep
) -> ReminderSettingsRead:
    """Owners and admins only. Fields left out stay as they are."""
    updated = await reminder_settings.update(session, body.model_dump(exclude_unset=True))
    return ReminderSettingsRead.model_validate(updated)
