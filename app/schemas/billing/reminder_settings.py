from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StrictBool

from app.models.billing.reminder import MAX_OFFSETS, OFFSET_RANGE, SEND_HOURS
from app.schemas.billing.business_fields import integer
from app.schemas.common import RequestBody, SelectableRead


def _unique_sorted(offsets: list[int]) -> list[int]:
    if len(set(offsets)) != len(offsets):
        raise ValueError("each day may appear once")
    return sorted(offsets)


Offsets = Annotated[
    list[integer(*OFFSET_RANGE)],
    Field(
        min_length=1,
        max_length=MAX_OFFSETS,
        json_schema_extra={"uniqueItems": True},
        description=f"Days relative to the due date: negative = before it, 0 = on it, positive = after it "
        f"({OFFSET_RANGE[0]}..{OFFSET_RANGE[1]}, each once, at most {MAX_OFFSETS}; stored sorted).",
        examples=[[-3, 1, 7, 15]],
    ),
    AfterValidator(_unique_sorted),
]


class ReminderSettingsUpdate(RequestBody):
    """Fields left out stay as they are."""

    enabled: StrictBool = Field(
        None, description="Send payment reminders to customers (off until an owner or admin turns them on)."
    )
    offsets: Offsets = None
    send_hour: integer(*SEND_HOURS) = Field(
        None,
        description=f"The hour (Asia/Kolkata, {SEND_HOURS[0]}..{SEND_HOURS[1]}) from which a day's reminders go "
        "out; none are sent from 21:00 until the next day's send hour.",
    )
    channel: Literal["email"] = Field(
        None, description="Email (the mail carries each invoice's share link, to forward on WhatsApp)."
    )


class ReminderSettingsRead(SelectableRead):
    enabled: bool
    offsets: list[int]
    send_hour: int
    channel: str
    updated_at: datetime | None = Field(description="null until the settings are first saved (the defaults).")
