import uuid

from sqlalchemy.dialects.postgresql import insert

from app.models.billing.number_series import NumberSeries
from app.repositories.base import TenantOwnedRepository


class NumberSeriesRepository(TenantOwnedRepository[NumberSeries]):
    model = NumberSeries

    async def take_next(self, company_id: uuid.UUID, document_type: str, financial_year: str) -> int:
        """The next sequence number of the series, creating it at 1. The upsert locks the counter
        row until the transaction ends: concurrent issuers queue, and a rollback returns the number."""
        stmt = (
            insert(NumberSeries)
            .values(
                tenant_id=self.tenant_id,
                company_id=company_id,
                document_type=document_type,
                financial_year=financial_year,
                last_seq=1,
            )
            .on_conflict_do_update(
                index_elements=["tenant_id", "company_id", "document_type", "financial_year"],
                set_={"last_seq": NumberSeries.last_seq + 1},
            )
            .returning(NumberSeries.last_seq)
        )
        return (await self.session.execute(stmt)).scalar_one()
