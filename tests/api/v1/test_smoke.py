from tests.factories import API, make_tenant


async def test_register_login_me(client):
    owner = await make_tenant(client)
    assert owner.user["role"] == "owner"
    assert owner.user["email_verified"] is False
    tenant = await client.get(f"{API}/tenants/me", headers=owner.headers)
    assert tenant.status_code == 200
    assert tenant.json()["business_name"] == "Sharma Traders"
