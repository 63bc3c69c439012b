"""A shop for counter-sale tests: a tenant's owner, a company, products made through the API and
stock put in through the stock ledger's own service (as a goods receipt would)."""

import uuid
from decimal import Decimal
from itertools import count

import httpx
from sqlalchemy import func, select

from app.models.billing.customer import Customer
from app.models.billing.invoice import Invoice
from app.models.billing.receipt import Receipt
from app.models.catalog.stock import StockLevel, StockMovement
from app.services.catalog import stock
from tests.api.v1.invoicing import make_company
from tests.factories import API, Account

_skus = count(1)


def ean13(body12: str) -> str:
    """An EAN-13 with its check digit."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body12))
    return body12 + str((10 - total % 10) % 10)


class Shop:
    """An owner with one company (a GSTIN in `state`) selling from its counter."""

    def __init__(self, app, account: Account, company: dict) -> None:
        self.app, self.account, self.company = app, account, company

    @classmethod
    async def open(cls, app, client: httpx.AsyncClient, account: Account, state: str = "29", **company) -> "Shop":
        return cls(app, account, await make_company(client, account, state=state, **company))

    @property
    def tenant(self) -> uuid.UUID:
        return uuid.UUID(self.account.tenant_id)

    async def product(self, client: httpx.AsyncClient, *, stock: str | None = "100", **fields) -> dict:
        """A product (₹100.00 + 18 %, NOS unless given), with `stock` units received at the company."""
        n = next(_skus)
        body = {
            "name": f"Tea 250 g #{n}",
            "sku": f"TEA-{uuid.uuid4().hex[:8]}",
            "hsn_code": "0902",
            "unit": "NOS",
            "sale_price": "100.00",
            "gst_rate": "18",
        } | fields
        response = await client.post(f"{API}/products", json=body, headers=self.account.headers)
        assert response.status_code == 201, response.text
        product = response.json()
        if stock is not None:
            await self.receive(product["id"], stock)
        return product

    async def receive(self, product_id: str, quantity: str, company_id: str | None = None) -> None:
        """Goods in, through the ledger's service (one `receipt` movement)."""
        company = uuid.UUID(company_id or self.company["id"])
        async with self.app.state.runtime.db.transaction(self.tenant) as session:
            ctx = self.app.state.runtime.context(tenant_id=self.tenant)
            line = stock.StockLine(product_id=uuid.UUID(product_id), quantity=Decimal(quantity))
            document = stock.DocumentRef(type="stock_document", id=uuid.uuid4())
            await stock.put(session, ctx, company_id=company, lines=[line], kind="receipt", document=document)

    async def sell(
        self,
        client: httpx.AsyncClient,
        lines: list[dict],
        payments: list[dict] | None = None,
        *,
        key: str | None = None,
        account: Account | None = None,
        **fields,
    ) -> httpx.Response:
        body = {"company_id": self.company["id"], "lines": lines, "payments": payments or []} | fields
        headers = (account or self.account).headers | {"Idempotency-Key": key or f"sale-{uuid.uuid4()}"}
        return await client.post(f"{API}/sales", json=body, headers=headers)

    # --- what the database holds (read as the tenant, through the app's own connection) ---------

    async def level(self, product_id: str, company_id: str | None = None) -> tuple[Decimal, Decimal]:
        """(on_hand, Σ on_hand_change of the movements) of the product at the company."""
        company, product = uuid.UUID(company_id or self.company["id"]), uuid.UUID(product_id)
        async with self.app.state.runtime.db.transaction(self.tenant) as session:
            on_hand = (
                await session.execute(
                    select(StockLevel.on_hand).where(StockLevel.product_id == product, StockLevel.company_id == company)
                )
            ).scalar_one()
            moved = (
                await session.execute(
                    select(func.coalesce(func.sum(StockMovement.on_hand_change), 0)).where(
                        StockMovement.product_id == product, StockMovement.company_id == company
                    )
                )
            ).scalar_one()
        return on_hand, moved

    async def counts(self) -> dict[str, int]:
        """Rows the tenant has of what a sale writes."""
        async with self.app.state.runtime.db.transaction(self.tenant) as session:

            async def n(model, *where) -> int:
                return (await session.execute(select(func.count()).select_from(model).where(*where))).scalar_one()

            return {
                "invoices": await n(Invoice),
                "receipts": await n(Receipt),
                "movements": await n(StockMovement, StockMovement.kind == "sale"),
                "walk_ins": await n(Customer, Customer.walk_in_company_id.is_not(None)),
            }
