"""Cross-tenant probe, generated from the app's OpenAPI spec.

Tenant B's owner (the most privileged role, so a 403 could only mean "this id exists") tries
tenant A's real ids on every operation: in path parameters (must be 404, exactly as for an id
that does not exist), in id-like query parameters and body fields (404 or 422; a list filter may
answer 200 with nothing of A's), and B's reads never contain anything of A's. A new route is
probed without editing this file; a new kind of id needs a source in probe_sources.py.
"""

import json
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.conftest import fresh_ip
from tests.factories import Account
from tests.security.openapi_probe import (
    METHODS,
    Operation,
    body_with,
    id_fields,
    operations,
    required_headers,
    required_query,
    uuids_in,
)
from tests.security.probe_sources import OUTSIDE_IDS, TenantData, build_tenant, first_id, ids_of

# Known today; the probe must have reached at least these (more is fine, fewer means it broke).
KNOWN_PATH_ID_OPERATIONS = {
    "GET /api/v1/users/{user_id}",
    "PATCH /api/v1/users/{user_id}",
    "DELETE /api/v1/users/{user_id}",
    "GET /api/v1/webhook-endpoints/{endpoint_id}",
    "PATCH /api/v1/webhook-endpoints/{endpoint_id}",
    "DELETE /api/v1/webhook-endpoints/{endpoint_id}",
    "POST /api/v1/webhook-endpoints/{endpoint_id}/rotate-secret",
    "GET /api/v1/webhook-endpoints/{endpoint_id}/deliveries",
    "POST /api/v1/webhook-endpoints/{endpoint_id}/deliveries/{delivery_id}/redeliver",
    "GET /api/v1/customers/{customer_id}",
    "PATCH /api/v1/customers/{customer_id}",
    "DELETE /api/v1/customers/{customer_id}",
    "DELETE /api/v1/users/invitations/{invitation_id}",
    "GET /api/v1/products/{product_id}",
    "PATCH /api/v1/products/{product_id}",
    "DELETE /api/v1/products/{product_id}",
    "GET /api/v1/product-categories/{category_id}",
    "PATCH /api/v1/product-categories/{category_id}",
    "DELETE /api/v1/product-categories/{category_id}",
    "POST /api/v1/webhooks/razorpay/{webhook_id}",
    "GET /api/v1/orders/{sales_order_id}",
    "PATCH /api/v1/orders/{sales_order_id}/lines/{order_line_id}",
    "POST /api/v1/orders/{sales_order_id}/place",
    "POST /api/v1/orders/{sales_order_id}/refund",
    "POST /api/v1/online-payments/{online_payment_id}/refund",
    "GET /api/v1/refunds/{refund_id}",
}
KNOWN_LISTS = {
    "GET /api/v1/refunds",
    "GET /api/v1/users",
    "GET /api/v1/users/invitations",
    "GET /api/v1/audit-logs",
    "GET /api/v1/events",
    "GET /api/v1/customers",
    "GET /api/v1/products",
    "GET /api/v1/product-categories",
    "GET /api/v1/product-categories/tree",
    "GET /api/v1/stock/alerts",
    "GET /api/v1/orders",
    "GET /api/v1/webhook-endpoints",
}
KNOWN_ID_QUERY_PARAMS = {
    "GET /api/v1/audit-logs?entity_id",
    "GET /api/v1/audit-logs?actor_user_id",
    "GET /api/v1/events?resource_id",
    "GET /api/v1/customers?client_type_id",
    "GET /api/v1/customers?account_manager_id",
    "GET /api/v1/products?category_id",
    "GET /api/v1/product-categories?parent_id",
    "POST /api/v1/products category_id",
    "PATCH /api/v1/products/{product_id} category_id",
    "POST /api/v1/product-categories parent_id",
    "PATCH /api/v1/product-categories/{category_id} parent_id",
    "GET /api/v1/stock/alerts?company_id",
    "GET /api/v1/stock/alerts?product_id",
    "POST /api/v1/stock/transfers from_company_id",
    "POST /api/v1/stock/transfers to_company_id",
    "POST /api/v1/stock/transfers lines.[].product_id",
    "GET /api/v1/webhook-endpoints/{endpoint_id}/deliveries?event_id",
}


@dataclass
class World:
    a: TenantData
    b: TenantData
    spec: dict

    @property
    def operations(self) -> list[Operation]:
        return operations(self.spec)


@dataclass(frozen=True)
class Probe:
    operation: Operation
    path_values: dict[str, str]
    query: dict
    body: object

    def __str__(self) -> str:
        return f"{self.operation} path={self.path_values} query={self.query} body={self.body}"


async def new_client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(fresh_ip(), 40000)), base_url="http://test")


@pytest.fixture(scope="module")
async def world(app, mailbox) -> World:
    async with await new_client(app) as client:
        a = await build_tenant(client, mailbox, "Tenant A Traders")
        b = await build_tenant(client, mailbox, "Tenant B Traders")
    return World(a=a, b=b, spec=app.openapi())


@pytest.fixture
async def probe_client(app) -> AsyncIterator[httpx.AsyncClient]:
    async with await new_client(app) as client:
        yield client


def minimal_body(world: World, operation: Operation, tenant: TenantData) -> object:
    schema = operation.body_schema
    return None if schema is None else body_with(world.spec, schema, first_id(tenant))


def base_query(world: World, operation: Operation, tenant: TenantData) -> dict:
    query = required_query(world.spec, operation, first_id(tenant))
    if any(p["name"] == "limit" for p in operation.params("query")):
        query["limit"] = 100
    return query


async def send(client: httpx.AsyncClient, account: Account, probe: Probe) -> httpx.Response:
    kwargs = {"params": probe.query, "headers": account.headers | required_headers(probe.operation)}
    if probe.body is not None:
        kwargs["json"] = probe.body
    return await client.request(probe.operation.method.upper(), probe.operation.url(probe.path_values), **kwargs)


def readable(world: World) -> list[Operation]:
    """GETs a tenant's owner can call with only its own ids: what a snapshot of its data reads."""
    return [op for op in world.operations if op.method == "get"]


async def snapshot(client: httpx.AsyncClient, world: World, tenant: TenantData) -> dict[str, tuple[int, str]]:
    """Everything the tenant's owner can read, by URL."""
    seen = {}
    for op in readable(world):
        for values in own_path_values(op, tenant):
            probe = Probe(op, values, base_query(world, op, tenant), None)
            response = await send(client, tenant.owner, probe)
            seen[f"{op.url(values)}?{probe.query}"] = (response.status_code, response.text)
    return seen


def own_path_values(operation: Operation, tenant: TenantData) -> Iterator[dict[str, str]]:
    if not operation.path_params:
        yield {}
        return
    for name in operation.path_params:
        for own in ids_of(name, tenant):
            yield {**{p: ids_of(p, tenant)[0] for p in operation.path_params}, name: own}


async def universe(client: httpx.AsyncClient, world: World, tenant: TenantData) -> set[str]:
    """Every id the tenant's owner can see: none of them may ever reach another tenant."""
    ids = {tenant.tenant_id, *tenant.user_ids, *tenant.entity_ids}
    for _, text in (await snapshot(client, world, tenant)).values():
        ids |= uuids_in(text)
    return ids


def path_probes(world: World) -> Iterator[tuple[str, str, Probe]]:
    """(param, A's id, probe): every path parameter gets each of A's ids; the other parameters get
    A's ids too, and (for nested routes) B's, so B's parent with A's child is tried as well."""
    a, b = world.a, world.b
    for op in world.operations:
        for name in op.path_params:
            fillers = [a] if len(op.path_params) == 1 else [a, b]
            for foreign in ids_of(name, a):
                for filler in fillers:
                    values = {**{p: ids_of(p, filler)[0] for p in op.path_params}, name: foreign}
                    yield name, foreign, Probe(op, values, base_query(world, op, b), minimal_body(world, op, b))


def leaked(response: httpx.Response, a_ids: set[str], sent: str) -> set[str]:
    return (uuids_in(response.text) & a_ids) - {sent}


def check_public(response: httpx.Response, leaks: set[str]) -> str | None:
    """A public operation's path id is a credential of its own (a webhook URL's id): B's token means
    nothing there, and A's id without A's signature must be refused (4xx), leaking nothing."""
    if not 400 <= response.status_code < 500:
        return f"answered {response.status_code}, expected a refusal: {response.text[:300]}"
    return f"response mentions A's ids {leaks}" if leaks else None


def check_not_found(response: httpx.Response, twin: httpx.Response, leaks: set[str]) -> str | None:
    if response.status_code != 404:
        return f"answered {response.status_code}, expected 404: {response.text[:300]}"
    if (twin.status_code, twin.json().get("code")) != (404, response.json().get("code")):
        return f"a random id answers {twin.status_code} {twin.text[:200]}, A's id {response.text[:200]}"
    if leaks:
        return f"response mentions A's ids {leaks}"
    return None


KNOWN_BATCH_LISTS = {
    "GET /api/v1/customers",
    "GET /api/v1/products",
    "GET /api/v1/companies",
    "GET /api/v1/invoices",
    "GET /api/v1/receipts",
    "GET /api/v1/credit-notes",
}


def batch_probes(world: World) -> Iterator[tuple[Operation, str]]:
    """(list operation with `?ids=`, the id parameter of its single read): the kind of ids it takes."""
    for op in world.operations:
        if op.method != "get" or op.path_params or not any(p["name"] == "ids" for p in op.params("query")):
            continue
        singles = [path for path in world.spec["paths"] if re.fullmatch(re.escape(op.path) + r"/\{\w+_id\}", path)]
        assert len(singles) == 1, f"{op}: no single read names the kind of its ids ({singles})"
        yield op, singles[0].rsplit("{", 1)[1].rstrip("}")


class TestBatchIds:
    async def test_a_batch_read_of_another_tenants_ids_returns_nothing_of_theirs(self, world, probe_client):
        """B asks for A's ids (and one of its own): only B's own comes back, nothing of A's is mentioned;
        A asking for the same ids gets its own (so the ids are real). Runs before the classes whose
        controls delete A's rows."""
        a_ids = await universe(probe_client, world, world.a)
        probed = set()
        for op, id_name in batch_probes(world):
            theirs, own = ids_of(id_name, world.a), ids_of(id_name, world.b)[:1]
            query = {**base_query(world, op, world.b), "ids": ",".join([*theirs[:99], *own])}
            response = await send(probe_client, world.b.owner, Probe(op, {}, query, None))
            assert response.status_code == 200, f"{op}: {response.text}"
            assert [item["id"] for item in response.json()["items"]] == own, f"{op}: {response.text[:300]}"
            assert not uuids_in(response.text) & a_ids, f"{op} ?ids= shows A's ids"
            control = await send(probe_client, world.a.owner, Probe(op, {}, query, None))
            assert {item["id"] for item in control.json()["items"]} == set(theirs[:99]), f"{op}: {control.text[:300]}"
            probed.add(str(op))
        assert probed >= KNOWN_BATCH_LISTS, f"probe did not reach {KNOWN_BATCH_LISTS - probed}"


class TestPathIds:
    async def test_another_tenants_id_is_404_like_an_id_that_does_not_exist(self, world, probe_client):
        a_ids = await universe(probe_client, world, world.a)
        before = await snapshot(probe_client, world, world.a)
        failures, probed = [], set()
        for name, foreign, probe in path_probes(world):
            response = await send(probe_client, world.b.owner, probe)
            twin = Probe(probe.operation, {**probe.path_values, name: str(uuid.uuid4())}, probe.query, probe.body)
            if probe.operation.op.get("x-public"):
                problem = check_public(response, leaked(response, a_ids, foreign))
            else:
                problem = check_not_found(
                    response, await send(probe_client, world.b.owner, twin), leaked(response, a_ids, foreign)
                )
            if problem:
                failures.append(f"{probe}: {problem}")
            probed.add(str(probe.operation))
        assert not failures, "\n".join(failures)
        assert probed >= KNOWN_PATH_ID_OPERATIONS, f"probe did not reach {KNOWN_PATH_ID_OPERATIONS - probed}"
        assert await snapshot(probe_client, world, world.a) == before, "B's requests changed A's data"

    async def test_the_same_requests_reach_the_ids_for_their_own_tenant(self, world, probe_client):
        """Control: A's owner making B's probes is not answered 404, so the ids and routes are real.
        Run in method order (reads first, deletes last), since some of these requests write."""
        controls = [
            Probe(op, values, base_query(world, op, world.a), minimal_body(world, op, world.a))
            for op in sorted(world.operations, key=lambda op: METHODS.index(op.method))
            if op.path_params
            for values in own_path_values(op, world.a)
        ]
        assert {str(c.operation) for c in controls} >= KNOWN_PATH_ID_OPERATIONS
        for control in controls:
            response = await send(probe_client, world.a.owner, control)
            assert response.status_code != 404 and response.status_code < 500, f"{control}: {response.text}"


class TestReads:
    async def test_another_tenant_reads_nothing_of_ours(self, world, probe_client):
        a_ids = await universe(probe_client, world, world.a)
        lists = set()
        for op in readable(world):
            if op.path_params:
                continue
            probe = Probe(op, {}, base_query(world, op, world.b), None)
            response = await send(probe_client, world.b.owner, probe)
            assert not uuids_in(response.text) & a_ids, f"{probe} shows A's ids"
            if op.returns_items:
                await assert_list_is_meaningful(probe_client, world, probe, response)
                lists.add(str(op))
        assert lists >= KNOWN_LISTS, f"probe did not reach {KNOWN_LISTS - lists}"


async def assert_list_is_meaningful(client: httpx.AsyncClient, world: World, probe: Probe, b_response) -> None:
    """B's list is not empty and A's own is not either: else "no A rows in B's list" proves nothing."""
    assert b_response.status_code == 200, f"{probe}: {b_response.text}"
    assert b_response.json()["items"], f"{probe}: B's list is empty; build_tenant must create rows of this kind"
    a_probe = Probe(probe.operation, {}, base_query(world, probe.operation, world.a), None)
    a_items = (await send(client, world.a.owner, a_probe)).json()["items"]
    assert a_items, f"{probe}: A's list is empty; build_tenant must create rows of this kind"


def query_probes(world: World) -> Iterator[tuple[str, str, Probe]]:
    a, b = world.a, world.b
    for op in world.operations:
        for name in op.id_query_params:
            values = {p: ids_of(p, b)[0] for p in op.path_params}
            for foreign in ids_of(name, a):
                query = {**base_query(world, op, b), name: foreign}
                yield f"{op}?{name}", foreign, Probe(op, values, query, minimal_body(world, op, b))


def body_probes(world: World) -> Iterator[tuple[str, str, Probe]]:
    a, b = world.a, world.b
    for op in world.operations:
        schema = op.body_schema
        for field_path in id_fields(world.spec, schema) if schema else ():
            values = {p: ids_of(p, b)[0] for p in op.path_params}
            for foreign in ids_of(field_path[-1], a):
                body = body_with(world.spec, schema, first_id(b), field_path, foreign)
                yield f"{op} {'.'.join(field_path)}", foreign, Probe(op, values, base_query(world, op, b), body)


def check_id_outside_path(probe: Probe, response: httpx.Response, leaks: set[str], foreign: str) -> str | None:
    allowed = {200, 404, 422} if probe.operation.method == "get" else {404, 422}
    if response.status_code not in allowed:
        return f"answered {response.status_code}, expected one of {sorted(allowed)}: {response.text[:300]}"
    if leaks:
        return f"response mentions A's ids {leaks}"
    items = response.json().get("items") if response.status_code == 200 else None
    if items and foreign in uuids_in(json.dumps(items)):
        return "B's list shows rows of A's id"
    return None


async def check_like_made_up(
    client: httpx.AsyncClient, account: Account, probe: Probe, response: httpx.Response, foreign: str, made_up: str
) -> str | None:
    """For an id another service issued (OUTSIDE_IDS): A's value is refused exactly as a made-up one."""
    swap = lambda value: json.loads(json.dumps(value).replace(foreign, made_up))  # noqa: E731
    twin = await send(client, account, Probe(probe.operation, probe.path_values, swap(probe.query), swap(probe.body)))
    if response.is_success or twin.is_success:
        return f"answered {response.status_code} (a made-up id: {twin.status_code}), expected a refusal"
    mine, theirs = (response.status_code, response.json().get("code")), (twin.status_code, twin.json().get("code"))
    return None if mine == theirs else f"answered {mine}, but {theirs} for a made-up id"


class TestIdsInQueryAndBody:
    async def test_another_tenants_id_is_rejected_or_matches_nothing(self, world, probe_client):
        a_ids = await universe(probe_client, world, world.a)
        before = await snapshot(probe_client, world, world.a)
        failures, probed = [], set()
        for label, foreign, probe in [*query_probes(world), *body_probes(world)]:
            response = await send(probe_client, world.b.owner, probe)
            problem = check_id_outside_path(probe, response, leaked(response, a_ids, foreign), foreign)
            made_up = OUTSIDE_IDS.get(re.split(r"[ ?.]", label)[-1])
            if problem and made_up and not leaked(response, a_ids, foreign):
                problem = await check_like_made_up(probe_client, world.b.owner, probe, response, foreign, made_up)
            if problem:
                failures.append(f"{probe}: {problem}")
            probed.add(label)
        assert not failures, "\n".join(failures)
        assert probed >= KNOWN_ID_QUERY_PARAMS, f"probe did not reach {KNOWN_ID_QUERY_PARAMS - probed}"
        assert await snapshot(probe_client, world, world.a) == before, "B's requests changed A's data"


class TestTheProbeItself:
    def test_an_id_parameter_without_a_source_fails_the_probe(self, world):
        from tests.security.probe_sources import MissingSource

        spec = json.loads(json.dumps(world.spec))
        spec["paths"]["/api/v1/gadgets/{gadget_id}"] = {
            "get": {"parameters": [{"name": "gadget_id", "in": "path", "required": True, "schema": {"type": "string"}}]}
        }
        with pytest.raises(MissingSource, match="gadget_id"):
            list(path_probes(World(a=world.a, b=world.b, spec=spec)))

    def test_body_id_fields_are_found_at_any_depth(self, world):
        schema = {
            "type": "object",
            "required": ["lines"],
            "properties": {
                "user_id": {"type": "string", "format": "uuid"},
                "lines": {
                    "type": "array",
                    "items": {"type": "object", "properties": {"entity_id": {"type": "string"}}},
                },
            },
        }
        assert list(id_fields(world.spec, schema)) == [("user_id",), ("lines", "[]", "entity_id")]
        body = body_with(world.spec, schema, first_id(world.b), ("lines", "[]", "entity_id"), "A")
        assert body == {"lines": [{"entity_id": "A"}]}

    def test_every_shape_of_a_body_is_probed(self, world):
        """Each branch of an anyOf/oneOf, at any depth: a credit note's lines, by quantity or by value."""
        schema = {
            "anyOf": [
                {"type": "object", "required": ["full"], "properties": {"full": {"type": "boolean"}}},
                {
                    "type": "object",
                    "required": ["lines"],
                    "properties": {
                        "lines": {
                            "type": "array",
                            "items": {
                                "oneOf": [
                                    {"type": "object", "properties": {"line_id": {"type": "string"}}},
                                    {"type": "object", "properties": {"gadget_id": {"type": "string"}}},
                                ]
                            },
                        }
                    },
                },
            ]
        }
        assert list(id_fields(world.spec, schema)) == [
            ("|1", "lines", "[]", "|0", "line_id"),
            ("|1", "lines", "[]", "|1", "gadget_id"),
        ]
        body = body_with(world.spec, schema, first_id(world.b), ("|1", "lines", "[]", "|1", "gadget_id"), "A")
        assert body == {"lines": [{"gadget_id": "A"}]}

    def test_a_body_id_field_without_a_source_fails_the_probe(self, world):
        from tests.security.probe_sources import MissingSource

        spec = json.loads(json.dumps(world.spec))
        body = spec["components"]["schemas"]["ValueCredit"]["properties"]
        body["gadget_id"] = {"type": "string", "format": "uuid"}
        with pytest.raises(MissingSource, match="gadget_id"):
            list(body_probes(World(a=world.a, b=world.b, spec=spec)))

    def test_the_probe_reaches_every_shape_and_webhook_bodies(self, world):
        labels = {label for label, _, _ in body_probes(world)}
        assert {
            "POST /api/v1/credit-notes |1.lines.[].|0.invoice_line_id",
            "POST /api/v1/credit-notes |1.lines.[].|1.invoice_line_id",
            "POST /api/v1/webhooks/razorpay payload.payment.entity.order_id",
            "POST /api/v1/webhooks/razorpay payload.payment.entity.id",
            "POST /api/v1/sales company_id",
            "POST /api/v1/sales customer_id",
            "POST /api/v1/sales lines.[].|0.product_id",
        } <= labels
