import uuid

from sqlalchemy import CheckConstraint, PrimaryKeyConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TenantOwned, tenant_fk


class NumberSeries(TenantOwned, Base):
    """The counter of one document series (CGST Rule 46(b)): per company, document type and
    financial year. Numbers come from an upsert that increments `last_seq` and holds the row
    lock until the issuing transaction ends, so a rolled-back issue gives its number back."""

    __tablename__ = "number_series"
    __table_args__ = (
        PrimaryKeyConstraint("tenant_id", "company_id", "document_type", "financial_year"),  # tenant_id first
        tenant_fk(["company_id"], "companies"),
        CheckConstraint("document_type IN ('invoice', 'credit_note', 'receipt')", name="document_type"),
        CheckConstraint("last_seq >= 1", name="last_seq"),
    )

    company_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    document_type: Mapped[str] = mapped_column(String(20), primary_key=True)
    financial_year: Mapped[str] = mapped_column(String(5), primary_key=True)
    last_seq: Mapped[int]
