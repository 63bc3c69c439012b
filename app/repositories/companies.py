"""Companies: the tenant's legal entities. Reads by id come from TenantRepository.get; the
listing, saves and deletes are the catalog's (app.repositories.catalog)."""

from app.models.business import Company
from app.repositories.base import TenantRepository


class CompanyRepository(TenantRepository[Company]):
    model = Company
