"""Settings, read from the environment (and `.env`). Every setting is documented in `.env.example`."""

import json
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEV_JWT_SECRET = "dev-only-secret-change-me-0123456789abcdef"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    env: Literal["dev", "test", "prod"] = "dev"
    log_level: str = "INFO"

    # Database. Unset DATABASE_URL = start the embedded PostgreSQL server.
    database_url: str | None = None
    database_admin_url: str | None = None
    embedded_pg_dir: Path = Path(".data/postgres")
    embedded_db_name: str = "rms"
    app_db_role: str = "rms_app"
    db_pool_size: int = 10
    db_max_overflow: int = 10

    # HTTP
    host: str = "127.0.0.1"
    port: int = 8000
    web_concurrency: int = 1
    # Comma-separated (or a JSON list); NoDecode lets the validator below split it.
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["http://localhost:3000"])
    max_body_bytes: int = 1_048_576
    # Links in emails: <EMAIL_LINK_BASE>/verify-email?token=..., /reset-password, /accept-invite.
    # The default points at this API, whose GET /auth/verify-email makes the verification link work.
    email_link_base: str = "http://127.0.0.1:8000/api/v1/auth"

    # Auth
    jwt_secret: str = DEV_JWT_SECRET
    jwt_issuer: str = "rms-billing"
    jwt_audience: str = "rms-billing-api"
    access_token_minutes: int = 30
    refresh_token_days: int = 7
    bcrypt_rounds: int = 12
    verification_token_hours: int = 48
    reset_token_minutes: int = 30
    invite_token_days: int = 7
    login_limit_per_email: int = 5
    login_limit_per_ip: int = 20
    login_window_seconds: int = 900
    reset_limit_per_email: int = 3
    reset_limit_per_ip: int = 10
    reset_window_seconds: int = 3600

    # Idempotency-Key: how long a stored response can be replayed (at least 24 h)
    idempotency_ttl_hours: int = Field(default=48, ge=24)
    idempotency_wait_seconds: float = 5.0  # a duplicate waits this long for the first, then 409

    # Subscriptions. The trial's length and every plan's limits and price are data (the `plans` table).
    # After the trial (or an unpaid period): free_tier = the free plan's limits; hard_lock = GRACE_DAYS
    # of grace, then every write but auth, billing and upgrade answers 402.
    post_trial_mode: Literal["free_tier", "hard_lock"] = "free_tier"
    grace_days: int = Field(default=3, ge=0, le=90)

    # Razorpay (paid upgrades). sandbox: orders, payments and signatures are made in-process with
    # fixed sandbox secrets (no keys, no network; every response says `"sandbox": true`); refused
    # with ENV=prod. live: the Orders API at RAZORPAY_BASE_URL with the keys below (all three required).
    razorpay_mode: Literal["sandbox", "live"] = "sandbox"
    razorpay_key_id: str | None = None
    razorpay_key_secret: str | None = None
    razorpay_webhook_secret: str | None = None
    razorpay_base_url: str = "https://api.razorpay.com"
    razorpay_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    razorpay_max_retries: int = Field(default=2, ge=0, le=5)

    # Mail. Unset SMTP_HOST = write .eml files to OUTBOX_DIR.
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    smtp_timeout_seconds: float = 10.0
    mail_from: str = "RMS Billing <no-reply@rms-billing.local>"
    outbox_dir: Path = Path(".data/outbox")
    # A failed delivery is retried by the scheduled job with backoff (1, 2, 4 ... minutes, at most
    # 6 hours apart); after this many attempts the message stays pending with its last error.
    mail_max_attempts: int = Field(default=12, ge=1, le=50)

    # Scheduled jobs (`python -m app worker`; `make run` starts one beside the API).
    # A paid period's renewal reminder goes out this many days before its end (0 = none).
    renewal_reminder_days: int = Field(default=3, ge=0, le=30)
    # Jobs a worker runs at once (`python -m app worker --concurrency` overrides it).
    worker_concurrency: int = Field(default=2, ge=1, le=32)
    # "How to upgrade" link in the trial and renewal emails (the web app's billing page).
    upgrade_url: str = "http://127.0.0.1:8000/docs#/tenants"

    # Documents (invoices, credit notes, receipts) may be dated at most this many days after today
    # (Asia/Kolkata); none before GST began (2017-07-01).
    document_future_days: int = Field(default=366, ge=0, le=3660)

    # Demo tenant created on first `make run`
    demo_email: str = "demo@rms-billing.local"
    demo_password: str = "demo-password-123"

    @model_validator(mode="after")
    def _razorpay_configured(self) -> "Settings":
        if self.razorpay_mode == "live":
            keys = ("razorpay_key_id", "razorpay_key_secret", "razorpay_webhook_secret")
            missing = [name.upper() for name in keys if not getattr(self, name)]
            if missing:
                raise ValueError(f"RAZORPAY_MODE=live needs {', '.join(missing)}")
        elif self.env == "prod":
            raise ValueError("RAZORPAY_MODE=sandbox is refused with ENV=prod (anyone could sign a sandbox payment)")
        return self

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            if value.strip().startswith("["):
                return json.loads(value)
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value


@lru_cache
def get_settings() -> Settings:
    return Settings()
