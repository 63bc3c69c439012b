"""Invoices for the cross-tenant probe: an issued one (receipts and credit notes refer to it) and a draft."""

import httpx

from tests.api.v1.invoicing import Party


async def add_invoice_rows(client: httpx.AsyncClient, tenant) -> None:
    party = await Party.make(client, tenant.owner)
    tenant.invoice_party = party
    issued = await party.invoice(client)
    draft = await party.invoice(client, issue=False)
    tenant.invoice_ids = [issued["id"], draft["id"]]
    tenant.invoice_line_ids = [line["id"] for invoice in (issued, draft) for line in invoice["lines"]]
