"""The names a screen shows beside the ids a document or customer holds.

Lists join them in their own query (`with_party_names`, `with_customer_refs`: one statement per
page, no query per row); a single read or a write answers them with one small query (`parties`,
`customer_refs`). Every join is on (tenant_id, id), so the tenant filter and RLS hold on both sides.
"""

import uuid
from typing import TypeVarTuple

from sqlalchemy import Select, func, select

from app.models.billing.business import AccountManager, ClientType, Company
from app.models.billing.credit_note import CreditNote
from app.models.billing.customer import Customer
from app.models.billing.invoice import Invoice
from app.models.billing.receipt import Receipt
from app.repositories.base import TenantRepository

Ts = TypeVarTuple("Ts")

# A company as a screen names it: its trade name, else its legal name.
COMPANY_NAME = func.coalesce(Company.trade_name, Company.legal_name)


def with_party_names(
    stmt: Select[*Ts], model: type[Invoice] | type[CreditNote] | type[Receipt]
) -> Select[*Ts, str, str]:
    """`stmt` selecting `model` (with customer_id and company_id), plus customer_name, company_name."""
    return (
        stmt.add_columns(Customer.name.label("customer_name"), COMPANY_NAME.label("company_name"))
        .join(Customer, (Customer.tenant_id == model.tenant_id) & (Customer.id == model.customer_id))
        .join(Company, (Company.tenant_id == model.tenant_id) & (Company.id == model.company_id))
    )


def with_customer_refs(stmt: Select[*Ts]) -> Select[*Ts, str | None, str | None]:
    """`stmt` selecting Customer, plus client_type_name, account_manager_name (null when unset)."""
    return (
        stmt.add_columns(ClientType.name.label("client_type_name"), AccountManager.name.label("account_manager_name"))
        .outerjoin(
            ClientType, (ClientType.tenant_id == Customer.tenant_id) & (ClientType.id == Customer.client_type_id)
        )
        .outerjoin(
            AccountManager,
            (AccountManager.tenant_id == Customer.tenant_id) & (AccountManager.id == Customer.account_manager_id),
        )
    )


class DisplayNameRepository(TenantRepository[Customer]):
    model = Customer

    async def parties(self, customer_id: uuid.UUID, company_id: uuid.UUID) -> tuple[str | None, str | None]:
        """(customer name, company name), in one statement."""
        stmt = select(
            select(Customer.name).where(Customer.id == customer_id).scalar_subquery(),
            select(COMPANY_NAME).where(Company.id == company_id).scalar_subquery(),
        )
        customer_name, company_name = (await self.session.execute(stmt)).one()
        return customer_name, company_name

    async def customer_refs(
        self, client_type_id: uuid.UUID | None, account_manager_id: uuid.UUID | None
    ) -> tuple[str | None, str | None]:
        """(client type name, account manager name), in one statement; no statement when both are unset."""
        if client_type_id is None and account_manager_id is None:
            return None, None
        stmt = select(
            select(ClientType.name).where(ClientType.id == client_type_id).scalar_subquery(),
            select(AccountManager.name).where(AccountManager.id == account_manager_id).scalar_subquery(),
        )
        client_type_name, account_manager_name = (await self.session.execute(stmt)).one()
        return client_type_name, account_manager_name
