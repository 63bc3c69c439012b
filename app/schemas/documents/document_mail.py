"""Sending documents to customers (POST /invoices/{id}/send ...) and the mail about a document
(GET /invoices/{id}/deliveries)."""

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BeforeValidator, ConfigDict, Field

from app.models.platform.outbox import MAX_RECIPIENTS, OutboxEmail, OutboxStatus
from app.schemas.billing.business_fields import IsoDate
from app.schemas.common import Email, Page, ReadModel, RequestBody, multi_line, single_line


def _one_line(value: object) -> object:
    """A line break in an address is a header injection attempt: refused, not trimmed away."""
    if isinstance(value, str) and any(c in value for c in "\r\n"):
        raise ValueError("an email address is one line")
    return value


# The project's email type, refusing (not trimming) line breaks.
MailAddress = Annotated[Email, BeforeValidator(_one_line)]
Subject = single_line(200, example="Invoice INV/26-27/00042 from Sharma Traders")
Message = multi_line(2000, example="Thank you for your business. Please find the invoice attached.")


class SendRequest(RequestBody):
    to: Annotated[list[MailAddress] | None, Field(min_length=1, max_length=MAX_RECIPIENTS)] = Field(
        None, description="Recipients; the customer's email when omitted (422 `no-recipient` when it has none)."
    )
    cc: Annotated[list[MailAddress], Field(max_length=MAX_RECIPIENTS)] = Field(default_factory=list)
    subject: Subject | None = Field(None, description="Replaces the default subject (one line).")
    message: Message | None = Field(None, description="A note shown above the document's details.")
    attach_pdf: bool = Field(True, description="Attach the document's PDF (rendered when the mail is delivered).")


class InvoiceSendRequest(SendRequest):
    share_link: bool = Field(
        True,
        description="Include a fresh share link to the invoice's public page (view, download, pay by UPI); "
        "it appears in `GET /invoices/{id}/share` and can be revoked there.",
    )


class StatementPeriod(RequestBody):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    start: IsoDate | None = Field(None, alias="from", description="Default: the start of the financial year.")
    end: IsoDate | None = Field(None, alias="to", description="Default: today (India).")


class StatementSendRequest(SendRequest):
    period: StatementPeriod = Field(default_factory=StatementPeriod, description="The statement's period.")


DeliveryState = Literal["queued", "sent", "failed", "cancelled"]


class DeliveryRead(ReadModel):
    id: uuid.UUID
    state: DeliveryState = Field(description="queued (not yet sent; retried after a failure), sent, failed (gave up).")
    purpose: Literal["account", "document", "reminder"]
    to: list[str]
    cc: list[str]
    subject: str
    attachments: int = Field(description="How many PDFs the mail carries.")
    attempts: int
    last_error: str | None = Field(description="Why the last attempt failed (the SMTP server's answer).")
    created_at: datetime
    sent_at: datetime | None
    next_attempt_at: datetime | None

    @classmethod
    def of(cls, row: OutboxEmail, *, max_attempts: int) -> "DeliveryRead":
        state: DeliveryState = "queued"
        if row.status == OutboxStatus.sent:
            state = "sent"
        elif row.status == OutboxStatus.cancelled:
            state = "cancelled"  # not sent on purpose: last_error says why
        elif row.status == OutboxStatus.failed or row.attempts >= max_attempts:
            state = "failed"  # rows older than migration 0018 gave up as pending at the cap
        return cls(
            id=row.id,
            state=state,
            purpose=row.purpose,  # type: ignore[arg-type]
            to=list(row.to_addresses or [row.to_address]),
            cc=list(row.cc_addresses or []),
            subject=row.subject,
            attachments=len(row.attachments or []),
            attempts=row.attempts,
            last_error=row.last_error,
            created_at=row.created_at,
            sent_at=row.sent_at,
            next_attempt_at=row.next_attempt_at if state == "queued" else None,
        )


DeliveryPage = Page[DeliveryRead]
