"""Companies, customers and invoices for tests, made through the HTTP API."""

import httpx

from tests.api.v1.customer_rows import gstin, make_customer
from tests.factories import API, Account

__all__ = ["Party", "gstin", "line", "make_company", "make_customer", "make_invoice"]


def line(unit_price: str = "1000.00", quantity: str = "1", gst_rate: str = "18", **extra) -> dict:
    return {
        "description": "Consulting",
        "hsn_sac": "998311",
        "quantity": quantity,
        "unit_price": unit_price,
        "gst_rate": gst_rate,
        **extra,
    }


async def make_company(client: httpx.AsyncClient, account: Account, state: str = "29", **fields) -> dict:
    body = {"legal_name": "Sharma Traders Pvt Ltd", "gstin": gstin(state, pan="AAPFU0939F")} | fields
    response = await client.post(f"{API}/companies", json=body, headers=account.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def make_invoice(
    client: httpx.AsyncClient,
    account: Account,
    company: dict,
    customer: dict,
    *lines: dict,
    issue: bool = True,
    **fields,
) -> dict:
    """An invoice (issued unless issue=False) with the given lines (one ₹1,000 + 18% line by default)."""
    body = {
        "company_id": company["id"],
        "customer_id": customer["id"],
        "lines": list(lines) or [line()],
        "issue": issue,
        **fields,
    }
    response = await client.post(f"{API}/invoices", json=body, headers=account.headers)
    assert response.status_code == 201, response.text
    return response.json()


class Party:
    """A tenant's owner with one company (Karnataka) and one customer, ready to invoice."""

    def __init__(self, account: Account, company: dict, customer: dict) -> None:
        self.account, self.company, self.customer = account, company, customer

    @classmethod
    async def make(cls, client: httpx.AsyncClient, account: Account, customer_state: str = "29") -> "Party":
        company = await make_company(client, account)
        customer = await make_customer(client, account, billing_address={"state_code": customer_state})
        return cls(account, company, customer)

    async def invoice(self, client: httpx.AsyncClient, *lines: dict, **fields) -> dict:
        return await make_invoice(client, self.account, self.company, self.customer, *lines, **fields)
