"""Baseline: what the framework costs on the simplest authenticated read.

`python -m bench.baseline` (or `make bench`) measures, with the same concurrency from one
separate load process:

- `GET /health`: the HTTP stack alone (no database);
- `GET /api/v1/users/me`: token verification, tenant binding and one tenant-scoped read;
- raw asyncpg doing the read /users/me does, as the application role: BEGIN, set_config of the
  tenant, the same SELECT (the user, active, with a live session family), COMMIT;

then the same two HTTP scenarios against the API with 2 worker processes (`--scale-to`), and prints,
each with its target and PASS/MISS: users/me ÷ health (≥ 0.5), users/me ÷ raw asyncpg (no target),
the scaling from 1 to 2 workers for users/me and health (≥ 1.6), and p99 ÷ p50 of each HTTP
scenario (≤ 5). The table has every scenario's requests/s, p50 and p99.
"""

import argparse
import asyncio
import uuid

import asyncpg

from app.core.embedded_pg import DatabaseUrls
from bench.common import (
    ApiServer,
    LoadProcess,
    Login,
    Result,
    Scenario,
    asyncpg_dsn,
    bench_database,
    format_ratio,
    format_results,
    format_tail,
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


def scenarios(api: ApiServer, login: Login, label: str) -> list[Scenario]:
    """GET /health and GET /users/me on `api`, named with `label`."""
    me = {"url": f"{api.base_url}/api/v1/users/me", "headers": login.auth_header}
    return [
        Scenario(f"GET /health [{label}]", "bench.common:HttpDriver", {"url": f"{api.base_url}/health"}),
        Scenario(f"GET /api/v1/users/me [{label}]", "bench.common:HttpDriver", me),
    ]


def raw_read(urls: DatabaseUrls, login: Login) -> Scenario:
    claims = login.claims
    return Scenario(
        "raw asyncpg: users/me read",
        "bench.baseline:RawUserRead",
        {
            "dsn": asyncpg_dsn(urls.app),
            "tenant_id": claims["tenant_id"],
            "user_id": claims["sub"],
            "session_id": claims["sid"],
        },
    )


async def run(concurrency: int, seconds: float, warmup: float, workers: int, scale_to: int) -> dict[str, Result]:
    """health, users/me and raw with `workers` API workers; then health and users/me again with
    `scale_to` workers (a server of its own on the same database), unless scale_to is 0.
    Each worker has a pool of `concurrency` connections (a worker may get every connection)."""
    env = {"DB_POOL_SIZE": str(concurrency), "DB_MAX_OVERFLOW": "0"}
    print(
        f"baseline: {concurrency} concurrent connections, {warmup:g} s warm-up + {seconds:g} s per scenario, "
        f"{workers} API worker(s){f', then {scale_to}' if scale_to else ''}, API pool {concurrency} connections "
        "per worker, load from a separate process",
        flush=True,
    )
    results: dict[str, Result] = {}
    async with bench_database() as urls:
        with LoadProcess(concurrency=concurrency, seconds=seconds, warmup=warmup) as load:
            async with ApiServer(urls.app, workers=workers, env=env) as api:
                await api.wait_for_workers()
                login = await register_and_login(api.base_url)
                health, me = scenarios(api, login, f"{workers}w")
                results["health"] = await load.run(health)
                results["me"] = await load.run(me)
                results["raw"] = await load.run(raw_read(urls, login))
            if scale_to:
                async with ApiServer(urls.app, workers=scale_to, env=env) as api:
                    await api.wait_for_workers()
                    login = await register_and_login(api.base_url)
                    health, me = scenarios(api, login, f"{scale_to}w")
                    results["health_scaled"] = await load.run(health)
                    results["me_scaled"] = await load.run(me)
    return results


def report(results: dict[str, Result], workers: int, scale_to: int) -> str:
    health, me, raw = results["health"], results["me"], results["raw"]
    lines = [format_results(list(results.values())), ""]
    lines.append(format_ratio(f"users/me ÷ health [{workers}w] (throughput)", me, health, "≥ 0.5"))
    lines.append(format_ratio(f"users/me ÷ raw asyncpg [{workers}w] (throughput)", me, raw))
    if scale_to:
        scaled = f"{scale_to} ÷ {workers} worker(s)"
        lines.append(format_ratio(f"users/me {scaled} (throughput)", results["me_scaled"], me, "≥ 1.6"))
        lines.append(format_ratio(f"health {scaled} (throughput)", results["health_scaled"], health, "≥ 1.6"))
    for key, result in results.items():
        if key != "raw":
            lines.append(format_tail(f"p99 ÷ p50: {result.name}", result))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.baseline", description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per scenario")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds before each scenario")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes for the API")
    parser.add_argument(
        "--scale-to", type=int, default=2, help="worker processes of the scaling comparison (0: no comparison)"
    )
    args = parser.parse_args(argv)
    results = asyncio.run(run(args.concurrency, args.seconds, args.warmup, args.workers, args.scale_to))
    print()
    print(report(results, args.workers, args.scale_to))
    return 1 if any(r.errors for r in results.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
