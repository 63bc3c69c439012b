import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from app.schemas.common import ReadModel


class TenantExportRead(ReadModel):
    """A full export: `pending` (waiting for the worker), `running`, `done` (the link was mailed; the
    zip is kept until `expires_at`), `failed` (after TENANT_EXPORT_MAX_ATTEMPTS; `error` says why) or
    `expired` (the zip was deleted)."""

    id: uuid.UUID
    status: Literal["pending", "running", "done", "failed", "expired"]
    requested_by: uuid.UUID | None
    attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    expires_at: datetime | None = Field(description="Until when the mailed download link works.")
    size_bytes: int | None = Field(description="The zip's size once done.")
    sha256: str | None = Field(description="The zip's SHA-256 (hex) once done.")
    error: str | None


class UserDataExport(BaseModel):
    """GET /users/me/export: what the system holds about the caller as a person (no secrets, no hashes)."""

    format: Literal["rms-billing-user-export"]
    version: int
    user: dict[str, Any]
    tenant: dict[str, Any]
    sessions: list[dict[str, Any]]
    invitations_sent: list[dict[str, Any]]
    email_changes: list[dict[str, Any]]
    audit_entries: list[dict[str, Any]] = Field(description="The newest 10,000 of the caller's audit entries.")
    audit_entries_truncated: bool
