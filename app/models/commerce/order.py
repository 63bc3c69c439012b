"""Orders: a customer's cart (draft), placed with its stock reserved for a hold time and paid
online or later, confirmed as a sale (a tax invoice), fulfilled when the goods are delivered."""

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TenantScoped, Timestamps, tenant_fk
from app.models.billing.business import MONEY
from app.models.billing.invoice import QUANTITY, UNIT_PRICE

# Forward only: draft -> placed -> confirmed -> fulfilled, or -> cancelled.
ORDER_STATUSES = ("draft", "placed", "confirmed", "fulfilled", "cancelled")
PAYMENT_METHODS = ("online", "pay_later")
CANCEL_REASONS = ("cancelled", "hold_expired", "refunded")


def _in(column: str, values: tuple[str, ...]) -> str:
    return "{} IN ({})".format(column, ", ".join(f"'{v}'" for v in values))


class SalesOrder(TenantScoped, Timestamps, Base):
    """An order of goods by a customer from one company (the place of business whose stock it
    reserves). `total` is fixed when placed (what the customer is asked to pay); `invoice_id` is
    the tax invoice its confirmation issued. `needs_attention` flags money that came in for an
    order that could not be honoured (a payment after the hold ended and the stock was gone)."""

    __tablename__ = "sales_orders"
    __table_args__ = (
        tenant_fk(["company_id"], "companies"),
        tenant_fk(["customer_id"], "customers"),
        tenant_fk(["invoice_id"], "invoices"),
        CheckConstraint(_in("status", ORDER_STATUSES), name="status"),
        CheckConstraint(f"payment_method IS NULL OR {_in('payment_method', PAYMENT_METHODS)}", name="payment_method"),
        CheckConstraint(f"cancel_reason IS NULL OR {_in('cancel_reason', CANCEL_REASONS)}", name="cancel_reason"),
        CheckConstraint("status = 'draft' OR (placed_at IS NOT NULL AND payment_method IS NOT NULL)", name="placed"),
        CheckConstraint("status NOT IN ('confirmed', 'fulfilled') OR invoice_id IS NOT NULL", name="invoiced"),
        CheckConstraint("(status = 'cancelled') = (cancelled_at IS NOT NULL)", name="cancelled_at"),
        CheckConstraint("total IS NULL OR total > 0", name="total"),
        CheckConstraint("amount_paid >= 0 AND amount_refunded >= 0 AND amount_refunded <= amount_paid", name="paid"),
        Index("ix_sales_orders_tenant_id_status_created_at", "tenant_id", "status", "created_at"),
        Index("ix_sales_orders_tenant_id_customer_id", "tenant_id", "customer_id"),
        Index(
            "ix_sales_orders_hold_until_placed",
            "hold_until",
            postgresql_where=text("status = 'placed' AND hold_until IS NOT NULL"),
        ),
    )

    company_id: Mapped[uuid.UUID]
    customer_id: Mapped[uuid.UUID]
    status: Mapped[str] = mapped_column(String(20), default="draft", server_default=text("'draft'"))
    payment_method: Mapped[str | None] = mapped_column(String(20))
    place_of_supply: Mapped[str | None] = mapped_column(String(2))  # None: the customer's state
    notes: Mapped[str | None] = mapped_column(Text)
    total: Mapped[Decimal | None] = mapped_column(MONEY)
    amount_paid: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"), server_default=text("0"))
    amount_refunded: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"), server_default=text("0"))
    hold_until: Mapped[datetime | None]
    placed_at: Mapped[datetime | None]
    confirmed_at: Mapped[datetime | None]
    fulfilled_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    cancel_reason: Mapped[str | None] = mapped_column(String(20))
    invoice_id: Mapped[uuid.UUID | None]
    needs_attention: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    attention_reason: Mapped[str | None] = mapped_column(Text)


class SalesOrderLine(TenantScoped, Base):
    """A product and quantity in an order (one line per product); the price may override the
    product's, and a discount (rupees off the line, before tax) applies as on an invoice line."""

    __tablename__ = "sales_order_lines"
    __table_args__ = (
        tenant_fk(["order_id"], "sales_orders", ondelete="CASCADE"),
        tenant_fk(["product_id"], "products"),
        CheckConstraint("quantity > 0", name="quantity"),
        CheckConstraint("unit_price IS NULL OR unit_price >= 0", name="unit_price"),
        CheckConstraint("discount >= 0", name="discount"),
        Index("uq_sales_order_lines_tenant_id_order_id_product_id", "tenant_id", "order_id", "product_id", unique=True),
    )

    order_id: Mapped[uuid.UUID]
    position: Mapped[int]
    product_id: Mapped[uuid.UUID]
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)
    unit_price: Mapped[Decimal | None] = mapped_column(UNIT_PRICE)
    discount: Mapped[Decimal] = mapped_column(
        MONEY, default=Decimal("0.00"), server_default=text("0")
    )  # off the line, before tax
