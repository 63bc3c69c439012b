"""Structured logs: one JSON line per request and per job step, and no secret in any line even at
DEBUG (passwords, access/refresh/reset/email-change tokens, the JWT secret, the webhook secret and
a webhook's signature), whatever the app and the libraries under it (SQLAlchemy, asyncpg, the SMTP
client, httpx) write."""

import io
import json
import logging
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet

from app.core.config import Settings
from app.core.database import drain_background_tasks
from app.core.logging import JsonFormatter, RequestIdFilter, TextFormatter, configure_logging
from app.core.metrics import observe_job
from app.services.platform.scheduler import run_due
from tests.api.v1.members import mailed_token
from tests.api.v1.payment_flow import order
from tests.conftest import PASSWORD, unique_email
from tests.factories import API, login, make_tenant
from tests.fake_razorpay import fake_razorpay, razorpay_app, razorpay_client

__all__ = ["fake_razorpay", "razorpay_app", "razorpay_client"]  # fixtures
# Loggers of the test's own servers (the SMTP server that receives the mail), not the app's.
TEST_SERVERS = ("mail.log",)


class Captured:
    def __init__(self) -> None:
        self.stream = io.StringIO()

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def lines(self) -> list[dict]:
        return [json.loads(line) for line in self.text.splitlines()]

    def requests(self, route: str) -> list[dict]:
        return [line for line in self.lines() if line["logger"] == "app.requests" and line.get("route") == route]


@pytest.fixture
def json_logs_at_debug(settings: Settings) -> Iterator[Captured]:
    """LOG_LEVEL=DEBUG LOG_FORMAT=json as the app configures them, every record captured as the
    app's own handler would write it."""
    captured = Captured()
    handler = logging.StreamHandler(captured.stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    handler.addFilter(lambda record: not record.name.startswith(TEST_SERVERS))
    configure_logging("DEBUG", "json")
    sql = logging.getLogger("sqlalchemy.engine")
    sql_level = sql.level
    sql.setLevel(logging.INFO)  # every statement, as the engine's echo=True would log it
    logging.getLogger().addHandler(handler)
    try:
        yield captured
    finally:
        logging.getLogger().removeHandler(handler)
        sql.setLevel(sql_level)
        configure_logging(settings.log_level, "text")


async def test_no_secret_reaches_a_log_line_at_debug(
    json_logs_at_debug, app, client, mailbox, razorpay_client, razorpay_app, fake_razorpay
):
    settings = app.state.runtime.settings
    secrets = {"password": PASSWORD, "jwt secret": settings.jwt_secret}

    assert (await client.get("/health")).status_code == 200  # a probe: its line is at DEBUG
    owner = await make_tenant(client)  # register, login, users/me
    wrong = "not-the-password-" + uuid.uuid4().hex[:8]
    assert (await client.post(f"{API}/auth/login", json={"email": owner.email, "password": wrong})).status_code == 401
    secrets |= {"wrong password": wrong, "access token": owner.access_token, "refresh token": owner.refresh_token}
    verification = await mailed_token(mailbox, owner.email, "Verify your email")
    assert (await client.post(f"{API}/auth/verify-email", json={"token": verification})).status_code == 200
    secrets["verification token"] = verification

    rotated = await client.post(f"{API}/auth/refresh", json={"refresh_token": owner.refresh_token})
    assert rotated.status_code == 200, rotated.text
    secrets |= {
        "rotated access token": rotated.json()["access_token"],
        "rotated refresh token": rotated.json()["refresh_token"],
    }

    assert (await client.post(f"{API}/auth/forgot-password", json={"email": owner.email})).status_code == 202
    reset = await mailed_token(mailbox, owner.email, "Reset your")
    new_password = "brand-new-" + uuid.uuid4().hex
    body = {"token": reset, "new_password": new_password}
    assert (await client.post(f"{API}/auth/reset-password", json=body)).status_code == 204
    secrets |= {"reset token": reset, "new password": new_password}

    account = await login(client, owner.email, new_password)
    secrets["access token after reset"] = account.access_token
    new_email = unique_email("moved")
    body = {"email": new_email, "current_password": new_password}
    assert (await client.patch(f"{API}/users/me", json=body, headers=account.headers)).status_code == 200
    change = await mailed_token(mailbox, new_email, "Confirm your new RMS Billing login email")
    assert (await client.post(f"{API}/auth/confirm-email-change", json={"token": change})).status_code == 200
    secrets["email change token"] = change

    payer = await make_tenant(razorpay_client)
    ordered = await order(razorpay_client, payer)
    payment_id = fake_razorpay.pay(ordered["order_id"])["razorpay_payment_id"]
    raw, headers = fake_razorpay.event("payment.captured", ordered["order_id"], payment_id)
    delivered = await razorpay_client.post(f"{API}/webhooks/razorpay", content=raw, headers=headers)
    assert delivered.status_code == 200, delivered.text
    secrets |= {
        "webhook secret": fake_razorpay.webhook_secret,
        "key secret": fake_razorpay.key_secret,
        "webhook signature": headers["X-Razorpay-Signature"],
        "payer password": payer.password,
        "payer access token": payer.access_token,
    }
    await drain_background_tasks()

    for name, secret in list(secrets.items()):
        if secret.count(".") == 2:  # a JWT: its signature alone is a secret too
            secrets[f"{name} signature"] = secret.rsplit(".", 1)[1]
    text = json_logs_at_debug.text
    assert '"level": "DEBUG"' in text, "DEBUG lines were not captured"
    assert text.count('"logger": "sqlalchemy.engine') > 100, "the SQL log was not on"
    leaked = [name for name, secret in secrets.items() if secret in text]
    assert leaked == [], f"in the logs: {leaked}"
    assert "SQL parameters hidden" in text

    for route, status in [
        (f"{API}/auth/login", 200),
        (f"{API}/auth/refresh", 200),
        (f"{API}/auth/reset-password", 204),
        (f"{API}/auth/confirm-email-change", 200),
        (f"{API}/webhooks/razorpay", 200),
        (f"{API}/users/me", 200),
    ]:
        lines = json_logs_at_debug.requests(route)
        assert status in [line["status"] for line in lines], (route, lines)
    [me_line] = [line for line in json_logs_at_debug.requests(f"{API}/users/me") if line["method"] == "PATCH"]
    assert (me_line["tenant_id"], me_line["user_id"]) == (account.tenant_id, account.user["id"])
    assert re.fullmatch(r"[0-9a-f]{32}", me_line["request_id"]) and me_line["duration_ms"] > 0


async def test_every_request_has_one_line_with_its_id_and_template(json_logs_at_debug, client):
    owner = await make_tenant(client)
    customer = uuid.uuid4()
    request_id = "trace-" + uuid.uuid4().hex[:12]
    response = await client.get(f"{API}/customers/{customer}", headers=owner.headers | {"X-Request-ID": request_id})
    assert response.status_code == 404
    lines = [line for line in json_logs_at_debug.lines() if line.get("request_id") == request_id]
    assert len(lines) > 1, "the request's SQL lines carry its id too"
    [line] = [line for line in lines if line["logger"] == "app.requests"]
    assert line == line | {
        "logger": "app.requests",
        "level": "INFO",
        "route": f"{API}/customers/{{customer_id:uuid}}",
        "method": "GET",
        "status": 404,
        "tenant_id": owner.tenant_id,
        "user_id": owner.user["id"],
    }
    app_lines = [json.dumps(line) for line in json_logs_at_debug.lines() if line["logger"].startswith("app.")]
    assert app_lines and not [line for line in app_lines if str(customer) in line]  # (the test's httpx logs it)


async def test_a_job_step_logs_task_tenant_outcome_and_duration(json_logs_at_debug, app):
    tenant = uuid.uuid4()
    with observe_job("tick", datetime.now(UTC)):
        await run_due(app.state.runtime, datetime.now(UTC), tenants=[tenant])
    [step] = [line for line in json_logs_at_debug.lines() if line.get("step") == "cleanup"]
    assert step == step | {"logger": "app.jobs.steps", "task": "tick", "outcome": "ok"}
    assert step["duration_ms"] >= 0 and "tenant_id" not in step  # the cleanup runs for all tenants at once


def test_text_format_reads_as_a_line_and_json_format_as_an_object():
    record = logging.LogRecord("app.requests", logging.INFO, __file__, 1, "GET %s 200", ("/health",), None)
    record.request_id, record.route, record.status = "abc", "/health", 200
    assert TextFormatter().format(record).endswith("INFO app.requests: GET /health 200 [abc]")
    parsed = json.loads(JsonFormatter().format(record))
    assert parsed | {"ts": None} == {
        "ts": None,
        "level": "INFO",
        "logger": "app.requests",
        "msg": "GET /health 200",
        "request_id": "abc",
        "route": "/health",
        "status": 200,
    }


def test_log_format_follows_the_environment_unless_set():
    assert Settings(env="dev").log_format == "text"
    assert Settings(env="test", log_format="json").log_format == "json"
    prod = {
        "env": "prod",
        "jwt_secret": "x" * 40,
        "razorpay_mode": "live",
        "razorpay_key_id": "k",
        "razorpay_key_secret": "s",
        "razorpay_webhook_secret": "w",
        "payment_secret_keys": Fernet.generate_key().decode(),
    }
    assert Settings(**prod).log_format == "json"
    assert Settings(**prod, log_format="text").log_format == "text"
