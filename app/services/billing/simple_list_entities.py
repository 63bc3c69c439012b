"""The simple catalogs a tenant keeps: client types, account managers, service types."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.context import Context
from app.core.errors import RuleViolation
from app.models.billing.business import AccountManager, ClientType, ServiceType
from app.services.billing import tax_rates
from app.services.billing.simple_lists import Catalog

NAME_SORTS = {"name": "name", "created_at": "created_at"}

CLIENT_TYPES = Catalog(
    model=ClientType,
    entity="client_type",
    label="client type",
    fields=["name", "is_active"],
    search_columns=["name"],
    sorts=NAME_SORTS,
)

ACCOUNT_MANAGERS = Catalog(
    model=AccountManager,
    entity="account_manager",
    label="account manager",
    fields=["name", "email", "phone", "is_active"],
    search_columns=["name", "email", "phone"],
    sorts=NAME_SORTS,
)


async def check_service_type(
    session: AsyncSession, ctx: Context, service: ServiceType, changes: dict[str, Any]
) -> None:
    """A default GST rate must be one of the tenant's rates in force today."""
    rate = changes.get("default_gst_rate")
    if rate is not None and not await tax_rates.is_in_force(session, rate, ctx.today):
        raise RuleViolation(
            "default_gst_rate", f"{rate}% is not one of your tax rates in force today.", code="gst-rate-not-in-force"
        )


SERVICE_TYPES = Catalog(
    model=ServiceType,
    entity="service_type",
    label="service type",
    fields=["name", "sac_hsn_code", "unit", "default_rate", "default_gst_rate", "is_active"],
    search_columns=["name", "sac_hsn_code"],
    sorts=NAME_SORTS,
    check=check_service_type,
)
