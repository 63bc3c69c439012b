"""The business's own Razorpay webhook: POST /webhooks/razorpay/{webhook_id} (no bearer token:
the signature over the raw body, with that business's webhook secret, is the authentication;
app/services/commerce/gateway_webhooks.py)."""

from typing import Annotated

from fastapi import APIRouter, Header, Path, Request

from app.api.deps import PUBLIC, ContextDep, SessionDep
from app.api.v1.platform.webhooks import SIGNED_JSON
from app.schemas.common import problem_responses
from app.schemas.platform.payments import WebhookResult
from app.services.commerce import gateway_webhooks

router = APIRouter(prefix="/webhooks", tags=["webhooks"])


@router.post(
    "/razorpay/{webhook_id}",
    response_model=WebhookResult,
    responses=problem_responses(400, 404, 413),
    openapi_extra={**SIGNED_JSON, **PUBLIC},
)
async def tenant_razorpay_webhook(
    request: Request,
    session: SessionDep,
    ctx: ContextDep,
    webhook_id: Annotated[
        str,
        Path(pattern=r"^[A-Za-z0-9_-]{16,40}$", description="The business's webhook id (its `webhook_url`)."),
    ],
    x_razorpay_signature: Annotated[
        str,  # noqa: RUF013
        Header(max_length=256, description="Hex HMAC-SHA256 of the raw body with the business's webhook secret."),
    ] = None,  # type: ignore[assignment]
    x_razorpay_event_id: Annotated[
        str,  # noqa: RUF013
        Header(max_length=256, description="Razorpay's event id: the deduplication key."),
    ] = None,  # type: ignore[assignment]
) -> WebhookResult:
    """A business's own Razorpay account's events (the URL its owner gave Razorpay, from
    GET /payment-gateways/razorpay). `payment_link.paid`, `payment.captured` and `order.paid`
    record the payment of the invoice or order it was for (once); `payment.failed` a failed
    attempt; `refund.created`, `refund.processed` and `refund.failed` the state of a refund. Each
    event id has one effect however often it is delivered; states only move forward, so late or
    repeated events change nothing. Unknown webhook id: 404. Unsigned, tampered, or signed with
    another secret (another business's too): 400, nothing written. Events for payments this
    business did not make through this service, and other event types: 200 `ignored`."""
    received = await gateway_webhooks.receive(
        session,
        ctx,
        webhook_id=webhook_id,
        body=await request.body(),
        signature=x_razorpay_signature,
        event_id=x_razorpay_event_id,
    )
    return WebhookResult(result=received.result, detail=received.detail)
