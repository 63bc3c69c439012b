from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.identity.security import RateLimitHit


class RateLimitRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def hits(self, bucket: str, window_start: datetime) -> int:
        stmt = select(RateLimitHit.hits).where(RateLimitHit.bucket == bucket, RateLimitHit.window_start == window_start)
        return (await self.session.execute(stmt)).scalar_one_or_none() or 0

    async def increment(self, bucket: str, window_start: datetime) -> int:
        values = insert(RateLimitHit).values(bucket=bucket, window_start=window_start, hits=1)
        stmt = values.on_conflict_do_update(
            index_elements=[RateLimitHit.bucket, RateLimitHit.window_start],
            set_={"hits": RateLimitHit.hits + 1},
        ).returning(RateLimitHit.hits)
        return (await self.session.execute(stmt)).scalar_one()

    async def delete_before(self, cutoff: datetime) -> None:
        await self.session.execute(delete(RateLimitHit).where(RateLimitHit.window_start < cutoff))
