"""The SaaS's own GST tax invoice for each captured plan payment.

The product's business is a tenant like any other (settings PLATFORM_TENANT_ID) with a company
(PLATFORM_COMPANY_ID, its GSTIN); both unset, no SaaS invoices are issued. For each captured
payment of a subscribing tenant the platform tenant issues, with this product's own invoicing
(`invoicing.create(..., issue=True)`: its numbering series, GST rules, PDF), a tax invoice to the
subscriber's `SaasCustomer` (kept up to date from the tenant's business name, GSTIN, billing state,
address and email) with one line: the plan and its period, its SAC and GST rate, the taxable value
from the plan's price as `app.domain.saas_pricing` states (tax-inclusive prices back-calculated so
that the invoice total is the amount charged).

Three transactions, each bound to one tenant, never one spanning two:
1. the subscriber's: read the payment and the tenant's details;
2. the platform's: under an advisory lock on the payment, find its `saas_invoices` row or issue the
   invoice and add that row (unique per payment: exactly once, whatever runs concurrently);
3. the subscriber's: note the invoice's id and number on the payment (`payments.saas_invoice_id`).

It runs after the capture commits (an after-commit kick from `payments._capture`) and from the
scheduler (`issue_due`), which finds every captured payment still without `saas_invoice_id`: a kick
lost to a crash, or a step 3 that failed after step 2 committed (step 2 then finds its row and
issues nothing), is completed by the next run.
"""

import dataclasses
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.context import Context
from app.core.database import Database, after_commit
from app.core.errors import Conflict, NotFound
from app.core.tenancy import required_tenant
from app.domain.fiscal import INDIA
from app.domain.gst import supply_type
from app.domain.saas_pricing import taxable_value
from app.models.billing.business import Company
from app.models.billing.invoice import Invoice
from app.models.platform.payment import PaymentStatus
from app.models.platform.plan import Plan
from app.models.platform.saas_invoice import SaasCustomer, SaasInvoice
from app.repositories.billing.companies import CompanyRepository
from app.repositories.identity.users import UserRepository
from app.repositories.platform.payments import PaymentRepository
from app.repositories.platform.saas_invoices import SaasCustomerRepository, SaasInvoiceRepository
from app.repositories.platform.subscriptions import PlanRepository
from app.repositories.platform.tenants import TenantAccountRepository
from app.schemas.billing.invoices import InvoiceIn, InvoiceLineIn
from app.schemas.billing.receipts import ReceiptCreate
from app.schemas.money import paise_to_rupees
from app.services.billing import customers, invoicing, receipts
from app.services.documents import document_pdfs
from app.services.documents.document_pdfs import RenderedPdf
from app.services.platform import audit, plans

log = logging.getLogger(__name__)

ADDRESS_LINE = 200  # customers.billing_address_line1/2


@dataclass(frozen=True)
class Platform:
    tenant_id: uuid.UUID
    company_id: uuid.UUID


def platform_of(settings: Settings) -> Platform | None:
    """The configured platform tenant and company, or None (no SaaS invoices)."""
    if settings.platform_tenant_id is None or settings.platform_company_id is None:
        return None
    return Platform(settings.platform_tenant_id, settings.platform_company_id)


@dataclass(frozen=True)
class Purchase:
    """What the platform's invoice needs of the subscriber and its payment (read in its transaction)."""

    subscriber_tenant_id: uuid.UUID
    payment_id: uuid.UUID
    business_name: str
    gstin: str | None
    billing_state_code: str | None
    billing_address: str | None
    email: str | None
    plan_code: str
    razorpay_payment_id: str | None
    amount_paise: int
    period_start: datetime | None
    period_end: datetime | None


def kick_after_commit(session: AsyncSession, ctx: Context, payment_id: uuid.UUID) -> None:
    """After the capture's transaction commits, issue its SaaS invoice (in the background; a failure
    is logged and left to the scheduler's `issue_due`)."""
    if platform_of(ctx.settings) is None:
        return
    db, settings, tenant_id, at = ctx.db, ctx.settings, required_tenant(session), ctx.now

    async def issue_after_commit() -> None:
        try:
            await issue_for_payment(db, settings, tenant_id, payment_id, at)
        except Exception:
            log.exception(
                "SaaS invoice for payment %s of tenant %s failed; the scheduler retries", payment_id, tenant_id
            )

    after_commit(session, issue_after_commit)


async def issue_due(db: Database, settings: Settings, tenant_id: uuid.UUID, at: datetime) -> int:
    """The scheduler's step for one subscriber: every captured payment still without its invoice.
    Returns how many invoices were recorded on payments."""
    platform = platform_of(settings)
    if platform is None or tenant_id == platform.tenant_id:
        return 0
    async with db.transaction(tenant_id) as session:
        due = await PaymentRepository(session).saas_invoice_due(at)
    done = 0
    for payment_id in due:
        done += await issue_for_payment(db, settings, tenant_id, payment_id, at)
    return done


async def issue_for_payment(
    db: Database, settings: Settings, tenant_id: uuid.UUID, payment_id: uuid.UUID, at: datetime
) -> bool:
    """Issue (once) and record the SaaS invoice of one captured payment; False if there is nothing
    to do (no platform configured, the platform's own payment, not captured, already recorded)."""
    platform = platform_of(settings)
    if platform is None or tenant_id == platform.tenant_id:
        return False
    async with db.transaction(tenant_id) as session:
        purchase = await _purchase(session, tenant_id, payment_id)
    if purchase is None:
        return False
    ctx = Context(settings=settings, db=db, now=at, tenant_id=platform.tenant_id)
    async with db.transaction(platform.tenant_id) as session:
        audit.set_actor(session, None)
        invoice_id, number = await _issue(session, ctx, platform, purchase)
    async with db.transaction(tenant_id) as session:
        audit.set_actor(session, None)
        recorded = await PaymentRepository(session).record_saas_invoice(payment_id, invoice_id, number)
        if recorded:
            await audit.record(
                session,
                action="payment.saas_invoice_recorded",
                entity_type="payment",
                entity_id=payment_id,
                after={"saas_invoice_id": str(invoice_id), "saas_invoice_number": number},
            )
    return recorded


async def _purchase(session: AsyncSession, tenant_id: uuid.UUID, payment_id: uuid.UUID) -> Purchase | None:
    payment = await PaymentRepository(session).get(payment_id)
    if payment is None or payment.status != PaymentStatus.captured or payment.saas_invoice_id is not None:
        return None
    tenant = await TenantAccountRepository(session).get(tenant_id)
    if tenant is None:
        return None
    email = tenant.contact_email
    if email is None:
        owners = await UserRepository(session).owners()
        email = owners[0].email if owners else None
    return Purchase(
        subscriber_tenant_id=tenant_id,
        payment_id=payment.id,
        business_name=tenant.business_name,
        gstin=tenant.gstin,
        billing_state_code=tenant.billing_state_code,
        billing_address=tenant.billing_address,
        email=email,
        plan_code=payment.plan_code,
        razorpay_payment_id=payment.razorpay_payment_id,
        amount_paise=payment.amount_paise,
        period_start=payment.period_start,
        period_end=payment.period_end,
    )


async def _issue(session: AsyncSession, ctx: Context, platform: Platform, purchase: Purchase) -> tuple[uuid.UUID, str]:
    """In the platform tenant's transaction: the payment's invoice, issued now unless it already was."""
    repo = SaasInvoiceRepository(session)
    await repo.lock_payment(purchase.payment_id)
    known = await repo.of_payment(purchase.payment_id)
    if known is not None:
        existing = await invoicing.get(session, known.invoice_id)
        return existing.id, str(existing.number)
    company = await CompanyRepository(session).get(platform.company_id)
    if company is None:
        raise LookupError(f"PLATFORM_COMPANY_ID {platform.company_id} is not a company of the platform tenant")
    plan = await PlanRepository(session).get(purchase.plan_code)
    if plan is None:
        raise LookupError(f"payment {purchase.payment_id} names an unknown plan {purchase.plan_code!r}")
    customer_id = await _customer(session, ctx, company, purchase)
    body = InvoiceIn(
        company_id=company.id,
        customer_id=customer_id,
        lines=[_line(plan, company, purchase)],
        notes=f"Paid online (Razorpay), payment {purchase.payment_id}.",
    )
    invoice = await invoicing.create(session, ctx, body=body, issue=True, stock_kind=None)
    await _settle(session, ctx, invoice, purchase)
    await repo.add(
        SaasInvoice(
            subscriber_tenant_id=purchase.subscriber_tenant_id, payment_id=purchase.payment_id, invoice_id=invoice.id
        )
    )
    return invoice.id, str(invoice.number)


async def _settle(session: AsyncSession, ctx: Context, invoice: Invoice, purchase: Purchase) -> None:
    """The payment received, as a receipt of the platform company allocated to the invoice (mode
    razorpay, its payment id as the reference): the invoice is paid. What the charge exceeds the
    invoice by (a paisa, when no round-off absorbs the back-calculation's) stays as an advance."""
    charged = paise_to_rupees(purchase.amount_paise)
    allocated = min(charged, invoice.total)
    receipt = ReceiptCreate.model_validate(
        {
            "customer_id": invoice.customer_id,
            "company_id": invoice.company_id,
            "amount": str(charged),
            "receipt_date": invoice.invoice_date,
            "mode": "razorpay",
            "reference": purchase.razorpay_payment_id,
            "allocations": [{"invoice_id": invoice.id, "amount": str(allocated)}] if allocated > 0 else [],
        }
    )
    await receipts.create(session, ctx, body=receipt)


def _place_of_supply(company: Company, purchase: Purchase) -> str:
    """The recipient's state (its GSTIN's, else its billing state); unknown: the supplier's
    (IGST Act s.12(2)(b): the supplier's location when the recipient's address is not on record)."""
    if purchase.gstin is not None:
        return purchase.gstin[:2]
    return purchase.billing_state_code or company.state_code


def _line(plan: Plan, company: Company, purchase: Purchase) -> InvoiceLineIn:
    charged = paise_to_rupees(purchase.amount_paise)
    place = _place_of_supply(company, purchase)
    supply = supply_type(company.state_code, place)
    # The amount charged is the plan's price with tax (app.services.platform.plans.with_tax_paise):
    # inclusive, it is back-calculated; exclusive, the taxable value is the plan's price, unless the
    # price changed since the order was made: then the amount paid is back-calculated (the invoice
    # is for what was charged).
    exclusive = not plan.price_includes_tax and plans.with_tax_paise(plan) == purchase.amount_paise
    price = paise_to_rupees(plan.price_paise) if exclusive else charged
    taxable = taxable_value(price, plan.gst_rate, includes_tax=not exclusive, supply=supply, place_of_supply=place)
    period = ""
    if purchase.period_start is not None and purchase.period_end is not None:
        start = purchase.period_start.astimezone(INDIA).strftime("%d %b %Y")
        end = purchase.period_end.astimezone(INDIA).strftime("%d %b %Y")
        period = f", {start} to {end}"
    return InvoiceLineIn.model_validate(
        {
            "description": f"{plan.name} plan subscription{period}",
            "hsn_sac": plan.sac_code,
            "quantity": "1",
            "unit": "OTH",
            "unit_price": str(taxable),
            "gst_rate": str(plan.gst_rate),
        }
    )


async def _customer(session: AsyncSession, ctx: Context, company: Company, purchase: Purchase) -> uuid.UUID:
    """The subscriber's customer in the platform tenant, created or brought up to date."""
    line1, line2 = _address_lines(purchase.billing_address)
    values: dict[str, object] = {
        "name": purchase.business_name[:200],
        "gstin": purchase.gstin,
        "email": purchase.email,
        "billing_address_line1": line1,
        "billing_address_line2": line2,
        "billing_state_code": None if purchase.gstin else _place_of_supply(company, purchase),
    }
    repo = SaasCustomerRepository(session)
    known = await repo.of_subscriber(purchase.subscriber_tenant_id)
    if known is None:
        customer = await customers.create(session, ctx, values=values)
        await repo.add(SaasCustomer(subscriber_tenant_id=purchase.subscriber_tenant_id, customer_id=customer.id))
        return customer.id
    current = await customers.get(session, known.customer_id)
    changes = {name: value for name, value in values.items() if getattr(current, name) != value}
    if purchase.gstin and "billing_state_code" in changes:
        changes.pop("billing_state_code")  # derived from the GSTIN
    if changes:
        await customers.update(session, ctx, known.customer_id, changes=changes)
    return known.customer_id


def _address_lines(address: str | None) -> tuple[str | None, str | None]:
    if not address:
        return None, None
    first, _, rest = address.partition(", ")
    if len(first) > ADDRESS_LINE or not rest:
        return address[:ADDRESS_LINE], (address[ADDRESS_LINE : 2 * ADDRESS_LINE] or None)
    return first, rest[:ADDRESS_LINE]


async def invoice_pdf(session: AsyncSession, ctx: Context, payment_id: uuid.UUID) -> RenderedPdf:
    """The subscriber's payment's SaaS invoice as a PDF, rendered in the platform tenant (read-only).
    404 `payment-not-found` for a payment not of the caller's tenant; 409 `saas-invoice-not-issued`
    while it has none (not captured, issue pending, or no platform configured)."""
    payment = await PaymentRepository(session).get(payment_id)
    if payment is None:
        raise NotFound("There is no such payment.", code="payment-not-found")
    platform = platform_of(ctx.settings)
    if payment.saas_invoice_id is None or platform is None:
        raise Conflict(
            "The tax invoice for this payment is not issued yet (it is issued shortly after the payment is captured).",
            code="saas-invoice-not-issued",
        )
    platform_ctx = dataclasses.replace(ctx, tenant_id=platform.tenant_id, actor_id=None, memo={})
    async with ctx.db.transaction(platform.tenant_id) as platform_session:
        return await document_pdfs.invoice_pdf(platform_session, platform_ctx, payment.saas_invoice_id)
