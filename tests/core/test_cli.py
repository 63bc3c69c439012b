"""`python -m app` commands an operator runs against a real database: create-roles on a fresh
database, and run-due's guard against replaying the future in production."""

import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest

from app.__main__ import main
from app.core.config import get_settings
from app.core.embedded_pg import DatabaseUrls
from app.models.base import utcnow
from tests.db.test_migrations import _maintenance, on_database

PROD = {
    "ENV": "prod",
    "JWT_SECRET": "a-real-production-secret-" + "x" * 40,
    "RAZORPAY_MODE": "live",
    "RAZORPAY_KEY_ID": "rzp_live_x",
    "RAZORPAY_KEY_SECRET": "secret",
    "RAZORPAY_WEBHOOK_SECRET": "secret",
    "PAYMENT_SECRET_KEYS": "qAHEAPoF0UtRRkUmIvJvZJHMmwDO5AZo7E-NPpVW6xU=",  # a key of its own (not the dev one)
}


@pytest.fixture
def use_database(monkeypatch) -> Iterator:
    """Point the CLI's settings at a database (as DATABASE_URL / DATABASE_ADMIN_URL would)."""

    def use(urls: DatabaseUrls, **env: str) -> None:
        monkeypatch.setenv("DATABASE_URL", urls.app)
        monkeypatch.setenv("DATABASE_ADMIN_URL", urls.admin)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()

    yield use
    get_settings.cache_clear()


def test_create_roles_on_a_fresh_database_works_and_says_to_migrate(database_urls, use_database, capsys):
    import asyncio

    database = f"rms_fresh_{uuid.uuid4().hex[:8]}"
    asyncio.run(_maintenance(database_urls, f'CREATE DATABASE "{database}"'))
    try:
        use_database(
            DatabaseUrls(app=on_database(database_urls.app, database), admin=on_database(database_urls.admin, database))
        )
        main(["create-roles"])
    finally:
        asyncio.run(_maintenance(database_urls, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
    out = capsys.readouterr().out.strip()
    assert out.startswith("application role ready: ") and "python -m app migrate" in out, out
    assert len(out.splitlines()) == 1


def test_create_roles_on_a_migrated_database_says_nothing_more(database_urls, use_database, capsys):
    use_database(database_urls)
    main(["create-roles"])
    assert capsys.readouterr().out.strip() == "application role ready: rms_app"


def run_due(*args: str) -> int:
    try:
        main(["jobs", "run-due", "--tenant", str(uuid.uuid4()), *args])  # a tenant of no one: nothing changes
    except SystemExit as exit_:
        return 1 if isinstance(exit_.code, str) else exit_.code or 0
    return 0


class TestRunDueAt:
    def test_a_future_instant_is_refused_in_prod(self, database_urls, use_database, capsys):
        use_database(database_urls, **PROD)
        future = (utcnow() + timedelta(days=30)).isoformat()
        with pytest.raises(SystemExit) as exit_:
            main(["jobs", "run-due", "--tenant", str(uuid.uuid4()), "--at", future])
        assert "--allow-future" in str(exit_.value.code) and "ENV=prod" in str(exit_.value.code)
        assert capsys.readouterr().out == ""

    def test_a_future_instant_is_replayed_in_prod_when_allowed(self, database_urls, use_database):
        use_database(database_urls, **PROD)
        future = (utcnow() + timedelta(days=30)).isoformat()
        assert run_due("--at", future, "--allow-future") == 0

    @pytest.mark.parametrize("days", [-30, 0])
    def test_the_past_and_now_run_in_prod(self, database_urls, use_database, days):
        use_database(database_urls, **PROD)
        assert run_due("--at", (utcnow() + timedelta(days=days)).isoformat()) == 0

    def test_any_instant_is_replayed_outside_prod(self, database_urls, use_database):
        use_database(database_urls, ENV="dev")
        assert run_due("--at", (utcnow() + timedelta(days=400)).isoformat()) == 0
