"""Customers (and the client type and account manager they refer to) for the cross-tenant probe."""

import httpx

from tests.api.v1.customer_rows import make_account_manager, make_client_type, make_customer


async def add_customer_rows(client: httpx.AsyncClient, tenant) -> None:
    """Two customers: the probe's own requests delete the first, the second keeps the list non-empty."""
    app = client._transport.app  # the ASGI app behind the probe's client: rows written as the app role
    tenant.client_type_ids = [await make_client_type(app, tenant.owner)]
    tenant.account_manager_ids = [await make_account_manager(app, tenant.owner)]
    refs = {"client_type_id": tenant.client_type_ids[0], "account_manager_id": tenant.account_manager_ids[0]}
    probed = await make_customer(client, tenant.owner, name="Probe Customer", **refs)
    await make_customer(client, tenant.owner, name="Probe Customer Kept", **refs)
    tenant.customer_ids = [probed["id"]]
