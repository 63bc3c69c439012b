"""The role matrix, generated from the OpenAPI spec.

Every operation states who may call it: `x-roles` (and a "Roles: ..." line in its description),
or `x-public` for the few that need no token. The spec is checked against the policy below
(configuration is owner/admin, documents are accountant, reading is everyone), then each operation
is tried with a token of every role: an allowed role is never refused for its role, a refused one
gets 403 `role-forbidden` and the tenant's rows are exactly what they were. A route added later is
tried without editing this file; one the policy cannot place fails until the policy says.
"""

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from app.models.identity.user import UserRole
from tests.api.v1.members import add_member
from tests.conftest import fresh_ip
from tests.db.tenant_digest import tenant_digest
from tests.factories import Account
from tests.security.openapi_probe import (
    METHODS,
    Operation,
    body_with,
    operations,
    required_headers,
    required_query,
)
from tests.security.probe_sources import TenantData, build_tenant, first_id, ids_of

EVERYONE = ("owner", "admin", "accountant", "viewer")
MANAGERS = ("owner", "admin")
OWNER = ("owner",)
WRITERS = ("owner", "admin", "accountant")
CONFIGURATION = (
    r"/(tenants/me|gst-settings|reminder-settings|companies|client-types|account-managers|service-types|tax-rates"
    r"|product-categories|products|inventory-settings)"
)
DOCUMENTS = (
    r"/(customers|invoices|receipts|credit-notes|sales|orders|usage/consume|stock|recurring-invoices"
    r"|storage-agreements)"
)
# (methods, path pattern after /api/v1, roles): the first rule that matches places an operation.
POLICY = (
    ("get|patch", r"/users/me", EVERYONE),  # one's own profile
    ("post", r"/auth/(logout|change-password|resend-verification)", EVERYONE),  # one's own account
    (".*", r"/(users|audit-logs|events|dashboard|tenants/(upgrade|payments)|tokens/set-plan)\b", MANAGERS),
    (".*", r"/webhook-endpoints\b", MANAGERS),  # where the business's events go, and their signing secrets
    (".*", r"/payment-gateways\b", OWNER),  # the business's own payment keys
    ("post", r"/(orders|online-payments)/[^/]+/refund$", MANAGERS),  # money leaves the business's account
    ("get", r"/.*", EVERYONE),
    ("put|patch|post|delete", CONFIGURATION + r"\b", MANAGERS),
    ("put|patch|post|delete", DOCUMENTS + r"\b", WRITERS),
    ("post", r"/online-payments/[^/]+/verify$", WRITERS),  # a Payment Link's signed callback, relayed
)


def policy_roles(operation: Operation) -> tuple[str, ...] | None:
    path = operation.path.removeprefix("/api/v1")
    for methods, pattern, roles in POLICY:
        if re.fullmatch(methods, operation.method) and re.match(pattern, path):
            return roles
    return None


@dataclass
class Matrix:
    tenant: TenantData
    accounts: dict[str, Account]
    spec: dict

    @property
    def operations(self) -> list[Operation]:
        return operations(self.spec)

    def guarded(self) -> list[Operation]:
        return [op for op in self.operations if "x-roles" in op.op]


@pytest.fixture(scope="module")
async def admin(database_urls) -> AsyncIterator[AsyncConnection]:
    engine = create_async_engine(database_urls.admin, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        yield conn
    await engine.dispose()


def new_client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(fresh_ip(), 40000)), base_url="http://test")


@pytest.fixture(scope="module")
async def matrix(app, mailbox) -> Matrix:
    async with new_client(app) as client:
        tenant = await build_tenant(client, mailbox, "Role Matrix Traders")
        accounts = {"owner": tenant.owner, "accountant": tenant.member}
        for role in ("admin", "viewer"):
            accounts[role] = await add_member(client, mailbox, tenant.owner, role)
    assert set(accounts) == {r.value for r in UserRole}
    return Matrix(tenant=tenant, accounts=accounts, spec=app.openapi())


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:
    async with new_client(app) as c:
        yield c


async def call(client: httpx.AsyncClient, matrix: Matrix, operation: Operation, role: str) -> httpx.Response:
    """The operation with the tenant's own real ids and a minimal valid body, as `role`."""
    tenant, ids = matrix.tenant, first_id(matrix.tenant)
    values = {name: ids_of(name, tenant)[0] for name in operation.path_params}
    headers = matrix.accounts[role].headers | required_headers(operation)
    kwargs: dict = {"params": required_query(matrix.spec, operation, ids), "headers": headers}
    if operation.body_schema is not None:
        kwargs["json"] = body_with(matrix.spec, operation.body_schema, ids)
    return await client.request(operation.method.upper(), operation.url(values), **kwargs)


def refused_for_role(response: httpx.Response) -> bool:
    is_problem = response.headers.get("content-type", "").startswith("application/problem+json")
    return response.status_code == 403 and is_problem and response.json().get("code") == "role-forbidden"


class TestTheSpecStatesRoles:
    def test_every_operation_states_its_roles_or_is_marked_public(self, matrix):
        unstated = [str(op) for op in matrix.operations if ("x-roles" in op.op) == bool(op.op.get("x-public"))]
        assert not unstated, f"operations with neither x-roles nor x-public (or both): {unstated}"
        for op in matrix.guarded():
            roles = op.op["x-roles"]
            assert roles and set(roles) <= set(EVERYONE), f"{op}: {roles}"
            assert f"Roles: {', '.join(roles)}." in op.op.get("description", ""), f"{op}: roles not in description"
        for op in matrix.operations:
            if op.op.get("x-public"):
                assert "Public: no bearer token." in op.op.get("description", ""), str(op)

    def test_the_roles_are_the_policy(self, matrix):
        """Configuration (tenant, GST settings, companies, catalog, tax rates) is owner/admin;
        documents (customers, invoices, receipts, credit notes) are accountant; reading is everyone."""
        wrong = {}
        for op in matrix.guarded():
            expected = policy_roles(op)
            if expected is None or tuple(op.op["x-roles"]) != expected:
                wrong[str(op)] = (op.op["x-roles"], expected)
        assert not wrong, f"x-roles differs from POLICY (spec, policy): {wrong}"

    def test_public_operations_are_the_expected_few(self, matrix):
        public = {str(op) for op in matrix.operations if op.op.get("x-public")}
        assert all(re.match(r"(GET|POST) /api/v1/(auth|webhooks|health|ready)\b", p) for p in public), public


class TestTheServerEnforcesTheSpec:
    async def test_a_refused_role_gets_403_and_nothing_changes(self, matrix, client, admin):
        failures, tried = [], set()
        for op in matrix.guarded():
            for role in sorted(set(EVERYONE) - set(op.op["x-roles"])):
                before = await tenant_digest(admin, matrix.tenant.tenant_id)
                response = await call(client, matrix, op, role)
                if not refused_for_role(response):
                    failures.append(f"{role} {op}: {response.status_code} {response.text[:200]}")
                after = await tenant_digest(admin, matrix.tenant.tenant_id)
                if after != before:
                    changed = [t for t in before if before[t] != after[t]]
                    failures.append(f"{role} {op}: refused, yet changed {changed}")
                tried.add((role, str(op)))
        assert not failures, "\n".join(failures)
        assert ("viewer", "POST /api/v1/invoices/{invoice_id}/void") in tried
        assert ("accountant", "PUT /api/v1/gst-settings") in tried

    async def test_an_allowed_role_is_never_refused_for_its_role(self, matrix, client):
        """Reads first, deletes last, one's own session (logout) at the very end: some of these write."""
        failures = []
        order = lambda op: (op.path.endswith("/logout"), METHODS.index(op.method))  # noqa: E731
        for op in sorted(matrix.guarded(), key=order):
            for role in op.op["x-roles"]:
                response = await call(client, matrix, op, role)
                if refused_for_role(response) or response.status_code == 401 or response.status_code >= 500:
                    failures.append(f"{role} {op}: {response.status_code} {response.text[:200]}")
        assert not failures, "\n".join(failures)
