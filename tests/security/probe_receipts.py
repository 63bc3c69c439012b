"""Receipts for the cross-tenant probe: one from the invoice party's customer, part of it allocated
to the party's issued invoice (the probe's own requests may allocate more of it, or void it)."""

import httpx

from tests.api.v1.receipting import alloc, receive


async def add_receipt_rows(client: httpx.AsyncClient, tenant) -> None:
    party = tenant.invoice_party
    issued = await party.invoice(client)
    receipt = await receive(client, party, "500.00", alloc(issued, "100.00"))
    tenant.receipt_ids = [receipt["id"]]
