"""GET /customers/{id}/ledger: the udhaar book of one customer, against a hand-built history whose
every balance is written out below (18 % GST, intra-state: a ₹1,000 line is a ₹1,180 invoice)."""

import uuid
from dataclasses import dataclass

import httpx
import pytest

from tests.api.v1.http_checks import assert_problem
from tests.api.v1.invoicing import Party, line, make_company, make_customer
from tests.api.v1.members import add_member
from tests.api.v1.report_data import full_credit_note, ok, receipt, set_clock, void_invoice, void_receipt
from tests.factories import API, Account, make_tenant

__all__ = ["set_clock"]


@dataclass
class History:
    owner: Account
    party: Party
    numbers: dict[str, str]  # "INV1" -> its number, "R1" -> ...
    ids: dict[str, str]

    @property
    def url(self) -> str:
        return f"{API}/customers/{self.party.customer['id']}/ledger"


async def history(client: httpx.AsyncClient, set_clock) -> History:
    """Opening balance 250.00, then (balance after each, in ledger order):
    04-05 INV1 +1180 = 1430 | 04-20 INV2 +2360 = 3790 | 05-02 INV3 +590 = 4380 |
    05-04 INV3 voided -590 = 3790 | 05-10 R1 -1500 = 2290 | 05-15 INV4 +118 = 2408 |
    05-20 CN1 (full, on INV4) -118 = 2290 | 05-25 R2 (advance) -700 = 1590 |
    06-02 R2 voided +700 = 2290 | 06-05 R3 -1000 = 1290 | 06-05 INV5 (made after R3) +118 = 1408."""
    owner = await make_tenant(client)
    company = await make_company(client, owner)
    customer = await make_customer(client, owner, billing_address={"state_code": "29"}, opening_balance="250.00")
    party = Party(owner, company, customer)
    docs: dict[str, dict] = {}
    set_clock("2026-05-02T12:00:00+05:30")
    docs["INV1"] = await party.invoice(client, line("1000.00"), invoice_date="2026-04-05", due_date="2026-05-05")
    docs["INV2"] = await party.invoice(client, line("2000.00"), invoice_date="2026-04-20", due_date="2026-05-20")
    docs["INV3"] = await party.invoice(client, line("500.00"), invoice_date="2026-05-02", due_date="2026-06-01")
    # 20:00 UTC on 3 May is 01:30 on 4 May in India: the void is dated 4 May.
    set_clock("2026-05-03T20:00:00+00:00")
    await void_invoice(client, owner, docs["INV3"])
    set_clock("2026-05-25T12:00:00+05:30")
    docs["R1"] = await receipt(
        client, party, "1500.00", "2026-05-10", (docs["INV1"], "1180.00"), (docs["INV2"], "320.00")
    )
    docs["INV4"] = await party.invoice(client, line("100.00"), invoice_date="2026-05-15", due_date="2026-06-15")
    docs["CN1"] = await full_credit_note(client, owner, docs["INV4"], "2026-05-20")
    docs["R2"] = await receipt(client, party, "700.00", "2026-05-25")
    set_clock("2026-06-02T10:00:00+05:30")
    await void_receipt(client, owner, docs["R2"])
    set_clock("2026-06-20T12:00:00+05:30")
    docs["R3"] = await receipt(client, party, "1000.00", "2026-06-05", (docs["INV2"], "1000.00"))
    docs["INV5"] = await party.invoice(client, line("100.00"), invoice_date="2026-06-05", due_date="2026-07-05")
    # Another customer of the same tenant: never in this ledger.
    other = await make_customer(client, owner, name="Gupta Traders", billing_address={"state_code": "29"})
    await Party(owner, company, other).invoice(client, line("9000.00"), invoice_date="2026-05-05")
    numbers = {name: doc["number"] for name, doc in docs.items()}
    return History(owner, party, numbers, {name: doc["id"] for name, doc in docs.items()})


def rows(ledger: dict) -> list[tuple]:
    return [(e["date"], e["type"], e["number"], e["debit"], e["credit"], e["balance"]) for e in ledger["items"]]


def expected_rows(h: History) -> list[tuple]:
    n = h.numbers
    return [
        ("2026-04-05", "invoice", n["INV1"], "1180.00", "0.00", "1430.00"),
        ("2026-04-20", "invoice", n["INV2"], "2360.00", "0.00", "3790.00"),
        ("2026-05-02", "invoice", n["INV3"], "590.00", "0.00", "4380.00"),
        ("2026-05-04", "invoice_void", n["INV3"], "0.00", "590.00", "3790.00"),
        ("2026-05-10", "receipt", n["R1"], "0.00", "1500.00", "2290.00"),
        ("2026-05-15", "invoice", n["INV4"], "118.00", "0.00", "2408.00"),
        ("2026-05-20", "credit_note", n["CN1"], "0.00", "118.00", "2290.00"),
        ("2026-05-25", "receipt", n["R2"], "0.00", "700.00", "1590.00"),
        ("2026-06-02", "receipt_void", n["R2"], "700.00", "0.00", "2290.00"),
        ("2026-06-05", "receipt", n["R3"], "0.00", "1000.00", "1290.00"),
        ("2026-06-05", "invoice", n["INV5"], "118.00", "0.00", "1408.00"),
    ]


class TestRunningBalance:
    async def test_every_movement_in_date_order_with_its_running_and_closing_balance(self, client, set_clock):
        h = await history(client, set_clock)
        ledger = ok(await client.get(h.url, params={"from": "2026-04-01", "to": "2026-06-30"}, headers=h.owner.headers))
        assert (ledger["customer_id"], ledger["from"], ledger["to"]) == (
            h.party.customer["id"],
            "2026-04-01",
            "2026-06-30",
        )
        assert ledger["opening_balance"] == "250.00"
        assert rows(ledger) == expected_rows(h)
        assert ledger["closing_balance"] == "1408.00"
        assert ledger["next_cursor"] is None
        ids = [e["document_id"] for e in ledger["items"]]
        assert ids[2] == ids[3] == h.ids["INV3"] and ids[7] == ids[8] == h.ids["R2"]
        assert ledger["items"][6]["document_id"] == h.ids["CN1"]
        # The book agrees with the balance the customer record keeps.
        customer = ok(await client.get(f"{API}/customers/{h.party.customer['id']}", headers=h.owner.headers))
        assert customer["balance"] == "1408.00"

    async def test_opening_balance_at_from_counts_everything_dated_before_it(self, client, set_clock):
        h = await history(client, set_clock)
        params = {"from": "2026-05-01", "to": "2026-05-31"}
        ledger = ok(await client.get(h.url, params=params, headers=h.owner.headers))
        assert ledger["opening_balance"] == "3790.00"  # 250 + 1180 + 2360
        assert rows(ledger) == expected_rows(h)[2:8]
        assert ledger["closing_balance"] == "1590.00"  # the void of R2 on 2 June is after `to`

    async def test_a_range_without_movements_has_opening_equal_to_closing(self, client, set_clock):
        h = await history(client, set_clock)
        ledger = ok(await client.get(h.url, params={"from": "2026-07-01", "to": "2026-07-31"}, headers=h.owner.headers))
        assert (ledger["opening_balance"], ledger["items"], ledger["closing_balance"]) == ("1408.00", [], "1408.00")
        single_day = ok(
            await client.get(h.url, params={"from": "2026-06-05", "to": "2026-06-05"}, headers=h.owner.headers)
        )
        assert single_day["opening_balance"] == "2290.00"
        assert rows(single_day) == expected_rows(h)[9:]

    async def test_pages_continue_the_running_balance_and_keep_the_range_totals(self, client, set_clock):
        h = await history(client, set_clock)
        params, pages = {"from": "2026-04-01", "to": "2026-06-30", "limit": 4}, []
        while True:
            page = ok(await client.get(h.url, params=params, headers=h.owner.headers))
            assert (page["opening_balance"], page["closing_balance"]) == ("250.00", "1408.00")
            pages.append(rows(page))
            if page["next_cursor"] is None:
                break
            params["cursor"] = page["next_cursor"]
        expected = expected_rows(h)
        assert pages == [expected[0:4], expected[4:8], expected[8:11]]

    async def test_dates_default_to_the_financial_year_to_date(self, client, set_clock):
        h = await history(client, set_clock)
        set_clock("2026-05-12T09:00:00+05:30")
        ledger = ok(await client.get(h.url, headers=h.owner.headers))
        assert (ledger["from"], ledger["to"]) == ("2026-04-01", "2026-05-12")
        assert rows(ledger) == expected_rows(h)[:5]
        assert ledger["closing_balance"] == "2290.00"


class TestAccess:
    async def test_any_member_may_read_it(self, client, mailbox, set_clock):
        h = await history(client, set_clock)
        set_clock.reset()
        viewer = await add_member(client, mailbox, h.owner, "viewer")
        ledger = ok(await client.get(h.url, params={"from": "2026-04-01", "to": "2026-06-30"}, headers=viewer.headers))
        assert ledger["closing_balance"] == "1408.00"

    async def test_another_tenants_or_an_unknown_customer_is_404(self, client):
        owner = await make_tenant(client)
        party = await Party.make(client, owner)
        await party.invoice(client, line("1000.00"), invoice_date="2026-04-10", due_date="2026-05-10")
        stranger = await make_tenant(client)
        for account, customer_id in ((stranger, party.customer["id"]), (owner, str(uuid.uuid4()))):
            response = await client.get(f"{API}/customers/{customer_id}/ledger", headers=account.headers)
            assert_problem(response, 404, "customer-not-found")
        assert (await client.get(f"{API}/customers/{party.customer['id']}/ledger")).status_code == 401


class TestBadInput:
    @pytest.mark.parametrize(
        ("params", "status"),
        [
            ({"from": "2026-05-02", "to": "2026-05-01"}, 400),
            ({"from": "2026-02-30"}, 422),
            ({"to": "0"}, 422),
            ({"from": "01-04-2026"}, 422),
            ({"limit": "0"}, 422),
            ({"limit": "501"}, 422),
            ({"cursor": "not a cursor"}, 422),
            ({"cursor": "bm90LWpzb24"}, 400),
            ({"cursor": "WyIyMDI2LTEzLTAxIiwieCIsInkiLCIwIl0"}, 400),  # ["2026-13-01","x","y","0"]
        ],
    )
    async def test_is_refused(self, client, params, status):
        owner = await make_tenant(client)
        customer = await make_customer(client, owner)
        response = await client.get(f"{API}/customers/{customer['id']}/ledger", params=params, headers=owner.headers)
        body = assert_problem(response, status)
        if status == 400 and "from" in params:
            assert body["code"] == "invalid-date-range"


async def test_the_widest_range_is_answered(client):
    owner = await make_tenant(client)
    party = await Party.make(client, owner)
    await party.invoice(client, line("1000.00"), invoice_date="2026-04-10", due_date="2026-05-10")
    url = f"{API}/customers/{party.customer['id']}/ledger"
    ledger = ok(await client.get(url, params={"from": "1900-01-01", "to": "2999-12-31"}, headers=owner.headers))
    assert (ledger["opening_balance"], ledger["closing_balance"], len(ledger["items"])) == ("0.00", "1180.00", 1)
    early = ok(await client.get(url, params={"to": "1900-03-01"}, headers=owner.headers))
    assert (early["from"], early["items"], early["closing_balance"]) == ("1900-01-01", [], "0.00")
    for params in ({"from": "0001-01-01"}, {"to": "9999-12-31"}):
        assert_problem(await client.get(url, params=params, headers=owner.headers), 422, "validation-error")
