"""The demo tenant `make run` creates: its owner logs in and finds sample billing data."""

from app.core.runtime import Runtime
from app.services.demo import ensure_demo_tenant
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
