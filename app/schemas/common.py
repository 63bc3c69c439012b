"""Shared schema pieces: strict request bodies, pages, problem details, field types."""

import re
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, model_validator

from app.core.counting import COUNT_CAP, count_slot

T = TypeVar("T")

# Every query parameter (QueryTextMiddleware refuses the rest before routing, declared or not).
QUERY_TEXT = r"^[^\x00-\x1f\x7f-\x9f]*$"

# Text people type: names and other free text. Never anywhere: control characters (C0, DEL, C1),
# the line and paragraph separators, bidi embeddings, overrides, isolates and marks (U+202A-202E,
# U+2066-2069, LRM, RLM, ALM), zero-width space, word joiner and invisible operators, BOM.
_CONTROLS_BUT_LINES = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
_HIDDEN = r"\u061c\u180e\u200b\u200e\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
# Allowed inside, never at either end, so that no text is made of them alone: whitespace, and the
# invisible characters some scripts need (ZWNJ and ZWJ shape Indic conjuncts; the soft hyphen,
# the combining grapheme joiner, variation selectors) or that only look blank (Hangul fillers,
# the blank braille pattern).
_BLANK = r"\s\u00ad\u034f\u115f\u1160\u200c\u200d\u2800\u3164\ufe00-\ufe0f\uffa0"
_EDGE = f"[^{_CONTROLS_BUT_LINES}\\t\\n\\r{_HIDDEN}{_BLANK}]"


def _text_pattern(inner: str) -> str:
    return f"^{_EDGE}(?:[^{inner}{_HIDDEN}]*{_EDGE})?$"


# One line: no CR, LF or tab either. Multi-line (notes, terms): CR, LF and tab inside.
SINGLE_LINE = _text_pattern(_CONTROLS_BUT_LINES + r"\t\n\r")
MULTI_LINE = _text_pattern(_CONTROLS_BUT_LINES)


def _free_text(pattern: str, max_length: int, example: str | None, trim: bool) -> Any:
    return Annotated[
        str,
        StringConstraints(strip_whitespace=trim, min_length=1, max_length=max_length, pattern=pattern),
        Field(examples=[example] if example else None),
    ]


def single_line(max_length: int, *, example: str | None = None, trim: bool = False) -> Any:
    """The one type of every name and single-line text field (what the spec accepts is stored;
    trim=True also accepts blanks around it and stores the text without them)."""
    return _free_text(SINGLE_LINE, max_length, example, trim)


def multi_line(max_length: int, *, example: str | None = None, trim: bool = False) -> Any:
    """Free text that may run over lines: notes, terms."""
    return _free_text(MULTI_LINE, max_length, example, trim)


Name = single_line(200)
# Email addresses we accept: a dot-atom local part and a DNS-shaped domain with an alphabetic
# TLD. Stated as a pattern so that the OpenAPI spec says exactly what is valid. Stored lower-cased.
EMAIL_PATTERN = (
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_lower=True, min_length=6, max_length=254, pattern=EMAIL_PATTERN),
    Field(examples=["asha@example.in"]),
]
# A phone number as written: digits, spaces, brackets and dashes, an optional leading "+", no blank
# at either end (nothing is trimmed), at most 20 characters in all (the columns' size).
Phone = Annotated[
    str, StringConstraints(pattern=r"^\+?[0-9()-][0-9 ()-]{4,17}[0-9()-]$"), Field(examples=["+91 98450 12345"])
]

# A plan's code (plans.code is VARCHAR(20); the seeded ones: trial, free, standard, premium).
PlanCode = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,19}$"), Field(examples=["standard"])]


ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?)?$")


def _iso_datetime(value: Any) -> Any:
    """ISO 8601 only (pydantic would also take "0.5" as a Unix timestamp); naive means UTC."""
    if isinstance(value, str):
        if not ISO_DATETIME.match(value):
            raise ValueError("expected an ISO 8601 date or date-time, e.g. 2026-04-01T00:00:00+05:30")
        parsed = datetime.fromisoformat(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return value


IsoDateTime = Annotated[datetime, BeforeValidator(_iso_datetime)]


class RequestBody(BaseModel):
    """Every request body: unknown fields are rejected (no mass assignment)."""

    model_config = ConfigDict(extra="forbid")


class ReadModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def _properties_not_required(schema: dict[str, Any]) -> None:
    schema.pop("required", None)


class SelectableRead(ReadModel):
    """A read that `?fields=` can trim: its schema lists the properties without requiring them."""

    model_config = ConfigDict(from_attributes=True, json_schema_extra=_properties_not_required)


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(None, description="Pass as `cursor` to get the next page; null on the last page.")
    total: int | None = Field(
        None,
        description=f"With `count=true`: how many items match the list's filters over all pages, counted up to "
        f"{COUNT_CAP:,} (beyond that `total` is {COUNT_CAP:,} and `total_capped` true); null otherwise.",
    )
    total_capped: bool | None = Field(
        None, description=f"With `count=true`: true when more than {COUNT_CAP:,} items match; null otherwise."
    )

    @model_validator(mode="after")
    def _counted(self) -> "Page[T]":
        """The total the request's list query counted (app/core/counting.py), when `count=true`."""
        slot = count_slot()
        answer = slot.answer() if slot is not None else None
        if answer is not None and self.total is None:
            self.total, self.total_capped = answer
        return self


class FieldError(BaseModel):
    loc: list[str]
    msg: str
    type: str


class Problem(BaseModel):
    """RFC 9457 problem details (media type application/problem+json): every error answer."""

    type: str = Field(examples=["https://rms-billing.dev/problems/not-found"])
    title: str
    status: int
    detail: str
    code: str = Field(
        description="What went wrong, stable and machine-readable: one of ProblemCode (new codes may be added).",
        examples=["not-found"],
    )
    errors: list[FieldError] | None = Field(
        None, description="Validation errors and rule violations: the fields at fault, one entry each."
    )
    request_id: str | None = Field(None, description="A 500's request id, to quote when reporting it.")

    model_config = ConfigDict(extra="allow")


class QuotaProblem(BaseModel):
    """A 402's Problem, with what the plan allows when the code is `quota-exceeded` and the plan to
    pay for when it is `payment-required` (`subscription-locked` carries neither)."""

    limit: str | None = Field(None, description="The plan limit reached.", examples=["invoices_per_month"])
    limit_value: int | None = Field(None, description="What the plan allows.")
    used: int | None = Field(None, description="What is used in the current period.")
    upgrade_plans: list[str] | None = Field(None, description="The plans that lift the limit.")
    plan: str | None = Field(None, description="The plan the change needs paid (`payment-required`).")
    upgrade_url: str | None = Field(None, description="Where to start the payment (`payment-required`).")


class Accepted(BaseModel):
    detail: str


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Error answers an operation documents; app/api/openapi.py points each at the shared Problem."""
    return {status: {"description": HTTPStatus(status).phrase} for status in statuses}
