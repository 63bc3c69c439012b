"""A shop taking orders: `Shop` (tests/api/v1/selling.py) with a customer and helpers for /orders,
and what the database holds of an order (reservations, movements, receipts) read as the tenant."""

import uuid
from decimal import Decimal

import httpx
from sqlalchemy import func, select

from app.models.billing.invoice import Invoice
from app.models.billing.receipt import Receipt
from app.models.catalog.stock import StockLevel, StockMovement
from app.models.platform.audit import AuditLog
from tests.api.v1.customer_rows import make_customer
from tests.api.v1.selling import Shop
from tests.factories import API, Account


class OrderShop(Shop):
    customer: dict

    @classmethod
    async def open_with_customer(cls, app, client: httpx.AsyncClient, account: Account) -> "OrderShop":
        shop = await cls.open(app, client, account)
        shop.customer = await make_customer(client, account, email="buyer@example.in", phone="+919876543210")
        return shop

    async def draft(
        self, client: httpx.AsyncClient, lines: list[dict], *, account: Account | None = None, **fields
    ) -> dict:
        body = {"company_id": self.company["id"], "customer_id": self.customer["id"], "lines": lines} | fields
        response = await client.post(f"{API}/orders", json=body, headers=(account or self.account).headers)
        assert response.status_code == 201, response.text
        return response.json()

    async def place(
        self, client: httpx.AsyncClient, order_id: str, method: str = "pay_later", *, key: str | None = None
    ) -> httpx.Response:
        headers = self.account.headers | {"Idempotency-Key": key or f"place-{uuid.uuid4()}"}
        return await client.post(f"{API}/orders/{order_id}/place", json={"payment_method": method}, headers=headers)

    async def post(self, client: httpx.AsyncClient, path: str, body: dict | None = None) -> httpx.Response:
        return await client.post(f"{API}{path}", json=body, headers=self.account.headers)

    async def get(self, client: httpx.AsyncClient, order_id: str) -> dict:
        response = await client.get(f"{API}/orders/{order_id}", headers=self.account.headers)
        assert response.status_code == 200, response.text
        return response.json()

    # --- what the database holds --------------------------------------------------------------

    async def stock_of(self, product_id: str) -> tuple[Decimal, Decimal]:
        """(on_hand, reserved) of the product at the company; checks Σ movements = the level."""
        product, company = uuid.UUID(product_id), uuid.UUID(self.company["id"])
        async with self.app.state.runtime.db.transaction(self.tenant) as session:
            level = (
                await session.execute(
                    select(StockLevel.on_hand, StockLevel.reserved).where(
                        StockLevel.product_id == product, StockLevel.company_id == company
                    )
                )
            ).one()
            moved = (
                await session.execute(
                    select(
                        func.coalesce(func.sum(StockMovement.on_hand_change), 0),
                        func.coalesce(func.sum(StockMovement.reserved_change), 0),
                    ).where(StockMovement.product_id == product, StockMovement.company_id == company)
                )
            ).one()
        assert (level.on_hand, level.reserved) == tuple(moved), (level, moved)
        assert level.reserved >= 0 and level.on_hand - level.reserved >= 0
        return level.on_hand, level.reserved

    async def rows(self) -> dict[str, int]:
        async with self.app.state.runtime.db.transaction(self.tenant) as session:

            async def n(model, *where) -> int:
                return (await session.execute(select(func.count()).select_from(model).where(*where))).scalar_one()

            return {
                "invoices": await n(Invoice),
                "issued": await n(Invoice, Invoice.status != "draft"),
                "receipts": await n(Receipt),
                "sales": await n(StockMovement, StockMovement.kind == "sale"),
                "reservations": await n(StockMovement, StockMovement.kind == "reservation"),
                "releases": await n(StockMovement, StockMovement.kind == "release"),
            }

    async def order_audit(self, order_id: str) -> list[str]:
        async with self.app.state.runtime.db.transaction(self.tenant) as session:
            stmt = (
                select(AuditLog.action)
                .where(AuditLog.entity_type == "order", AuditLog.entity_id == uuid.UUID(order_id))
                .order_by(AuditLog.at, AuditLog.id)
            )
            return list((await session.execute(stmt)).scalars())
