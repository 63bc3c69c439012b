from fastapi import APIRouter, Depends

from app.api.deps import declare_payment_required, declare_roles
from app.api.query_params import reject_unknown_query_params
from app.api.v1.billing import (
    companies,
    credit_notes,
    customers,
    dashboard,
    gst_settings,
    invoices,
    receipts,
    recurring_invoices,
    reminder_settings,
    simple_lists,
    tax_rates,
)
from app.api.v1.catalog import products, stock, stock_alerts, stock_transfers
from app.api.v1.commerce import (
    gateway_webhooks,
    online_payments,
    orders,
    payment_gateways,
    refunds,
    sales,
    storage_agreements,
)
from app.api.v1.documents import company_logos, documents
from app.api.v1.identity import auth, users
from app.api.v1.platform import audit_logs, events, health, payments, tenants, usage, webhook_endpoints, webhooks
from app.schemas.common import problem_responses

# Any route may answer 400 (malformed JSON), 422 (invalid input, an undeclared query parameter
# included: app/api/query_params.py) or 503 (database unavailable).
api_router = APIRouter(
    prefix="/api/v1",
    responses=problem_responses(400, 422, 503),
    dependencies=[Depends(reject_unknown_query_params)],
)
for module in (
    health,
    auth,
    users,
    tenants,
    audit_logs,
    events,
    customers,
    dashboard,
    company_logos,  # before companies: the probe deletes a company's logo before the company
    companies,
    credit_notes,
    simple_lists,
    products,
    tax_rates,
    gst_settings,
    reminder_settings,
    invoices,
    receipts,
    recurring_invoices,
    sales,
    orders,
    refunds,
    payment_gateways,
    storage_agreements,
    payments,
    webhooks,
    webhook_endpoints,
    gateway_webhooks,
    usage,
    documents,
    stock_alerts,
    stock_transfers,
):
    declare_payment_required(module.router)
    api_router.include_router(module.router)
declare_payment_required(products.categories_router)
api_router.include_router(products.categories_router)
for commerce_router in (online_payments.links_router, online_payments.router):
    declare_payment_required(commerce_router)
    api_router.include_router(commerce_router)
for stock_router in (stock.router, stock.movements_router, stock.settings_router):
    declare_payment_required(stock_router)
    api_router.include_router(stock_router)
declare_roles(api_router)
