"""Baseline: what the framework costs on the simplest authenticated read.

`python -m bench.baseline` (or `make bench`) measures, with the same concurrency from one
separate load process:

- `GET /health`: the HTTP stack alone (no database);
- `GET /api/v1/users/me`: token verification, tenant binding and one tenant-scoped read;
- raw asyncpg doing the read /users/me does, as the application role: BEGIN, set_config of the
  tenant, the same SELECT (the user, active, with a live session family), COMMIT;

then prints users/me ÷ raw asyncpg and users/me ÷ health (throughput ratios).
"""

import argparse
import asyncio
import uuid

import asyncpg

from bench.common import (
    ApiServer,
    LoadProcess,
    Result,
    Scenario,
    asyncpg_dsn,
    bench_database,
    format_ratio,
    format_results,
    register_and_login,
)

# The statement SessionRepository.active_user sends, ORM tenant criteria included ($3 = tenant).
ACTIVE_USER_SQL = """
SELECT users.email, users.full_name, users.password_hash, users.role, users.email_verified_at,
       users.is_active, users.tenant_id, users.id, users.created_at, users.updated_at
FROM users
WHERE users.id = $1::uuid AND users.is_active IS true
  AND (EXISTS (SELECT sessions.id FROM sessions
               WHERE sessions.family_id = (SELECT sessions.family_id FROM sessions
                                           WHERE sessions.id = $2::uuid AND sessions.tenant_id = $3::uuid)
                 AND sessions.revoked_at IS NULL AND sessions.tenant_id = $3::uuid))
  AND users.tenant_id = $3::uuid
"""


class RawUserRead:
    """The /users/me read over a pool of `concurrency` asyncpg connections as the application role."""

    def __init__(self, dsn: str, tenant_id: str, user_id: str, session_id: str) -> None:
        self.dsn = dsn
        self.tenant_id = tenant_id
        self.args = (uuid.UUID(user_id), uuid.UUID(session_id), uuid.UUID(tenant_id))
        self.pool: asyncpg.Pool | None = None

    async def open(self, concurrency: int) -> None:
        self.pool = await asyncpg.create_pool(self.dsn, min_size=concurrency, max_size=concurrency)

    async def request(self, worker: int, seq: int) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT set_config('app.tenant_id', $1, true)", self.tenant_id)
            if await conn.fetchrow(ACTIVE_USER_SQL, *self.args) is None:
                raise LookupError("the user is not visible (tenant not bound?)")

    async def close(self) -> None:
        if self.pool is not None:
            await self.pool.close()


async def run(concurrency: int, seconds: float, warmup: float, workers: int) -> list[Result]:
    env = {"DB_POOL_SIZE": str(concurrency), "DB_MAX_OVERFLOW": "0"}
    async with bench_database() as urls, ApiServer(urls.app, workers=workers, env=env) as api:
        login = await register_and_login(api.base_url)
        scenarios = [
            Scenario("GET /health", "bench.common:HttpDriver", {"url": f"{api.base_url}/health"}),
            Scenario(
                "GET /api/v1/users/me",
                "bench.common:HttpDriver",
                {"url": f"{api.base_url}/api/v1/users/me", "headers": login.auth_header},
            ),
            Scenario(
                "raw asyncpg: users/me read",
                "bench.baseline:RawUserRead",
                {
                    "dsn": asyncpg_dsn(urls.app),
                    "tenant_id": login.claims["tenant_id"],
                    "user_id": login.claims["sub"],
                    "session_id": login.claims["sid"],
                },
            ),
        ]
        print(
            f"baseline: {concurrency} concurrent connections, {warmup:g} s warm-up + {seconds:g} s per scenario, "
            f"{workers} API worker(s), API pool {concurrency} connections, load from a separate process",
            flush=True,
        )
        with LoadProcess(concurrency=concurrency, seconds=seconds, warmup=warmup) as load:
            return [await load.run(scenario) for scenario in scenarios]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.baseline", description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per scenario")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds before each scenario")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes for the API")
    args = parser.parse_args(argv)
    health, me, raw = asyncio.run(run(args.concurrency, args.seconds, args.warmup, args.workers))
    print()
    print(format_results([health, me, raw]))
    print()
    print(format_ratio("users/me ÷ raw asyncpg (throughput)", me, raw))
    print(format_ratio("users/me ÷ health (throughput)", me, health))
    return 1 if any(r.errors for r in (health, me, raw)) else 0


if __name__ == "__main__":
    raise SystemExit(main())
