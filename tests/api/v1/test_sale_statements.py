"""The counter sale's statement count (bench/sales.py measures what they cost): a fixed, small
number of SQL statements whatever the number of lines, every statement of the request counted
(the session check and the Idempotency-Key's included)."""

from tests.api.v1.selling import Shop
from tests.api.v1.test_invoice_statements import statements
from tests.factories import make_tenant


async def _sale_statements(app, client, shop: Shop, products: list[dict]) -> list[str]:
    lines = [{"product_id": p["id"], "quantity": "1"} for p in products]
    with statements(app) as seen:
        response = await shop.sell(client, lines, [{"mode": "cash", "amount": "5000.00"}])
    assert response.status_code == 201, response.text
    return seen


async def test_a_five_line_walk_in_sale_runs_a_fixed_number_of_statements(app, client):
    shop = await Shop.open(app, client, await make_tenant(client))
    products = [await shop.product(client) for _ in range(5)]
    await _sale_statements(app, client, shop, products[:1])  # the first sale makes the walk-in and the counters
    seen = await _sale_statements(app, client, shop, products)
    # 19: session, subscription, idempotency (3: expired key gone and lock wait bounded, claim, wait
    # restored), company, walk-in, parties (with the GST settings and rates), products, plan, stock,
    # series, invoice, receipt series, the receipts with their allocations, the settle and the
    # balance (one statement), their audit rows, the share link, its audit, the stored response; and
    # since issue 13 three business events (invoice.issued, receipt.created, invoice.paid), one each
    assert len(seen) <= 22, seen
    assert len(await _sale_statements(app, client, shop, products[:2])) == len(seen), "the count grows with lines"
