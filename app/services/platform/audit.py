"""The audit trail: one row per write, in the same transaction as the write."""

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.models.platform.audit import AuditLog
from app.repositories.platform.audit import AuditRepository

ACTOR_KEY = "actor_user_id"
NEVER_AUDITED = {"password_hash", "token_hash"}


def set_actor(session: AsyncSession, user_id: uuid.UUID | None) -> None:
    session.info[ACTOR_KEY] = user_id


def snapshot(obj: Any, fields: list[str]) -> dict[str, Any]:
    return {name: jsonable(getattr(obj, name)) for name in fields if name not in NEVER_AUDITED}


def jsonable(value: Any) -> Any:
    """Values as JSON (audit snapshots, event payloads): money and ids as strings, dates and times in
    ISO 8601, enums by value, dicts and lists element by element."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (uuid.UUID, Decimal)):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


async def record(
    session: AsyncSession,
    *,
    action: str,
    entity_type: str,
    entity_id: uuid.UUID | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    entry = {"action": action, "entity_type": entity_type, "entity_id": entity_id, "before": before, "after": after}
    await record_many(session, [entry])


async def record_many(session: AsyncSession, entries: list[dict[str, Any]]) -> None:
    """Audit rows in one INSERT, each with the request's actor, IP, user agent and request id."""
    await AuditRepository(session).add_many(rows(session, entries))


def rows(session: AsyncSession, entries: list[dict[str, Any]]) -> list[AuditLog]:
    """The audit rows of `entries` (not yet written), each with the request's actor, IP, user agent
    and request id: for a repository that writes them in the same statement as the change."""
    info = session.info
    return [_row(info, **entry) for entry in entries]


def _row(
    info: dict[str, Any],
    *,
    action: str,
    entity_type: str,
    entity_id: uuid.UUID | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditLog:
    return AuditLog(
        actor_user_id=info.get(ACTOR_KEY),
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        before=before,
        after=after,
        ip=info.get("ip"),
        user_agent=info.get("user_agent"),
        request_id=info.get("request_id"),
    )
