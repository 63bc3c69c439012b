"""Importing this package registers every model on Base.metadata (Alembic relies on it)."""

from app.models.audit import AuditLog
from app.models.auth import AuthSession, EmailChange, EmailVerification, PasswordReset, UserInvitation
from app.models.base import Base
from app.models.business import AccountManager, ClientType, Company, GstSettings, ServiceType, TaxRate
from app.models.credit_note import CreditNote, CreditNoteLine
from app.models.customer import Customer
from app.models.idempotency import IdempotencyKey
from app.models.invoice import Invoice, InvoiceLine
from app.models.job import JobOccasion
from app.models.number_series import NumberSeries
from app.models.outbox import OutboxEmail
from app.models.payment import Payment, PaymentEvent
from app.models.plan import Plan
from app.models.receipt import Receipt, ReceiptAllocation
from app.models.security import RateLimitHit
from app.models.subscription import Subscription
from app.models.tenant import Tenant
from app.models.usage import Meter, PlanMeterQuota, UsageLedgerEntry, UsagePeriod
from app.models.user import User, UserIdentity

__all__ = [
    "AccountManager",
    "AuditLog",
    "AuthSession",
    "Base",
    "ClientType",
    "Company",
    "CreditNote",
    "CreditNoteLine",
    "Customer",
    "EmailChange",
    "EmailVerification",
    "GstSettings",
    "IdempotencyKey",
    "Invoice",
    "InvoiceLine",
    "JobOccasion",
    "Meter",
    "NumberSeries",
    "OutboxEmail",
    "PasswordReset",
    "Payment",
    "PaymentEvent",
    "Plan",
    "PlanMeterQuota",
    "RateLimitHit",
    "Receipt",
    "ReceiptAllocation",
    "ServiceType",
    "Subscription",
    "TaxRate",
    "Tenant",
    "UsageLedgerEntry",
    "UsagePeriod",
    "User",
    "UserIdentity",
    "UserInvitation",
]

# Tables that carry tenant data: each gets ENABLE + FORCE ROW LEVEL SECURITY and the tenant policy.
RLS_TABLES = ["tenants"] + [
    m.__tablename__
    for m in (
        User,
        AuthSession,
        EmailVerification,
        PasswordReset,
        UserInvitation,
        EmailChange,
        AuditLog,
        OutboxEmail,
        Company,
        ClientType,
        AccountManager,
        ServiceType,
        TaxRate,
        GstSettings,
        Customer,
        IdempotencyKey,
        NumberSeries,
        Invoice,
        InvoiceLine,
        Receipt,
        ReceiptAllocation,
        CreditNote,
        CreditNoteLine,
        Subscription,
        JobOccasion,
        UsagePeriod,
        UsageLedgerEntry,
        Payment,
        PaymentEvent,
    )
]
