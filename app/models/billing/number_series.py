import uuid

from sqlalchemy import CheckConstraint, PrimaryKeyConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TenantOwned, tenant_fk

# bill_of_supply: only when GST settings give bills of supply a pattern of their own.
SERIES_TYPES = ("invoice", "bill_of_supply", "credit_note", "receipt")


class NumberSeries(TenantOwned, Base):
    """The counter of one document series (CGST Rule 46(b)): per company, document type and
    financial year ('2026-27'). Numbers come from an upsert that increments `last_seq` and holds the row
    lock until the issuing transaction ends, so a rolled-back issue gives its number back."""

    __tablename__ = "number_series"
    __table_args__ = (
        PrimaryKeyConstraint("tenant_id", "company_id", "document_type", "financial_year"),  # tenant_id first
        tenant_fk(["company_id"], "companies"),
        CheckConstraint(f"document_type IN {SERIES_TYPES}", name="document_type"),
        CheckConstraint("last_seq >= 1", name="last_seq"),
    )

    company_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    document_type: Mapped[str] = mapped_column(String(20), primary_key=True)
    # The full financial year, '2026-27' (the printed `{fy}` token is the short '26-27', which
    # 1999-00 and 2099-00 would share).
    financial_year: Mapped[str] = mapped_column(String(7), primary_key=True)
    last_seq: Mapped[int]
