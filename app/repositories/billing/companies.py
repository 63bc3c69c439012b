"""Companies: the tenant's legal entities. Reads by id come from TenantRepository.get; the
listing, saves and deletes are the catalog's (app.repositories.billing.simple_lists)."""

from sqlalchemy import exists, select

from app.models.billing.business import Company
from app.repositories.base import TenantRepository


class CompanyRepository(TenantRepository[Company]):
    model = Company

    async def has_gstin(self, gstin: str) -> bool:
        """Whether one of the tenant's companies (archived ones too) is this registration."""
        return bool((await self.session.execute(select(exists().where(Company.gstin == gstin)))).scalar_one())
