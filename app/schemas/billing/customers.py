"""Customers: create, partial update, read, delete outcome.

Every format is a `pattern` in the spec (state codes, GSTIN, PAN, pincode, money), so a request
the schema accepts is never a 422. Rules no schema can state (the GSTIN check character, PAN =
GSTIN characters 3-12, a state code when there is no GSTIN) are 400s; unknown referenced ids, 404s.
"""

import re
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    StrictBool,
    StringConstraints,
    WithJsonSchema,
    computed_field,
)

from app.domain.gst import STATE_CODES
from app.models.billing.customer import Customer
from app.schemas.common import Email, Phone, RequestBody, SelectableRead, single_line
from app.schemas.money import CURRENCY, Currency

_STATES = "|".join(sorted(STATE_CODES))
STATE_CODE_PATTERN = f"^({_STATES})$"
GSTIN_PATTERN = f"^({_STATES})[A-Za-z]{{5}}[0-9]{{4}}[A-Za-z][1-9A-Za-z][Zz][0-9A-Za-z]$"
PAN_PATTERN = "^[A-Za-z]{3}[ABCFGHJKLPTabcfghjklpt][A-Za-z][0-9]{4}[A-Za-z]$"
MONEY_PATTERN = r"^-?[0-9]{1,16}(\.[0-9]{1,2})?$"
PAISA = Decimal("0.01")

StateCode = Annotated[str, StringConstraints(pattern=STATE_CODE_PATTERN), Field(examples=["29"])]
Gstin = Annotated[str, StringConstraints(to_upper=True, pattern=GSTIN_PATTERN), Field(examples=["29AABCT3518Q1ZS"])]
Pan = Annotated[str, StringConstraints(to_upper=True, pattern=PAN_PATTERN), Field(examples=["AABCT3518Q"])]
Pincode = Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]{5}$"), Field(examples=["560001"])]


# Text is taken as sent (no trimming): what the spec's pattern accepts is what is stored.
def _text(max_length: int, example: str) -> Any:
    return single_line(max_length, example=example)


CustomerName = _text(200, "Sharma Stores")
AddressLine = _text(200, "12 MG Road")
City = _text(100, "Bengaluru")


def _money(pattern: str):
    compiled = re.compile(pattern)

    def parse(value: Any) -> Decimal:
        if not isinstance(value, str) or not compiled.match(value):
            raise ValueError('expected a decimal string with at most 2 decimal places, e.g. "1180.00"')
        return Decimal(value).quantize(PAISA)

    schema = {"type": "string", "pattern": pattern, "examples": ["1180.00"]}
    return PlainValidator(parse, json_schema_input_type=str), WithJsonSchema(schema, mode="validation")


# Money in requests: a decimal string (never a JSON number, which would pass through float).
Money = Annotated[Decimal, *_money(MONEY_PATTERN)]
NonNegativeMoney = Annotated[Decimal, *_money(MONEY_PATTERN.replace("^-?", "^"))]


def _json_integer(value: Any) -> Any:
    if isinstance(value, (bool, str)):
        raise ValueError("expected an integer")
    return value


# A JSON Schema integer (30 or 30.0, not true or "30"). The bounds come before the validator, or
# pydantic leaves them out of the spec's minimum/maximum.
Days = Annotated[int, Field(ge=0, le=365, description="Payment terms in days."), BeforeValidator(_json_integer)]


class BillingAddress(RequestBody):
    line1: AddressLine | None = None
    line2: AddressLine | None = None
    city: City | None = None
    state_code: StateCode | None = Field(None, description="Derived from the GSTIN when there is one, else required.")
    pincode: Pincode | None = None


class ShippingAddress(RequestBody):
    line1: AddressLine | None = None
    line2: AddressLine | None = None
    city: City | None = None
    state_code: StateCode
    pincode: Pincode | None = None


EXAMPLE = {
    "name": "Tata Consultancy Services",
    "gstin": "29AABCT3518Q1ZS",
    "email": "accounts@example.in",
    "phone": "+91 80 4000 1234",
    "billing_address": {"line1": "12 MG Road", "city": "Bengaluru", "state_code": "29", "pincode": "560001"},
    "payment_terms_days": 30,
    "credit_limit": "500000.00",
    "opening_balance": "0.00",
}


class CustomerCreate(RequestBody):
    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE]})

    name: CustomerName
    client_type_id: uuid.UUID | None = None
    account_manager_id: uuid.UUID | None = None
    gstin: Gstin | None = Field(None, description="Given = registered customer; its state is the billing state.")
    pan: Pan | None = Field(None, description="Defaults to the GSTIN's PAN; must match it when both are given.")
    is_sez: StrictBool = False
    email: Email | None = None
    phone: Phone | None = None
    billing_address: BillingAddress | None = None
    shipping_address: ShippingAddress | None = None
    payment_terms_days: Days | None = None
    credit_limit: NonNegativeMoney | None = None
    opening_balance: Money = Field(Decimal("0.00"), description="Negative = an advance the customer has paid.")
    payment_reminders: StrictBool = Field(
        True, description="Payment reminders go to this customer when the tenant's are on (reminder settings)."
    )


class CustomerUpdate(RequestBody):
    """Only the fields sent change; an address sent replaces the whole address. `null` clears a
    field that may be empty. Changing `opening_balance` moves `balance` by the difference."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"payment_terms_days": 45, "credit_limit": "750000.00"}]})

    # Not nullable (the column is NOT NULL): the default only means "not sent".
    name: CustomerName = None  # type: ignore[assignment]
    client_type_id: uuid.UUID | None = None
    account_manager_id: uuid.UUID | None = None
    gstin: Gstin | None = None
    pan: Pan | None = None
    is_sez: StrictBool = None  # type: ignore[assignment]
    email: Email | None = None
    phone: Phone | None = None
    billing_address: BillingAddress | None = None
    shipping_address: ShippingAddress | None = None
    payment_terms_days: Days | None = None
    credit_limit: NonNegativeMoney | None = None
    opening_balance: Money = None  # type: ignore[assignment]
    payment_reminders: StrictBool = None  # type: ignore[assignment]


ADDRESS_PARTS = ("line1", "line2", "city", "state_code", "pincode")


def address_columns(kind: str, address: BaseModel | None) -> dict[str, Any]:
    """BillingAddress -> billing_address_line1, ..., billing_state_code, billing_pincode."""
    values = address.model_dump() if address is not None else {}
    return {_column(kind, part): values.get(part) for part in ADDRESS_PARTS}


def _column(kind: str, part: str) -> str:
    return f"{kind}_{part}" if part in ("state_code", "pincode", "city") else f"{kind}_address_{part}"


def to_columns(body: RequestBody) -> dict[str, Any]:
    """The fields sent in the body, as Customer column values."""
    sent = body.model_fields_set
    values = {name: getattr(body, name) for name in sent if not name.endswith("_address")}
    for kind in ("billing", "shipping"):
        if f"{kind}_address" in sent:
            values |= address_columns(kind, getattr(body, f"{kind}_address"))
    return values


class Address(BaseModel):
    line1: str | None
    line2: str | None
    city: str | None
    state_code: str | None
    pincode: str | None


def _address(customer: Customer, kind: str) -> Address | None:
    values = {part: getattr(customer, _column(kind, part)) for part in ADDRESS_PARTS}
    return Address(**values) if any(v is not None for v in values.values()) else None


class CustomerRead(SelectableRead):
    id: uuid.UUID
    name: str
    client_type_id: uuid.UUID | None
    client_type_name: str | None = Field(description="The client type's name; null when none is set.")
    account_manager_id: uuid.UUID | None
    account_manager_name: str | None = Field(description="The account manager's name; null when none is set.")
    gstin: str | None
    pan: str | None
    is_sez: bool
    email: str | None
    phone: str | None
    billing_address: Address
    shipping_address: Address | None
    payment_terms_days: int | None
    credit_limit: Decimal | None
    opening_balance: Decimal
    balance: Decimal = Field(description="What the customer owes now; negative = an advance.")
    currency: Currency = CURRENCY
    is_archived: bool
    payment_reminders: bool
    walk_in_company_id: uuid.UUID | None = Field(
        description="Set on a company's walk-in customer only (counter sales without a named customer, "
        "POST /sales): the company it stands for. Listed only with `walk_in=true`; it cannot be edited or removed."
    )
    created_at: datetime
    updated_at: datetime

    @computed_field
    @property
    def is_registered(self) -> bool:
        return self.gstin is not None

    @classmethod
    def of(cls, customer: Customer, refs: tuple[str | None, str | None] = (None, None)) -> "CustomerRead":
        """`refs`: (client type name, account manager name), as the list's query or
        DisplayNameRepository.customer_refs answers them."""
        plain = {name: getattr(customer, name) for name in cls.model_fields if name not in NOT_COLUMNS}
        return cls(
            **plain,
            billing_address=_address(customer, "billing"),
            shipping_address=_address(customer, "shipping"),
            client_type_name=refs[0],
            account_manager_name=refs[1],
        )


NOT_COLUMNS = {"billing_address", "shipping_address", "client_type_name", "account_manager_name", "currency"}


class CustomerDeletion(BaseModel):
    outcome: Literal["deleted", "archived"] = Field(
        description="`archived` when documents refer to the customer, so it could not be deleted."
    )
    item: CustomerRead


CustomerSort = Literal["name", "-name", "created_at", "-created_at", "balance", "-balance"]
