"""Where the cross-tenant probe gets a tenant's real ids, by parameter name.

A route with an id parameter this map does not know makes the probe fail: add a source here
(and create rows of that kind in `build_tenant`) when you add such a route.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.api.v1.members import add_member, invite
from tests.conftest import unique_email
from tests.factories import API, Account, make_tenant
from tests.security.probe_business import add_business_rows
from tests.security.probe_credit_notes import add_credit_note_rows
from tests.security.probe_customers import add_customer_rows
from tests.security.probe_documents import add_invoice_rows
from tests.security.probe_gateways import add_gateway_rows
from tests.security.probe_logos import add_logo_rows
from tests.security.probe_online_payments import add_online_payment_rows
from tests.security.probe_orders import add_order_rows
from tests.security.probe_payments import add_payment_rows
from tests.security.probe_products import add_product_rows
from tests.security.probe_receipts import add_receipt_rows
from tests.security.probe_recurring import add_recurring_rows
from tests.security.probe_refunds import add_refund_rows
from tests.security.probe_sales import add_sale_rows
from tests.security.probe_share_links import add_share_link_rows
from tests.security.probe_stock import add_stock_rows
from tests.security.probe_storage import add_storage_rows
from tests.security.probe_transfers import add_transfer_rows
from tests.security.probe_webhooks import add_webhook_rows


@dataclass
class TenantData:
    owner: Account
    member: Account
    audit_rows: list[dict] = field(default_factory=list)
    customer_ids: list[str] = field(default_factory=list)
    client_type_ids: list[str] = field(default_factory=list)
    account_manager_ids: list[str] = field(default_factory=list)
    company_ids: list[str] = field(default_factory=list)
    service_type_ids: list[str] = field(default_factory=list)
    tax_rate_ids: list[str] = field(default_factory=list)
    invoice_ids: list[str] = field(default_factory=list)
    invoice_line_ids: list[str] = field(default_factory=list)
    invoice_party: Any = None
    credit_note_ids: list[str] = field(default_factory=list)
    receipt_ids: list[str] = field(default_factory=list)
    razorpay_order_ids: list[str] = field(default_factory=list)
    razorpay_payment_ids: list[str] = field(default_factory=list)
    invitation_ids: list[str] = field(default_factory=list)
    share_link_ids: list[str] = field(default_factory=list)
    product_category_ids: list[str] = field(default_factory=list)
    product_ids: list[str] = field(default_factory=list)
    stock_document_ids: list[str] = field(default_factory=list)
    recurring_invoice_ids: list[str] = field(default_factory=list)
    online_payment_ids: list[str] = field(default_factory=list)
    payment_link_ids: list[str] = field(default_factory=list)  # plink_... (Razorpay's)
    payment_link_reference_ids: list[str] = field(default_factory=list)
    webhook_ids: list[str] = field(default_factory=list)
    sales_order_ids: list[str] = field(default_factory=list)
    order_line_ids: list[str] = field(default_factory=list)
    refund_ids: list[str] = field(default_factory=list)
    storage_agreement_ids: list[str] = field(default_factory=list)
    webhook_endpoint_ids: list[str] = field(default_factory=list)  # outbound webhooks (/webhook-endpoints)
    webhook_delivery_ids: list[str] = field(default_factory=list)
    webhook_event_ids: list[str] = field(default_factory=list)

    @property
    def tenant_id(self) -> str:
        return self.owner.tenant_id

    @property
    def user_ids(self) -> list[str]:
        return [self.owner.user["id"], self.member.user["id"]]

    @property
    def entity_ids(self) -> list[str]:
        return sorted({row["entity_id"] for row in self.audit_rows if row["entity_id"]})


SOURCES: dict[str, Callable[[TenantData], list[str]]] = {
    "user_id": lambda t: t.user_ids,
    "actor_user_id": lambda t: t.user_ids,
    "entity_id": lambda t: t.entity_ids,
    "resource_id": lambda t: t.entity_ids,  # business events are about audited entities (invoices, customers, ...)
    "tenant_id": lambda t: [t.tenant_id],
    "customer_id": lambda t: t.customer_ids,
    "client_type_id": lambda t: t.client_type_ids,
    "account_manager_id": lambda t: t.account_manager_ids,
    "company_id": lambda t: t.company_ids,
    "service_type_id": lambda t: t.service_type_ids,
    "tax_rate_id": lambda t: t.tax_rate_ids,
    "invoice_id": lambda t: t.invoice_ids,
    "invoice_line_id": lambda t: t.invoice_line_ids,
    "credit_note_id": lambda t: t.credit_note_ids,
    "receipt_id": lambda t: t.receipt_ids,
    "razorpay_order_id": lambda t: t.razorpay_order_ids,
    "razorpay_payment_id": lambda t: t.razorpay_payment_ids,
    # a Razorpay webhook event (payload.payment.entity): its payment's id and its order's id
    "id": lambda t: t.razorpay_payment_ids,
    "order_id": lambda t: t.razorpay_order_ids,
    "invitation_id": lambda t: t.invitation_ids,
    "link_id": lambda t: t.share_link_ids,  # a share link of an invoice
    "product_id": lambda t: t.product_ids,
    "category_id": lambda t: t.product_category_ids,  # a product category (a product's, a list filter)
    "parent_id": lambda t: t.product_category_ids,  # a product category's parent
    "document_id": lambda t: t.stock_document_ids,  # a stock document (receipt, adjustment)
    "from_company_id": lambda t: t.company_ids,  # a stock transfer's ends
    "to_company_id": lambda t: t.company_ids,
    "schedule_id": lambda t: t.recurring_invoice_ids,  # a recurring invoice
    "online_payment_id": lambda t: t.online_payment_ids,  # a payment link or gateway order of ours
    # a Payment Link's callback (POST /online-payments/{id}/verify): Razorpay's link id and reference
    "razorpay_payment_link_id": lambda t: t.payment_link_ids,
    "razorpay_payment_link_reference_id": lambda t: t.payment_link_reference_ids,
    "webhook_id": lambda t: t.webhook_ids,  # the business's own Razorpay webhook URL's id
    "sales_order_id": lambda t: t.sales_order_ids,  # an order (/orders/{sales_order_id}: not a Razorpay order_id)
    "order_line_id": lambda t: t.order_line_ids,
    "refund_id": lambda t: t.refund_ids,
    "storage_agreement_id": lambda t: t.storage_agreement_ids,
    "endpoint_id": lambda t: t.webhook_endpoint_ids,  # an outbound webhook endpoint
    "delivery_id": lambda t: t.webhook_delivery_ids,  # one of its deliveries
    "event_id": lambda t: t.webhook_event_ids,  # a business event (a deliveries list's filter)
}

# Ids another service issued (Razorpay) that a client brings back in a body, next to the tenant's
# own records (its own order): an answer other than 404 can be right (a payment id that does not
# match the order's signature is a 400). For these the probe asks instead that tenant A's value be
# refused exactly like this made-up value of the same shape (same status and problem code), so
# nothing tells B that it exists.
OUTSIDE_IDS: dict[str, str] = {
    "razorpay_payment_id": "pay_probeMadeUp00001",
    "id": "pay_probeMadeUp00001",
    "order_id": "order_probeMadeUp0001",
    "razorpay_payment_link_id": "plink_probeMadeUp001",
    "razorpay_payment_link_reference_id": "INV/26-27/99999-abcdef",
    "razorpay_order_id": "order_probeMadeUp0001",  # an order's verify-payment: another order's is a bad signature
}


class MissingSource(LookupError):
    pass


def ids_of(name: str, tenant: TenantData) -> list[str]:
    if name not in SOURCES:
        raise MissingSource(
            f"the cross-tenant probe met id parameter {name!r} and has no source for it: "
            "add one to SOURCES in tests/security/probe_sources.py"
        )
    ids = SOURCES[name](tenant)
    assert ids, f"source {name!r} gave no ids: build_tenant must create rows of that kind"
    return ids


def first_id(tenant: TenantData) -> Callable[[str], str]:
    return lambda name: ids_of(name, tenant)[0]


async def build_tenant(client: httpx.AsyncClient, mailbox, business_name: str) -> TenantData:
    """A tenant with rows of every kind the API exposes: an owner, a member, a pending invitation."""
    owner = await make_tenant(client, business_name=business_name)
    member = await add_member(client, mailbox, owner, "accountant")
    pending = await invite(client, owner, unique_email("pending"), "viewer")
    assert pending.status_code == 201, pending.text
    tenant = TenantData(owner=owner, member=member, invitation_ids=[pending.json()["id"]])
    await add_customer_rows(client, tenant)
    await add_business_rows(client, tenant)
    await add_logo_rows(client, tenant)
    await add_invoice_rows(client, tenant)
    await add_share_link_rows(client, tenant)
    await add_receipt_rows(client, tenant)
    await add_credit_note_rows(client, tenant)
    await add_payment_rows(client, tenant)
    await add_gateway_rows(client, tenant)
    await add_product_rows(client, tenant)
    await add_stock_rows(client, tenant)
    await add_transfer_rows(client, tenant)
    await add_sale_rows(client, tenant)  # after the products: it adds one
    await add_recurring_rows(client, tenant)
    await add_online_payment_rows(client, tenant)
    await add_order_rows(client, tenant)  # after the sale: its product
    await add_refund_rows(client, tenant)
    await add_storage_rows(client, tenant)
    await add_webhook_rows(client, tenant)
    # a saved row of the singletons without ids (reminder settings): another tenant's reads never show it
    response = await client.put(
        f"{API}/reminder-settings", json={"enabled": True, "offsets": [-2, 5]}, headers=owner.headers
    )
    assert response.status_code == 200, response.text
    response = await client.get(f"{API}/audit-logs", params={"limit": 100}, headers=owner.headers)
    assert response.status_code == 200, response.text
    tenant.audit_rows = response.json()["items"]
    return tenant
