"""What printing a document reads: the document with what identifies its print (its version, the
company's UPI VPA, the logo's hash) in one statement, and, only when the print is not cached, its
lines and the logo's bytes. The ORM tenant filter applies to every table of each statement; the
joins also name the tenant so that they follow the (tenant_id, id) keys."""

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.tenancy import required_tenant
from app.models.billing.business import Company
from app.models.billing.credit_note import CreditNote, CreditNoteLine
from app.models.billing.customer import Customer
from app.models.billing.invoice import Invoice, InvoiceLine
from app.models.billing.receipt import Receipt, ReceiptAllocation
from app.models.documents.company_logo import CompanyLogo


@dataclass(frozen=True)
class InvoiceSource:
    invoice: Invoice
    upi_vpa: str | None  # the company's, now: where a payment goes today
    logo_sha256: str | None


@dataclass(frozen=True)
class CreditNoteSource:
    note: CreditNote
    invoice: Invoice  # the original: its frozen supplier and recipient, document type, reverse charge
    logo_sha256: str | None


@dataclass(frozen=True)
class ReceiptSource:
    receipt: Receipt
    company: Company
    customer: Customer
    logo_sha256: str | None


@dataclass(frozen=True)
class StatementSource:
    customer: Customer
    company: Company | None
    logo_sha256: str | None


@dataclass(frozen=True)
class AllocationRow:
    invoice_number: str | None
    invoice_date: date
    amount: Decimal


def _same_tenant(model: Any, other: Any) -> Any:
    return model.tenant_id == other.tenant_id


class DocumentSourceRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _logo_of(self, company_id: Any) -> Any:
        return and_(CompanyLogo.tenant_id == self.tenant_id, CompanyLogo.company_id == company_id)

    @property
    def tenant_id(self) -> uuid.UUID:
        return required_tenant(self.session)

    async def invoice(self, invoice_id: uuid.UUID) -> InvoiceSource | None:
        stmt = (
            select(Invoice, Company.upi_vpa, CompanyLogo.sha256)
            .join(Company, and_(_same_tenant(Company, Invoice), Company.id == Invoice.company_id))
            .outerjoin(CompanyLogo, self._logo_of(Invoice.company_id))
            .where(Invoice.id == invoice_id)
        )
        row = (await self.session.execute(stmt)).one_or_none()
        return None if row is None else InvoiceSource(*row)

    async def invoice_lines(self, invoice_id: uuid.UUID) -> list[InvoiceLine]:
        stmt = select(InvoiceLine).where(InvoiceLine.invoice_id == invoice_id).order_by(InvoiceLine.position)
        return list((await self.session.execute(stmt)).scalars())

    async def credit_note(self, credit_note_id: uuid.UUID) -> CreditNoteSource | None:
        stmt = (
            select(CreditNote, Invoice, CompanyLogo.sha256)
            .join(Invoice, and_(_same_tenant(Invoice, CreditNote), Invoice.id == CreditNote.invoice_id))
            .outerjoin(CompanyLogo, self._logo_of(CreditNote.company_id))
            .where(CreditNote.id == credit_note_id)
        )
        row = (await self.session.execute(stmt)).one_or_none()
        return None if row is None else CreditNoteSource(*row)

    async def credit_note_lines(self, credit_note_id: uuid.UUID) -> list[tuple[CreditNoteLine, InvoiceLine]]:
        """The credit note's lines with the invoice lines they credit (unit, unit price)."""
        stmt = (
            select(CreditNoteLine, InvoiceLine)
            .join(
                InvoiceLine,
                and_(_same_tenant(InvoiceLine, CreditNoteLine), InvoiceLine.id == CreditNoteLine.invoice_line_id),
            )
            .where(CreditNoteLine.credit_note_id == credit_note_id)
            .order_by(CreditNoteLine.position)
        )
        return [(note_line, line) for note_line, line in (await self.session.execute(stmt)).all()]

    async def receipt(self, receipt_id: uuid.UUID) -> ReceiptSource | None:
        stmt = (
            select(Receipt, Company, Customer, CompanyLogo.sha256)
            .join(Company, and_(_same_tenant(Company, Receipt), Company.id == Receipt.company_id))
            .join(Customer, and_(_same_tenant(Customer, Receipt), Customer.id == Receipt.customer_id))
            .outerjoin(CompanyLogo, self._logo_of(Receipt.company_id))
            .where(Receipt.id == receipt_id)
        )
        row = (await self.session.execute(stmt)).one_or_none()
        return None if row is None else ReceiptSource(*row)

    async def receipt_allocations(self, receipt_id: uuid.UUID) -> list[AllocationRow]:
        """What the receipt settles: each allocation with its invoice's number and date."""
        stmt = (
            select(Invoice.number, Invoice.invoice_date, ReceiptAllocation.amount)
            .join(Invoice, and_(_same_tenant(Invoice, ReceiptAllocation), Invoice.id == ReceiptAllocation.invoice_id))
            .where(ReceiptAllocation.receipt_id == receipt_id)
            .order_by(ReceiptAllocation.created_at, ReceiptAllocation.id)
        )
        return [AllocationRow(*row) for row in (await self.session.execute(stmt)).all()]

    async def statement(self, customer_id: uuid.UUID) -> StatementSource | None:
        """The customer, and the company that heads its statement: the one that billed it last,
        else the tenant's first (a statement covers every company's documents to the customer)."""
        tid = self.tenant_id
        last_billed = (
            select(Invoice.company_id)
            .where(Invoice.tenant_id == tid, Invoice.customer_id == customer_id, Invoice.status != "draft")
            .order_by(Invoice.invoice_date.desc(), Invoice.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        first = (
            select(Company.id)
            .where(Company.tenant_id == tid)
            .order_by(Company.created_at, Company.id)
            .limit(1)
            .scalar_subquery()
        )
        stmt = (
            select(Customer, Company, CompanyLogo.sha256)
            .select_from(Customer)
            .outerjoin(Company, and_(_same_tenant(Company, Customer), Company.id == func.coalesce(last_billed, first)))
            .outerjoin(CompanyLogo, self._logo_of(Company.id))
            .where(Customer.id == customer_id)
        )
        row = (await self.session.execute(stmt)).one_or_none()
        return None if row is None else StatementSource(*row)
