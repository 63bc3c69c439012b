from typing import Annotated, Any

from fastapi import APIRouter, Depends

from app.api.deps import CurrentUser, ManagerUser, SessionDep
from app.api.fields import Selection, field_selection, respond
from app.schemas.billing.gst_settings import GstSettingsRead, GstSettingsUpdate
from app.schemas.common import problem_responses
from app.services.billing import gst_settings

router = APIRouter(prefix="/gst-settings", tags=["gst settings"], responses=problem_responses(401, 422))


@router.get("", response_model=GstSettingsRead)
async def read_gst_settings(
    _: CurrentUser, session: SessionDep, fields: Annotated[Selection, Depends(field_selection(GstSettingsRead))]
) -> Any:
    return respond(GstSettingsRead.model_validate(await gst_settings.get(session)), fields)


@router.put("", response_model=GstSettingsRead, responses=problem_responses(403))
async def update_gst_settings(body: GstSettingsUpdate, _: ManagerUser, session: SessionDep) -> GstSettingsRead:
    """Owners and admins only. Fields left out stay as they are."""
    updated = await gst_settings.update(session, body.model_dump(exclude_unset=True))
    return GstSettingsRead.model_validate(updated)
