"""Mail subjects fit the outbox whatever the names in them, and nothing of a message (its link, its
token) or of any statement's parameters reaches the log."""

import logging

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from app.core.database import Database
from app.core.errors import database_error_text
from app.services.platform.mail import SUBJECT_MAX, bounded_subject
from tests.api.v1.members import invite, mailed_token
from tests.conftest import PASSWORD, unique_email
from tests.factories import API, login

LONGEST_NAME = 200  # app.schemas.common.Name


class TestSubject:
    def test_fits_the_outbox_column(self):
        assert SUBJECT_MAX == 300
        subject = bounded_subject("x" * 431)
        assert len(subject) == SUBJECT_MAX and subject.endswith("…")

    def test_is_one_line(self):
        assert bounded_subject("Asha\r\nBcc: x@evil.example \t invited you") == "Asha Bcc: x@evil.example invited you"

    def test_a_short_subject_is_kept(self):
        assert bounded_subject("Ravi invited you to Sharma Traders") == "Ravi invited you to Sharma Traders"


async def test_an_invitation_from_long_names_is_sent_and_nothing_of_it_is_logged(client, mailbox, caplog):
    """Two 200-character names make a 431-character subject: it used to overflow the outbox column,
    answer 400 and log the statement's parameters, the mail body and its single-use link among them."""
    email = unique_email("owner")
    body = {"email": email, "password": PASSWORD, "full_name": "R" * LONGEST_NAME, "business_name": "B" * LONGEST_NAME}
    assert (await client.post(f"{API}/auth/register", json=body)).status_code == 202
    owner = await login(client, email)
    invitee = unique_email("invitee")
    with caplog.at_level(logging.DEBUG):
        response = await invite(client, owner, invitee, "viewer")
        assert response.status_code == 201, response.text
        token = await mailed_token(mailbox, invitee, "invited")
    message = (await mailbox.wait_for(invitee, "invited"))["Subject"]
    assert len(message) <= SUBJECT_MAX and message.startswith("R" * 50)
    # Everything this process logged (the app, SQLAlchemy, uvicorn ...) but the test's own SMTP
    # server, which logs the message it receives (it is the recipient).
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records if r.name != "mail.log")
    assert token not in logged
    assert "accept-invite" not in logged


@pytest.fixture
async def db(database_urls):
    database = Database(database_urls.app, pool_size=1, max_overflow=0)
    yield database
    await database.dispose()


async def test_a_database_error_carries_no_parameters(db):
    secret = "a-single-use-token-5f3a9c"
    statement = sa.text("SELECT 1 / 0 WHERE CAST(:v AS text) IS NOT NULL").bindparams(v=secret)
    async with db.sessionmaker() as session:
        with pytest.raises(DBAPIError) as caught:
            await session.execute(statement)
    assert secret not in str(caught.value)
    assert database_error_text(caught.value) == "DivisionByZeroError sqlstate=22012"
