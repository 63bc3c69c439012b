"""Pay-by-link helpers for tests: a party with an issued invoice, its payment link made through the
API, the callback parameters that pay it (the sandbox's, or signed like Razorpay's with a key
secret), and reads of what the database holds."""

import hashlib
import hmac
import uuid
from urllib.parse import parse_qsl, urlsplit

import httpx
from sqlalchemy import func, select

from app.models.billing.receipt import Receipt, ReceiptAllocation
from app.models.commerce.online_payment import OnlinePayment
from app.services.commerce import online_payments
from tests.api.v1.invoicing import Party
from tests.api.v1.receipting import invoice_of
from tests.factories import API, Account


def link_path(invoice: dict) -> str:
    return f"{API}/invoices/{invoice['id']}/payment-link"


async def make_link(
    client: httpx.AsyncClient, account: Account, invoice: dict, *, key: str | None = None, **body
) -> httpx.Response:
    headers = account.headers | {"Idempotency-Key": key or f"link-{uuid.uuid4()}"}
    return await client.post(link_path(invoice), json=body or None, headers=headers)


async def linked(client: httpx.AsyncClient, account: Account, invoice: dict, **body) -> dict:
    response = await make_link(client, account, invoice, **body)
    assert response.status_code == 201, response.text
    return response.json()


def callback_params(link: dict) -> dict[str, str]:
    """The sandbox's signed callback parameters (what Razorpay adds to the callback URL)."""
    assert link["sandbox_pay_url"], link
    return dict(parse_qsl(urlsplit(link["sandbox_pay_url"]).query))


def pay_path(link: dict) -> str:
    """The callback page's path and query (GET it to "come back from Razorpay, paid")."""
    parts = urlsplit(link["sandbox_pay_url"])
    return f"{parts.path}?{parts.query}"


def link_signature(secret: str, params: dict[str, str]) -> str:
    """Razorpay's Payment Link callback signature."""
    message = "|".join(
        params[name]
        for name in (
            "razorpay_payment_link_id",
            "razorpay_payment_link_reference_id",
            "razorpay_payment_link_status",
            "razorpay_payment_id",
        )
    )
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


async def verify(client: httpx.AsyncClient, account: Account, link: dict, params: dict[str, str]) -> httpx.Response:
    return await client.post(
        f"{API}/online-payments/{link['payment']['id']}/verify", json=params, headers=account.headers
    )


async def party_with_invoice(client: httpx.AsyncClient, account: Account, total: str = "1000.00") -> tuple[Party, dict]:
    party = await Party.make(client, account)
    return party, await invoice_of(client, party, total)


class Books:
    """What the tenant's database holds about online payments and their receipts."""

    def __init__(self, app, tenant_id: str) -> None:
        self.rt, self.tenant = app.state.runtime, uuid.UUID(tenant_id)

    async def receipts(self, reference: str | None = None) -> list[Receipt]:
        async with self.rt.db.transaction(self.tenant) as session:
            stmt = select(Receipt).where(Receipt.mode == "razorpay")
            if reference is not None:
                stmt = stmt.where(Receipt.reference == reference)
            return list((await session.execute(stmt.order_by(Receipt.created_at))).scalars())

    async def allocations(self, receipt_id: uuid.UUID) -> list[ReceiptAllocation]:
        async with self.rt.db.transaction(self.tenant) as session:
            stmt = select(ReceiptAllocation).where(ReceiptAllocation.receipt_id == receipt_id)
            return list((await session.execute(stmt)).scalars())

    async def payments(self) -> int:
        async with self.rt.db.transaction(self.tenant) as session:
            return (await session.execute(select(func.count()).select_from(OnlinePayment))).scalar_one()

    async def captured(self, payment_id: str, razorpay_payment_id: str, amount_paise: int, source: str) -> str:
        """What a capture webhook does once its gateway helper has found and locked the row."""
        async with self.rt.db.transaction(self.tenant) as session:
            ctx = self.rt.context(tenant_id=self.tenant)
            payment = await online_payments.get(session, uuid.UUID(payment_id), for_update=True)
            return await online_payments.on_captured(
                session, ctx, payment, razorpay_payment_id=razorpay_payment_id, amount_paise=amount_paise, source=source
            )

    async def failed(self, payment_id: str, razorpay_payment_id: str, reason: str) -> str:
        async with self.rt.db.transaction(self.tenant) as session:
            ctx = self.rt.context(tenant_id=self.tenant)
            payment = await online_payments.get(session, uuid.UUID(payment_id), for_update=True)
            return await online_payments.on_failed(
                session, ctx, payment, razorpay_payment_id=razorpay_payment_id, reason=reason
            )
