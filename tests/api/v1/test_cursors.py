"""Keyset cursors on every list route (found in the OpenAPI spec): a cursor the API did not issue for
that list and sort, or whose values are not what the column holds, is 400 `invalid-cursor`, never a
500 and never a page."""

import base64
import json
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from app.core.cursors import cursor_key, decode_cursor, encode_cursor
from app.core.errors import InvalidCursor
from tests.api.v1.http_checks import assert_problem
from tests.api.v1.invoicing import Party, line
from tests.api.v1.product_rows import make_product
from tests.api.v1.receipting import alloc, receive
from tests.api.v1.storage_rows import make_agreement
from tests.factories import API, make_tenant


def b64(payload: bytes) -> str:
    return base64.urlsafe_b64encode(payload).rstrip(b"=").decode()


def unsigned(values: list) -> str:
    return b64(json.dumps(values).encode())


ID = str(uuid.uuid4())
# What an attacker sends: the unsigned format of old, with values each column type chokes on.
FORGED = {
    "nul": unsigned(["\u0000", "\u0000"]),
    "nul-4": unsigned(["\u0000"] * 4),
    "offset": unsigned(["2026-01-01T00:00:00+99:99", ID]),
    "offset-4": unsigned(["2026-01-01", "2026-01-01T00:00:00+99:99", ID, "0"]),
    "nan": unsigned(["NaN", ID]),
    "huge": unsigned(["9" * 400, ID]),
    "junk": b64(b"\xff" * 40),
    "short": b64(b"x"),
}


def list_routes(app) -> list[tuple[str, list[str | None]]]:
    """Every GET that takes `cursor`, with each of its sorts."""
    routes = []
    for path, operations in app.openapi()["paths"].items():
        params = {p["name"]: p for p in operations.get("get", {}).get("parameters", [])}
        if "cursor" in params:
            sort = params.get("sort", {}).get("schema", {})
            routes.append((path, sort.get("enum") or [None]))
    return routes


@pytest.fixture
async def party(client, today):
    """A customer with invoices, a credit note and a receipt, and a product: the ids the nested lists need."""
    party = await Party.make(client, await make_tenant(client))
    invoices = [await party.invoice(client) for _ in range(3)]
    note = await client.post(
        f"{API}/credit-notes",
        json={"invoice_id": invoices[0]["id"], "full": True, "reason": "Returned"},
        headers=party.account.headers,
    )
    assert note.status_code == 201, note.text
    receipt = await receive(client, party, "1180.00", alloc(invoices[1], "1180.00"), receipt_date=str(today))
    product = await make_product(client, party.account)
    schedule = await client.post(
        f"{API}/recurring-invoices",
        json={
            "company_id": party.company["id"],
            "customer_id": party.customer["id"],
            "frequency": "monthly",
            "lines": [line()],
        },
        headers=party.account.headers,
    )
    assert schedule.status_code == 201, schedule.text
    agreement = await make_agreement(client, party)
    endpoint = await client.post(  # a literal public address: saved without DNS, never sent to (no events)
        f"{API}/webhook-endpoints", json={"url": "https://93.184.215.14/hooks"}, headers=party.account.headers
    )
    assert endpoint.status_code == 201, endpoint.text
    party.ids = {
        "endpoint_id": endpoint.json()["id"],
        "storage_agreement_id": agreement["id"],
        "customer_id": party.customer["id"],
        "invoice_id": invoices[2]["id"],
        "credit_note_id": note.json()["id"],
        "receipt_id": receipt["id"],
        "product_id": product["id"],
        "schedule_id": schedule.json()["id"],
    }
    return party


def url_of(path: str, party: Party) -> str:
    for name, value in party.ids.items():
        path = path.replace("{" + name + "}", value)
    assert "{" not in path, f"{path}: the test's party has no id for it"
    return path


async def test_every_list_route_refuses_forged_cursors_with_400(client, app, party):
    routes = list_routes(app)
    assert len(routes) >= 13, routes
    for path, sorts in routes:
        for sort in sorts:
            for name, cursor in FORGED.items():
                params = {"cursor": cursor, **({"sort": sort} if sort else {})}
                response = await client.get(url_of(path, party), params=params, headers=party.account.headers)
                assert response.status_code == 400, (path, sort, name, response.text)
                assert_problem(response, 400, "invalid-cursor")


async def test_a_cursor_is_bound_to_its_list_and_sort_and_cannot_be_altered(client, app, party):
    headers = party.account.headers
    page = (await client.get("/api/v1/invoices", params={"limit": 1, "sort": "-total"}, headers=headers)).json()
    cursor = page["next_cursor"]
    assert cursor
    follow = await client.get(
        "/api/v1/invoices", params={"limit": 1, "sort": "-total", "cursor": cursor}, headers=headers
    )
    assert follow.status_code == 200 and follow.json()["items"][0]["id"] != page["items"][0]["id"]

    raw = bytearray(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    raw[-3] ^= 1  # one bit of the values
    tampered = b64(bytes(raw))
    for path, params in [
        ("/api/v1/invoices", {"sort": "-total", "cursor": tampered}),
        ("/api/v1/invoices", {"sort": "total", "cursor": cursor}),
        ("/api/v1/invoices", {"sort": "-created_at", "cursor": cursor}),
        ("/api/v1/credit-notes", {"sort": "-total", "cursor": cursor}),
        ("/api/v1/customers", {"cursor": cursor}),
    ]:
        assert_problem(await client.get(path, params=params, headers=headers), 400, "invalid-cursor")


@pytest.mark.parametrize(
    ("values", "kinds"),
    [
        (["\u0000", ID], [str, uuid.UUID]),
        (["2026-01-01T00:00:00+99:99", ID], ["datetime", uuid.UUID]),
        (["2026-01-01T00:00:00", ID], ["datetime", uuid.UUID]),  # no offset
        (["Infinity", ID], ["decimal", uuid.UUID]),
        (["1e999999", ID], ["decimal", uuid.UUID]),
        (["2026-02-30", ID], ["date", uuid.UUID]),
        (["12", "not-a-uuid"], [int, uuid.UUID]),
        (["1" * 40, ID], [int, uuid.UUID]),
        (["x"], [str, uuid.UUID]),
    ],
)
def test_a_correctly_signed_cursor_is_still_checked_value_by_value(values, kinds):
    """Defence in depth: even with the key, a value that is not its column's type never reaches SQL."""
    types = {"datetime": datetime, "decimal": Decimal, "date": date}
    kinds = [types.get(k, k) for k in kinds]
    key = cursor_key("a-test-secret")
    with pytest.raises(InvalidCursor):
        decode_cursor(key, "scope", encode_cursor(key, "scope", values), kinds)


def test_a_cursor_round_trips_its_values():
    key = cursor_key("a-test-secret")
    values = [
        datetime(2026, 11, 28, 22, 5, tzinfo=UTC),
        date(2027, 3, 31),
        Decimal("0.0000001"),
        7,
        "Ã\u00e9 x\tline\n",
        ID,
    ]
    kinds = [datetime, date, Decimal, int, str, str]
    assert decode_cursor(key, "s", encode_cursor(key, "s", values), kinds) == [*values[:5], ID]
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor_key("another-secret"), "s", encode_cursor(key, "s", values), kinds)
