"""Settings, read from the environment (and `.env`). Every setting is documented in `.env.example`."""

import json
import os
import uuid
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app.core.secret_box import DEV_PAYMENT_SECRET_KEY, key_problem

DEV_JWT_SECRET = "dev-only-secret-change-me-0123456789abcdef"
MIN_JWT_SECRET_BYTES = 32  # HS256 keys: at least the hash's output size (RFC 7518 s.3.2)
MIN_METRICS_TOKEN_CHARS = 24


def jwt_secret_problem(secret: str) -> str | None:
    """Why this HS256 secret is unfit for production, or None."""
    if secret == DEV_JWT_SECRET:
        return "JWT_SECRET is the development default"
    if len(secret.encode()) < MIN_JWT_SECRET_BYTES:
        return f"JWT_SECRET is shorter than {MIN_JWT_SECRET_BYTES} bytes"
    return None


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity mask, which a container's cpuset narrows)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


class Settings(BaseSettings):
    # hide_input_in_errors: a refused setting's error (printed at startup) must not quote the
    # input, which holds every setting: JWT_SECRET, PAYMENT_SECRET_KEYS, the Razorpay secrets.
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", hide_input_in_errors=True)

    env: Literal["dev", "test", "prod"] = "dev"
    log_level: str = "INFO"
    # json: one JSON object per line (request lines, job steps, everything else); text: for a person
    # at a terminal. Unset = json with ENV=prod, text otherwise.
    log_format: Literal["json", "text"] | None = None  # never None once validated (_derive_log_format)

    # GET /metrics (Prometheus text format). loopback: only clients on this machine (after
    # FORWARDED_ALLOW_IPS; a bearer METRICS_TOKEN, if set, also admits others); token: a bearer
    # METRICS_TOKEN from any client; off: 404. Refused and off both answer 404.
    metrics_access: Literal["loopback", "token", "off"] = "loopback"
    metrics_token: str | None = None

    # Database. Unset DATABASE_URL = start the embedded PostgreSQL server.
    database_url: str | None = None
    database_admin_url: str | None = None
    embedded_pg_dir: Path = Path(".data/postgres")
    embedded_db_name: str = "rms"
    app_db_role: str = "rms_app"
    db_pool_size: int = 10
    db_max_overflow: int = 10
    # A pooled connection idle this many seconds is pinged before use (a dead one is replaced);
    # 0 = ping on every checkout (three round trips each time).
    db_ping_after_idle_seconds: float = Field(default=10.0, ge=0)
    # False behind a transaction-mode pooler that does not track prepared statements (PgBouncer < 1.21,
    # or max_prepared_statements = 0): no statement cache, uniquely named statements (README, "Running
    # at scale"). PgBouncer >= 1.21 with max_prepared_statements > 0 keeps the cache: leave it True.
    db_prepared_statement_cache: bool = True

    # HTTP
    host: str = "127.0.0.1"
    port: int = 8000
    # uvicorn worker processes `serve` starts. Unset: 1 outside prod, the CPUs this process may run
    # on with ENV=prod (_default_workers).
    web_concurrency: int | None = Field(default=None, ge=1, le=256)  # never None once validated
    # Comma-separated (or a JSON list); NoDecode lets the validator below split it.
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["http://localhost:3000"])
    max_body_bytes: int = 1_048_576
    # PDFs (app/services/documents/document_pdfs.py, app/core/cpu_work.py): how many renders run at once in this
    # process (off the event loop; the rest wait their turn), on a pool of that many worker processes
    # ("process") or threads ("thread": no child processes, renders share this process's GIL), and the
    # in-process cache of issued documents' rendered bytes (least recently used out first; 0 = none).
    pdf_render_concurrency: int = Field(default=2, ge=1, le=32)
    pdf_render_pool: Literal["process", "thread"] = "process"
    pdf_cache_bytes: int = Field(default=64 * 1024 * 1024, ge=0)
    # Links in emails: <EMAIL_LINK_BASE>/verify-email?token=..., /reset-password, /accept-invite,
    # /confirm-email-change, /cancel-email-change (pages that POST the token to the API).
    # Unset = this server's own pages, http://<HOST>:<PORT>/pages (app/api/pages.py), so the links
    # follow PORT; in production set it to the web app's pages.
    email_link_base: str | None = None  # never None once validated (_derive_links)

    # Auth
    jwt_secret: str = DEV_JWT_SECRET
    jwt_issuer: str = "rms-billing"
    jwt_audience: str = "rms-billing-api"
    # Seconds of clock skew tolerated on an access token's `iat` (issued in the future beyond it: 401).
    jwt_leeway_seconds: int = Field(default=30, ge=0, le=300)
    access_token_minutes: int = 30
    refresh_token_days: int = 7
    # A rotated refresh token presented again within this many seconds (two tabs, a retried request)
    # gets its successor again instead of revoking the family (0 = no grace).
    refresh_reuse_grace_seconds: int = Field(default=30, ge=0, le=300)
    bcrypt_rounds: int = 12
    verification_token_hours: int = 48
    reset_token_minutes: int = 30
    # A requested login-email change waits this long for the new address to confirm it.
    email_change_token_hours: int = Field(default=24, ge=1, le=168)
    invite_token_days: int = 7
    # Rate limits (fixed windows, at most a day long: the cleanup keeps a day of counters).
    # Failed logins: per (email, client IP) pair, so a stranger exhausts only their own pair's
    # attempts, not the owner's; per email across all IPs a higher ceiling (a distributed guess is
    # still bounded); and per IP.
    login_limit_per_email_ip: int = Field(default=5, ge=1)
    login_limit_per_email: int = Field(default=50, ge=1)
    login_limit_per_ip: int = Field(default=20, ge=1)
    login_window_seconds: int = Field(default=900, ge=1, le=86_400)
    # Wrong current passwords per user per LOGIN_WINDOW_SECONDS before a credential change (email,
    # password) answers 429: what a stolen access token may guess.
    password_check_limit: int = Field(default=5, ge=1)
    reset_limit_per_email: int = Field(default=3, ge=1)
    reset_limit_per_ip: int = Field(default=10, ge=1)
    reset_window_seconds: int = Field(default=3600, ge=1, le=86_400)
    # Sign-ups per email and per IP; an existing address gets at most one "already registered" mail
    # per window.
    register_limit_per_email: int = Field(default=3, ge=1)
    register_limit_per_ip: int = Field(default=10, ge=1)
    register_window_seconds: int = Field(default=3600, ge=1, le=86_400)
    # Invitations a business may send per window.
    invite_limit_per_tenant: int = Field(default=20, ge=1)
    invite_window_seconds: int = Field(default=3600, ge=1, le=86_400)
    # Client addresses (IPs or CIDRs, comma-separated; "*" = any) of the reverse proxies whose
    # X-Forwarded-For / X-Forwarded-Proto are believed. Empty = none: the client address is the TCP
    # peer's (rate limits, audit). Set it to your proxy's address when one is in front.
    forwarded_allow_ips: Annotated[list[str], NoDecode] = Field(default_factory=list)

    # Idempotency-Key: how long a stored response can be replayed (at least 24 h)
    idempotency_ttl_hours: int = Field(default=48, ge=24)
    idempotency_wait_seconds: float = 5.0  # a duplicate waits this long for the first, then 409

    # Subscriptions. The trial's length and every plan's limits and price are data (the `plans` table).
    # After the trial (or an unpaid period): free_tier = the free plan's limits; hard_lock = GRACE_DAYS
    # of grace, then every write but auth, billing and upgrade answers 402.
    post_trial_mode: Literal["free_tier", "hard_lock"] = "free_tier"
    grace_days: int = Field(default=3, ge=0, le=90)
    # POST /tenants/me/delete closes the tenant at once; its data is purged this many days later unless
    # the owner cancels (POST /tenants/deletion/cancel) before then.
    tenant_deletion_grace_days: int = Field(default=30, ge=1, le=90)

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
    # Keys encrypting the tenants' own gateway secrets at rest (app.core.secret_box): Fernet keys,
    # comma-separated, newest first (the newest encrypts, any decrypts: rotation). Outside prod a
    # fixed public development key is the default; ENV=prod requires keys of its own.
    payment_secret_keys: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: [DEV_PAYMENT_SECRET_KEY], repr=False
    )

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
    # 6 hours apart); after this many attempts the message is `failed`, with its last error.
    mail_max_attempts: int = Field(default=12, ge=1, le=50)
    # Customer mail (documents, reminders) a tenant may send per hour when its plan's
    # `customer_emails_per_hour` is NULL (each plan of the catalog sets its own: migration 0018).
    customer_emails_per_hour: int = Field(default=100, ge=0, le=100_000)

    # Outbound webhooks (issue 13 §4: app.services.platform.webhook_delivery). A target whose host
    # resolves to a private, loopback, link-local, CGNAT, multicast or reserved address is refused at
    # save and at every delivery, unless this is true (tests and a local receiver only; never in prod).
    webhook_allow_private_targets: bool = False
    # One delivery attempt's time limit (connect + send + the answer's status line), seconds.
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=30)

    # Orders (issue 12 §3): a placed order paid online holds its stock this many minutes; the
    # scheduled job then releases it and cancels the order unless it was paid.
    order_hold_minutes: int = Field(default=15, ge=1, le=1440)

    # Scheduled jobs (`python -m app worker`; `make run` starts one beside the API).
    # A paid period's renewal reminder goes out this many days before its end (0 = none).
    renewal_reminder_days: int = Field(default=3, ge=0, le=30)
    # The SaaS's own GST invoice for each captured plan payment (issue 13 §5): issued by this tenant
    # (the product's own business, registered like any other) from this company of it. Both unset:
    # no SaaS invoices are issued (payments still capture and activate plans). README "SaaS invoices".
    platform_tenant_id: uuid.UUID | None = None
    platform_company_id: uuid.UUID | None = None
    # Jobs a worker runs at once (`python -m app worker --concurrency` overrides it).
    worker_concurrency: int = Field(default=2, ge=1, le=32)
    # "How to upgrade" link in the trial and renewal emails (the web app's billing page).
    # Unset = http://<HOST>:<PORT>/docs#/tenants.
    upgrade_url: str | None = None  # never None once validated (_derive_links)

    # Share links (POST /invoices/{id}/share) and the public invoice page they open, GET /p/<token>.
    # PUBLIC_BASE_URL: the origin customers reach this server's /p pages at (unset = http://<HOST>:<PORT>,
    # like EMAIL_LINK_BASE); a link is <PUBLIC_BASE_URL>/p/<token>.
    public_base_url: str | None = None  # never None once validated (_derive_links)
    # A new link lives this many days unless the request asks for another length, up to the maximum.
    share_link_ttl_days: int = Field(default=30, ge=1, le=366)
    share_link_max_ttl_days: int = Field(default=180, ge=1, le=366)
    # The public page by client IP: requests per minute, and wrong/expired/revoked links per hour
    # (stricter, so tokens cannot be guessed by trying); over either, 429 with Retry-After.
    public_page_limit_per_ip: int = Field(default=60, ge=1)
    public_page_misses_per_ip: int = Field(default=20, ge=1)

    # The tenant's full export (POST /tenants/me/export, app/services/platform/tenant_data.py): how long
    # the mailed download link (and the zip kept in the database) lives, how many exports a tenant may
    # request per 24 hours, and how many build attempts (with backoff) before an export is `failed`.
    tenant_export_ttl_hours: int = Field(default=72, ge=1, le=24 * 30)
    tenant_export_daily_limit: int = Field(default=5, ge=1, le=100)
    tenant_export_max_attempts: int = Field(default=5, ge=1, le=20)
    # A spreadsheet export (GET /invoices/export ...) holds a read transaction and a pooled connection
    # while the client downloads: a client that stops reading for this long (one chunk not taken) is
    # dropped, so stalled downloads cannot pin the pool.
    export_send_timeout_seconds: float = Field(default=60.0, gt=0, le=3600)

    # Payment links (POST /invoices/{id}/payment-link): a Razorpay Payment Link on the tenant's own
    # account lives this many days unless the request asks for another length, up to the maximum.
    payment_link_ttl_days: int = Field(default=30, ge=1, le=366)
    payment_link_max_ttl_days: int = Field(default=180, ge=1, le=366)

    # Documents (invoices, credit notes, receipts) may be dated at most this many days after today
    # (Asia/Kolkata); none before GST began (2017-07-01).
    document_future_days: int = Field(default=366, ge=0, le=3660)

    # Demo tenant created on first `make run`
    demo_email: str = "demo@rms-billing.local"
    demo_password: str = "demo-password-123"

    @property
    def public_origin(self) -> str:
        """http://<HOST>:<PORT> as a browser on this machine reaches it (a wildcard HOST is localhost)."""
        wildcard = ("", "0.0.0.0", "::")  # noqa: S104 (compared with, not bound)
        host = "localhost" if self.host in wildcard else self.host
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    @model_validator(mode="after")
    def _derive_links(self) -> "Settings":
        """Links not set explicitly follow HOST and PORT (PORT=8101 make run mails links to 8101).
        Written past __setattr__ so that `model_fields_set` still tells a derived value from a set one."""
        self.__dict__["email_link_base"] = (self.email_link_base or f"{self.public_origin}/pages").rstrip("/")
        self.__dict__["upgrade_url"] = self.upgrade_url or f"{self.public_origin}/docs#/tenants"
        self.__dict__["public_base_url"] = (self.public_base_url or self.public_origin).rstrip("/")
        return self

    @model_validator(mode="after")
    def _share_link_ttl_within_maximum(self) -> "Settings":
        if self.share_link_ttl_days > self.share_link_max_ttl_days:
            raise ValueError("SHARE_LINK_TTL_DAYS is longer than SHARE_LINK_MAX_TTL_DAYS")
        if self.payment_link_ttl_days > self.payment_link_max_ttl_days:
            raise ValueError("PAYMENT_LINK_TTL_DAYS is longer than PAYMENT_LINK_MAX_TTL_DAYS")
        return self

    @model_validator(mode="after")
    def _default_workers(self) -> "Settings":
        """WEB_CONCURRENCY unset: one worker in development and tests, one per usable CPU in prod.
        Written past __setattr__ (as _derive_links) so `model_fields_set` still tells it was derived."""
        if self.web_concurrency is None:
            self.__dict__["web_concurrency"] = usable_cpus() if self.env == "prod" else 1
        return self

    @model_validator(mode="after")
    def _derive_log_format(self) -> "Settings":
        if self.log_format is None:
            self.__dict__["log_format"] = "json" if self.env == "prod" else "text"
        return self

    @model_validator(mode="after")
    def _metrics_token_usable(self) -> "Settings":
        if self.metrics_token is not None and len(self.metrics_token) < MIN_METRICS_TOKEN_CHARS:
            raise ValueError(f"METRICS_TOKEN is shorter than {MIN_METRICS_TOKEN_CHARS} characters")
        if self.metrics_access == "token" and not self.metrics_token:
            raise ValueError("METRICS_ACCESS=token needs METRICS_TOKEN")
        return self

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

    @model_validator(mode="after")
    def _payment_secret_keys_usable(self) -> "Settings":
        if not self.payment_secret_keys:
            raise ValueError("PAYMENT_SECRET_KEYS is empty")
        for position, key in enumerate(self.payment_secret_keys, start=1):
            problem = key_problem(key)
            if problem:
                raise ValueError(
                    f"PAYMENT_SECRET_KEYS: key {position} {problem} (a Fernet key: 32 url-safe base64 bytes)"
                )
        if self.env == "prod" and DEV_PAYMENT_SECRET_KEY in self.payment_secret_keys:
            raise ValueError("PAYMENT_SECRET_KEYS holds the development key; refused with ENV=prod")
        return self

    @field_validator("platform_tenant_id", "platform_company_id", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @model_validator(mode="after")
    def _platform_complete(self) -> "Settings":
        """Both or neither: one alone would silently issue no SaaS invoice."""
        if (self.platform_tenant_id is None) != (self.platform_company_id is None):
            missing = "PLATFORM_COMPANY_ID" if self.platform_company_id is None else "PLATFORM_TENANT_ID"
            raise ValueError(f"{missing} is unset: set both PLATFORM_TENANT_ID and PLATFORM_COMPANY_ID, or neither")
        return self

    @model_validator(mode="after")
    def _no_private_webhooks_in_prod(self) -> "Settings":
        if self.env == "prod" and self.webhook_allow_private_targets:
            raise ValueError("WEBHOOK_ALLOW_PRIVATE_TARGETS=true is refused with ENV=prod (SSRF)")
        return self

    @model_validator(mode="after")
    def _jwt_secret_strong_in_prod(self) -> "Settings":
        problem = jwt_secret_problem(self.jwt_secret)
        if self.env == "prod" and problem:
            raise ValueError(f"{problem}; refused with ENV=prod")
        return self

    @field_validator("cors_origins", "forwarded_allow_ips", "payment_secret_keys", mode="before")
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
