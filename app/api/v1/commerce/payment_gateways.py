"""The business's own Razorpay account: PUT | GET | DELETE /payment-gateways/razorpay (owner only;
app/services/commerce/payment_gateways.py)."""

from fastapi import APIRouter, Response, status

from app.api.deps import ContextDep, OwnerUser, SessionDep
from app.core.context import Context
from app.models.commerce.gateway import PaymentGateway
from app.schemas.commerce.payment_gateways import GatewayRead, GatewaySave
from app.schemas.common import problem_responses
from app.services.commerce import payment_gateways
from app.services.commerce.payment_gateways import WEBHOOK_EVENTS, Keys

router = APIRouter(prefix="/payment-gateways", tags=["payment gateways"], responses=problem_responses(401, 403, 422))


@router.put("/razorpay", response_model=GatewayRead, responses=problem_responses(400, 409, 502, 503))
async def save_razorpay(body: GatewaySave, _: OwnerUser, session: SessionDep, ctx: ContextDep) -> GatewayRead:
    """Save (or replace) the business's own Razorpay keys, so that its customers pay it online:
    payment links on invoices, orders paid at checkout, refunds. The keys are checked first by one
    harmless call to Razorpay (listing at most one order): refused, 400 `gateway-keys-invalid` and
    nothing is stored; Razorpay unreachable, 503 (retry). The key secret and webhook secret are
    encrypted at rest and never shown again (only the key secret's last 4 characters).

    The answer's `webhook_url` is this business's webhook: add it in Razorpay's dashboard with the
    webhook secret saved here and the events in `webhook_events`. Saving again keeps the URL.
    Another account's keys (another key id) are refused with 409 `gateway-in-use` while online
    payments are open or refunds pending on the saved one; the same key id (rotated secrets) is
    always accepted.
    With RAZORPAY_MODE=sandbox no call is made: the keys are stored unchecked (`sandbox: true`,
    `verified: false`); once the server runs live, payments on them are 409 `gateway-not-verified`
    until they are saved again (checked then)."""
    gateway, _new = await payment_gateways.save(
        session, ctx, keys=Keys(body.key_id, body.key_secret, body.webhook_secret)
    )
    return _read(ctx, gateway)


@router.get("/razorpay", response_model=GatewayRead, responses=problem_responses(404))
async def read_razorpay(_: OwnerUser, session: SessionDep, ctx: ContextDep) -> GatewayRead:
    """The saved Razorpay account, without its secrets; 404 `payment-gateway-not-found` if none
    (online payments then use the sandbox with RAZORPAY_MODE=sandbox, else answer 409
    `gateway-not-configured`)."""
    return _read(ctx, await payment_gateways.get(session))


@router.delete("/razorpay", status_code=status.HTTP_204_NO_CONTENT, responses=problem_responses(404, 409))
async def remove_razorpay(_: OwnerUser, session: SessionDep, ctx: ContextDep) -> Response:
    """Forget the saved keys. Payments already made stay as they are; new online payments need
    keys saved again, and the old webhook URL leads nowhere (a new save makes a new one). Refused
    with 409 `gateway-in-use` (naming how many) while online payments are still open on the
    account (links or checkout orders not paid, cancelled or expired) or refunds pending there."""
    await payment_gateways.remove(session, ctx)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _read(ctx: Context, gateway: PaymentGateway) -> GatewayRead:
    return GatewayRead(
        provider="razorpay",
        key_id=gateway.key_id,
        mode="live" if gateway.key_id.startswith("rzp_live_") else "test",
        key_secret_last4=gateway.key_secret_last4,
        webhook_id=gateway.webhook_id,
        webhook_url=payment_gateways.webhook_url(ctx.settings, gateway),
        webhook_events=list(WEBHOOK_EVENTS),
        sandbox=ctx.settings.razorpay_mode == "sandbox",
        verified=gateway.verified_at is not None,
        verified_at=gateway.verified_at,
        created_at=gateway.created_at,
        updated_at=gateway.updated_at,
    )
