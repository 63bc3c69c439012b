"""Idempotency-Key: a retried write returns the first response instead of acting twice.

The key is claimed (inserted) in the request's own transaction before the operation runs, and
the response is stored in that same transaction: effect and stored response commit together,
and a failure rolls both back, so the client may retry the same key. A concurrent duplicate's
insert waits on the first one's uncommitted row; when the first commits, the duplicate replays
its stored response. A duplicate that waits longer than IDEMPOTENCY_WAIT_SECONDS answers 409.
A replay must have the same method, path and body (else 422). Keys are per tenant and kept
IDEMPOTENCY_TTL_HOURS (at least 24).
"""

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.context import Context
from app.core.errors import IdempotencyKeyInFlight, IdempotencyKeyReused
from app.repositories.platform.idempotency import IdempotencyRepository, KeyLocked


@dataclass(frozen=True)
class IdempotentRequest:
    key: str
    method: str
    path: str
    body: bytes

    def fingerprint(self) -> str:
        try:
            canonical = json.dumps(json.loads(self.body or b"null"), sort_keys=True, separators=(",", ":")).encode()
        except ValueError:
            canonical = self.body
        return hashlib.sha256(self.method.encode() + b" " + self.path.encode() + b"\n" + canonical).hexdigest()


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: Any
    replayed: bool = False


async def run(
    session: AsyncSession,
    ctx: Context,
    request: IdempotentRequest,
    status: int,
    operation: Callable[[], Awaitable[Any]],
) -> StoredResponse:
    """Run operation once per key; `operation` returns the JSON-ready body of a success."""
    repo = IdempotencyRepository(session)
    now = ctx.now
    fingerprint = request.fingerprint()
    try:
        claimed = await repo.claim(
            request.key,
            method=request.method,
            path=request.path,
            request_hash=fingerprint,
            now=now,
            expires_at=now + timedelta(hours=ctx.settings.idempotency_ttl_hours),
            wait_seconds=ctx.settings.idempotency_wait_seconds,
        )
    except KeyLocked as exc:
        detail = "A request with this Idempotency-Key is still in progress; retry shortly."
        raise IdempotencyKeyInFlight(detail) from exc
    if not claimed:
        return await _replay(repo, request.key, fingerprint)
    body = await operation()
    await repo.complete(request.key, status, body)
    return StoredResponse(status, body)


async def _replay(repo: IdempotencyRepository, key: str, fingerprint: str) -> StoredResponse:
    existing = await repo.find(key)
    if existing is None or existing.response_status is None or existing.response_body is None:
        # The row the claim collided with has since expired and been cleaned up, or (never stored
        # so) is not completed: nothing to replay, and a retry claims the key afresh.
        raise IdempotencyKeyInFlight("A request with this Idempotency-Key is still in progress; retry shortly.")
    if existing.request_hash != fingerprint:
        raise IdempotencyKeyReused("This Idempotency-Key was used for a different request.")
    return StoredResponse(existing.response_status, existing.response_body["body"], replayed=True)
