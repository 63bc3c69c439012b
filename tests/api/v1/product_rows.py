"""Products and categories made through the API, for the catalogue's tests and the stock, invoice
and sale tests built on them."""

import itertools
import uuid

import httpx
from stdnum import ean

from tests.factories import API, Account

_serial = itertools.count(1)


def barcode(prefix: str = "21") -> str:
    """A fresh, valid EAN-13 (check digit computed) in GS1's in-store range (prefix 2x: no real product's)."""
    body = f"{prefix}{uuid.uuid4().int % 10**12:012d}"[:12]
    return body + ean.calc_check_digit(body)


def product_body(**overrides: object) -> dict:
    n = next(_serial)
    body = {
        "name": f"Product {n}",
        "sku": f"SKU-{n}-{uuid.uuid4().hex[:6]}",
        "hsn_code": "25010020",
        "unit": "NOS",
        "sale_price": "28.00",
        "price_includes_tax": True,
        "gst_rate": "5",
    }
    return body | overrides


async def make_product(client: httpx.AsyncClient, account: Account, **overrides: object) -> dict:
    response = await client.post(f"{API}/products", json=product_body(**overrides), headers=account.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def make_category(
    client: httpx.AsyncClient, account: Account, name: str | None = None, parent: dict | None = None
) -> dict:
    body = {"name": name or f"Category {next(_serial)}", "parent_id": parent["id"] if parent else None}
    response = await client.post(f"{API}/product-categories", json=body, headers=account.headers)
    assert response.status_code == 201, response.text
    return response.json()
