"""Products, levels and low-stock alerts written straight through the ORM, bound to the tenant
(the application role, row-level security on): the state GET /stock/alerts and the daily digest
read, made without going through the stock ledger's endpoints."""

import uuid
from datetime import datetime
from decimal import Decimal

from app.core.runtime import Runtime
from app.models.base import new_id, utcnow
from app.models.catalog.product import Product
from app.models.catalog.stock import StockAlert, StockLevel


async def make_product(rt: Runtime, tenant_id: str, **fields) -> Product:
    n = uuid.uuid4().hex[:8]
    values = {
        "name": f"Basmati rice 5 kg {n}",
        "sku": f"RICE-{n}",
        "hsn_code": "1006",
        "unit": "NOS",
        "sale_price": Decimal("450.0000"),
        "purchase_cost": Decimal("380.0000"),
        "gst_rate": Decimal("5.00"),
        "reorder_level": Decimal("10.000"),
        "reorder_quantity": Decimal("50.000"),
    } | fields
    async with rt.db.transaction(uuid.UUID(tenant_id)) as session:
        product = Product(id=new_id(), tenant_id=uuid.UUID(tenant_id), **values)
        session.add(product)
    return product


async def low_stock(
    rt: Runtime,
    tenant_id: str,
    product: Product,
    company_id: str,
    *,
    on_hand: str = "4",
    opened_at: datetime | None = None,
    closed: bool = False,
) -> StockAlert:
    """A level of `on_hand` with an alert opened at `opened_at` (now by default), closed if `closed`."""
    tenant, company = uuid.UUID(tenant_id), uuid.UUID(company_id)
    async with rt.db.transaction(tenant) as session:
        session.add(StockLevel(tenant_id=tenant, product_id=product.id, company_id=company, on_hand=Decimal(on_hand)))
        await session.flush()
        alert = StockAlert(
            id=new_id(),
            tenant_id=tenant,
            product_id=product.id,
            company_id=company,
            available_at_open=Decimal(on_hand),
            reorder_level=product.reorder_level or Decimal("0"),
            opened_at=opened_at or utcnow(),
            closed_at=utcnow() if closed else None,
        )
        session.add(alert)
    return alert
