"""Credit notes through the HTTP API, on a real PostgreSQL."""

import asyncio
from datetime import datetime
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.api.v1.business import audit_rows, walk
from tests.api.v1.invoicing import Party, gstin, line, make_company, make_customer, make_invoice
from tests.api.v1.members import add_member
from tests.factories import API, Account, make_tenant

URL = f"{API}/credit-notes"
AMOUNTS = ["taxable_value", "cgst_amount", "sgst_amount", "utgst_amount", "igst_amount", "total"]
TOTALS = [*AMOUNTS, "tax_total", "round_off"]


async def credit(client: httpx.AsyncClient, account: Account, invoice: dict, **body) -> httpx.Response:
    body = {"invoice_id": invoice["id"], "reason": "Goods returned", **body}
    return await client.post(URL, json=body, headers=account.headers)


async def credited(client: httpx.AsyncClient, account: Account, invoice: dict, **body) -> dict:
    response = await credit(client, account, invoice, **body)
    assert response.status_code == 201, response.text
    return response.json()


async def get(client: httpx.AsyncClient, account: Account, path: str) -> dict:
    response = await client.get(f"{API}{path}", headers=account.headers)
    assert response.status_code == 200, response.text
    return response.json()


def by_quantity(invoice: dict, quantity: str, index: int = 0) -> dict:
    return {"invoice_line_id": invoice["lines"][index]["id"], "quantity": quantity}


def by_value(invoice: dict, taxable_value: str, index: int = 0) -> dict:
    return {"invoice_line_id": invoice["lines"][index]["id"], "taxable_value": taxable_value}


@pytest.fixture
async def party(client) -> Party:
    return await Party.make(client, await make_tenant(client))


class TestFull:
    @pytest.mark.parametrize(
        ("customer_state", "supply_type", "lines"),
        [
            ("29", "intra_state", [line("1000.00"), line("333.33", quantity="3", discount="10.00", gst_rate="5")]),
            ("27", "inter_state", [line("1499.99", quantity="2", gst_rate="28"), line("0.10", gst_rate="12")]),
            ("04", "inter_state", [line("999.99")]),  # round-off of 0.01
        ],
    )
    async def test_a_full_credit_note_is_the_exact_negation_of_the_invoice(
        self, client, customer_state, supply_type, lines
    ):
        party = await Party.make(client, await make_tenant(client), customer_state=customer_state)
        invoice = await party.invoice(client, *lines)
        note = await credited(client, party.account, invoice, full=True)
        assert note["is_full"] is True and note["supply_type"] == invoice["supply_type"] == supply_type
        assert {k: note[k] for k in TOTALS} == {k: invoice[k] for k in TOTALS}
        assert [{k: ln[k] for k in AMOUNTS} for ln in note["lines"]] == [
            {k: ln[k] for k in AMOUNTS} for ln in invoice["lines"]
        ]
        assert [ln["quantity"] for ln in note["lines"]] == [ln["quantity"] for ln in invoice["lines"]]
        after = await get(client, party.account, f"/invoices/{invoice['id']}")
        assert (after["amount_credited"], after["balance_due"]) == (invoice["total"], "0.00")

    async def test_the_round_off_is_copied(self, party, client):
        invoice = await party.invoice(client, line("999.99"))  # 1179.99 -> 1180.00
        assert invoice["round_off"] == "0.01"
        note = await credited(client, party.account, invoice, full=True)
        assert (note["round_off"], note["total"]) == ("0.01", "1180.00")

    async def test_full_needs_an_invoice_nothing_was_credited_of(self, party, client):
        invoice = await party.invoice(client)
        await credited(client, party.account, invoice, lines=[by_value(invoice, "10.00")])
        response = await credit(client, party.account, invoice, full=True)
        assert response.status_code == 409 and response.json()["code"] == "invoice-already-credited"


class TestPartial:
    async def test_by_quantity_takes_the_discount_pro_rata_and_rounds_like_invoices(self, party, client):
        invoice = await party.invoice(client, line("100.00", quantity="3", discount="10.00"))  # 290 + 52.20
        note = await credited(client, party.account, invoice, lines=[by_quantity(invoice, "1")])
        (cn_line,) = note["lines"]
        assert (cn_line["quantity"], cn_line["taxable_value"], cn_line["cgst_amount"], cn_line["sgst_amount"]) == (
            "1.000",
            "96.67",
            "8.70",
            "8.70",
        )
        assert (note["taxable_value"], note["tax_total"], note["round_off"], note["total"]) == (
            "96.67",
            "17.40",
            "-0.07",
            "114.00",
        )
        assert cn_line["invoice_line_id"] == invoice["lines"][0]["id"] and cn_line["gst_rate"] == "18.00"

    async def test_by_taxable_value_follows_an_inter_state_invoice(self, client):
        party = await Party.make(client, await make_tenant(client), customer_state="27")
        invoice = await party.invoice(client)
        note = await credited(client, party.account, invoice, lines=[by_value(invoice, "50.00")])
        (cn_line,) = note["lines"]
        assert cn_line["quantity"] is None and note["supply_type"] == "inter_state"
        assert (cn_line["igst_amount"], cn_line["cgst_amount"], cn_line["sgst_amount"]) == ("9.00", "0.00", "0.00")
        assert (note["total"], note["round_off"]) == ("59.00", "0.00")

    async def test_without_round_off_the_total_is_the_lines_sum(self, party, client):
        response = await client.put(
            f"{API}/gst-settings", json={"round_off_enabled": False}, headers=party.account.headers
        )
        assert response.status_code == 200, response.text
        invoice = await party.invoice(client, line("100.00", quantity="3", discount="10.00"))
        note = await credited(client, party.account, invoice, lines=[by_quantity(invoice, "1")])
        assert (note["round_off"], note["total"]) == ("0.00", "114.07")

    async def test_pieces_add_up_to_the_invoice_and_move_its_balance_and_the_customers(self, party, client):
        invoice = await party.invoice(
            client, line("100.00", quantity="3", discount="10.00"), line("0.11", gst_rate="5")
        )
        customer = f"/customers/{party.customer['id']}"
        assert (await get(client, party.account, customer))["balance"] == invoice["total"] == "342.00"  # 342.31 rounded
        first = await credited(client, party.account, invoice, lines=[by_quantity(invoice, "1")])
        middle = await get(client, party.account, f"/invoices/{invoice['id']}")
        assert (middle["status"], middle["amount_credited"], middle["balance_due"]) == (
            "partially_paid",
            "114.00",
            "228.00",
        )
        assert (await get(client, party.account, customer))["balance"] == "228.00"
        last = await credited(
            client, party.account, invoice, lines=[by_quantity(invoice, "2"), by_value(invoice, "0.11", index=1)]
        )
        assert D(first["total"]) + D(last["total"]) == D(invoice["total"])
        assert D(first["taxable_value"]) + D(last["taxable_value"]) == D(invoice["taxable_value"])
        assert D(first["cgst_amount"]) + D(last["cgst_amount"]) == D(invoice["cgst_amount"])
        closed = await get(client, party.account, f"/invoices/{invoice['id']}")
        assert (closed["status"], closed["amount_credited"], closed["balance_due"]) == ("paid", "342.00", "0.00")
        assert (await get(client, party.account, customer))["balance"] == "0.00"


class TestLimits:
    async def test_a_line_cannot_be_credited_past_its_quantity_or_value(self, party, client):
        invoice = await party.invoice(client, line("100.00", quantity="3"))
        await credited(client, party.account, invoice, lines=[by_quantity(invoice, "2")])
        over = await credit(client, party.account, invoice, lines=[by_quantity(invoice, "1.001")])
        assert over.status_code == 409 and over.json()["code"] == "line-quantity-exceeded"
        over = await credit(client, party.account, invoice, lines=[by_value(invoice, "100.01")])
        assert over.status_code == 409 and over.json()["code"] == "line-value-exceeded"
        for huge in (by_quantity(invoice, "999999.999"), by_value(invoice, "9999999999999999.99")):
            assert (await credit(client, party.account, invoice, lines=[huge])).status_code == 409
        await credited(client, party.account, invoice, lines=[by_value(invoice, "100.00")])
        assert (await get(client, party.account, f"/invoices/{invoice['id']}"))["balance_due"] == "0.00"

    async def test_credits_never_pass_the_invoice_total(self, party, client):
        """Four ₹0.50 lines: rounding makes the first two notes ₹1 each, which credits the whole ₹2."""
        invoice = await party.invoice(client, *[line("0.50", gst_rate="0")] * 4)
        for index in (0, 1):
            note = await credited(client, party.account, invoice, lines=[by_quantity(invoice, "1", index)])
            assert note["total"] == "1.00"
        over = await credit(client, party.account, invoice, lines=[by_quantity(invoice, "1", 2)])
        assert over.status_code == 409 and over.json()["code"] == "invoice-credit-exceeded"
        closing = await credit(client, party.account, invoice, lines=[by_quantity(invoice, "1", i) for i in (2, 3)])
        assert closing.status_code == 409 and closing.json()["code"] == "invoice-fully-credited"
        after = await get(client, party.account, f"/invoices/{invoice['id']}")
        assert (after["amount_credited"], after["balance_due"]) == ("2.00", "0.00")
        assert len(await walk(client, party.account, "/credit-notes", invoice_id=invoice["id"])) == 2

    async def test_drafts_and_void_invoices_cannot_be_credited(self, party, client):
        draft = await party.invoice(client, issue=False)
        void = await party.invoice(client)
        voided = await client.post(
            f"{API}/invoices/{void['id']}/void", json={"reason": "Typo"}, headers=party.account.headers
        )
        assert voided.status_code == 200, voided.text
        for invoice in (draft, void):
            response = await credit(client, party.account, invoice, full=True)
            assert response.status_code == 409 and response.json()["code"] == "invoice-not-creditable"

    async def test_an_invoice_with_a_credit_note_cannot_be_voided(self, party, client):
        invoice = await party.invoice(client)
        await credited(client, party.account, invoice, lines=[by_value(invoice, "1.00")])
        voided = await client.post(
            f"{API}/invoices/{invoice['id']}/void", json={"reason": "Typo"}, headers=party.account.headers
        )
        assert voided.status_code == 409

    @pytest.mark.parametrize(
        ("lines", "status", "code"),
        [
            (lambda inv, other: [by_quantity(inv, "0")], 422, "validation-error"),
            (lambda inv, other: [by_value(inv, "0.00")], 400, "credit-not-positive"),
            (lambda inv, other: [by_value(inv, "1.00"), by_quantity(inv, "1")], 400, "duplicate-invoice-line"),
            (lambda inv, other: [by_quantity(other, "1")], 404, "invoice-line-not-found"),
        ],
    )
    async def test_bad_lines(self, party, client, lines, status, code):
        invoice, other = await party.invoice(client), await party.invoice(client)
        response = await credit(client, party.account, invoice, lines=lines(invoice, other))
        assert response.status_code == status and response.json()["code"] == code, response.text

    async def test_not_before_the_invoice_date_and_today_in_india_by_default(self, party, client):
        invoice = await party.invoice(client, invoice_date="2026-11-10")
        early = await credit(client, party.account, invoice, full=True, credit_note_date="2026-11-09")
        assert early.status_code == 400 and early.json()["code"] == "credit-note-before-invoice"
        today = datetime.now(ZoneInfo("Asia/Kolkata")).date().isoformat()
        invoice = await party.invoice(client, invoice_date="2026-04-01")
        assert (await credited(client, party.account, invoice, full=True))["credit_note_date"] == today


class TestDocument:
    async def test_rule_53_fields_and_its_own_number_series(self, party, client):
        invoice = await party.invoice(client, invoice_date="2026-11-10")
        first = await credited(
            client, party.account, invoice, credit_note_date="2026-11-23", lines=[by_value(invoice, "1.00")]
        )
        second = await credited(
            client, party.account, invoice, credit_note_date="2026-11-24", lines=[by_value(invoice, "1.00")]
        )
        next_year = await credited(
            client, party.account, invoice, credit_note_date="2027-04-01", lines=[by_value(invoice, "1.00")]
        )
        assert [n["number"] for n in (first, second, next_year)] == [
            "CN/26-27/00001",
            "CN/26-27/00002",
            "CN/27-28/00001",
        ]
        assert (first["invoice_number"], first["invoice_date"]) == (invoice["number"], "2026-11-10")
        assert invoice["number"] == "INV/26-27/00001" and first["financial_year"] == "26-27"
        assert (first["reason"], first["company_id"], first["customer_id"], first["invoice_id"]) == (
            "Goods returned",
            invoice["company_id"],
            invoice["customer_id"],
            invoice["id"],
        )

    async def test_audited_with_the_invoice_it_credits(self, party, client):
        invoice = await party.invoice(client)
        note = await credited(client, party.account, invoice, lines=[by_value(invoice, "100.00")])
        (row,) = await audit_rows(client, party.account, note["id"])
        assert (row["action"], row["entity_type"], row["before"]) == ("credit_note.created", "credit_note", None)
        assert (row["after"]["number"], row["after"]["total"], row["after"]["invoice_id"]) == (
            "CN/" + note["financial_year"] + "/00001",
            "118.00",
            invoice["id"],
        )
        rows = [r for r in await audit_rows(client, party.account, invoice["id"]) if r["action"] == "invoice.credited"]
        assert [(r["before"]["amount_credited"], r["after"]["amount_credited"]) for r in rows] == [("0.00", "118.00")]
        assert rows[0]["after"]["status"] == "partially_paid"

    async def test_an_idempotency_key_replays_the_first_response(self, party, client):
        invoice = await party.invoice(client)
        headers = {**party.account.headers, "Idempotency-Key": "credit-note-key-0001"}
        body = {"invoice_id": invoice["id"], "reason": "Discount agreed", "lines": [by_value(invoice, "100.00")]}
        first = await client.post(URL, json=body, headers=headers)
        again = await client.post(URL, json=body, headers=headers)
        assert first.status_code == again.status_code == 201 and first.json() == again.json()
        assert again.headers["idempotent-replayed"] == "true"
        other = await client.post(URL, json={**body, "reason": "Another"}, headers=headers)
        assert other.status_code == 422
        assert len(await walk(client, party.account, "/credit-notes")) == 1
        assert (await get(client, party.account, f"/invoices/{invoice['id']}"))["amount_credited"] == "118.00"


class TestAccess:
    @pytest.mark.parametrize(
        "extra",
        [
            {"number": "CN/26-27/00009"},
            {"total": "1.00"},
            {"tenant_id": "0194f0a2-5c1e-7b1a-9d7e-2f9c3e1a0b11"},
            {"round_off": "0.00"},
            {"is_full": True},
            {"full": False},
            {"lines": []},
        ],
    )
    async def test_mass_assignment_is_422_and_writes_nothing(self, party, client, extra):
        invoice = await party.invoice(client)
        response = await credit(client, party.account, invoice, **({"full": True} | extra))
        assert response.status_code == 422, response.text
        assert await walk(client, party.account, "/credit-notes") == []

    async def test_a_line_takes_exactly_one_of_quantity_and_taxable_value(self, party, client):
        invoice = await party.invoice(client)
        both = {**by_quantity(invoice, "1"), "taxable_value": "1.00"}
        for line_in in (both, {"invoice_line_id": invoice["lines"][0]["id"]}):
            assert (await credit(client, party.account, invoice, lines=[line_in])).status_code == 422

    async def test_a_viewer_reads_but_cannot_write(self, party, client, mailbox):
        invoice = await party.invoice(client)
        note = await credited(client, party.account, invoice, lines=[by_value(invoice, "1.00")])
        viewer = await add_member(client, mailbox, party.account, "viewer")
        assert (await credit(client, viewer, invoice, full=True)).status_code == 403
        assert (await get(client, viewer, f"/credit-notes/{note['id']}"))["id"] == note["id"]
        accountant = await add_member(client, mailbox, party.account, "accountant")
        assert (await credit(client, accountant, invoice, lines=[by_value(invoice, "1.00")])).status_code == 201

    async def test_another_tenants_credit_notes_and_invoices_are_404(self, party, client):
        invoice = await party.invoice(client)
        note = await credited(client, party.account, invoice, lines=[by_value(invoice, "1.00")])
        stranger = await make_tenant(client)
        response = await client.get(f"{URL}/{note['id']}", headers=stranger.headers)
        assert response.status_code == 404 and response.json()["code"] == "credit-note-not-found"
        assert (await credit(client, stranger, invoice, full=True)).status_code == 404
        assert await walk(client, stranger, "/credit-notes") == []


class TestList:
    async def test_filters_sort_fields_and_pages(self, client):
        owner = await make_tenant(client)
        a = await Party.make(client, owner)
        company_b = await make_company(client, owner, gstin=gstin("29", pan="AAPFU0939F", entity="2"))
        customer_b = await make_customer(client, owner, billing_address={"state_code": "27"})
        inv_a = await a.invoice(client, invoice_date="2026-10-01")
        inv_b = await make_invoice(client, owner, company_b, customer_b, invoice_date="2026-10-01")
        notes = [
            await credited(client, owner, inv, credit_note_date=day, lines=[by_value(inv, value)])
            for inv, day, value in [
                (inv_a, "2026-10-05", "10.00"),
                (inv_a, "2026-10-20", "30.00"),
                (inv_b, "2026-10-10", "20.00"),
            ]
        ]
        ids = [n["id"] for n in notes]

        async def listed(**params) -> list[str]:
            return [n["id"] for n in await walk(client, owner, "/credit-notes", limit=1, **params)]

        assert await listed() == [ids[1], ids[2], ids[0]]  # newest credit note date first
        assert await listed(sort="total") == [ids[0], ids[2], ids[1]]
        assert await listed(invoice_id=inv_a["id"], sort="credit_note_date") == [ids[0], ids[1]]
        assert await listed(customer_id=customer_b["id"]) == [ids[2]]
        assert await listed(company_id=a.company["id"]) == [ids[1], ids[0]]
        assert await listed(**{"from": "2026-10-06", "to": "2026-10-20"}) == [ids[1], ids[2]]
        page = await get(client, owner, "/credit-notes?fields=number,total&lines=true")
        assert page["items"][0] == {"id": ids[1], "number": notes[1]["number"], "total": "35.00"}  # 35.40 rounded
        full = await get(client, owner, f"/credit-notes/{ids[2]}")
        assert full["lines"][0]["igst_amount"] == "3.60"
        listed_without_lines = await get(client, owner, "/credit-notes")
        assert listed_without_lines["items"][0]["lines"] is None


async def test_concurrent_partial_credit_notes_never_exceed_the_invoice(live_server):
    """Twenty requests race for ten units: exactly ten succeed, the invoice ends fully credited."""
    async with httpx.AsyncClient(base_url=live_server, timeout=60) as setup:
        party = await Party.make(setup, await make_tenant(setup))
        invoice = await party.invoice(setup, line("100.00", quantity="10"))
    clients = [httpx.AsyncClient(base_url=live_server, timeout=60) for _ in range(20)]
    try:
        responses = await asyncio.gather(
            *(credit(c, party.account, invoice, lines=[by_quantity(invoice, "1")]) for c in clients)
        )
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] * 10 + [409] * 10, [r.text for r in responses if r.status_code not in (201, 409)]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"line-quantity-exceeded"}
    async with httpx.AsyncClient(base_url=live_server, timeout=60) as check:
        after = await get(check, party.account, f"/invoices/{invoice['id']}")
        notes = await walk(check, party.account, "/credit-notes", invoice_id=invoice["id"])
    assert (after["amount_credited"], after["balance_due"], after["status"]) == ("1180.00", "0.00", "paid")
    assert sorted(n["number"][-5:] for n in notes) == [f"{n:05d}" for n in range(1, 11)]


async def test_a_paid_invoice_is_credited_only_after_its_receipt_is_released(client):
    """A credit cannot exceed the balance due: otherwise the customer's advance would exist in
    their balance but on no receipt, and could never be allocated."""
    owner = await make_tenant(client)
    party = await Party.make(client, owner)
    invoice = await party.invoice(client)  # 1180.00
    receipt = {
        "customer_id": party.customer["id"],
        "company_id": party.company["id"],
        "amount": "1180.00",
        "receipt_date": invoice["invoice_date"],
        "mode": "cash",
        "allocations": [{"invoice_id": invoice["id"], "amount": "1180.00"}],
    }
    paid = await client.post(f"{API}/receipts", json=receipt, headers=owner.headers)
    assert paid.status_code == 201, paid.text
    credit = {"invoice_id": invoice["id"], "reason": "Returned", "full": True}
    refused = await client.post(f"{API}/credit-notes", json=credit, headers=owner.headers)
    assert refused.status_code == 409 and refused.json()["code"] == "invoice-credit-exceeded"
    void = await client.post(f"{API}/receipts/{paid.json()['id']}/void", json={"reason": "x"}, headers=owner.headers)
    assert void.status_code == 200, void.text
    assert (await client.post(f"{API}/credit-notes", json=credit, headers=owner.headers)).status_code == 201
    customer = await client.get(f"{API}/customers/{party.customer['id']}", headers=owner.headers)
    assert customer.json()["balance"] == "0.00"  # +1180 invoice, -1180 receipt, +1180 void, -1180 credit
