"""Fixed-window rate limits kept in PostgreSQL, so every API worker shares them."""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import TooManyRequests
from app.repositories.identity.rate_limits import RateLimitRepository


@dataclass(frozen=True)
class Limit:
    scope: str  # e.g. "login:email"
    key: str  # the email or IP; only its hash is stored
    max_hits: int
    window_seconds: int

    def bucket(self) -> str:
        return f"{self.scope}:{hashlib.sha256(self.key.encode()).hexdigest()[:40]}"

    def refund_bucket(self) -> str:
        return f"{self.bucket()}:refund"

    def window_start(self, now: datetime) -> datetime:
        epoch = int(now.timestamp())
        return datetime.fromtimestamp(epoch - epoch % self.window_seconds, tz=now.tzinfo)

    def retry_after(self, now: datetime) -> int:
        end = self.window_start(now) + timedelta(seconds=self.window_seconds)
        return int((end - now).total_seconds()) + 1


async def reserve(session: AsyncSession, limits: list[Limit], now: datetime) -> None:
    """Count an attempt before it runs, so that concurrent attempts cannot all pass the check;
    raise 429 if that takes any limit over (the caller's rollback then uncounts it).
    Attempts that turn out fine are given back with `refund`: what counts is attempts - refunds."""
    repo = RateLimitRepository(session)
    for limit in limits:
        window = limit.window_start(now)
        attempts = await repo.increment(limit.bucket(), window)
        if attempts - await repo.hits(limit.refund_bucket(), window) > limit.max_hits:
            raise TooManyRequests(limit.retry_after(now), "Too many attempts; try again later.")


async def refund(session: AsyncSession, limits: list[Limit], now: datetime) -> None:
    repo = RateLimitRepository(session)
    for limit in limits:
        await repo.increment(limit.refund_bucket(), limit.window_start(now))


async def consume(session: AsyncSession, limits: list[Limit], now: datetime) -> None:
    """Count this attempt, then refuse it if it went over a limit."""
    repo = RateLimitRepository(session)
    for limit in limits:
        if await repo.increment(limit.bucket(), limit.window_start(now)) > limit.max_hits:
            raise TooManyRequests(limit.retry_after(now), "Too many requests; try again later.")


async def allow(session: AsyncSession, limit: Limit, now: datetime) -> bool:
    """Count this occurrence; False once it is over the limit (for throttling without refusing)."""
    return await RateLimitRepository(session).increment(limit.bucket(), limit.window_start(now)) <= limit.max_hits
