from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DBAPIError

from app.models.platform.idempotency import IdempotencyKey
from app.repositories.base import TenantOwnedRepository

LOCK_NOT_AVAILABLE = "55P03"


class KeyLocked(Exception):
    """Another transaction holds the key and did not finish within the wait."""


class IdempotencyRepository(TenantOwnedRepository[IdempotencyKey]):
    model = IdempotencyKey

    async def claim(
        self,
        key: str,
        *,
        method: str,
        path: str,
        request_hash: str,
        now: datetime,
        expires_at: datetime,
        wait_seconds: float,
    ) -> bool:
        """Insert the key (an expired one is deleted first); False if it exists. Waits (bounded) on a
        concurrent uncommitted claim. Three statements: (expired key gone, lock_timeout bounded),
        the insert, lock_timeout restored."""
        previous = await self._bound_lock_wait(key, now, wait_seconds)
        stmt = (
            insert(IdempotencyKey)
            .values(
                tenant_id=self.tenant_id,
                key=key,
                method=method,
                path=path,
                request_hash=request_hash,
                state="in_flight",
                expires_at=expires_at,
            )
            .on_conflict_do_nothing(index_elements=[IdempotencyKey.tenant_id, IdempotencyKey.key])
            .returning(IdempotencyKey.key)
        )
        try:
            inserted = (await self.session.execute(stmt)).scalar_one_or_none()
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) == LOCK_NOT_AVAILABLE:
                raise KeyLocked from exc
            raise
        await self.session.execute(select(func.set_config("lock_timeout", previous, True)))
        return inserted is not None

    async def _bound_lock_wait(self, key: str, now: datetime, wait_seconds: float) -> str:
        """Delete the key if it has expired and set this transaction's lock_timeout to the wait, in
        one statement; return the lock_timeout it had. The previous value is read in a MATERIALIZED
        CTE, which PostgreSQL evaluates before the outer select list (and so before set_config)."""
        expired = (
            delete(IdempotencyKey)
            .where(
                IdempotencyKey.tenant_id == self.tenant_id, IdempotencyKey.key == key, IdempotencyKey.expires_at <= now
            )
            .returning(IdempotencyKey.key)
            .cte("expired")
        )
        previous = (
            select(func.current_setting("lock_timeout").label("value")).cte("previous").prefix_with("MATERIALIZED")
        )
        stmt = (
            select(previous.c.value, func.set_config("lock_timeout", f"{int(wait_seconds * 1000)}ms", True))
            .select_from(previous)
            .add_cte(expired)
        )
        return str((await self.session.execute(stmt)).one()[0])

    async def find(self, key: str) -> IdempotencyKey | None:
        stmt = select(IdempotencyKey).where(IdempotencyKey.key == key)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def complete(self, key: str, status: int, body: Any) -> None:
        await self.session.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.key == key)
            .values(state="completed", response_status=status, response_body={"body": body})
        )
