from sqlalchemy.ext.asyncio import AsyncSession

from app.core.context import Context
from app.core.errors import NotFound, RuleViolation
from app.domain.gst import InvalidGstin, normalize_gstin, state_of_gstin
from app.models.identity.user import User
from app.models.platform.tenant import Tenant
from app.repositories.platform.tenants import TenantAccountRepository
from app.services.platform import audit, subscriptions

TAX_DETAILS = ["gstin", "billing_state_code", "billing_address"]
FIELDS = ["name", "business_name", "contact_email", "contact_phone", *TAX_DETAILS]


async def get_own(session: AsyncSession, user: User) -> Tenant:
    tenant = await TenantAccountRepository(session).get(user.tenant_id)
    if tenant is None:
        raise NotFound("Tenant not found.")
    return tenant


async def update_own(session: AsyncSession, ctx: Context, user: User, changes: dict[str, object]) -> Tenant:
    """The tenant's profile. A locked subscription allows the tax details alone (the SaaS's invoice
    for the payment that unlocks it carries them); anything else is 402 `subscription-locked`."""
    if set(changes) - set(TAX_DETAILS):
        await subscriptions.ensure_writable(session, ctx)
    tenant = await get_own(session, user)
    before = audit.snapshot(tenant, FIELDS)
    changes = _tax_details(tenant, changes)
    for field, value in changes.items():
        setattr(tenant, field, value)
    await session.flush()
    await audit.record(
        session,
        action="tenant.updated",
        entity_type="tenant",
        entity_id=tenant.id,
        before=before,
        after=audit.snapshot(tenant, FIELDS),
    )
    return tenant


def _tax_details(tenant: Tenant, changes: dict[str, object]) -> dict[str, object]:
    """The GSTIN checked with python-stdnum (400 `invalid-gstin`); a GSTIN sets the billing state
    (its first two digits), and a state sent with it must be that one (400 `billing-state-mismatch`),
    as must a state sent alone while a GSTIN is on record."""
    changes = dict(changes)
    gstin = tenant.gstin
    if "gstin" in changes and changes["gstin"] is not None:
        try:
            changes["gstin"] = gstin = normalize_gstin(str(changes["gstin"]))
        except InvalidGstin as exc:
            raise RuleViolation("gstin", f"The GSTIN is not valid ({exc}).", code="invalid-gstin") from exc
    elif "gstin" in changes:
        gstin = None
    if gstin is None:
        return changes
    state = changes.get("billing_state_code")
    if state is not None and state != state_of_gstin(gstin):
        raise RuleViolation(
            "billing_state_code", "The billing state must be the GSTIN's state.", code="billing-state-mismatch"
        )
    changes["billing_state_code"] = state_of_gstin(gstin)
    return changes
