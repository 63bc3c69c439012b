"""Invoices for the cross-tenant probe: an issued one (receipts and credit notes refer to it) and a
draft that sells a product (an invoice line's body id)."""

import httpx

from tests.api.v1.invoicing import Party
from tests.api.v1.product_rows import make_product


async def add_invoice_rows(client: httpx.AsyncClient, tenant) -> None:
    party = await Party.make(client, tenant.owner)
    tenant.invoice_party = party
    issued = await party.invoice(client)
    product = await make_product(client, tenant.owner, name="Probe Rice On A Draft")  # product_ids: probe_products
    draft = await party.invoice(client, {"product_id": product["id"], "quantity": "2"}, issue=False)
    tenant.invoice_ids = [issued["id"], draft["id"]]
    tenant.invoice_line_ids = [line["id"] for invoice in (issued, draft) for line in invoice["lines"]]
