"""The issue path's statement count: load -> compute -> write keeps a 10-line invoice's issue to a
fixed, small number of SQL statements however many lines and distinct rates it has (bench/invoices.py
measures what they cost). Every statement of the request is counted, the session check included."""

import contextlib

import pytest
from sqlalchemy import event

from tests.api.v1.invoicing import Party, line
from tests.factories import make_tenant


@contextlib.contextmanager
def statements(app):
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    engine = app.state.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


@pytest.fixture
async def party(client) -> Party:
    return await Party.make(client, await make_tenant(client))


async def test_issuing_ten_lines_runs_a_fixed_number_of_statements(app, client, party):
    await party.invoice(client)  # the first issue of the month creates the counters' rows
    lines = [line(f"{100 + n}.00", gst_rate=rate) for n, rate in enumerate(["0", "5", "12", "18", "28"] * 2)]
    with statements(app) as seen:
        await party.invoice(client, *lines)
    many = await _count(app, client, party, lines * 5)
    # 20 before load -> compute -> write; 11 before one write statement; 8 before one context per request;
    # 6, then 7 with its business event (issue 13: invoice.issued and the webhook subscriber lookup, one statement)
    assert len(seen) <= 7, seen
    assert many == len(seen), "the count grows with the lines"


async def _count(app, client, party, lines) -> int:
    with statements(app) as seen:
        await party.invoice(client, *lines)
    return len(seen)
