"""GET /metrics: counters that move with real requests, route templates (never raw paths), access
by METRICS_ACCESS, and several worker processes summed into one scrape (multiprocess mode)."""

import asyncio
import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import ValidationError

from app.core.config import Settings
from app.core.database import drain_background_tasks
from app.jobs.queue import connected
from app.jobs.tasks import tick
from app.jobs.worker import run_worker
from app.main import create_app
from app.models.base import utcnow
from tests.api.v1.invoicing import Party, line
from tests.conftest import free_port, fresh_ip
from tests.factories import API, make_tenant

CUSTOMER = f"{API}/customers/{{customer_id:uuid}}"
ID_SEGMENT = re.compile(r"/([0-9a-f-]{32,36}|[0-9]+)(/|$)")  # a uuid or a number where a template has {name}


def samples(text: str) -> list[tuple[str, dict[str, str], float]]:
    return [(s.name, s.labels, s.value) for family in text_string_to_metric_families(text) for s in family.samples]


def value(text: str, name: str, **labels: str) -> float:
    """The sum of the samples named `name` whose labels include `labels` (0 when none)."""
    return sum(v for n, got, v in samples(text) if n == name and labels.items() <= got.items())


@asynccontextmanager
async def client_at(app, host: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=(host, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


async def scrape(app) -> str:
    async with client_at(app, "127.0.0.1") as local:
        response = await local.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return response.text


class TestCounters:
    async def test_a_404_counts_under_its_route_template_and_no_raw_path_reaches_a_label(self, app, client):
        owner = await make_tenant(client)
        missing, stray = uuid.uuid4(), uuid.uuid4().hex
        before = await scrape(app)
        assert (await client.get(f"{API}/customers/{missing}", headers=owner.headers)).status_code == 404
        assert (await client.get(f"/no-such-page/{stray}")).status_code == 404
        after = await scrape(app)
        labels = {"method": "GET", "status": "404"}
        assert value(after, "http_requests_total", route=CUSTOMER, **labels) == 1 + value(
            before, "http_requests_total", route=CUSTOMER, **labels
        )
        assert value(after, "http_requests_total", route="unmatched", **labels) == 1 + value(
            before, "http_requests_total", route="unmatched", **labels
        )
        assert value(after, "http_request_duration_seconds_count", route=CUSTOMER, method="GET") >= 1
        assert str(missing) not in after and stray not in after
        routes = {got["route"] for n, got, _ in samples(after) if n == "http_requests_total"}
        assert routes and all(route == "unmatched" or ID_SEGMENT.search(route) is None for route in routes), routes

    async def test_402_and_429_answers_count_by_problem_code(self, app, client):
        owner = await make_tenant(client)
        email = f"nobody-{uuid.uuid4().hex[:8]}@example.in"
        before = await scrape(app)
        unpaid = await client.post(f"{API}/tokens/set-plan", json={"plan": "standard"}, headers=owner.headers)
        assert (unpaid.status_code, unpaid.json()["code"]) == (402, "payment-required"), unpaid.text
        statuses = [
            (await client.post(f"{API}/auth/login", json={"email": email, "password": "wrong-password-1"})).status_code
            for _ in range(app.state.runtime.settings.login_limit_per_email_ip + 1)
        ]
        assert statuses[-1] == 429, statuses
        after = await scrape(app)
        assert value(after, "http_problems_total", status="429", code="rate-limited") == 1 + value(
            before, "http_problems_total", status="429", code="rate-limited"
        )
        assert value(after, "http_requests_total", route=f"{API}/auth/login", method="POST", status="429") >= 1
        assert value(after, "http_problems_total", status="402", code="payment-required") == 1 + value(
            before, "http_problems_total", status="402", code="payment-required"
        )

    async def test_an_idempotent_replay_counts_once(self, app, client, today):
        party = await Party.make(client, await make_tenant(client))
        body = {"company_id": party.company["id"], "customer_id": party.customer["id"], "lines": [line()]}
        headers = party.account.headers | {"Idempotency-Key": f"metrics-{uuid.uuid4()}"}
        before = await scrape(app)
        first = await client.post(f"{API}/invoices", json=body, headers=headers)
        again = await client.post(f"{API}/invoices", json=body, headers=headers)
        assert (first.status_code, again.status_code) == (201, 201), again.text
        assert again.headers["idempotent-replayed"] == "true"
        after = await scrape(app)
        replays = [value(text, "idempotent_replays_total", route=f"{API}/invoices") for text in (before, after)]
        assert replays[1] == replays[0] + 1

    async def test_the_pool_connections_and_outbox_are_reported(self, app, client):
        await make_tenant(client)  # a sign-up mails a verification link through the outbox
        await drain_background_tasks()
        text = await scrape(app)
        assert value(text, "db_pool_checkouts_total", process="api") > 0
        assert value(text, "db_pool_connections_in_use", process="api") >= 0
        names = {n for n, _, _ in samples(text)}
        assert {"outbox_pending_emails", "outbox_undeliverable_emails", "outbox_oldest_pending_age_seconds"} <= names

    async def test_a_worker_run_counts_the_tick_its_lag_its_steps_and_its_pool(self, app, settings):
        """A real procrastinate worker (in-process, so its values are this process's) runs a tick."""
        text = await scrape(app)
        before = [
            value(text, "job_runs_total", task="tick", outcome="ok"),
            value(text, "job_lag_seconds_count"),
            value(text, "job_steps_total", step="cleanup"),
            value(text, "db_pool_checkouts_total", process="worker"),
        ]
        async with connected(settings.database_url):
            await tick.defer_async(timestamp=int(utcnow().timestamp()))
        run = run_worker(settings, settings.database_url, concurrency=1, wait=False, install_signal_handlers=False)
        await asyncio.wait_for(run, timeout=60)
        text = await scrape(app)
        assert value(text, "job_runs_total", task="tick", outcome="ok") == before[0] + 1
        assert value(text, "job_lag_seconds_count", task="tick") == before[1] + 1
        assert value(text, "job_steps_total", step="cleanup", outcome="ok") == before[2] + 1
        assert value(text, "db_pool_checkouts_total", process="worker") > before[3]


class TestAccess:
    async def test_a_client_off_this_machine_gets_the_404_of_an_unknown_path(self, app):
        async with client_at(app, fresh_ip()) as remote:
            refused = await remote.get("/metrics")
            unknown = await remote.get(f"/{uuid.uuid4().hex}")
        assert refused.status_code == unknown.status_code == 404
        assert refused.json()["code"] == unknown.json()["code"]
        assert "http_requests_total" not in refused.text

    async def test_the_token_admits_any_client_and_nothing_else_does(self, settings):
        token = "t" * 12 + uuid.uuid4().hex
        app = create_app(settings.model_copy(update={"metrics_access": "token", "metrics_token": token}))
        async with (
            app.router.lifespan_context(app),
            client_at(app, fresh_ip()) as remote,
            client_at(app, "127.0.0.1") as local,
        ):
            assert (await remote.get("/metrics", headers={"Authorization": f"Bearer {token}"})).status_code == 200
            assert (await remote.get("/metrics", headers={"Authorization": f"Bearer {token}x"})).status_code == 404
            assert (await remote.get("/metrics", headers={"Authorization": f"Basic {token}"})).status_code == 404
            assert (await local.get("/metrics")).status_code == 404  # token mode: loopback is not enough

    async def test_off_answers_404_to_everyone(self, settings):
        app = create_app(settings.model_copy(update={"metrics_access": "off"}))
        async with app.router.lifespan_context(app), client_at(app, "127.0.0.1") as local:
            assert (await local.get("/metrics")).status_code == 404

    async def test_behind_a_trusted_proxy_the_forwarded_client_decides(self, settings):
        """A proxy on this machine: what counts is the client it names, not the proxy's loopback."""
        app = create_app(settings.model_copy(update={"forwarded_allow_ips": ["127.0.0.1"]}))
        async with app.router.lifespan_context(app), client_at(app, "127.0.0.1") as proxy:
            assert (await proxy.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})).status_code == 404
            assert (await proxy.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"})).status_code == 200

    def test_token_mode_needs_a_long_token(self):
        with pytest.raises(ValidationError, match="METRICS_ACCESS=token needs METRICS_TOKEN"):
            Settings(env="test", metrics_access="token")
        with pytest.raises(ValidationError, match="METRICS_TOKEN is shorter than 24"):
            Settings(env="test", metrics_token="short")
        assert Settings(env="test", metrics_access="token", metrics_token="x" * 24).metrics_token == "x" * 24

    def test_the_endpoint_is_not_in_the_spec(self, app):
        assert "/metrics" not in app.openapi()["paths"]


async def test_two_workers_report_through_one_scrape(settings, database_urls, tmp_path: Path):
    """`python -m app serve` with WEB_CONCURRENCY=2: each worker writes its own files under
    PROMETHEUS_MULTIPROC_DIR (emptied of a previous run's at start), any worker's scrape sums them."""
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_999999.db").write_bytes(b"left by an earlier run")
    port = free_port()
    env = {
        **os.environ,
        "ENV": "test",
        "DATABASE_URL": database_urls.app,
        "DATABASE_ADMIN_URL": database_urls.admin,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "OUTBOX_DIR": str(tmp_path / "outbox"),
        "LOG_LEVEL": "INFO",
        "LOG_FORMAT": "json",
    }
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app",
        "serve",
        "--no-migrate",
        "--no-demo",
        "--no-worker",
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        await _wait_until_serving(base, server)
        requests = 80

        async def one() -> int:  # a connection of its own, so the kernel may hand it to either worker
            async with httpx.AsyncClient(base_url=base, timeout=30) as c:
                return (await c.get(f"{API}/health")).status_code

        assert await asyncio.gather(*(one() for _ in range(requests))) == [200] * requests
        writers = {path.stem.rsplit("_", 1)[1] for path in metrics_dir.glob("*.db")}
        assert "999999" not in writers, "a previous run's values were summed"
        assert len(writers) >= 2, writers
        for _ in range(4):  # whichever worker answers the scrape, it reports both workers' requests
            async with httpx.AsyncClient(base_url=base, timeout=30) as c:
                text = (await c.get("/metrics")).text
            count = value(text, "http_requests_total", route=f"{API}/health", method="GET", status="200")
            assert count == requests + 1  # and the first answer of _wait_until_serving
        async with httpx.AsyncClient(base_url=base, timeout=30) as c:
            for _ in range(3):
                assert (await c.get(f"{API}/users/me")).status_code == 401
    finally:
        server.terminate()
        try:
            await asyncio.wait_for(server.wait(), timeout=30)
        except TimeoutError:
            server.kill()
            await server.wait()
    lines = [json.loads(line) for line in (await server.stderr.read()).decode().splitlines()]
    me = [line for line in lines if line.get("route") == f"{API}/users/me"]
    assert [(line["logger"], line["status"]) for line in me] == [("app.requests", 401)] * 3  # once each, as JSON
    assert not [line for line in lines if line["logger"] == "uvicorn.access"]


async def _wait_until_serving(base: str, server: asyncio.subprocess.Process, seconds: float = 90) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    async with httpx.AsyncClient(base_url=base, timeout=5) as c:
        while True:
            if server.returncode is not None:
                stderr = (await server.stderr.read()).decode() if server.stderr else ""
                pytest.fail(f"serve exited: {stderr[-2000:]}")
            try:
                if (await c.get(f"{API}/health")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if asyncio.get_running_loop().time() > deadline:
                pytest.fail("serve did not start")
            await asyncio.sleep(0.2)
