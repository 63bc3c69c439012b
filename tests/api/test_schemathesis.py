"""Fuzz the whole OpenAPI spec over real HTTP, authenticated, with every schemathesis check:
no server errors, no responses outside the documented schema.

Three ways in: every operation with generated data, schema-valid and schema-invalid (examples,
coverage and fuzzing phases); the same case again with one parameter contaminated (a control
character in a query or path parameter, a forged or altered `cursor`), which must be a 4xx; and
the stateful phase, which follows the spec's links from each create to the operations on what it
created, so that deep operations see real ids instead of random UUIDs that only ever answer 404.
Any 5xx fails. The figures (operations, cases, distinct non-404 answers) are printed at the end
and written to .data/fuzz-figures.json."""

import base64
import contextlib
import json
import random
import re
import time
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from hypothesis.errors import Flaky
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


class FuzzFigures:
    """What the fuzzing reached: operations, cases (requests) and distinct answers other than 404."""

    def __init__(self) -> None:
        self.operations: set[str] = set()
        self.cases: Counter[str] = Counter()
        self.answers: set[tuple[str, int]] = set()

    def record(self, phase: str, method: str, path: str, status: int) -> None:
        operation = f"{method.upper()} {path}"
        self.operations.add(operation)
        self.cases[phase] += 1
        if status != 404:
            self.answers.add((operation, status))

    def summary(self) -> dict:
        return {
            "operations": len(self.operations),
            "cases": dict(self.cases, total=sum(self.cases.values())),
            "distinct_non_404_answers": len(self.answers),
            "statuses": dict(sorted(Counter(str(status) for _, status in self.answers).items())),
        }


FIGURES = FuzzFigures()


@pytest.fixture(scope="module", autouse=True)
def fuzz_figures(request):
    yield FIGURES
    if not FIGURES.operations:
        return
    summary = FIGURES.summary()
    out = Path(".data") / "fuzz-figures.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(summary, indent=2) + "\n")
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"fuzzing figures: {json.dumps(summary)}")


# A control character in a parameter is a 422 (QueryTextMiddleware, or the parameter's own type).
CONTROLS = ["\x00", "\x07", "\t", "\n", "\r", "\x1b", "\x7f", "\x85"]
_rng = random.Random(8)


def _b64(values: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).rstrip(b"=").decode()


# Cursors this API did not issue: NUL values, an impossible offset, junk, a signed-looking prefix.
FORGED_CURSORS = [
    _b64(["\u0000", "\u0000"]),
    _b64(["2026-01-01T00:00:00+99:99", str(uuid.uuid4())]),
    _b64(["NaN", "x"]),
    base64.urlsafe_b64encode(b"\x00" * 16 + b'["1"]').rstrip(b"=").decode(),
]


def contaminated(case) -> tuple[str, str, dict, set[tuple[int, str]] | None] | None:
    """The case's request with one query or path parameter made invalid, and the answers it may get
    (None: any 4xx): (path, parameter, query, answers)."""
    parameters = [p for p in case.operation.definition.raw.get("parameters", []) if p.get("in") in ("query", "path")]
    if not parameters:
        return None
    parameter = _rng.choice(parameters)
    name, where = parameter["name"], parameter["in"]
    query = {k: v for k, v in (case.query or {}).items() if v is not None}
    path_parameters = {k: str(v) for k, v in (case.path_parameters or {}).items()}
    if name == "cursor":
        query["cursor"] = _rng.choice(FORGED_CURSORS)
        # Any 4xx: the case's other parameters (422, a date range's 400) or the path's resource (the
        # ledger's customer, 404) may be judged first; tests/api/v1/test_cursors.py pins the 400.
        answers = None
    elif where == "query":
        query[name] = str(query.get(name, "x")) + _rng.choice(CONTROLS)
        answers = {(422, "validation-error")}  # QueryTextMiddleware, before anything else
    else:
        path_parameters[name] = path_parameters.get(name, "x") + _rng.choice(CONTROLS)
        answers = None  # an id that is not a UUID matches no route (404); other types are 422
    path = case.operation.path
    for key, value in path_parameters.items():
        path = path.replace(f"{{{key}}}", quote(value, safe=""))
    return path, name, query, answers


def assert_contaminated_is_refused(case, live_server: str, headers: dict[str, str]) -> None:
    request = contaminated(case)
    if request is None:
        return
    path, name, query, answers = request
    response = httpx.request(case.operation.method.upper(), f"{live_server}{path}", params=query, headers=headers)
    FIGURES.record("contaminated", case.operation.method, case.operation.path, response.status_code)
    context = (case.operation.method, path, name, query, response.text)
    assert 400 <= response.status_code < 500, context
    if answers is not None and response.status_code != 401:  # a cursor is read once the caller is known
        assert (response.status_code, response.json().get("code")) in answers, context


@schema.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors_and_responses_match_schema(case, live_server: str, fuzz_owner: FuzzOwner):
    fresh_idempotency_key(case)
    headers = fuzz_owner.headers_for(case.operation.path)
    response = case.call_and_validate(base_url=live_server, headers=headers)
    FIGURES.record("generated", case.operation.method, case.operation.path, response.status_code)
    assert_contaminated_is_refused(case, live_server, headers)


STATEFUL_ROUNDS, STATEFUL_CALLS = 8, 400


def test_stateful_links_reach_real_resources(api_schema, live_server: str, fuzz_owner: FuzzOwner):
    """Scenarios that create, then read, update, issue, void, delete what they created."""
    machine = api_schema.as_state_machine()
    failures: list[str] = []

    class Workflow(machine):
        def get_call_kwargs(self, case) -> dict:
            fresh_idempotency_key(case)
            return {"base_url": live_server, "headers": fuzz_owner.headers_for(case.operation.path)}

        def after_call(self, response, case) -> None:
            FIGURES.record("stateful", case.operation.method, case.operation.path, response.status_code)

        def validate_response(self, response, case, **kwargs) -> None:
            """Failures are collected, not raised: a scenario depends on the server's earlier answers,
            so Hypothesis could not replay it to shrink (it reports FlakyStrategyDefinition instead)."""
            try:
                super().validate_response(response, case, **kwargs)
            except Exception as exc:
                failures.append(f"{case.operation.method.upper()} {case.path}: {response.status_code} {exc}")

    # Generate only, no example database: each step's choices depend on the server's earlier answers,
    # so Hypothesis can find its own generation tree inconsistent (Flaky); like schemathesis' own
    # engine, a flaky round is not a failure: the next round starts afresh, until the budget is used.
    for _ in range(STATEFUL_ROUNDS):
        if FIGURES.cases["stateful"] >= STATEFUL_CALLS:
            break
        with contextlib.suppress(Flaky):
            Workflow.run(
                settings=settings(
                    max_examples=60,
                    stateful_step_count=8,
                    deadline=None,
                    database=None,
                    phases=[Phase.generate],
                    suppress_health_check=list(HealthCheck),
                )
            )
    assert not failures, "\n".join(failures[:20])
    assert FIGURES.cases["stateful"] > 0
