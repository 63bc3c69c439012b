"""Invoices from products and their stock (issue 11 §3), through the HTTP API on a real PostgreSQL:
lines from products, issue takes the stock (all or nothing), void gives it back, credit notes with
and without restock.

Products, goods received, levels and movements go through the API too (/products, /stock/receipts,
/stock, /products/{id}/movements); only the ledger's invariant (levels = the sum of the movements)
is read straight from the database, as the tenant, under row-level security."""

import asyncio
import uuid
from decimal import Decimal as D

import httpx
import pytest
from sqlalchemy import select

from app.core.runtime import Runtime
from app.models.catalog.stock import StockLevel, StockMovement
from app.schemas.billing.invoices import InvoiceIn
from app.services.billing import invoicing
from tests.api.v1.http_checks import assert_problem
from tests.api.v1.invoicing import Party, line, make_company
from tests.api.v1.product_rows import make_product
from tests.api.v1.test_document_pdfs import get_pdf, pdf_text
from tests.factories import API, make_tenant


class Shop(Party):
    """A party whose tenant has products and stock."""

    def __init__(self, party: Party, client: httpx.AsyncClient, rt: Runtime) -> None:
        super().__init__(party.account, party.company, party.customer)
        self.client, self.rt, self.tenant_id = client, rt, uuid.UUID(party.account.tenant_id)

    async def product(self, **fields) -> dict:
        body = {"hsn_code": "10063020", "sale_price": "100.00", "price_includes_tax": False} | fields
        return await make_product(self.client, self.account, **body)

    async def archive(self, product: dict) -> None:
        response = await self.client.patch(
            f"{API}/products/{product['id']}", json={"is_archived": True}, headers=self.account.headers
        )
        assert response.status_code == 200, response.text

    async def receive(self, *stocked: tuple[dict, str], company: dict | None = None) -> None:
        body = {
            "company_id": (company or self.company)["id"],
            "lines": [{"product_id": product["id"], "quantity": quantity} for product, quantity in stocked],
        }
        response = await self.client.post(f"{API}/stock/receipts", json=body, headers=self.account.headers)
        assert response.status_code == 201, response.text

    async def on_hand(self, product: dict, company: dict | None = None) -> D | None:
        """The product's on_hand at the company (None: no level row)."""
        params = {"product_id": product["id"], "company_id": (company or self.company)["id"]}
        response = await self.client.get(f"{API}/stock", params=params, headers=self.account.headers)
        assert response.status_code == 200, response.text
        items = response.json()["items"]
        assert len(items) <= 1
        return D(items[0]["on_hand"]) if items else None

    async def movements(self, product: dict) -> list[tuple[str, D]]:
        """(kind, on_hand change) of the product's movements, oldest first."""
        response = await self.client.get(
            f"{API}/products/{product['id']}/movements", params={"limit": 100}, headers=self.account.headers
        )
        assert response.status_code == 200, response.text
        return [(m["kind"], D(m["on_hand_change"])) for m in reversed(response.json()["items"])]  # newest first

    async def levels_match_movements(self) -> None:
        """Σ movements = levels, for every level of the tenant."""
        async with self.rt.db.transaction(self.tenant_id) as session:
            levels = {(r.product_id, r.company_id): r.on_hand for r in await session.scalars(select(StockLevel))}
            sums: dict = {}
            for m in await session.scalars(select(StockMovement)):
                sums[m.product_id, m.company_id] = sums.get((m.product_id, m.company_id), D(0)) + m.on_hand_change
            assert levels == sums


def sells(product: dict, quantity: str = "1", **extra) -> dict:
    return {"product_id": product["id"], "quantity": quantity, **extra}


async def draft(client: httpx.AsyncClient, party: Party, *lines: dict, **fields) -> httpx.Response:
    body = {"company_id": party.company["id"], "customer_id": party.customer["id"], "lines": list(lines), **fields}
    return await client.post(f"{API}/invoices", json=body, headers=party.account.headers)


async def issue(client: httpx.AsyncClient, party: Party, invoice: dict) -> httpx.Response:
    return await client.post(f"{API}/invoices/{invoice['id']}/issue", headers=party.account.headers)


async def void(client: httpx.AsyncClient, party: Party, invoice: dict) -> httpx.Response:
    return await client.post(
        f"{API}/invoices/{invoice['id']}/void", json={"reason": "Cancelled"}, headers=party.account.headers
    )


def ok(response: httpx.Response, status: int = 200) -> dict:
    assert response.status_code == status, response.text
    return response.json()


@pytest.fixture
async def party(client, app) -> Shop:
    return Shop(await Party.make(client, await make_tenant(client)), client, app.state.runtime)


class TestLinesFromProducts:
    async def test_a_line_takes_name_hsn_unit_price_and_rate_from_the_product(self, client, party):
        product = await party.product(name="Tata Salt 1 kg", hsn_code="25010020", sale_price="28.00")
        invoice = ok(await draft(client, party, sells(product, "3")), 201)
        got = invoice["lines"][0]
        assert got["product_id"] == product["id"]
        assert (got["description"], got["hsn_sac"], got["unit"]) == ("Tata Salt 1 kg", "25010020", "NOS")
        assert (got["unit_price"], got["gst_rate"], got["taxable_value"]) == ("28.0000", "5.00", "84.00")
        read = ok(await client.get(f"{API}/invoices/{invoice['id']}", headers=party.account.headers))
        assert read["lines"][0]["product_id"] == product["id"]

    async def test_description_price_and_rate_may_be_overridden(self, client, party):
        product = await party.product()
        sent = sells(product, "2", description="Rice, festival pack", unit_price="90.00", gst_rate="12")
        got = ok(await draft(client, party, sent), 201)["lines"][0]
        assert (got["description"], got["unit_price"], got["gst_rate"]) == ("Rice, festival pack", "90.0000", "12.00")
        assert (got["hsn_sac"], got["unit"]) == ("10063020", "NOS")

    async def test_a_line_cannot_sell_above_the_products_mrp(self, client, party):
        product = await party.product(sale_price="100.00", price_includes_tax=True, gst_rate="18", mrp="100.00")
        assert ok(await draft(client, party, sells(product, "7")), 201)["total"] == "700.00"
        for override in ({"unit_price": "90.00"}, {"gst_rate": "28", "unit_price": "84.75"}):
            problem = assert_problem(await draft(client, party, sells(product, **override)), 400, "price-above-mrp")
            assert problem["errors"][0]["loc"] == ["body", "lines.0.unit_price"]
        invoices = ok(await client.get(f"{API}/invoices", headers=party.account.headers))["items"]
        assert len(invoices) == 1

    async def test_a_shop_that_charges_no_gst_sells_at_the_sticker_price(self, client, party):
        """An unregistered company, and a composition taxpayer, issue bills of supply: a product
        line's rate defaults to 0 and a tax-inclusive price is what the customer pays."""
        product = await party.product(sale_price="100.00", price_includes_tax=True, gst_rate="18")
        body = {"legal_name": "Gupta Kirana", "state_code": "29"}
        unregistered = ok(await client.post(f"{API}/companies", json=body, headers=party.account.headers), 201)
        sale = {"company_id": unregistered["id"], "customer_id": party.customer["id"], "lines": [sells(product, "2")]}
        invoice = ok(await client.post(f"{API}/invoices", json=sale, headers=party.account.headers), 201)
        assert (invoice["lines"][0]["gst_rate"], invoice["total"], invoice["tax_total"]) == ("0.00", "200.00", "0.00")
        settings = {"registration_type": "composition"}
        ok(await client.put(f"{API}/gst-settings", json=settings, headers=party.account.headers))
        invoice = ok(await draft(client, party, sells(product, "3")), 201)
        assert (invoice["lines"][0]["gst_rate"], invoice["total"], invoice["document_type"]) == (
            "0.00",
            "300.00",
            "bill_of_supply",
        )

    async def test_hsn_and_unit_are_the_products(self, client, party):
        product = await party.product()
        problem = assert_problem(await draft(client, party, sells(product, unit="KGS")), 400, "product-line-fixed")
        assert problem["errors"][0]["loc"] == ["body", "lines.0.unit"]

    @pytest.mark.parametrize("rate", ["5", "12", "18", "28"])
    async def test_a_100_rupee_tax_inclusive_item_sells_at_100(self, client, party, rate):
        product = await party.product(price_includes_tax=True, gst_rate=rate)
        invoice = ok(await draft(client, party, sells(product)), 201)
        assert invoice["total"] == "100.00"
        assert D(invoice["lines"][0]["unit_price"]) == (D(100) * 100 / (100 + D(rate))).quantize(D("0.0001"))

    async def test_a_line_names_a_service_type_or_a_product_not_both(self, client, party):
        product = await party.product()
        service = await client.post(
            f"{API}/service-types",
            json={"name": "Delivery", "sac_hsn_code": "996812", "default_rate": "50.00", "default_gst_rate": "18"},
            headers=party.account.headers,
        )
        both = sells(product, service_type_id=ok(service, 201)["id"])
        assert_problem(await draft(client, party, both), 400, "line-service-and-product")

    @pytest.mark.parametrize(
        ("unit", "quantity", "status"), [("NOS", "1.5", 400), ("KGS", "1.5", 201), ("KGS", "0.25", 201)]
    )
    async def test_a_quantity_respects_the_units_precision(self, client, party, unit, quantity, status):
        product = await party.product(unit=unit)
        response = await draft(client, party, sells(product, quantity))
        if status == 201:
            assert ok(response, 201)["lines"][0]["quantity"] == D(quantity).quantize(D("0.001")).to_eng_string()
        else:
            problem = assert_problem(response, 400, "quantity-too-precise")
            assert problem["errors"][0]["loc"] == ["body", "lines.0.quantity"]

    async def test_another_tenants_product_is_404_and_writes_nothing(self, client, party):
        other = Shop(await Party.make(client, await make_tenant(client)), client, party.rt)
        theirs = await other.product()
        assert_problem(await draft(client, party, line(), sells(theirs)), 404, "product-not-found")
        assert_problem(await draft(client, party, sells(theirs), issue=True), 404, "product-not-found")
        listed = ok(await client.get(f"{API}/invoices", headers=party.account.headers))
        assert listed["items"] == []

    async def test_an_archived_product_cannot_go_on_a_new_draft(self, client, party):
        product = await party.product()
        await party.archive(product)
        problem = assert_problem(await draft(client, party, line(), sells(product)), 409, "product-archived")
        assert problem["lines"] == [{"position": 2, "product_id": product["id"]}]

    async def test_the_products_unit_prints_on_the_pdf(self, client, party):
        product = await party.product(name="Cooking oil", unit="LTR", hsn_code="15079010")
        await party.receive((product, "10"))
        invoice = ok(await draft(client, party, sells(product, "2.5"), issue=True), 201)
        text = pdf_text((await get_pdf(client, party.account, f"/invoices/{invoice['id']}/pdf")).content)
        assert "Cooking oil" in text and "LTR" in text and "15079010" in text


class TestIssueTakesStock:
    async def test_drafts_take_no_stock_issue_takes_it_void_gives_it_back(self, client, party):
        rice, oil = await party.product(), await party.product(unit="LTR")
        await party.receive((rice, "10"), (oil, "5.5"))
        invoice = ok(await draft(client, party, sells(rice, "3"), line(), sells(oil, "1.25"), sells(rice, "2")), 201)
        assert (await party.on_hand(rice), await party.on_hand(oil)) == (D(10), D("5.5"))
        assert [kind for kind, _ in await party.movements(rice)] == ["receipt"]

        issued = ok(await issue(client, party, invoice))
        assert issued["status"] == "issued"
        assert (await party.on_hand(rice), await party.on_hand(oil)) == (D(5), D("4.25"))
        assert await party.movements(rice) == [("receipt", D(10)), ("sale", D(-5))]
        assert await party.movements(oil) == [("receipt", D("5.5")), ("sale", D("-1.25"))]

        ok(await void(client, party, invoice))
        assert (await party.on_hand(rice), await party.on_hand(oil)) == (D(10), D("5.5"))
        assert await party.movements(rice) == [("receipt", D(10)), ("sale", D(-5)), ("sale_reversal", D(5))]
        assert await party.movements(oil) == [
            ("receipt", D("5.5")),
            ("sale", D("-1.25")),
            ("sale_reversal", D("1.25")),
        ]
        await party.levels_match_movements()

    async def test_create_with_issue_takes_the_stock(self, client, party):
        rice = await party.product()
        await party.receive((rice, "4"))
        ok(await draft(client, party, sells(rice, "4"), issue=True), 201)
        assert await party.on_hand(rice) == D(0)

    async def test_stock_is_taken_at_the_invoices_company(self, client, party):
        rice = await party.product()
        other = await make_company(client, party.account, state="27", legal_name="Sharma Traders Mumbai")
        await party.receive((rice, "5"), company=other)
        await party.receive((rice, "5"))
        ok(await draft(client, party, sells(rice, "2"), issue=True), 201)
        assert (await party.on_hand(rice), await party.on_hand(rice, other)) == (D(3), D(5))

    async def test_insufficient_stock_names_the_short_lines_and_writes_nothing(self, client, party):
        rice, oil, salt = [await party.product() for _ in range(3)]
        await party.receive((rice, "2"), (oil, "10"), (salt, "1"))
        first = ok(await draft(client, party, line(), issue=True), 201)  # numbered 1
        invoice = ok(await draft(client, party, sells(rice, "3"), sells(oil, "4"), sells(salt, "5")), 201)

        problem = assert_problem(await issue(client, party, invoice), 409, "insufficient-stock")
        short = {(ln["position"], ln["product_id"], D(ln["requested"]), D(ln["available"])) for ln in problem["lines"]}
        assert short == {(1, rice["id"], D(3), D(2)), (3, salt["id"], D(5), D(1))}
        # nothing written: levels, movements, the draft, the series
        assert [await party.on_hand(p) for p in (rice, oil, salt)] == [D(2), D(10), D(1)]
        assert [len(await party.movements(p)) for p in (rice, oil, salt)] == [1, 1, 1]
        read = ok(await client.get(f"{API}/invoices/{invoice['id']}", headers=party.account.headers))
        assert (read["status"], read["number"]) == ("draft", None)
        assert_problem(await draft(client, party, sells(salt, "5"), issue=True), 409, "insufficient-stock")
        listed = ok(await client.get(f"{API}/invoices", headers=party.account.headers))["items"]
        assert sorted(i["id"] for i in listed) == sorted([first["id"], invoice["id"]])  # the refused create wrote none

        await party.receive((rice, "1"), (salt, "4"))
        issued = ok(await issue(client, party, invoice))
        assert _seq(issued["number"]) == _seq(first["number"]) + 1  # the refused issues took no number
        assert [await party.on_hand(p) for p in (rice, oil, salt)] == [D(0), D(6), D(0)]
        await party.levels_match_movements()

    async def test_a_product_archived_after_the_draft_is_409_at_issue(self, client, party):
        rice = await party.product()
        await party.receive((rice, "5"))
        invoice = ok(await draft(client, party, line(), sells(rice, "1")), 201)
        await party.archive(rice)
        problem = assert_problem(await issue(client, party, invoice), 409, "product-archived")
        assert problem["lines"] == [{"position": 2, "product_id": rice["id"]}]
        assert await party.on_hand(rice) == D(5)

    async def test_void_and_restock_give_back_what_issue_took_though_the_product_stopped_tracking(self, client, party):
        rice = await party.product()
        await party.receive((rice, "10"))
        voided = ok(await draft(client, party, sells(rice, "4"), issue=True), 201)
        returned = ok(await draft(client, party, sells(rice, "3"), issue=True), 201)
        stop = await client.patch(
            f"{API}/products/{rice['id']}", json={"track_stock": False}, headers=party.account.headers
        )
        assert stop.status_code == 200, stop.text
        ok(await void(client, party, voided))
        lines = [{"invoice_line_id": returned["lines"][0]["id"], "quantity": "2"}]
        ok(await credit(client, party, returned, restock=True, lines=lines), 201)
        assert await party.on_hand(rice) == D(9)
        assert (await party.movements(rice))[-2:] == [("sale_reversal", D(4)), ("return", D(2))]
        await party.levels_match_movements()

    async def test_products_that_do_not_track_stock_never_move(self, client, party):
        service_like = await party.product(track_stock=False)
        invoice = ok(await draft(client, party, sells(service_like, "7"), issue=True), 201)
        assert invoice["status"] == "issued"
        ok(await void(client, party, invoice))
        assert await party.on_hand(service_like) is None
        assert await party.movements(service_like) == []


def _seq(number: str) -> int:
    return int(number.rsplit("/", 1)[1])


async def credit(client: httpx.AsyncClient, party: Party, invoice: dict, **body) -> httpx.Response:
    body = {"invoice_id": invoice["id"], "reason": "Goods returned", **body}
    return await client.post(f"{API}/credit-notes", json=body, headers=party.account.headers)


class TestCreditNotes:
    @pytest.fixture
    async def sold(self, client, party) -> tuple[dict, dict, dict]:
        rice, oil = await party.product(), await party.product(unit="KGS")
        await party.receive((rice, "10"), (oil, "10"))
        invoice = ok(await draft(client, party, sells(rice, "4"), line(), sells(oil, "2.5"), issue=True), 201)
        return invoice, rice, oil

    async def test_restock_returns_the_credited_units(self, client, party, sold):
        invoice, rice, oil = sold
        lines = [
            {"invoice_line_id": invoice["lines"][i]["id"], "quantity": q} for i, q in ((0, "3"), (1, "1"), (2, "0.5"))
        ]
        note = ok(await credit(client, party, invoice, restock=True, lines=lines), 201)
        assert note["restock"] is True
        assert (await party.on_hand(rice), await party.on_hand(oil)) == (D(9), D(8))
        assert (await party.movements(rice))[-1] == ("return", D(3))
        # the rest of the line, later: never more than was sold
        more = [{"invoice_line_id": invoice["lines"][0]["id"], "quantity": "2"}]
        assert_problem(await credit(client, party, invoice, restock=True, lines=more), 409, "line-quantity-exceeded")
        last = [{"invoice_line_id": invoice["lines"][0]["id"], "quantity": "1"}]
        ok(await credit(client, party, invoice, restock=True, lines=last), 201)
        assert await party.on_hand(rice) == D(10)

    async def test_a_product_line_is_credited_in_its_units_precision_restocked_or_not(self, client, party, sold):
        invoice, _, _ = sold
        half = [{"invoice_line_id": invoice["lines"][0]["id"], "quantity": "0.5"}]  # rice is sold in NOS
        for restock in (False, True):
            response = await credit(client, party, invoice, restock=restock, lines=half)
            assert_problem(response, 400, "quantity-too-precise")
            assert response.json()["errors"][0]["loc"] == ["body", "lines.0.quantity"]
        assert ok(await client.get(f"{API}/credit-notes", headers=party.account.headers))["items"] == []
        # a KGS line takes three decimals
        grams = [{"invoice_line_id": invoice["lines"][2]["id"], "quantity": "0.125"}]
        ok(await credit(client, party, invoice, lines=grams), 201)

    async def test_without_restock_the_goods_do_not_come_back(self, client, party, sold):
        invoice, rice, _ = sold
        note = ok(await credit(client, party, invoice, full=True), 201)
        assert note["restock"] is False
        assert await party.on_hand(rice) == D(6)
        assert [kind for kind, _ in await party.movements(rice)] == ["receipt", "sale"]

    async def test_a_full_credit_note_with_restock_returns_everything(self, client, party, sold):
        invoice, rice, oil = sold
        ok(await credit(client, party, invoice, full=True, restock=True), 201)
        assert (await party.on_hand(rice), await party.on_hand(oil)) == (D(10), D(10))

    async def test_a_full_credit_note_with_restock_returns_the_free_goods_too(self, client, party):
        rice, gift = await party.product(), await party.product(sale_price="50.00")
        await party.receive((rice, "10"), (gift, "10"))
        free = sells(gift, "1", discount="50.00")  # worth nothing: on no credit note line
        invoice = ok(await draft(client, party, sells(rice, "2"), free, issue=True), 201)
        note = ok(await credit(client, party, invoice, full=True, restock=True), 201)
        assert len(note["lines"]) == 1
        assert (await party.on_hand(rice), await party.on_hand(gift)) == (D(10), D(10))

    async def test_restock_needs_a_credit_by_quantity_of_a_product(self, client, party, sold):
        invoice, rice, _ = sold
        by_value = [{"invoice_line_id": invoice["lines"][0]["id"], "taxable_value": "10.00"}]
        assert_problem(await credit(client, party, invoice, restock=True, lines=by_value), 400, "restock-by-value")
        service_only = [{"invoice_line_id": invoice["lines"][1]["id"], "quantity": "1"}]
        assert_problem(
            await credit(client, party, invoice, restock=True, lines=service_only), 400, "restock-without-goods"
        )
        assert await party.on_hand(rice) == D(6)

    async def test_restock_of_a_part_of_a_unit_names_the_notes_line(self, client, party, sold):
        invoice, rice, _ = sold
        lines = [{"invoice_line_id": invoice["lines"][0]["id"], "quantity": "0.5"}]
        problem = assert_problem(
            await credit(client, party, invoice, restock=True, lines=lines), 400, "quantity-too-precise"
        )
        assert problem["errors"][0]["loc"] == ["body", "lines.0.quantity"]
        assert await party.on_hand(rice) == D(6)

    async def test_restock_of_goods_never_taken_from_stock_is_refused(self, client, party):
        untracked = await party.product(track_stock=False)
        invoice = ok(await draft(client, party, sells(untracked, "3"), issue=True), 201)
        lines = [{"invoice_line_id": invoice["lines"][0]["id"], "quantity": "1"}]
        assert_problem(await credit(client, party, invoice, restock=True, lines=lines), 400, "restock-without-goods")
        assert_problem(await credit(client, party, invoice, full=True, restock=True), 400, "restock-without-goods")
        notes = ok(await client.get(f"{API}/credit-notes", headers=party.account.headers))["items"]
        assert notes == []
        assert ok(await credit(client, party, invoice, restock=False, lines=lines), 201)["restock"] is False

    async def test_an_invoice_with_a_credit_note_cannot_be_voided(self, client, party, sold):
        invoice, rice, _ = sold
        lines = [{"invoice_line_id": invoice["lines"][0]["id"], "quantity": "1"}]
        ok(await credit(client, party, invoice, restock=True, lines=lines), 201)
        assert_problem(await void(client, party, invoice), 409, "invoice-has-settlements")
        assert await party.on_hand(rice) == D(7)


class TestStockKind:
    async def test_an_invoice_issued_with_stock_kind_none_moves_no_stock(self, client, party):
        """The stock transfer issues its tax invoice this way and writes its own movements."""
        rice = await party.product()
        await party.receive((rice, "5"))
        body = InvoiceIn.model_validate(
            {"company_id": party.company["id"], "customer_id": party.customer["id"], "lines": [sells(rice, "2")]}
        )
        async with party.rt.db.transaction(party.tenant_id) as session:
            ctx = party.rt.context(tenant_id=party.tenant_id, actor_id=uuid.UUID(party.account.user["id"]))
            invoice = await invoicing.create(session, ctx, body=body, issue=True, stock_kind=None)
            assert invoice.number is not None and invoice.lines[0].product_id == uuid.UUID(rice["id"])
        assert await party.on_hand(rice) == D(5)
        ok(await void(client, party, {"id": str(invoice.id)}))  # nothing was taken: nothing comes back
        assert [kind for kind, _ in await party.movements(rice)] == ["receipt"]

    async def test_a_draft_issued_with_stock_kind_none_moves_no_stock(self, client, party):
        rice = await party.product()
        await party.receive((rice, "5"))
        invoice = ok(await draft(client, party, sells(rice, "2")), 201)
        async with party.rt.db.transaction(party.tenant_id) as session:
            ctx = party.rt.context(tenant_id=party.tenant_id, actor_id=uuid.UUID(party.account.user["id"]))
            issued = await invoicing.issue(session, ctx, uuid.UUID(invoice["id"]), stock_kind=None)
            assert issued.status == "issued"
        assert await party.on_hand(rice) == D(5)


async def test_concurrent_issues_take_each_unit_once_and_number_without_gaps(live_server, app):
    """Eight drafts race for seven units of rice (two each; lines in either order with oil): exactly
    three issue, numbered 1..3, the five others are refused with nothing written, and the levels are
    the sum of the movements."""
    async with httpx.AsyncClient(base_url=live_server, timeout=60) as setup:
        party = Shop(await Party.make(setup, await make_tenant(setup)), setup, app.state.runtime)
        rice, oil = await party.product(), await party.product()
        await party.receive((rice, "7"), (oil, "10"))
        lines = [sells(rice, "2"), sells(oil, "1")]
        drafts = [ok(await draft(setup, party, *(lines if n % 2 else lines[::-1])), 201) for n in range(8)]
    clients = [httpx.AsyncClient(base_url=live_server, timeout=60) for _ in drafts]
    try:
        responses = await asyncio.gather(*(issue(c, party, d) for c, d in zip(clients, drafts, strict=True)))
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 3 + [409] * 5, [r.text for r in responses if r.status_code not in (200, 409)]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"insufficient-stock"}
    assert sorted(_seq(r.json()["number"]) for r in responses if r.status_code == 200) == [1, 2, 3]
    async with httpx.AsyncClient(base_url=live_server, timeout=60) as party.client:
        assert (await party.on_hand(rice), await party.on_hand(oil)) == (D(1), D(7))
    await party.levels_match_movements()
