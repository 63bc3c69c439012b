"""What every new tenant starts with: the standard GST rates and default GST settings."""

from datetime import date
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from app.models.billing.business import GstSettings, TaxRate
from app.repositories.base import TenantRepository

# (rate %, in force from). GST 2.0 (22 Sep 2025) added 40 %; older slabs stay for old documents.
STANDARD_TAX_RATES = [
    (Decimal(r), date(2017, 7, 1)) for r in ("0", "0.1", "0.25", "1.5", "3", "5", "6", "12", "18", "28")
]
STANDARD_TAX_RATES.append((Decimal("40"), date(2025, 9, 22)))


async def seed(session: AsyncSession) -> None:
    rates = TenantRepository(session, TaxRate)
    for rate, since in STANDARD_TAX_RATES:
        await rates.add(TaxRate(name=f"GST {rate.normalize():f}%", rate=rate, effective_from=since))
    await TenantRepository(session, GstSettings).add(GstSettings())
