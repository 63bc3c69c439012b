"""Fuzz the whole OpenAPI spec over real HTTP, authenticated, with every schemathesis check:
no server errors, no responses outside the documented schema."""

import re
import time
import uuid
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from tests.conftest import MAILBOXES, PASSWORD, unique_email

API = "/api/v1"
CONFIG = Path(__file__).with_name("schemathesis.toml")


class FuzzOwner:
    """An owner to authenticate as. Fuzzing may change its email or deactivate it: then a
    new owner is registered, so every case runs authenticated."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.email = ""
        self.cached: dict[str, str] | None = None

    def _register(self) -> None:
        self.email = unique_email("fuzz")
        body = {"email": self.email, "password": PASSWORD, "full_name": "Fuzz Owner", "business_name": "Fuzz Co"}
        httpx.post(f"{self.base_url}{API}/auth/register", json=body).raise_for_status()
        self._verify()

    def _verify(self) -> None:
        """Verify the email with the mailed link, so that inviting and paying are fuzzed past 403."""
        for _ in range(200):
            mails = [m for m in MAILBOXES[0].to(self.email) if "Verify your email" in m["Subject"]]
            if mails:
                token = re.findall(r"\?token=([A-Za-z0-9_-]+)", mails[-1].get_body(("plain",)).get_content())[-1]
                response = httpx.post(f"{self.base_url}{API}/auth/verify-email", json={"token": token})
                response.raise_for_status()
                return
            time.sleep(0.05)
        raise AssertionError(f"no verification mail to {self.email}")

    def headers_for(self, path: str) -> dict[str, str]:
        """A fresh session after any case that may have ended it (auth and user routes: a fuzzed
        logout, password change or deactivation); otherwise the same session, as a client would."""
        if self.cached is None:
            self.cached = self.headers()
        headers = self.cached
        if path.startswith((f"{API}/auth", f"{API}/users")):
            self.cached = None
        return headers

    def headers(self) -> dict[str, str]:
        for _ in range(2):
            if self.email:
                login = {"email": self.email, "password": PASSWORD}
                response = httpx.post(f"{self.base_url}{API}/auth/login", json=login)
                if response.status_code == 200:
                    return {"Authorization": f"Bearer {response.json()['access_token']}"}
            self._register()
        raise AssertionError("could not log in a fuzz owner")


@pytest.fixture(scope="module")
def fuzz_owner(live_server: str) -> FuzzOwner:
    return FuzzOwner(live_server)


@pytest.fixture(scope="module")
def api_schema(live_server: str):
    return schemathesis.openapi.from_url(f"{live_server}/openapi.json", config=SchemathesisConfig.from_path(CONFIG))


schema = schemathesis.pytest.from_fixture("api_schema")
PASSWORD_FIELDS = ("password", "new_password")


@schemathesis.hook
def filter_body(ctx, body) -> bool:
    """Passwords are at most 72 UTF-8 bytes, which JSON Schema cannot state (its lengths count
    characters): skip longer generated passwords. tests/api/v1/test_auth.py covers the 422."""
    if not isinstance(body, dict):
        return True
    return all(len(body[field].encode()) <= 72 for field in PASSWORD_FIELDS if isinstance(body.get(field), str))


IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_\-:.]{8,255}$")


def fresh_idempotency_key(case) -> None:
    """A valid generated Idempotency-Key becomes a fresh one: the fuzzer repeats values, and a key
    reused with another body is rightly 422 `idempotency-key-reused` (tested in the idempotency
    tests), which schemathesis would report as a valid request rejected. Invalid keys stay."""
    for name, value in list((case.headers or {}).items()):
        if name.lower() == "idempotency-key" and isinstance(value, str) and IDEMPOTENCY_KEY.match(value):
            case.headers[name] = f"fuzz-{uuid.uuid4().hex}"


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors_and_responses_match_schema(case, live_server: str, fuzz_owner: FuzzOwner):
    fresh_idempotency_key(case)
    case.call_and_validate(base_url=live_server, headers=fuzz_owner.headers_for(case.operation.path))
