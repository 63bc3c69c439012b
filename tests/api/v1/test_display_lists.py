"""Lists as a screen needs them: the names beside the ids, batch reads (`?ids=`), search (`q`)
and totals (`?count=true`)."""

import uuid

from sqlalchemy import event

from app.core import counting
from tests.api.v1.http_checks import assert_problem
from tests.api.v1.invoicing import Party, gstin, line, make_company, make_customer, make_invoice
from tests.api.v1.receipting import receive
from tests.factories import API, make_tenant


async def _get(client, account, path, **params) -> dict:
    response = await client.get(f"{API}{path}", params=params, headers=account.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def _post(client, account, path, body) -> dict:
    response = await client.post(f"{API}{path}", json=body, headers=account.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def test_documents_and_customers_carry_the_names_a_screen_shows(client):
    owner = await make_tenant(client)
    company = await make_company(client, owner, trade_name="Sharma Traders")
    kind = await _post(client, owner, "/client-types", {"name": "Retail"})
    manager = await _post(client, owner, "/account-managers", {"name": "Priya Nair"})
    customer = await make_customer(
        client, owner, name="Mehta Stores", client_type_id=kind["id"], account_manager_id=manager["id"]
    )
    assert (customer["client_type_name"], customer["account_manager_name"]) == ("Retail", "Priya Nair")
    party = Party(owner, company, customer)
    invoice = await party.invoice(client)
    receipt = await receive(client, party, "100.00")
    note = await _post(
        client, owner, "/credit-notes", {"invoice_id": invoice["id"], "reason": "Returned", "full": True}
    )

    names = ("Mehta Stores", "Sharma Traders")
    assert (invoice["customer_name"], invoice["company_name"]) == names
    assert (receipt["customer_name"], receipt["company_name"]) == names
    assert (note["customer_name"], note["company_name"], note["invoice_number"]) == (*names, invoice["number"])
    for path in ("/invoices", "/receipts", "/credit-notes"):
        [item] = (await _get(client, owner, path))["items"]
        assert (item["customer_name"], item["company_name"]) == names, path
        single = await _get(client, owner, f"{path}/{item['id']}")
        assert (single["customer_name"], single["company_name"]) == names, path
    [listed] = (await _get(client, owner, "/customers"))["items"]
    assert (listed["client_type_name"], listed["account_manager_name"]) == ("Retail", "Priya Nair")
    single = await _get(client, owner, f"/customers/{customer['id']}")
    assert (single["client_type_name"], single["account_manager_name"]) == ("Retail", "Priya Nair")
    [listed] = (await _get(client, owner, "/companies"))["items"]
    assert (listed["state_name"], listed["display_name"]) == ("Karnataka", "Sharma Traders")
    # A name follows the customer (receipts) or stays as printed (an issued invoice's recipient).
    patch = await client.patch(
        f"{API}/customers/{customer['id']}", json={"name": "Mehta & Sons"}, headers=owner.headers
    )
    assert patch.status_code == 200
    assert (await _get(client, owner, "/receipts"))["items"][0]["customer_name"] == "Mehta & Sons"
    assert (await _get(client, owner, "/invoices"))["items"][0]["customer_name"] == "Mehta Stores"


async def test_ids_reads_a_batch_and_leaves_out_what_is_not_here(client):
    owner, other = await make_tenant(client), await make_tenant(client, business_name="Other Co")
    mine = [await make_customer(client, owner, name=f"Customer {n}") for n in range(3)]
    theirs = await make_customer(client, other, name="Not yours")
    archived = mine[2]
    assert (await client.delete(f"{API}/customers/{archived['id']}", headers=owner.headers)).status_code == 200
    ids = [mine[0]["id"], archived["id"], theirs["id"], str(uuid.uuid4())]
    found = await _get(client, owner, "/customers", ids=",".join(ids))
    # An archived customer is deleted outright when nothing refers to it: only the first is left.
    assert [c["id"] for c in found["items"]] == [mine[0]["id"]]
    companies = [await make_company(client, owner, state=state, legal_name=f"Co {state}") for state in ("29", "27")]
    found = await _get(client, owner, "/companies", ids=",".join(c["id"] for c in companies))
    assert sorted(c["id"] for c in found["items"]) == sorted(c["id"] for c in companies)
    too_many = ",".join(str(uuid.uuid4()) for _ in range(101))
    body = assert_problem(await client.get(f"{API}/customers", params={"ids": too_many}, headers=owner.headers), 422)
    assert body["errors"][0]["loc"] == ["query", "ids"]
    assert_problem(await client.get(f"{API}/invoices", params={"ids": "not-a-uuid"}, headers=owner.headers), 422)


async def test_an_archived_customer_is_in_a_batch_read_but_not_in_the_default_list(client):
    party = Party(*(await _party(client)))
    await party.invoice(client)
    response = await client.delete(f"{API}/customers/{party.customer['id']}", headers=party.account.headers)
    assert response.json()["outcome"] == "archived"
    assert (await _get(client, party.account, "/customers"))["items"] == []
    batch = await _get(client, party.account, "/customers", ids=party.customer["id"])
    assert [c["id"] for c in batch["items"]] == [party.customer["id"]]


async def _party(client):
    owner = await make_tenant(client)
    return owner, await make_company(client, owner), await make_customer(client, owner)


async def test_invoice_search_by_number_customer_name_or_gstin_prefix(client):
    owner = await make_tenant(client)
    company = await make_company(client, owner)
    mehta = await make_customer(client, owner, name="Mehta Stores", gstin=gstin("27", pan="AAPFM1234K"))
    kapoor = await make_customer(client, owner, name="Kapoor & Sons", billing_address={"state_code": "29"})
    first = await make_invoice(client, owner, company, mehta)
    second = await make_invoice(client, owner, company, kapoor, line(unit_price="50.00"))
    await make_invoice(client, owner, company, kapoor, issue=False)  # a draft: no number

    async def found(q: str) -> list[str]:
        return sorted(i["id"] for i in (await _get(client, owner, "/invoices", q=q))["items"])

    assert await found("meh") == [first["id"]]
    assert await found("MEHTA s") == [first["id"]]
    assert await found("27AAPFM") == [first["id"]]
    assert await found("27aapfm") == [first["id"]]
    assert await found(second["number"]) == [second["id"]]
    assert await found(second["number"].lower()) == [second["id"]]
    assert len(await found("kap")) == 2
    assert await found("Stores") == []  # a prefix, not a substring
    assert await found("%") == [] and await found("_") == []  # LIKE's wildcards are taken literally


async def test_count_true_adds_a_total_over_all_pages(client):
    owner = await make_tenant(client)
    for n in range(5):
        await make_customer(client, owner, name=f"Customer {n}")
    page = await _get(client, owner, "/customers", limit=2, count="true")
    assert (len(page["items"]), page["total"], page["total_capped"]) == (2, 5, False)
    narrowed = await _get(client, owner, "/customers", limit=2, count="true", q="Customer 3")
    assert (narrowed["total"], narrowed["total_capped"]) == (1, False)
    plain = await _get(client, owner, "/customers", limit=2)
    assert (plain["total"], plain["total_capped"]) == (None, None)
    selected = await _get(client, owner, "/customers", limit=2, count="true", fields="name")
    assert (selected["total"], set(selected["items"][0])) == (5, {"id", "name"})
    # The next page counts the same total; other lists answer it too.
    second = await _get(client, owner, "/customers", limit=2, count="true", cursor=page["next_cursor"])
    assert second["total"] == 5
    assert (await _get(client, owner, "/companies", count="true"))["total"] == 0
    assert (await _get(client, owner, "/users", count="true"))["total"] == 1


class Statements:
    """Counts the statements the app's engine runs (every connection of its pool)."""

    def __init__(self, app) -> None:
        self.engine, self.count = app.state.db.engine.sync_engine, 0

    def __enter__(self) -> "Statements":
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *_) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)

    def _seen(self, *_) -> None:
        self.count += 1


async def test_names_cost_no_statement_per_row(client, app):
    """A page of 1 and a page of 6 rows (each of another customer) run as many statements: the names
    are joined in the list's query, not loaded row by row."""
    owner = await make_tenant(client)
    company = await make_company(client, owner)
    parties = [Party(owner, company, await make_customer(client, owner, name=f"Customer {n}")) for n in range(6)]
    for party in parties:
        invoice = await party.invoice(client)
        await receive(client, party, "10.00")
    full = {"invoice_id": invoice["id"], "reason": "Returned", "full": True}
    await _post(client, owner, "/credit-notes", full)
    for path in ("/receipts", "/invoices", "/customers", "/credit-notes"):
        counts = []
        for limit in (1, 6):
            with Statements(app) as statements:
                page = await _get(client, owner, path, limit=limit, count="true")
            counts.append(statements.count)
        assert counts[0] == counts[1], (path, counts)
        assert page["total"] == (1 if path == "/credit-notes" else 6), path


async def test_a_total_over_the_cap_says_so(client, monkeypatch):
    """The count stops at the cap (10,000; 3 here): `total` is the cap, `total_capped` true."""
    monkeypatch.setattr(counting, "COUNT_CAP", 3)
    owner = await make_tenant(client)
    for n in range(4):
        await make_customer(client, owner, name=f"Customer {n}")
    page = await _get(client, owner, "/customers", limit=1, count="true")
    assert (len(page["items"]), page["total"], page["total_capped"]) == (1, 3, True)
    exact = await _get(client, owner, "/customers", limit=1, count="true", q="Customer 1")
    assert (exact["total"], exact["total_capped"]) == (1, False)
