"""Document dates a business can mean: none before GST began (1 July 2017), none further ahead than
DOCUMENT_FUTURE_DAYS from today in India (the app's clock); number series keyed by the full
financial year. Every date here is derived from the app's clock or is fixed in the past."""

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.domain.fiscal import today_in_india
from app.models.billing.number_series import NumberSeries
from tests.api.v1.http_checks import assert_problem
from tests.api.v1.invoicing import Party, line
from tests.api.v1.receipting import RECEIPTS, receipt_body
from tests.api.v1.report_data import set_clock
from tests.factories import API, make_tenant

__all__ = ["set_clock"]
INVOICES, CREDIT_NOTES = f"{API}/invoices", f"{API}/credit-notes"


@pytest.fixture
def today(app, set_clock) -> date:
    """Today in India, with the app's clock held at this instant so that the test and the server
    agree on the date even across midnight IST."""
    now = datetime.now(UTC)
    set_clock(now.isoformat())
    return today_in_india(now)


@pytest.fixture
def latest(app, today) -> date:
    return today + timedelta(days=app.state.runtime.settings.document_future_days)


async def post_invoice(client, party: Party, day: date | str, *, issue: bool = False):
    body = {
        "company_id": party.company["id"],
        "customer_id": party.customer["id"],
        "lines": [line()],
        "invoice_date": str(day),
        "due_date": str(day),
        "issue": issue,
    }
    return await client.post(INVOICES, json=body, headers=party.account.headers)


async def listed(client, party: Party, path: str) -> list:
    return (await client.get(path, headers=party.account.headers)).json()["items"]


@pytest.fixture
async def party(client) -> Party:
    return await Party.make(client, await make_tenant(client))


class TestInvoiceDates:
    async def test_none_before_gst_began(self, client, party):
        for day, issue in [("2017-06-30", False), ("2017-06-30", True), ("1900-01-01", True)]:
            refused = await post_invoice(client, party, day, issue=issue)
            body = assert_problem(refused, 400, "document-date-before-gst")
            assert body["errors"][0]["loc"] == ["body", "invoice_date"]
        assert await listed(client, party, INVOICES) == []
        first_day = await post_invoice(client, party, "2017-07-01", issue=True)
        assert first_day.status_code == 201, first_day.text
        assert first_day.json()["number"] == "INV/17-18/00001"

    async def test_at_most_the_configured_window_ahead(self, client, party, latest):
        last = latest
        too_late = await post_invoice(client, party, last + timedelta(days=1))
        assert_problem(too_late, 400, "document-date-too-late")
        assert_problem(await post_invoice(client, party, "2999-12-31", issue=True), 400, "document-date-too-late")
        assert await listed(client, party, INVOICES) == []
        accepted = await post_invoice(client, party, last)
        assert accepted.status_code == 201, accepted.text

    async def test_a_draft_replaced_with_a_date_out_of_bounds_is_refused_and_kept(self, client, party):
        draft = (await post_invoice(client, party, "2025-10-15")).json()
        body = {
            "company_id": party.company["id"],
            "customer_id": party.customer["id"],
            "lines": [line()],
            "invoice_date": "2099-04-01",
        }
        replaced = await client.put(f"{INVOICES}/{draft['id']}", json=body, headers=party.account.headers)
        assert_problem(replaced, 400, "document-date-too-late")
        stored = await client.get(f"{INVOICES}/{draft['id']}", headers=party.account.headers)
        assert stored.json()["invoice_date"] == "2025-10-15"


class TestCreditNoteAndReceiptDates:
    async def test_a_credit_note_at_most_the_window_ahead(self, client, party, today, latest):
        invoice = (await post_invoice(client, party, today, issue=True)).json()
        too_late = {
            "invoice_id": invoice["id"],
            "reason": "Returned",
            "full": True,
            "credit_note_date": str(latest + timedelta(days=1)),
        }
        assert_problem(
            await client.post(CREDIT_NOTES, json=too_late, headers=party.account.headers), 400, "document-date-too-late"
        )
        assert await listed(client, party, CREDIT_NOTES) == []
        ok = await client.post(
            CREDIT_NOTES, json=too_late | {"credit_note_date": str(latest)}, headers=party.account.headers
        )
        assert ok.status_code == 201, ok.text

    @pytest.mark.parametrize(
        ("day", "code"),
        [
            ("2017-06-30", "document-date-before-gst"),
            ("1900-01-01", "document-date-before-gst"),
            ("2999-12-31", "document-date-too-late"),
        ],
    )
    async def test_a_receipt_out_of_bounds_is_refused(self, client, party, day, code):
        refused = await client.post(
            RECEIPTS, json=receipt_body(party, "100", receipt_date=day), headers=party.account.headers
        )
        body = assert_problem(refused, 400, code)
        assert body["errors"][0]["loc"] == ["body", "receipt_date"]
        assert await listed(client, party, RECEIPTS) == []

    async def test_a_receipt_on_the_last_day_of_the_window(self, client, party, latest):
        accepted = await client.post(
            RECEIPTS, json=receipt_body(party, "100", receipt_date=str(latest)), headers=party.account.headers
        )
        assert accepted.status_code == 201, accepted.text


class TestSeriesKeys:
    async def test_a_series_is_keyed_by_the_full_financial_year(self, app, client, party):
        for day in ("2025-10-15", "2026-03-31", "2017-07-01"):
            assert (await post_invoice(client, party, day, issue=True)).status_code == 201
        response = await client.post(
            RECEIPTS, json=receipt_body(party, "10", receipt_date="2025-04-01"), headers=party.account.headers
        )
        assert response.status_code == 201, response.text
        assert response.json()["number"] == "RCT/25-26/00001"  # printed with the short year
        async with app.state.runtime.db.transaction(uuid.UUID(party.account.tenant_id)) as session:
            rows = await session.execute(
                sa.select(NumberSeries.document_type, NumberSeries.financial_year, NumberSeries.last_seq)
            )
            series = sorted(tuple(row) for row in rows)
        assert series == [("invoice", "2017-18", 1), ("invoice", "2025-26", 2), ("receipt", "2025-26", 1)]
