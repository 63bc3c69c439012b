"""A logo on the probe's company, so that GET/PUT/DELETE /companies/{id}/logo meet a real one."""

import io

import httpx
from PIL import Image

from tests.factories import API


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 20), (10, 120, 200)).save(out, format="PNG")
    return out.getvalue()


async def add_logo_rows(client: httpx.AsyncClient, tenant) -> None:
    response = await client.put(
        f"{API}/companies/{tenant.company_ids[0]}/logo",
        content=png(),
        headers=tenant.owner.headers | {"Content-Type": "image/png"},
    )
    assert response.status_code == 200, response.text
