"""Soak: mixed reads and writes for minutes; each API worker's memory at the start and at the end.

`python -m bench.soak` (or `make soak`; `--minutes`, default 10, `SOAK_MINUTES=` for make) serves
the API with `--workers` worker processes (default: WEB_CONCURRENCY, else 2) on a database of its own,
and drives it from one separate load process with `--concurrency` (16) keep-alive connections, each a
closed loop over the same mix of operations (every worker starts at a different place in it):

    4 x GET /api/v1/users/me
    2 x GET /api/v1/invoices?limit=20          (the tenant's newest invoices)
    2 x POST /api/v1/invoices                  (10 lines, "issue": true)
    1 x POST /api/v1/receipts                  (an advance receipt of the same customer)
    1 x GET /api/v1/receipts?limit=20

The first `--warmup` seconds (30) are not counted. The resident set size (RSS) of every worker process
is read (psutil) right after the warm-up, every `--sample` seconds, and last just before the load
stops; the report gives each worker's RSS at start and end and its growth (target < 10 %), the
throughput and p50/p99 per operation, and the errors: any 5xx, any other unexpected status, any
connection failure. A worker that dies (uvicorn would restart it) is reported and fails the run.
The exit status is 1 if there was any error or a worker died; RSS growth is printed with PASS/MISS.
"""

import argparse
import asyncio
import contextlib
import json
import os
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from multiprocessing import get_context
from typing import Any
from zoneinfo import ZoneInfo

import psutil

from bench.common import (
    ApiServer,
    _HttpConnection,
    _percentile,
    bench_database,
    format_target,
    register_and_login,
)
from bench.invoices import API, issue_body, make_party

DATABASE = "rms_bench_soak"  # not the other benches': they may run at once
INDIA = ZoneInfo("Asia/Kolkata")
RSS_TARGET = "< 10"  # percent
# One cycle of the mix; worker i starts at position i (so the operations overlap from the start).
MIX = ["me", "invoices", "me", "issue", "invoices", "me", "receipt", "receipts", "me", "issue"]
EXPECT = {"me": 200, "invoices": 200, "issue": 201, "receipt": 201, "receipts": 200}
MB = 1024 * 1024


# --- the load process -------------------------------------------------------------------------


@dataclass
class OpStats:
    requests: int = 0
    errors: int = 0
    server_errors: int = 0  # 5xx
    first_error: str | None = None
    p50_ms: float = float("nan")
    p99_ms: float = float("nan")


class MixedLoad:
    """The soak's operations over one keep-alive connection per worker (built in the load process)."""

    def __init__(self, base_url: str, auth: dict[str, str], company_id: str, customer_id: str) -> None:
        host_port = base_url.removeprefix("http://")
        self.host, _, port = host_port.partition(":")
        self.port = int(port)
        self.auth = auth
        self.company_id, self.customer_id = company_id, customer_id
        self.fixed = {
            "me": self._encode("GET", f"{API}/users/me"),
            "invoices": self._encode("GET", f"{API}/invoices?limit=20"),
            "issue": self._encode("POST", f"{API}/invoices", issue_body(company_id, customer_id)),
            "receipts": self._encode("GET", f"{API}/receipts?limit=20"),
        }

    def _encode(self, method: str, target: str, body: Any = None) -> bytes:
        data = b"" if body is None else json.dumps(body).encode()
        lines = [f"{method} {target} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{name}: {value}" for name, value in self.auth.items()]
        if body is not None:
            lines += ["Content-Type: application/json", f"Content-Length: {len(data)}"]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + data

    def payload(self, op: str) -> bytes:
        if op == "receipt":  # dated today in Asia/Kolkata, as the API's own clock decides
            body = {
                "customer_id": self.customer_id,
                "company_id": self.company_id,
                "amount": "100.00",
                "receipt_date": datetime.now(INDIA).date().isoformat(),
                "mode": "upi",
            }
            return self._encode("POST", f"{API}/receipts", body)
        return self.fixed[op]


async def _soak(load: MixedLoad, concurrency: int, seconds: float, warmup: float) -> dict[str, OpStats]:
    latencies: dict[str, list[float]] = defaultdict(list)
    stats: dict[str, OpStats] = {op: OpStats() for op in EXPECT}
    clock = time.perf_counter
    started = clock()
    measure_from, deadline = started + warmup, started + warmup + seconds

    async def worker(index: int) -> None:
        connection = _HttpConnection(load.host, load.port)
        seq = index
        try:
            while (begin := clock()) < deadline:
                op = MIX[seq % len(MIX)]
                seq += 1
                counted = begin >= measure_from
                try:
                    status, body = await connection.exchange(load.payload(op))
                except Exception as exc:  # a dropped connection, a reset: an error like a 5xx
                    if counted:
                        _failed(stats[op], f"{op}: {exc!r}")
                    await asyncio.sleep(0.01)
                    continue
                if counted:
                    if status != EXPECT[op]:
                        _failed(stats[op], f"{op}: {status}: {body[:200]!r}", server=status >= 500)
                    else:
                        stats[op].requests += 1
                        latencies[op].append(clock() - begin)
        finally:
            await connection.close()

    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    for op, values in latencies.items():
        values.sort()
        stats[op].p50_ms, stats[op].p99_ms = _percentile(values, 0.50) * 1000, _percentile(values, 0.99) * 1000
    return stats


def _failed(stats: OpStats, message: str, *, server: bool = False) -> None:
    stats.errors += 1
    stats.server_errors += server
    stats.first_error = stats.first_error or message[:300]


def _run_soak(options: dict[str, Any], concurrency: int, seconds: float, warmup: float) -> dict[str, OpStats]:
    try:
        import uvloop
    except ImportError:
        runner = asyncio.run
    else:
        runner = uvloop.run
    return runner(_soak(MixedLoad(**options), concurrency, seconds, warmup))


# --- the parent: set-up, RSS samples, report ----------------------------------------------------


@dataclass
class Sample:
    at: float  # seconds since the load started
    rss: dict[int, int]  # worker pid -> bytes; a worker gone is missing


def sample(workers: list[psutil.Process], at: float) -> Sample:
    rss = {}
    for worker in workers:
        with contextlib.suppress(psutil.Error):  # gone: missing from the sample
            rss[worker.pid] = worker.memory_info().rss
    return Sample(at, rss)


async def run(args: argparse.Namespace) -> int:
    seconds = args.minutes * 60
    env = {"DB_POOL_SIZE": str(args.concurrency), "DB_MAX_OVERFLOW": "0"}
    async with bench_database(DATABASE) as urls, ApiServer(urls.app, workers=args.workers, env=env) as api:
        workers = await api.wait_for_workers()
        login = await register_and_login(api.base_url)
        company, customer, _ = await make_party(api.base_url, login)
        options = {
            "base_url": api.base_url,
            "auth": login.auth_header,
            "company_id": company["id"],
            "customer_id": customer["id"],
        }
        print(
            f"soak: {args.minutes:g} min measured after {args.warmup:g} s warm-up, {args.concurrency} concurrent "
            f"connections, {args.workers} API worker(s) (pids {', '.join(str(w.pid) for w in workers)}), "
            f"API pool {args.concurrency} connections per worker, load from a separate process; "
            f"mix per cycle: {', '.join(MIX)}",
            flush=True,
        )
        loop = asyncio.get_running_loop()
        with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
            started = time.monotonic()
            load = loop.run_in_executor(pool, _run_soak, options, args.concurrency, seconds, args.warmup)
            samples = await _sample_until(load, workers, started, args)
            stats = await load
    return report(stats, samples, [w.pid for w in workers], seconds)


async def _sample_until(
    load: asyncio.Future, workers: list[psutil.Process], started: float, args: argparse.Namespace
) -> list[Sample]:
    """RSS at the end of the warm-up, every `--sample` seconds, and 1 s before the load ends."""
    total = args.warmup + args.minutes * 60
    moments = [args.warmup]
    while moments[-1] + args.sample < total - 1:
        moments.append(moments[-1] + args.sample)
    moments.append(total - 1)
    samples = []
    for moment in moments:
        delay = started + moment - time.monotonic()
        if delay > 0:
            done, _ = await asyncio.wait({load}, timeout=delay)
            if done:  # the load process ended early (it failed): no more samples
                break
        samples.append(sample(workers, time.monotonic() - started))
        rss = ", ".join(f"{pid}: {value / MB:.1f}" for pid, value in samples[-1].rss.items())
        print(f"  t={samples[-1].at:6.0f} s  RSS MB {rss}", flush=True)
    return samples


def report(stats: dict[str, OpStats], samples: list[Sample], pids: list[int], seconds: float) -> int:
    print()
    width = max(len(op) for op in stats)
    heads = f"{'requests':>9}  {'req/s':>8}  {'p50 ms':>8}  {'p99 ms':>8}  {'errors':>6}  {'5xx':>5}"
    print(f"{'operation':<{width}}  {heads}")
    for op, s in stats.items():
        print(
            f"{op:<{width}}  {s.requests:>9}  {s.requests / seconds:>8.1f}  {s.p50_ms:>8.2f}  {s.p99_ms:>8.2f}  "
            f"{s.errors:>6}  {s.server_errors:>5}"
        )
    total = sum(s.requests for s in stats.values())
    errors = sum(s.errors for s in stats.values())
    server_errors = sum(s.server_errors for s in stats.values())
    print(f"{'all':<{width}}  {total:>9}  {total / seconds:>8.1f}  {'':>8}  {'':>8}  {errors:>6}  {server_errors:>5}")
    for op, s in stats.items():
        if s.first_error:
            print(f"  first error in {op}: {s.first_error}")
    print()
    died = [pid for pid in pids if not samples or pid not in samples[-1].rss]
    if len(samples) < 2:
        print("RSS: fewer than two samples (the load ended early)")
    else:
        start, end = samples[0], samples[-1]
        for pid in pids:
            if pid in start.rss and pid in end.rss:
                before, after = start.rss[pid], end.rss[pid]
                growth = (after - before) / before * 100
                detail = f"{before / MB:.1f} MB at t={start.at:.0f} s -> {after / MB:.1f} MB at t={end.at:.0f} s"
                print(format_target(f"RSS growth %, worker {pid}", growth, detail, RSS_TARGET))
    for pid in died:
        print(f"worker {pid} was gone by the end (it died; uvicorn starts a new one): FAILURE")
    verdict = "no errors" if not errors and not died else f"{errors} errors ({server_errors} 5xx), {len(died)} died"
    print(f"throughput {total / seconds:.1f} req/s over {seconds / 60:g} min; {verdict}")
    return 1 if errors or died or len(samples) < 2 else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=float(os.environ.get("SOAK_MINUTES") or 10))
    parser.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("WEB_CONCURRENCY") or 2),
        help="uvicorn worker processes for the API (default: WEB_CONCURRENCY, else 2)",
    )
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--warmup", type=float, default=30.0, help="unmeasured seconds before the start sample")
    parser.add_argument("--sample", type=float, default=30.0, help="seconds between RSS samples")
    args = parser.parse_args(argv)
    if args.minutes <= 0 or args.workers < 1 or args.concurrency < 1:
        parser.error("--minutes, --workers and --concurrency must be positive")
    return asyncio.run(run(args))


if __name__ == "__main__":
    raise SystemExit(main())
