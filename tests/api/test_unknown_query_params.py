"""A query parameter the route does not declare is a 422 naming it, on every API route
(one dependency on the api router: app/api/query_params.py), never silently ignored."""

from tests.api.v1.http_checks import assert_problem
from tests.factories import API, make_tenant


async def test_an_undeclared_query_parameter_is_a_422_naming_it(client):
    owner = await make_tenant(client)
    for path in ("/invoices", "/customers", "/companies", "/receipts", "/credit-notes", "/users/me", "/tenants/me"):
        response = await client.get(f"{API}{path}", params={"stauts": "paid"}, headers=owner.headers)
        body = assert_problem(response, 422, "validation-error")
        assert body["errors"] == [
            {"loc": ["query", "stauts"], "msg": "Unknown query parameter.", "type": "unknown_parameter"}
        ], path


async def test_every_unknown_name_is_listed_and_declared_ones_pass(client):
    owner = await make_tenant(client)
    params = {"limit": "5", "status": "paid", "zz": "1", "aa": "2", "sort": "-total"}
    body = assert_problem(await client.get(f"{API}/invoices", params=params, headers=owner.headers), 422)
    assert [e["loc"] for e in body["errors"]] == [["query", "aa"], ["query", "zz"]]
    # Declared names pass, aliases included (`from`, `to`, `status`) and those of dependencies (`limit`, `fields`).
    declared = {"limit": "5", "status": "paid", "from": "2026-04-01", "to": "2027-03-31", "fields": "number"}
    assert (await client.get(f"{API}/invoices", params=declared, headers=owner.headers)).status_code == 200


async def test_writes_refuse_them_too(client):
    owner = await make_tenant(client)
    response = await client.post(f"{API}/customers", params={"dry_run": "1"}, json={"name": "A"}, headers=owner.headers)
    assert_problem(response, 422, "validation-error")
    assert (await client.get(f"{API}/customers")).status_code == 401
