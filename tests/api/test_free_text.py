"""Names and free text: no bidi controls, zero-width or other hidden characters, no line or
paragraph separators, no name made of invisible characters only; newlines only in multi-line
fields. One type states it (app/schemas/common.py), checked here from the OpenAPI spec so that a
new field cannot forget it, and over HTTP where such text reached an email subject."""

import re

import pytest

from tests.api.v1.customer_rows import make_customer
from tests.api.v1.http_checks import assert_problem
from tests.api.v1.invoicing import Party, line
from tests.conftest import PASSWORD, unique_email
from tests.factories import API, make_tenant

HIDDEN = {
    "bidi override": "Asha\u202eevil",
    "bidi embedding": "\u202aAsha",
    "bidi isolate": "Asha\u2066x\u2069",
    "right-to-left mark": "Asha\u200f",
    "zero-width space": "As\u200bha",
    "word joiner": "As\u2060ha",
    "byte order mark": "\ufeffAsha",
    "line separator": "Asha\u2028Rao",
    "paragraph separator": "Asha\u2029Rao",
    "NUL": "As\x00ha",
    "escape": "As\x1bha",
    "C1 control": "As\x85ha",
}
INVISIBLE_ONLY = ["\u3164", "\u200d", "\u200c\u200c", "\u00a0", "\u2800", "\u115f", "\ufe0f", " \t "]
LINE_BREAKS = ["Asha\nRao", "Asha\r\nRao", "Asha\rRao", "Asha\tRao"]
FINE = ["Asha Rao", "Ślusarz & Sons", "श्री गणेश ट्रेडर्स", "क्\u200dष Traders", "O'Brien (India) Pvt. Ltd.", "😀 Cafe"]
MULTI_LINE_FIELDS = {"notes", "terms", "default_terms", "message"}  # message: the body of a mailed document
# The OAuth2 password form (Swagger's Authorize): its fields are compared, never stored or shown.
OAUTH2_FORM = "POST /api/v1/auth/token"
SECRETS = {"password", "current_password", "new_password"}  # any character goes: never shown, only hashed


def request_string_fields(spec: dict):
    """(operation, field, schema) of every string property of every request body."""
    schemas = spec["components"]["schemas"]

    def walk(schema, field, seen):
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            if name not in seen:
                yield from walk(schemas[name], field, seen | {name})
            return
        for key in ("anyOf", "oneOf", "allOf"):
            for option in schema.get(key, []):
                yield from walk(option, field, seen)
        if schema.get("type") == "string":
            yield field, schema
        for name, prop in schema.get("properties", {}).items():
            yield from walk(prop, name, seen)
        if isinstance(schema.get("items"), dict):
            yield from walk(schema["items"], field, seen)

    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for content in operation.get("requestBody", {}).get("content", {}).values():
                for field, schema in walk(content.get("schema", {}), None, frozenset()):
                    yield f"{method.upper()} {path}", field, schema


async def test_every_text_field_of_every_body_refuses_hidden_characters(client):
    spec = (await client.get("/openapi.json")).json()
    checked = set()
    for operation, field, schema in request_string_fields(spec):
        if "enum" in schema or "const" in schema or "format" in schema or field in SECRETS or operation == OAUTH2_FORM:
            continue
        assert "pattern" in schema, (operation, field)
        pattern = re.compile(schema["pattern"])
        for name, text in HIDDEN.items():
            assert not pattern.search(text), (operation, field, name)
        for text in INVISIBLE_ONLY:
            assert not pattern.search(text), (operation, field, repr(text))
        multi_line = pattern.search("Asha\nRao") is not None
        assert multi_line == (field in MULTI_LINE_FIELDS), (operation, field)
        checked.add(field)
    for name in ("full_name", "business_name", "name", "legal_name", "trade_name", "description", "reason"):
        assert name in checked


@pytest.mark.parametrize("text", [*HIDDEN.values(), *INVISIBLE_ONLY, *LINE_BREAKS])
async def test_names_that_reach_mail_are_refused(client, text):
    body = {"email": unique_email(), "password": PASSWORD, "full_name": text, "business_name": "Sharma Traders"}
    assert_problem(await client.post(f"{API}/auth/register", json=body), 422, "validation-error")
    body = {**body, "full_name": "Asha Rao", "business_name": text}
    assert_problem(await client.post(f"{API}/auth/register", json=body), 422, "validation-error")


async def test_profile_tenant_and_customer_names_refuse_them_and_keep_good_ones(client):
    owner = await make_tenant(client)
    for text in [*HIDDEN.values(), *INVISIBLE_ONLY, *LINE_BREAKS]:
        me = await client.patch(f"{API}/users/me", json={"full_name": text}, headers=owner.headers)
        assert_problem(me, 422, "validation-error")
        tenant = await client.put(f"{API}/tenants/me", json={"business_name": text}, headers=owner.headers)
        assert_problem(tenant, 422, "validation-error")
        customer = await client.post(
            f"{API}/customers", json={"name": text, "billing_address": {"state_code": "27"}}, headers=owner.headers
        )
        assert_problem(customer, 422, "validation-error")
    for text in FINE:
        assert (await make_customer(client, owner, name=text))["name"] == text
        me = await client.patch(f"{API}/users/me", json={"full_name": text}, headers=owner.headers)
        assert me.status_code == 200 and me.json()["full_name"] == text


async def test_newlines_only_in_multi_line_fields(client):
    party = await Party.make(client, await make_tenant(client))
    invoice = await party.invoice(client, issue=False, notes="Line one\nLine two", terms="15 days\r\nBank transfer")
    assert invoice["notes"] == "Line one\nLine two"
    refused = await client.post(
        f"{API}/invoices",
        json={
            "company_id": party.company["id"],
            "customer_id": party.customer["id"],
            "lines": [line(description="Consulting\nand more")],
        },
        headers=party.account.headers,
    )
    assert_problem(refused, 422, "validation-error")
