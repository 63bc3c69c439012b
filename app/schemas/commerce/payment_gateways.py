"""The tenant's own Razorpay account: what the owner saves, and what anyone is shown (never a
secret: the key id, the key secret's last 4 characters, the webhook URL to give Razorpay)."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints

from app.schemas.common import ReadModel, RequestBody

# Razorpay's key ids: rzp_test_... in test mode, rzp_live_... in live mode.
KEY_ID_PATTERN = r"^rzp_(test|live)_[A-Za-z0-9]{6,40}$"
# Secrets: printable ASCII without spaces (what Razorpay's dashboard gives, and what it accepts
# for a webhook secret); bounded so a body cannot make us encrypt megabytes.
SECRET_PATTERN = r"^[!-~]+$"


class GatewaySave(RequestBody):
    key_id: Annotated[str, StringConstraints(pattern=KEY_ID_PATTERN)] = Field(
        description="Dashboard > Account & Settings > API keys: the key id (rzp_test_... or rzp_live_...).",
        examples=["rzp_test_1DP5mmOlF5G5ag"],
    )
    key_secret: Annotated[str, StringConstraints(min_length=8, max_length=128, pattern=SECRET_PATTERN)] = Field(
        description="The key secret shown once when the key was generated. Stored encrypted, never shown again.",
        examples=["thisisthekeysecret0042"],
        repr=False,  # nor in the body's repr / str (a log line, an error report)
    )
    webhook_secret: Annotated[str, StringConstraints(min_length=8, max_length=128, pattern=SECRET_PATTERN)] = Field(
        description="The secret typed when adding the webhook (Dashboard > Webhooks) whose URL is this "
        "business's `webhook_url`. Stored encrypted, never shown again.",
        examples=["whsec-sharma-traders-2026"],
        repr=False,
    )

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "key_id": "rzp_test_1DP5mmOlF5G5ag",
                    "key_secret": "thisisthekeysecret0042",
                    "webhook_secret": "whsec-sharma-traders-2026",
                }
            ]
        },
    )


class GatewayRead(ReadModel):
    provider: Literal["razorpay"]
    key_id: str
    mode: Literal["test", "live"] = Field(description="From the key id: test keys move no money.")
    key_secret_last4: str = Field(description="The last 4 characters of the key secret, to tell keys apart.")
    webhook_id: str
    webhook_url: str = Field(
        description="Give Razorpay this URL (Dashboard > Webhooks > Add new webhook) with the webhook secret "
        "saved here, and the events in `webhook_events`."
    )
    webhook_events: list[str]
    sandbox: bool = Field(
        description="true: this server runs RAZORPAY_MODE=sandbox: the keys were not checked with Razorpay and "
        "online payments use the in-process sandbox (no money moves)."
    )
    verified: bool = Field(
        description="true: Razorpay accepted the keys when they were last saved (every save outside sandbox "
        "checks them). false: saved unchecked in sandbox mode; a live server refuses payments on them (409 "
        "`gateway-not-verified`) until they are saved again."
    )
    verified_at: datetime | None = Field(
        description="When Razorpay last accepted the keys (their last save outside sandbox); null if never checked."
    )
    created_at: datetime
    updated_at: datetime
