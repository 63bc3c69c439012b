"""POST|GET|DELETE /invoices/{id}/share: links to the public invoice page, and their WhatsApp message."""

import uuid
from datetime import datetime, timedelta
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from app.core.security import token_digest
from tests.api.v1.business import audit_rows
from tests.api.v1.http_checks import assert_no_secrets, assert_problem
from tests.api.v1.invoicing import Party, line
from tests.api.v1.members import add_member
from tests.api.v1.receipting import alloc, receive
from tests.api.v1.sharing import link_rows, path_of, payable_party, share, shared, token_bits, token_of
from tests.factories import API, make_tenant


@pytest.fixture
async def party(client) -> Party:
    return await payable_party(client, await make_tenant(client))


def links_url(invoice: dict) -> str:
    return f"{API}/invoices/{invoice['id']}/share"


class TestCreate:
    async def test_a_link_is_random_long_and_stored_only_as_its_hash(self, app, client, party, settings, today):
        invoice = await party.invoice(client)
        link = await shared(client, party.account, invoice)
        assert set(link) == {"id", "url", "expires_at", "whatsapp_url"}
        assert link["url"].startswith(f"{settings.public_base_url}/p/")
        token = token_of(link["url"])
        assert token_bits(token) >= 128
        other = token_of((await shared(client, party.account, invoice))["url"])
        assert other != token

        rows = await link_rows(app, party.account.tenant_id, invoice["id"])
        assert {row["token_hash"] for row in rows} == {token_digest(token), token_digest(other)}
        for row in rows:
            assert token not in str(row.values()) and other not in str(row.values())
            assert row["created_by"] is not None and row["view_count"] == 0 and row["revoked_at"] is None
        expires = datetime.fromisoformat(link["expires_at"])
        assert expires - min(row["created_at"] for row in rows) == timedelta(days=settings.share_link_ttl_days)

    async def test_the_body_may_ask_for_another_lifetime_within_the_maximum(self, client, party, settings):
        invoice = await party.invoice(client)
        link = await shared(client, party.account, invoice, expires_in_days=3)
        listed = (await client.get(links_url(invoice), headers=party.account.headers)).json()["items"]
        created = datetime.fromisoformat(listed[0]["created_at"])
        assert datetime.fromisoformat(link["expires_at"]) - created == timedelta(days=3)

        too_long = await share(client, party.account, invoice, expires_in_days=settings.share_link_max_ttl_days + 1)
        assert_problem(too_long, 400, "share-link-too-long")
        for bad in (0, -1, 367, "soon"):
            assert_problem(await share(client, party.account, invoice, expires_in_days=bad), 422)
        assert_problem(await share(client, party.account, invoice, token="mine"), 422)

    async def test_a_draft_or_a_void_invoice_cannot_be_shared(self, client, party):
        draft = await party.invoice(client, issue=False)
        assert_problem(await share(client, party.account, draft), 409, "invoice-is-draft")
        issued = await party.invoice(client)
        voided = await client.post(
            f"{API}/invoices/{issued['id']}/void", json={"reason": "wrong customer"}, headers=party.account.headers
        )
        assert voided.status_code == 200, voided.text
        assert_problem(await share(client, party.account, issued), 409, "invoice-void")

    async def test_another_tenants_invoice_is_not_found(self, client, party):
        invoice = await party.invoice(client)
        stranger = await make_tenant(client)
        assert_problem(await share(client, stranger, invoice), 404, "invoice-not-found")
        assert_problem(await client.get(links_url(invoice), headers=stranger.headers), 404, "invoice-not-found")
        assert_problem(await client.delete(links_url(invoice), headers=stranger.headers), 404, "invoice-not-found")

    async def test_creating_and_revoking_are_audited(self, client, party):
        invoice = await party.invoice(client)
        link = await shared(client, party.account, invoice)
        assert (await client.delete(links_url(invoice), headers=party.account.headers)).status_code == 204
        rows = await audit_rows(client, party.account, invoice["id"])
        actions = [row["action"] for row in rows if row["action"].startswith("share_link.")]
        assert sorted(actions) == ["share_link.created", "share_link.revoked"]
        for row in rows:
            assert token_of(link["url"]) not in str(row)

    async def test_a_viewer_cannot_share_but_can_list(self, client, mailbox, party):
        invoice = await party.invoice(client)
        viewer = await add_member(client, mailbox, party.account, "viewer")
        assert_problem(await share(client, viewer, invoice), 403)
        assert (await client.get(links_url(invoice), headers=viewer.headers)).status_code == 200
        assert_problem(await client.delete(links_url(invoice), headers=viewer.headers), 403)


class TestWhatsApp:
    async def test_the_customers_phone_in_international_digits_and_the_message(self, client, party, today):
        invoice = await party.invoice(client, line("1000.00"), due_date=(today + timedelta(days=12)).isoformat())
        link = await shared(client, party.account, invoice)
        parts = urlsplit(link["whatsapp_url"])
        assert (parts.scheme, parts.netloc, parts.path) == ("https", "wa.me", "/919845012345")
        message = parse_qs(parts.query)["text"][0]
        due = today + timedelta(days=12)
        assert message == (
            f"Invoice {invoice['number']} from Sharma Traders for ₹1,180.00, due {due.day} {due:%b %Y}: {link['url']}"
        )

    async def test_the_message_is_percent_encoded(self, client, party):
        invoice = await party.invoice(client, line("123456.00"))
        link = await shared(client, party.account, invoice)
        query = urlsplit(link["whatsapp_url"]).query
        assert query.startswith("text=") and "&" not in query
        for raw in (" ", "₹", "/", ":", ",", "?"):
            assert raw not in query, raw
        assert "%E2%82%B9" in query  # ₹
        assert f"for ₹1,45,678.{invoice['total'][-2:]}," in unquote(query)  # Indian digit grouping
        assert "%2Fp%2F" + token_of(link["url"]) in query

    async def test_without_a_phone_whatsapp_asks_whom_to_send_it_to(self, client):
        party = await payable_party(client, await make_tenant(client), phone=None)
        link = await shared(client, party.account, await party.invoice(client))
        assert link["whatsapp_url"].startswith("https://wa.me/?text=Invoice%20")

    @pytest.mark.parametrize(
        ("phone", "number"),
        [("+91 80 4000 1234", "918040001234"), ("098450-12345", "919845012345"), ("+44 20 7946 0958", "442079460958")],
    )
    async def test_phones_as_written(self, client, phone, number):
        party = await payable_party(client, await make_tenant(client), phone=phone)
        link = await shared(client, party.account, await party.invoice(client))
        assert urlsplit(link["whatsapp_url"]).path == f"/{number}"

    async def test_a_phone_without_country_that_is_not_an_indian_mobile_is_left_out(self, client):
        party = await payable_party(client, await make_tenant(client), phone="4000 1234")
        link = await shared(client, party.account, await party.invoice(client))
        assert urlsplit(link["whatsapp_url"]).path == "/"


class TestListAndRevoke:
    async def test_the_list_shows_active_links_with_views_and_no_token(self, client, party):
        invoice = await party.invoice(client)
        first = await shared(client, party.account, invoice)
        second = await shared(client, party.account, invoice)
        for _ in range(3):
            assert (await client.get(path_of(first["url"]))).status_code == 200
        listed = await client.get(links_url(invoice), headers=party.account.headers)
        assert listed.status_code == 200
        assert_no_secrets(listed)
        for link in (first, second):
            assert token_of(link["url"]) not in listed.text
        items = {item["id"]: item for item in listed.json()["items"]}
        assert list(items) == [second["id"], first["id"]]  # newest first
        assert items[first["id"]]["view_count"] == 3 and items[first["id"]]["last_viewed_at"] is not None
        assert items[second["id"]]["view_count"] == 0 and items[second["id"]]["last_viewed_at"] is None
        assert items[first["id"]]["created_by"] == party.account.user["id"]

    async def test_revoking_one_link_leaves_the_others(self, client, party):
        invoice = await party.invoice(client)
        first = await shared(client, party.account, invoice)
        second = await shared(client, party.account, invoice)
        one = await client.delete(links_url(invoice), params={"link_id": first["id"]}, headers=party.account.headers)
        assert one.status_code == 204
        assert (await client.get(path_of(first["url"]))).status_code == 404
        assert (await client.get(path_of(second["url"]))).status_code == 200
        items = (await client.get(links_url(invoice), headers=party.account.headers)).json()["items"]
        assert [item["id"] for item in items] == [second["id"]]
        again = await client.delete(links_url(invoice), params={"link_id": first["id"]}, headers=party.account.headers)
        assert again.status_code == 204, "revoking a revoked link changes nothing"
        unknown = await client.delete(
            links_url(invoice), params={"link_id": str(uuid.uuid4())}, headers=party.account.headers
        )
        assert_problem(unknown, 404, "share-link-not-found")

    async def test_revoking_all(self, client, party):
        invoice = await party.invoice(client)
        links = [await shared(client, party.account, invoice) for _ in range(2)]
        assert (await client.delete(links_url(invoice), headers=party.account.headers)).status_code == 204
        for link in links:
            assert (await client.get(path_of(link["url"]))).status_code == 404
        assert (await client.get(links_url(invoice), headers=party.account.headers)).json()["items"] == []

    async def test_a_link_of_another_invoice_cannot_be_revoked_through_this_one(self, client, party):
        mine, other = await party.invoice(client), await party.invoice(client)
        link = await shared(client, party.account, other)
        wrong = await client.delete(links_url(mine), params={"link_id": link["id"]}, headers=party.account.headers)
        assert_problem(wrong, 404, "share-link-not-found")
        assert (await client.get(path_of(link["url"]))).status_code == 200

    async def test_an_expired_link_leaves_the_list(self, app, client, party, today):
        invoice = await party.invoice(client)
        await shared(client, party.account, invoice, expires_in_days=1)
        instant = app.state.runtime.clock()
        app.state.runtime.clock = lambda: instant + timedelta(days=1, seconds=1)
        assert (await client.get(links_url(invoice), headers=party.account.headers)).json()["items"] == []


async def test_a_partly_paid_invoice_says_what_is_still_due(client, party):
    invoice = await party.invoice(client)
    await receive(client, party, "180.00", alloc(invoice, "180.00"))
    link = await shared(client, party.account, invoice)
    message = unquote(urlsplit(link["whatsapp_url"]).query)
    assert "for ₹1,180.00, ₹1,000.00 still due, due " in message
