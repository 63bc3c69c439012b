"""/invoices: the draft → issued → void lifecycle, immutability, defaults, validation, filters,
roles and audit. GST arithmetic cases are in test_invoice_gst.py; numbering in test_invoice_numbering.py."""

from datetime import UTC, datetime

import pytest

from tests.api.v1.business import audit_rows, walk
from tests.api.v1.http_checks import assert_problem
from tests.api.v1.invoicing import Party, line, make_company, make_customer, make_invoice
from tests.api.v1.members import add_member
from tests.factories import API, make_tenant

URL = f"{API}/invoices"


async def balance(client, party: Party) -> str:
    response = await client.get(f"{API}/customers/{party.customer['id']}", headers=party.account.headers)
    return response.json()["balance"]


@pytest.fixture
async def party(client) -> Party:
    return await Party.make(client, await make_tenant(client))


class TestLifecycle:
    async def test_a_draft_has_no_number_and_does_not_move_the_balance(self, client, party):
        draft = await party.invoice(client, issue=False)
        assert (draft["status"], draft["number"], draft["financial_year"]) == ("draft", None, None)
        assert draft["total"] == "1180.00" and draft["balance_due"] == "1180.00"
        assert await balance(client, party) == "0.00"

    async def test_a_draft_can_be_replaced_and_deleted(self, client, party):
        draft = await party.invoice(client, issue=False)
        body = {
            "company_id": party.company["id"],
            "customer_id": party.customer["id"],
            "lines": [line("200.00", "2"), line("50.00", gst_rate="5")],
        }
        replaced = await client.put(f"{URL}/{draft['id']}", json=body, headers=party.account.headers)
        assert replaced.status_code == 200, replaced.text
        assert [ln["taxable_value"] for ln in replaced.json()["lines"]] == ["400.00", "50.00"]
        assert replaced.json()["total"] == "525.00"  # 400 + 72 + 50 + 2.50 = 524.50, rounded to the rupee
        assert (await client.delete(f"{URL}/{draft['id']}", headers=party.account.headers)).status_code == 204
        assert_problem(await client.get(f"{URL}/{draft['id']}", headers=party.account.headers), 404)

    async def test_issue_assigns_a_number_and_moves_the_balance(self, client, party):
        draft = await party.invoice(client, issue=False)
        issued = await client.post(f"{URL}/{draft['id']}/issue", headers=party.account.headers)
        assert issued.status_code == 200, issued.text
        body = issued.json()
        assert body["status"] == "issued" and body["number"].startswith("INV/") and body["issued_at"]
        assert await balance(client, party) == "1180.00"

    async def test_an_issued_invoice_is_immutable(self, client, party):
        invoice = await party.invoice(client)
        headers = party.account.headers
        body = {"company_id": party.company["id"], "customer_id": party.customer["id"], "lines": [line("1.00")]}
        assert_problem(await client.put(f"{URL}/{invoice['id']}", json=body, headers=headers), 409, "invoice-not-draft")
        assert_problem(await client.delete(f"{URL}/{invoice['id']}", headers=headers), 409, "invoice-not-draft")
        assert_problem(await client.post(f"{URL}/{invoice['id']}/issue", headers=headers), 409, "invoice-not-draft")
        after = (await client.get(f"{URL}/{invoice['id']}", headers=headers)).json()
        assert after == invoice

    async def test_void_keeps_the_number_and_never_reuses_it(self, client, party):
        first = await party.invoice(client)
        voided = await client.post(
            f"{URL}/{first['id']}/void", json={"reason": "Wrong customer"}, headers=party.account.headers
        )
        assert voided.status_code == 200, voided.text
        assert voided.json()["status"] == "void" and voided.json()["number"] == first["number"]
        assert voided.json()["void_reason"] == "Wrong customer" and voided.json()["voided_at"]
        assert await balance(client, party) == "0.00"
        second = await party.invoice(client)
        assert int(second["number"][-5:]) == int(first["number"][-5:]) + 1

    async def test_void_needs_a_reason_and_an_issued_invoice(self, client, party):
        headers = party.account.headers
        invoice = await party.invoice(client)
        assert_problem(await client.post(f"{URL}/{invoice['id']}/void", json={}, headers=headers), 422)
        assert_problem(await client.post(f"{URL}/{invoice['id']}/void", json={"reason": " "}, headers=headers), 422)
        draft = await party.invoice(client, issue=False)
        void = {"reason": "x"}
        assert_problem(
            await client.post(f"{URL}/{draft['id']}/void", json=void, headers=headers), 409, "invoice-is-draft"
        )
        await client.post(f"{URL}/{invoice['id']}/void", json=void, headers=headers)
        assert_problem(
            await client.post(f"{URL}/{invoice['id']}/void", json=void, headers=headers), 409, "invoice-already-void"
        )

    async def test_every_step_is_audited(self, client, party):
        invoice = await party.invoice(client, issue=False)
        await client.post(f"{URL}/{invoice['id']}/issue", headers=party.account.headers)
        await client.post(f"{URL}/{invoice['id']}/void", json={"reason": "x"}, headers=party.account.headers)
        actions = sorted(row["action"] for row in await audit_rows(client, party.account, invoice["id"]))
        assert actions == ["invoice.created", "invoice.issued", "invoice.voided"]

    async def test_issued_invoices_keep_what_they_showed_when_the_customer_changes(self, client, party):
        invoice = await party.invoice(client)
        renamed = {"name": "Renamed Stores"}
        url = f"{API}/customers/{party.customer['id']}"
        assert (await client.patch(url, json=renamed, headers=party.account.headers)).status_code == 200
        again = (await client.get(f"{URL}/{invoice['id']}", headers=party.account.headers)).json()
        assert again["recipient"]["name"] == "Sharma Stores"


class TestInput:
    @pytest.mark.parametrize(
        "field", ["number", "status", "total", "taxable_value", "tenant_id", "amount_paid", "balance_due", "id"]
    )
    async def test_computed_fields_in_the_body_are_refused(self, client, party, field):
        body = {"company_id": party.company["id"], "customer_id": party.customer["id"], "lines": [line()], field: "1"}
        assert_problem(await client.post(URL, json=body, headers=party.account.headers), 422)

    @pytest.mark.parametrize("field", ["taxable_value", "total", "cgst_amount", "igst_amount"])
    async def test_computed_line_fields_are_refused(self, client, party, field):
        body = {
            "company_id": party.company["id"],
            "customer_id": party.customer["id"],
            "lines": [line(**{field: "1.00"})],
        }
        assert_problem(await client.post(URL, json=body, headers=party.account.headers), 422)

    @pytest.mark.parametrize(
        "change",
        [
            {"lines": []},
            {"lines": [line(quantity="0")]},
            {"lines": [line(unit_price="-1")]},
            {"lines": [line(unit_price=100)]},
            {"lines": [line(gst_rate="101")]},
            {"invoice_date": "23-11-2026"},
            {"place_of_supply": "25"},
            {"reverse_charge": "yes"},
        ],
    )
    async def test_schema_violations_are_422(self, client, party, change):
        body = {"company_id": party.company["id"], "customer_id": party.customer["id"], "lines": [line()]} | change
        assert_problem(await client.post(URL, json=body, headers=party.account.headers), 422)

    @pytest.mark.parametrize(
        ("change", "code"),
        [
            ({"lines": [line("100.00", discount="100.01")]}, "discount-too-large"),
            ({"invoice_date": "2026-05-10", "due_date": "2026-05-09"}, "due-before-invoice-date"),
            ({"lines": [line(gst_rate="7")]}, "gst-rate-not-in-force"),
            ({"lines": [{"quantity": "1", "unit_price": "10.00", "gst_rate": "18"}]}, "description-required"),
            ({"lines": [{"description": "x", "quantity": "1", "gst_rate": "18"}]}, "unit-price-required"),
        ],
    )
    async def test_rules_the_schema_cannot_state_are_400(self, client, party, change, code):
        body = {"company_id": party.company["id"], "customer_id": party.customer["id"], "lines": [line()]} | change
        assert_problem(await client.post(URL, json=body, headers=party.account.headers), 400, code)

    async def test_unknown_references_are_404(self, client, party):
        other = await Party.make(client, await make_tenant(client))
        headers = party.account.headers
        for change, code in (
            ({"company_id": other.company["id"]}, "company-not-found"),
            ({"customer_id": other.customer["id"]}, "customer-not-found"),
            ({"lines": [{"service_type_id": other.company["id"], "quantity": "1"}]}, "service-type-not-found"),
        ):
            body = {"company_id": party.company["id"], "customer_id": party.customer["id"], "lines": [line()]}
            assert_problem(await client.post(URL, json=body | change, headers=headers), 404, code)

    async def test_an_inactive_service_type_cannot_be_used(self, client, party):
        headers = party.account.headers
        service = {"name": "Old Service", "default_rate": "100.00", "is_active": False}
        created = await client.post(f"{API}/service-types", json=service, headers=headers)
        assert created.status_code == 201, created.text
        body = {
            "company_id": party.company["id"],
            "customer_id": party.customer["id"],
            "lines": [{"service_type_id": created.json()["id"], "quantity": "1"}],
        }
        assert_problem(await client.post(URL, json=body, headers=headers), 400, "service-type-inactive")

    async def test_an_archived_customer_cannot_be_invoiced(self, client, party):
        await party.invoice(client)  # a document: deleting archives
        headers = party.account.headers
        assert (await client.delete(f"{API}/customers/{party.customer['id']}", headers=headers)).status_code == 200
        body = {"company_id": party.company["id"], "customer_id": party.customer["id"], "lines": [line()]}
        assert_problem(await client.post(URL, json=body, headers=headers), 400, "customer-archived")

    async def test_rule_46_unregistered_customer_over_50000_needs_an_address(self, client, party):
        big = line("50000.00")
        draft = await party.invoice(client, big, issue=False)
        headers = party.account.headers
        assert_problem(
            await client.post(f"{URL}/{draft['id']}/issue", headers=headers), 400, "recipient-address-required"
        )
        customer = await make_customer(client, party.account, billing_address={"state_code": "29", "line1": "1 Road"})
        assert (await make_invoice(client, party.account, party.company, customer, big))["status"] == "issued"


class TestDefaults:
    async def test_due_date_follows_the_customer_terms_else_the_settings(self, client, party):
        termed = await make_customer(client, party.account, payment_terms_days=30, billing_address={"state_code": "29"})
        a = await make_invoice(client, party.account, party.company, termed, invoice_date="2026-04-01")
        assert a["due_date"] == "2026-05-01"
        b = await party.invoice(client, invoice_date="2026-04-01")
        assert b["due_date"] == "2026-04-16"  # gst_settings.default_due_days = 15

    async def test_terms_default_to_the_company_terms(self, client):
        owner = await make_tenant(client)
        company = await make_company(client, owner, default_terms="Pay within 15 days.")
        customer = await make_customer(client, owner, billing_address={"state_code": "29"})
        invoice = await make_invoice(client, owner, company, customer)
        assert invoice["terms"] == "Pay within 15 days."
        assert invoice["supplier"]["legal_name"] == company["legal_name"]


class TestReads:
    async def test_filters(self, client, party, app):
        headers = party.account.headers
        april = await party.invoice(client, invoice_date="2026-04-01", due_date="2026-04-30")
        may = await party.invoice(client, line("10.00"), invoice_date="2026-05-01", due_date="2026-12-31")
        draft = await party.invoice(client, issue=False, invoice_date="2026-06-01")

        async def ids(**params):
            response = await client.get(URL, params=params, headers=headers)
            assert response.status_code == 200, response.text
            return {item["id"] for item in response.json()["items"]}

        assert await ids(status="draft") == {draft["id"]}
        assert await ids(**{"from": "2026-04-15", "to": "2026-05-31"}) == {may["id"]}
        assert await ids(due_before="2026-05-01") == {april["id"]}
        assert await ids(number=april["number"][-5:]) == {april["id"]}
        assert await ids(customer_id=party.customer["id"]) == {april["id"], may["id"], draft["id"]}
        runtime = app.state.runtime
        saved = runtime.clock
        runtime.clock = lambda: datetime(2026, 6, 15, 6, 0, tzinfo=UTC)
        try:
            assert await ids(overdue="true") == {april["id"]}
            read = (await client.get(f"{URL}/{april['id']}", headers=headers)).json()
            assert read["is_overdue"] is True
        finally:
            runtime.clock = saved

    async def test_sort_pagination_and_fields(self, client, party):
        for price in ("30.00", "10.00", "20.00"):
            await party.invoice(client, line(price))
        items = await walk(client, party.account, "/invoices", limit=2, sort="total", fields="total,number")
        assert [item["total"] for item in items] == ["12.00", "24.00", "35.00"]
        assert set(items[0]) == {"id", "total", "number"}

    async def test_lists_leave_lines_out_unless_asked(self, client, party):
        await party.invoice(client)
        plain = (await client.get(URL, headers=party.account.headers)).json()["items"][0]
        with_lines = (await client.get(URL, params={"lines": "true"}, headers=party.account.headers)).json()
        assert plain["lines"] is None and len(with_lines["items"][0]["lines"]) == 1


class TestRoles:
    async def test_a_viewer_reads_but_cannot_write(self, client, mailbox, party):
        viewer = await add_member(client, mailbox, party.account, "viewer")
        invoice = await party.invoice(client, issue=False)
        assert (await client.get(f"{URL}/{invoice['id']}", headers=viewer.headers)).status_code == 200
        body = {"company_id": party.company["id"], "customer_id": party.customer["id"], "lines": [line()]}
        assert_problem(await client.post(URL, json=body, headers=viewer.headers), 403)
        assert_problem(await client.post(f"{URL}/{invoice['id']}/issue", headers=viewer.headers), 403)

    async def test_an_accountant_issues(self, client, mailbox, party):
        accountant = await add_member(client, mailbox, party.account, "accountant")
        invoice = await party.invoice(client, issue=False)
        assert (await client.post(f"{URL}/{invoice['id']}/issue", headers=accountant.headers)).status_code == 200


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "1899-12-31", "3000-01-01"])
async def test_dates_outside_1900_to_2999_are_refused(client, party, day):
    """asyncpg would store date.min / date.max as -infinity / infinity."""
    body = {"company_id": party.company["id"], "customer_id": party.customer["id"], "lines": [line()]}
    assert_problem(await client.post(URL, json=body | {"invoice_date": day}, headers=party.account.headers), 422)
    assert_problem(await client.get(URL, params={"from": day}, headers=party.account.headers), 422)


async def test_a_balance_that_would_overflow_is_a_400_not_a_500(client, party):
    """The database's range is the last guard: a customer already owing the most a balance can hold."""
    rich = await make_customer(
        client, party.account, opening_balance="9999999999999999.99", billing_address={"state_code": "29"}
    )
    body = {"company_id": party.company["id"], "customer_id": rich["id"], "lines": [line()], "issue": True}
    assert_problem(await client.post(URL, json=body, headers=party.account.headers), 400, "value-out-of-range")
