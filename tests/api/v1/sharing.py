"""Share links for tests: a party whose company has a UPI VPA and whose customer has a phone."""

import base64
import uuid

import httpx
from sqlalchemy import text

from tests.api.v1.invoicing import Party, make_company, make_customer
from tests.factories import API, Account

VPA = "sharma.traders@okhdfc"
ADDRESS = {"line1": "12 MG Road", "city": "Bengaluru", "state_code": "29", "pincode": "560001"}


async def payable_party(client: httpx.AsyncClient, account: Account, *, phone: str | None = "98450 12345") -> Party:
    company = await make_company(client, account, trade_name="Sharma Traders", upi_vpa=VPA)
    fields = {"phone": phone} if phone else {}
    customer = await make_customer(client, account, name="Kumar Stores", billing_address=ADDRESS, **fields)
    return Party(account, company, customer)


async def share(client: httpx.AsyncClient, account: Account, invoice: dict, **body) -> httpx.Response:
    return await client.post(f"{API}/invoices/{invoice['id']}/share", json=body or None, headers=account.headers)


async def shared(client: httpx.AsyncClient, account: Account, invoice: dict, **body) -> dict:
    response = await share(client, account, invoice, **body)
    assert response.status_code == 201, response.text
    return response.json()


def token_of(url: str) -> str:
    return url.rsplit("/p/", 1)[1]


def path_of(url: str) -> str:
    return "/p/" + token_of(url)


def token_bits(token: str) -> int:
    return len(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))) * 8


async def link_rows(app, tenant_id: str, invoice_id: str) -> list[dict]:
    """The invoice's share_links rows as stored, read under the tenant's row-level security."""
    async with app.state.db.transaction(uuid.UUID(tenant_id)) as session:
        rows = await session.execute(
            text("SELECT * FROM share_links WHERE invoice_id = :i ORDER BY created_at"), {"i": invoice_id}
        )
        return [dict(row._mapping) for row in rows]
