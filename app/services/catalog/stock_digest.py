"""The daily low-stock digest: the scheduler's per-tenant step (`send_due`).

Once a day (India), from DIGEST_HOUR (09:00 Asia/Kolkata) on, a tenant with open low-stock alerts
(app.services.catalog.stock opens one when a movement takes a product's available quantity at a company to
or below its reorder level, and closes it when stock goes back above) gets one mail per active
owner or admin listing them: product, SKU, company, available now, the reorder level and the
quantity to reorder. No alerts, no mail. The day is claimed in `job_occasions` (kind
`low_stock_digest`, key the day in India, YYYY-MM-DD) in the transaction that queues the mails in
the outbox, so two workers at once, or a re-run later that day, send it once; the next day it goes
out again if alerts are still open. A worker down at 09:00 sends it at its first run later that
day; a day the worker was down all day has no digest (the next day's lists what is open then).
Time is the run's instant only (`ctx.now`, `ctx.today`).
"""

from collections import Counter
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.context import Context
from app.domain.fiscal import INDIA
from app.models.platform.job import OccasionKind
from app.repositories.catalog.stock_alerts import StockAlertRepository
from app.repositories.identity.users import UserRepository
from app.repositories.platform.jobs import JobOccasionRepository
from app.repositories.platform.tenants import TenantAccountRepository
from app.services.platform import mail

# The hour (Asia/Kolkata) from which the day's digest goes out: before the shop opens.
DIGEST_HOUR = 9
# A digest lists this many alerts at most (then says how many more GET /stock/alerts has).
MAX_LISTED = 200
TEMPLATE = "low_stock_digest"


def occasion_key(ctx: Context) -> str:
    return ctx.today.isoformat()


async def send_due(session: AsyncSession, ctx: Context) -> Counter[str]:
    """The bound tenant's digest, if due at `ctx.now`: counts of digests queued (`low_stock_digests`,
    one per tenant and day whatever the number of recipients)."""
    done: Counter[str] = Counter()
    if ctx.now.astimezone(INDIA).hour < DIGEST_HOUR:
        return done
    alerts = StockAlertRepository(session)
    rows = await alerts.open_for_digest(limit=MAX_LISTED)
    if not rows:
        return done  # closed since the scan (or archived products only): nothing to say today, yet
    recipients = await UserRepository(session).managers()
    detail: dict[str, Any] = {"at": ctx.now.isoformat(), "sent": bool(recipients), "alerts": len(rows)}
    if not await JobOccasionRepository(session).claim(OccasionKind.low_stock_digest, occasion_key(ctx), detail):
        return done  # another run has today's
    if not recipients:
        return done
    total = await alerts.count_open() if len(rows) == MAX_LISTED else len(rows)
    tenant = await TenantAccountRepository(session).get(alerts.tenant_id)
    items = [_item(row) for row in rows]
    common: dict[str, Any] = {
        "business_name": tenant.business_name if tenant else "",
        "day": ctx.today.strftime("%d %b %Y"),
        "items": items,
        "count": total,
        "more": total - len(items),
        "companies": len({item["company"] for item in items}),
        "alerts_url": f"{ctx.settings.public_base_url}/api/v1/stock/alerts",
    }
    for user in recipients:
        await mail.enqueue(session, ctx, to=user.email, template=TEMPLATE, name=user.full_name, **common)
    done["low_stock_digests"] += 1
    return done


def _item(row: Any) -> dict[str, Any]:
    alert = row[0]
    return {
        "product": row.product_name,
        "sku": row.sku,
        "unit": row.unit,
        "company": row.trade_name or row.legal_name,
        "gstin": row.gstin,
        "available": _quantity(row.available),
        "reorder_level": _quantity(alert.reorder_level),
        "reorder_quantity": _quantity(row.reorder_quantity) if row.reorder_quantity is not None else None,
        "since": alert.opened_at.astimezone(INDIA).strftime("%d %b %Y"),
    }


def _quantity(value: Any) -> str:
    """A quantity as a shopkeeper writes it: 12, 2.5, 0.125 (no trailing zeros, never 1E+1)."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
