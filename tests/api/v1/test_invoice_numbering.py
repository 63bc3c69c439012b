"""Invoice numbers (CGST Rule 46(b)): consecutive under concurrency and rollbacks, a series per
company and financial year, independent across tenants, and Idempotency-Key on create and issue."""

import asyncio
import uuid
from datetime import UTC, datetime

import httpx

from app.domain.fiscal import today_in_india
from app.services.billing import invoicing
from tests.api.v1.http_checks import assert_problem
from tests.api.v1.invoicing import Party, line, make_company, make_invoice
from tests.factories import API, make_tenant

URL = f"{API}/invoices"
# Real time: issuing checks the invoice date (today) against the clock's document window.
NOW = datetime.now(UTC)
TODAY = today_in_india(NOW)


class RolledBack(Exception):
    pass


def seq(number: str) -> int:
    return int(number.rsplit("/", 1)[1])


async def drafts(client, party: Party, count: int) -> list[str]:
    """Drafts dated NOW's day: a draft dated "today" could fall in two financial years when the run
    crosses midnight on 31 March, and its series is the one of its date."""
    day = TODAY.isoformat()
    return [(await party.invoice(client, issue=False, invoice_date=day))["id"] for _ in range(count)]


async def test_200_concurrent_issues_with_rollbacks_number_exactly_1_to_n(client, app):
    """Every 4th issuing transaction takes a number and then rolls back: the numbers it held go
    back to the series, so the committed invoices are numbered 1..N with no gap and no repeat."""
    party = await Party.make(client, await make_tenant(client))
    ids = await drafts(client, party, 200)
    db, tenant = app.state.runtime.db, uuid.UUID(party.account.tenant_id)

    async def issue(position: int, invoice_id: str) -> str | None:
        try:
            async with db.transaction(tenant) as session:
                ctx = app.state.runtime.context(tenant_id=tenant, at=NOW)
                invoice = await invoicing.issue(session, ctx, uuid.UUID(invoice_id))
                await asyncio.sleep(0)  # let the others queue on the series' row lock
                if position % 4 == 0:
                    raise RolledBack
                return invoice.number
        except RolledBack:
            return None

    numbers = [n for n in await asyncio.gather(*(issue(i, x) for i, x in enumerate(ids))) if n is not None]
    assert len(numbers) == 150
    assert sorted(seq(n) for n in numbers) == list(range(1, 151))
    listed = await client.get(URL, params={"status": "draft", "limit": 100}, headers=party.account.headers)
    assert len(listed.json()["items"]) == 50  # the rolled-back ones are drafts still


async def test_concurrent_http_issues_in_two_tenants_each_get_1_to_n(live_server):
    async with httpx.AsyncClient(base_url=live_server, timeout=60) as setup:
        parties = [await Party.make(setup, await make_tenant(setup)) for _ in range(2)]
        work = [(party, invoice_id) for party in parties for invoice_id in await drafts(setup, party, 20)]

    async def issue(party: Party, invoice_id: str) -> tuple[str, str]:
        async with httpx.AsyncClient(base_url=live_server, timeout=60) as c:
            response = await c.post(f"{URL}/{invoice_id}/issue", headers=party.account.headers)
            assert response.status_code == 200, response.text
            return party.account.tenant_id, response.json()["number"]

    issued = await asyncio.gather(*(issue(party, x) for party, x in work))
    for party in parties:
        mine = [seq(number) for tenant, number in issued if tenant == party.account.tenant_id]
        assert sorted(mine) == list(range(1, 21))


async def test_the_financial_year_comes_from_the_invoice_date(client):
    party = await Party.make(client, await make_tenant(client))
    march = await party.invoice(client, invoice_date="2026-03-31")
    april = await party.invoice(client, invoice_date="2026-04-01")
    march_again = await party.invoice(client, invoice_date="2026-03-01")
    assert (march["number"], march["financial_year"]) == ("INV/25-26/00001", "25-26")
    assert (april["number"], april["financial_year"]) == ("INV/26-27/00001", "26-27")
    assert march_again["number"] == "INV/25-26/00002"


async def test_companies_and_tenants_have_their_own_series(client):
    owner = await make_tenant(client)
    first = await Party.make(client, owner)
    second_company = await make_company(client, owner, state="27", legal_name="Sharma Traders Mumbai")
    other_tenant = await Party.make(client, await make_tenant(client))
    a1 = await first.invoice(client, invoice_date="2026-11-01")
    b1 = await make_invoice(client, owner, second_company, first.customer, invoice_date="2026-11-01")
    a2 = await first.invoice(client, invoice_date="2026-11-01")
    c1 = await other_tenant.invoice(client, invoice_date="2026-11-01")
    assert [a1["number"], b1["number"], a2["number"], c1["number"]] == [
        "INV/26-27/00001",
        "INV/26-27/00001",
        "INV/26-27/00002",
        "INV/26-27/00001",
    ]


async def test_the_pattern_comes_from_the_settings(client):
    party = await Party.make(client, await make_tenant(client))
    settings = {"invoice_number_pattern": "SH-{fy}-{seq:04}"}
    response = await client.put(f"{API}/gst-settings", json=settings, headers=party.account.headers)
    assert response.status_code == 200, response.text
    assert (await party.invoice(client, invoice_date="2026-11-01"))["number"] == "SH-26-27-0001"


class TestIdempotency:
    async def test_50_concurrent_replays_of_a_create_make_one_invoice(self, live_server):
        async with httpx.AsyncClient(base_url=live_server, timeout=60) as setup:
            party = await Party.make(setup, await make_tenant(setup))
        body = {
            "company_id": party.company["id"],
            "customer_id": party.customer["id"],
            "lines": [line()],
            "issue": True,
        }
        headers = party.account.headers | {"Idempotency-Key": f"create-{uuid.uuid4()}"}

        async def post() -> httpx.Response:
            async with httpx.AsyncClient(base_url=live_server, timeout=60) as c:
                return await c.post(URL, json=body, headers=headers)

        responses = await asyncio.gather(*(post() for _ in range(50)))
        done = [r for r in responses if r.status_code == 201]
        assert {r.status_code for r in responses} <= {201, 409}
        assert done and len({r.json()["id"] for r in done}) == 1
        assert len({r.json()["number"] for r in done}) == 1
        async with httpx.AsyncClient(base_url=live_server, timeout=60) as c:
            listed = await c.get(URL, headers=party.account.headers)
        assert len(listed.json()["items"]) == 1

    async def test_a_replayed_issue_returns_the_first_response(self, client):
        party = await Party.make(client, await make_tenant(client))
        draft = await party.invoice(client, issue=False)
        headers = party.account.headers | {"Idempotency-Key": f"issue-{uuid.uuid4()}"}
        first = await client.post(f"{URL}/{draft['id']}/issue", headers=headers)
        again = await client.post(f"{URL}/{draft['id']}/issue", headers=headers)
        assert first.status_code == again.status_code == 200
        assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
        assert_problem(await client.post(f"{URL}/{draft['id']}/issue", headers=party.account.headers), 409)

    async def test_the_same_key_with_another_body_is_422(self, client):
        party = await Party.make(client, await make_tenant(client))
        headers = party.account.headers | {"Idempotency-Key": f"body-{uuid.uuid4()}"}
        body = {"company_id": party.company["id"], "customer_id": party.customer["id"], "lines": [line()]}
        assert (await client.post(URL, json=body, headers=headers)).status_code == 201
        other = body | {"lines": [line("5.00")]}
        assert_problem(await client.post(URL, json=other, headers=headers), 422)
