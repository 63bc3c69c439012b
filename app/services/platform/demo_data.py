"""Sample billing data for the demo tenant: a company, customers, invoices in several states and
a receipt, a small shop catalogue (two categories, five products with reorder levels) and their
opening stock (one of them low), made through the same services the API uses (so every rule and
audit row applies)."""

import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.context import Context
from app.models.billing.customer import Customer
from app.models.billing.invoice import Invoice
from app.models.catalog.product import Product
from app.schemas.billing.invoices import InvoiceIn, InvoiceLineIn
from app.schemas.billing.receipts import ReceiptCreate
from app.services.billing import customers, invoicing, receipts, simple_lists
from app.services.billing.companies import COMPANIES
from app.services.catalog import product_categories, products, stock_documents
from app.services.catalog.stock import StockLine

COMPANY = {
    "legal_name": "Demo Traders Pvt Ltd",
    "trade_name": "Demo Traders",
    "gstin": "29AAPFU0939F1ZR",
    "address_line1": "12 MG Road",
    "city": "Bengaluru",
    "pincode": "560001",
    "upi_vpa": "demotraders@okhdfc",
    "email": "accounts@demotraders.example.com",
    "phone": "+91 80 4123 4567",
    "default_terms": "Payment within 15 days by bank transfer or UPI.",
}
CUSTOMERS = [
    {
        "name": "Sharma Stores",
        "billing_address_line1": "4 Market Street",
        "billing_state_code": "29",
        "phone": "+91 98450 12345",
        "email": "purchase@sharmastores.example.com",
        "payment_terms_days": 15,
    },
    {
        "name": "Mumbai Textiles LLP",
        "gstin": "27AAPFU0939F1ZV",
        "billing_address_line1": "88 Linking Road",
        "billing_city": "Mumbai",
        "billing_state_code": "27",
        "email": "accounts@mumbaitextiles.example.com",
        "payment_terms_days": 30,
    },
]


# (category path, product). Barcodes are in GS1's in-store range (prefix 2): no real product's.
PRODUCTS: list[tuple[tuple[str, ...], dict[str, Any]]] = [
    (
        ("Grocery", "Staples"),
        {
            "name": "Iodised Salt 1 kg",
            "sku": "SALT-1KG",
            "barcode": "2000000000015",
            "hsn_code": "25010020",
            "unit": "NOS",
            "sale_price": Decimal("28.00"),
            "price_includes_tax": True,
            "mrp": Decimal("28.00"),
            "purchase_cost": Decimal("22.00"),
            "gst_rate": Decimal("5"),
            "reorder_level": Decimal("10"),
            "reorder_quantity": Decimal("50"),
        },
    ),
    (
        ("Grocery", "Staples"),
        {
            "name": "Basmati Rice (loose)",
            "sku": "RICE-BASMATI",
            "hsn_code": "10063020",
            "unit": "KGS",
            "sale_price": Decimal("95.00"),
            "price_includes_tax": True,
            "purchase_cost": Decimal("78.00"),
            "gst_rate": Decimal("5"),
            "reorder_level": Decimal("25.000"),
            "reorder_quantity": Decimal("100.000"),
        },
    ),
    (
        ("Grocery", "Staples"),
        {
            "name": "Sunflower Oil 1 L",
            "sku": "OIL-SUN-1L",
            "barcode": "2000000000022",
            "hsn_code": "15121910",
            "unit": "NOS",
            "sale_price": Decimal("155.00"),
            "price_includes_tax": True,
            "mrp": Decimal("160.00"),
            "purchase_cost": Decimal("132.00"),
            "gst_rate": Decimal("5"),
            "reorder_level": Decimal("12"),
            "reorder_quantity": Decimal("48"),
        },
    ),
    (
        ("Beverages",),
        {
            "name": "Masala Chai 250 g",
            "sku": "TEA-250G",
            "barcode": "2000000000039",
            "hsn_code": "09024020",
            "unit": "NOS",
            "sale_price": Decimal("140.00"),
            "price_includes_tax": True,
            "mrp": Decimal("145.00"),
            "purchase_cost": Decimal("112.00"),
            "gst_rate": Decimal("5"),
            "reorder_level": Decimal("6"),
            "reorder_quantity": Decimal("24"),
        },
    ),
    (
        ("Beverages",),
        {
            "name": "Soda 600 ml",
            "sku": "SODA-600",
            "barcode": "2000000000046",
            "hsn_code": "22021010",
            "unit": "BTL",
            "sale_price": Decimal("40.00"),
            "price_includes_tax": True,
            "mrp": Decimal("40.00"),
            "purchase_cost": Decimal("26.00"),
            "gst_rate": Decimal("40"),  # aerated drinks: 40 % since GST 2.0 (22 Sep 2025)
            "reorder_level": Decimal("24"),
            "reorder_quantity": Decimal("96"),
        },
    ),
]


async def add_sample_products(session: AsyncSession, ctx: Context) -> dict[str, Product]:
    """The catalogue of PRODUCTS with its categories; the products by SKU (for their opening stock)."""
    categories: dict[tuple[str, ...], Any] = {}
    made: dict[str, Product] = {}
    for path, values in PRODUCTS:
        for depth in range(1, len(path) + 1):
            if path[:depth] not in categories:
                parent = categories[path[: depth - 1]].id if depth > 1 else None
                categories[path[:depth]] = await product_categories.create(
                    session, name=path[depth - 1], parent_id=parent
                )
        product = await products.create(session, ctx, values={**values, "category_id": categories[path].id})
        made[product.sku] = product
    return made


def _lines(*items: tuple[str, str, str, str]) -> list[InvoiceLineIn]:
    return [
        InvoiceLineIn.model_validate(
            {"description": d, "hsn_sac": "998311", "quantity": q, "unit_price": p, "gst_rate": r}
        )
        for d, q, p, r in items
    ]


async def add_sample_data(session: AsyncSession, ctx: Context) -> None:
    today: date = ctx.today
    company = await simple_lists.create(session, ctx, COMPANIES, dict(COMPANY))
    local, interstate = [await customers.create(session, ctx, values=dict(values)) for values in CUSTOMERS]

    async def invoice(customer: Customer, days_ago: int, lines: list[InvoiceLineIn], *, issue: bool = True) -> Invoice:
        body = InvoiceIn(
            company_id=company.id, customer_id=customer.id, invoice_date=today - timedelta(days_ago), lines=lines
        )
        return await invoicing.create(session, ctx, body=body, issue=issue)

    paid = await invoice(local, 40, _lines(("Bookkeeping, monthly", "1", "5000.00", "18")))
    await invoice(interstate, 45, _lines(("GST return filing", "3", "2500.00", "18")))
    await invoice(local, 5, _lines(("Payroll processing", "12", "150.00", "18"), ("Courier", "1", "99.00", "5")))
    await invoice(interstate, 0, _lines(("Audit support", "10", "1200.00", "18")), issue=False)
    receipt = ReceiptCreate.model_validate(
        {
            "customer_id": local.id,
            "company_id": company.id,
            "amount": str(paid.total),
            "mode": "upi",
            "receipt_date": min(today, paid.invoice_date + timedelta(10)),
            "reference": "UPI-DEMO-0001",
            "allocations": [{"invoice_id": paid.id, "amount": str(paid.total)}],
        }
    )
    await receipts.create(session, ctx, body=receipt)
    await add_sample_products(session, ctx)
    await add_opening_stock(session, ctx, company.id)


async def add_opening_stock(session: AsyncSession, ctx: Context, company_id: uuid.UUID) -> None:
    """Opening stock (kind `opening`) of the demo products that track stock: their reorder
    quantity (else 3 x the reorder level, else 50) each, but the first with a reorder level is
    left at that level, so the demo shows a low-stock alert. No products, no stock."""
    every = products.filters(q=None, category_id=None, low=None, archived=False, ids=None)
    found, _ = await products.list_page(session, every, limit=100, cursor=None, sort="name")
    tracked = [product for product in found if product.track_stock]
    low = next((product for product in tracked if product.reorder_level), None)
    lines = []
    for position, product in enumerate(tracked):
        if product is low and product.reorder_level is not None:
            quantity = product.reorder_level
        elif product.reorder_quantity:
            quantity = product.reorder_quantity
        elif product.reorder_level:
            quantity = product.reorder_level * 3
        else:
            quantity = Decimal(50)
        if quantity > 0:
            lines.append(StockLine(product.id, quantity, position, product.purchase_cost))
    if lines:
        await stock_documents.opening(session, ctx, company_id=company_id, lines=lines)
