"""One context per request: one `now` (and its Indian day), the policy built once, and the
subscription standing read once however many layers ask (RequireRole, entitlements.require)."""

import ast
import dataclasses
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event

from app.core.context import Context
from app.core.runtime import Runtime
from app.domain.subscription_policy import Policy
from tests.api.v1.customer_rows import make_customer
from tests.api.v1.members import invite
from tests.conftest import unique_email
from tests.factories import make_tenant

SUBSCRIPTION_READ = re.compile(r"\bFROM subscriptions\b", re.IGNORECASE)


class TestContext:
    def test_today_is_the_day_in_india(self, app):
        rt = app.state.runtime
        # 18:29 UTC is 23:59 IST; a minute later it is the next day in India (still the same in UTC).
        assert rt.context(at=datetime(2026, 3, 31, 18, 29, tzinfo=UTC)).today == date(2026, 3, 31)
        assert rt.context(at=datetime(2026, 3, 31, 18, 30, tzinfo=UTC)).today == date(2026, 4, 1)

    def test_the_policy_comes_from_the_settings_and_is_built_once(self, app):
        rt = app.state.runtime
        hard = Runtime(rt.settings.model_copy(update={"post_trial_mode": "hard_lock", "grace_days": 5}), rt.db)
        ctx = hard.context()
        assert ctx.policy == Policy("hard_lock", 5)
        assert ctx.policy is ctx.policy

    def test_a_context_is_frozen_and_needs_an_aware_instant(self, app):
        rt = app.state.runtime
        ctx = rt.context()
        with pytest.raises(dataclasses.FrozenInstanceError):
            ctx.now = ctx.now + timedelta(days=1)  # type: ignore[misc]
        with pytest.raises(ValueError, match="timezone-aware"):
            Context(settings=rt.settings, db=rt.db, now=datetime(2026, 1, 1))

    def test_the_clock_is_read_once_per_context(self, app):
        rt = app.state.runtime
        reads: list[datetime] = []

        def ticking() -> datetime:
            reads.append(datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=len(reads)))
            return reads[-1]

        ctx = Runtime(rt.settings, rt.db, clock=ticking).context()
        assert (ctx.now, ctx.now, ctx.today) == (reads[0], reads[0], date(2026, 1, 1))
        assert len(reads) == 1
        at = datetime(2030, 5, 5, tzinfo=UTC)
        assert Runtime(rt.settings, rt.db, clock=ticking).context(at=at).now == at  # a job step's instant
        assert len(reads) == 1


@contextmanager
def subscription_reads(app) -> Iterator[list[str]]:
    """The statements that read the `subscriptions` table while the block runs."""
    seen: list[str] = []
    engine = app.state.runtime.db.engine.sync_engine

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        if SUBSCRIPTION_READ.search(statement):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


class TestOneLockedCheckPerWrite:
    async def test_an_invitation_reads_the_subscription_once(self, client, app):
        """POST /users/invite passes RequireRole (is the subscription locked?) and then the plan's
        users limit (entitlements.require): both answer from the request's one standing."""
        owner = await make_tenant(client)
        await invite(client, owner, unique_email("warmup"), "admin")  # verifies the owner's email
        with subscription_reads(app) as seen:
            response = await invite(client, owner, unique_email("invitee"), "admin")
        assert response.status_code == 201, response.text
        assert len(seen) == 1, seen

    async def test_a_customer_reads_it_once(self, client, app):
        """POST /customers: RequireRole and the customers limit share the request's context."""
        owner = await make_tenant(client)
        await make_customer(client, owner)  # warm-up: a first write may settle the trial state
        with subscription_reads(app) as seen:
            await make_customer(client, owner, name="Mehta Traders")
        assert len(seen) == 1, seen

    async def test_a_read_only_route_reads_it_once_too(self, client, app):
        owner = await make_tenant(client)
        with subscription_reads(app) as seen:
            response = await client.get("/api/v1/tenants/subscription", headers=owner.headers)
        assert response.status_code == 200, response.text
        assert len(seen) == 1, seen


APP = Path(__file__).resolve().parents[2] / "app"
# The scheduler's entry points hold the Runtime that builds each job step's context.
# Drivers that open a transaction per tenant themselves: the scheduler, the secret rotation command, and
# the purge of a deleted tenant (many short transactions, each with the context of its moment).
RUNTIME_STILL_TAKEN = {
    "services/platform/scheduler.py",
    "services/commerce/secret_rotation.py",
    "services/platform/tenant_deletion.py",
}


def _source(relative: str) -> str:
    return (APP / relative).read_text()


def _runtime_parameters(tree: ast.AST) -> list[str]:
    return [
        f"{node.name}({arg.arg})"
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        for arg in [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
        if arg.annotation is not None and "Runtime" in ast.unparse(arg.annotation)
    ]


class TestNoSecondClock:
    """Services take `(session, ctx)` and routes a `ContextDep`: none reads the clock itself."""

    def test_no_service_takes_a_runtime(self):
        found = {
            f"{path.relative_to(APP)}: {', '.join(params)}"
            for path in sorted((APP / "services").rglob("*.py"))
            if str(path.relative_to(APP)) not in RUNTIME_STILL_TAKEN
            and (params := _runtime_parameters(ast.parse(path.read_text())))
        }
        assert found == set()

    def test_no_route_reads_the_clock(self):
        found = {
            str(path.relative_to(APP))
            for path in sorted((APP / "api").rglob("*.py"))
            if re.search(r"RuntimeDep|rt\.now\(\)|clock\(|today_in_india\(", path.read_text())
        }
        assert found <= {"api/deps.py"}  # it defines RuntimeDep, from which the context is built
        assert "rt.now()" not in _source("api/deps.py")

    def test_the_checks_see_a_runtime_parameter(self):
        tree = ast.parse("async def f(session, rt: Runtime, *, at: datetime) -> None: ...")
        assert _runtime_parameters(tree) == ["f(rt)"]
