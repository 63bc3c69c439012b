"""Exports: GET /invoices/export of 100,000 invoices as CSV and XLSX (and CSV with lines=true).

`python -m bench.exports` seeds, on a database of its own (dropped at the end), 100,000 issued
invoices of one tenant (one line each, dated over two years, bench.invoices' seed), starts one
API worker, then downloads each export once, reading the body as it arrives, and prints:
- rows/s (data rows of the file ÷ seconds from the request to the last byte), the file's size and
  the time to the first byte;
- the worker's peak RSS during the download, sampled every 20 ms, as growth over its RSS just
  before the request (after a warm-up export, so imports and caches are already counted).

Target: the worker's RSS grows by at most a few MB (≤ 32 MB) whatever the export's size; the
figures are printed, nothing is asserted. The exit status is 1 if a download failed.
"""

import argparse
import asyncio
import contextlib
import csv
import io
import json
import time
from dataclasses import dataclass

import asyncpg
import httpx
import psutil
from openpyxl import load_workbook

from bench.common import ApiServer, Login, asyncpg_dsn, bench_database, format_target, register_and_login
from bench.invoices import make_party, seed_bench_tenant

DATABASE = "rms_bench_exports"  # not the other benches': they may run at once
API = "/api/v1"
MB = 1024 * 1024


@dataclass
class Download:
    label: str
    rows: int
    size: int
    seconds: float
    first_byte: float
    baseline_rss: int
    peak_rss: int

    @property
    def growth_mb(self) -> float:
        return (self.peak_rss - self.baseline_rss) / MB

    def line(self) -> str:
        rate = self.rows / self.seconds if self.seconds else float("nan")
        return (
            f"{self.label:<28} {self.rows:>9,} rows  {rate:>9,.0f} rows/s  {self.seconds:6.1f} s  "
            f"first byte {self.first_byte * 1000:6.0f} ms  {self.size / MB:7.1f} MB  "
            f"RSS {self.baseline_rss / MB:6.1f} → peak {self.peak_rss / MB:6.1f} MB (+{self.growth_mb:.1f})"
        )


async def _sample_rss(process: psutil.Process, peak: list[int], stop: asyncio.Event) -> None:
    while not stop.is_set():
        peak[0] = max(peak[0], process.memory_info().rss)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.02)


def count_rows(fmt: str, body: bytes) -> int:
    """Data rows of the file (the header not counted), read back as a spreadsheet would."""
    if fmt == "csv":
        return sum(1 for _ in csv.reader(io.StringIO(body.decode("utf-8-sig")))) - 1
    sheet = load_workbook(io.BytesIO(body), read_only=True).active
    return sum(1 for _ in sheet.iter_rows(values_only=True)) - 1


async def download(api: ApiServer, login: Login, label: str, params: dict[str, str]) -> Download:
    [worker] = api.worker_processes()
    baseline = worker.memory_info().rss
    peak, stop = [baseline], asyncio.Event()
    sampler = asyncio.create_task(_sample_rss(worker, peak, stop))
    body = bytearray()
    first_byte = 0.0
    async with httpx.AsyncClient(base_url=api.base_url, headers=login.auth_header, timeout=600.0) as client:
        started = time.perf_counter()
        async with client.stream("GET", f"{API}/invoices/export", params=params) as response:
            response.raise_for_status()
            async for chunk in response.aiter_raw():
                if not body:
                    first_byte = time.perf_counter() - started
                body += chunk
        seconds = time.perf_counter() - started
    stop.set()
    await sampler
    rows = count_rows(params.get("format", "csv"), bytes(body))
    return Download(label, rows, len(body), seconds, first_byte, baseline, peak[0])


async def run(args: argparse.Namespace) -> int:
    async with bench_database(DATABASE) as urls, ApiServer(urls.app, workers=1) as api:
        login = await register_and_login(api.base_url)
        company, customer, template = await make_party(api.base_url, login)
        admin = await asyncpg.connect(asyncpg_dsn(urls.admin))
        try:
            started = time.perf_counter()
            snapshots = (json.dumps(template["supplier"]), json.dumps(template["recipient"]))
            tenant = login.claims["tenant_id"]
            await seed_bench_tenant(admin, tenant, company["id"], customer["id"], args.invoices, snapshots)
        finally:
            await admin.close()
        print(f"seeded {args.invoices:,} invoices in {time.perf_counter() - started:.1f} s; one API worker", flush=True)
        await download(api, login, "warm-up", {"format": "csv", "to": "2000-01-01"})
        await download(api, login, "warm-up", {"format": "xlsx", "to": "2000-01-01"})
        results: list[Download] = []
        try:
            for label, params in [
                ("csv", {"format": "csv"}),
                ("csv, lines=true", {"format": "csv", "lines": "true"}),
                ("xlsx", {"format": "xlsx"}),
            ]:
                results.append(await download(api, login, label, params))
                print(results[-1].line(), flush=True)
        except httpx.HTTPError as exc:
            print(f"a download failed: {exc!r}")
            return 1
    print()
    for result in results:
        detail = f"+{result.growth_mb:.1f} MB over {result.baseline_rss / MB:.0f} MB, {result.rows:,} rows"
        print(format_target(f"RSS growth exporting {result.label}", result.growth_mb, detail, "≤ 32"))
    # Every seeded invoice has one line; the template invoice has len(template["lines"]).
    expected = {"csv, lines=true": args.invoices + len(template["lines"])}
    return 0 if all(r.rows == expected.get(r.label, args.invoices + 1) for r in results) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.exports", description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=100_000, help="invoices seeded (one line each)")
    return asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
