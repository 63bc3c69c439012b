import uuid
from datetime import datetime

from pydantic import Field

from app.schemas.billing.business_fields import Gstin, StateCode
from app.schemas.common import Email, Name, Phone, ReadModel, RequestBody, single_line

BillingAddressText = single_line(500, example="4th floor, Lotus Park, Andheri East, Mumbai 400069")


class TenantRead(ReadModel):
    id: uuid.UUID
    name: str
    business_name: str
    contact_email: str | None
    contact_phone: str | None
    trial_start_date: datetime | None
    trial_end_date: datetime | None
    is_trial_used: bool
    gstin: str | None = Field(description="The business's GSTIN: it appears on the SaaS's tax invoices to it.")
    billing_state_code: str | None = Field(description="State code of the billing address (the GSTIN's when set).")
    billing_address: str | None
    created_at: datetime
    updated_at: datetime


class TenantUpdate(RequestBody):
    """Fields left out stay as they are; the names cannot be cleared (null is refused)."""

    name: Name = None
    business_name: Name = None
    contact_email: Email | None = None
    contact_phone: Phone | None = None
    gstin: Gstin | None = Field(
        None, description="Checked (format, state, check character); null clears it. Sets the billing state."
    )
    billing_state_code: StateCode | None = Field(
        None, description="Where the business is (place of supply of the plan); must be the GSTIN's state."
    )
    billing_address: BillingAddressText | None = Field(None, description="One line, printed on the SaaS's invoices.")
