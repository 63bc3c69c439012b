"""The ORM tenant filter, on its own: every repository method with row-level security out of play.

The sessions here connect as the owner role (a superuser in the embedded server and in CI), which
row-level security does not restrict, so the only thing between tenant A's session and tenant B's
rows is the ORM filter (app.core.tenancy). Each repository method is run

- with no tenant bound: it must raise TenantNotBound (not quietly count 0 or find nothing);
- bound to tenant A, aimed at tenant B's rows: it must return what the same call returns through
  row-level security alone (the application role with the filter off, proven by test_rls), reveal
  none of B's rows and change none of them.

Repository classes and their methods are found by walking app.repositories, so a method added
later fails `test_every_repository_method_has_a_case` until it gets a case below.
"""

import dataclasses
import datetime as dt
import importlib
import inspect
import pkgutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, create_async_engine
from sqlalchemy.orm import make_transient_to_detached

import app.repositories as repositories
from app.core.database import Database
from app.core.tenancy import TenantNotBound, bind_tenant, orm_filter_disabled
from app.models import Base
from app.models.billing.business import AccountManager, ClientType, Company, ServiceType
from app.models.billing.credit_note import CreditNoteLine
from app.models.billing.customer import Customer
from app.models.billing.invoice import Invoice, InvoiceLine
from app.models.billing.receipt import Receipt, ReceiptAllocation
from app.models.catalog.product import Product, ProductCategory
from app.models.identity.auth import EmailVerification, PasswordReset, UserInvitation
from app.models.platform.audit import AuditLog
from app.models.platform.data_export import TenantExport
from app.repositories.base import SortKey
from app.repositories.billing.credit_notes import CreditNoteFilters
from app.repositories.billing.customers import CustomerFilters
from app.repositories.billing.invoices import InvoiceFilters
from app.repositories.billing.receipts import ReceiptFilters
from app.repositories.billing.recurring_invoices import RecurringFilters
from app.repositories.catalog.products import ProductFilters
from app.repositories.catalog.stock import DocumentFilters, LevelDelta, LevelFilters, MovementFilters
from app.repositories.catalog.stock import Movement as StockMovementOf
from app.repositories.catalog.stock_alerts import AlertFilters as StockAlertFilters
from app.repositories.commerce.online_payments import OnlinePaymentFilters
from app.repositories.commerce.orders import OrderFilters
from app.repositories.commerce.refunds import RefundFilters
from app.repositories.commerce.storage import AgreementFilters as StorageAgreementFilters
from app.repositories.documents import exports as export_queries
from app.repositories.platform.outbox import DeliveryFilter
from tests.conftest import fresh_ip
from tests.db.tenant_digest import tenant_digest
from tests.db.tenant_rows import make_two_tenants, rls_tables, tenant_column

NOW = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
PROBE_ID = uuid.uuid4()
EARLY, LATE = dt.date(2000, 1, 1), dt.date(2100, 1, 1)
EARLY_AT = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
LATE_AT = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
MODELS = {mapper.local_table.name: mapper.class_ for mapper in Base.registry.mappers}

# Repositories over global tables (no tenant_id, or the global email directory), and why.
GLOBAL = {
    "PlanRepository": "plans: the global catalog",
    "MeterRepository": "meters and plan quotas: global catalog",
    "RateLimitRepository": "rate_limit_hits: global, keyed by bucket (IP, email) before any tenant",
    "IdentityRepository": "user_identities: the email directory read before a tenant is bound",
    "DueWorkRepository": "the scheduler's cross-tenant lookups, through SECURITY DEFINER functions",
    "DueExportRepository": "the scheduler's cross-tenant lookup of due exports, a SECURITY DEFINER function",
    "GstThresholdRepository": "gst_thresholds: global dated GST thresholds, read-only like plans",
}
# Methods that run no statement of their own, and why.
NO_QUERY = {
    ("OutboxRepository", "mark_sent"): "sets attributes of a row its caller loaded",
    ("OutboxRepository", "mark_failed"): "sets attributes of a row its caller loaded",
    ("OutboxRepository", "mark_cancelled"): "sets attributes of a row its caller loaded",
    ("LedgerRepository", "movements"): "builds the subquery that totals() and page() run",
    ("LedgerRepository", "period_statement"): "builds the statement period() and the ledger export run",
    ("ProductRepository", "search_statement"): "builds the statement list_page() runs (EXPLAINed by a test)",
}


@dataclass
class Other:
    """Tenant B: one row of each tenant table, by table name."""

    tenant_id: uuid.UUID
    rows: dict[str, dict[str, Any]]

    def id(self, table: str) -> uuid.UUID:
        return self.rows[table]["id"]

    def row(self, table: str) -> dict[str, Any]:
        return self.rows[table]

    def detached(self, session: AsyncSession, table: str) -> Any:
        """B's row as a persistent object of `session`, without a query (as if the caller had it)."""
        obj = MODELS[table](**self.rows[table])
        make_transient_to_detached(obj)
        session.add(obj)
        return obj


Call = Callable[[AsyncSession, Other], Awaitable[Any]]


def _columns_of(row: dict[str, Any]) -> dict[str, Any]:
    """A row's values without the ones the database computes (an INSERT cannot write them)."""
    return {k: v for k, v in row.items() if k != "balance_due"}


@dataclass(frozen=True)
class Case:
    call: Call
    # False when B's row is handed in as an object: RLS alone and the filter alone refuse it
    # differently (a stale-row error, TenantNotBound); B's rows unchanged is what both must show.
    compare: bool = True


def _module_classes() -> dict[str, type]:
    found = {}
    for info in pkgutil.walk_packages(repositories.__path__, f"{repositories.__name__}."):
        module = importlib.import_module(info.name)
        for name, cls in vars(module).items():
            if inspect.isclass(cls) and cls.__module__ == module.__name__ and name.endswith("Repository"):
                found[name] = cls
    return found


CLASSES = _module_classes()


def own_methods(cls: type) -> list[str]:
    return [
        name
        for name, value in vars(cls).items()
        if not name.startswith("_")
        and name != "model"
        and inspect.isfunction(inspect.unwrap(getattr(value, "__func__", value)))
    ]


def every_method() -> list[tuple[str, str]]:
    return [(name, method) for name, cls in CLASSES.items() if name not in GLOBAL for method in own_methods(cls)]


def C(cls_name: str, *args: Any) -> Callable[[AsyncSession], Any]:
    """The repository class of that name, to be built on a session."""
    return lambda session: CLASSES[cls_name](session, *args)


CASES: dict[tuple[str, str], Case] = {
    # base
    ("TenantRepository", "get"): Case(lambda s, b: C("TenantRepository", Customer)(s).get(b.id("customers"))),
    ("TenantOwnedRepository", "add"): Case(
        lambda s, b: C("TenantOwnedRepository", ClientType)(s).add(ClientType(id=PROBE_ID, name="probe"))
    ),
    ("TenantRepository", "page"): Case(
        lambda s, b: C("TenantRepository", Customer)(s).page(sa.select(Customer), limit=100, cursor=None)
    ),
    ("AuditRepository", "add_many"): Case(
        lambda s, b: C("AuditRepository")(s).add_many([AuditLog(id=PROBE_ID, action="probe", entity_type="probe")])
    ),
    # business events (0031): the insert's subscriber lookup must not find B's endpoints; a delivery
    # naming B's event or endpoint must not be written
    ("BusinessEventRepository", "insert_with_subscribers"): Case(
        lambda s, b: C("BusinessEventRepository")(s).insert_with_subscribers(
            event_type="invoice.issued",
            resource_type="invoice",
            resource_id=b.id("invoices"),
            payload={},
            payload_version=1,
            occurred_at=NOW,
            actor_user_id=None,
        ),
        compare=False,
    ),
    ("BusinessEventRepository", "add_deliveries"): Case(
        lambda s, b: C("BusinessEventRepository")(s).add_deliveries(
            event_id=b.id("business_events"),
            event_seq=1,
            event_type="invoice.issued",
            resource_id=b.id("invoices"),
            endpoint_ids=[b.id("webhook_endpoints")],
        )
    ),
    # outbound webhooks (0031/0037): B's endpoints, deliveries and events are never listed, claimed or read
    ("WebhookEndpointRepository", "list_page"): Case(
        lambda s, b: C("WebhookEndpointRepository")(s).list_page(limit=100, cursor=None, status=None)
    ),
    ("WebhookDeliveryRepository", "list_page"): Case(
        lambda s, b: C("WebhookDeliveryRepository")(s).list_page(
            b.id("webhook_endpoints"), limit=100, cursor=None, status=None, event_type=None, event_id=None
        )
    ),
    ("WebhookDeliveryRepository", "of_endpoint"): Case(
        lambda s, b: C("WebhookDeliveryRepository")(s).of_endpoint(
            b.id("webhook_endpoints"), b.id("webhook_deliveries")
        )
    ),
    ("WebhookDeliveryRepository", "delete_of_endpoint"): Case(
        lambda s, b: C("WebhookDeliveryRepository")(s).delete_of_endpoint(b.id("webhook_endpoints"))
    ),
    ("WebhookDeliveryRepository", "claim_next"): Case(
        lambda s, b: C("WebhookDeliveryRepository")(s).claim_next(LATE_AT)
    ),
    ("WebhookDeliveryRepository", "event"): Case(
        lambda s, b: C("WebhookDeliveryRepository")(s).event(b.id("business_events"))
    ),
    ("WebhookDeliveryRepository", "endpoint"): Case(
        lambda s, b: C("WebhookDeliveryRepository")(s).endpoint(b.id("webhook_endpoints"), for_update=True)
    ),
    ("AuditRepository", "list_page"): Case(lambda s, b: C("AuditRepository")(s).list_page(limit=100, cursor=None)),
    # the event log (issue 13 §4): B's events never listed nor counted
    ("EventLogRepository", "list_page"): Case(
        lambda s, b: C("EventLogRepository")(s).list_page(limit=100, cursor=None, resource_id=b.id("business_events"))
    ),
    ("EventLogRepository", "daily_counts"): Case(
        lambda s, b: C("EventLogRepository")(s).daily_counts(
            start=NOW - dt.timedelta(days=3650), end=NOW + dt.timedelta(days=3650)
        )
    ),
    ("CatalogRepository", "list_page"): Case(
        lambda s, b: C("CatalogRepository", ServiceType)(s).list_page(
            limit=100, cursor=None, sort=SortKey(), search=None, search_columns=()
        )
    ),
    ("CatalogRepository", "delete"): Case(
        lambda s, b: C("CatalogRepository", AccountManager)(s).delete(b.detached(s, "account_managers")),
        compare=False,
    ),
    # credit notes
    ("CreditNoteRepository", "get_with_lines"): Case(
        lambda s, b: C("CreditNoteRepository")(s).get_with_lines(b.id("credit_notes"))
    ),
    ("CreditNoteRepository", "list_page"): Case(
        lambda s, b: C("CreditNoteRepository")(s).list_page(
            CreditNoteFilters(), limit=100, cursor=None, sort="-credit_note_date", with_lines=True
        )
    ),
    ("CreditNoteRepository", "add_lines"): Case(
        lambda s, b: C("CreditNoteRepository")(s).add_lines(
            b.detached(s, "credit_notes"), [CreditNoteLine(**{**b.row("credit_note_lines"), "id": uuid.uuid4()})]
        ),
        compare=False,
    ),
    ("CreditNoteRepository", "credited_by_line"): Case(
        lambda s, b: C("CreditNoteRepository")(s).credited_by_line(
            [b.row("credit_note_lines")["invoice_line_id"], b.id("invoice_lines")]
        )
    ),
    # GSTR-1 (issue 13): B's company, B's whole date range, B's product
    ("Gstr1Repository", "invoices"): Case(
        lambda s, b: C("Gstr1Repository")(s).invoices(
            b.row("invoices")["company_id"], dt.date(1900, 1, 1), dt.date(2999, 12, 31)
        )
    ),
    ("Gstr1Repository", "credit_notes"): Case(
        lambda s, b: C("Gstr1Repository")(s).credit_notes(
            b.row("credit_notes")["company_id"], dt.date(1900, 1, 1), dt.date(2999, 12, 31)
        )
    ),
    ("Gstr1Repository", "product_units"): Case(lambda s, b: C("Gstr1Repository")(s).product_units({b.id("products")})),
    ("Gstr1Repository", "line_units"): Case(lambda s, b: C("Gstr1Repository")(s).line_units({b.id("invoice_lines")})),
    # customers
    ("CustomerRepository", "list_page"): Case(
        lambda s, b: C("CustomerRepository")(s).list_page(
            CustomerFilters(ids=[b.id("customers")]), limit=100, cursor=None, sort="name"
        )
    ),
    ("CustomerRepository", "first_with_gstin"): Case(
        lambda s, b: C("CustomerRepository")(s).first_with_gstin(b.row("customers")["gstin"] or "29AAPFU0939F1ZV")
    ),
    ("CompanyRepository", "has_gstin"): Case(
        lambda s, b: C("CompanyRepository")(s).has_gstin(b.row("companies")["gstin"] or "29AAPFU0939F1ZV")
    ),
    # stock alerts and transfers (issue 11)
    ("StockAlertRepository", "open_page"): Case(
        lambda s, b: C("StockAlertRepository")(s).open_page(
            StockAlertFilters(), limit=100, cursor=None, sort="opened_at"
        )
    ),
    ("StockAlertRepository", "open_for_digest"): Case(
        lambda s, b: C("StockAlertRepository")(s).open_for_digest(limit=100)
    ),
    ("StockAlertRepository", "count_open"): Case(lambda s, b: C("StockAlertRepository")(s).count_open()),
    ("StockDocumentRepository", "invoices_a_transfer"): Case(
        lambda s, b: C("StockDocumentRepository")(s).invoices_a_transfer(
            b.row("stock_documents")["invoice_id"] or b.id("invoices")
        )
    ),
    ("CustomerRepository", "reference_exists"): Case(
        lambda s, b: C("CustomerRepository")(s).reference_exists("client_type_id", b.id("client_types"))
    ),
    ("CustomerRepository", "set_opening_balance"): Case(
        lambda s, b: C("CustomerRepository")(s).set_opening_balance(b.detached(s, "customers"), Decimal(7))
    ),
    ("CustomerRepository", "add_to_balance"): Case(
        lambda s, b: C("CustomerRepository")(s).add_to_balance(b.id("customers"), Decimal(7))
    ),
    ("CustomerRepository", "walk_in"): Case(
        lambda s, b: C("CustomerRepository")(s).walk_in(b.row("customers")["walk_in_company_id"] or b.id("companies"))
    ),
    ("CustomerRepository", "add_walk_in"): Case(
        lambda s, b: C("CustomerRepository")(s).add_walk_in(
            Customer(
                id=PROBE_ID,
                name="probe",
                billing_state_code="29",
                walk_in_company_id=b.id("companies"),
                payment_reminders=False,
            )
        )
    ),
    ("CustomerRepository", "set_billing_state"): Case(
        lambda s, b: C("CustomerRepository")(s).set_billing_state(b.detached(s, "customers"), "27"), compare=False
    ),
    ("CustomerRepository", "credit_position"): Case(
        lambda s, b: C("CustomerRepository")(s).credit_position(b.id("customers"))
    ),
    ("CustomerRepository", "try_delete"): Case(
        lambda s, b: C("CustomerRepository")(s).try_delete(b.detached(s, "customers")), compare=False
    ),
    # display names
    ("DisplayNameRepository", "parties"): Case(
        lambda s, b: C("DisplayNameRepository")(s).parties(b.id("customers"), b.id("companies"))
    ),
    ("DisplayNameRepository", "customer_refs"): Case(
        lambda s, b: C("DisplayNameRepository")(s).customer_refs(b.id("client_types"), b.id("account_managers"))
    ),
    # dashboard
    ("DashboardRepository", "invoice_metrics"): Case(
        lambda s, b: C("DashboardRepository")(s).invoice_metrics(date_from=EARLY, date_to=LATE, today=LATE)
    ),
    ("DashboardRepository", "collected"): Case(
        lambda s, b: C("DashboardRepository")(s).collected(date_from=EARLY, date_to=LATE)
    ),
    ("DashboardRepository", "credited"): Case(
        lambda s, b: C("DashboardRepository")(s).credited(date_from=EARLY, date_to=LATE)
    ),
    ("DashboardRepository", "customer_counts"): Case(lambda s, b: C("DashboardRepository")(s).customer_counts()),
    ("DashboardRepository", "average_days_to_pay"): Case(
        lambda s, b: C("DashboardRepository")(s).average_days_to_pay(date_from=EARLY, date_to=LATE)
    ),
    ("DashboardRepository", "revenue_chart"): Case(
        lambda s, b: C("DashboardRepository")(s).revenue_chart(date_from=EARLY, date_to=LATE, interval="month")
    ),
    ("DashboardRepository", "aging"): Case(lambda s, b: C("DashboardRepository")(s).aging(as_of=LATE)),
    ("DashboardRepository", "customer_aging"): Case(
        lambda s, b: C("DashboardRepository")(s).customer_aging(b.id("customers"), as_of=LATE)
    ),
    ("DashboardRepository", "aging_by_customer"): Case(
        lambda s, b: C("DashboardRepository")(s).aging_by_customer(as_of=LATE, limit=100)
    ),
    ("ServiceTypeRepository", "by_ids"): Case(
        lambda s, b: C("ServiceTypeRepository")(s).by_ids({b.id("service_types")})
    ),
    # documents: B's company and customer are not found; A's settings and rates are what RLS alone gives
    ("DocumentPartiesRepository", "load"): Case(lambda s, b: _parties(s, b)),
    ("GstSettingsRepository", "current"): Case(lambda s, b: C("GstSettingsRepository")(s).current(for_update=True)),
    # idempotency
    ("IdempotencyRepository", "claim"): Case(
        lambda s, b: C("IdempotencyRepository")(s).claim(
            b.row("idempotency_keys")["key"],
            method="POST",
            path="/probe",
            request_hash="0" * 64,
            now=NOW,
            expires_at=NOW,
            wait_seconds=1,
        )
    ),
    ("IdempotencyRepository", "find"): Case(
        lambda s, b: C("IdempotencyRepository")(s).find(b.row("idempotency_keys")["key"])
    ),
    ("IdempotencyRepository", "complete"): Case(
        lambda s, b: C("IdempotencyRepository")(s).complete(b.row("idempotency_keys")["key"], 201, {"probe": 1})
    ),
    # invoices
    ("InvoiceRepository", "get_with_lines"): Case(
        lambda s, b: C("InvoiceRepository")(s).get_with_lines(b.id("invoices"), for_update=True)
    ),
    ("InvoiceRepository", "list_page"): Case(
        lambda s, b: C("InvoiceRepository")(s).list_page(
            # A batch read and a search (its customers subquery) aimed at B's invoice and customer.
            InvoiceFilters(q=b.row("customers")["name"][:2], ids=[b.id("invoices")]),
            limit=100,
            cursor=None,
            sort="-invoice_date",
            with_lines=True,
        )
    ),
    ("InvoiceRepository", "replace_lines"): Case(
        lambda s, b: C("InvoiceRepository")(s).replace_lines(b.detached(s, "invoices"), []), compare=False
    ),
    ("InvoiceRepository", "add_lines"): Case(
        lambda s, b: C("InvoiceRepository")(s).add_lines(
            b.detached(s, "invoices"), [InvoiceLine(**{**b.row("invoice_lines"), "id": uuid.uuid4()})]
        ),
        compare=False,
    ),
    ("InvoiceRepository", "insert"): Case(
        # B's invoice and line as new rows (B's company, customer and series number): written
        # under A's id they name nothing of A's, and B's customer's balance must not move.
        lambda s, b: C("InvoiceRepository")(s).insert(
            Invoice(**{**_columns_of(b.row("invoices")), "id": uuid.uuid4(), "number": "PROBE/1"}),
            [InvoiceLine(**{**b.row("invoice_lines"), "id": uuid.uuid4()})],
            [AuditLog(action="probe", entity_type="probe")],
            issued=True,
        )
    ),
    ("InvoiceRepository", "delete"): Case(
        lambda s, b: C("InvoiceRepository")(s).delete(b.detached(s, "invoices")), compare=False
    ),
    ("InvoiceRepository", "by_ids"): Case(lambda s, b: C("InvoiceRepository")(s).by_ids({b.id("invoices")})),
    ("InvoiceRepository", "settle"): Case(
        lambda s, b: C("InvoiceRepository")(s).settle(b.id("invoices"), paid=Decimal(1))
    ),
    # recurring invoices
    ("RecurringInvoiceRepository", "get_for_update"): Case(
        lambda s, b: C("RecurringInvoiceRepository")(s).get_for_update(b.id("recurring_invoices"))
    ),
    ("RecurringInvoiceRepository", "list_page"): Case(
        lambda s, b: C("RecurringInvoiceRepository")(s).list_page(
            RecurringFilters(customer_id=b.row("recurring_invoices")["customer_id"]), limit=100, cursor=None
        )
    ),
    ("RecurringInvoiceRepository", "due_ids"): Case(
        lambda s, b: C("RecurringInvoiceRepository")(s).due_ids(LATE, limit=100)
    ),
    ("RecurringInvoiceRepository", "lock_due"): Case(
        lambda s, b: C("RecurringInvoiceRepository")(s).lock_due(b.id("recurring_invoices"), LATE)
    ),
    ("RecurringInvoiceRunRepository", "claim"): Case(
        lambda s, b: C("RecurringInvoiceRunRepository")(s).claim(
            b.id("recurring_invoices"), index=0, period=(EARLY, LATE), outcome="skipped", at=NOW
        )
    ),
    ("RecurringInvoiceRunRepository", "claimed"): Case(
        lambda s, b: C("RecurringInvoiceRunRepository")(s).claimed(
            b.row("recurring_runs")["schedule_id"], b.row("recurring_runs")["period_index"]
        )
    ),
    ("RecurringInvoiceRunRepository", "skip"): Case(
        lambda s, b: C("RecurringInvoiceRunRepository")(s).skip(b.id("recurring_invoices"), [(7, EARLY, LATE)], at=NOW)
    ),
    ("RecurringInvoiceRunRepository", "pending_charges"): Case(
        lambda s, b: C("RecurringInvoiceRunRepository")(s).pending_charges(limit=100)
    ),
    ("RecurringInvoiceRunRepository", "history_page"): Case(
        lambda s, b: C("RecurringInvoiceRunRepository")(s).history_page(
            b.row("recurring_runs")["schedule_id"], limit=100, cursor=None
        )
    ),
    # jobs
    ("JobOccasionRepository", "claim"): Case(
        lambda s, b: C("JobOccasionRepository")(s).claim(
            b.row("job_occasions")["kind"], b.row("job_occasions")["occasion_key"]
        )
    ),
    ("JobOccasionRepository", "keys"): Case(
        lambda s, b: C("JobOccasionRepository")(s).keys(b.row("job_occasions")["kind"])
    ),
    # ledger
    ("LedgerRepository", "customer_opening_balance"): Case(
        lambda s, b: C("LedgerRepository")(s).customer_opening_balance(b.id("customers"))
    ),
    ("LedgerRepository", "totals"): Case(
        lambda s, b: C("LedgerRepository")(s).totals(b.id("customers"), date_from=EARLY, date_to=LATE, after=None)
    ),
    ("LedgerRepository", "page"): Case(
        lambda s, b: C("LedgerRepository")(s).page(
            b.id("customers"), date_from=EARLY, date_to=LATE, after=None, balance_before=Decimal(0), limit=100
        )
    ),
    ("LedgerRepository", "period"): Case(
        lambda s, b: C("LedgerRepository")(s).period(
            b.id("customers"), date_from=EARLY, date_to=LATE, balance_before=Decimal(0)
        )
    ),
    # exports (issue 13 §1): every export's statement streamed, and the ledger's
    ("ExportRepository", "batches"): Case(lambda s, b: _every_export(s)),
    ("ExportRepository", "ledger_statement"): Case(lambda s, b: _ledger_export(s, b)),
    # documents as PDFs, company logos
    ("DocumentSourceRepository", "invoice"): Case(
        lambda s, b: C("DocumentSourceRepository")(s).invoice(b.id("invoices"))
    ),
    ("DocumentSourceRepository", "invoice_lines"): Case(
        lambda s, b: C("DocumentSourceRepository")(s).invoice_lines(b.id("invoices"))
    ),
    ("DocumentSourceRepository", "credit_note"): Case(
        lambda s, b: C("DocumentSourceRepository")(s).credit_note(b.id("credit_notes"))
    ),
    ("DocumentSourceRepository", "credit_note_lines"): Case(
        lambda s, b: C("DocumentSourceRepository")(s).credit_note_lines(b.id("credit_notes"))
    ),
    ("DocumentSourceRepository", "receipt"): Case(
        lambda s, b: C("DocumentSourceRepository")(s).receipt(b.id("receipts"))
    ),
    ("DocumentSourceRepository", "receipt_allocations"): Case(
        lambda s, b: C("DocumentSourceRepository")(s).receipt_allocations(b.id("receipts"))
    ),
    ("DocumentSourceRepository", "statement"): Case(
        lambda s, b: C("DocumentSourceRepository")(s).statement(b.id("customers"))
    ),
    ("CompanyLogoRepository", "get"): Case(
        lambda s, b: C("CompanyLogoRepository")(s).get(b.row("company_logos")["company_id"])
    ),
    ("CompanyLogoRepository", "put"): Case(
        lambda s, b: C("CompanyLogoRepository")(s).put(
            b.row("company_logos")["company_id"],
            {"content": b"\x89PNG", "media_type": "image/png", "width": 1, "height": 1, "sha256": "0" * 64},
        )
    ),
    ("CompanyLogoRepository", "remove"): Case(
        lambda s, b: C("CompanyLogoRepository")(s).remove(b.row("company_logos")["company_id"])
    ),
    ("NumberSeriesRepository", "take_next"): Case(
        lambda s, b: C("NumberSeriesRepository")(s).take_next(
            b.row("number_series")["company_id"],
            b.row("number_series")["document_type"],
            b.row("number_series")["financial_year"],
        )
    ),
    # outbox
    ("OutboxRepository", "claim_pending"): Case(
        lambda s, b: C("OutboxRepository")(s).claim_pending([b.id("outbox_emails")])
    ),
    ("OutboxRepository", "due_ids"): Case(lambda s, b: C("OutboxRepository")(s).due_ids(LATE_AT, 10**6)),
    ("OutboxRepository", "customer_mail_since"): Case(
        lambda s, b: C("OutboxRepository")(s).customer_mail_since(EARLY_AT)
    ),
    ("OutboxRepository", "reminds_of_open_invoice"): Case(
        lambda s, b: C("OutboxRepository")(s).reminds_of_open_invoice(b.id("outbox_emails"))
    ),
    ("OutboxRepository", "link_documents"): Case(
        lambda s, b: C("OutboxRepository")(s).link_documents(b.id("outbox_emails"), [("invoice_id", b.id("invoices"))])
    ),
    ("DeliveryRepository", "list_page"): Case(
        lambda s, b: C("DeliveryRepository")(s).list_page(
            DeliveryFilter("invoice_id", b.row("outbox_email_documents")["invoice_id"]), limit=100, cursor=None
        )
    ),
    # payments
    ("PaymentRepository", "by_order"): Case(
        lambda s, b: C("PaymentRepository")(s).by_order(b.row("payments")["razorpay_order_id"], for_update=True)
    ),
    ("PaymentRepository", "capture"): Case(
        lambda s, b: C("PaymentRepository")(s).capture(b.detached(s, "payments"), "pay_probe", NOW), compare=False
    ),
    ("PaymentRepository", "fail"): Case(
        lambda s, b: C("PaymentRepository")(s).fail(b.detached(s, "payments"), "pay_probe", "probe"), compare=False
    ),
    ("PaymentRepository", "applied"): Case(
        lambda s, b: C("PaymentRepository")(s).applied(
            b.detached(s, "payments"), start=NOW, end=NOW, subscription_id=b.id("subscriptions")
        ),
        compare=False,
    ),
    ("PaymentRepository", "latest_captured"): Case(
        lambda s, b: C("PaymentRepository")(s).latest_captured(b.id("subscriptions"), b.row("payments")["plan_code"])
    ),
    ("PaymentRepository", "note_event"): Case(
        lambda s, b: C("PaymentRepository")(s).note_event(b.detached(s, "payments"), "evt_probe"), compare=False
    ),
    ("PaymentRepository", "list_page"): Case(lambda s, b: C("PaymentRepository")(s).list_page(limit=100, cursor=None)),
    ("PaymentRepository", "saas_invoice_due"): Case(lambda s, b: C("PaymentRepository")(s).saas_invoice_due(LATE_AT)),
    ("PaymentRepository", "record_saas_invoice"): Case(
        lambda s, b: C("PaymentRepository")(s).record_saas_invoice(b.id("payments"), uuid.uuid4(), "SAAS/1")
    ),
    ("SaasCustomerRepository", "of_subscriber"): Case(
        lambda s, b: C("SaasCustomerRepository")(s).of_subscriber(b.row("saas_customers")["subscriber_tenant_id"])
    ),
    ("SaasInvoiceRepository", "lock_payment"): Case(
        lambda s, b: C("SaasInvoiceRepository")(s).lock_payment(b.row("saas_invoices")["payment_id"])
    ),
    ("SaasInvoiceRepository", "of_payment"): Case(
        lambda s, b: C("SaasInvoiceRepository")(s).of_payment(b.row("saas_invoices")["payment_id"])
    ),
    ("PaymentEventRepository", "claim"): Case(
        lambda s, b: C("PaymentEventRepository")(s).claim(
            event_id=b.row("payment_events")["event_id"],
            event_type="payment.captured",
            payment_id=b.row("payment_events")["payment_id"],
            outcome="applied",
            at=NOW,
        )
    ),
    # the tenant's own payment gateway, its webhook events, online payments and refunds
    ("PaymentGatewayRepository", "for_provider"): Case(
        lambda s, b: C("PaymentGatewayRepository")(s).for_provider(
            b.row("payment_gateways")["provider"], for_update=True
        )
    ),
    ("PaymentGatewayRepository", "in_flight"): Case(lambda s, b: C("PaymentGatewayRepository")(s).in_flight(EARLY_AT)),
    ("PaymentGatewayRepository", "remove"): Case(
        lambda s, b: C("PaymentGatewayRepository")(s).remove(b.detached(s, "payment_gateways")), compare=False
    ),
    ("GatewayEventRepository", "claim"): Case(
        lambda s, b: C("GatewayEventRepository")(s).claim(
            event_id=b.row("gateway_events")["event_id"],
            event_type="payment.captured",
            online_payment_id=b.id("online_payments"),
            refund_id=None,
            outcome="probe",
            at=NOW,
        )
    ),
    ("GatewayEventRepository", "set_outcome"): Case(
        lambda s, b: C("GatewayEventRepository")(s).set_outcome(b.row("gateway_events")["event_id"], "changed")
    ),
    ("OnlinePaymentRepository", "by_gateway_ref"): Case(
        lambda s, b: C("OnlinePaymentRepository")(s).by_gateway_ref(
            b.row("online_payments")["gateway_ref"], for_update=True
        )
    ),
    ("OnlinePaymentRepository", "by_razorpay_payment_id"): Case(
        lambda s, b: C("OnlinePaymentRepository")(s).by_razorpay_payment_id(
            b.row("online_payments")["razorpay_payment_id"] or "pay_probe", for_update=True
        )
    ),
    ("OnlinePaymentRepository", "get"): Case(
        lambda s, b: C("OnlinePaymentRepository")(s).get(b.id("online_payments"), for_update=True)
    ),
    ("OnlinePaymentRepository", "lock_invoice_links"): Case(
        lambda s, b: C("OnlinePaymentRepository")(s).lock_invoice_links(
            b.row("online_payments")["invoice_id"] or PROBE_ID
        )
    ),
    ("OnlinePaymentRepository", "open_links"): Case(
        lambda s, b: C("OnlinePaymentRepository")(s).open_links(
            b.row("online_payments")["invoice_id"] or PROBE_ID, EARLY_AT
        )
    ),
    ("OnlinePaymentRepository", "mark_paid"): Case(
        lambda s, b: C("OnlinePaymentRepository")(s).mark_paid(
            b.detached(s, "online_payments"), razorpay_payment_id="pay_probe", amount_paid=Decimal("1.00"), at=NOW
        ),
        compare=False,
    ),
    ("OnlinePaymentRepository", "mark_failed"): Case(
        lambda s, b: C("OnlinePaymentRepository")(s).mark_failed(b.detached(s, "online_payments"), reason="probe"),
        compare=False,
    ),
    ("OnlinePaymentRepository", "mark_cancelled"): Case(
        lambda s, b: C("OnlinePaymentRepository")(s).mark_cancelled(b.detached(s, "online_payments")),
        compare=False,
    ),
    ("OnlinePaymentRepository", "list_page"): Case(
        lambda s, b: C("OnlinePaymentRepository")(s).list_page(
            OnlinePaymentFilters(status="expired", now=NOW), limit=100, cursor=None, sort="-created_at"
        )
    ),
    ("RefundRepository", "list_page"): Case(
        lambda s, b: C("RefundRepository")(s).list_page(RefundFilters(), limit=100, cursor=None, sort="-created_at")
    ),
    ("RefundRepository", "by_razorpay_refund_id"): Case(
        lambda s, b: C("RefundRepository")(s).by_razorpay_refund_id(
            b.row("refunds")["razorpay_refund_id"] or "rfnd_probe", for_update=True
        )
    ),
    # payment reminders: A's settings only; B's open invoices (every due date) and claims not found
    ("ReminderSettingsRepository", "current"): Case(
        lambda s, b: C("ReminderSettingsRepository")(s).current(for_update=True)
    ),
    ("ReminderSettingsRepository", "ensure"): Case(lambda s, b: C("ReminderSettingsRepository")(s).ensure()),
    ("InventorySettingsRepository", "current"): Case(
        lambda s, b: C("InventorySettingsRepository")(s).current(for_update=True)
    ),
    ("InventorySettingsRepository", "hold"): Case(lambda s, b: C("InventorySettingsRepository")(s).hold()),
    ("InventorySettingsRepository", "ensure"): Case(lambda s, b: C("InventorySettingsRepository")(s).ensure()),
    ("InventorySettingsRepository", "below_zero"): Case(
        lambda s, b: C("InventorySettingsRepository")(s).below_zero(10)
    ),
    ("InventorySettingsRepository", "mark_levels"): Case(
        lambda s, b: C("InventorySettingsRepository")(s).mark_levels(True)
    ),
    ("StockRepository", "apply"): Case(
        lambda s, b: C("StockRepository")(s).apply(
            StockMovementOf(b.row("stock_levels")["company_id"], "receipt", None, None, None, None, NOW),
            [LevelDelta(b.row("stock_levels")["product_id"], Decimal(1), Decimal(0))],
        )
    ),
    ("StockRepository", "levels"): Case(
        lambda s, b: C("StockRepository")(s).levels(
            b.row("stock_levels")["company_id"], [b.row("stock_levels")["product_id"]]
        )
    ),
    ("StockLevelListRepository", "list_page"): Case(
        lambda s, b: C("StockLevelListRepository")(s).list_page(
            LevelFilters(
                company_id=b.row("stock_levels")["company_id"],
                product_id=b.row("stock_levels")["product_id"],
                category_id=b.id("product_categories"),
                low=False,
                q="a",
            ),
            limit=100,
            cursor=None,
        )
    ),
    ("StockMovementRepository", "list_page"): Case(
        lambda s, b: C("StockMovementRepository")(s).list_page(
            MovementFilters(
                b.row("stock_movements")["product_id"],
                b.row("stock_movements")["company_id"],
                b.row("stock_movements")["kind"],
                EARLY_AT,
                LATE_AT,
            ),
            limit=100,
            cursor=None,
        )
    ),
    ("StockMovementRepository", "of_document"): Case(
        lambda s, b: C("StockMovementRepository")(s).of_document("stock_document", b.id("stock_documents"))
    ),
    ("StockDocumentRepository", "list_page"): Case(
        lambda s, b: C("StockDocumentRepository")(s).list_page(
            DocumentFilters("receipt", b.row("stock_documents")["company_id"], EARLY, LATE), limit=100, cursor=None
        )
    ),
    ("StockDocumentRepository", "lock_levels"): Case(
        lambda s, b: C("StockDocumentRepository")(s).lock_levels(
            b.row("stock_levels")["company_id"], [b.row("stock_levels")["product_id"]]
        )
    ),
    ("StockRepository", "refresh_alerts"): Case(
        lambda s, b: C("StockRepository")(s).refresh_alerts(b.row("stock_levels")["product_id"], Decimal(1000), NOW)
    ),
    # storage rent (issue 12 §4): B's agreements, holdings, movements and periods never seen or changed
    ("StorageAgreementRepository", "list_page"): Case(
        lambda s, b: C("StorageAgreementRepository")(s).list_page(
            StorageAgreementFilters(
                b.row("storage_agreements")["customer_id"], b.row("storage_agreements")["company_id"], "active"
            ),
            limit=100,
            cursor=None,
        )
    ),
    ("StorageAgreementRepository", "due"): Case(lambda s, b: C("StorageAgreementRepository")(s).due(LATE)),
    ("StorageHoldingRepository", "of_agreement"): Case(
        lambda s, b: C("StorageHoldingRepository")(s).of_agreement(b.row("storage_holdings")["agreement_id"])
    ),
    ("StorageHoldingRepository", "for_products"): Case(
        lambda s, b: C("StorageHoldingRepository")(s).for_products(
            b.row("storage_holdings")["agreement_id"], [b.row("storage_holdings")["product_id"]]
        )
    ),
    ("StorageHoldingRepository", "count"): Case(
        lambda s, b: C("StorageHoldingRepository")(s).count(b.row("storage_holdings")["agreement_id"])
    ),
    ("StorageHoldingRepository", "held"): Case(
        lambda s, b: C("StorageHoldingRepository")(s).held(b.row("storage_holdings")["agreement_id"])
    ),
    ("StorageHoldingRepository", "last_movement_on"): Case(
        lambda s, b: C("StorageHoldingRepository")(s).last_movement_on(b.row("storage_holdings")["agreement_id"])
    ),
    ("StorageMovementRepository", "list_page"): Case(
        lambda s, b: C("StorageMovementRepository")(s).list_page(
            b.row("storage_movements")["agreement_id"], b.row("storage_movements")["product_id"], limit=100, cursor=None
        )
    ),
    ("StorageMovementRepository", "changes"): Case(
        lambda s, b: C("StorageMovementRepository")(s).changes(b.row("storage_movements")["agreement_id"], EARLY, LATE)
    ),
    ("StorageRentPeriodRepository", "claim"): Case(
        lambda s, b: C("StorageRentPeriodRepository")(s).claim(
            b.row("storage_rent_periods")["agreement_id"],
            b.row("storage_rent_periods")["period_start"],
            LATE,
            None,
            Decimal(0),
        )
    ),
    ("StorageRentPeriodRepository", "of_agreement"): Case(
        lambda s, b: C("StorageRentPeriodRepository")(s).of_agreement(b.row("storage_rent_periods")["agreement_id"])
    ),
    ("PaymentReminderRepository", "open_invoices"): Case(
        lambda s, b: C("PaymentReminderRepository")(s).open_invoices(due_from=EARLY, due_to=LATE)
    ),
    ("PaymentReminderRepository", "claimed"): Case(
        lambda s, b: C("PaymentReminderRepository")(s).claimed([b.row("job_occasions")["occasion_key"]])
    ),
    # receipts
    ("ReceiptRepository", "list_page"): Case(
        lambda s, b: C("ReceiptRepository")(s).list_page(ReceiptFilters(), limit=100, cursor=None, sort="-receipt_date")
    ),
    ("ReceiptRepository", "take"): Case(lambda s, b: C("ReceiptRepository")(s).take(b.id("receipts"), Decimal(0))),
    ("ReceiptRepository", "refund"): Case(lambda s, b: C("ReceiptRepository")(s).refund(b.id("receipts"), Decimal(0))),
    ("ReceiptRepository", "allocated_to"): Case(
        lambda s, b: C("ReceiptRepository")(s).allocated_to(
            b.row("receipt_allocations")["receipt_id"], b.row("receipt_allocations")["invoice_id"]
        )
    ),
    ("ReceiptRepository", "shrink_allocation"): Case(
        lambda s, b: C("ReceiptRepository")(s).shrink_allocation(b.row("receipt_allocations")["id"], Decimal(0))
    ),
    ("ReceiptRepository", "add_allocations"): Case(
        lambda s, b: C("ReceiptRepository")(s).add_allocations(
            [ReceiptAllocation(**{**b.row("receipt_allocations"), "id": uuid.uuid4()})]
        ),
        compare=False,
    ),
    ("ReceiptRepository", "pay_in_full"): Case(
        lambda s, b: C("ReceiptRepository")(s).pay_in_full(
            b.detached(s, "invoices"),
            [Receipt(**{**b.row("receipts"), "id": PROBE_ID})],
            [ReceiptAllocation(**{**b.row("receipt_allocations"), "id": uuid.uuid4(), "receipt_id": PROBE_ID})],
        ),
        compare=False,
    ),
    ("ReceiptRepository", "allocations"): Case(
        lambda s, b: C("ReceiptRepository")(s).allocations(b.row("receipt_allocations")["receipt_id"])
    ),
    ("ReceiptRepository", "delete_allocations"): Case(
        lambda s, b: C("ReceiptRepository")(s).delete_allocations(b.row("receipt_allocations")["receipt_id"])
    ),
    # sessions
    ("SessionRepository", "consume"): Case(
        lambda s, b: C("SessionRepository")(s).consume(b.row("sessions")["token_hash"], NOW - dt.timedelta(days=3650))
    ),
    ("SessionRepository", "find_by_hash"): Case(
        lambda s, b: C("SessionRepository")(s).find_by_hash(b.row("sessions")["token_hash"])
    ),
    ("SessionRepository", "set_replaced_by"): Case(
        lambda s, b: C("SessionRepository")(s).set_replaced_by(b.id("sessions"), b.id("sessions"))
    ),
    ("SessionRepository", "revoke_family"): Case(
        lambda s, b: C("SessionRepository")(s).revoke_family(b.row("sessions")["family_id"], NOW)
    ),
    ("SessionRepository", "revoke_user"): Case(
        lambda s, b: C("SessionRepository")(s).revoke_user(b.row("sessions")["user_id"], NOW)
    ),
    ("SessionRepository", "active_user"): Case(
        lambda s, b: C("SessionRepository")(s).active_user(b.row("sessions")["user_id"], b.id("sessions"))
    ),
    # subscriptions and limits
    ("SubscriptionRepository", "current"): Case(lambda s, b: C("SubscriptionRepository")(s).current()),
    ("SubscriptionRepository", "end"): Case(
        lambda s, b: C("SubscriptionRepository")(s).end(b.detached(s, "subscriptions"), NOW), compare=False
    ),
    ("SubscriptionRepository", "lapsed_into"): Case(
        lambda s, b: C("SubscriptionRepository")(s).lapsed_into(b.detached(s, "subscriptions")), compare=False
    ),
    ("SubscriptionRepository", "lock"): Case(lambda s, b: C("SubscriptionRepository")(s).lock("customers")),
    ("LimitUsageRepository", "customers"): Case(lambda s, b: C("LimitUsageRepository")(s).customers()),
    ("LimitUsageRepository", "active_users"): Case(lambda s, b: C("LimitUsageRepository")(s).active_users()),
    ("LimitUsageRepository", "invoices_issued"): Case(
        lambda s, b: C("LimitUsageRepository")(s).invoices_issued(EARLY_AT, LATE_AT)
    ),
    # tax rates
    ("TaxRateRepository", "list_page"): Case(
        lambda s, b: C("TaxRateRepository")(s).list_page(limit=100, cursor=None, sort=SortKey(), as_of=None)
    ),
    ("TaxRateRepository", "is_in_force"): Case(
        lambda s, b: C("TaxRateRepository")(s).is_in_force(
            b.row("tax_rates")["rate"], b.row("tax_rates")["effective_from"]
        )
    ),
    ("TaxRateRepository", "overlapping"): Case(
        lambda s, b: C("TaxRateRepository")(s).overlapping(b.row("tax_rates")["rate"], EARLY, None)
    ),
    # tenants
    ("TenantAccountRepository", "get"): Case(lambda s, b: C("TenantAccountRepository")(s).get(b.tenant_id)),
    ("TenantAccountRepository", "get_for_update"): Case(
        lambda s, b: C("TenantAccountRepository")(s).get_for_update(b.tenant_id)
    ),
    ("TenantAccountRepository", "get_shared"): Case(
        lambda s, b: C("TenantAccountRepository")(s).get_shared(b.tenant_id)
    ),
    ("SessionRepository", "revoke_all"): Case(lambda s, b: C("SessionRepository")(s).revoke_all(NOW)),
    # the purge (migration 0035): the bound tenant's only; A is open, so deleting its rows is refused
    ("TenantPurgeRepository", "retained_ids"): Case(lambda s, b: C("TenantPurgeRepository")(s).retained_ids("invoice")),
    ("TenantPurgeRepository", "issued_invoice_ids"): Case(
        lambda s, b: C("TenantPurgeRepository")(s).issued_invoice_ids()
    ),
    ("TenantPurgeRepository", "credit_note_ids"): Case(lambda s, b: C("TenantPurgeRepository")(s).credit_note_ids()),
    ("TenantPurgeRepository", "retain"): Case(
        lambda s, b: C("TenantPurgeRepository")(s).retain(
            kind="credit_note",
            document_id=b.id("credit_notes"),
            gstin=None,
            number="PROBE-1",
            document_date=EARLY,
            retain_until=LATE,
            document="{}",
            pdf=None,
        )
    ),
    ("TenantPurgeRepository", "delete_rows"): Case(
        lambda s, b: C("TenantPurgeRepository")(s).delete_rows("customers", 10, LATE_AT)
    ),
    ("TenantPurgeRepository", "delete_tenant"): Case(lambda s, b: C("TenantPurgeRepository")(s).delete_tenant()),
    ("TenantAccountRepository", "add"): Case(
        lambda s, b: C("TenantAccountRepository")(s).add(MODELS["tenants"](**{**b.row("tenants")})), compare=False
    ),
    # single-use tokens, for each of their tables
    ("EmailChangeRepository", "confirm"): Case(
        lambda s, b: C("EmailChangeRepository")(s).confirm(
            b.row("email_changes")["token_hash"], NOW - dt.timedelta(days=3650)
        )
    ),
    ("EmailChangeRepository", "cancel"): Case(
        lambda s, b: C("EmailChangeRepository")(s).cancel(
            b.row("email_changes")["cancel_token_hash"], NOW - dt.timedelta(days=3650)
        )
    ),
    ("EmailChangeRepository", "cancel_pending_for_user"): Case(
        lambda s, b: C("EmailChangeRepository")(s).cancel_pending_for_user(b.row("email_changes")["user_id"], NOW)
    ),
    ("ShareLinkRepository", "active_for_invoice"): Case(
        lambda s, b: C("ShareLinkRepository")(s).active_for_invoice(b.row("share_links")["invoice_id"], NOW)
    ),
    ("ShareLinkRepository", "get_live"): Case(
        lambda s, b: C("ShareLinkRepository")(s).get_live(b.id("share_links"), NOW)
    ),
    ("ShareLinkRepository", "revoke"): Case(
        lambda s, b: C("ShareLinkRepository")(s).revoke(b.row("share_links")["invoice_id"], NOW)
    ),
    ("ShareLinkRepository", "record_view"): Case(
        lambda s, b: C("ShareLinkRepository")(s).record_view(b.id("share_links"), NOW)
    ),
    # the tenant's full export (app/repositories/platform/tenant_exports.py)
    ("TenantExportRepository", "add_unless_active"): Case(
        lambda s, b: C("TenantExportRepository")(s).add_unless_active(
            TenantExport(id=PROBE_ID, status="pending", next_attempt_at=NOW, created_at=NOW)
        )
    ),
    ("TenantExportRepository", "active"): Case(lambda s, b: C("TenantExportRepository")(s).active()),
    ("TenantExportRepository", "count_since"): Case(lambda s, b: C("TenantExportRepository")(s).count_since(EARLY_AT)),
    ("TenantExportRepository", "list_page"): Case(
        lambda s, b: C("TenantExportRepository")(s).list_page(limit=100, cursor=None)
    ),
    ("TenantExportRepository", "due_ids"): Case(lambda s, b: C("TenantExportRepository")(s).due_ids(LATE_AT)),
    ("TenantExportRepository", "claim"): Case(
        lambda s, b: C("TenantExportRepository")(s).claim(b.id("tenant_exports"), LATE_AT)
    ),
    ("TenantExportRepository", "expire_due"): Case(lambda s, b: C("TenantExportRepository")(s).expire_due(LATE_AT)),
    ("TenantExportRepository", "delete_chunks"): Case(
        lambda s, b: C("TenantExportRepository")(s).delete_chunks(b.row("tenant_export_chunks")["export_id"])
    ),
    ("TenantExportRepository", "add_chunk"): Case(
        lambda s, b: C("TenantExportRepository")(s).add_chunk(b.row("tenant_export_chunks")["export_id"], 99, b"x")
    ),
    ("TenantExportRepository", "chunk"): Case(
        lambda s, b: C("TenantExportRepository")(s).chunk(
            b.row("tenant_export_chunks")["export_id"], b.row("tenant_export_chunks")["seq"]
        )
    ),
    ("TenantDataRepository", "tenant_row"): Case(lambda s, b: _as_dict(C("TenantDataRepository")(s).tenant_row())),
    ("TenantDataRepository", "table_rows"): Case(
        lambda s, b: _as_dicts(
            C("TenantDataRepository")(s).table_rows(Base.metadata.tables["customers"], after=None, limit=100)
        )
    ),
    ("TenantDataRepository", "document_ids"): Case(
        lambda s, b: _each_kind(s, lambda r, kind: r.document_ids(kind, after=None, limit=100))
    ),
    ("TenantDataRepository", "sessions_of"): Case(
        lambda s, b: C("TenantDataRepository")(s).sessions_of(b.row("sessions")["user_id"])
    ),
    ("TenantDataRepository", "invitations_by"): Case(
        lambda s, b: C("TenantDataRepository")(s).invitations_by(b.row("user_invitations")["invited_by"])
    ),
    ("TenantDataRepository", "email_changes_of"): Case(
        lambda s, b: C("TenantDataRepository")(s).email_changes_of(b.row("email_changes")["user_id"])
    ),
    ("TenantDataRepository", "audit_by"): Case(
        lambda s, b: C("TenantDataRepository")(s).audit_by(b.id("users"), limit=100)
    ),
    ("SingleUseTokenRepository", "redeem"): Case(
        lambda s, b: _each_token_table(s, b, lambda r, row: r.redeem(row["token_hash"], NOW - dt.timedelta(days=3650)))
    ),
    ("SingleUseTokenRepository", "expire_for_user"): Case(
        lambda s, b: _each_token_table(
            s, b, lambda r, row: r.expire_for_user(row["user_id"], NOW), (EmailVerification, PasswordReset)
        )
    ),
    # usage
    ("UsagePeriodRepository", "current"): Case(
        lambda s, b: C("UsagePeriodRepository")(s).current(b.row("usage_periods")["meter"], for_update=True)
    ),
    ("UsagePeriodRepository", "lock"): Case(lambda s, b: C("UsagePeriodRepository")(s).lock("tokens")),
    ("UsagePeriodRepository", "end"): Case(
        lambda s, b: C("UsagePeriodRepository")(s).end(b.detached(s, "usage_periods")), compare=False
    ),
    ("UsagePeriodRepository", "debit"): Case(
        lambda s, b: C("UsagePeriodRepository")(s).debit(b.id("usage_periods"), 0, NOW - dt.timedelta(days=3650))
    ),
    ("UsageLedgerRepository", "by_key"): Case(
        lambda s, b: C("UsageLedgerRepository")(s).by_key(b.row("usage_ledger")["idempotency_key"])
    ),
    # users
    ("UserRepository", "list_page"): Case(
        lambda s, b: C("UserRepository")(s).list_page(
            limit=100, cursor=None, descending=False, role=None, is_active=None
        )
    ),
    ("UserRepository", "deactivate_all_but"): Case(
        lambda s, b: C("UserRepository")(s).deactivate_all_but(uuid.uuid4())
    ),
    # invitations ("now" long ago, so B's invitation is pending)
    ("InvitationRepository", "list_page"): Case(
        lambda s, b: C("InvitationRepository")(s).list_page(
            limit=100, cursor=None, descending=False, pending_at=NOW - dt.timedelta(days=3650)
        )
    ),
    ("InvitationRepository", "count_pending"): Case(
        lambda s, b: C("InvitationRepository")(s).count_pending(NOW - dt.timedelta(days=3650))
    ),
    ("InvitationRepository", "expire_pending"): Case(
        lambda s, b: C("InvitationRepository")(s).expire_pending(NOW - dt.timedelta(days=3650))
    ),
    ("InvitationRepository", "revoke"): Case(
        lambda s, b: C("InvitationRepository")(s).revoke(b.id("user_invitations"), NOW - dt.timedelta(days=3650))
    ),
    ("UserRepository", "owners"): Case(lambda s, b: C("UserRepository")(s).owners()),
    ("UserRepository", "managers"): Case(lambda s, b: C("UserRepository")(s).managers()),
    ("UserRepository", "count_active_owners"): Case(lambda s, b: C("UserRepository")(s).count_active_owners()),
    ("UserRepository", "lock_owners"): Case(lambda s, b: C("UserRepository")(s).lock_owners()),
    # the catalogue: product categories and products
    ("ProductCategoryRepository", "lock_tree"): Case(lambda s, b: C("ProductCategoryRepository")(s).lock_tree()),
    ("ProductCategoryRepository", "get_shared"): Case(
        lambda s, b: C("ProductCategoryRepository")(s).get_shared(b.id("product_categories"))
    ),
    ("ProductCategoryRepository", "subtree_ids"): Case(
        lambda s, b: C("ProductCategoryRepository")(s).subtree_ids(b.id("product_categories"))
    ),
    ("ProductCategoryRepository", "subtree_bottom"): Case(
        lambda s, b: C("ProductCategoryRepository")(s).subtree_bottom(b.id("product_categories"))
    ),
    ("ProductCategoryRepository", "move"): Case(
        lambda s, b: C("ProductCategoryRepository")(s).move(b.detached(s, "product_categories"), None, 1),
        compare=False,
    ),
    ("ProductCategoryRepository", "save"): Case(
        lambda s, b: C("ProductCategoryRepository")(s).save(
            ProductCategory(id=PROBE_ID, name=b.row("product_categories")["name"], depth=1), new=True
        )
    ),
    ("ProductCategoryRepository", "has_children"): Case(
        lambda s, b: C("ProductCategoryRepository")(s).has_children(b.id("product_categories"))
    ),
    ("ProductCategoryRepository", "has_products"): Case(
        lambda s, b: C("ProductCategoryRepository")(s).has_products(b.row("products")["category_id"] or PROBE_ID)
    ),
    ("ProductCategoryRepository", "try_delete"): Case(
        lambda s, b: C("ProductCategoryRepository")(s).try_delete(b.detached(s, "product_categories")),
        compare=False,
    ),
    ("ProductCategoryRepository", "list_page"): Case(
        lambda s, b: C("ProductCategoryRepository")(s).list_page(
            parent_id=None, roots=False, limit=100, cursor=None, sort="name"
        )
    ),
    ("ProductCategoryRepository", "all"): Case(lambda s, b: C("ProductCategoryRepository")(s).all()),
    ("ProductRepository", "get_many"): Case(lambda s, b: C("ProductRepository")(s).get_many({b.id("products")})),
    ("ProductRepository", "by_barcode"): Case(
        lambda s, b: C("ProductRepository")(s).by_barcode([b.row("products")["barcode"] or "00000000"])
    ),
    ("ProductRepository", "save"): Case(
        lambda s, b: C("ProductRepository")(s).save(
            Product(
                id=PROBE_ID,
                name="probe",
                sku=b.row("products")["sku"],
                hsn_code="1006",
                unit="NOS",
                sale_price=Decimal(1),
                gst_rate=Decimal(5),
            ),
            new=True,
        )
    ),
    ("ProductRepository", "is_used"): Case(lambda s, b: C("ProductRepository")(s).is_used(b.id("products"))),
    ("ProductRepository", "try_delete"): Case(
        lambda s, b: C("ProductRepository")(s).try_delete(b.detached(s, "products")), compare=False
    ),
    ("ProductRepository", "list_page"): Case(
        lambda s, b: C("ProductRepository")(s).list_page(
            ProductFilters(
                q=b.row("products")["sku"],
                barcodes=(b.row("products")["barcode"] or "00000000",),
                category_id=b.row("products")["category_id"],
                low=True,
                ids=[b.id("products")],
            ),
            limit=100,
            cursor=None,
            sort="name",
        )
    ),
    ("LimitUsageRepository", "products"): Case(lambda s, b: C("LimitUsageRepository")(s).products()),
}


async def _save_b_row(session: AsyncSession, b: Other) -> Any:
    company = b.detached(session, "companies")
    company.legal_name = "changed by the probe"
    return await C("CatalogRepository", Company)(session).save(company, new=False)


CASES["CatalogRepository", "save"] = Case(_save_b_row, compare=False)

# orders (issue 12 §3)
CASES.update(
    {
        ("SalesOrderRepository", "list_page"): Case(
            lambda s, b: C("SalesOrderRepository")(s).list_page(
                OrderFilters(customer_id=b.row("sales_orders")["customer_id"]), limit=100, cursor=None
            )
        ),
        ("SalesOrderRepository", "expired_holds"): Case(
            lambda s, b: C("SalesOrderRepository")(s).expired_holds(NOW + dt.timedelta(days=36500), 100)
        ),
        ("SalesOrderRepository", "lock"): Case(lambda s, b: C("SalesOrderRepository")(s).lock(b.id("sales_orders"))),
        ("SalesOrderRepository", "delete"): Case(
            lambda s, b: C("SalesOrderRepository")(s).delete(b.detached(s, "sales_orders")), compare=False
        ),
        ("SalesOrderLineRepository", "of_order"): Case(
            lambda s, b: C("SalesOrderLineRepository")(s).of_order(b.id("sales_orders"))
        ),
        ("SalesOrderLineRepository", "next_position"): Case(
            lambda s, b: C("SalesOrderLineRepository")(s).next_position(b.id("sales_orders"))
        ),
        ("SalesOrderLineRepository", "remove"): Case(
            lambda s, b: C("SalesOrderLineRepository")(s).remove(b.detached(s, "sales_order_lines")), compare=False
        ),
        ("OrderPaymentRepository", "of_order"): Case(
            lambda s, b: C("OrderPaymentRepository")(s).of_order(b.id("sales_orders"), for_update=True)
        ),
        ("OrderPaymentRepository", "lock"): Case(
            lambda s, b: C("OrderPaymentRepository")(s).lock(b.id("online_payments"))
        ),
        ("OrderStockRepository", "reserved_by"): Case(
            lambda s, b: C("OrderStockRepository")(s).reserved_by(b.id("sales_orders"))
        ),
    }
)


async def _each_token_table(
    session: AsyncSession,
    b: Other,
    call: Callable[[Any, dict], Awaitable[Any]],
    models: tuple[type, ...] = (EmailVerification, PasswordReset, UserInvitation),
) -> list:
    cls = CLASSES["SingleUseTokenRepository"]
    results = []
    for model in models:
        results.append(await call(cls(session, model), b.row(model.__tablename__)))
    return results


# --- harness -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def admin(database_urls) -> AsyncIterator[AsyncConnection]:
    """The owner role, which row-level security must not restrict for this test to prove the ORM
    filter alone. A managed database's owner (not a superuser, no BYPASSRLS: the PostgreSQL 15 run)
    is bound by FORCE ROW LEVEL SECURITY like anyone, so there the test is skipped: the other
    layer, row-level security by itself, is what that run proves (tests/db/test_rls.py)."""
    engine = create_async_engine(database_urls.admin, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        bypasses = "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user"
        if not (await conn.execute(sa.text(bypasses))).scalar_one():
            pytest.skip("the owner role is subject to row-level security here (not a superuser, no BYPASSRLS)")
        yield conn
    await engine.dispose()


@pytest.fixture(scope="module")
async def owner_db(database_urls) -> AsyncIterator[Database]:
    """The app's session machinery (TenantSession, the ORM filter) on the owner role's connection."""
    database = Database(database_urls.admin, pool_size=2, max_overflow=0)
    yield database
    await database.dispose()


@pytest.fixture(scope="module")
async def app_db(database_urls) -> AsyncIterator[Database]:
    database = Database(database_urls.app, pool_size=2, max_overflow=0)
    yield database
    await database.dispose()


@dataclass(frozen=True)
class Tenants:
    a: uuid.UUID
    b: Other


@pytest.fixture(scope="module")
async def tenants(app, admin) -> Tenants:
    transport = httpx.ASGITransport(app=app, client=(fresh_ip(), 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        two = await make_two_tenants(client, admin)
    rows = {}
    for table in rls_tables():
        stmt = sa.select(table).where(tenant_column(table) == two.b).limit(1)
        rows[table.name] = dict((await admin.execute(stmt)).mappings().one())
    return Tenants(a=two.a, b=Other(tenant_id=two.b, rows=rows))


@dataclass(frozen=True)
class Outcome:
    result: Any  # normalised, or ("raised", the error's class name)
    others: dict[str, str] | None  # tenant B's rows as this transaction sees them before it rolls back


async def outcome(db: Database, tenant_id: uuid.UUID | None, case: Case, b: Other, *, filter_on: bool) -> Outcome:
    """Run the case in a transaction that is rolled back. B's rows are read inside it, before the
    rollback, since a write that reached them would be undone by the rollback itself."""
    async with db.sessionmaker() as session:
        try:
            if tenant_id is not None:
                await bind_tenant(session, tenant_id)
            try:
                if filter_on:
                    result = normalise(await case.call(session, b))
                else:
                    with orm_filter_disabled(session.sync_session):
                        result = normalise(await case.call(session, b))
            except (TenantNotBound, sa.exc.SQLAlchemyError) as exc:
                result = ("raised", type(exc).__name__)
            try:
                others = await tenant_digest(await session.connection(), b.tenant_id)
            except sa.exc.SQLAlchemyError:  # the transaction failed: nothing it did can remain
                others = None
            return Outcome(result, others)
        finally:
            await session.rollback()


def normalise(value: Any) -> Any:
    """Rows as (table, primary key), so results of two sessions compare."""
    mapper = getattr(type(value), "__mapper__", None)
    if mapper is not None:
        return (mapper.local_table.name, tuple(getattr(value, c.key) for c in mapper.primary_key))
    if isinstance(value, Row):
        return tuple(normalise(v) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return normalise(dataclasses.astuple(value))
    if isinstance(value, dict):
        return {normalise(k): normalise(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted(normalise(v) for v in value)
    if isinstance(value, list | tuple):
        return [normalise(v) for v in value]
    return value


def mentions(value: Any, needles: set[Any]) -> bool:
    if isinstance(value, dict):
        return any(mentions(k, needles) or mentions(v, needles) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(mentions(v, needles) for v in value)
    return isinstance(value, uuid.UUID | str) and value in needles


def b_ids(b: Other) -> set[Any]:
    return {v for row in b.rows.values() for v in row.values() if isinstance(v, uuid.UUID)} | {
        row["token_hash"] for row in b.rows.values() if "token_hash" in row
    }


async def _parties(session: AsyncSession, b: Other) -> tuple:
    found = await C("DocumentPartiesRepository")(session).load(b.id("companies"), b.id("customers"), LATE)
    return found.company, found.customer, found.settings, found.rates_in_force


async def _as_dict(found: Awaitable[Any]) -> Any:
    row = await found
    return None if row is None else dict(row)


async def _as_dicts(found: Awaitable[list[Any]]) -> list[dict[str, Any]]:
    return [dict(row) for row in await found]


async def _each_kind(session: AsyncSession, call: Callable[[Any, str], Awaitable[Any]]) -> list[Any]:
    repo = C("TenantDataRepository")(session)
    return [await call(repo, kind) for kind in ("invoice", "credit_note", "receipt")]


async def _streamed(session: AsyncSession, stmt: Any) -> list[Any]:
    return [row for batch in [b async for b in C("ExportRepository")(session).batches(stmt, size=2)] for row in batch]


async def _every_export(session: AsyncSession) -> list[Any]:
    f = export_queries.RowFilters()
    statements = [
        export_queries.invoices(f, lines=True),
        export_queries.credit_notes(f, lines=True),
        export_queries.receipts(f),
        export_queries.customers(f),
        export_queries.products(f),
        export_queries.stock_levels(f),
    ]
    return [await _streamed(session, stmt) for stmt in statements]


async def _ledger_export(session: AsyncSession, b: Other) -> Any:
    found = await C("ExportRepository")(session).ledger_statement(b.id("customers"), date_from=EARLY, date_to=LATE)
    return None if found is None else (found[0], await _streamed(session, found[1]))


CASE_IDS = sorted(CASES)


def test_every_repository_method_has_a_case():
    """A repository method added later fails here until it has a case (or a stated reason not to)."""
    missing = [m for m in every_method() if m not in CASES and m not in NO_QUERY]
    assert not missing, f"repository methods with no case in {__name__}.CASES: {missing}"
    unknown = [m for m in CASES if m[0] not in CLASSES or m[1] not in own_methods(CLASSES[m[0]])]
    assert not unknown, f"cases for methods that no longer exist: {unknown}"


async def test_the_owner_connection_is_not_restricted_by_row_level_security(owner_db, tenants):
    """The premise: without the filter, this connection sees both tenants' rows."""
    async with owner_db.sessionmaker() as session:
        await bind_tenant(session, tenants.a)
        with orm_filter_disabled(session.sync_session):
            seen = set((await session.execute(sa.select(Customer.tenant_id))).scalars())
    assert {tenants.a, tenants.b.tenant_id} <= seen


@pytest.mark.parametrize("key", CASE_IDS, ids=lambda k: f"{k[0]}.{k[1]}")
class TestEveryRepositoryMethod:
    async def test_with_no_tenant_bound_it_raises(self, owner_db, admin, tenants, key):
        before = await tenant_digest(admin, tenants.b.tenant_id)
        unbound = await outcome(owner_db, None, CASES[key], tenants.b, filter_on=True)
        assert unbound.result == ("raised", "TenantNotBound")
        assert unbound.others in (None, before), "a write reached tenant B's rows before the filter raised"

    async def test_bound_to_a_it_neither_sees_nor_changes_bs_rows(self, owner_db, app_db, admin, tenants, key):
        case, b = CASES[key], tenants.b
        before = await tenant_digest(admin, b.tenant_id)
        alone = await outcome(owner_db, tenants.a, case, b, filter_on=True)
        assert alone.others in (None, before), "the filter let a write reach tenant B's rows"
        assert alone.others is not None or alone.result[0] == "raised"
        assert not mentions(alone.result, b_ids(b)), f"tenant B's rows in {alone.result}"
        if case.compare:
            rls = await outcome(app_db, tenants.a, case, b, filter_on=False)
            assert alone.result == rls.result, "filter alone ≠ RLS alone"
