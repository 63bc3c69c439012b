import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StrictBool, StringConstraints

from app.domain.numbering import pattern_regex, validate_pattern
from app.schemas.billing.business_fields import integer
from app.schemas.common import RequestBody, SelectableRead

NumberPattern = Annotated[
    str,
    StringConstraints(max_length=40, pattern=pattern_regex()),
    AfterValidator(validate_pattern),
    Field(
        description="Letters, digits, '-', '/', one {seq} or {seq:0N} and any {fy} (25-26); the longest "
        "number (a 5-digit sequence, or N digits) is at most 16 characters (CGST Rule 46).",
        examples=["INV/{fy}/{seq:05}"],
    ),
]


class GstSettingsUpdate(RequestBody):
    """Fields left out stay as they are."""

    registration_type: Literal["regular", "composition"] = None
    round_off_enabled: StrictBool = None
    default_due_days: integer(0, 365) = None
    invoice_number_pattern: NumberPattern = None
    credit_note_number_pattern: NumberPattern = None
    receipt_number_pattern: NumberPattern = None
    bill_of_supply_number_pattern: NumberPattern | None = Field(
        None,
        description="A series of their own for bills of supply (composition, no GSTIN, all lines exempt), "
        "e.g. BOS/{fy}/{seq:05}; its leading letters must differ from the invoice pattern's. "
        "null (the default) = bills of supply take the invoice series and pattern.",
    )


class GstSettingsRead(SelectableRead):
    id: uuid.UUID
    registration_type: str
    round_off_enabled: bool
    default_due_days: int
    invoice_number_pattern: str
    credit_note_number_pattern: str
    receipt_number_pattern: str
    bill_of_supply_number_pattern: str | None
    updated_at: datetime
