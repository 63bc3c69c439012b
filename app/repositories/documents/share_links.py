"""Share links of the bound tenant, and the one lookup that runs before a tenant is bound."""

import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.documents.share_link import ShareLink
from app.repositories.base import TenantRepository


async def live_link_of(session: AsyncSession, token_hash: str, now: datetime) -> tuple[uuid.UUID, uuid.UUID] | None:
    """(tenant_id, link id) of the live link with this token hash, through the SECURITY DEFINER
    function of migration 0019 (it reveals nothing else). Needs no bound tenant: the page binds it."""
    stmt = text("SELECT tenant_id, link_id FROM share_link_of(:token_hash, :now)")
    row = (await session.execute(stmt, {"token_hash": token_hash, "now": now})).one_or_none()
    return None if row is None else (row.tenant_id, row.link_id)


def _live(now: datetime) -> tuple[ColumnElement[bool], ...]:
    return (ShareLink.revoked_at.is_(None), ShareLink.expires_at > now)


class ShareLinkRepository(TenantRepository[ShareLink]):
    model = ShareLink

    async def active_for_invoice(self, invoice_id: uuid.UUID, now: datetime) -> list[ShareLink]:
        stmt = (
            select(ShareLink)
            .where(ShareLink.invoice_id == invoice_id, *_live(now))
            .order_by(ShareLink.created_at.desc(), ShareLink.id.desc())
        )
        return list((await self.session.execute(stmt)).scalars())

    async def get_live(self, link_id: uuid.UUID, now: datetime) -> ShareLink | None:
        stmt = select(ShareLink).where(ShareLink.id == link_id, *_live(now))
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def revoke(
        self, invoice_id: uuid.UUID, now: datetime, *, link_id: uuid.UUID | None = None
    ) -> list[ShareLink]:
        """Revoke the invoice's live links (or the one `link_id`); the links revoked."""
        stmt = update(ShareLink).where(ShareLink.invoice_id == invoice_id, *_live(now)).values(revoked_at=now)
        if link_id is not None:
            stmt = stmt.where(ShareLink.id == link_id)
        result = await self.session.execute(stmt.returning(ShareLink), execution_options={"synchronize_session": False})
        return list(result.scalars())

    async def record_view(self, link_id: uuid.UUID, now: datetime) -> ShareLink | None:
        """Count a view of a live link, atomically; None if it stopped being live meanwhile."""
        stmt = (
            update(ShareLink)
            .where(ShareLink.id == link_id, *_live(now))
            .values(view_count=ShareLink.view_count + 1, last_viewed_at=now)
            .returning(ShareLink)
        )
        return (await self.session.execute(stmt, execution_options={"synchronize_session": False})).scalar_one_or_none()
