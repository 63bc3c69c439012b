"""What composing a document (an invoice, a credit note, a receipt) reads of its parties, in one
statement: the company, the customer, the tenant's GST settings and the tax rates in force on the
document's date. A document is written on the hot path; one round trip instead of four (and one
per distinct rate before) is the point. Each entity keeps its own repository for everything else
(CompanyRepository, CustomerRepository, GstSettingsRepository, TaxRateRepository); the conditions
here are theirs (`in_force` is TaxRateRepository's), and the ORM tenant filter applies to every
table of the statement, the outer joins and the rates' subquery included."""

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, literal, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.tenancy import required_tenant
from app.models.billing.business import Company, GstSettings, TaxRate
from app.models.billing.customer import Customer
from app.repositories.billing.tax_rates import in_force


@dataclass(frozen=True)
class DocumentParties:
    company: Company | None
    customer: Customer | None
    settings: GstSettings | None
    rates_in_force: frozenset[Decimal]


class DocumentPartiesRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def load(self, company_id: uuid.UUID, customer_id: uuid.UUID, day: date) -> DocumentParties:
        """Each party, or None where this tenant has no such row; the distinct rates in force on `day`."""
        required_tenant(self.session)
        one = select(literal(1).label("one")).subquery()
        rates = select(func.array_agg(TaxRate.rate.distinct())).where(in_force(day)).scalar_subquery()
        stmt = (
            select(Company, Customer, GstSettings, rates)
            .select_from(one)
            .outerjoin(Company, Company.id == company_id)
            .outerjoin(Customer, Customer.id == customer_id)
            .outerjoin(GstSettings, true())
        )
        company, customer, settings, found = (await self.session.execute(stmt)).one()
        return DocumentParties(company, customer, settings, frozenset(found or ()))
