"""A typed client generated from the served spec, as a web app's build would make one
(openapi-python-client, pinned in requirements-dev.txt), works against the served API: sign-up,
login, create and read, and the errors parse into the generated Problem models (a 404 into
Problem, a 402 into QuotaProblem with the plan's limit), not into nothing."""

import importlib
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import httpx
import pytest

from tests.api.v1.subscription_rows import put_on_plan
from tests.conftest import PASSWORD, unique_email

PACKAGE = "rms_client"
BINARY_TYPES = ("application/pdf", "image/png", "image/jpeg", "application/zip")  # zip: the full export (issue 13)


@pytest.fixture(scope="session")
def generated(live_server: str, tmp_path_factory) -> Iterator[ModuleType]:
    """The client package, generated once per session from the live server's /openapi.json."""
    root = tmp_path_factory.mktemp("generated-client")
    spec = root / "openapi.json"
    spec.write_bytes(httpx.get(f"{live_server}/openapi.json").raise_for_status().content)
    bin_dir = Path(sys.executable).parent  # the generator and the ruff it formats with
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    # Binary bodies (PDFs, logo images) are files to the generator: the types it knows by name.
    config = root / "config.json"
    config.write_text(json.dumps({"content_type_overrides": dict.fromkeys(BINARY_TYPES, "application/octet-stream")}))
    command = [bin_dir / "openapi-python-client", "generate", "--path", spec, "--output-path", root / PACKAGE]
    command += ["--config", config]
    done = subprocess.run([*map(str, command), "--meta", "none"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Warning" not in done.stdout + done.stderr, done.stdout + done.stderr  # nothing was skipped
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(root))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def _load(name: str) -> ModuleType:
    return importlib.import_module(f"{PACKAGE}.{name}")


async def test_a_generated_client_signs_up_creates_reads_and_gets_typed_problems(generated, live_server: str, app):
    models, client_module = _load("models"), _load("client")
    auth, users = _load("api.auth.register"), _load("api.users.get_me")
    login, customers = _load("api.auth.login"), _load("api.customers.create_customer")
    read_customer, consume = _load("api.customers.get_customer"), _load("api.usage.consume")

    public = client_module.Client(base_url=live_server)
    email = unique_email("generated")
    body = models.RegisterRequest(email=email, password=PASSWORD, full_name="Asha Rao", business_name="Rao Traders")
    assert (await auth.asyncio_detailed(client=public, body=body)).status_code == 202
    tokens = await login.asyncio(client=public, body=models.LoginRequest(email=email, password=PASSWORD))
    assert isinstance(tokens, models.TokenResponse)
    client = client_module.AuthenticatedClient(base_url=live_server, token=tokens.access_token)
    me = await users.asyncio(client=client)
    assert isinstance(me, models.UserRead) and me.email == email

    kiran = models.CustomerCreate(name="Kiran Stores", billing_address=models.BillingAddress(state_code="29"))
    created = await customers.asyncio_detailed(client=client, body=kiran)
    assert created.status_code == 201 and isinstance(created.parsed, models.CustomerRead)
    read = await read_customer.asyncio(created.parsed.id, client=client)
    assert isinstance(read, models.CustomerRead)
    assert (read.id, read.name) == (created.parsed.id, "Kiran Stores")

    missing = await read_customer.asyncio_detailed(uuid.uuid4(), client=client)
    assert missing.status_code == 404
    assert isinstance(missing.parsed, models.Problem)
    assert (missing.parsed.status, missing.parsed.code) == (404, "customer-not-found")
    assert missing.parsed.type_.endswith("/customer-not-found")
    assert missing.headers["x-request-id"]

    await put_on_plan(app, str(me.tenant_id), "free", "free")  # 1,000 tokens a month
    over = await consume.asyncio_detailed(client=client, body=models.ConsumeRequest(meter="tokens", quantity=1001))
    assert over.status_code == 402
    assert isinstance(over.parsed, models.QuotaProblem)
    problem = over.parsed
    assert (problem.code, problem.limit, problem.limit_value, problem.used) == ("quota-exceeded", "tokens", 1000, 0)
    assert problem.upgrade_plans == ["standard", "premium"]
