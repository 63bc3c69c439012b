import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import (
    ARRAY,
    Column,
    ColumnElement,
    Insert,
    Update,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    inspect,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import ColumnProperty, attributes, selectinload

from app.domain.statuses import OPEN_STATUSES, SETTLEABLE_STATUSES, InvoiceStatus
from app.models.base import new_id
from app.models.billing.customer import Customer
from app.models.billing.invoice import Invoice, InvoiceLine
from app.models.platform.audit import AuditLog
from app.repositories.base import SortKey, TenantRepository, starts_with
from app.repositories.billing.customers import contains_pattern

SORTS = {
    name: SortKey(column, descending=descending)
    for key, column in {
        "invoice_date": Invoice.invoice_date,
        "due_date": Invoice.due_date,
        "total": Invoice.total,
        "created_at": Invoice.created_at,
    }.items()
    for name, descending in ((key, False), (f"-{key}", True))
}


@dataclass(frozen=True)
class InvoiceFilters:
    status: str | None = None
    customer_id: uuid.UUID | None = None
    company_id: uuid.UUID | None = None
    date_from: date | None = None
    date_to: date | None = None
    due_before: date | None = None
    overdue_on: date | None = None
    number: str | None = None
    q: str | None = None
    ids: list[uuid.UUID] | None = None


def _settled_status(paid: ColumnElement[Decimal], credited: ColumnElement[Decimal]) -> ColumnElement[str]:
    """The status an issued invoice has once `paid` and `credited` apply (SQL expressions):
    app.domain.statuses.settled_status in SQL."""
    return case(
        (Invoice.total - paid - credited <= 0, InvoiceStatus.paid.value),
        (paid + credited > 0, InvoiceStatus.partially_paid.value),
        else_=InvoiceStatus.issued.value,
    )


def open_condition() -> ColumnElement[bool]:
    """app.domain.statuses.is_open in SQL: open and something still due."""
    return and_(Invoice.status.in_([s.value for s in OPEN_STATUSES]), Invoice.balance_due > 0)


def overdue_condition(today: date | ColumnElement[date]) -> ColumnElement[bool]:
    """app.domain.statuses.is_overdue in SQL: open, something due, due before `today`."""
    return and_(open_condition(), Invoice.due_date < today)


class InvoiceRepository(TenantRepository[Invoice]):
    model = Invoice

    async def get_with_lines(self, invoice_id: uuid.UUID, *, for_update: bool = False) -> Invoice | None:
        stmt = select(Invoice).where(Invoice.id == invoice_id).options(selectinload(Invoice.lines))
        if for_update:
            stmt = stmt.with_for_update(of=Invoice)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def by_ids(self, ids: set[uuid.UUID]) -> dict[uuid.UUID, Invoice]:
        """The invoices of these ids in this tenant, by id (one query, no lines)."""
        if not ids:
            return {}
        rows = await self.session.execute(select(Invoice).where(Invoice.id.in_(ids)))
        return {invoice.id: invoice for invoice in rows.scalars()}

    async def list_page(
        self, filters: InvoiceFilters, *, limit: int, cursor: str | None, sort: str, with_lines: bool
    ) -> tuple[list[Invoice], str | None]:
        stmt = select(Invoice)
        if with_lines:
            stmt = stmt.options(selectinload(Invoice.lines))
        for condition in _conditions(filters):
            stmt = stmt.where(condition)
        return await self.page(stmt, limit=limit, cursor=cursor, sort=SORTS[sort])

    async def replace_lines(self, invoice: Invoice, lines: list[InvoiceLine]) -> None:
        await self.session.execute(
            delete(InvoiceLine)
            .where(InvoiceLine.tenant_id == self.tenant_id, InvoiceLine.invoice_id == invoice.id)
            .execution_options(synchronize_session=False)
        )
        await self.add_lines(invoice, lines)

    async def add_lines(self, invoice: Invoice, lines: list[InvoiceLine]) -> None:
        for line in lines:
            line.tenant_id, line.invoice_id = self.tenant_id, invoice.id
        self.session.add_all(lines)
        await self.session.flush()
        # The lines just written are the collection: no SELECT to load it back.
        attributes.set_committed_value(invoice, "lines", sorted(lines, key=lambda line: line.position))

    async def insert(self, invoice: Invoice, lines: list[InvoiceLine], audit: list[AuditLog], *, issued: bool) -> None:
        """A new invoice, its lines and its audit rows (and, `issued`, the customer's balance) in one
        statement and one round trip: Core INSERTs as CTEs, not a unit-of-work flush per table.
        Issued, the series' row lock (taken just before) is held for one round trip less.

        Every row gets the bound tenant's id here, as `add` gives it (the ORM filter scopes reads
        and UPDATE/DELETE; RLS's WITH CHECK refuses another tenant's row). Python-side defaults
        (ids, timestamps, "draft", zero amounts) are filled into the objects before the INSERT and
        `balance_due` is derived as the database derives it, so the objects stay what was written
        without loading them back; they are not added to the session."""
        tenant_id = self.tenant_id
        invoice.tenant_id = tenant_id
        invoice.id = invoice.id or new_id()
        for line in lines:
            line.tenant_id, line.invoice_id = tenant_id, invoice.id
        for row in audit:
            row.tenant_id = tenant_id
        params = {f"invoice_{key}": value for key, value in _insert_values(invoice).items()}
        rows = [_insert_values(line) for line in lines]
        for key, _ in _insertable(InvoiceLine):
            params[f"line_{key}"] = [row[key] for row in rows]
        for n, row in enumerate(audit):
            params |= {f"audit{n}_{key}": value for key, value in _insert_values(row).items()}
        params |= {"customer_id": invoice.customer_id, "balance_delta": invoice.total}
        await self.session.execute(_write_statement(issued, len(audit), bool(lines)), params)
        invoice.balance_due = max(invoice.total - invoice.amount_paid - invoice.amount_credited, Decimal(0))
        attributes.set_committed_value(invoice, "lines", sorted(lines, key=lambda line: line.position))

    async def delete(self, invoice: Invoice) -> None:
        await self.session.execute(
            delete(Invoice)
            .where(Invoice.tenant_id == self.tenant_id, Invoice.id == invoice.id)
            .execution_options(synchronize_session=False)
        )
        self.session.expunge(invoice)

    async def settle(
        self, invoice_id: uuid.UUID, *, paid: Decimal = Decimal(0), credited: Decimal = Decimal(0)
    ) -> Invoice | None:
        """Add to amount_paid / amount_credited and move the status with them, in one UPDATE.

        Returns the updated invoice, or None when the change does not fit: the invoice is not
        issued (draft, void), or a payment or credit exceeds the balance due.
        The row lock the UPDATE takes serialises concurrent allocations to the same invoice."""
        new_paid, new_credited = Invoice.amount_paid + paid, Invoice.amount_credited + credited
        stmt = (
            update(Invoice)
            .where(Invoice.tenant_id == self.tenant_id, Invoice.id == invoice_id)
            .where(Invoice.status.in_([s.value for s in SETTLEABLE_STATUSES]))
            .values(amount_paid=new_paid, amount_credited=new_credited, status=_settled_status(new_paid, new_credited))
            .returning(Invoice)
            .execution_options(synchronize_session=False, populate_existing=True)
        )
        if paid > 0:
            stmt = stmt.where(Invoice.balance_due >= paid)
        if credited > 0:  # a credit reduces what is still due: it cannot go below what is already paid
            stmt = stmt.where(Invoice.balance_due >= credited)
        return (await self.session.execute(stmt)).scalar_one_or_none()


_INSERTABLE: dict[type[Any], tuple[tuple[str, Column[Any]], ...]] = {}


def _insertable(model: type[Any]) -> tuple[tuple[str, Column[Any]], ...]:
    """(attribute, column) of each column an INSERT of `model` writes (not the computed ones)."""
    if model not in _INSERTABLE:
        props: list[ColumnProperty[Any]] = list(inspect(model).column_attrs)
        _INSERTABLE[model] = tuple(
            (prop.key, prop.columns[0])
            for prop in props
            if isinstance(prop.columns[0], Column) and prop.columns[0].computed is None
        )
    return _INSERTABLE[model]


def _insert_values(obj: Any) -> dict[str, Any]:
    """An INSERT's values for `obj` (a new, transient ORM object): its attributes, with each unset
    column's Python-side default applied to the object as a flush would. A column with no value
    and only a server-side default is an error: the object would not be what the row is."""
    values = {}
    for key, column in _insertable(type(obj)):
        if key in obj.__dict__:
            value = obj.__dict__[key]
        elif column.default is not None:
            default = column.default
            value = default.arg(None) if default.is_callable else default.arg  # type: ignore[attr-defined]
            setattr(obj, key, value)
        elif column.server_default is not None:
            raise ValueError(f"{type(obj).__name__}.{key}: no value, and only the database's default")
        else:
            value = None
            setattr(obj, key, value)
        values[key] = value
    return values


@cache
def _write_statement(issued: bool, audit_rows: int, with_lines: bool) -> Any:
    """The statement `InvoiceRepository.insert` runs, built once per shape with named parameters
    (`invoice_<column>`, `line_<column>` arrays, `audit<n>_<column>`, `customer_id`,
    `balance_delta`): nothing is built or compiled per call but the tenant filter's criteria. A
    multi-row VALUES is never cached by SQLAlchemy: the lines are `SELECT unnest(:array), ...`,
    one array per column, whatever their number. Every row names its tenant in its values."""
    ctes = [_insert_one(Invoice, "invoice").cte("new_invoice")]
    if with_lines:
        columns = _insertable(InvoiceLine)
        arrays = [func.unnest(bindparam(f"line_{key}", type_=ARRAY(column.type))) for key, column in columns]
        lines = insert(InvoiceLine).from_select([column for _, column in columns], select(*arrays))
        ctes.append(lines.cte("new_lines"))
    audit = [_insert_one(AuditLog, f"audit{n}") for n in range(audit_rows)]
    if issued:
        # Issuing adds the total to what the customer owes: the UPDATE is the statement (the ORM
        # filter scopes it, as CustomerRepository.add_to_balance's), the INSERTs its CTEs.
        ctes += [stmt.cte(f"new_audit_{n}") for n, stmt in enumerate(audit)]
        statement: Update | Insert = (
            update(Customer)
            .where(Customer.tenant_id == bindparam("invoice_tenant_id"), Customer.id == bindparam("customer_id"))
            .values(
                balance=Customer.balance + bindparam("balance_delta", type_=Customer.balance.type),
                updated_at=func.now(),
            )
            .execution_options(synchronize_session=False)
        )
    else:
        *others, statement = audit
        ctes += [stmt.cte(f"new_audit_{n}") for n, stmt in enumerate(others)]
    return statement.add_cte(*ctes)


def _insert_one(model: type, prefix: str) -> Insert:
    """INSERT of one row of `model`, every column a parameter `<prefix>_<column>`."""
    return insert(model).values(
        {key: bindparam(f"{prefix}_{key}", type_=column.type) for key, column in _insertable(model)}
    )


def _conditions(f: InvoiceFilters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if f.status is not None:
        conditions.append(Invoice.status == f.status)
    if f.customer_id is not None:
        conditions.append(Invoice.customer_id == f.customer_id)
    if f.company_id is not None:
        conditions.append(Invoice.company_id == f.company_id)
    if f.date_from is not None:
        conditions.append(Invoice.invoice_date >= f.date_from)
    if f.date_to is not None:
        conditions.append(Invoice.invoice_date <= f.date_to)
    if f.due_before is not None:
        conditions.append(Invoice.due_date < f.due_before)
    if f.overdue_on is not None:
        conditions.append(overdue_condition(f.overdue_on))
    if f.number is not None:
        conditions.append(Invoice.number.ilike(contains_pattern(f.number), escape="\\"))
    if f.q is not None:
        conditions.append(_search(f.q))
    if f.ids is not None:
        conditions.append(Invoice.id.in_(f.ids))
    return conditions


def _search(q: str) -> ColumnElement[bool]:
    """Number, customer name or customer GSTIN starting with `q` (case-insensitive). A union of id
    sets, each one range scan of a prefix index (ix_invoices_tenant_id_number as typed and upper-
    cased; the customers' name_lower and gstin indexes, then the invoices by customer): see
    `starts_with`. A union rather than OR, so that no branch falls back to filtering every row."""
    by_customer = select(Invoice.id).join(
        Customer, (Customer.tenant_id == Invoice.tenant_id) & (Customer.id == Invoice.customer_id)
    )
    return Invoice.id.in_(
        union_all(
            select(Invoice.id).where(starts_with(Invoice.number, q)),
            select(Invoice.id).where(starts_with(Invoice.number, q.upper())),
            by_customer.where(starts_with(Customer.name_lower, q.lower())),
            by_customer.where(starts_with(Customer.gstin, q.upper())),
        )
    )
