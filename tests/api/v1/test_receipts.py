"""/receipts: create with and without allocations, allocate, void, reads and lists, numbering, roles,
mass assignment, audit, Idempotency-Key, and allocation races against a served app."""

import asyncio
import uuid
from decimal import Decimal

import httpx
import pytest

from tests.api.v1.invoicing import Party, make_company, make_customer
from tests.api.v1.members import add_member
from tests.api.v1.receipting import (
    RECEIPT_DATE,
    RECEIPTS,
    alloc,
    customer_balance,
    fetch,
    invoice_of,
    invoice_state,
    receipt_body,
    receive,
)
from tests.factories import API, Account, make_tenant


def problem(response: httpx.Response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    if code is not None:
        assert body["code"] == code, body
    return body


async def new_party(client: httpx.AsyncClient) -> Party:
    return await Party.make(client, await make_tenant(client))


async def other_customer(client: httpx.AsyncClient, party: Party) -> Party:
    """The same tenant and company, another customer."""
    return Party(party.account, party.company, await make_customer(client, party.account, name="Gupta Stores"))


async def other_company(client: httpx.AsyncClient, party: Party) -> Party:
    """The same tenant and customer, another company (Maharashtra)."""
    return Party(party.account, await make_company(client, party.account, "27"), party.customer)


async def allocate(client: httpx.AsyncClient, account: Account, receipt: dict, *allocations: dict, key: str = ""):
    headers = {**account.headers, **({"Idempotency-Key": key} if key else {})}
    return await client.post(
        f"{RECEIPTS}/{receipt['id']}/allocate", json={"allocations": list(allocations)}, headers=headers
    )


async def void(client: httpx.AsyncClient, account: Account, receipt: dict, reason: str = "Cheque bounced"):
    return await client.post(f"{RECEIPTS}/{receipt['id']}/void", json={"reason": reason}, headers=account.headers)


async def receipt_list(client: httpx.AsyncClient, account: Account, **params) -> list[dict]:
    response = await client.get(RECEIPTS, params={"limit": 100, **params}, headers=account.headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


class TestCreate:
    async def test_without_allocations_the_whole_amount_is_an_advance(self, client):
        party = await new_party(client)
        receipt = await receive(client, party, "500", reference="UTR 1234", notes="Advance for December")
        assert receipt["number"] == "RCT/26-27/00001" and receipt["financial_year"] == "26-27"
        assert (receipt["amount"], receipt["amount_allocated"], receipt["amount_unallocated"]) == (
            "500.00",
            "0.00",
            "500.00",
        )
        assert (receipt["status"], receipt["mode"], receipt["reference"]) == ("active", "upi", "UTR 1234")
        assert receipt["allocations"] == []
        assert await customer_balance(client, party) == "-500.00"  # the customer's advance
        assert await fetch(client, party.account, f"receipts/{receipt['id']}") == receipt

    async def test_with_allocations_it_pays_the_invoice_and_the_rest_is_an_advance(self, client, today):
        party = await new_party(client)
        invoice = await party.invoice(client)  # ₹1,000 + 18 %, dated today; the receipt is dated earlier
        assert await customer_balance(client, party) == "1180.00"
        receipt = await receive(client, party, "1500.00", alloc(invoice, "1180.00"), mode="bank_transfer")
        assert (receipt["amount_allocated"], receipt["amount_unallocated"]) == ("1180.00", "320.00")
        [allocation] = receipt["allocations"]
        assert allocation["invoice_id"] == invoice["id"] and allocation["invoice_number"] == invoice["number"]
        # dated today: the receipt's date is earlier, and an allocation is never dated before its invoice
        assert (allocation["amount"], allocation["allocated_on"]) == ("1180.00", today.isoformat())
        assert await invoice_state(client, party, invoice) == ("paid", "1180.00", "0.00")
        assert await customer_balance(client, party) == "-320.00"

    async def test_a_partial_then_a_full_payment_move_the_invoice_status_and_balance(self, client):
        party = await new_party(client)
        invoice = await party.invoice(client)
        await receive(client, party, "500", alloc(invoice, "500"))
        assert await invoice_state(client, party, invoice) == ("partially_paid", "500.00", "680.00")
        assert await customer_balance(client, party) == "680.00"
        await receive(client, party, "680", alloc(invoice, "680"))
        assert await invoice_state(client, party, invoice) == ("paid", "1180.00", "0.00")
        assert await customer_balance(client, party) == "0.00"

    async def test_numbers_follow_the_receipt_series_of_the_company_and_financial_year(self, client):
        party = await new_party(client)
        first, second = await receive(client, party, "10"), await receive(client, party, "20")
        next_year = await receive(client, party, "30", receipt_date="2027-04-01")
        march = await receive(client, party, "40", receipt_date="2027-03-31")
        assert [r["number"] for r in (first, second, next_year, march)] == [
            "RCT/26-27/00001",
            "RCT/26-27/00002",
            "RCT/27-28/00001",
            "RCT/26-27/00003",
        ]
        assert (await receive(client, await other_company(client, party), "50"))["number"] == "RCT/26-27/00001"
        invoice = await invoice_of(client, party, "100.00", invoice_date=RECEIPT_DATE)  # the invoice series is apart
        assert invoice["number"] == "INV/26-27/00001"
        assert (await receive(client, await new_party(client), "60"))["number"] == "RCT/26-27/00001"

    async def test_a_refused_receipt_leaves_no_gap_in_the_series_and_changes_nothing(self, client):
        party = await new_party(client)
        invoice = await invoice_of(client, party, "100.00")
        await receive(client, party, "10")
        problem(
            await client.post(
                RECEIPTS, json=receipt_body(party, "500", alloc(invoice, "200")), headers=party.account.headers
            ),
            409,
            "invoice-over-allocated",
        )
        assert (await receive(client, party, "20"))["number"] == "RCT/26-27/00002"
        assert len(await receipt_list(client, party.account)) == 2
        assert await invoice_state(client, party, invoice) == ("issued", "0.00", "100.00")
        assert await customer_balance(client, party) == "70.00"

    async def test_unknown_customer_or_company_is_404(self, client):
        party = await new_party(client)
        body = receipt_body(party, "10")
        for field, code in (("customer_id", "customer-not-found"), ("company_id", "company-not-found")):
            response = await client.post(
                RECEIPTS, json={**body, field: str(uuid.uuid4())}, headers=party.account.headers
            )
            problem(response, 404, code)


class TestAllocate:
    async def test_an_advance_is_allocated_later_without_moving_the_customer_balance(self, client):
        party = await new_party(client)
        first, second = await invoice_of(client, party, "400.00"), await invoice_of(client, party, "1000.00")
        receipt = await receive(client, party, "1000")
        assert await customer_balance(client, party) == "400.00"
        response = await allocate(client, party.account, receipt, alloc(first, "400"), alloc(second, "250.50"))
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["amount_allocated"], body["amount_unallocated"]) == ("650.50", "349.50")
        assert {(a["invoice_id"], a["amount"]) for a in body["allocations"]} == {
            (first["id"], "400.00"),
            (second["id"], "250.50"),
        }
        assert await invoice_state(client, party, first) == ("paid", "400.00", "0.00")
        assert await invoice_state(client, party, second) == ("partially_paid", "250.50", "749.50")
        assert await customer_balance(client, party) == "400.00"
        assert await fetch(client, party.account, f"receipts/{receipt['id']}") == body

    async def test_more_than_the_invoice_balance_is_409_and_nothing_changes(self, client):
        party = await new_party(client)
        invoice = await invoice_of(client, party, "300.00")
        receipt = await receive(client, party, "1000", alloc(invoice, "100"))
        body = problem(await allocate(client, party.account, receipt, alloc(invoice, "200.01")), 409)
        assert body["code"] == "invoice-over-allocated" and "200.00" in body["detail"]
        assert (await fetch(client, party.account, f"receipts/{receipt['id']}"))["amount_allocated"] == "100.00"
        assert await invoice_state(client, party, invoice) == ("partially_paid", "100.00", "200.00")

    async def test_more_than_the_receipt_remainder_is_409_and_the_whole_request_is_undone(self, client):
        party = await new_party(client)
        first, second = await invoice_of(client, party, "500.00"), await invoice_of(client, party, "500.00")
        receipt = await receive(client, party, "100", alloc(first, "30"))
        response = await allocate(client, party.account, receipt, alloc(first, "40"), alloc(second, "40"))
        assert problem(response, 409, "receipt-over-allocated")
        assert (await fetch(client, party.account, f"receipts/{receipt['id']}"))["amount_allocated"] == "30.00"
        assert await invoice_state(client, party, first) == ("partially_paid", "30.00", "470.00")
        assert await invoice_state(client, party, second) == ("issued", "0.00", "500.00")
        ok = await allocate(client, party.account, receipt, alloc(first, "35"), alloc(second, "35"))
        assert ok.status_code == 200 and ok.json()["amount_unallocated"] == "0.00"

    async def test_another_customers_or_companys_invoice_is_a_rule_violation(self, client):
        party = await new_party(client)
        receipt = await receive(client, party, "1000")
        for other in (await other_customer(client, party), await other_company(client, party)):
            invoice = await invoice_of(client, other, "100.00")
            body = problem(await allocate(client, party.account, receipt, alloc(invoice, "10")), 400)
            assert body["code"] == "invoice-of-another-party"
            assert body["errors"][0]["loc"] == ["body", "allocations.0.invoice_id"]
            assert await invoice_state(client, other, invoice) == ("issued", "0.00", "100.00")

    async def test_a_draft_or_void_invoice_is_409_an_unknown_one_404(self, client):
        party = await new_party(client)
        draft = await party.invoice(client, issue=False)
        voided = await invoice_of(client, party, "100.00")
        response = await client.post(
            f"{API}/invoices/{voided['id']}/void", json={"reason": "Wrong customer"}, headers=party.account.headers
        )
        assert response.status_code == 200, response.text
        receipt = await receive(client, party, "1000")
        problem(await allocate(client, party.account, receipt, alloc(draft, "10")), 409, "invoice-not-issued")
        problem(await allocate(client, party.account, receipt, alloc(voided, "10")), 409, "invoice-void")
        unknown = {"id": str(uuid.uuid4())}
        problem(await allocate(client, party.account, receipt, alloc(unknown, "10")), 404, "invoice-not-found")
        problem(
            await client.post(
                RECEIPTS, json=receipt_body(party, "10", alloc(draft, "10")), headers=party.account.headers
            ),
            409,
            "invoice-not-issued",
        )

    async def test_the_same_invoice_twice_in_one_request_is_a_rule_violation(self, client):
        party = await new_party(client)
        invoice = await invoice_of(client, party, "500.00")
        receipt = await receive(client, party, "100")
        response = await allocate(client, party.account, receipt, alloc(invoice, "10"), alloc(invoice, "10"))
        problem(response, 400, "duplicate-allocation")

    async def test_an_unknown_receipt_is_404(self, client):
        party = await new_party(client)
        invoice = await invoice_of(client, party, "500.00")
        problem(
            await allocate(client, party.account, {"id": str(uuid.uuid4())}, alloc(invoice, "1")),
            404,
            "receipt-not-found",
        )


class TestVoid:
    async def test_void_releases_the_allocations_and_restores_the_balances(self, client):
        party = await new_party(client)
        first, second = await party.invoice(client), await invoice_of(client, party, "500.00")
        kept = await receive(client, party, "200", alloc(second, "200"))
        receipt = await receive(client, party, "1500", alloc(first, "1180"), alloc(second, "100"))
        assert await customer_balance(client, party) == "-20.00"
        response = await void(client, party.account, receipt, "Cheque bounced")
        assert response.status_code == 200, response.text
        voided = response.json()
        assert (voided["status"], voided["void_reason"], voided["allocations"]) == ("void", "Cheque bounced", [])
        assert voided["voided_at"] and voided["number"] == receipt["number"]
        assert (voided["amount_allocated"], voided["amount_unallocated"]) == ("0.00", "0.00")
        assert await fetch(client, party.account, f"receipts/{receipt['id']}") == voided
        assert await invoice_state(client, party, first) == ("issued", "0.00", "1180.00")
        assert await invoice_state(client, party, second) == ("partially_paid", "200.00", "300.00")
        assert await customer_balance(client, party) == "1480.00"
        problem(await void(client, party.account, receipt), 409, "receipt-void")
        problem(await allocate(client, party.account, receipt, alloc(first, "1")), 409, "receipt-void")
        assert (await fetch(client, party.account, f"receipts/{kept['id']}"))["amount_allocated"] == "200.00"

    async def test_a_void_needs_a_reason_and_an_unknown_receipt_is_404(self, client):
        party = await new_party(client)
        receipt = await receive(client, party, "10")
        url = f"{RECEIPTS}/{receipt['id']}/void"
        for body in ({}, {"reason": "   "}):
            problem(await client.post(url, json=body, headers=party.account.headers), 422)
        problem(await void(client, party.account, {"id": str(uuid.uuid4())}), 404, "receipt-not-found")
        assert (await fetch(client, party.account, f"receipts/{receipt['id']}"))["status"] == "active"


class TestList:
    async def test_filters(self, client):
        party = await new_party(client)
        other = await other_company(client, await other_customer(client, party))
        invoice = await invoice_of(client, party, "1000.00")
        cash = await receive(client, party, "100", alloc(invoice, "100"), mode="cash", receipt_date="2026-10-01")
        upi = await receive(client, party, "200", alloc(invoice, "50"), receipt_date="2026-11-01")
        cheque = await receive(client, other, "300", mode="cheque", receipt_date="2026-12-01")
        voided = await receive(client, party, "400", receipt_date="2026-11-15")
        assert (await void(client, party.account, voided)).status_code == 200

        async def ids(**params) -> list[str]:
            return sorted(r["id"] for r in await receipt_list(client, party.account, **params))

        assert await ids() == sorted(r["id"] for r in (cash, upi, cheque, voided))
        assert await ids(customer_id=other.customer["id"]) == [cheque["id"]]
        assert await ids(company_id=other.company["id"]) == [cheque["id"]]
        assert await ids(**{"from": "2026-11-01", "to": "2026-11-15"}) == sorted([upi["id"], voided["id"]])
        assert await ids(mode="cash") == [cash["id"]]
        assert await ids(status="void") == [voided["id"]]
        assert await ids(unallocated="true") == sorted([upi["id"], cheque["id"]])
        assert await ids(unallocated="false") == [cash["id"]]
        problem(await client.get(RECEIPTS, params={"mode": "barter"}, headers=party.account.headers), 422)

    async def test_sort_pagination_and_fields(self, client):
        party = await new_party(client)
        amounts = ["30.00", "10.00", "50.00", "20.00", "40.00"]
        made = [await receive(client, party, amount) for amount in amounts]
        for sort, expected in (("amount", sorted(amounts)), ("-amount", sorted(amounts, reverse=True))):
            seen, cursor = [], None
            while True:
                params = {"limit": 2, "sort": sort, **({"cursor": cursor} if cursor else {})}
                page = (await client.get(RECEIPTS, params=params, headers=party.account.headers)).json()
                seen += [item["amount"] for item in page["items"]]
                if not (cursor := page["next_cursor"]):
                    break
            assert seen == expected
        newest = await receipt_list(client, party.account, sort="-created_at")
        assert [r["id"] for r in newest] == [r["id"] for r in reversed(made)]
        assert all(r["allocations"] is None for r in newest)
        partial = await receipt_list(client, party.account, fields="number,amount_unallocated")
        assert {tuple(sorted(r)) for r in partial} == {("amount_unallocated", "id", "number")}
        one = await client.get(
            f"{RECEIPTS}/{made[0]['id']}", params={"fields": "allocations"}, headers=party.account.headers
        )
        assert one.json() == {"id": made[0]["id"], "allocations": []}
        problem(await client.get(RECEIPTS, params={"sort": "tenant_id"}, headers=party.account.headers), 422)


class TestAccess:
    async def test_a_viewer_reads_but_cannot_write(self, client, mailbox):
        party = await new_party(client)
        invoice = await invoice_of(client, party, "100.00")
        receipt = await receive(client, party, "100")
        viewer = await add_member(client, mailbox, party.account, "viewer")
        assert [r["id"] for r in await receipt_list(client, viewer)] == [receipt["id"]]
        assert (await fetch(client, viewer, f"receipts/{receipt['id']}"))["id"] == receipt["id"]
        writes = [
            client.post(RECEIPTS, json=receipt_body(party, "5"), headers=viewer.headers),
            allocate(client, viewer, receipt, alloc(invoice, "5")),
            void(client, viewer, receipt),
        ]
        for response in await asyncio.gather(*writes):
            problem(response, 403, "role-forbidden")
        assert len(await receipt_list(client, party.account)) == 1
        assert await invoice_state(client, party, invoice) == ("issued", "0.00", "100.00")

    async def test_an_accountant_writes(self, client, mailbox):
        party = await new_party(client)
        accountant = await add_member(client, mailbox, party.account, "accountant")
        response = await client.post(RECEIPTS, json=receipt_body(party, "5"), headers=accountant.headers)
        assert response.status_code == 201, response.text

    async def test_another_tenants_receipts_and_invoices_are_404(self, client):
        a, b = await new_party(client), await new_party(client)
        a_invoice = await invoice_of(client, a, "100.00")
        a_receipt = await receive(client, a, "100")
        b_receipt = await receive(client, b, "100")
        problem(await client.get(f"{RECEIPTS}/{a_receipt['id']}", headers=b.account.headers), 404, "receipt-not-found")
        problem(await allocate(client, b.account, a_receipt, alloc(a_invoice, "1")), 404, "receipt-not-found")
        problem(await void(client, b.account, a_receipt), 404, "receipt-not-found")
        problem(await allocate(client, b.account, b_receipt, alloc(a_invoice, "1")), 404, "invoice-not-found")
        body = receipt_body(b, "5", customer_id=a.customer["id"])
        problem(await client.post(RECEIPTS, json=body, headers=b.account.headers), 404, "customer-not-found")
        assert [r["id"] for r in await receipt_list(client, b.account)] == [b_receipt["id"]]
        assert await invoice_state(client, a, a_invoice) == ("issued", "0.00", "100.00")
        assert (await fetch(client, a.account, f"receipts/{a_receipt['id']}"))["status"] == "active"


class TestInput:
    @pytest.mark.parametrize(
        "extra",
        [
            {"number": "RCT/26-27/99999"},
            {"status": "void"},
            {"amount_allocated": "100.00"},
            {"tenant_id": str(uuid.uuid4())},
            {"financial_year": "25-26"},
        ],
    )
    async def test_mass_assignment_is_422_and_creates_nothing(self, client, extra):
        party = await new_party(client)
        response = await client.post(RECEIPTS, json=receipt_body(party, "100", **extra), headers=party.account.headers)
        problem(response, 422, "validation-error")
        assert await receipt_list(client, party.account) == []
        assert await customer_balance(client, party) == "0.00"

    async def test_amounts_and_modes_are_strict(self, client):
        party = await new_party(client)
        invoice = await invoice_of(client, party, "100.00")
        bad = [{"amount": amount} for amount in ("0", "0.00", "-5", "1.234", "1e3", 100, "12345678901234")]
        bad += [{"mode": "barter"}, {"receipt_date": "23-11-2026"}, {"reference": "\x00"}]
        bad += [{"allocations": [alloc(invoice, "0")]}, {"allocations": [{**alloc(invoice, "1"), "status": "x"}]}]
        for fields in bad:
            body = {**receipt_body(party, "100"), **fields}
            problem(await client.post(RECEIPTS, json=body, headers=party.account.headers), 422, "validation-error")
        receipt = await receive(client, party, "0.01")
        problem(
            await client.post(
                f"{RECEIPTS}/{receipt['id']}/allocate", json={"allocations": []}, headers=party.account.headers
            ),
            422,
        )
        assert [r["amount"] for r in await receipt_list(client, party.account)] == ["0.01"]


class TestAudit:
    async def test_every_write_is_audited_with_its_allocations(self, client):
        party = await new_party(client)
        invoice = await invoice_of(client, party, "500.00")
        receipt = await receive(client, party, "300", alloc(invoice, "100"))
        assert (await allocate(client, party.account, receipt, alloc(invoice, "50"))).status_code == 200
        assert (await void(client, party.account, receipt)).status_code == 200
        response = await client.get(
            f"{API}/audit-logs", params={"entity_id": receipt["id"], "sort": "at"}, headers=party.account.headers
        )
        rows = response.json()["items"]
        assert [row["action"] for row in rows] == ["receipt.created", "receipt.allocated", "receipt.voided"]
        created, allocated, voided = rows
        assert created["before"] is None and created["after"]["number"] == receipt["number"]
        assert created["after"]["allocations"] == [{"invoice_id": invoice["id"], "amount": "100.00"}]
        assert allocated["before"]["amount_allocated"] == "100.00"
        assert allocated["after"]["allocations"] == [{"invoice_id": invoice["id"], "amount": "50.00"}]
        assert allocated["after"]["amount_allocated"] == "150.00"
        assert sorted(a["amount"] for a in voided["before"]["allocations"]) == ["100.00", "50.00"]
        assert (voided["after"]["status"], voided["after"]["amount_allocated"]) == ("void", "0.00")
        assert all(row["actor_user_id"] == party.account.user["id"] for row in rows)


class TestIdempotency:
    async def test_a_replayed_receipt_is_the_same_receipt_and_acts_once(self, client):
        party = await new_party(client)
        invoice = await invoice_of(client, party, "500.00")
        headers = {**party.account.headers, "Idempotency-Key": "receipt-key-0001"}
        body = receipt_body(party, "300", alloc(invoice, "100"))
        first, again = [await client.post(RECEIPTS, json=body, headers=headers) for _ in range(2)]
        assert first.status_code == again.status_code == 201 and first.json() == again.json()
        assert again.headers["idempotent-replayed"] == "true"
        assert len(await receipt_list(client, party.account)) == 1
        assert await invoice_state(client, party, invoice) == ("partially_paid", "100.00", "400.00")
        assert await customer_balance(client, party) == "200.00"
        changed = await client.post(RECEIPTS, json={**body, "amount": "301"}, headers=headers)
        problem(changed, 422, "idempotency-key-reused")

    async def test_a_replayed_allocation_allocates_once(self, client):
        party = await new_party(client)
        invoice = await invoice_of(client, party, "500.00")
        receipt = await receive(client, party, "300")
        replies = [
            await allocate(client, party.account, receipt, alloc(invoice, "120"), key="allocate-key-0001")
            for _ in range(3)
        ]
        assert [r.status_code for r in replies] == [200] * 3
        assert replies[0].json() == replies[1].json() == replies[2].json()
        assert await invoice_state(client, party, invoice) == ("partially_paid", "120.00", "380.00")


@pytest.fixture
async def live(live_server: str):
    async with httpx.AsyncClient(base_url=live_server, timeout=60) as c:
        yield c


async def concurrently(live_server: str, requests: list[tuple[str, str, dict, dict]]) -> list[httpx.Response]:
    """Each (method, path, headers, json) at once, each from its own client (own connection)."""

    async def send(method: str, path: str, headers: dict, body: dict) -> httpx.Response:
        async with httpx.AsyncClient(base_url=live_server, timeout=60) as c:
            return await c.request(method, path, headers=headers, json=body)

    return await asyncio.gather(*(send(*request) for request in requests))


def codes(responses: list[httpx.Response]) -> dict[tuple[int, str | None], int]:
    counts: dict[tuple[int, str | None], int] = {}
    for r in responses:
        key = (r.status_code, r.json().get("code") if r.status_code >= 400 else None)
        counts[key] = counts.get(key, 0) + 1
    return counts


class TestRaces:
    async def test_twenty_receipts_racing_for_one_invoice_pay_it_exactly(self, live, live_server):
        party = await new_party(live)
        invoice = await invoice_of(live, party, "1000.00")
        receipts = [await receive(live, party, "100") for _ in range(20)]
        requests = [
            ("POST", f"{RECEIPTS}/{r['id']}/allocate", party.account.headers, {"allocations": [alloc(invoice, "100")]})
            for r in receipts
        ]
        responses = await concurrently(live_server, requests)
        assert codes(responses) == {(200, None): 10, (409, "invoice-over-allocated"): 10}
        assert await invoice_state(live, party, invoice) == ("paid", "1000.00", "0.00")
        allocated = [(await fetch(live, party.account, f"receipts/{r['id']}"))["amount_allocated"] for r in receipts]
        assert sorted(allocated) == ["0.00"] * 10 + ["100.00"] * 10

    async def test_twenty_allocations_from_one_receipt_never_exceed_it(self, live, live_server):
        party = await new_party(live)
        invoices = [await invoice_of(live, party, "1000.00") for _ in range(4)]
        receipt = await receive(live, party, "500")
        url = f"{RECEIPTS}/{receipt['id']}/allocate"
        requests = [
            ("POST", url, party.account.headers, {"allocations": [alloc(invoices[i % 4], "100")]}) for i in range(20)
        ]
        responses = await concurrently(live_server, requests)
        assert codes(responses) == {(200, None): 5, (409, "receipt-over-allocated"): 15}
        read = await fetch(live, party.account, f"receipts/{receipt['id']}")
        assert (read["amount_allocated"], len(read["allocations"])) == ("500.00", 5)
        paid = [(await invoice_state(live, party, invoice))[1] for invoice in invoices]
        assert sum(Decimal(p) for p in paid) == Decimal("500.00")

    async def test_receipts_created_in_a_race_are_numbered_without_gaps(self, live, live_server):
        party = await new_party(live)
        invoice = await invoice_of(live, party, "1000.00")
        body = receipt_body(party, "100", alloc(invoice, "100"))
        responses = await concurrently(live_server, [("POST", RECEIPTS, party.account.headers, body)] * 20)
        assert codes(responses) == {(201, None): 10, (409, "invoice-over-allocated"): 10}
        numbers = sorted(r.json()["number"] for r in responses if r.status_code == 201)
        assert numbers == [f"RCT/26-27/{n:05}" for n in range(1, 11)]
        assert await invoice_state(live, party, invoice) == ("paid", "1000.00", "0.00")
        assert await customer_balance(live, party) == "0.00"

    async def test_allocations_to_the_same_invoices_in_opposite_orders_do_not_deadlock(self, live, live_server):
        party = await new_party(live)
        first, second = await invoice_of(live, party, "1000.00"), await invoice_of(live, party, "1000.00")
        receipts = [await receive(live, party, "100") for _ in range(20)]
        requests = []
        for n, receipt in enumerate(receipts):
            pair = [alloc(first, "50"), alloc(second, "50")]
            body = {"allocations": pair if n % 2 else pair[::-1]}
            requests.append(("POST", f"{RECEIPTS}/{receipt['id']}/allocate", party.account.headers, body))
        assert codes(await concurrently(live_server, requests)) == {(200, None): 20}
        assert await invoice_state(live, party, first) == ("paid", "1000.00", "0.00")
        assert await invoice_state(live, party, second) == ("paid", "1000.00", "0.00")

    async def test_a_void_racing_allocations_leaves_consistent_totals(self, live, live_server):
        party = await new_party(live)
        invoice = await invoice_of(live, party, "1000.00")
        receipt = await receive(live, party, "500")
        url = f"{RECEIPTS}/{receipt['id']}"
        requests = [("POST", f"{url}/allocate", party.account.headers, {"allocations": [alloc(invoice, "50")]})] * 10
        requests.insert(5, ("POST", f"{url}/void", party.account.headers, {"reason": "Duplicate entry"}))
        responses = await concurrently(live_server, requests)
        assert all(r.status_code in (200, 409) for r in responses), [r.text for r in responses]
        assert responses[5].status_code == 200
        read = await fetch(live, party.account, f"receipts/{receipt['id']}")
        assert (read["status"], read["amount_allocated"], read["allocations"]) == ("void", "0.00", [])
        assert await invoice_state(live, party, invoice) == ("issued", "0.00", "1000.00")
        assert await customer_balance(live, party) == "1000.00"
