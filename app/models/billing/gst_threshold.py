"""Thresholds of GST rules that change by notification, as dated data (global, read-only)."""

from datetime import date
from decimal import Decimal

from sqlalchemy import CheckConstraint, Numeric, PrimaryKeyConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class GstThreshold(Base):
    """`kind` 'b2cl': an inter-state invoice to an unregistered recipient above `amount` (invoice
    value) is reported invoice-wise in GSTR-1 table 5 (B2CL); ₹2,50,000 before 1 Aug 2024,
    ₹1,00,000 from then (Notification 12/2024-CT). The row in force on a date is the latest
    `effective_from` on or before it. Seeded by migration 0031; changed by the operator."""

    __tablename__ = "gst_thresholds"
    __table_args__ = (
        PrimaryKeyConstraint("kind", "effective_from"),
        CheckConstraint("kind IN ('b2cl')", name="kind"),
        CheckConstraint("amount > 0", name="amount"),
    )

    kind: Mapped[str] = mapped_column(String(20))
    effective_from: Mapped[date]
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    source: Mapped[str | None] = mapped_column(String(200))
