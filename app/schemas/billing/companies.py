import uuid
from datetime import datetime
from typing import Any

from pydantic import ConfigDict, computed_field, model_validator

from app.domain.gst import STATE_CODES
from app.schemas.billing.business_fields import Gstin, Ifsc, Pan, Pincode, StateCode, UpiVpa, code, long_text, text
from app.schemas.common import Email, Phone, RequestBody, SelectableRead

Terms = long_text(4000, example="Payment within 15 days of the invoice date.")
AccountNumber = code(r"^[0-9A-Za-z]{6,34}$", "50200012345678")


def _gstin_or_state_code(schema: dict[str, Any]) -> None:
    schema["anyOf"] = [{"required": ["gstin"]}, {"required": ["state_code"]}]


class CompanyFields(RequestBody):
    """Fields left out stay as they are (on update) or empty (on create)."""

    trade_name: text(200) | None = None
    pan: Pan | None = None
    address_line1: text(200) | None = None
    address_line2: text(200) | None = None
    city: text(100) | None = None
    pincode: Pincode | None = None
    email: Email | None = None
    phone: Phone | None = None
    bank_account_name: text(200) | None = None
    bank_account_number: AccountNumber | None = None
    ifsc: Ifsc | None = None
    upi_vpa: UpiVpa | None = None
    default_terms: Terms | None = None


class CompanyCreate(CompanyFields):
    """A GSTIN fixes the state; without one, `state_code` is required. A PAN must be the GSTIN's
    characters 3-12."""

    model_config = ConfigDict(json_schema_extra=_gstin_or_state_code)

    legal_name: text(200, example="Sharma Traders Private Limited")
    gstin: Gstin = None
    state_code: StateCode = None

    @model_validator(mode="after")
    def _needs_a_state(self) -> "CompanyCreate":
        if self.gstin is None and self.state_code is None:
            raise ValueError("give a GSTIN or, for an unregistered company, a state_code")
        return self


class CompanyUpdate(CompanyFields):
    """Changing the GSTIN moves the state to the GSTIN's; `gstin: null` unregisters the company
    (its state stays)."""

    legal_name: text(200) = None
    gstin: Gstin | None = None
    state_code: StateCode = None


class CompanyRead(SelectableRead):
    id: uuid.UUID
    legal_name: str
    trade_name: str | None
    gstin: str | None
    pan: str | None
    state_code: str
    address_line1: str | None
    address_line2: str | None
    city: str | None
    pincode: str | None
    email: str | None
    phone: str | None
    bank_account_name: str | None
    bank_account_number: str | None
    ifsc: str | None
    upi_vpa: str | None
    default_terms: str | None
    is_archived: bool
    created_at: datetime
    updated_at: datetime

    @computed_field(description="The state's name, e.g. Karnataka for 29.")
    @property
    def state_name(self) -> str:
        return STATE_CODES[self.state_code]

    @computed_field(description="As a screen names the company: its trade name, else its legal name.")
    @property
    def display_name(self) -> str:
        return self.trade_name or self.legal_name
