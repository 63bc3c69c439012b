"""Product categories and products for the cross-tenant probe."""

import httpx

from tests.api.v1.product_rows import barcode, make_category, make_product


async def add_product_rows(client: httpx.AsyncClient, tenant) -> None:
    """A category tree and two products: the probe's own requests may delete the first of each
    (the probed ones); the others keep the lists non-empty."""
    kept = await make_category(client, tenant.owner, "Probe Grocery")
    probed = await make_category(client, tenant.owner, "Probe Staples", kept)
    product = await make_product(client, tenant.owner, name="Probe Salt", barcode=barcode(), category_id=probed["id"])
    await make_product(client, tenant.owner, name="Probe Tea Kept", category_id=kept["id"], reorder_level="5")
    tenant.product_category_ids = [probed["id"], kept["id"]]
    tenant.product_ids = [product["id"]]
