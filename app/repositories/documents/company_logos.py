"""Company logos: one row per company, written whole (PUT replaces), read whole."""

import uuid
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert

from app.models.documents.company_logo import CompanyLogo
from app.repositories.base import TenantOwnedRepository


class CompanyLogoRepository(TenantOwnedRepository[CompanyLogo]):
    model = CompanyLogo

    async def get(self, company_id: uuid.UUID) -> CompanyLogo | None:
        stmt = select(CompanyLogo).where(CompanyLogo.company_id == company_id)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def put(self, company_id: uuid.UUID, values: dict[str, Any]) -> CompanyLogo:
        """Insert or replace the company's logo, in one statement."""
        row = {"tenant_id": self.tenant_id, "company_id": company_id, **values}
        upsert = insert(CompanyLogo).values(row)
        stmt = (
            upsert.on_conflict_do_update(
                index_elements=[CompanyLogo.tenant_id, CompanyLogo.company_id],
                set_={**values, "updated_at": func.now()},
            )
            .returning(CompanyLogo)
            .execution_options(populate_existing=True)
        )
        logo: CompanyLogo = (await self.session.execute(stmt)).scalar_one()
        return logo

    async def remove(self, company_id: uuid.UUID) -> bool:
        """Delete the company's logo; False if it had none."""
        stmt = (
            delete(CompanyLogo)
            .where(CompanyLogo.tenant_id == self.tenant_id, CompanyLogo.company_id == company_id)
            .returning(CompanyLogo.company_id)
            .execution_options(synchronize_session=False)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none() is not None
