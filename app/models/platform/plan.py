from decimal import Decimal

from sqlalchemy import BigInteger, CheckConstraint, Numeric, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, Timestamps

BILLING_PERIODS = ("month", "none")


class Plan(Timestamps, Base):
    """The global plan catalog (no tenant). Seeded by migration 0004; prices and limits are data,
    changed by the operator with SQL (the application role may only read it). A NULL limit means
    unlimited."""

    __tablename__ = "plans"
    __table_args__ = (
        CheckConstraint(f"billing_period IN {BILLING_PERIODS}", name="billing_period"),
        CheckConstraint("price_paise >= 0", name="price_paise"),
        CheckConstraint("trial_days >= 0", name="trial_days"),
        CheckConstraint(
            "(max_invoices_per_month IS NULL OR max_invoices_per_month >= 0) "
            "AND (max_customers IS NULL OR max_customers >= 0) "
            "AND (max_active_users IS NULL OR max_active_users >= 1) "
            "AND (monthly_token_quota IS NULL OR monthly_token_quota >= 0)",
            name="limits",
        ),
        CheckConstraint("max_products IS NULL OR max_products >= 0", name="max_products"),
        CheckConstraint("gst_rate >= 0 AND gst_rate <= 40", name="gst_rate"),
        CheckConstraint(
            "customer_emails_per_hour IS NULL OR customer_emails_per_hour >= 0", name="customer_emails_per_hour"
        ),
    )

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    price_paise: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    billing_period: Mapped[str] = mapped_column(String(10))
    trial_days: Mapped[int] = mapped_column(server_default=text("0"))
    max_invoices_per_month: Mapped[int | None]
    max_customers: Mapped[int | None]
    max_active_users: Mapped[int | None]
    max_products: Mapped[int | None]  # migration 0021: the free tier's 100, NULL = unlimited
    monthly_token_quota: Mapped[int | None] = mapped_column(BigInteger)
    # customer mail (documents, reminders) a tenant may send per hour; NULL = CUSTOMER_EMAILS_PER_HOUR
    # (migration 0018: unlike the limits above, NULL is the operator's default, never unlimited)
    customer_emails_per_hour: Mapped[int | None]
    is_public: Mapped[bool] = mapped_column(server_default=text("true"))
    is_active: Mapped[bool] = mapped_column(server_default=text("true"))
    # The tenant's logo on its documents (a paid feature); without it the footer names the product.
    custom_branding: Mapped[bool] = mapped_column(server_default=text("false"))
    # Migration 0031: how price_paise is stated (GST included or to be added), the GST rate and SAC
    # of the SaaS's own tax invoice for it.
    price_includes_tax: Mapped[bool] = mapped_column(server_default=text("false"))
    gst_rate: Mapped[Decimal] = mapped_column(Numeric(5, 2), server_default=text("18"))
    sac_code: Mapped[str] = mapped_column(String(8), server_default=text("'997331'"))
    description: Mapped[str | None] = mapped_column(String(500))
