import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TenantOwned, tenant_fk, utcnow

LOGO_MEDIA_TYPES = ("image/png", "image/jpeg")


class CompanyLogo(TenantOwned, Base):
    """A company's logo, as the API re-encoded it (PNG or JPEG, metadata stripped, bounded in
    pixels): one per company, printed on the PDFs of plans with custom branding."""

    __tablename__ = "company_logos"
    __table_args__ = (
        tenant_fk(["company_id"], "companies", ondelete="CASCADE"),
        CheckConstraint(f"media_type IN {LOGO_MEDIA_TYPES}", name="media_type"),
        CheckConstraint("width > 0 AND height > 0", name="dimensions"),
        CheckConstraint("octet_length(content) <= 1048576", name="content_size"),
        CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="sha256"),
    )

    company_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    media_type: Mapped[str] = mapped_column(String(20))
    width: Mapped[int]
    height: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
