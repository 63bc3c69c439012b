"""Quick sale at the counter (POST /sales): one request, one transaction.

Load the shop (company) and the customer (named, or the company's walk-in customer), resolve
scanned barcodes to products; create and issue the invoice through `invoicing.create` (its
product lines take the stock, its number comes from the company's series); settle the payments
against its total (app.domain.sales: change, udhaar); record one receipt per payment, each
allocated to the invoice in full (`receipts.receive_in_full`); check the customer's credit limit;
make a share link (`share_links.create_for`). Every write is audited by the service that makes
it; any refusal rolls the whole sale back.

Place of supply: goods handed over at the counter are supplied where the counter is (IGST Act
s.10(1)(a)/(c)), so a counter sale's place of supply is the shop's state, for a walk-in and for a
named customer from another state alike (a sale delivered elsewhere is a POST /invoices).

The credit limit is checked race-free: after the invoice and the receipts have moved the
customer's balance, this transaction holds the customer's row lock (the balance UPDATE took it)
until it commits, so the balance read then is the one every concurrent sale to the customer
queues behind. Checking after the writes keeps the lock order of every other document (number
series, then the customer); a refusal rolls back the invoice, its number and its stock.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.context import Context
from app.core.errors import CreditLimitExceeded, Forbidden
from app.domain import sales as sale_rules
from app.domain.errors import DomainError
from app.models.billing.customer import Customer
from app.models.billing.invoice import Invoice
from app.models.billing.receipt import Receipt
from app.repositories.billing.customers import CustomerRepository
from app.schemas.billing.invoices import InvoiceIn, InvoiceLineIn
from app.schemas.commerce.sales import BarcodeLine, ProductLine, SaleCreate
from app.services.billing import companies, customers, invoicing, receipts
from app.services.billing.rules import DocumentDates, as_problem
from app.services.catalog import products
from app.services.documents import share_links
from app.services.documents.share_links import ShareLink
from app.services.platform import audit

T = TypeVar("T")


@dataclass(frozen=True)
class Sale:
    invoice: Invoice
    customer: Customer
    walk_in: bool
    settlement: sale_rules.Settlement
    receipts: list[Receipt]
    customer_balance: Decimal
    credit_limit_overridden: bool
    share: ShareLink


async def create(session: AsyncSession, ctx: Context, *, body: SaleCreate, may_override_credit_limit: bool) -> Sale:
    if body.override_credit_limit and not may_override_credit_limit:
        raise Forbidden("Only an owner or admin may sell beyond a credit limit.", code="credit-override-forbidden")
    # the parties, the GST settings (the receipts' number pattern) and the rates in one read, before
    # any lock; unknown parties: 404 before any rule
    if body.customer_id is not None:
        customer_id = body.customer_id
    else:
        _rule(sale_rules.check_credit_customer, on_credit=body.on_credit, named_customer=False)
        customer_id = (await customers.walk_in(session, await companies.get_active(session, body.company_id))).id
    parties = await invoicing.load_parties(session, body.company_id, customer_id, DocumentDates.of(ctx).today)
    company, customer, settings = parties.company, parties.customer, parties.settings
    invoice = await invoicing.create(
        session,
        ctx,
        body=InvoiceIn.model_construct(  # of values validated already (the sale's body, the company)
            company_id=company.id,
            customer_id=customer.id,
            place_of_supply=company.state_code,  # the counter's state (module docstring)
            notes=body.notes,
            lines=await _invoice_lines(session, body.lines),
        ),
        issue=True,
        parties=parties,
    )
    settlement = _rule(sale_rules.settle, invoice.total, body.payments, on_credit=body.on_credit)
    payments = [
        receipts.Payment(body.payments[index].mode, amount, body.payments[index].reference)
        for index, amount in settlement.receipts
    ]
    received = await receipts.receive_in_full(session, ctx, invoice, payments, settings=settings)
    if received is None:  # all on credit: nothing moved the balance after the invoice, read it
        made, (balance, limit) = [], await CustomerRepository(session).credit_position(invoice.customer_id)
    else:
        made, balance, limit = received.receipts, received.balance, received.credit_limit
    overridden = await _check_credit(session, body, invoice, settlement.unpaid, balance, limit)
    link = await share_links.create_for(session, ctx, invoice, phone=customer.phone)
    return Sale(invoice, customer, body.customer_id is None, settlement, made, balance, overridden, link)


async def _invoice_lines(session: AsyncSession, lines: list[ProductLine | BarcodeLine]) -> list[InvoiceLineIn]:
    """The invoice's lines: each names its product (a scanned barcode is looked up; 404 unknown)."""
    by_barcode: dict[str, uuid.UUID] = {}
    for line in lines:
        if isinstance(line, BarcodeLine) and line.barcode not in by_barcode:
            by_barcode[line.barcode] = (await products.by_barcode(session, line.barcode)).id
    return [
        InvoiceLineIn.model_construct(
            product_id=line.product_id if isinstance(line, ProductLine) else by_barcode[line.barcode],
            quantity=line.quantity,
            unit_price=line.price,
            discount=line.discount,
        )
        for line in lines
    ]


async def _check_credit(
    session: AsyncSession, body: SaleCreate, invoice: Invoice, unpaid: Decimal, balance: Decimal, limit: Decimal | None
) -> bool:
    """Whether the limit was overridden. `balance` is the customer's after the sale, read from the
    row this transaction has locked by moving it (the invoice's balance UPDATE): it is final."""
    if unpaid <= 0 or limit is None or balance <= limit:
        return False
    details = {"credit_limit": str(limit), "balance": str(balance - unpaid), "unpaid": str(unpaid)}
    if not body.override_credit_limit:
        raise CreditLimitExceeded(
            f"This sale puts {unpaid} on credit: the customer would owe {balance}, over their credit limit of "
            f"{limit}. An owner or admin may override it.",
            credit_limit=details["credit_limit"],
            balance=details["balance"],
            unpaid=details["unpaid"],
        )
    await audit.record(
        session,
        action="customer.credit_limit_overridden",
        entity_type="customer",
        entity_id=invoice.customer_id,
        after=details | {"balance_after": str(balance), "invoice_id": str(invoice.id)},
    )
    return True


def _rule(rule: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a domain rule; a broken one is the API's problem."""
    try:
        return rule(*args, **kwargs)
    except DomainError as exc:
        raise as_problem(exc) from exc
