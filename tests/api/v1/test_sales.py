"""POST /sales: the quick sale at the counter (issue 11 §4). Concurrency (80 sales against 50 in
stock, 20 replays of one key) is in test_sales_concurrency.py, against a served app."""

import uuid
from urllib.parse import unquote

import httpx
from sqlalchemy import select

from app.models.platform.audit import AuditLog
from tests.api.v1.http_checks import assert_problem
from tests.api.v1.invoicing import gstin, make_customer
from tests.api.v1.members import add_member
from tests.api.v1.selling import Shop, ean13
from tests.factories import API, make_tenant


def one(product: dict, quantity: str = "1", **extra) -> dict:
    return {"product_id": product["id"], "quantity": quantity, **extra}


class TestCashAndUpi:
    async def test_split_payment_with_change(self, app, client, today):
        shop = await Shop.open(app, client, await make_tenant(client))
        tea = await shop.product(client, stock="10")
        # 2 x ₹100 + 18 % = ₹236.00; ₹50 by UPI and a ₹200 note: ₹14 change, the cash receipt keeps ₹186.
        response = await shop.sell(
            client,
            [one(tea, "2")],
            [{"mode": "upi", "amount": "50.00", "reference": "UTR 4026"}, {"mode": "cash", "amount": "200.00"}],
        )
        assert response.status_code == 201, response.text
        sale = response.json()
        assert (sale["taxable_value"], sale["tax_total"], sale["round_off"], sale["total"]) == (
            "200.00",
            "36.00",
            "0.00",
            "236.00",
        )
        assert (sale["tendered"], sale["paid"], sale["change_due"], sale["on_credit"]) == (
            "250.00",
            "236.00",
            "14.00",
            "0.00",
        )
        assert sale["invoice_date"] == today.isoformat()
        assert sale["walk_in"] is True and sale["customer_balance"] == "0.00"
        assert [(r["mode"], r["amount"], r["reference"]) for r in sale["receipts"]] == [
            ("upi", "50.00", "UTR 4026"),
            ("cash", "186.00", None),
        ]
        assert (sale["lines"][0]["product_id"], sale["lines"][0]["quantity"], sale["lines"][0]["tax"]) == (
            tea["id"],
            "2.000",
            "36.00",
        )
        assert await shop.level(tea["id"]) == (8, 8)
        invoice = (await client.get(f"{API}/invoices/{sale['invoice_id']}", headers=shop.account.headers)).json()
        assert (invoice["number"], invoice["status"], invoice["balance_due"]) == (sale["number"], "paid", "0.00")
        assert invoice["lines"][0]["product_id"] == tea["id"]
        for receipt in sale["receipts"]:
            read = (await client.get(f"{API}/receipts/{receipt['id']}", headers=shop.account.headers)).json()
            assert (read["number"], read["amount"], read["amount_allocated"]) == (
                receipt["number"],
                receipt["amount"],
                receipt["amount"],
            )
            assert read["allocations"][0]["invoice_id"] == sale["invoice_id"]
        # What the counter prints or shares: the PDF, the public page, its WhatsApp message.
        assert sale["pdf_url"] == f"/api/v1/invoices/{sale['invoice_id']}/pdf"
        pdf = await client.get(sale["pdf_url"], headers=shop.account.headers)
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        assert sale["share"]["whatsapp_url"].startswith("https://wa.me/?text=")
        assert f"Invoice {sale['number']} from " in unquote(sale["share"]["whatsapp_url"])
        assert sale["share"]["url"] in unquote(sale["share"]["whatsapp_url"])
        page = await client.get(httpx.URL(sale["share"]["url"]).path)
        assert page.status_code == 200 and sale["number"] in page.text
        public_pdf = await client.get(httpx.URL(sale["share"]["pdf_url"]).path)
        assert public_pdf.status_code == 200 and public_pdf.content.startswith(b"%PDF")

    async def test_cash_beyond_the_total_while_another_mode_covers_it_is_all_change(self, app, client):
        shop = await Shop.open(app, client, await make_tenant(client))
        tea = await shop.product(client)
        response = await shop.sell(
            client, [one(tea)], [{"mode": "card", "amount": "118.00"}, {"mode": "cash", "amount": "20.00"}]
        )
        assert response.status_code == 201, response.text
        sale = response.json()
        assert (sale["change_due"], sale["paid"]) == ("20.00", "118.00")
        assert [(r["mode"], r["amount"]) for r in sale["receipts"]] == [("card", "118.00")]

    async def test_barcode_lines_and_a_price_and_discount_given_at_the_counter(self, app, client):
        shop = await Shop.open(app, client, await make_tenant(client))
        code = ean13("890103086527")
        soap = await shop.product(client, barcode=code, sale_price="40.00", gst_rate="18")
        tea = await shop.product(client)
        response = await shop.sell(
            client,
            [
                {"barcode": code, "quantity": "3"},
                {"barcode": code, "quantity": "1", "price": "30.00", "discount": "5.00"},
                one(tea),
            ],
            [{"mode": "cash", "amount": "300.00"}],
        )
        assert response.status_code == 201, response.text
        lines = response.json()["lines"]
        assert [(ln["product_id"], ln["quantity"], ln["taxable_value"]) for ln in lines] == [
            (soap["id"], "3.000", "120.00"),
            (soap["id"], "1.000", "25.00"),
            (tea["id"], "1.000", "100.00"),
        ]
        assert await shop.level(soap["id"]) == (96, 96)


class TestWalkIn:
    async def test_place_of_supply_is_the_shops_state_whoever_buys(self, app, client):
        owner = await make_tenant(client)
        mumbai = await Shop.open(app, client, owner, state="27", legal_name="Sharma Traders Mumbai")
        bengaluru = await Shop.open(app, client, owner, state="29", legal_name="Sharma Traders Bengaluru")
        tea = await mumbai.product(client)
        await bengaluru.receive(tea["id"], "5")
        cash = [{"mode": "cash", "amount": "118.00"}]
        in_mumbai = (await mumbai.sell(client, [one(tea)], cash)).json()
        in_bengaluru = (await bengaluru.sell(client, [one(tea)], cash)).json()
        assert (in_mumbai["place_of_supply"], in_mumbai["supply_type"]) == ("27", "intra_state")
        assert (in_bengaluru["place_of_supply"], in_bengaluru["supply_type"]) == ("29", "intra_state")
        assert in_mumbai["customer_id"] != in_bengaluru["customer_id"]  # a walk-in customer per company
        again = (await mumbai.sell(client, [one(tea)], cash)).json()
        assert again["customer_id"] == in_mumbai["customer_id"] and again["customer_name"] == "Walk-in customer"
        # A named customer from Karnataka buying at the Mumbai counter: supplied in Maharashtra.
        visitor = await make_customer(client, owner, billing_address={"state_code": "29"}, name="Visiting Buyer")
        named = (await mumbai.sell(client, [one(tea)], cash, customer_id=visitor["id"])).json()
        assert (named["place_of_supply"], named["supply_type"], named["walk_in"]) == ("27", "intra_state", False)

    async def test_the_walk_in_follows_its_company_into_another_state(self, app, client):
        shop = await Shop.open(app, client, await make_tenant(client))
        tea = await shop.product(client)
        cash = [{"mode": "cash", "amount": "118.00"}]
        first = (await shop.sell(client, [one(tea)], cash)).json()
        moved = {"gstin": gstin("27", pan="AAPFU0939F")}  # the business re-registered in Maharashtra
        response = await client.patch(f"{API}/companies/{shop.company['id']}", json=moved, headers=shop.account.headers)
        assert response.status_code == 200, response.text
        again = (await shop.sell(client, [one(tea)], cash)).json()
        assert again["customer_id"] == first["customer_id"]
        assert (first["place_of_supply"], again["place_of_supply"], again["supply_type"]) == ("29", "27", "intra_state")
        walk_in = (await client.get(f"{API}/customers/{again['customer_id']}", headers=shop.account.headers)).json()
        assert walk_in["billing_address"]["state_code"] == "27"

    async def test_walk_ins_are_hidden_uncounted_and_cannot_be_edited(self, app, client):
        shop = await Shop.open(app, client, await make_tenant(client))
        tea = await shop.product(client)
        sale = (await shop.sell(client, [one(tea)], [{"mode": "cash", "amount": "118.00"}])).json()
        headers = shop.account.headers
        listed = (await client.get(f"{API}/customers", headers=headers)).json()["items"]
        assert sale["customer_id"] not in [c["id"] for c in listed]
        walk_ins = (await client.get(f"{API}/customers", params={"walk_in": "true"}, headers=headers)).json()["items"]
        assert [(c["id"], c["walk_in_company_id"], c["billing_address"]["state_code"]) for c in walk_ins] == [
            (sale["customer_id"], shop.company["id"], "29")
        ]
        usage = (await client.get(f"{API}/tenants/subscription", headers=headers)).json()
        assert usage["limits"]["customers"]["used"] == 0
        url = f"{API}/customers/{sale['customer_id']}"
        assert_problem(await client.patch(url, json={"name": "Someone"}, headers=headers), 409, "walk-in-customer")
        assert_problem(await client.delete(url, headers=headers), 409, "walk-in-customer")
        assert (await client.get(url, headers=headers)).json()["name"] == "Walk-in customer"


class TestUdhaar:
    async def test_within_the_credit_limit(self, app, client):
        owner = await make_tenant(client)
        shop = await Shop.open(app, client, owner)
        tea = await shop.product(client)
        customer = await make_customer(client, owner, credit_limit="500.00", billing_address={"state_code": "29"})
        response = await shop.sell(
            client, [one(tea, "2")], [{"mode": "cash", "amount": "36.00"}], customer_id=customer["id"], on_credit=True
        )
        assert response.status_code == 201, response.text
        sale = response.json()
        assert (sale["paid"], sale["on_credit"], sale["customer_balance"]) == ("36.00", "200.00", "200.00")
        invoice = (await client.get(f"{API}/invoices/{sale['invoice_id']}", headers=owner.headers)).json()
        assert (invoice["status"], invoice["balance_due"]) == ("partially_paid", "200.00")
        # All on credit, no payment: the balance reaches the limit exactly (allowed), 236 + 200 = 436.
        response = await shop.sell(client, [one(tea, "2")], customer_id=customer["id"], on_credit=True)
        assert response.status_code == 201, response.text
        assert (response.json()["receipts"], response.json()["customer_balance"]) == ([], "436.00")

    async def test_over_the_limit_409_then_an_owner_overrides_and_an_accountant_may_not(self, app, client, mailbox):
        owner = await make_tenant(client)
        shop = await Shop.open(app, client, owner)
        tea = await shop.product(client, stock="5")
        customer = await make_customer(client, owner, credit_limit="100.00", billing_address={"state_code": "29"})
        sale = {"customer_id": customer["id"], "on_credit": True}
        cash = [{"mode": "cash", "amount": "18.00"}]
        before = await shop.counts()
        over = assert_problem(await shop.sell(client, [one(tea, "2")], cash, **sale), 409, "credit-limit-exceeded")
        assert (over["credit_limit"], over["balance"], over["unpaid"]) == ("100.00", "0.00", "218.00")
        assert await shop.counts() == before and await shop.level(tea["id"]) == (5, 5)
        accountant = await add_member(client, mailbox, owner, "accountant")
        refused = await shop.sell(client, [one(tea, "2")], cash, account=accountant, override_credit_limit=True, **sale)
        assert_problem(refused, 403, "credit-override-forbidden")
        assert await shop.counts() == before
        # An accountant may still sell on credit within the limit.
        within = await shop.sell(client, [one(tea)], [{"mode": "upi", "amount": "18.00"}], account=accountant, **sale)
        assert within.status_code == 201, within.text
        assert within.json()["customer_balance"] == "100.00"
        allowed = await shop.sell(client, [one(tea, "2")], cash, override_credit_limit=True, **sale)
        assert allowed.status_code == 201, allowed.text
        assert (allowed.json()["credit_limit_overridden"], allowed.json()["customer_balance"]) == (True, "318.00")
        async with app.state.runtime.db.transaction(shop.tenant) as session:
            rows = (
                (await session.execute(select(AuditLog).where(AuditLog.action == "customer.credit_limit_overridden")))
                .scalars()
                .all()
            )
        assert [(str(r.entity_id), r.after["unpaid"], str(r.actor_user_id)) for r in rows] == [
            (customer["id"], "218.00", owner.user["id"])
        ]


class TestBadInput:
    """Each refusal is a clean problem and writes nothing: no invoice, no receipt, no movement, no
    walk-in customer, the stock as it was."""

    async def test_each_refusal_writes_nothing(self, app, client):
        owner = await make_tenant(client)
        shop = await Shop.open(app, client, owner)
        tea = await shop.product(client, stock="3")
        loose = await shop.product(client, unit="KGS", sale_price="50.00")
        other = await Shop.open(app, client, await make_tenant(client))
        theirs = await other.product(client)
        their_customer = await make_customer(client, other.account)
        cash = [{"mode": "cash", "amount": "1000.00"}]
        cases = [
            (422, None, [one(tea, "0")], cash, {}),
            (422, None, [one(tea, "-1")], cash, {}),
            (400, "quantity-too-precise", [one(tea, "1.5")], cash, {}),  # NOS: whole units
            (422, None, [one(loose, "0.0001")], cash, {}),  # beyond any unit's places
            (422, None, [{"product_id": tea["id"], "barcode": ean13("400638133393"), "quantity": "1"}], cash, {}),
            (422, None, [{"quantity": "1"}], cash, {}),
            (404, "product-not-found", [{"barcode": ean13("400638133393"), "quantity": "1"}], cash, {}),
            (404, "product-not-found", [one(theirs)], cash, {}),
            (404, "customer-not-found", [one(tea)], cash, {"customer_id": their_customer["id"]}),
            (404, "company-not-found", [one(tea)], cash, {"company_id": other.company["id"]}),
            (409, "insufficient-stock", [one(tea, "4")], cash, {}),
            (400, "sale-underpaid", [one(tea)], [{"mode": "cash", "amount": "100.00"}], {}),
            (400, "overpayment-not-cash", [one(tea)], [{"mode": "upi", "amount": "200.00"}], {}),
            (
                400,
                "overpayment-not-cash",
                [one(tea)],
                [{"mode": "card", "amount": "150.00"}, {"mode": "cash", "amount": "10.00"}],
                {},
            ),
            (400, "credit-needs-customer", [one(tea)], [], {"on_credit": True}),
            (422, None, [one(tea)], [{"mode": "cheque", "amount": "118.00"}], {}),
            (422, None, [one(tea)], [{"mode": "cash", "amount": "0.00"}], {}),
            (422, None, [one(tea)], cash, {"total": "1.00"}),
        ]
        before = await shop.counts()
        for status, code, lines, payments, extra in cases:
            response = await shop.sell(client, lines, payments, **extra)
            assert_problem(response, status, code)
            assert await shop.counts() == before, (lines, payments, extra)
        assert await shop.level(tea["id"]) == (3, 3)
        assert before == {"invoices": 0, "receipts": 0, "movements": 0, "walk_ins": 0}
        # No key: refused by the schema (422) and nothing sold.
        body = {"company_id": shop.company["id"], "lines": [one(tea)], "payments": cash}
        assert_problem(await client.post(f"{API}/sales", json=body, headers=owner.headers), 422)
        assert await shop.counts() == before

    async def test_an_insufficient_stock_refusal_names_each_short_line(self, app, client):
        shop = await Shop.open(app, client, await make_tenant(client))
        tea, salt = await shop.product(client, stock="2"), await shop.product(client, stock="1")
        response = await shop.sell(client, [one(tea, "1"), one(salt, "3"), one(tea, "2")], [])
        body = assert_problem(response, 409, "insufficient-stock")
        short = {line["product_id"] for line in body["lines"]}
        assert short == {tea["id"], salt["id"]}


class TestIdempotency:
    async def test_a_retry_returns_the_same_sale_and_another_body_is_422(self, app, client):
        shop = await Shop.open(app, client, await make_tenant(client))
        tea = await shop.product(client, stock="5")
        key = f"counter-{uuid.uuid4()}"
        cash = [{"mode": "cash", "amount": "500.00"}]
        first = await shop.sell(client, [one(tea)], cash, key=key)
        again = await shop.sell(client, [one(tea)], cash, key=key)
        assert first.status_code == again.status_code == 201
        assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
        assert_problem(await shop.sell(client, [one(tea, "2")], cash, key=key), 422, "idempotency-key-reused")
        assert await shop.level(tea["id"]) == (4, 4)
        assert (await shop.counts())["invoices"] == 1
