"""Idempotency-Key, through a route that opts in the way real routes do (mounted only here)."""

import asyncio
from datetime import timedelta

import httpx
import pytest
from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import func, select

from app.api.deps import CurrentUser, SessionDep
from app.api.idempotency import IdempotentDep
from app.core.errors import Conflict
from app.main import create_app
from app.models.base import new_id, utcnow
from app.models.platform.audit import AuditLog
from app.services.platform import audit
from tests.conftest import fresh_ip
from tests.factories import make_tenant

PATH = "/api/v1/test-notes"
OTHER_PATH = "/api/v1/test-notes-elsewhere"
failures_left: dict[str, int] = {}


class NoteIn(BaseModel):
    text: str


class NoteOut(BaseModel):
    id: str
    text: str


async def _create_note(body: NoteIn, user: CurrentUser, session: SessionDep, idempotent: IdempotentDep):
    async def operation() -> NoteOut:
        note_id = new_id()
        await audit.record(session, action="test.note", entity_type="note", entity_id=note_id, after={"t": body.text})
        await asyncio.sleep(0.02)  # widen the window in which duplicates race
        if failures_left.get(body.text, 0) > 0:
            failures_left[body.text] -= 1
            raise Conflict("failing on purpose")
        return NoteOut(id=str(note_id), text=body.text)

    return await idempotent(201, operation)


router = APIRouter()
router.add_api_route(PATH, _create_note, methods=["POST"], status_code=201)
router.add_api_route(OTHER_PATH, _create_note, methods=["POST"], status_code=201)


@pytest.fixture(scope="module")
async def idem_app(settings):
    app = create_app(settings)
    app.include_router(router)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def c(idem_app):
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=idem_app, client=(fresh_ip(), 1)), base_url="http://t"
    ) as client:
        yield client


async def _notes(idem_app, tenant_id: str, text: str) -> int:
    async with idem_app.state.runtime.db.transaction(tenant_id) as session:
        stmt = (
            select(func.count())
            .select_from(AuditLog)
            .where(AuditLog.action == "test.note", AuditLog.after["t"].astext == text)
        )
        return (await session.execute(stmt)).scalar_one()


def _key(headers: dict, key: str) -> dict:
    return {**headers, "Idempotency-Key": key}


async def test_a_replay_returns_the_first_response_and_acts_once(c, idem_app):
    owner = await make_tenant(c)
    first = await c.post(PATH, json={"text": "once"}, headers=_key(owner.headers, "key-once-0001"))
    again = await c.post(PATH, json={"text": "once"}, headers=_key(owner.headers, "key-once-0001"))
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert (first.headers["idempotent-replayed"], again.headers["idempotent-replayed"]) == ("false", "true")
    assert await _notes(idem_app, owner.tenant_id, "once") == 1


async def test_without_a_key_every_request_acts(c, idem_app):
    owner = await make_tenant(c)
    for _ in range(2):
        assert (await c.post(PATH, json={"text": "keyless"}, headers=owner.headers)).status_code == 201
    assert await _notes(idem_app, owner.tenant_id, "keyless") == 2


async def test_fifty_concurrent_duplicates_make_one_record(c, idem_app):
    owner = await make_tenant(c)
    headers = _key(owner.headers, "key-burst-0001")
    responses = await asyncio.gather(*(c.post(PATH, json={"text": "burst"}, headers=headers) for _ in range(50)))
    assert {r.status_code for r in responses} == {201}  # duplicates wait for the first, then replay it
    bodies = {r.text for r in responses}
    assert len(bodies) == 1
    settled = await c.post(PATH, json={"text": "burst"}, headers=headers)
    assert settled.status_code == 201 and settled.text in bodies
    assert await _notes(idem_app, owner.tenant_id, "burst") == 1


async def test_a_duplicate_that_cannot_wait_is_409_in_flight(c, idem_app):
    owner = await make_tenant(c)
    runtime = idem_app.state.runtime
    patient = runtime.settings
    runtime.settings = patient.model_copy(update={"idempotency_wait_seconds": 0.001})
    try:
        headers = _key(owner.headers, "key-impatient-1")
        responses = await asyncio.gather(*(c.post(PATH, json={"text": "rush"}, headers=headers) for _ in range(10)))
    finally:
        runtime.settings = patient
    codes = [r.json().get("code") for r in responses if r.status_code == 409]
    assert codes and set(codes) == {"idempotency-key-in-flight"}
    assert await _notes(idem_app, owner.tenant_id, "rush") == 1


async def test_same_key_with_another_body_or_path_is_422_and_acts_not(c, idem_app):
    owner = await make_tenant(c)
    headers = _key(owner.headers, "key-reuse-0001")
    assert (await c.post(PATH, json={"text": "original"}, headers=headers)).status_code == 201
    other_body = await c.post(PATH, json={"text": "changed"}, headers=headers)
    other_path = await c.post(OTHER_PATH, json={"text": "original"}, headers=headers)
    for response in (other_body, other_path):
        assert response.status_code == 422
        assert response.json()["code"] == "idempotency-key-reused"
    assert await _notes(idem_app, owner.tenant_id, "changed") == 0
    assert await _notes(idem_app, owner.tenant_id, "original") == 1


async def test_whitespace_and_key_order_do_not_make_another_body(c, idem_app):
    owner = await make_tenant(c)
    headers = {**_key(owner.headers, "key-canon-0001"), "content-type": "application/json"}
    first = await c.post(PATH, content=b'{"text": "canon"}', headers=headers)
    second = await c.post(PATH, content=b'{ "text":"canon" }', headers=headers)
    assert second.status_code == 201 and second.json() == first.json()


async def test_keys_are_per_tenant(c, idem_app):
    a, b = await make_tenant(c), await make_tenant(c)
    ra = await c.post(PATH, json={"text": "shared-key"}, headers=_key(a.headers, "key-shared-0001"))
    rb = await c.post(PATH, json={"text": "shared-key"}, headers=_key(b.headers, "key-shared-0001"))
    assert ra.status_code == rb.status_code == 201
    assert ra.json()["id"] != rb.json()["id"]
    assert await _notes(idem_app, a.tenant_id, "shared-key") == 1
    assert await _notes(idem_app, b.tenant_id, "shared-key") == 1


async def test_a_failed_first_attempt_leaves_nothing_and_the_key_can_be_retried(c, idem_app):
    owner = await make_tenant(c)
    failures_left["flaky"] = 1
    headers = _key(owner.headers, "key-flaky-0001")
    failed = await c.post(PATH, json={"text": "flaky"}, headers=headers)
    assert failed.status_code == 409 and failed.json()["code"] == "conflict"
    assert await _notes(idem_app, owner.tenant_id, "flaky") == 0
    retried = await c.post(PATH, json={"text": "flaky"}, headers=headers)
    assert retried.status_code == 201
    assert await _notes(idem_app, owner.tenant_id, "flaky") == 1


async def test_responses_are_kept_at_least_a_day_then_the_key_is_new(c, idem_app):
    owner = await make_tenant(c)
    headers = _key(owner.headers, "key-ttl-00001")
    first = await c.post(PATH, json={"text": "ttl"}, headers=headers)
    runtime = idem_app.state.runtime
    try:
        runtime.clock = lambda: utcnow() + timedelta(hours=24)
        assert (await c.post(PATH, json={"text": "ttl"}, headers=headers)).json() == first.json()
        runtime.clock = lambda: utcnow() + timedelta(hours=runtime.settings.idempotency_ttl_hours, minutes=1)
        later = await c.post(PATH, json={"text": "ttl"}, headers=headers)
    finally:
        runtime.clock = utcnow
    assert later.status_code == 201 and later.json()["id"] != first.json()["id"]


@pytest.mark.parametrize("key", ["short", "has space in it", "x" * 256, "bad/char/slash"])
async def test_malformed_keys_are_422(c, key):
    owner = await make_tenant(c)
    response = await c.post(PATH, json={"text": "k"}, headers=_key(owner.headers, key))
    assert response.status_code == 422
