import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import delete, exists, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import attributes

from app.models.billing.business import AccountManager, ClientType
from app.models.billing.customer import Customer
from app.repositories.base import SortKey, TenantRepository
from app.repositories.billing.display_names import with_customer_refs

FOREIGN_KEY_VIOLATION = "23503"
SORTS = {
    "name": SortKey(Customer.name),
    "-name": SortKey(Customer.name, descending=True),
    "created_at": SortKey(Customer.created_at),
    "-created_at": SortKey(Customer.created_at, descending=True),
    "balance": SortKey(Customer.balance),
    "-balance": SortKey(Customer.balance, descending=True),
}
REFERENCES: dict[str, type[ClientType] | type[AccountManager]] = {
    "client_type_id": ClientType,
    "account_manager_id": AccountManager,
}


# What a walk-in customer row is made of (app.services.billing.customers.walk_in).
WALK_IN_COLUMNS = ("id", "name", "billing_state_code", "walk_in_company_id", "payment_reminders")


@dataclass(frozen=True)
class CustomerFilters:
    q: str | None = None
    client_type_id: uuid.UUID | None = None
    account_manager_id: uuid.UUID | None = None
    has_balance: bool | None = None
    archived: bool = False
    ids: list[uuid.UUID] | None = None
    walk_in: bool = False


def contains_pattern(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, its own wildcards escaped."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class CustomerRepository(TenantRepository[Customer]):
    model = Customer

    async def list_page(
        self, filters: CustomerFilters, *, limit: int, cursor: str | None, sort: str
    ) -> tuple[list[tuple[Customer, str | None, str | None]], str | None]:
        """A page of (customer, client type name, account manager name), joined in the same query.
        A batch read (`ids`) returns archived customers too, unless `archived=true` asks for them alone."""
        stmt = with_customer_refs(select(Customer))
        if filters.ids is not None:
            stmt = stmt.where(Customer.id.in_(filters.ids))
        if filters.ids is None or filters.archived:
            stmt = stmt.where(Customer.is_archived.is_(filters.archived))
        if filters.ids is None or filters.walk_in:  # like archived: a batch read returns walk-ins too
            walk_in = Customer.walk_in_company_id.is_not(None)
            stmt = stmt.where(walk_in if filters.walk_in else ~walk_in)
        if filters.q:
            pattern = contains_pattern(filters.q.lower())
            stmt = stmt.where(
                or_(
                    func.lower(Customer.name).like(pattern, escape="\\"),
                    Customer.gstin.like(pattern.upper(), escape="\\"),
                    Customer.email.like(pattern, escape="\\"),
                    Customer.phone.like(pattern, escape="\\"),
                )
            )
        if filters.client_type_id is not None:
            stmt = stmt.where(Customer.client_type_id == filters.client_type_id)
        if filters.account_manager_id is not None:
            stmt = stmt.where(Customer.account_manager_id == filters.account_manager_id)
        if filters.has_balance is not None:
            stmt = stmt.where(Customer.balance != 0 if filters.has_balance else Customer.balance == 0)
        return await self.page(stmt, limit=limit, cursor=cursor, sort=SORTS[sort])

    async def first_with_gstin(self, gstin: str) -> Customer | None:
        """The oldest active customer with this GSTIN (a GSTIN may be billed under several names)."""
        stmt = (
            select(Customer)
            .where(Customer.gstin == gstin, Customer.is_archived.is_(False))
            .order_by(Customer.created_at, Customer.id)
            .limit(1)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def walk_in(self, company_id: uuid.UUID) -> Customer | None:
        """The company's walk-in customer, if its counter has sold to one."""
        stmt = select(Customer).where(Customer.walk_in_company_id == company_id)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def add_walk_in(self, customer: Customer) -> Customer | None:
        """Insert `customer` (its walk_in_company_id set) unless the company has one already: None
        then. A concurrent first insert for the same company waits here for the other transaction
        and, if that commits, answers None (the unique index on (tenant_id, walk_in_company_id))."""
        values = {key: getattr(customer, key) for key in WALK_IN_COLUMNS}
        stmt = (
            insert(Customer)
            .values(tenant_id=self.tenant_id, **values)
            .on_conflict_do_nothing(
                index_elements=["tenant_id", "walk_in_company_id"],
                index_where=text("walk_in_company_id IS NOT NULL"),
            )
            .returning(Customer)
            .execution_options(populate_existing=True)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def set_billing_state(self, customer: Customer, state_code: str) -> None:
        stmt = (
            update(Customer)
            .where(Customer.tenant_id == self.tenant_id, Customer.id == customer.id)
            .values(billing_state_code=state_code, updated_at=func.now())
            .returning(Customer.billing_state_code, Customer.updated_at)
            .execution_options(synchronize_session=False)
        )
        row = (await self.session.execute(stmt)).one()
        for name, value in row._mapping.items():
            attributes.set_committed_value(customer, name, value)

    async def credit_position(self, customer_id: uuid.UUID) -> tuple[Decimal, Decimal | None]:
        """(balance, credit limit) as this transaction sees them: after its own writes, and, once
        it has moved the balance, with the row locked until it ends."""
        stmt = select(Customer.balance, Customer.credit_limit).where(Customer.id == customer_id)
        balance, limit = (await self.session.execute(stmt)).one()
        return balance, limit

    async def reference_exists(self, field: str, id_: uuid.UUID) -> bool:
        """Whether the client type / account manager `id_` exists in the bound tenant."""
        model = REFERENCES[field]
        return (await self.session.execute(select(exists().where(model.id == id_)))).scalar_one()

    async def set_opening_balance(self, customer: Customer, opening_balance: Decimal) -> None:
        """Move balance by the change in opening balance, atomically against concurrent writers."""
        stmt = (
            update(Customer)
            .where(Customer.tenant_id == self.tenant_id, Customer.id == customer.id)
            .values(
                opening_balance=opening_balance, balance=Customer.balance + opening_balance - Customer.opening_balance
            )
            .returning(Customer.opening_balance, Customer.balance, Customer.updated_at)
            .execution_options(synchronize_session=False)
        )
        row = (await self.session.execute(stmt)).one()
        for name, value in row._mapping.items():
            attributes.set_committed_value(customer, name, value)

    async def add_to_balance(self, customer_id: uuid.UUID, delta: Decimal) -> None:
        """Move what the customer owes by `delta` (a document issued, paid, credited, voided), atomically."""
        stmt = (
            update(Customer)
            .where(Customer.tenant_id == self.tenant_id, Customer.id == customer_id)
            .values(balance=Customer.balance + delta, updated_at=func.now())
            .execution_options(synchronize_session=False)
        )
        await self.session.execute(stmt)

    async def try_delete(self, customer: Customer) -> bool:
        """Delete in a savepoint; False (and nothing changed) if a document refers to the customer."""
        stmt = (
            delete(Customer)
            .where(Customer.tenant_id == self.tenant_id, Customer.id == customer.id)
            .execution_options(synchronize_session=False)
        )
        try:
            async with self.session.begin_nested():
                await self.session.execute(stmt)
        except IntegrityError as exc:
            if getattr(exc.orig, "sqlstate", None) == FOREIGN_KEY_VIOLATION:
                return False
            raise
        self.session.expunge(customer)
        return True
