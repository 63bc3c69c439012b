"""/storage-agreements (issue 12 §4): agreements, customer goods received and released on a ledger
of their own (the shop's stock never moves), holdings, movements, and every refusal: more than held
(409 naming the lines), out of date order, into a billed period, an unknown or archived product, a
value that changes, ending while goods are held, a company without an 18 % rate in force."""

import asyncio
from datetime import timedelta

import httpx

from app.domain.fiscal import today_in_india
from tests.api.v1.http_checks import assert_problem
from tests.api.v1.invoicing import Party, make_company
from tests.api.v1.product_rows import make_product
from tests.api.v1.storage_rows import goods, make_agreement, move, moved
from tests.factories import API, make_tenant


async def holdings(client, party, agreement) -> dict:
    response = await client.get(f"{API}/storage-agreements/{agreement['id']}/holdings", headers=party.account.headers)
    assert response.status_code == 200, response.text
    return response.json()


class TestAgreements:
    async def test_create_with_defaults_read_list_and_filter(self, client, today):
        party = await Party.make(client, await make_tenant(client))
        agreement = await make_agreement(client, party, reference="WH-14")
        assert agreement["monthly_rate"] == "2.00" and agreement["billing_day"] == 1
        assert agreement["gst_rate"] == "18.00"
        assert agreement["start_date"] == today.isoformat() and agreement["status"] == "active"
        assert agreement["next_period_start"] == today.replace(day=1).isoformat()
        assert agreement["next_bill_on"] == (today.replace(day=28) + timedelta(days=4)).replace(day=1).isoformat()

        mid = await make_agreement(client, party, billing_day=15, monthly_rate="1.5", start_date="2026-03-14")
        assert (mid["next_period_start"], mid["next_bill_on"]) == ("2026-02-15", "2026-03-15")

        headers = party.account.headers
        read = await client.get(f"{API}/storage-agreements/{agreement['id']}", headers=headers)
        assert read.json() == agreement
        listed = await client.get(
            f"{API}/storage-agreements", params={"customer_id": party.customer["id"]}, headers=headers
        )
        assert [a["id"] for a in listed.json()["items"]] == [mid["id"], agreement["id"]]
        ended = await client.get(f"{API}/storage-agreements", params={"status": "ended"}, headers=headers)
        assert ended.json()["items"] == []

    async def test_bad_bodies_are_refused_and_nothing_is_written(self, client, today):
        party = await Party.make(client, await make_tenant(client))
        base = {"company_id": party.company["id"], "customer_id": party.customer["id"]}
        bad_bodies = ({"monthly_rate": "0"}, {"monthly_rate": "100"}, {"billing_day": 29}, {"billing_day": "1"})
        for bad in bad_bodies:
            response = await client.post(f"{API}/storage-agreements", json=base | bad, headers=party.account.headers)
            assert_problem(response, 422, "validation-error")
        backwards = base | {"start_date": "2026-03-10", "end_date": "2026-03-09"}
        response = await client.post(f"{API}/storage-agreements", json=backwards, headers=party.account.headers)
        assert_problem(response, 400, "invalid-date-range")
        before_gst = base | {"start_date": "2017-06-30"}
        response = await client.post(f"{API}/storage-agreements", json=before_gst, headers=party.account.headers)
        assert_problem(response, 400, "document-date-before-gst")
        other = await make_tenant(client)
        foreign = base | {"company_id": (await make_company(client, other))["id"]}
        response = await client.post(f"{API}/storage-agreements", json=foreign, headers=party.account.headers)
        assert_problem(response, 404, "company-not-found")
        listed = await client.get(f"{API}/storage-agreements", headers=party.account.headers)
        assert listed.json()["items"] == []

    async def test_a_company_charging_gst_needs_an_18_percent_rate_in_force(self, client, app, today):
        party = await Party.make(client, await make_tenant(client))
        headers = party.account.headers
        rates = (await client.get(f"{API}/tax-rates", params={"limit": 100}, headers=headers)).json()["items"]
        [eighteen] = [r for r in rates if r["rate"] == "18.00"]
        closed = await client.patch(
            f"{API}/tax-rates/{eighteen['id']}", json={"effective_to": str(today)}, headers=headers
        )
        assert closed.status_code == 200, closed.text
        not_a_rate = {"company_id": party.company["id"], "customer_id": party.customer["id"], "gst_rate": "17"}
        response = await client.post(f"{API}/storage-agreements", json=not_a_rate, headers=headers)
        assert_problem(response, 409, "storage-gst-rate-missing")
        runtime = app.state.runtime
        pinned = runtime.clock
        runtime.clock = lambda: pinned() + timedelta(days=1)  # tomorrow: 18 % no longer in force
        try:
            assert today_in_india(runtime.clock()) == today + timedelta(days=1)
            response = await client.post(
                f"{API}/storage-agreements",
                json={"company_id": party.company["id"], "customer_id": party.customer["id"]},
                headers=headers,
            )
            assert_problem(response, 409, "storage-gst-rate-missing")
        finally:
            runtime.clock = pinned
        assert (await client.get(f"{API}/storage-agreements", headers=headers)).json()["items"] == []


class TestGoods:
    async def test_receive_and_release_keep_a_ledger_of_their_own(self, client, today):
        party = await Party.make(client, await make_tenant(client))
        account = party.account
        rice = await make_product(client, account, name="Basmati rice 25 kg", sku="RICE-25", unit="NOS")
        oil = await make_product(client, account, name="Mustard oil", sku="OIL-L", unit="LTR")
        agreement = await make_agreement(client, party, start_date="2026-02-01")
        [r1, r2] = await moved(
            client,
            account,
            agreement,
            "receipts",
            "2026-02-10",
            goods(rice, "100", "1250"),
            goods(oil, "20.5", "180.40"),
        )
        assert (r1["kind"], r1["quantity"], r1["quantity_after"]) == ("receipt", "100.000", "100.000")
        [out] = await moved(client, account, agreement, "releases", "2026-02-20", goods(rice, "50"))
        assert (out["kind"], out["quantity"], out["quantity_after"]) == ("release", "50.000", "50.000")
        # a later receipt may repeat the declared value, or leave it out
        await moved(client, account, agreement, "receipts", "2026-02-21", goods(rice, "5", "1250.00"))

        held = await holdings(client, party, agreement)
        assert [(h["sku"], h["quantity"], h["unit_value"], h["value"]) for h in held["items"]] == [
            ("RICE-25", "55.000", "1250.00", "68750.00"),
            ("OIL-L", "20.500", "180.40", "3698.20"),
        ]
        assert held["total_value"] == "72448.20"
        page = await client.get(f"{API}/storage-agreements/{agreement['id']}/movements", headers=account.headers)
        assert [(m["kind"], m["movement_date"]) for m in page.json()["items"]] == [
            ("receipt", "2026-02-21"),
            ("release", "2026-02-20"),
            ("receipt", "2026-02-10"),
            ("receipt", "2026-02-10"),
        ]
        only_oil = await client.get(
            f"{API}/storage-agreements/{agreement['id']}/movements",
            params={"product_id": oil["id"]},
            headers=account.headers,
        )
        assert [m["id"] for m in only_oil.json()["items"]] == [r2["id"]]
        # the shop's own stock of these products never moved
        stock = await client.get(f"{API}/stock", params={"product_id": rice["id"]}, headers=account.headers)
        assert stock.json()["items"] == []

    async def test_release_beyond_holdings_is_409_naming_the_lines_and_moves_nothing(self, client, today):
        party = await Party.make(client, await make_tenant(client))
        account = party.account
        rice, dal = await make_product(client, account, sku="RICE-1"), await make_product(client, account, sku="DAL-1")
        agreement = await make_agreement(client, party, start_date="2026-02-01")
        await moved(
            client, account, agreement, "receipts", "2026-02-10", goods(rice, "10", "100"), goods(dal, "4", "90")
        )
        before = await holdings(client, party, agreement)
        response = await move(client, account, agreement, "releases", "2026-02-11", goods(rice, "3"), goods(dal, "5"))
        problem = assert_problem(response, 409, "storage-insufficient-goods")
        assert problem["lines"] == [{"position": 2, "product_id": dal["id"], "requested": "5", "held": "4"}]
        never = await make_product(client, account, sku="NEVER-1")
        response = await move(client, account, agreement, "releases", "2026-02-11", goods(never, "1"))
        assert assert_problem(response, 409, "storage-insufficient-goods")["lines"][0]["held"] == "0"
        assert await holdings(client, party, agreement) == before
        page = await client.get(f"{API}/storage-agreements/{agreement['id']}/movements", headers=account.headers)
        assert len(page.json()["items"]) == 2

    async def test_dates_values_units_and_products_are_checked(self, client, today):
        party = await Party.make(client, await make_tenant(client))
        account = party.account
        rice = await make_product(client, account, sku="RICE-2")
        agreement = await make_agreement(client, party, start_date="2026-02-01", end_date="2026-06-30")
        tomorrow = str(today + timedelta(days=1))
        assert_problem(
            await move(client, account, agreement, "receipts", tomorrow, goods(rice, "1", "5")),
            400,
            "date-out-of-range",
        )
        early = await move(client, account, agreement, "receipts", "2026-01-31", goods(rice, "1", "5"))
        assert_problem(early, 400, "date-out-of-range")
        late = await move(client, account, agreement, "receipts", "2026-07-01", goods(rice, "1", "5"))
        assert_problem(late, 400, "date-out-of-range")
        assert_problem(
            await move(client, account, agreement, "receipts", "2026-02-05", goods(rice, "1")),
            400,
            "storage-value-required",
        )
        half = await move(client, account, agreement, "receipts", "2026-02-05", goods(rice, "1.5", "5"))
        assert_problem(half, 400, "quantity-too-precise")
        twice = await move(
            client, account, agreement, "receipts", "2026-02-05", goods(rice, "1", "5"), goods(rice, "2", "5")
        )
        assert_problem(twice, 400, "duplicate-product-line")

        await moved(client, account, agreement, "receipts", "2026-02-10", goods(rice, "10", "5"))
        revalued = await move(client, account, agreement, "receipts", "2026-02-11", goods(rice, "1", "6"))
        assert_problem(revalued, 409, "storage-value-mismatch")
        backdated = await move(client, account, agreement, "releases", "2026-02-09", goods(rice, "1"))
        assert_problem(backdated, 409, "storage-movement-out-of-order")

        other = await make_tenant(client)
        foreign = await make_product(client, other, sku="THEIRS")
        assert_problem(
            await move(client, account, agreement, "receipts", "2026-02-12", goods(foreign, "1", "5")),
            404,
            "product-not-found",
        )
        archived = await make_product(client, account, sku="OLD-1")
        patched = await client.patch(
            f"{API}/products/{archived['id']}", json={"is_archived": True}, headers=account.headers
        )
        assert patched.status_code == 200, patched.text
        gone = await move(client, account, agreement, "receipts", "2026-02-12", goods(archived, "1", "5"))
        assert_problem(gone, 409, "product-archived")
        missing = await client.post(
            f"{API}/storage-agreements/{other.tenant_id}/receipts",
            json={"lines": [goods(rice, "1", "5")]},
            headers=account.headers,
        )
        assert_problem(missing, 404, "storage-agreement-not-found")
        assert len((await holdings(client, party, agreement))["items"]) == 1

    async def test_goods_worth_more_than_a_rent_invoice_can_bill_are_refused(self, client, today):
        """A product's goods held under an agreement are worth less than ₹10^13 (an invoice line's
        bound): more would make a rent no invoice can carry (a numeric overflow in the monthly job,
        failing the tenant's whole rent step). 999,999 units at ₹99,99,999.99 pass; 2 more: 409,
        nothing written."""
        party = await Party.make(client, await make_tenant(client))
        account = party.account
        gold = await make_product(client, account, sku="GOLD-1")
        agreement = await make_agreement(client, party, start_date="2026-02-01", monthly_rate="99.99")
        await moved(client, account, agreement, "receipts", "2026-02-10", goods(gold, "999999", "9999999.99"))
        more = await move(client, account, agreement, "receipts", "2026-02-11", goods(gold, "2"))
        assert_problem(more, 409, "storage-value-too-large")
        assert (await holdings(client, party, agreement))["items"][0]["quantity"] == "999999.000"

    async def test_an_agreement_not_started_yet_can_be_ended_on_its_start_date(self, client, today):
        """Made by mistake for next week: ending it is not refused until it starts (any end date
        between its start and today was an empty range); it ends on its start date, by default."""
        party = await Party.make(client, await make_tenant(client))
        start = today + timedelta(days=3)
        agreement = await make_agreement(client, party, start_date=str(start))
        url = f"{API}/storage-agreements/{agreement['id']}/end"
        later = await client.post(url, json={"end_date": str(start + timedelta(days=1))}, headers=party.account.headers)
        assert_problem(later, 400, "date-out-of-range")
        ended = await client.post(url, json={}, headers=party.account.headers)
        assert ended.status_code == 200, ended.text
        assert (ended.json()["status"], ended.json()["end_date"]) == ("ended", str(start))

    async def test_ending_needs_every_good_released_then_takes_no_more(self, client, today):
        party = await Party.make(client, await make_tenant(client))
        account = party.account
        rice = await make_product(client, account, sku="RICE-3")
        agreement = await make_agreement(client, party, start_date="2026-02-01")
        await moved(client, account, agreement, "receipts", "2026-02-10", goods(rice, "10", "5"))
        url = f"{API}/storage-agreements/{agreement['id']}/end"
        held = assert_problem(
            await client.post(url, json={"end_date": "2026-02-28"}, headers=account.headers), 409, "storage-goods-held"
        )
        assert held["products"] == [{"product_id": rice["id"], "quantity": "10.000"}]
        await moved(client, account, agreement, "releases", "2026-02-27", goods(rice, "10"))
        before_last = await client.post(url, json={"end_date": "2026-02-26"}, headers=account.headers)
        assert_problem(before_last, 400, "date-out-of-range")
        ended = await client.post(url, json={"end_date": "2026-02-28"}, headers=account.headers)
        assert ended.status_code == 200, ended.text
        assert (ended.json()["status"], ended.json()["end_date"]) == ("ended", "2026-02-28")
        assert ended.json()["next_bill_on"] == "2026-03-01"  # February is still billed
        assert_problem(await client.post(url, json={}, headers=account.headers), 409, "storage-agreement-ended")
        refused = await move(client, account, agreement, "receipts", "2026-02-28", goods(rice, "1"))
        assert_problem(refused, 409, "storage-agreement-ended")


async def test_receipts_replay_with_the_same_idempotency_key(client, today):
    party = await Party.make(client, await make_tenant(client))
    rice = await make_product(client, party.account, sku="RICE-4")
    agreement = await make_agreement(client, party, start_date="2026-02-01")
    headers = party.account.headers | {"Idempotency-Key": "storage-receipt-0001"}
    body = {"movement_date": "2026-02-10", "lines": [goods(rice, "10", "5")]}
    url = f"{API}/storage-agreements/{agreement['id']}/receipts"
    first = await client.post(url, json=body, headers=headers)
    again = await client.post(url, json=body, headers=headers)
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert (await holdings(client, party, agreement))["items"][0]["quantity"] == "10.000"


async def test_concurrent_releases_never_release_more_than_held(live_server):
    """Ten releases of 3 bags race for the 20 held (over real HTTP, each its own connection): exactly
    six go through, the four others are 409 `storage-insufficient-goods` with nothing written, and the
    holding is what the movements add up to (2)."""
    async with httpx.AsyncClient(base_url=live_server, timeout=60) as setup:
        party = await Party.make(setup, await make_tenant(setup))
        rice = await make_product(setup, party.account, sku="RICE-RACE")
        agreement = await make_agreement(setup, party, start_date="2026-02-01")
        await moved(setup, party.account, agreement, "receipts", "2026-02-10", goods(rice, "20", "100"))
    clients = [httpx.AsyncClient(base_url=live_server, timeout=60) for _ in range(10)]
    try:
        responses = await asyncio.gather(
            *(move(c, party.account, agreement, "releases", "2026-02-11", goods(rice, "3")) for c in clients)
        )
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] * 6 + [409] * 4, [r.text for r in responses if r.status_code not in (201, 409)]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"storage-insufficient-goods"}
    afters = sorted(r.json()["movements"][0]["quantity_after"] for r in responses if r.status_code == 201)
    assert afters == ["11.000", "14.000", "17.000", "2.000", "5.000", "8.000"]
    async with httpx.AsyncClient(base_url=live_server, timeout=60) as check:
        held = await holdings(check, party, agreement)
    assert held["items"][0]["quantity"] == "2.000"
