"""POST /stock/transfers (issue 11 §2): goods between two companies of a tenant in one transaction,
with the GST paperwork each case needs: a tax invoice between two GSTINs (IGST across states,
CGST + SGST within one), a delivery challan between two unregistered places of one person, and a
clear 422 for what is not handled. Through the HTTP API on a real PostgreSQL; the opening stock
is put through the stock ledger's own primitive (app.services.catalog.stock.put)."""

import asyncio
import uuid
from decimal import ROUND_HALF_UP
from decimal import Decimal as D

import httpx
import pytest
from sqlalchemy import func, select

from app.models.billing.customer import Customer
from app.models.billing.invoice import Invoice
from app.models.catalog.stock import StockDocument, StockLevel, StockMovement
from app.models.platform.audit import AuditLog
from app.services.catalog import stock
from tests.api.v1.customer_rows import gstin
from tests.api.v1.http_checks import assert_problem
from tests.api.v1.invoicing import make_company
from tests.api.v1.subscription_rows import put_on_plan
from tests.factories import API, Account, make_tenant

TRANSFERS = f"{API}/stock/transfers"
PAN = "AAPFU0939F"
N = 0


@pytest.fixture
def rt(app):
    return app.state.runtime


async def make_product(client: httpx.AsyncClient, owner: Account, **fields) -> dict:
    global N
    N += 1
    body = {
        "name": f"Basmati rice 5 kg {N}",
        "sku": f"RICE-T{N}",
        "hsn_code": "10063020",
        "unit": "NOS",
        "sale_price": "450.00",
        "purchase_cost": "380.00",
        "gst_rate": "5",
    } | fields
    response = await client.post(f"{API}/products", json=body, headers=owner.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def stock_in(rt, owner: Account, company: dict, product: dict, quantity: str) -> None:
    """Opening stock, through the ledger's primitive."""
    tenant = uuid.UUID(owner.tenant_id)
    async with rt.db.transaction(tenant) as session:
        await stock.put(
            session,
            rt.context(tenant_id=tenant),
            company_id=uuid.UUID(company["id"]),
            lines=[stock.StockLine(uuid.UUID(product["id"]), D(quantity))],
            kind="opening",
            document=stock.DocumentRef("stock_document", uuid.uuid4()),
        )


async def level(rt, owner: Account, company: dict, product: dict) -> D | None:
    async with rt.db.transaction(uuid.UUID(owner.tenant_id)) as session:
        stmt = select(StockLevel.on_hand).where(
            StockLevel.company_id == uuid.UUID(company["id"]), StockLevel.product_id == uuid.UUID(product["id"])
        )
        return (await session.execute(stmt)).scalar_one_or_none()


async def count(rt, owner: Account, model, *where) -> int:
    async with rt.db.transaction(uuid.UUID(owner.tenant_id)) as session:
        return (await session.execute(select(func.count()).select_from(model).where(*where))).scalar_one()


async def transfer(client, owner: Account, source: dict, destination: dict, *lines: dict, **fields) -> httpx.Response:
    headers = owner.headers | fields.pop("headers", {})
    body = {"from_company_id": source["id"], "to_company_id": destination["id"], "lines": list(lines)} | fields
    return await client.post(TRANSFERS, json=body, headers=headers)


def of(product: dict, quantity: str, **extra) -> dict:
    return {"product_id": product["id"], "quantity": quantity, **extra}


async def get_invoice(client, owner: Account, invoice_id: str) -> dict:
    response = await client.get(f"{API}/invoices/{invoice_id}", headers=owner.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def registered_pair(client, owner: Account, to_state: str = "27") -> tuple[dict, dict]:
    """Two registrations of one PAN: Karnataka and `to_state` (another entity code when the same state)."""
    source = await make_company(client, owner, state="29", gstin=gstin("29", pan=PAN))
    entity = "2" if to_state == "29" else "1"
    destination = await make_company(
        client,
        owner,
        state=to_state,
        gstin=gstin(to_state, pan=PAN, entity=entity),
        trade_name="Sharma Branch",
        address_line1="12 FC Road",
        city="Pune",
        pincode="411004",
    )
    return source, destination


async def unregistered(client, owner: Account, name: str, pan: str | None = None) -> dict:
    body = {"legal_name": name, "state_code": "29"} | ({"pan": pan} if pan else {})
    response = await client.post(f"{API}/companies", json=body, headers=owner.headers)
    assert response.status_code == 201, response.text
    return response.json()


class TestBetweenTwoRegistrations:
    async def test_across_states_a_tax_invoice_with_igst_and_the_stock_moved(self, client, rt, today):
        owner = await make_tenant(client)
        source, destination = await registered_pair(client, owner, to_state="27")
        rice = await make_product(client, owner, reorder_level="10")
        dal = await make_product(client, owner, name="Toor dal 1 kg", unit="KGS", gst_rate="5", purchase_cost=None)
        await stock_in(rt, owner, source, rice, "30")
        await stock_in(rt, owner, source, dal, "10.5")

        response = await transfer(
            client, owner, source, destination, of(rice, "24"), of(dal, "2.25", unit_value="90.50"), notes="Diwali"
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["paperwork"] == "tax_invoice" and body["kind"] == "transfer"
        assert (body["from_company_id"], body["to_company_id"]) == (source["id"], destination["id"])
        assert [
            (line["position"], line["quantity"], line["unit_value"], line["on_hand_from"], line["on_hand_to"])
            for line in body["lines"]
        ] == [(1, "24.000", "380.0000", "6.000", "24.000"), (2, "2.250", "90.5000", "8.250", "2.250")]
        assert body["notes"] == "Diwali" and body["document_date"] == today.isoformat()
        assert await level(rt, owner, source, rice) == D("6") and await level(rt, owner, destination, rice) == D(24)

        invoice = await get_invoice(client, owner, body["invoice_id"])
        assert invoice["number"] == body["invoice_number"] and invoice["status"] == "issued"
        assert invoice["company_id"] == source["id"] and invoice["place_of_supply"] == "27"
        assert invoice["supply_type"] == "inter_state"
        assert [(line["description"], line["hsn_sac"], line["unit"]) for line in invoice["lines"]] == [
            (rice["name"], "10063020", "NOS"),
            (dal["name"], "10063020", "KGS"),
        ]
        taxable = D("24") * D("380") + (D("2.25") * D("90.50")).quantize(D("0.01"), ROUND_HALF_UP)  # 203.625
        assert D(invoice["taxable_value"]) == taxable
        assert sum(D(line["igst_amount"]) for line in invoice["lines"]) == D(invoice["tax_total"]) > 0
        assert all(D(line["cgst_amount"]) == 0 for line in invoice["lines"])
        recipient = await client.get(f"{API}/customers/{invoice['customer_id']}", headers=owner.headers)
        customer = recipient.json()
        assert customer["gstin"] == destination["gstin"] and customer["name"] == destination["legal_name"]
        assert customer["billing_address"]["city"] == "Pune" and customer["payment_reminders"] is False

        document = uuid.UUID(body["id"])
        async with rt.db.transaction(uuid.UUID(owner.tenant_id)) as session:
            moves = (
                await session.execute(
                    select(StockMovement.kind, StockMovement.company_id, StockMovement.on_hand_change)
                    .where(StockMovement.document_id == document, StockMovement.document_type == "stock_document")
                    .order_by(StockMovement.kind, StockMovement.on_hand_change)
                )
            ).all()
            row = await session.get(StockDocument, (uuid.UUID(owner.tenant_id), document))
            audit = (await session.execute(select(AuditLog.action).where(AuditLog.entity_id == document))).scalars()
            assert list(audit) == ["stock_transfer.created"]
        assert row.kind == "transfer" and str(row.invoice_id) == body["invoice_id"] and row.notes == "Diwali"
        assert sorted((k, str(c), q) for k, c, q in moves) == sorted(
            [
                ("transfer_in", destination["id"], D("24")),
                ("transfer_in", destination["id"], D("2.25")),
                ("transfer_out", source["id"], D("-24")),
                ("transfer_out", source["id"], D("-2.25")),
            ]
        )
        read = await client.get(f"{API}/stock/documents/{body['id']}", headers=owner.headers)
        assert read.status_code == 200, read.text
        assert read.json() | {"lines": None} == read.json() | {
            "kind": "transfer",
            "company_id": source["id"],
            "to_company_id": destination["id"],
            "invoice_id": body["invoice_id"],
            "lines": None,
        }
        # the invoice took no stock of its own (stock_kind=None): only the transfer's movements exist
        assert await count(rt, owner, StockMovement, StockMovement.document_type == "invoice") == 0

        # the source went below the reorder level: its low-stock alert is listed
        alerts = (await client.get(f"{API}/stock/alerts", headers=owner.headers)).json()["items"]
        assert [(a["product_id"], a["company_id"], a["available"], a["reorder_level"]) for a in alerts] == [
            (rice["id"], source["id"], "6.000", "10.000")
        ]

    async def test_within_a_state_cgst_and_sgst_and_the_same_customer_next_time(self, client, rt):
        owner = await make_tenant(client)
        source, destination = await registered_pair(client, owner, to_state="29")
        rice = await make_product(client, owner)
        await stock_in(rt, owner, source, rice, "10")
        first = (await transfer(client, owner, source, destination, of(rice, "3", unit_value="400"))).json()
        second = (await transfer(client, owner, source, destination, of(rice, "2"))).json()
        one, two = [await get_invoice(client, owner, t["invoice_id"]) for t in (first, second)]
        assert one["supply_type"] == "intra_state" and D(one["taxable_value"]) == D("1200.00")
        assert D(one["lines"][0]["cgst_amount"]) == D(one["lines"][0]["sgst_amount"]) == D("30.00")
        assert D(one["lines"][0]["igst_amount"]) == 0
        assert D(two["taxable_value"]) == D("760.00")  # the purchase cost
        assert one["customer_id"] == two["customer_id"]
        tenant = uuid.UUID(owner.tenant_id)
        assert await count(rt, owner, Customer, Customer.tenant_id == tenant) == 1

    async def test_no_value_and_no_purchase_cost_is_422_naming_the_lines(self, client, rt):
        owner = await make_tenant(client)
        source, destination = await registered_pair(client, owner)
        priced = await make_product(client, owner)
        unpriced = await make_product(client, owner, purchase_cost=None)
        await stock_in(rt, owner, source, priced, "5")
        await stock_in(rt, owner, source, unpriced, "5")
        response = await transfer(client, owner, source, destination, of(priced, "1"), of(unpriced, "1"))
        problem = assert_problem(response, 422, "transfer-value-required")
        assert "line 2" in problem["detail"] and problem["errors"][0]["loc"] == ["body", "lines.1.unit_value"]
        assert await level(rt, owner, source, unpriced) == D(5)
        assert await count(rt, owner, StockDocument, StockDocument.kind == "transfer") == 0

    async def test_own_registrations_do_not_count_against_the_customer_limit(self, client, app, rt):
        owner = await make_tenant(client)
        source, destination = await registered_pair(client, owner)
        rice = await make_product(client, owner)
        await stock_in(rt, owner, source, rice, "5")
        tenant = uuid.UUID(owner.tenant_id)
        async with rt.db.transaction(tenant) as session:
            session.add_all(
                Customer(tenant_id=tenant, name=f"Customer {i}", billing_state_code="29", balance=D(0))
                for i in range(50)
            )
        await put_on_plan(app, owner.tenant_id, "free", "free")
        over = await client.post(
            f"{API}/customers",
            json={"name": "One more", "billing_address": {"state_code": "29"}},
            headers=owner.headers,
        )
        assert_problem(over, 402, "quota-exceeded")
        response = await transfer(client, owner, source, destination, of(rice, "1"))
        assert response.status_code == 201, response.text
        limits = (await client.get(f"{API}/tenants/subscription", headers=owner.headers)).json()["limits"]
        assert limits["customers"] == {"limit": 50, "used": 50}

    async def test_only_one_customer_per_own_registration_is_left_out_of_the_limit(self, client, app, rt):
        """Giving customers the business's own GSTIN (then changing it) is no way around the limit."""
        owner = await make_tenant(client)
        _, destination = await registered_pair(client, owner)
        tenant = uuid.UUID(owner.tenant_id)
        async with rt.db.transaction(tenant) as session:
            session.add_all(
                Customer(tenant_id=tenant, name=f"Customer {i}", billing_state_code="29", balance=D(0))
                for i in range(49)
            )
        await put_on_plan(app, owner.tenant_id, "free", "free")

        async def add(name: str) -> httpx.Response:
            body = {"name": name, "gstin": destination["gstin"]}
            return await client.post(f"{API}/customers", json=body, headers=owner.headers)

        first = await add("Sharma Branch")
        assert first.status_code == 201, first.text  # the own registration: left out (49 used)
        assert (await add("Second with our GSTIN")).status_code == 201  # counts: 50 used
        assert_problem(await add("Third with our GSTIN"), 402, "quota-exceeded")
        limits = (await client.get(f"{API}/tenants/subscription", headers=owner.headers)).json()["limits"]
        assert limits["customers"] == {"limit": 50, "used": 50}
        unregistered = {"gstin": None, "billing_address": {"state_code": "29"}}
        changed = await client.patch(f"{API}/customers/{first.json()['id']}", json=unregistered, headers=owner.headers)
        assert_problem(changed, 402, "quota-exceeded")
        assert (await client.get(f"{API}/customers/{first.json()['id']}", headers=owner.headers)).json()["gstin"]


class TestAllOrNothing:
    async def test_short_stock_is_409_naming_the_line_and_writes_nothing_not_even_a_number(self, client, rt):
        owner = await make_tenant(client)
        source, destination = await registered_pair(client, owner)
        rice, dal = await make_product(client, owner), await make_product(client, owner)
        await stock_in(rt, owner, source, rice, "10")
        await stock_in(rt, owner, source, dal, "1")
        response = await transfer(client, owner, source, destination, of(rice, "4"), of(dal, "2"))
        problem = assert_problem(response, 409, "insufficient-stock")
        assert problem["lines"] == [{"position": 2, "product_id": dal["id"], "requested": "2", "available": "1"}]
        assert await level(rt, owner, source, rice) == D(10) and await level(rt, owner, destination, rice) is None
        tenant = uuid.UUID(owner.tenant_id)
        assert await count(rt, owner, StockDocument, StockDocument.tenant_id == tenant) == 0
        assert await count(rt, owner, Invoice, Invoice.tenant_id == tenant) == 0
        assert await count(rt, owner, Customer, Customer.tenant_id == tenant) == 0
        assert await count(rt, owner, StockMovement, StockMovement.kind.in_(["transfer_in", "transfer_out"])) == 0

        done = (await transfer(client, owner, source, destination, of(rice, "4"), of(dal, "1"))).json()
        assert done["invoice_number"].endswith("/00001")  # the refused one used no number

    async def test_concurrent_transfers_never_take_the_same_unit_twice(self, client, rt):
        owner = await make_tenant(client)
        source, destination = await registered_pair(client, owner)
        rice = await make_product(client, owner)
        await stock_in(rt, owner, source, rice, "5")
        responses = await asyncio.gather(
            *(transfer(client, owner, source, destination, of(rice, "1")) for _ in range(8))
        )
        assert sorted(r.status_code for r in responses) == [201] * 5 + [409] * 3
        assert await level(rt, owner, source, rice) == 0 and await level(rt, owner, destination, rice) == D(5)
        numbers = sorted(r.json()["invoice_number"] for r in responses if r.status_code == 201)
        assert [n[-5:] for n in numbers] == ["00001", "00002", "00003", "00004", "00005"]

    async def test_transfers_the_opposite_ways_at_once_all_go_through(self, client, rt):
        """Levels are locked company by company in one order whichever way the goods go: twelve
        transfers each way at once neither deadlock nor lose a unit."""
        owner = await make_tenant(client)
        one, two = await registered_pair(client, owner)
        rice, dal = await make_product(client, owner), await make_product(client, owner)
        for company in (one, two):
            await stock_in(rt, owner, company, rice, "50")
            await stock_in(rt, owner, company, dal, "50")
        lines = (of(rice, "1"), of(dal, "2"))
        responses = await asyncio.gather(
            *(transfer(client, owner, *ends, *lines) for _ in range(12) for ends in ((one, two), (two, one)))
        )
        assert [r.status_code for r in responses] == [201] * 24, [r.text for r in responses if r.status_code != 201]
        for company in (one, two):
            assert await level(rt, owner, company, rice) == D(50) and await level(rt, owner, company, dal) == D(50)

    async def test_replayed_with_an_idempotency_key_it_moves_once(self, client, rt):
        owner = await make_tenant(client)
        source, destination = await registered_pair(client, owner)
        rice = await make_product(client, owner)
        await stock_in(rt, owner, source, rice, "5")
        key = {"Idempotency-Key": f"transfer-{uuid.uuid4()}"}
        first = await transfer(client, owner, source, destination, of(rice, "2"), headers=key)
        again = await transfer(client, owner, source, destination, of(rice, "2"), headers=key)
        assert first.status_code == again.status_code == 201 and first.json() == again.json()
        assert again.headers["Idempotent-Replayed"] == "true"
        assert await level(rt, owner, source, rice) == D(3)
        other = await transfer(client, owner, source, destination, of(rice, "1"), headers=key)
        assert_problem(other, 422, "idempotency-key-reused")


class TestTheInvoiceStaysWithItsStock:
    async def test_voiding_a_transfers_invoice_is_409(self, client, rt):
        owner = await make_tenant(client)
        source, destination = await registered_pair(client, owner)
        rice = await make_product(client, owner)
        await stock_in(rt, owner, source, rice, "5")
        body = (await transfer(client, owner, source, destination, of(rice, "2"))).json()
        void = f"{API}/invoices/{body['invoice_id']}/void"
        problem = assert_problem(
            await client.post(void, json={"reason": "by mistake"}, headers=owner.headers),
            409,
            "invoice-of-stock-transfer",
        )
        assert "transfer back" in problem["detail"]
        assert (await get_invoice(client, owner, body["invoice_id"]))["status"] == "issued"
        assert await level(rt, owner, source, rice) == D(3) and await level(rt, owner, destination, rice) == D(2)

        back = await transfer(client, owner, destination, source, of(rice, "2"))  # the way to reverse it
        assert back.status_code == 201, back.text
        assert await level(rt, owner, source, rice) == D(5) and await level(rt, owner, destination, rice) == 0
        returned = await get_invoice(client, owner, back.json()["invoice_id"])
        assert returned["company_id"] == destination["id"] and returned["supply_type"] == "inter_state"


class TestBetweenUnregisteredPlaces:
    async def test_a_delivery_challan_no_invoice_no_number(self, client, rt):
        owner = await make_tenant(client)
        shop = await unregistered(client, owner, "Sharma Kirana", pan=PAN)
        godown = await unregistered(client, owner, "Sharma Kirana Godown", pan=PAN)
        cheap = await make_product(client, owner, purchase_cost=None)
        await stock_in(rt, owner, godown, cheap, "12")
        response = await transfer(client, owner, godown, shop, of(cheap, "12"))
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["paperwork"] == "delivery_challan" and body["invoice_id"] is None is body["invoice_number"]
        assert body["lines"][0]["unit_value"] is None  # no value known: a challan may say none
        assert await level(rt, owner, godown, cheap) == 0 and await level(rt, owner, shop, cheap) == D(12)
        assert await count(rt, owner, Invoice, Invoice.tenant_id == uuid.UUID(owner.tenant_id)) == 0

    async def test_two_persons_by_their_pans_is_422(self, client, rt):
        owner = await make_tenant(client)
        one = await unregistered(client, owner, "Sharma Kirana", pan=PAN)
        other = await unregistered(client, owner, "Gupta Stores", pan="AABCT3518Q")
        rice = await make_product(client, owner)
        await stock_in(rt, owner, one, rice, "3")
        assert_problem(await transfer(client, owner, one, other, of(rice, "1")), 422, "transfer-between-persons")
        assert await level(rt, owner, one, rice) == D(3)


class TestRefused:
    async def test_exactly_one_registered_either_way_is_422(self, client, rt):
        owner = await make_tenant(client)
        registered = await make_company(client, owner)
        shop = await unregistered(client, owner, "Sharma Kirana")
        rice = await make_product(client, owner)
        await stock_in(rt, owner, registered, rice, "3")
        await stock_in(rt, owner, shop, rice, "3")
        for source, destination in ((registered, shop), (shop, registered)):
            problem = assert_problem(
                await transfer(client, owner, source, destination, of(rice, "1")), 422, "transfer-registration-mismatch"
            )
            assert "not handled" in problem["detail"]
        assert await level(rt, owner, registered, rice) == D(3) == await level(rt, owner, shop, rice)

    async def test_the_same_company_is_422(self, client, rt):
        owner = await make_tenant(client)
        company = await make_company(client, owner)
        rice = await make_product(client, owner)
        problem = assert_problem(
            await transfer(client, owner, company, company, of(rice, "1")), 422, "transfer-same-company"
        )
        assert problem["errors"][0]["loc"] == ["body", "to_company_id"]

    async def test_bad_lines_are_clear_4xx_and_write_nothing(self, client, rt):
        owner = await make_tenant(client)
        source, destination = await registered_pair(client, owner)
        rice = await make_product(client, owner)
        loose = await make_product(client, owner, unit="KGS")
        service = await make_product(client, owner, track_stock=False)
        old = await make_product(client, owner)
        await stock_in(rt, owner, source, rice, "5")
        await stock_in(rt, owner, source, old, "5")
        archived = await client.patch(f"{API}/products/{old['id']}", json={"is_archived": True}, headers=owner.headers)
        assert archived.status_code == 200, archived.text
        cases = [
            (of(rice, "1.5"), 400, "quantity-too-precise"),
            (of(loose, "0.0001"), 422, "validation-error"),
            (of(rice, "0"), 422, "validation-error"),
            (of(rice, "-1"), 422, "validation-error"),
            (of(service, "1"), 400, "product-not-tracked"),
            (of(old, "1"), 409, "product-archived"),
            ({"product_id": str(uuid.uuid4()), "quantity": "1"}, 404, "product-not-found"),
            (of(rice, "1", unit_value="-1"), 422, "validation-error"),
        ]
        for line, status, code in cases:
            assert_problem(await transfer(client, owner, source, destination, line), status, code)
        assert await level(rt, owner, source, rice) == D(5)
        assert await count(rt, owner, StockDocument, StockDocument.kind == "transfer") == 0

    async def test_another_tenants_company_or_product_is_404(self, client, rt):
        owner, stranger = await make_tenant(client), await make_tenant(client)
        source, destination = await registered_pair(client, owner)
        theirs = await make_company(client, stranger, state="27")
        their_rice = await make_product(client, stranger)
        rice = await make_product(client, owner)
        await stock_in(rt, owner, source, rice, "5")
        assert_problem(await transfer(client, owner, source, theirs, of(rice, "1")), 404, "company-not-found")
        assert_problem(await transfer(client, owner, theirs, destination, of(rice, "1")), 404, "company-not-found")
        assert_problem(
            await transfer(client, owner, source, destination, of(their_rice, "1")), 404, "product-not-found"
        )
        assert await level(rt, owner, source, rice) == D(5)

    async def test_an_archived_company_is_refused(self, client, rt):
        owner = await make_tenant(client)
        source, destination = await registered_pair(client, owner)
        rice = await make_product(client, owner)
        await stock_in(rt, owner, source, rice, "5")
        # archive: a company that documents refer to is archived by DELETE
        await transfer(client, owner, source, destination, of(rice, "1"))
        deleted = await client.delete(f"{API}/companies/{destination['id']}", headers=owner.headers)
        assert deleted.status_code in (200, 204), deleted.text
        assert_problem(await transfer(client, owner, source, destination, of(rice, "1")), 400, "company-archived")
