"""Companies: the tenant's legal entities. Reads by id come from TenantRepository.get; the
listing, saves and deletes are the catalog's (app.repositories.catalog)."""

from sqlalchemy import select

from app.models.business import Company
from app.repositories.base import TenantRepository


class CompanyRepository(TenantRepository[Company]):
    model = Company

    async def first_active(self) -> Company | None:
        """The tenant's first company not archived (by creation), the sender of what no one document
        names a company for (a customer's statement of account)."""
        stmt = select(Company).where(Company.is_archived.is_(False)).order_by(Company.id).limit(1)
        return (await self.session.execute(stmt)).scalar_one_or_none()
