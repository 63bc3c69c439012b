"""The goods a tenant sells: a category tree (at most 3 levels) and products. Services keep their
SAC on service types; a product carries an HSN code, a GST UQC unit and its prices."""

import uuid
from decimal import Decimal

from sqlalchemy import CheckConstraint, Computed, Index, SmallInteger, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.domain.categories import MAX_CATEGORY_DEPTH
from app.models.base import Base, TenantScoped, Timestamps, tenant_fk
from app.models.billing.business import MONEY, RATE
from app.models.billing.invoice import QUANTITY, UNIT_PRICE

HSN_CHECK = "hsn_code ~ '^([0-9]{4}|[0-9]{6}|[0-9]{8})$'"
UQC_CHECK = "unit ~ '^[A-Z]{3}$'"  # the list itself is data: app.domain.uqc


class ProductCategory(TenantScoped, Timestamps, Base):
    __tablename__ = "product_categories"
    __table_args__ = (
        tenant_fk(["parent_id"], "product_categories"),
        CheckConstraint(f"depth BETWEEN 1 AND {MAX_CATEGORY_DEPTH}", name="depth"),
        CheckConstraint("(parent_id IS NULL) = (depth = 1)", name="root_depth"),
        # one name per parent, case-insensitive (a root's parent is NULL: NULLS NOT DISTINCT)
        Index(
            "uq_product_categories_tenant_id_parent_id_name_lower",
            "tenant_id",
            "parent_id",
            "name_lower",
            unique=True,
            postgresql_nulls_not_distinct=True,
        ),
    )

    name: Mapped[str] = mapped_column(String(100))
    name_lower: Mapped[str] = mapped_column(Text, Computed("lower((name)::text)", persisted=True))
    parent_id: Mapped[uuid.UUID | None]
    depth: Mapped[int] = mapped_column(SmallInteger)


class Product(TenantScoped, Timestamps, Base):
    """`sale_price` is per `unit`, with tax included or not as `price_includes_tax` says."""

    __tablename__ = "products"
    __table_args__ = (
        tenant_fk(["category_id"], "product_categories"),
        CheckConstraint(HSN_CHECK, name="hsn_code"),
        CheckConstraint(UQC_CHECK, name="unit"),
        CheckConstraint("barcode ~ '^[0-9]{8,14}$'", name="barcode"),
        CheckConstraint("sale_price >= 0", name="sale_price"),
        CheckConstraint("mrp IS NULL OR mrp >= 0", name="mrp"),
        CheckConstraint("purchase_cost IS NULL OR purchase_cost >= 0", name="purchase_cost"),
        CheckConstraint("gst_rate >= 0 AND gst_rate <= 100", name="gst_rate"),
        CheckConstraint("reorder_level IS NULL OR reorder_level >= 0", name="reorder_level"),
        CheckConstraint("reorder_quantity IS NULL OR reorder_quantity > 0", name="reorder_quantity"),
        # SKU unique per tenant case-insensitively; prefix search on it and on the name under
        # row-level security (app.repositories.base.starts_with: leakproof range on plain columns).
        Index(
            "uq_products_tenant_id_sku_lower",
            "tenant_id",
            "sku_lower",
            unique=True,
            postgresql_ops={"sku_lower": "text_pattern_ops"},
        ),
        Index(
            "ix_products_tenant_id_name_lower",
            "tenant_id",
            "name_lower",
            postgresql_ops={"name_lower": "text_pattern_ops"},
        ),
        Index(
            "uq_products_tenant_id_barcode",
            "tenant_id",
            "barcode",
            unique=True,
            postgresql_where=text("barcode IS NOT NULL"),
        ),
        Index("ix_products_tenant_id_category_id", "tenant_id", "category_id"),
    )

    name: Mapped[str] = mapped_column(String(200))
    name_lower: Mapped[str] = mapped_column(Text, Computed("lower((name)::text)", persisted=True))
    sku: Mapped[str] = mapped_column(String(40))
    sku_lower: Mapped[str] = mapped_column(Text, Computed("lower((sku)::text)", persisted=True))
    barcode: Mapped[str | None] = mapped_column(String(14))
    description: Mapped[str | None] = mapped_column(String(500))
    category_id: Mapped[uuid.UUID | None]
    hsn_code: Mapped[str] = mapped_column(String(8))
    unit: Mapped[str] = mapped_column(String(3))
    sale_price: Mapped[Decimal] = mapped_column(UNIT_PRICE)
    price_includes_tax: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    mrp: Mapped[Decimal | None] = mapped_column(MONEY)
    purchase_cost: Mapped[Decimal | None] = mapped_column(UNIT_PRICE)
    gst_rate: Mapped[Decimal] = mapped_column(RATE)
    track_stock: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    reorder_level: Mapped[Decimal | None] = mapped_column(QUANTITY)
    reorder_quantity: Mapped[Decimal | None] = mapped_column(QUANTITY)
    is_archived: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
