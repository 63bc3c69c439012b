"""Stock: a level per (product, company) and the append-only movements that changed it, the
low-stock alerts they raised and each tenant's inventory settings."""

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Computed, ForeignKeyConstraint, Index, PrimaryKeyConstraint, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TenantOwned, TenantScoped, Timestamps, tenant_fk, utcnow
from app.models.billing.invoice import QUANTITY, UNIT_PRICE

MOVEMENT_KINDS = (
    "opening",
    "receipt",
    "adjustment",
    "sale",
    "sale_reversal",
    "reservation",
    "release",
    "return",
    "transfer_in",
    "transfer_out",
)


def _level_fk() -> ForeignKeyConstraint:
    """(tenant_id, product_id, company_id) -> the level row: a movement or alert of a level that exists."""
    columns = ["tenant_id", "product_id", "company_id"]
    return ForeignKeyConstraint(columns, [f"stock_levels.{c}" for c in columns])


class StockLevel(TenantOwned, Base):
    """What a company (a place of business: one GSTIN) holds of a product. Changed only by a
    guarded UPDATE ... RETURNING in the transaction that writes the movement
    (app.repositories.catalog.stock). `negative_allowed` follows the tenant's inventory setting: without
    it the database itself refuses a level below zero or a reservation beyond what is on hand."""

    __tablename__ = "stock_levels"
    __table_args__ = (
        PrimaryKeyConstraint("tenant_id", "product_id", "company_id"),
        tenant_fk(["product_id"], "products"),
        tenant_fk(["company_id"], "companies"),
        CheckConstraint("reserved >= 0", name="reserved"),
        CheckConstraint("negative_allowed OR (on_hand >= 0 AND reserved <= on_hand)", name="on_hand"),
        Index("ix_stock_levels_tenant_id_company_id", "tenant_id", "company_id"),
    )

    product_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    company_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    on_hand: Mapped[Decimal] = mapped_column(QUANTITY, default=Decimal("0"), server_default=text("0"))
    reserved: Mapped[Decimal] = mapped_column(QUANTITY, default=Decimal("0"), server_default=text("0"))
    available: Mapped[Decimal] = mapped_column(QUANTITY, Computed("on_hand - reserved", persisted=True))
    negative_allowed: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, server_default=text("now()"))


class StockMovement(TenantScoped, Base):
    """One change of a level, never updated or deleted. `on_hand_change` and `reserved_change`
    are signed; the levels after it are recorded beside them, so that the sum of the changes of a
    (product, company) is its level and any row shows the level it left."""

    __tablename__ = "stock_movements"
    __table_args__ = (
        _level_fk(),
        CheckConstraint("kind IN ({})".format(", ".join(f"'{k}'" for k in MOVEMENT_KINDS)), name="kind"),
        CheckConstraint("on_hand_change <> 0 OR reserved_change <> 0", name="changes_something"),
        CheckConstraint("unit_cost IS NULL OR unit_cost >= 0", name="unit_cost"),
        CheckConstraint("(document_type IS NULL) = (document_id IS NULL)", name="document"),
        Index("ix_stock_movements_tenant_id_product_id_id", "tenant_id", "product_id", "id"),
        Index("ix_stock_movements_tenant_id_document_id", "tenant_id", "document_id"),
    )

    product_id: Mapped[uuid.UUID]
    company_id: Mapped[uuid.UUID]
    kind: Mapped[str] = mapped_column(String(20))
    on_hand_change: Mapped[Decimal] = mapped_column(QUANTITY)
    reserved_change: Mapped[Decimal] = mapped_column(QUANTITY, default=Decimal("0"), server_default=text("0"))
    on_hand_after: Mapped[Decimal] = mapped_column(QUANTITY)
    reserved_after: Mapped[Decimal] = mapped_column(QUANTITY)
    # what it came from: invoice, credit_note, stock_receipt, stock_adjustment, stock_transfer, order ...
    document_type: Mapped[str | None] = mapped_column(String(30))
    document_id: Mapped[uuid.UUID | None]
    unit_cost: Mapped[Decimal | None] = mapped_column(UNIT_PRICE)
    reason: Mapped[str | None] = mapped_column(Text)
    actor_user_id: Mapped[uuid.UUID | None]  # like audit_logs: None for a scheduled job
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))


class StockAlert(TenantScoped, Base):
    """Raised when a movement takes `available` to or below the product's reorder level; closed
    when stock goes back above it. At most one open alert per (product, company): one per crossing."""

    __tablename__ = "stock_alerts"
    __table_args__ = (
        _level_fk(),
        Index(
            "uq_stock_alerts_tenant_id_product_id_company_id_open",
            "tenant_id",
            "product_id",
            "company_id",
            unique=True,
            postgresql_where=text("closed_at IS NULL"),
        ),
        Index("ix_stock_alerts_tenant_id_open", "tenant_id", "opened_at", postgresql_where=text("closed_at IS NULL")),
    )

    product_id: Mapped[uuid.UUID]
    company_id: Mapped[uuid.UUID]
    available_at_open: Mapped[Decimal] = mapped_column(QUANTITY)
    reorder_level: Mapped[Decimal] = mapped_column(QUANTITY)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))
    closed_at: Mapped[datetime | None]


DOCUMENT_KINDS = ("receipt", "adjustment", "transfer")


class StockDocument(TenantScoped, Base):
    """Goods in (`receipt`: from a supplier, with their bill), a count correction (`adjustment`,
    with its reason) or a `transfer` to another company of the tenant (with the tax invoice it
    needs when both are GST registrations). Its lines are its stock movements."""

    __tablename__ = "stock_documents"
    __table_args__ = (
        tenant_fk(["company_id"], "companies"),
        tenant_fk(["to_company_id"], "companies"),
        tenant_fk(["invoice_id"], "invoices"),
        CheckConstraint("kind IN ({})".format(", ".join(f"'{k}'" for k in DOCUMENT_KINDS)), name="kind"),
        CheckConstraint("(kind = 'transfer') = (to_company_id IS NOT NULL)", name="transfer_destination"),
        CheckConstraint("to_company_id IS DISTINCT FROM company_id", name="transfer_elsewhere"),
        CheckConstraint("kind <> 'adjustment' OR reason IS NOT NULL", name="adjustment_reason"),
        Index("ix_stock_documents_tenant_id_kind_document_date", "tenant_id", "kind", "document_date", "id"),
    )

    kind: Mapped[str] = mapped_column(String(20))
    company_id: Mapped[uuid.UUID]
    to_company_id: Mapped[uuid.UUID | None]
    document_date: Mapped[date]
    supplier_name: Mapped[str | None] = mapped_column(String(200))
    supplier_gstin: Mapped[str | None] = mapped_column(String(15))
    supplier_reference: Mapped[str | None] = mapped_column(String(50))  # the supplier's bill number
    reason: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    invoice_id: Mapped[uuid.UUID | None]  # a transfer's tax invoice
    actor_user_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=text("now()"))


class InventorySettings(TenantScoped, Timestamps, Base):
    """One row per tenant (none = the defaults)."""

    __tablename__ = "inventory_settings"
    __table_args__ = (Index("uq_inventory_settings_tenant_id", "tenant_id", unique=True),)

    allow_negative_stock: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
