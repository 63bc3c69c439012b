"""Receipts for tests, made through the HTTP API."""

import httpx

from tests.api.v1.invoicing import Party, line
from tests.factories import API, Account

RECEIPTS = f"{API}/receipts"
RECEIPT_DATE = "2026-11-23"


def alloc(invoice: dict, amount: str) -> dict:
    return {"invoice_id": invoice["id"], "amount": amount}


def receipt_body(party: Party, amount: str, *allocations: dict, **fields) -> dict:
    return {
        "customer_id": party.customer["id"],
        "company_id": party.company["id"],
        "amount": amount,
        "receipt_date": RECEIPT_DATE,
        "mode": "upi",
        "allocations": list(allocations),
        **fields,
    }


async def receive(client: httpx.AsyncClient, party: Party, amount: str, *allocations: dict, **fields) -> dict:
    """A receipt of `amount` from the party's customer, allocated as given (asserted 201)."""
    body = receipt_body(party, amount, *allocations, **fields)
    response = await client.post(RECEIPTS, json=body, headers=party.account.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def invoice_of(client: httpx.AsyncClient, party: Party, total: str, **fields) -> dict:
    """An issued invoice of exactly `total` (one zero-rated line)."""
    invoice = await party.invoice(client, line(unit_price=total, gst_rate="0"), **fields)
    assert invoice["total"] == total, invoice
    return invoice


async def fetch(client: httpx.AsyncClient, account: Account, path: str) -> dict:
    response = await client.get(f"{API}/{path}", headers=account.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def customer_balance(client: httpx.AsyncClient, party: Party) -> str:
    return (await fetch(client, party.account, f"customers/{party.customer['id']}"))["balance"]


async def invoice_state(client: httpx.AsyncClient, party: Party, invoice: dict) -> tuple[str, str, str]:
    """(status, amount_paid, balance_due) of the invoice now."""
    now = await fetch(client, party.account, f"invoices/{invoice['id']}")
    return now["status"], now["amount_paid"], now["balance_due"]
