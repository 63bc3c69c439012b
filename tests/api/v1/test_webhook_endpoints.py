"""/webhook-endpoints and the delivery of business events to them, against a real HTTP receiver
on 127.0.0.1 that checks every Standard Webhooks signature itself (tests/api/v1/webhook_receiver.py)."""

import asyncio
import base64
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from app.core.database import drain_background_tasks
from app.services.platform import events, webhook_delivery
from tests.api.v1.business import audit_rows, walk
from tests.api.v1.http_checks import assert_problem
from tests.api.v1.invoicing import Party, make_invoice
from tests.api.v1.members import add_member
from tests.api.v1.webhook_receiver import start
from tests.factories import API, make_tenant

URL = f"{API}/webhook-endpoints"


@pytest.fixture
def receiver():
    rec, server = start()
    yield rec
    server.shutdown()
    server.server_close()


@pytest.fixture
def private_targets(settings):
    """The local receiver is on loopback: allowed for this test only."""
    settings.webhook_allow_private_targets = True
    yield settings
    settings.webhook_allow_private_targets = False


async def create(client, owner, url, **body):
    response = await client.post(URL, json={"url": url, **body}, headers=owner.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def emit(app, owner, event_type: str, resource_id: uuid.UUID, **payload) -> uuid.UUID:
    """One business event written as a change would write it (its deliveries in the same transaction)."""
    async with app.state.db.transaction(uuid.UUID(owner.tenant_id)) as session:
        return await events.record(
            session, event_type, resource_type=event_type.split(".")[0], resource_id=resource_id, payload=payload
        )


async def deliver(app, owner, at: datetime | None = None) -> int:
    runtime = app.state.runtime
    at = at or datetime.now(UTC) + timedelta(seconds=1)
    return await webhook_delivery.deliver(runtime.db, runtime.settings, uuid.UUID(owner.tenant_id), at=at)


async def deliveries(client, owner, endpoint_id, **params) -> list[dict]:
    return await walk(client, owner, f"/webhook-endpoints/{endpoint_id}/deliveries", **params)


class TestEndpoints:
    async def test_crud_and_the_secret_shown_once(self, client, receiver, private_targets):
        owner = await make_tenant(client)
        created = await create(client, owner, receiver.url, event_types=["invoice.paid", "invoice.issued"])
        secret = created["secret"]
        assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) >= 24
        assert created["event_types"] == ["invoice.issued", "invoice.paid"] and created["status"] == "active"
        one = (await client.get(f"{URL}/{created['id']}", headers=owner.headers)).json()
        listed = await walk(client, owner, "/webhook-endpoints")
        assert "secret" not in one and [e["id"] for e in listed] == [created["id"]] and "secret" not in listed[0]
        assert secret not in str(await audit_rows(client, owner, created["id"]))

        patch = {"description": "ERP", "event_types": [], "enabled": False}
        changed = await client.patch(f"{URL}/{created['id']}", json=patch, headers=owner.headers)
        assert changed.status_code == 200, changed.text
        assert (changed.json()["status"], changed.json()["event_types"]) == ("disabled", [])
        enabled = await client.patch(f"{URL}/{created['id']}", json={"enabled": True}, headers=owner.headers)
        assert enabled.json()["status"] == "active" and enabled.json()["disabled_at"] is None

        rotated = await client.post(f"{URL}/{created['id']}/rotate-secret", headers=owner.headers)
        assert rotated.status_code == 200 and rotated.json()["secret"] not in (secret, None)
        assert (await client.delete(f"{URL}/{created['id']}", headers=owner.headers)).status_code == 204
        assert (await client.get(f"{URL}/{created['id']}", headers=owner.headers)).status_code == 404
        actions = [r["action"] for r in await audit_rows(client, owner, created["id"])]
        assert {"webhook_endpoint.created", "webhook_endpoint.secret_rotated", "webhook_endpoint.deleted"} <= set(
            actions
        )

    async def test_bad_input(self, client, receiver, private_targets):
        owner = await make_tenant(client)
        unknown = await client.post(
            URL, json={"url": receiver.url, "event_types": ["invoice.eaten"]}, headers=owner.headers
        )
        assert (unknown.status_code, unknown.json()["code"]) == (400, "unknown-event-type")
        for url, code in [
            ("http://user:pw@127.0.0.1/x", "webhook-url-invalid"),
            ("http://no-such-host.invalid/x", "webhook-url-unresolvable"),
        ]:
            response = await client.post(URL, json={"url": url}, headers=owner.headers)
            assert (response.status_code, response.json()["code"]) == (400, code), url
        assert (await client.post(URL, json={"url": "ftp://example.com/x"}, headers=owner.headers)).status_code == 422
        # the URL's pattern means the same to the spec's readers (ECMA regex) and the server: a
        # character ECMA's \s does not match (NEL) is schema-valid, so never a 422; control characters
        # (NUL included) are refused by both
        for url in ["https://ab\u0085cd.example/x", "https://ab.example/x\u0085", "https://a\u0085"]:
            response = await client.post(URL, json={"url": url}, headers=owner.headers)
            assert response.status_code == 400, (url, response.text)
        for url in ["https://example.com/\u0000", "https://example.com/a\u001cb"]:
            assert (await client.post(URL, json={"url": url}, headers=owner.headers)).status_code == 422, url
        assert (await walk(client, owner, "/webhook-endpoints")) == []

    @pytest.mark.parametrize(
        "url",
        [
            "http://127.0.0.1:8080/x",
            "http://localhost/x",
            "http://10.1.2.3/x",
            "http://172.16.0.1/x",
            "http://192.168.1.1/x",
            "http://169.254.169.254/latest/meta-data/",
            "http://100.64.0.1/x",
            "http://0.0.0.0/x",
            "http://[::1]/x",
            "http://[::ffff:127.0.0.1]/x",
            "http://[fd00:ec2::254]/x",
            "http://[fe80::1]/x",
            "http://224.0.0.1/x",
            "http://2130706433/x",  # 127.0.0.1 as a decimal integer
        ],
    )
    async def test_private_targets_refused_after_resolution(self, client, url):
        owner = await make_tenant(client)
        response = await client.post(URL, json={"url": url}, headers=owner.headers)
        assert response.status_code == 400, response.text
        assert response.json()["code"] in ("webhook-url-refused", "webhook-url-unresolvable"), response.text

    async def test_roles_and_tenants(self, client, mailbox, receiver, private_targets):
        owner = await make_tenant(client)
        created = await create(client, owner, receiver.url)
        accountant = await add_member(client, mailbox, owner, "accountant")
        assert (await client.get(URL, headers=accountant.headers)).status_code == 403
        assert (await client.post(URL, json={"url": receiver.url}, headers=accountant.headers)).status_code == 403
        admin = await add_member(client, mailbox, owner, "admin")
        assert (await client.get(f"{URL}/{created['id']}", headers=admin.headers)).status_code == 200
        other = await make_tenant(client, business_name="Other")
        for method, path in [
            ("GET", ""),
            ("PATCH", ""),
            ("DELETE", ""),
            ("POST", "/rotate-secret"),
            ("GET", "/deliveries"),
            ("POST", f"/deliveries/{uuid.uuid4()}/redeliver"),
        ]:
            body = {"description": "x"} if method == "PATCH" else None
            response = await client.request(method, f"{URL}/{created['id']}{path}", json=body, headers=other.headers)
            assert response.status_code == 404, (method, path, response.text)
        assert (await client.get(f"{URL}/{created['id']}", headers=owner.headers)).json()["description"] is None


class TestDelivery:
    async def test_signed_in_order_per_resource_and_only_subscribed_types(self, app, client, receiver, private_targets):
        owner = await make_tenant(client)
        created = await create(client, owner, receiver.url, event_types=["invoice.issued", "invoice.paid"])
        receiver.secret = created["secret"]
        a, b = uuid.uuid4(), uuid.uuid4()
        ids = [
            await emit(app, owner, "invoice.issued", a, number="INV-1", total="118.00"),
            await emit(app, owner, "invoice.issued", b, number="INV-2"),
            await emit(app, owner, "customer.created", uuid.uuid4()),  # not subscribed
            await emit(app, owner, "invoice.paid", a, number="INV-1"),
            await emit(app, owner, "invoice.paid", b, number="INV-2"),
        ]
        assert await deliver(app, owner) == 4
        got = receiver.received
        assert all(r.signature_valid for r in got) and len(got) == 4
        assert [r.headers["webhook-id"] for r in got] == [str(i) for i in ids if i != ids[2]]
        first = got[0].json
        assert first["type"] == "invoice.issued" and first["data"] == {"number": "INV-1", "total": "118.00"}
        datetime.fromisoformat(first["timestamp"])
        listed = await deliveries(client, owner, created["id"])
        assert {d["status"] for d in listed} == {"succeeded"} and len(listed) == 4
        assert all(d["attempts"] == 1 and d["last_status_code"] == 200 for d in listed)

    async def test_a_failure_holds_back_its_resource_only_then_retries_in_order(
        self, app, client, receiver, private_targets
    ):
        owner = await make_tenant(client)
        created = await create(client, owner, receiver.url)
        receiver.secret = created["secret"]
        a, b = uuid.uuid4(), uuid.uuid4()
        a1 = await emit(app, owner, "invoice.issued", a)
        a2 = await emit(app, owner, "invoice.paid", a)
        b1 = await emit(app, owner, "invoice.issued", b)
        receiver.script = [500]
        start = datetime.now(UTC) + timedelta(seconds=1)
        assert await deliver(app, owner, start) == 1  # a1 failed, a2 waits behind it, b1 delivered
        assert [r.headers["webhook-id"] for r in receiver.received] == [str(a1), str(b1)]
        (failed,) = await deliveries(client, owner, created["id"], event_id=str(a1))
        assert (failed["status"], failed["attempts"], failed["last_status_code"]) == ("pending", 1, 500)
        retry_at = datetime.fromisoformat(failed["next_attempt_at"])
        assert timedelta(seconds=3) <= retry_at - start <= timedelta(seconds=7)  # 5 s ± 20 %
        assert await deliver(app, owner, start + timedelta(seconds=2)) == 0  # not due yet
        assert await deliver(app, owner, start + timedelta(seconds=10)) == 2
        assert [r.headers["webhook-id"] for r in receiver.received] == [str(a1), str(b1), str(a1), str(a2)]
        assert all(r.signature_valid for r in receiver.received)

    async def test_a_redirect_is_a_failure_and_not_followed(self, app, client, receiver, private_targets):
        owner = await make_tenant(client)
        created = await create(client, owner, receiver.url)
        receiver.script = [("redirect", receiver.url + "/moved")]
        await emit(app, owner, "invoice.issued", uuid.uuid4())
        assert await deliver(app, owner) == 0
        assert len(receiver.received) == 1  # the Location was not followed
        (row,) = await deliveries(client, owner, created["id"])
        assert (row["status"], row["last_status_code"], row["last_error"]) == ("pending", 302, "HTTP 302")

    async def test_a_row_that_gave_up_lets_the_next_of_its_resource_go(self, app, client, receiver, private_targets):
        owner = await make_tenant(client)
        created = await create(client, owner, receiver.url)
        receiver.secret = created["secret"]
        resource = uuid.uuid4()
        first = await emit(app, owner, "invoice.issued", resource)
        second = await emit(app, owner, "invoice.paid", resource)
        receiver.script = [500, 200, 500, 500]  # only the first event's attempts fail
        start = datetime.now(UTC) + timedelta(seconds=1)
        assert await deliver(app, owner, start) == 0  # the second waits behind the first
        other = await emit(app, owner, "customer.created", uuid.uuid4())  # the endpoint works for others
        assert await deliver(app, owner, start + timedelta(days=1)) == 1
        assert await deliver(app, owner, start + timedelta(days=3, seconds=1)) == 1  # first failed, second sent
        got = [r.headers["webhook-id"] for r in receiver.received]
        assert got == [str(first), str(other), str(first), str(first), str(second)]
        statuses = {d["event_id"]: d["status"] for d in await deliveries(client, owner, created["id"])}
        assert statuses == {str(first): "failed", str(second): "succeeded", str(other): "succeeded"}

    async def test_timeout_is_a_failure(self, app, client, receiver, private_targets, monkeypatch):
        monkeypatch.setattr(private_targets, "webhook_timeout_seconds", 0.5)
        owner = await make_tenant(client)
        created = await create(client, owner, receiver.url)
        receiver.script = [("sleep", 2)]
        await emit(app, owner, "invoice.issued", uuid.uuid4())
        assert await deliver(app, owner) == 0
        (row,) = await deliveries(client, owner, created["id"])
        assert row["status"] == "pending" and "no answer within 0.5 s" in row["last_error"]

    async def test_an_unanswering_endpoint_costs_one_timeout_per_run(
        self, app, client, receiver, private_targets, monkeypatch
    ):
        """A run does not wait out the timeout of every pending resource of a dead endpoint (200 rows
        x 10 s would hold the scheduler for half an hour): after one failure its other rows wait
        for the next run, while another endpoint's rows are still sent."""
        monkeypatch.setattr(private_targets, "webhook_timeout_seconds", 0.5)
        owner = await make_tenant(client)
        dead = await create(client, owner, receiver.url, event_types=["invoice.issued"])
        other, server = start()
        try:
            alive = await create(client, owner, other.url, event_types=["customer.created"])
            other.secret = alive["secret"]
            receiver.script = [("sleep", 2)] * 3
            for _ in range(3):
                await emit(app, owner, "invoice.issued", uuid.uuid4())
            await emit(app, owner, "customer.created", uuid.uuid4())
            assert await deliver(app, owner) == 1
            assert len(receiver.received) == 1 and len(other.received) == 1
            rows = await deliveries(client, owner, dead["id"])
            assert sorted(r["attempts"] for r in rows) == [0, 0, 1]
            assert await deliver(app, owner) == 0  # the next run: one more of them
            assert sorted(r["attempts"] for r in await deliveries(client, owner, dead["id"])) == [0, 1, 1]
        finally:
            server.shutdown()
            server.server_close()

    async def test_gives_up_after_3_days_disables_and_mails_the_owner_then_redeliver(
        self, app, client, mailbox, receiver, private_targets
    ):
        owner = await make_tenant(client)
        created = await create(client, owner, receiver.url, description="ERP sync")
        receiver.secret = created["secret"]
        event_id = await emit(app, owner, "invoice.issued", uuid.uuid4())
        receiver.script = [500, 503]
        start = datetime.now(UTC) + timedelta(seconds=1)
        await deliver(app, owner, start)
        (row,) = await deliveries(client, owner, created["id"])
        assert row["status"] == "pending"
        assert await deliver(app, owner, start + timedelta(days=3, seconds=1)) == 0
        (row,) = await deliveries(client, owner, created["id"])
        assert (row["status"], row["attempts"], row["next_attempt_at"]) == ("failed", 2, None)
        endpoint = (await client.get(f"{URL}/{created['id']}", headers=owner.headers)).json()
        assert endpoint["status"] == "disabled" and "503" in endpoint["disabled_reason"]
        mail = await mailbox.wait_for(owner.email, "Webhook endpoint disabled")
        assert "127.0.0.1" in str(mail)

        # disabled: new events are not queued, redelivery is refused until it is enabled again
        await emit(app, owner, "invoice.paid", uuid.uuid4())
        assert len(await deliveries(client, owner, created["id"])) == 1
        path = f"{URL}/{created['id']}/deliveries/{row['id']}/redeliver"
        refused = await client.post(path, headers=owner.headers)
        assert (refused.status_code, refused.json()["code"]) == (400, "webhook-endpoint-disabled")
        await client.patch(f"{URL}/{created['id']}", json={"enabled": True}, headers=owner.headers)
        again = await client.post(path, headers=owner.headers)
        assert again.status_code == 201, again.text
        assert again.json()["redelivery_of"] == row["id"]
        await drain_background_tasks()  # sent after commit
        assert receiver.received[-1].headers["webhook-id"] == str(event_id) and receiver.received[-1].signature_valid
        (redelivered,) = await deliveries(client, owner, created["id"], status="succeeded")
        assert redelivered["id"] == again.json()["id"]

    async def test_deleting_an_endpoint_while_a_delivery_is_in_flight(self, app, client, receiver, private_targets):
        """The delete neither deadlocks with the deliverer (it once locked the endpoint, then waited
        for the row the deliverer held while posting, which then wanted the endpoint) nor waits for
        the receiver; the deliverer finds the row gone and records nothing."""
        owner = await make_tenant(client)
        created = await create(client, owner, receiver.url)
        receiver.script = [("sleep", 1.5)]
        await emit(app, owner, "invoice.issued", uuid.uuid4())
        sending = asyncio.create_task(deliver(app, owner))
        for _ in range(250):  # until the receiver has the request (and sleeps on it)
            if receiver.received:
                break
            await asyncio.sleep(0.02)
        deleted = await client.delete(f"{URL}/{created['id']}", headers=owner.headers)
        assert deleted.status_code == 204, deleted.text
        assert not sending.done()  # the receiver has not answered yet: the delete did not wait for it
        assert await sending == 0
        assert (await client.get(f"{URL}/{created['id']}", headers=owner.headers)).status_code == 404

    async def test_no_database_connection_is_held_while_posting(self, app, client, receiver, private_targets):
        """A slow receiver (up to the 10 s timeout) must not hold a pooled connection per delivery in
        flight: the after-commit kicks of a burst of requests would empty the pool the API needs."""
        owner = await make_tenant(client)
        created = await create(client, owner, receiver.url)
        receiver.secret = created["secret"]
        receiver.script = [("sleep", 1)]
        await emit(app, owner, "invoice.issued", uuid.uuid4())
        pool = app.state.db.engine.sync_engine.pool
        idle = pool.checkedout()
        sending = asyncio.create_task(deliver(app, owner))
        for _ in range(250):
            if receiver.received:
                break
            await asyncio.sleep(0.02)
        assert pool.checkedout() == idle
        assert await sending == 1
        [row] = await deliveries(client, owner, created["id"])
        assert (row["status"], row["attempts"], row["next_attempt_at"]) == ("succeeded", 1, None)

    async def test_the_address_is_checked_again_at_delivery(self, app, client, receiver, private_targets):
        owner = await make_tenant(client)
        created = await create(client, owner, receiver.url)
        private_targets.webhook_allow_private_targets = False  # as if the name now resolved to loopback
        await emit(app, owner, "invoice.issued", uuid.uuid4())
        assert await deliver(app, owner) == 0
        assert receiver.received == []
        (row,) = await deliveries(client, owner, created["id"])
        assert row["status"] == "pending" and "private or reserved address" in row["last_error"]

    async def test_a_rotated_secret_signs_the_next_attempt(self, app, client, receiver, private_targets):
        owner = await make_tenant(client)
        created = await create(client, owner, receiver.url)
        rotated = (await client.post(f"{URL}/{created['id']}/rotate-secret", headers=owner.headers)).json()
        receiver.secret = rotated["secret"]
        await emit(app, owner, "receipt.created", uuid.uuid4())
        assert await deliver(app, owner) == 1
        assert receiver.received[0].signature_valid

    async def test_the_scheduled_step_finds_and_delivers_due_rows(self, app, client, receiver, private_targets):
        from app.services.platform import scheduler

        owner = await make_tenant(client)
        created = await create(client, owner, receiver.url)
        receiver.secret = created["secret"]
        event_id = await emit(app, owner, "credit_note.created", uuid.uuid4(), number="CN-1")
        tenant = uuid.UUID(owner.tenant_id)
        at = datetime.now(UTC) + timedelta(seconds=1)
        summary = await scheduler.run_due(app.state.runtime, at, tenants=[tenant])
        assert summary.webhooks_delivered == 1 and not summary.failed
        assert [r.headers["webhook-id"] for r in receiver.received] == [str(event_id)]
        assert receiver.received[0].signature_valid
        again = await scheduler.run_due(app.state.runtime, at + timedelta(minutes=1), tenants=[tenant])
        assert again.webhooks_delivered == 0 and len(receiver.received) == 1

    async def test_a_requests_events_are_sent_right_after_its_commit_and_not_after_a_rollback(
        self, app, client, receiver, private_targets
    ):
        owner = await make_tenant(client)
        created = await create(client, owner, receiver.url)
        receiver.secret = created["secret"]
        tenant = uuid.UUID(owner.tenant_id)
        resource = uuid.uuid4()
        # a request's session carries the runtime (app.core.database.get_session): its commit kicks delivery
        with pytest.raises(RuntimeError):
            async with app.state.db.transaction(tenant) as session:
                session.info[webhook_delivery.RUNTIME_KEY] = app.state.runtime
                await events.record(
                    session, "invoice.issued", resource_type="invoice", resource_id=resource, payload={}
                )
                raise RuntimeError("the request failed")
        async with app.state.db.transaction(tenant) as session:
            session.info[webhook_delivery.RUNTIME_KEY] = app.state.runtime
            first = await events.record(
                session, "invoice.issued", resource_type="invoice", resource_id=resource, payload={}
            )
            second = await events.record(
                session, "invoice.paid", resource_type="invoice", resource_id=resource, payload={}
            )
        await drain_background_tasks()
        assert [r.headers["webhook-id"] for r in receiver.received] == [str(first), str(second)]
        assert all(r.signature_valid for r in receiver.received)
        assert {d["status"] for d in await deliveries(client, owner, created["id"])} == {"succeeded"}

    async def test_concurrent_deliverers_send_each_once_in_order_per_resource(
        self, app, client, receiver, private_targets
    ):
        owner = await make_tenant(client)
        created = await create(client, owner, receiver.url)
        receiver.secret = created["secret"]
        resources = [uuid.uuid4() for _ in range(3)]
        sent: dict[uuid.UUID, list[str]] = {r: [] for r in resources}
        for step in range(4):
            for resource in resources:
                event_type = "invoice.issued" if step == 0 else "invoice.paid"
                sent[resource].append(str(await emit(app, owner, event_type, resource, step=step)))
        counts = await asyncio.gather(*(deliver(app, owner) for _ in range(3)))
        assert sum(counts) == 12
        got = [r.headers["webhook-id"] for r in receiver.received]
        assert sorted(got) == sorted(i for ids in sent.values() for i in ids)  # each once
        for ids in sent.values():
            assert [i for i in got if i in ids] == ids  # in order per resource


class TestFromTheApi:
    async def test_an_issued_invoice_reaches_the_receiver_after_commit_and_a_refused_request_sends_nothing(
        self, app, client, receiver, private_targets, today
    ):
        """End to end: real business requests (no events.record in the test), the kick after the
        request's commit, the receiver checking the signature; a refused request sends nothing."""
        party = await Party.make(client, await make_tenant(client))
        owner = party.account
        created = await create(client, owner, receiver.url)
        receiver.secret = created["secret"]
        receiver.script = [("sleep", 2)]  # the first delivery is slow: the request must not wait for it
        started = time.monotonic()
        invoice = await make_invoice(client, owner, party.company, party.customer)
        elapsed = time.monotonic() - started
        # answered before the receiver did: the delivery is still in flight, not sent inside the request
        [in_flight] = await deliveries(client, owner, created["id"])
        assert in_flight["status"] == "pending" and in_flight["attempts"] == 0, in_flight
        assert elapsed < 1.5, elapsed
        await drain_background_tasks()
        [issued] = receiver.received
        assert issued.signature_valid
        assert issued.json["type"] == "invoice.issued"
        assert issued.json["data"]["invoice_id"] == invoice["id"]
        assert issued.json["data"]["number"] == invoice["number"]
        [event] = (
            await client.get(f"{API}/events", params={"resource_id": invoice["id"]}, headers=owner.headers)
        ).json()["items"]
        assert issued.headers["webhook-id"] == event["id"]
        # a part-paid invoice, then a full credit note refused after its event was written: nothing sent
        receipt = {
            "customer_id": party.customer["id"],
            "company_id": party.company["id"],
            "amount": "100.00",
            "receipt_date": today.isoformat(),
            "mode": "upi",
            "allocations": [{"invoice_id": invoice["id"], "amount": "100.00"}],
        }
        assert (await client.post(f"{API}/receipts", json=receipt, headers=owner.headers)).status_code == 201
        await drain_background_tasks()
        sent = len(receiver.received)
        assert [r.json["type"] for r in receiver.received] == ["invoice.issued", "receipt.created"]
        refused = await client.post(
            f"{API}/credit-notes",
            json={"invoice_id": invoice["id"], "reason": "x", "full": True},
            headers=owner.headers,
        )
        assert_problem(refused, 409, "invoice-credit-exceeded")
        await drain_background_tasks()
        assert await deliver(app, owner) == 0
        assert len(receiver.received) == sent
        assert all(r.signature_valid for r in receiver.received)
        assert "credit_note.created" not in {d["event_type"] for d in await deliveries(client, owner, created["id"])}
