import uuid
from datetime import date, datetime

from app.schemas.billing.business_fields import DecimalOut, IsoDate, Rate, text
from app.schemas.common import RequestBody, SelectableRead

RateName = text(50, example="GST 18%")


class TaxRateCreate(RequestBody):
    """A rate in force from `effective_from` until `effective_to` (inclusive; null = open)."""

    name: RateName | None = None
    rate: Rate
    effective_from: IsoDate
    effective_to: IsoDate | None = None


class TaxRateUpdate(RequestBody):
    """Rename a rate, or close it: `effective_to` (inclusive) is today or later, never in the past."""

    name: RateName = None
    effective_to: IsoDate = None


class TaxRateRevision(RequestBody):
    """A new rate replacing this one from `effective_from` (today or later); the old one closes the
    day before."""

    rate: Rate
    effective_from: IsoDate
    name: RateName | None = None


class TaxRateRead(SelectableRead):
    id: uuid.UUID
    name: str
    rate: DecimalOut
    effective_from: IsoDate
    effective_to: date | None
    created_at: datetime
    updated_at: datetime
