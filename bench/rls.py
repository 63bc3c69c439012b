"""Row-level security's cost: users/me and the invoice issue with the policies on and off, in one run.

`python -m bench.rls` (part of `make bench`) serves the API on a database of its own, then measures
each scenario three times: policies on, off, on again. The ratio is the "off" throughput ÷ the mean
of the two "on" legs (which brackets the drift of a machine shared with others). Target ≤ 1.10: the
database's second wall may cost at most a tenth of the throughput.

- `GET /api/v1/users/me` at `--concurrency` (32) connections;
- `POST /api/v1/invoices` (10 lines, `"issue": true`) at `--issue-concurrency` (16).

The "off" switch is the bench's alone, on the owner's side: the bench connects with the owner's URL
(DATABASE_ADMIN_URL's role, which owns the tables) and runs `ALTER TABLE ... DISABLE ROW LEVEL
SECURITY, NO FORCE ROW LEVEL SECURITY` on every table that has row-level security, and restores each
table as it was (ENABLE, and FORCE where it was forced) in a `finally`, then checks the restore. The
application cannot reach it: no route or setting does this, and the application role owns no table
(ALTER TABLE is the owner's). Only the database's policies are off: the ORM tenant filter, the
per-request session check and the tenant binding (set_config) run in both legs, so the "off" leg
measures exactly what the policies cost. Each switch is verified from the application role's side:
with no tenant bound, `users` shows no row with the policies on and every row with them off.
"""

import argparse
import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from bench.common import (
    ApiServer,
    LoadProcess,
    Result,
    Scenario,
    asyncpg_dsn,
    bench_database,
    format_results,
    format_tail,
    format_target,
    register_and_login,
)
from bench.invoices import API, issue_body, make_party

DATABASE = "rms_bench_rls"  # not the other benches': they may run at once
TARGET = "≤ 1.10"

RLS_TABLES_SQL = """
SELECT c.relname, c.relforcerowsecurity
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND c.relrowsecurity
ORDER BY c.relname
"""


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@asynccontextmanager
async def policies_off(admin_dsn: str, app_dsn: str) -> AsyncIterator[list[str]]:
    """Row-level security off on every table that has it, as the owner; restored on exit."""
    owner = await asyncpg.connect(admin_dsn)
    try:
        tables = [(row["relname"], row["relforcerowsecurity"]) for row in await owner.fetch(RLS_TABLES_SQL)]
        if not tables:
            raise RuntimeError("no table has row-level security: nothing to switch off")
        try:
            async with owner.transaction():
                for name, _ in tables:
                    await owner.execute(
                        f"ALTER TABLE {_quoted(name)} DISABLE ROW LEVEL SECURITY, NO FORCE ROW LEVEL SECURITY"
                    )
            if not await policies_bypassed(app_dsn):
                raise RuntimeError("the application role still sees no row with the policies off")
            yield [name for name, _ in tables]
        finally:
            async with owner.transaction():
                for name, forced in tables:
                    force = ", FORCE ROW LEVEL SECURITY" if forced else ""
                    await owner.execute(f"ALTER TABLE {_quoted(name)} ENABLE ROW LEVEL SECURITY{force}")
            restored = [(row["relname"], row["relforcerowsecurity"]) for row in await owner.fetch(RLS_TABLES_SQL)]
            if restored != tables:
                raise RuntimeError(f"row-level security not restored as it was: {restored} != {tables}")
    finally:
        await owner.close()
    if await policies_bypassed(app_dsn):
        raise RuntimeError("the application role sees rows of no bound tenant after the restore")


async def policies_bypassed(app_dsn: str) -> bool:
    """Whether the application role, with no tenant bound, sees any user (the policies hide them all)."""
    conn = await asyncpg.connect(app_dsn)
    try:
        return await conn.fetchval("SELECT count(*) FROM users") > 0
    finally:
        await conn.close()


def off_over_on(label: str, on_before: Result, off: Result, on_after: Result) -> str:
    on = (on_before.rps + on_after.rps) / 2
    ratio = off.rps / on if on else float("nan")
    detail = f"{off.rps:.1f} / mean({on_before.rps:.1f}, {on_after.rps:.1f}) req/s"
    return format_target(label, ratio, detail, TARGET)


async def run(args: argparse.Namespace) -> dict[str, list[Result]]:
    env = {"DB_POOL_SIZE": str(max(args.concurrency, args.issue_concurrency)), "DB_MAX_OVERFLOW": "0"}
    timings = {"seconds": args.seconds, "warmup": args.warmup}
    async with bench_database(DATABASE) as urls, ApiServer(urls.app, workers=args.workers, env=env) as api:
        admin_dsn, app_dsn = asyncpg_dsn(urls.admin), asyncpg_dsn(urls.app)
        if await policies_bypassed(app_dsn):
            raise RuntimeError("the application role sees rows with no tenant bound: row-level security is off")
        reader = await register_and_login(api.base_url)
        writer = await register_and_login(api.base_url)
        company, customer, _ = await make_party(api.base_url, writer)
        me = Scenario(
            "GET /api/v1/users/me",
            "bench.common:HttpDriver",
            {"url": f"{api.base_url}{API}/users/me", "headers": reader.auth_header},
        )
        issue = Scenario(
            "POST /invoices (10 lines, issue)",
            "bench.common:HttpDriver",
            {
                "url": f"{api.base_url}{API}/invoices",
                "method": "POST",
                "headers": writer.auth_header,
                "json_body": issue_body(company["id"], customer["id"]),
                "expect": 201,
            },
        )
        print(
            f"rls: users/me at {args.concurrency} and issue at {args.issue_concurrency} concurrent connections, "
            f"{args.warmup:g} s warm-up + {args.seconds:g} s per leg, legs on / off / on, {args.workers} API "
            "worker(s), load from a separate process",
            flush=True,
        )
        results: dict[str, list[Result]] = {}
        with (
            LoadProcess(concurrency=args.concurrency, **timings) as reads,
            LoadProcess(concurrency=args.issue_concurrency, **timings) as writes,
        ):
            for key, scenario, load in (("me", me, reads), ("issue", issue, writes)):
                legs = [await load.run(_named(scenario, "RLS on"))]
                async with policies_off(admin_dsn, app_dsn):
                    legs.append(await load.run(_named(scenario, "RLS off")))
                legs.append(await load.run(_named(scenario, "RLS on, again")))
                results[key] = legs
        return results


def _named(scenario: Scenario, label: str) -> Scenario:
    return Scenario(f"{scenario.name} [{label}]", scenario.driver, scenario.options)


def report(results: dict[str, list[Result]]) -> str:
    lines = [format_results([r for legs in results.values() for r in legs]), ""]
    lines.append(off_over_on("users/me: RLS off ÷ on (throughput)", *results["me"]))
    lines.append(off_over_on("issue: RLS off ÷ on (throughput)", *results["issue"]))
    for legs in results.values():
        lines += [format_tail(f"p99 ÷ p50: {r.name}", r) for r in legs]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.rls", description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent users/me readers")
    parser.add_argument("--issue-concurrency", type=int, default=16, help="concurrent issuers")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per leg")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds before each leg")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes for the API")
    args = parser.parse_args(argv)
    results = asyncio.run(run(args))
    print()
    print(report(results))
    return 1 if any(r.errors for legs in results.values() for r in legs) else 0


if __name__ == "__main__":
    raise SystemExit(main())
