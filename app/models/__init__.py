"""Importing this package registers every model on Base.metadata (Alembic relies on it)."""

from app.models.base import Base, TenantOwned
from app.models.billing.business import AccountManager, ClientType, Company, GstSettings, ServiceType, TaxRate
from app.models.billing.credit_note import CreditNote, CreditNoteLine
from app.models.billing.customer import Customer
from app.models.billing.gst_threshold import GstThreshold
from app.models.billing.invoice import Invoice, InvoiceLine
from app.models.billing.number_series import NumberSeries
from app.models.billing.receipt import Receipt, ReceiptAllocation
from app.models.billing.recurring import RecurringInvoice, RecurringInvoiceRun
from app.models.billing.reminder import ReminderSettings
from app.models.catalog.product import Product, ProductCategory
from app.models.catalog.stock import InventorySettings, StockAlert, StockDocument, StockLevel, StockMovement
from app.models.commerce.gateway import GatewayEvent, GatewayWebhook, PaymentGateway
from app.models.commerce.online_payment import OnlinePayment, Refund
from app.models.commerce.order import SalesOrder, SalesOrderLine
from app.models.commerce.storage import StorageAgreement, StorageHolding, StorageMovement, StorageRentPeriod
from app.models.documents.company_logo import CompanyLogo
from app.models.documents.share_link import ShareLink
from app.models.identity.auth import AuthSession, EmailChange, EmailVerification, PasswordReset, UserInvitation
from app.models.identity.security import RateLimitHit
from app.models.identity.user import User, UserIdentity
from app.models.platform.audit import AuditLog
from app.models.platform.data_export import RetainedTaxDocument, TenantExport, TenantExportChunk
from app.models.platform.events import BusinessEvent, WebhookDelivery, WebhookEndpoint
from app.models.platform.idempotency import IdempotencyKey
from app.models.platform.job import JobOccasion
from app.models.platform.outbox import OutboxEmail, OutboxEmailDocument
from app.models.platform.payment import Payment, PaymentEvent, RazorpayOrder
from app.models.platform.plan import Plan
from app.models.platform.saas_invoice import SaasCustomer, SaasInvoice
from app.models.platform.subscription import Subscription
from app.models.platform.tenant import Tenant
from app.models.platform.usage import Meter, PlanMeterQuota, UsageLedgerEntry, UsagePeriod

__all__ = [
    "AccountManager",
    "AuditLog",
    "AuthSession",
    "Base",
    "BusinessEvent",
    "ClientType",
    "Company",
    "CompanyLogo",
    "CreditNote",
    "CreditNoteLine",
    "Customer",
    "EmailChange",
    "EmailVerification",
    "GatewayEvent",
    "GatewayWebhook",
    "GstSettings",
    "GstThreshold",
    "IdempotencyKey",
    "InventorySettings",
    "Invoice",
    "InvoiceLine",
    "JobOccasion",
    "Meter",
    "NumberSeries",
    "OnlinePayment",
    "OutboxEmail",
    "OutboxEmailDocument",
    "PasswordReset",
    "Payment",
    "PaymentEvent",
    "PaymentGateway",
    "Plan",
    "PlanMeterQuota",
    "Product",
    "ProductCategory",
    "RateLimitHit",
    "RazorpayOrder",
    "Receipt",
    "ReceiptAllocation",
    "RecurringInvoice",
    "RecurringInvoiceRun",
    "Refund",
    "ReminderSettings",
    "RetainedTaxDocument",
    "SaasCustomer",
    "SaasInvoice",
    "SalesOrder",
    "SalesOrderLine",
    "ServiceType",
    "ShareLink",
    "StockAlert",
    "StockDocument",
    "StockLevel",
    "StockMovement",
    "StorageAgreement",
    "StorageHolding",
    "StorageMovement",
    "StorageRentPeriod",
    "Subscription",
    "TaxRate",
    "Tenant",
    "TenantExport",
    "TenantExportChunk",
    "UsageLedgerEntry",
    "UsagePeriod",
    "User",
    "UserIdentity",
    "UserInvitation",
    "WebhookDelivery",
    "WebhookEndpoint",
]

# Tables that carry tenant data: each gets ENABLE + FORCE ROW LEVEL SECURITY and the tenant policy
# (`app.core.migration_helpers.enable_tenant_rls`). Derived, not listed: `tenants` (its own id is the
# tenant) and the table of every TenantOwned model, parents first. tests/db/test_rls.py checks each
# against the catalog, so a new tenant model whose migration forgets row-level security fails there.
RLS_TABLES = ["tenants"] + [
    table.name
    for table in Base.metadata.sorted_tables
    if any(issubclass(m.class_, TenantOwned) for m in Base.registry.mappers if m.local_table is table)
]

# Tables with a tenant_id column that are not tenant tables, and why. Each is a global lookup by
# its own key, read before any tenant is bound, so it cannot have row-level security; the application
# role has no privilege on it (app.core.roles.NO_ACCESS_TABLES) and goes through SECURITY DEFINER
# functions answering one exact key. On Citus each is distributed by its own key (README, "Running
# at scale"), which is why none has a foreign key into a tenant table.
LOOKUP_TABLES = {
    "user_identities": "email -> (tenant, user): login, registration and forgot-password find the tenant by it",
    "razorpay_orders": "Razorpay order id -> (tenant, payment): a webhook finds the tenant by it",
    "gateway_webhooks": "a tenant's webhook id -> tenant: the tenant's own Razorpay webhook finds its tenant by it",
    "retained_tax_documents": "tax documents of purged tenants, kept for CGST s.36; its tenant no longer exists",
}
