"""The Idempotency-Key claim in three statements (app.repositories.platform.idempotency): an expired key is
deleted and the lock wait bounded in one, and the transaction's lock_timeout is what it was after."""

from datetime import timedelta

from sqlalchemy import func, select, text

from app.models.base import utcnow
from app.repositories.platform.idempotency import IdempotencyRepository
from tests.factories import make_tenant


async def _claim(repo: IdempotencyRepository, key: str, *, now, ttl: timedelta) -> bool:
    return await repo.claim(
        key, method="POST", path="/x", request_hash="0" * 64, now=now, expires_at=now + ttl, wait_seconds=0.25
    )


async def test_the_claim_restores_lock_timeout_and_replaces_an_expired_key(app, client):
    rt = app.state.runtime
    tenant_id = (await make_tenant(client)).tenant_id
    now = utcnow()
    async with rt.db.transaction(tenant_id) as session:
        await session.execute(text("SET LOCAL lock_timeout = '7s'"))
        repo = IdempotencyRepository(session)
        assert await _claim(repo, "k-1", now=now, ttl=timedelta(seconds=1))
        assert (await session.execute(select(func.current_setting("lock_timeout")))).scalar_one() == "7s"
        assert not await _claim(repo, "k-1", now=now, ttl=timedelta(hours=1)), "a live key is claimed once"
        # later, once it has expired, the same key is deleted and claimed again
        assert await _claim(repo, "k-1", now=now + timedelta(seconds=2), ttl=timedelta(hours=1))
        assert (await session.execute(select(func.current_setting("lock_timeout")))).scalar_one() == "7s"
