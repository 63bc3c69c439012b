"""Field types of the business configuration, each stated as a pattern so that the OpenAPI spec
says exactly what is valid (rules no pattern can state, like a GSTIN's check character, are
checked by the services and answered 400)."""

import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, StringConstraints, WithJsonSchema

from app.domain.gst import EXPORT_PLACE_OF_SUPPLY, STATE_CODES
from app.schemas.common import multi_line, single_line

T = TypeVar("T")
CENTS = Decimal("0.01")


def text(max_length: int, *, example: str | None = None) -> Any:
    """A single-line field (app/schemas/common.py), trimmed before it is stored."""
    return single_line(max_length, example=example, trim=True)


def long_text(max_length: int, *, example: str | None = None) -> Any:
    """A multi-line field (notes, terms), trimmed before it is stored."""
    return multi_line(max_length, example=example, trim=True)


def code(pattern: str, example: str, *, upper: bool = True) -> Any:
    """An identifier in a fixed format, upper-cased when stored."""
    return Annotated[str, StringConstraints(pattern=pattern, to_upper=upper), Field(examples=[example])]


Gstin = code(r"^[0-9]{2}[A-Za-z]{5}[0-9]{4}[A-Za-z][1-9A-Za-z][Zz][0-9A-Za-z]$", "27AAPFU0939F1ZV")
Pan = code(r"^[A-Za-z]{5}[0-9]{4}[A-Za-z]$", "AAPFU0939F")
Ifsc = code(r"^[A-Za-z]{4}0[A-Za-z0-9]{6}$", "HDFC0001234")
Pincode = code(r"^[1-9][0-9]{5}$", "400001")
UpiVpa = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9._-]{2,64}@[A-Za-z][A-Za-z0-9]{1,34}$", to_lower=True),
    Field(examples=["sharma.traders@okhdfc"]),
]
SacHsn = code(r"^[0-9]{4}([0-9]{2}){0,2}$", "998314")
# A supplier's state: any GST state code but 96 (other countries is a place of supply only).
StateCode = Literal[*sorted(c for c in STATE_CODES if c != EXPORT_PLACE_OF_SUPPLY)]


def _decimal_string(pattern: str) -> Any:
    compiled = re.compile(pattern)

    def check(value: Any) -> Any:
        if not isinstance(value, str) or not compiled.match(value):
            raise ValueError(f"expected a decimal string matching {pattern}")
        return value

    return check


def decimal_string(pattern: str, example: str, places: Decimal = CENTS) -> Any:
    """A Decimal that JSON carries as a string (never a float), in the format `pattern`, at the
    database's scale (the pattern allows no more places, so nothing is rounded)."""
    schema = {"type": "string", "pattern": pattern, "examples": [example]}
    return Annotated[
        Decimal,
        BeforeValidator(_decimal_string(pattern)),
        AfterValidator(lambda value: value.quantize(places)),
        WithJsonSchema(schema, mode="validation"),
    ]


Money = decimal_string(r"^[0-9]{1,16}(\.[0-9]{1,2})?$", "1500.00")
Rate = decimal_string(r"^(100(\.0{1,2})?|[0-9]{1,2}(\.[0-9]{1,2})?)$", "18")
# Years 1900-2999: asyncpg sends date.min and date.max as -infinity and infinity, and nothing a
# business bills needs dates that far out (a date series to 9999 never ends).
ISO_DATE_PATTERN = r"^(19|2[0-9])[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
ISO_DATE = re.compile(ISO_DATE_PATTERN)


def _iso_date(value: Any) -> Any:
    """YYYY-MM-DD only (pydantic would also take 0 or "0" as a Unix timestamp), years 1900-2999."""
    text = value.isoformat() if isinstance(value, date) else value
    if not isinstance(text, str) or not ISO_DATE.match(text):
        raise ValueError("expected a date as YYYY-MM-DD between 1900-01-01 and 2999-12-31")
    return value


IsoDate = Annotated[
    date,
    BeforeValidator(_iso_date),
    WithJsonSchema({"type": "string", "format": "date", "pattern": ISO_DATE_PATTERN}, mode="validation"),
]


def _json_integer(value: Any) -> Any:
    if isinstance(value, (bool, str)):
        raise ValueError("expected an integer")
    return value


# A JSON Schema integer: 41 and 41.0, not true or "41".
Integer = Annotated[int, BeforeValidator(_json_integer)]


def integer(minimum: int, maximum: int) -> Any:
    return Annotated[int, Field(ge=minimum, le=maximum), BeforeValidator(_json_integer)]


# Reads: what the database holds, as strings ("18.00").
DecimalOut = Annotated[Decimal, WithJsonSchema({"type": "string", "examples": ["18.00"]}, mode="serialization")]


class Removal(BaseModel, Generic[T]):
    """What DELETE did: removed the row, or kept it (archived/deactivated) because documents use it."""

    outcome: Literal["deleted", "archived", "deactivated"]
    item: T
