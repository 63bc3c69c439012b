"""Client types, account managers and service types: the tenant's small catalogs."""

import uuid
from datetime import datetime
from decimal import Decimal

from pydantic import StrictBool

from app.schemas.billing.business_fields import DecimalOut, Rate, SacHsn, decimal_string, text
from app.schemas.common import Email, Phone, RequestBody, SelectableRead

# A service's default unit price: the bound of an invoice line's unit price (app/schemas/billing/invoices.py).
UnitRate = decimal_string(r"^[0-9]{1,7}(\.[0-9]{1,2})?$", "1500.00")


class ClientTypeCreate(RequestBody):
    name: text(100, example="Retail")
    is_active: StrictBool = True


class ClientTypeUpdate(RequestBody):
    """Fields left out stay as they are."""

    name: text(100) = None
    is_active: StrictBool = None


class ClientTypeRead(SelectableRead):
    id: uuid.UUID
    name: str
    is_active: bool
    created_at: datetime
    updated_at: datetime


class AccountManagerCreate(RequestBody):
    name: text(200, example="Priya Nair")
    email: Email | None = None
    phone: Phone | None = None
    is_active: StrictBool = True


class AccountManagerUpdate(RequestBody):
    """Fields left out stay as they are; email and phone can be cleared with null."""

    name: text(200) = None
    email: Email | None = None
    phone: Phone | None = None
    is_active: StrictBool = None


class AccountManagerRead(SelectableRead):
    id: uuid.UUID
    name: str
    email: str | None
    phone: str | None
    is_active: bool
    created_at: datetime
    updated_at: datetime


class ServiceTypeCreate(RequestBody):
    """`default_gst_rate` must be one of the tenant's tax rates in force today."""

    name: text(200, example="Annual maintenance")
    sac_hsn_code: SacHsn | None = None
    unit: text(20, example="hour") | None = None
    default_rate: UnitRate = Decimal("0.00")
    default_gst_rate: Rate = Decimal("18.00")
    is_active: StrictBool = True


class ServiceTypeUpdate(RequestBody):
    """Fields left out stay as they are."""

    name: text(200) = None
    sac_hsn_code: SacHsn | None = None
    unit: text(20) | None = None
    default_rate: UnitRate = None
    default_gst_rate: Rate = None
    is_active: StrictBool = None


class ServiceTypeRead(SelectableRead):
    id: uuid.UUID
    name: str
    sac_hsn_code: str | None
    unit: str | None
    default_rate: DecimalOut
    default_gst_rate: DecimalOut
    is_active: bool
    created_at: datetime
    updated_at: datetime
