"""Inbound webhooks. No bearer token: the signature over the raw body is the authentication.
The body-size limit (BodyLimitMiddleware) applies as to every route."""

from typing import Annotated

from fastapi import APIRouter, Header, Request

from app.api.deps import PUBLIC, ContextDep, SessionDep
from app.schemas.common import problem_responses
from app.schemas.platform.payments import WebhookResult
from app.services.platform import payments

router = APIRouter(prefix="/webhooks", tags=["webhooks"])

SIGNED_JSON = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"type": "object", "description": "A Razorpay webhook event, signed as sent."},
                "example": {
                    "entity": "event",
                    "event": "payment.captured",
                    "payload": {
                        "payment": {
                            "entity": {
                                "id": "pay_RZ3gK8zA1bCdEf",
                                "order_id": "order_RZ3fJ7xY2kLmNp",
                                "amount": 99900,
                                "currency": "INR",
                                "status": "captured",
                            }
                        }
                    },
                },
            }
        },
    }
}


@router.post(
    "/razorpay",
    response_model=WebhookResult,
    responses=problem_responses(400, 413),
    openapi_extra={**SIGNED_JSON, **PUBLIC},
)
async def razorpay_webhook(
    request: Request,
    session: SessionDep,
    ctx: ContextDep,
    x_razorpay_signature: Annotated[
        str,  # noqa: RUF013
        Header(max_length=256, description="Hex HMAC-SHA256 of the raw body with RAZORPAY_WEBHOOK_SECRET."),
    ] = None,  # type: ignore[assignment]
    x_razorpay_event_id: Annotated[
        str,  # noqa: RUF013
        Header(max_length=256, description="Razorpay's event id: the deduplication key."),
    ] = None,  # type: ignore[assignment]
) -> WebhookResult:
    """`payment.captured` and `order.paid` capture the payment and activate its plan (once);
    `payment.failed` marks a payment not yet captured as failed. Each event id has one effect
    however often it is delivered, and states only move forward, so late or repeated events
    change nothing. Unsigned or tampered: 400, nothing written. Events for orders this service
    did not make, and other event types, are answered 200 `ignored`: Razorpay retries anything
    but a 2xx, and those would never succeed."""
    received = await payments.receive_webhook(
        session, ctx, body=await request.body(), signature=x_razorpay_signature, event_id=x_razorpay_event_id
    )
    return WebhookResult(result=received.result, detail=received.detail)
