"""Shared schema pieces: strict request bodies, pages, problem details, field types."""

from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

T = TypeVar("T")

# Text from users: no NUL bytes or other control characters, trimmed, bounded.
NO_CONTROL_CHARS = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=NO_CONTROL_CHARS)]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9 ()-]{6,20}$")]


class RequestBody(BaseModel):
    """Every request body: unknown fields are rejected (no mass assignment)."""

    model_config = ConfigDict(extra="forbid")


class ReadModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(None, description="Pass as `cursor` to get the next page; null on the last page.")


class FieldError(BaseModel):
    loc: list[str]
    msg: str
    type: str


class Problem(BaseModel):
    """RFC 9457 problem details (media type application/problem+json)."""

    type: str = Field(examples=["https://rms-billing.dev/problems/not-found"])
    title: str
    status: int
    detail: str
    code: str
    errors: list[FieldError] | None = None

    model_config = ConfigDict(extra="allow")


class Accepted(BaseModel):
    detail: str


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {
        status: {"model": Problem, "content": {"application/problem+json": {"schema": Problem.model_json_schema()}}}
        for status in statuses
    }
