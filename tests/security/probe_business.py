"""Companies, service types and a tax rate for the cross-tenant probe (client types and account
managers come with the customers)."""

import httpx

from tests.factories import API


async def _post(client: httpx.AsyncClient, tenant, path: str, body: dict) -> str:
    response = await client.post(f"{API}{path}", json=body, headers=tenant.owner.headers)
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def add_business_rows(client: httpx.AsyncClient, tenant) -> None:
    """Two of each: the probe's own requests delete the first, the second keeps the list non-empty."""
    tenant.company_ids = [
        await _post(client, tenant, "/companies", {"legal_name": name, "state_code": "07"})
        for name in ("Probe Company", "Probe Company Kept")
    ][:1]
    tenant.service_type_ids = [
        await _post(client, tenant, "/service-types", {"name": name, "sac_hsn_code": "998314"})
        for name in ("Probe Service", "Probe Service Kept")
    ][:1]
    body = {"rate": "7.5", "effective_from": "2020-01-01"}
    tenant.tax_rate_ids = [await _post(client, tenant, "/tax-rates", body)]
