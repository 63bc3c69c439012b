"""The monthly storage rent (issue 12 §4), driven through run_due(at): one invoice per agreement and
period, a line per product prorated by the days stored, SAC 996729 at 18 % GST, exactly once however
many workers race, missed periods billed late once each (dated their own billing day), a period
with nothing stored recorded without an invoice, an agreement that cannot be billed left for the
next run without holding up the others.

The figures are worked by hand below (app.domain.storage_rent states the rule: rent = value per unit
x monthly rate x quantity-days / days in the period, rounded half up to the paisa once; a unit
counts on the day it arrives, not on the day it leaves). The dates are fixed days of 2026, in the
past whatever day the suite runs."""

import asyncio
import uuid
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select, update

from app.domain.fiscal import INDIA
from app.models.billing.business import TaxRate
from app.models.billing.invoice import Invoice
from app.repositories.platform.jobs import DueWorkRepository
from tests.api.v1.customer_rows import make_customer
from tests.api.v1.invoicing import Party
from tests.api.v1.product_rows import make_product
from tests.api.v1.storage_rows import goods, make_agreement, moved
from tests.factories import API, make_tenant
from tests.jobs.scheduling import run


@pytest.fixture
def rt(app):
    return app.state.runtime


def ist(day: date, hour: int = 0, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=INDIA)


def months_billed(start: date, today: date, billing_day: int = 1) -> int:
    """How many periods (billing day to billing day) from the one starting at `start` have their
    billing day on or before `today`."""
    count, year, month = 0, start.year, start.month
    while True:
        month += 1
        if month > 12:
            year, month = year + 1, 1
        if date(year, month, billing_day) > today:
            return count
        count += 1


async def periods(client, party, agreement) -> list[dict]:
    response = await client.get(f"{API}/storage-agreements/{agreement['id']}/periods", headers=party.account.headers)
    assert response.status_code == 200, response.text
    return list(reversed(response.json()["items"]))  # oldest first


async def invoice(client, party, invoice_id: str) -> dict:
    response = await client.get(f"{API}/invoices/{invoice_id}", headers=party.account.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def invoices_of(rt, tenant_id: str) -> int:
    async with rt.db.transaction(uuid.UUID(tenant_id)) as session:
        return (await session.execute(select(func.count()).select_from(Invoice))).scalar_one()


class TestHandWorkedRent:
    async def test_goods_received_mid_month_and_half_released(self, client, rt, today):
        """February 2026 (28 days), billing day 1, 2 % a month, Karnataka to Karnataka (CGST + SGST 9 %):

        Basmati rice, ₹1,250.00 a unit: 100 received on 10 Feb, 50 released on 20 Feb (half).
          10 Feb .. 19 Feb: 100 x 10 days = 1,000; 20 Feb .. 28 Feb: 50 x 9 days = 450 -> 1,450 unit-days.
          1,250 x 2 % x 1,450 / 28 = 25 x 1,450 / 28 = 36,250 / 28 = 1,294.642857... -> ₹1,294.64.
        Steel almirah, ₹1,001.25 a unit: 2 received on 15 Feb (15 .. 28 Feb: 14 days) -> 28 unit-days.
          1,001.25 x 2 % x 28 / 28 = 20.025 -> ₹20.03 (half up; half-even would say 20.02).
        Taxable 1,314.67; CGST 9 %: 116.5176 -> 116.52 and 1.8027 -> 1.80 = 118.32; SGST the same;
        1,314.67 + 236.64 = 1,551.31, rounded off by -0.31 to ₹1,551.00. Billed on 1 Mar 2026.

        March 2026 (31 days): the other 50 bags released on 5 Mar (1 .. 4 Mar: 50 x 4 = 200 unit-days),
        both almirahs on 1 Mar (0 days: not counted on the day they leave, so no line).
          1,250 x 2 % x 200 / 31 = 5,000 / 31 = 161.290322... -> ₹161.29; CGST = SGST = 14.5161 -> 14.52;
          190.33, rounded off by -0.33 to ₹190.00. Billed on 1 Apr 2026.
        April 2026 on: nothing stored: each period recorded, no invoice."""
        party = await Party.make(client, await make_tenant(client))
        account = party.account
        rice = await make_product(client, account, name="Basmati rice 25 kg", sku="RICE-25", unit="BAG")
        almirah = await make_product(client, account, name="Steel almirah", sku="ALM-1", unit="NOS")
        agreement = await make_agreement(client, party, start_date="2026-02-01", reference="WH-7")
        await moved(client, account, agreement, "receipts", "2026-02-10", goods(rice, "100", "1250.00"))
        await moved(client, account, agreement, "receipts", "2026-02-15", goods(almirah, "2", "1001.25"))
        await moved(client, account, agreement, "releases", "2026-02-20", goods(rice, "50"))
        await moved(client, account, agreement, "releases", "2026-03-01", goods(almirah, "2"))
        await moved(client, account, agreement, "releases", "2026-03-05", goods(rice, "50"))

        # before February's billing day (in India) nothing is due; the scan agrees
        eve = ist(date(2026, 2, 28), 23, 59)
        async with rt.db.transaction() as session:
            assert await DueWorkRepository(session).storage_rent_tenants(eve, only=[uuid.UUID(account.tenant_id)]) == []
        assert (await run(rt, eve, account.tenant_id)).storage_rent_invoices == 0

        # the worker was down since: two workers at once bill every missed period, each once
        now = rt.clock()  # the instant the `today` fixture pinned: the same day in India
        racing = await asyncio.gather(*(run(rt, now, account.tenant_id) for _ in range(2)))
        assert not any(s.failed for s in racing), racing
        assert sorted(s.storage_rent_invoices for s in racing) == [0, 2]
        assert (await run(rt, now, account.tenant_id)).storage_rent_invoices == 0
        assert await invoices_of(rt, account.tenant_id) == 2

        billed = await periods(client, party, agreement)
        assert len(billed) == months_billed(date(2026, 2, 1), today)
        assert [(p["period_start"], p["period_end"], p["rent"]) for p in billed[:3]] == [
            ("2026-02-01", "2026-03-01", "1314.67"),
            ("2026-03-01", "2026-04-01", "161.29"),
            ("2026-04-01", "2026-05-01", "0.00"),
        ]
        assert all(p["invoice_id"] is None for p in billed[2:])

        february = await invoice(client, party, billed[0]["invoice_id"])
        assert february["status"] == "issued" and february["invoice_date"] == "2026-03-01"  # dated its billing day
        assert february["customer_id"] == party.customer["id"] and february["company_id"] == party.company["id"]
        assert [(ln["hsn_sac"], ln["quantity"], ln["unit_price"], ln["gst_rate"]) for ln in february["lines"]] == [
            ("996729", "1.000", "1294.6400", "18.00"),
            ("996729", "1.000", "20.0300", "18.00"),
        ]
        assert [(ln["taxable_value"], ln["cgst_amount"], ln["sgst_amount"]) for ln in february["lines"]] == [
            ("1294.64", "116.52", "116.52"),
            ("20.03", "1.80", "1.80"),
        ]
        first = february["lines"][0]["description"]
        assert first.startswith("Storage of Basmati rice 25 kg (RICE-25), 01 Feb to 28 Feb 2026: 1450 BAG-days")
        assert "₹1250.00" in first and "x 2% a month" in first
        assert "2 NOS-days" not in february["lines"][1]["description"]  # 28 of them
        assert "28 NOS-days in 28 days" in february["lines"][1]["description"]
        assert (february["taxable_value"], february["tax_total"]) == ("1314.67", "236.64")
        assert (february["round_off"], february["total"]) == ("-0.31", "1551.00")
        assert "WH-7" in february["notes"]

        march = await invoice(client, party, billed[1]["invoice_id"])
        assert march["invoice_date"] == "2026-04-01"
        assert [(ln["taxable_value"], ln["cgst_amount"]) for ln in march["lines"]] == [("161.29", "14.52")]
        assert "200 BAG-days in 31 days" in march["lines"][0]["description"]
        assert (march["tax_total"], march["round_off"], march["total"]) == ("29.04", "-0.33", "190.00")

        # a billed period is closed: goods cannot be dated into it any more
        late = await client.post(
            f"{API}/storage-agreements/{agreement['id']}/receipts",
            json={"movement_date": "2026-03-20", "lines": [goods(rice, "1")]},
            headers=account.headers,
        )
        assert late.status_code == 409 and late.json()["code"] == "storage-period-billed"

    async def test_a_period_from_the_15th_and_the_last_period_of_an_end_date(self, client, rt, today):
        """Billing day 15, 2.5 % a month, 10 cartons at ₹300.00 received 20 Mar 2026, end date 30 Apr 2026,
        collected on 1 May 2026 (the day after: not counted on the day they leave):

        15 Mar .. 14 Apr (31 days): 20 Mar .. 14 Apr = 26 days x 10 = 260 unit-days;
          300 x 2.5 % x 260 / 31 = 1,950 / 31 = 62.903225... -> ₹62.90.
        15 Apr .. 14 May (30 days): 15 Apr .. 30 Apr = 16 days x 10 = 160 unit-days;
          300 x 2.5 % x 160 / 30 = 1,200 / 30 = ₹40.00. Then the agreement has ended: nothing more is billed."""
        party = await Party.make(client, await make_tenant(client))
        account = party.account
        cartons = await make_product(client, account, name="Cartons of tiles", sku="TILE-C", unit="NOS")
        agreement = await make_agreement(
            client, party, start_date="2026-03-20", end_date="2026-04-30", billing_day=15, monthly_rate="2.5"
        )
        assert (agreement["next_period_start"], agreement["next_bill_on"]) == ("2026-03-15", "2026-04-15")
        await moved(client, account, agreement, "receipts", "2026-03-20", goods(cartons, "10", "300"))
        await moved(client, account, agreement, "releases", "2026-05-01", goods(cartons, "10"))

        summary = await run(rt, rt.clock(), account.tenant_id)
        assert (summary.storage_rent_invoices, summary.failed) == (2, [])
        billed = await periods(client, party, agreement)
        assert [(p["period_start"], p["period_end"], p["rent"]) for p in billed] == [
            ("2026-03-15", "2026-04-15", "62.90"),
            ("2026-04-15", "2026-05-15", "40.00"),
        ]
        second = await invoice(client, party, billed[1]["invoice_id"])
        assert second["invoice_date"] == "2026-05-15"
        assert "160 NOS-days in 30 days" in second["lines"][0]["description"]
        read = await client.get(f"{API}/storage-agreements/{agreement['id']}", headers=account.headers)
        assert (read.json()["status"], read.json()["next_bill_on"]) == ("ended", None)
        assert (await run(rt, rt.clock() + timedelta(days=62), account.tenant_id)).storage_rent_invoices == 0


class TestLeftForTheNextRun:
    async def test_an_agreement_that_cannot_be_billed_waits_and_the_others_are_billed(self, client, rt, today):
        """The customer of one agreement is archived (an invoice to it is refused): that agreement is
        rolled back alone, counted as blocked and tried again at each run; the other is billed."""
        party = await Party.make(client, await make_tenant(client))
        owner = party.account
        other = Party(owner, party.company, await make_customer(client, owner, name="Verma Exports"))
        rice = await make_product(client, owner, sku="RICE-9")
        blocked = await make_agreement(client, party, start_date="2026-02-01")
        billed = await make_agreement(client, other, start_date="2026-02-01")
        for agreement in (blocked, billed):
            await moved(client, owner, agreement, "receipts", "2026-02-10", goods(rice, "10", "100"))
            await moved(client, owner, agreement, "releases", "2026-02-12", goods(rice, "10"))
        archived = await client.delete(f"{API}/customers/{party.customer['id']}", headers=owner.headers)
        assert archived.status_code == 200 and archived.json()["outcome"] == "archived", archived.text

        for attempt in range(2):
            summary = await run(rt, rt.clock(), owner.tenant_id)
            assert (summary.storage_rent_invoices, summary.storage_rent_blocked, summary.failed) == (1 - attempt, 1, [])
        assert await periods(client, party, blocked) == []
        read = await client.get(f"{API}/storage-agreements/{blocked['id']}", headers=owner.headers)
        assert read.json()["next_bill_on"] == "2026-03-01"  # still due
        # and the tenant sees why, not only the server's log
        assert read.json()["billing_problem"].startswith("customer-archived: "), read.json()
        fine = await client.get(f"{API}/storage-agreements/{billed['id']}", headers=owner.headers)
        assert fine.json()["billing_problem"] is None
        done = await periods(client, other, billed)
        assert len(done) == months_billed(date(2026, 2, 1), today)
        # 10 x 2 days (10, 11 Feb) = 20 unit-days of ₹100 at 2 % over 28 days: 40 / 28 = 1.428571... -> ₹1.43
        assert done[0]["rent"] == "1.43"
        assert await invoices_of(rt, owner.tenant_id) == 1

    async def test_no_18_percent_rate_on_a_billing_day_waits_until_the_tenant_adds_one(self, client, rt, today):
        """The tenant's 18 % rate ended on 15 Mar 2026 (set in the database: the API closes rates from
        today on only). February, billed on 1 Mar, is billed; March, billed on 1 Apr, cannot charge
        18 %: it is rolled back alone, nothing of it claimed, and every run tries again; once an 18 %
        rate in force from 16 Mar is added, the next run bills March once, dated 1 Apr.

        10 units of ₹100 at 2 %, received 10 Feb, released 3 Mar: February 10 x 19 days = 190
        unit-days, 100 x 2 % x 190 / 28 = 13.571... -> ₹13.57; March 10 x 2 days = 20 unit-days,
        100 x 2 % x 20 / 31 = 1.290... -> ₹1.29."""
        party = await Party.make(client, await make_tenant(client))
        owner = party.account
        rice = await make_product(client, owner, sku="RICE-18")
        agreement = await make_agreement(client, party, start_date="2026-02-01")
        await moved(client, owner, agreement, "receipts", "2026-02-10", goods(rice, "10", "100"))
        await moved(client, owner, agreement, "releases", "2026-03-03", goods(rice, "10"))
        async with rt.db.transaction(uuid.UUID(owner.tenant_id)) as session:
            closed = await session.execute(
                update(TaxRate).where(TaxRate.rate == 18).values(effective_to=date(2026, 3, 15)).returning(TaxRate.id)
            )
            assert len(closed.all()) == 1

        first = await run(rt, rt.clock(), owner.tenant_id)
        assert (first.storage_rent_invoices, first.storage_rent_blocked, first.failed) == (1, 1, [])
        again = await run(rt, rt.clock(), owner.tenant_id)
        assert (again.storage_rent_invoices, again.storage_rent_blocked, again.failed) == (0, 1, [])
        [february] = await periods(client, party, agreement)
        assert (february["period_start"], february["rent"]) == ("2026-02-01", "13.57")
        read = await client.get(f"{API}/storage-agreements/{agreement['id']}", headers=owner.headers)
        assert (read.json()["next_period_start"], read.json()["next_bill_on"]) == ("2026-03-01", "2026-04-01")
        assert read.json()["billing_problem"].startswith("gst-rate-not-in-force: "), read.json()
        assert await invoices_of(rt, owner.tenant_id) == 1

        added = await client.post(
            f"{API}/tax-rates", json={"rate": "18", "effective_from": "2026-03-16"}, headers=owner.headers
        )
        assert added.status_code == 201, added.text
        summary = await run(rt, rt.clock(), owner.tenant_id)
        assert (summary.storage_rent_invoices, summary.storage_rent_blocked) == (1, 0)
        [_, march, *later] = await periods(client, party, agreement)
        assert march["rent"] == "1.29" and all(p["invoice_id"] is None for p in later)
        billed = await invoice(client, party, march["invoice_id"])
        assert (billed["invoice_date"], billed["lines"][0]["gst_rate"]) == ("2026-04-01", "18.00")
        read = await client.get(f"{API}/storage-agreements/{agreement['id']}", headers=owner.headers)
        assert read.json()["billing_problem"] is None  # cleared once billed
        assert await invoices_of(rt, owner.tenant_id) == 2


class TestExemptStorage:
    async def test_an_agreement_at_0_percent_bills_a_bill_of_supply(self, client, rt, today):
        """Storage the law exempts (of rice, of agricultural produce: Notification 12/2017-CT(R)) is
        not taxed at 18 %: an agreement at 0 % bills its rent on a bill of supply with no GST.
        10 bags of ₹100 from 10 Feb 2026 to 12 Feb (2 days): 20 unit-days, 100 x 2 % x 20 / 28 = ₹1.43."""
        party = await Party.make(client, await make_tenant(client))
        rice = await make_product(client, party.account, sku="PADDY-1")
        agreement = await make_agreement(client, party, start_date="2026-02-01", gst_rate="0")
        assert agreement["gst_rate"] == "0.00"
        await moved(client, party.account, agreement, "receipts", "2026-02-10", goods(rice, "10", "100"))
        await moved(client, party.account, agreement, "releases", "2026-02-12", goods(rice, "10"))

        summary = await run(rt, rt.clock(), party.account.tenant_id)
        assert (summary.storage_rent_invoices, summary.storage_rent_blocked, summary.failed) == (1, 0, [])
        february = await invoice(client, party, (await periods(client, party, agreement))[0]["invoice_id"])
        assert february["document_type"] == "bill_of_supply"
        assert [(ln["hsn_sac"], ln["gst_rate"], ln["taxable_value"]) for ln in february["lines"]] == [
            ("996729", "0.00", "1.43")
        ]
        assert february["tax_total"] == "0.00"


class TestGoodsHeldPastTheEndDate:
    async def test_goods_still_held_after_a_preset_end_date_are_billed_until_released(self, client, rt, today):
        """A preset end date stops receipts, not the rent: goods the customer has not collected by
        then are still in the warehouse and are billed (holdover) until released; the agreement
        ends only once nothing is held (as POST .../end requires).

        Billing day 1, 2 % a month, 10 units of ₹300.00 received 10 Feb 2026, end date 28 Feb 2026,
        released only on 11 Mar 2026:
          February (28 days): 10 Feb .. 28 Feb = 19 days x 10 = 190 unit-days; 300 x 2 % x 190 / 28
            = 1,140 / 28 = 40.714285... -> ₹40.71.
          March (31 days): 1 Mar .. 10 Mar = 10 days x 10 = 100 unit-days; 300 x 2 % x 100 / 31
            = 600 / 31 = 19.354838... -> ₹19.35. Then nothing is held past the end date: ended."""
        party = await Party.make(client, await make_tenant(client))
        account = party.account
        pallets = await make_product(client, account, name="Pallets of paper", sku="PAPER-P", unit="NOS")
        agreement = await make_agreement(client, party, start_date="2026-02-01", end_date="2026-02-28")
        await moved(client, account, agreement, "receipts", "2026-02-10", goods(pallets, "10", "300"))
        await moved(client, account, agreement, "releases", "2026-03-11", goods(pallets, "10"))

        summary = await run(rt, rt.clock(), account.tenant_id)
        assert (summary.storage_rent_invoices, summary.failed) == (2, [])
        billed = await periods(client, party, agreement)
        assert [(p["period_start"], p["period_end"], p["rent"]) for p in billed] == [
            ("2026-02-01", "2026-03-01", "40.71"),
            ("2026-03-01", "2026-04-01", "19.35"),
        ]
        read = await client.get(f"{API}/storage-agreements/{agreement['id']}", headers=account.headers)
        assert (read.json()["status"], read.json()["next_bill_on"]) == ("ended", None)

    async def test_an_agreement_past_its_end_date_holding_goods_keeps_billing(self, client, rt, today):
        """Never released: every period since is billed in full (10 x 300 x 2 % = ₹60.00 a month),
        and the agreement stays active (it cannot end while it holds goods)."""
        party = await Party.make(client, await make_tenant(client))
        account = party.account
        pallets = await make_product(client, account, name="Pallets of paper", sku="PAPER-Q", unit="NOS")
        agreement = await make_agreement(client, party, start_date="2026-02-01", end_date="2026-02-28")
        await moved(client, account, agreement, "receipts", "2026-02-01", goods(pallets, "10", "300"))

        summary = await run(rt, rt.clock(), account.tenant_id)
        assert summary.failed == []
        billed = await periods(client, party, agreement)
        assert len(billed) == months_billed(date(2026, 2, 1), today)
        assert {p["rent"] for p in billed} == {"60.00"}
        read = await client.get(f"{API}/storage-agreements/{agreement['id']}", headers=account.headers)
        assert read.json()["status"] == "active" and read.json()["next_bill_on"] is not None
