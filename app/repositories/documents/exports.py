"""The exports' queries: one SELECT per resource whose labelled columns are the export's columns
(app.services.documents.exports names and formats them), read through a server-side cursor.

Only columns are selected, never ORM entities: no identity map grows with the rows, so a batch
is dropped as soon as it is written. The ORM tenant filter and row-level security scope every
statement, as any other query."""

import uuid
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, Select, and_, case, select

from app.models.billing.business import Company
from app.models.billing.credit_note import CreditNote, CreditNoteLine
from app.models.billing.customer import Customer
from app.models.billing.invoice import Invoice, InvoiceLine
from app.models.billing.receipt import Receipt
from app.models.catalog.product import Product, ProductCategory
from app.models.catalog.stock import StockLevel
from app.repositories.base import TenantOwnedRepository
from app.repositories.billing.ledger import LedgerRepository

# A SELECT of labelled columns (any number, any types).
Statement = Select[*tuple[Any, ...]]
# Rows fetched per round trip of the server-side cursor: the memory a stream holds at most.
BATCH_ROWS = 500


@dataclass(frozen=True)
class RowFilters:
    """What a query keeps; None keeps everything. `status` is the resource's own status column
    (customers and products: "active" / "archived")."""

    date_from: date | None = None
    date_to: date | None = None
    status: str | None = None
    company_id: uuid.UUID | None = None
    customer_id: uuid.UUID | None = None


def _in_range(column: Any, f: RowFilters) -> list[Any]:
    conditions = []
    if f.date_from is not None:
        conditions.append(column >= f.date_from)
    if f.date_to is not None:
        conditions.append(column <= f.date_to)
    return conditions


def _party(model: Any, f: RowFilters) -> list[Any]:
    conditions = []
    if f.company_id is not None:
        conditions.append(model.company_id == f.company_id)
    if f.customer_id is not None:
        conditions.append(model.customer_id == f.customer_id)
    return conditions


def _archived(model: Any, f: RowFilters) -> list[Any]:
    if f.status is None:
        return []
    return [model.is_archived.is_(f.status == "archived")]


def _joined(model: Any, other: Any, other_id: Any) -> Any:
    return and_(other.tenant_id == model.tenant_id, other.id == other_id)


def _tax_columns(model: Any, prefix: str) -> list[Any]:
    """A document's or a line's taxable value and tax heads, labelled `<prefix>cgst` ..."""
    heads = [("taxable_value", "taxable_value"), ("cgst_amount", "cgst"), ("sgst_amount", "sgst")]
    heads += [("utgst_amount", "utgst"), ("igst_amount", "igst")]
    return [getattr(model, column).label(prefix + name) for column, name in heads]


def invoices(f: RowFilters, *, lines: bool) -> Statement:
    issued_to = Invoice.recipient.has_key("name")
    columns: list[Any] = [
        Invoice.number.label("number"),
        Invoice.invoice_date.label("invoice_date"),
        Invoice.due_date.label("due_date"),
        Invoice.status.label("status"),
        Invoice.document_type.label("document_type"),
        Company.legal_name.label("company"),
        Company.gstin.label("company_gstin"),
        # An issued invoice's recipient is its snapshot, as printed (no GSTIN stays none, whatever the
        # customer registered since); a draft has none yet ('{}'): the customer as it is now.
        case((issued_to, Invoice.recipient["name"].astext), else_=Customer.name).label("customer"),
        case((issued_to, Invoice.recipient["gstin"].astext), else_=Customer.gstin).label("customer_gstin"),
        Invoice.place_of_supply.label("place_of_supply"),
        Invoice.supply_type.label("supply_type"),
        Invoice.reverse_charge.label("reverse_charge"),
    ]
    if lines:
        columns += [
            InvoiceLine.position.label("line"),
            InvoiceLine.description.label("description"),
            InvoiceLine.hsn_sac.label("hsn_sac"),
            InvoiceLine.quantity.label("quantity"),
            InvoiceLine.unit.label("unit"),
            InvoiceLine.unit_price.label("unit_price"),
            InvoiceLine.discount.label("discount"),
            InvoiceLine.gst_rate.label("gst_rate"),
            *_tax_columns(InvoiceLine, ""),
            InvoiceLine.total.label("line_total"),
        ]
    columns += [
        *_tax_columns(Invoice, "invoice_"),
        Invoice.tax_total.label("invoice_tax_total"),
        Invoice.round_off.label("round_off"),
        Invoice.total.label("total"),
        Invoice.amount_paid.label("amount_paid"),
        Invoice.amount_credited.label("amount_credited"),
        Invoice.balance_due.label("balance_due"),
        Invoice.id.label("id"),
    ]
    stmt = (
        select(*columns)
        .select_from(Invoice)
        .join(Company, _joined(Invoice, Company, Invoice.company_id))
        .join(Customer, _joined(Invoice, Customer, Invoice.customer_id))
        .where(*_in_range(Invoice.invoice_date, f), *_party(Invoice, f))
    )
    if f.status is not None:
        stmt = stmt.where(Invoice.status == f.status)
    order = [Invoice.invoice_date, Invoice.id]
    if lines:
        stmt = stmt.join(InvoiceLine, _line_of(InvoiceLine, Invoice, InvoiceLine.invoice_id))
        order.append(InvoiceLine.position)
    return stmt.order_by(*order)


def _line_of(line: Any, document: Any, document_id: Any) -> Any:
    return and_(line.tenant_id == document.tenant_id, document_id == document.id)


def credit_notes(f: RowFilters, *, lines: bool) -> Statement:
    issued_to = Invoice.recipient.has_key("name")
    columns: list[Any] = [
        CreditNote.number.label("number"),
        CreditNote.credit_note_date.label("credit_note_date"),
        CreditNote.invoice_number.label("invoice_number"),
        CreditNote.invoice_date.label("invoice_date"),
        Company.legal_name.label("company"),
        Company.gstin.label("company_gstin"),
        # The recipient the note prints: its invoice's snapshot (the customer's details at issue).
        case((issued_to, Invoice.recipient["name"].astext), else_=Customer.name).label("customer"),
        case((issued_to, Invoice.recipient["gstin"].astext), else_=Customer.gstin).label("customer_gstin"),
        CreditNote.place_of_supply.label("place_of_supply"),
        CreditNote.supply_type.label("supply_type"),
        CreditNote.reason.label("reason"),
        CreditNote.is_full.label("is_full"),
    ]
    if lines:
        columns += [
            CreditNoteLine.position.label("line"),
            CreditNoteLine.description.label("description"),
            CreditNoteLine.hsn_sac.label("hsn_sac"),
            CreditNoteLine.quantity.label("quantity"),
            CreditNoteLine.gst_rate.label("gst_rate"),
            *_tax_columns(CreditNoteLine, ""),
            CreditNoteLine.total.label("line_total"),
        ]
    columns += [
        *_tax_columns(CreditNote, "note_"),
        CreditNote.tax_total.label("note_tax_total"),
        CreditNote.round_off.label("round_off"),
        CreditNote.total.label("total"),
        CreditNote.id.label("id"),
    ]
    stmt = (
        select(*columns)
        .select_from(CreditNote)
        .join(Invoice, _joined(CreditNote, Invoice, CreditNote.invoice_id))
        .join(Company, _joined(CreditNote, Company, CreditNote.company_id))
        .join(Customer, _joined(CreditNote, Customer, CreditNote.customer_id))
        .where(*_in_range(CreditNote.credit_note_date, f), *_party(CreditNote, f))
    )
    order = [CreditNote.credit_note_date, CreditNote.id]
    if lines:
        stmt = stmt.join(CreditNoteLine, _line_of(CreditNoteLine, CreditNote, CreditNoteLine.credit_note_id))
        order.append(CreditNoteLine.position)
    return stmt.order_by(*order)


def receipts(f: RowFilters) -> Statement:
    stmt = (
        select(
            Receipt.number.label("number"),
            Receipt.receipt_date.label("receipt_date"),
            Receipt.status.label("status"),
            Company.legal_name.label("company"),
            Customer.name.label("customer"),
            Customer.gstin.label("customer_gstin"),
            Receipt.mode.label("mode"),
            Receipt.reference.label("reference"),
            Receipt.amount.label("amount"),
            Receipt.amount_allocated.label("amount_allocated"),
            Receipt.amount_refunded.label("amount_refunded"),
            Receipt.notes.label("notes"),
            Receipt.void_reason.label("void_reason"),
            Receipt.id.label("id"),
        )
        .select_from(Receipt)
        .join(Company, _joined(Receipt, Company, Receipt.company_id))
        .join(Customer, _joined(Receipt, Customer, Receipt.customer_id))
        .where(*_in_range(Receipt.receipt_date, f), *_party(Receipt, f))
    )
    if f.status is not None:
        stmt = stmt.where(Receipt.status == f.status)
    return stmt.order_by(Receipt.receipt_date, Receipt.id)


def customers(f: RowFilters) -> Statement:
    return (
        select(
            Customer.name.label("name"),
            Customer.gstin.label("gstin"),
            Customer.pan.label("pan"),
            Customer.is_sez.label("is_sez"),
            Customer.email.label("email"),
            Customer.phone.label("phone"),
            Customer.billing_address_line1.label("billing_address_line1"),
            Customer.billing_address_line2.label("billing_address_line2"),
            Customer.billing_city.label("billing_city"),
            Customer.billing_state_code.label("billing_state_code"),
            Customer.billing_pincode.label("billing_pincode"),
            Customer.shipping_address_line1.label("shipping_address_line1"),
            Customer.shipping_address_line2.label("shipping_address_line2"),
            Customer.shipping_city.label("shipping_city"),
            Customer.shipping_state_code.label("shipping_state_code"),
            Customer.shipping_pincode.label("shipping_pincode"),
            Customer.payment_terms_days.label("payment_terms_days"),
            Customer.credit_limit.label("credit_limit"),
            Customer.opening_balance.label("opening_balance"),
            Customer.balance.label("balance"),
            Customer.is_archived.label("archived"),
            Customer.created_at.label("created_at"),
            Customer.id.label("id"),
        )
        .where(*_archived(Customer, f))
        .order_by(Customer.name_lower, Customer.id)
    )


def products(f: RowFilters) -> Statement:
    return (
        select(
            Product.sku.label("sku"),
            Product.name.label("name"),
            Product.barcode.label("barcode"),
            ProductCategory.name.label("category"),
            Product.hsn_code.label("hsn_code"),
            Product.unit.label("unit"),
            Product.sale_price.label("sale_price"),
            Product.price_includes_tax.label("price_includes_tax"),
            Product.mrp.label("mrp"),
            Product.purchase_cost.label("purchase_cost"),
            Product.gst_rate.label("gst_rate"),
            Product.track_stock.label("track_stock"),
            Product.reorder_level.label("reorder_level"),
            Product.reorder_quantity.label("reorder_quantity"),
            Product.is_archived.label("archived"),
            Product.description.label("description"),
            Product.id.label("id"),
        )
        .select_from(Product)
        .outerjoin(ProductCategory, _joined(Product, ProductCategory, Product.category_id))
        .where(*_archived(Product, f))
        .order_by(Product.sku_lower, Product.id)
    )


def stock_levels(f: RowFilters) -> Statement:
    stmt = (
        select(
            Product.sku.label("sku"),
            Product.name.label("product"),
            Company.legal_name.label("company"),
            Product.unit.label("unit"),
            StockLevel.on_hand.label("on_hand"),
            StockLevel.reserved.label("reserved"),
            StockLevel.available.label("available"),
            Product.reorder_level.label("reorder_level"),
            StockLevel.updated_at.label("updated_at"),
            StockLevel.product_id.label("product_id"),
            StockLevel.company_id.label("company_id"),
        )
        .select_from(StockLevel)
        .join(Product, _joined(StockLevel, Product, StockLevel.product_id))
        .join(Company, _joined(StockLevel, Company, StockLevel.company_id))
    )
    if f.company_id is not None:
        stmt = stmt.where(StockLevel.company_id == f.company_id)
    return stmt.order_by(Product.sku_lower, Company.legal_name, StockLevel.product_id, StockLevel.company_id)


class ExportRepository(TenantOwnedRepository[Customer]):
    model = Customer

    async def batches(self, stmt: Statement, *, size: int = BATCH_ROWS) -> AsyncGenerator[Sequence[Row[Any]]]:
        """The statement's rows, `size` at a time, from a server-side cursor in the session's
        transaction: the rows are never all in memory."""
        self.tenant_id  # noqa: B018 (raises when no tenant is bound, before any row is read)
        result = await self.session.stream(stmt.execution_options(yield_per=size))
        try:
            async for partition in result.partitions(size):
                yield partition
                del partition  # not held while the next batch is fetched
        finally:
            await result.close()  # the server-side cursor, also when the reader stops early

    async def ledger_statement(
        self, customer_id: uuid.UUID, *, date_from: date, date_to: date
    ) -> tuple[Decimal, Statement] | None:
        """The balance brought forward to `date_from` and the entries of the period with their
        running balance; None when the customer is not in this tenant."""
        ledger = LedgerRepository(self.session)
        opening = await ledger.customer_opening_balance(customer_id)
        if opening is None:
            return None
        totals = await ledger.totals(customer_id, date_from=date_from, date_to=date_to, after=None)
        brought_forward = opening + totals.before_from
        return brought_forward, ledger.period_statement(
            customer_id, date_from=date_from, date_to=date_to, balance_before=brought_forward
        )
