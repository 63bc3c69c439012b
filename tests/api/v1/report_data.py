"""Documents for the ledger and dashboard tests, made through the HTTP API, and a settable clock."""

from collections.abc import Iterator
from datetime import datetime

import httpx
import pytest

from tests.api.v1.invoicing import Party
from tests.factories import API, Account


class Clock:
    """`set_clock("2026-06-20T12:00:00+05:30")`: the app's "now"; `set_clock.reset()`: real time
    again (tokens issued under a fixed clock expire by real time)."""

    def __init__(self, runtime) -> None:
        self.runtime, self.original = runtime, runtime.clock

    def __call__(self, moment: str) -> None:
        fixed = datetime.fromisoformat(moment)
        self.runtime.clock = lambda: fixed

    def reset(self) -> None:
        self.runtime.clock = self.original


@pytest.fixture
def set_clock(app) -> Iterator[Clock]:
    clock = Clock(app.state.runtime)
    yield clock
    clock.reset()


def ok(response: httpx.Response, status: int = 200) -> dict:
    assert response.status_code == status, response.text
    return response.json()


async def receipt(
    client: httpx.AsyncClient, party: Party, amount: str, receipt_date: str, *allocations: tuple[dict, str]
) -> dict:
    """A receipt from party's customer, allocated to (invoice, amount) pairs."""
    body = {
        "customer_id": party.customer["id"],
        "company_id": party.company["id"],
        "amount": amount,
        "receipt_date": receipt_date,
        "mode": "upi",
        "allocations": [{"invoice_id": invoice["id"], "amount": part} for invoice, part in allocations],
    }
    return ok(await client.post(f"{API}/receipts", json=body, headers=party.account.headers), 201)


async def void_receipt(client: httpx.AsyncClient, account: Account, receipt_: dict) -> dict:
    path = f"{API}/receipts/{receipt_['id']}/void"
    return ok(await client.post(path, json={"reason": "Cheque bounced"}, headers=account.headers))


async def void_invoice(client: httpx.AsyncClient, account: Account, invoice: dict) -> dict:
    path = f"{API}/invoices/{invoice['id']}/void"
    return ok(await client.post(path, json={"reason": "Billed twice"}, headers=account.headers))


async def full_credit_note(client: httpx.AsyncClient, account: Account, invoice: dict, credit_note_date: str) -> dict:
    body = {
        "invoice_id": invoice["id"],
        "reason": "Service not delivered",
        "full": True,
        "credit_note_date": credit_note_date,
    }
    return ok(await client.post(f"{API}/credit-notes", json=body, headers=account.headers), 201)
