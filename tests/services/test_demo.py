"""The demo tenant `make run` creates: its owner logs in and finds sample billing data."""

import io
from urllib.parse import urlsplit

from pypdf import PdfReader

from app.core.runtime import Runtime
from app.services.platform.demo import ensure_demo_tenant
from tests.conftest import unique_email
from tests.factories import API, login


async def test_the_demo_tenant_comes_with_sample_documents_once(app, client, settings):
    demo = settings.model_copy(update={"demo_email": unique_email("demo")})
    rt = Runtime(settings=demo, db=app.state.runtime.db)
    assert await ensure_demo_tenant(rt.context()) is True
    assert await ensure_demo_tenant(rt.context()) is False
    owner = await login(client, demo.demo_email, demo.demo_password)
    invoices = (await client.get(f"{API}/invoices", headers=owner.headers)).json()["items"]
    assert sorted(i["status"] for i in invoices) == ["draft", "issued", "issued", "paid"]
    receipts = (await client.get(f"{API}/receipts", headers=owner.headers)).json()["items"]
    assert [r["amount"] for r in receipts] == ["5900.00"]
    customers = (await client.get(f"{API}/customers", headers=owner.headers)).json()["items"]
    assert {c["name"]: c["balance"] for c in customers} == {
        "Mumbai Textiles LLP": "8850.00",
        "Sharma Stores": "2228.00",
    }


async def test_the_demo_tenants_invoices_render_send_and_share(app, client, settings):
    """What `make run` promises from /docs: an issued demo invoice's PDF, its mail to the customer's
    address on file (into the outbox), and its share link's public page."""
    demo = settings.model_copy(update={"demo_email": unique_email("demo")})
    rt = Runtime(settings=demo, db=app.state.runtime.db)
    await ensure_demo_tenant(rt.context())
    owner = await login(client, demo.demo_email, demo.demo_password)
    invoices = (await client.get(f"{API}/invoices", headers=owner.headers)).json()["items"]
    issued = next(i for i in invoices if i["status"] == "issued")

    pdf = await client.get(f"{API}/invoices/{issued['id']}/pdf", headers=owner.headers)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert issued["number"] in "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)

    sent = await client.post(f"{API}/invoices/{issued['id']}/send", headers=owner.headers, json={})
    assert sent.status_code == 202, sent.text
    deliveries = (await client.get(f"{API}/invoices/{issued['id']}/deliveries", headers=owner.headers)).json()
    assert [d["to"] for d in deliveries["items"]] == [[issued_customer_email(issued)]]

    link = await client.post(f"{API}/invoices/{issued['id']}/share", headers=owner.headers, json={})
    assert link.status_code == 201, link.text
    page = await client.get(urlsplit(link.json()["url"]).path)
    assert page.status_code == 200 and issued["number"] in page.text


def issued_customer_email(invoice: dict) -> str:
    return {
        "Sharma Stores": "purchase@sharmastores.example.com",
        "Mumbai Textiles LLP": "accounts@mumbaitextiles.example.com",
    }[invoice["customer_name"]]


async def test_the_demo_tenant_has_a_small_catalogue(app, client, settings):
    demo = settings.model_copy(update={"demo_email": unique_email("demo")})
    rt = Runtime(settings=demo, db=app.state.runtime.db)
    await ensure_demo_tenant(rt.context())
    owner = await login(client, demo.demo_email, demo.demo_password)
    tree = (await client.get(f"{API}/product-categories/tree", headers=owner.headers)).json()["items"]
    assert [(c["name"], [s["name"] for s in c["children"]]) for c in tree] == [
        ("Beverages", []),
        ("Grocery", ["Staples"]),
    ]
    products = (await client.get(f"{API}/products", headers=owner.headers)).json()["items"]
    assert len(products) == 5 and all(p["reorder_level"] is not None for p in products)
    staples = tree[1]["children"][0]["id"]
    in_grocery = (
        await client.get(f"{API}/products", params={"category_id": tree[1]["id"]}, headers=owner.headers)
    ).json()
    assert {p["category_id"] for p in in_grocery["items"]} == {staples} and len(in_grocery["items"]) == 3
    scanned = (await client.get(f"{API}/products", params={"q": "2000000000015"}, headers=owner.headers)).json()
    assert [p["sku"] for p in scanned["items"]] == ["SALT-1KG"]


async def test_the_demo_tenant_has_opening_stock_one_product_low(app, client, settings):
    demo = settings.model_copy(update={"demo_email": unique_email("demo")})
    rt = Runtime(settings=demo, db=app.state.runtime.db)
    await ensure_demo_tenant(rt.context())
    owner = await login(client, demo.demo_email, demo.demo_password)
    levels = (await client.get(f"{API}/stock", headers=owner.headers)).json()["items"]
    assert len(levels) == 5 and all(float(level["on_hand"]) > 0 for level in levels)
    low = (await client.get(f"{API}/stock", params={"low": "true"}, headers=owner.headers)).json()["items"]
    assert len(low) == 1 and low[0]["available"] == low[0]["reorder_level"]
    documents = (await client.get(f"{API}/stock/documents", headers=owner.headers)).json()["items"]
    assert [(d["kind"], d["notes"]) for d in documents] == [("receipt", "Opening stock")]
    moves = (await client.get(f"{API}/products/{low[0]['product_id']}/movements", headers=owner.headers)).json()
    assert [m["kind"] for m in moves["items"]] == ["opening"]
