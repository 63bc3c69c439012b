"""`python -m app rotate-payment-secrets`: every tenant's saved gateway secrets re-encrypted under
the newest PAYMENT_SECRET_KEYS key. A driver like the scheduler: it opens one transaction per tenant
itself (so it takes the Runtime), and each tenant's work is payment_gateways.rotate_secrets."""

import logging
import uuid
from dataclasses import dataclass

from app.core.runtime import Runtime
from app.core.secret_box import SecretUnreadable
from app.repositories.commerce.payment_gateways import tenants_with_gateway
from app.services.commerce.payment_gateways import rotate_secrets
from app.services.platform import audit

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rotation:
    rotated: list[uuid.UUID]
    unreadable: list[uuid.UUID]  # no listed key opens them: an old key was dropped too early

    def __str__(self) -> str:
        text = f"payment secrets re-encrypted under the newest key: {len(self.rotated)} tenant(s)"
        if self.unreadable:
            text += f"; UNREADABLE with every listed key (restore the old key, rotate again): {self.unreadable}"
        return text


async def rotate_all(rt: Runtime, *, only: list[uuid.UUID] | None = None) -> Rotation:
    """`python -m app rotate-payment-secrets`: every tenant's saved secrets under the newest key,
    one transaction per tenant (bound to it: row-level security as usual). Once it reports no
    unreadable tenant, the keys after the first can be dropped from PAYMENT_SECRET_KEYS."""
    async with rt.db.transaction() as session:
        tenants = await tenants_with_gateway(session, only)
    rotated, unreadable = [], []
    for tenant_id in tenants:
        try:
            async with rt.db.transaction(tenant_id) as session:
                audit.set_actor(session, None)
                if await rotate_secrets(session, rt.context(tenant_id)):
                    rotated.append(tenant_id)
        except SecretUnreadable:
            log.error("payment gateway of tenant %s: its secrets open with no key of PAYMENT_SECRET_KEYS", tenant_id)
            unreadable.append(tenant_id)
    return Rotation(rotated, unreadable)
