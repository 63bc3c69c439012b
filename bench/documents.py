"""Documents: GET /invoices/{id}/pdf against GET /invoices/{id} on the same invoice.

`python -m bench.documents` measures, in one run, on a database of its own (dropped at the end),
a 10-line and a 200-line issued invoice (intra-state, 18 %, the company with a UPI VPA so the QR
is drawn, the invoice unpaid): for each, the JSON endpoint and the PDF endpoint at the same
concurrency, from a separate load process.

Two API servers, one after the other:
- cold: PDF_CACHE_BYTES=0, every request renders (what the first download of each invoice, or
  of each new version of it, costs);
- cached: the default cache, the same invoice again and again renders once (what re-downloads,
  the share page's PDF link and mail attachments of the same version cost), plus the 304 a client
  holding the ETag gets.

Target: the 10-line PDF at ≥ 0.25 x the JSON endpoint's throughput, judged on the cold server
(realistic: a tenant's downloads are mostly of different invoices, each rendered at least once);
the cached figures are printed beside it. Every figure is printed; nothing is asserted. The exit
status is 1 if a scenario had errors.
"""

import argparse
import asyncio
import math
from typing import Any

import httpx

from bench.common import (
    ApiServer,
    LoadProcess,
    Login,
    Result,
    Scenario,
    bench_database,
    format_ratio,
    format_results,
    register_and_login,
)
from bench.invoices import _gstin

DATABASE = "rms_bench_documents"  # not the other benches': they may run at once
API = "/api/v1"


def lines(count: int) -> list[dict[str, Any]]:
    return [
        {
            "description": f"Service {n}: maintenance visit and spare parts",
            "hsn_sac": "998719",
            "quantity": str(1 + n % 5),
            "unit": "NOS",
            "unit_price": f"{250 * n}.50",
            "discount": "10.00" if n % 3 == 0 else "0",
            "gst_rate": "18",
        }
        for n in range(1, count + 1)
    ]


async def make_invoices(base_url: str, login: Login) -> dict[int, str]:
    """A company with a UPI VPA, a customer, and an issued invoice of 10 and of 200 lines: {lines: id}."""
    async with httpx.AsyncClient(base_url=base_url, headers=login.auth_header, timeout=60.0) as client:
        body = {
            "legal_name": "Bench Traders Pvt Ltd",
            "gstin": _gstin("29", "AAPFU0939F"),
            "address_line1": "12, MG Road",
            "city": "Bengaluru",
            "pincode": "560001",
            "upi_vpa": "benchtraders@okaxis",
        }
        company = await client.post(f"{API}/companies", json=body)
        company.raise_for_status()
        body = {"name": "Sharma Stores", "billing_address": {"line1": "4 Residency Road", "state_code": "29"}}
        customer = await client.post(f"{API}/customers", json=body)
        customer.raise_for_status()
        ids = {}
        for count in (10, 200):
            invoice = {
                "company_id": company.json()["id"],
                "customer_id": customer.json()["id"],
                "issue": True,
                "lines": lines(count),
            }
            response = await client.post(f"{API}/invoices", json=invoice)
            if response.status_code != 201:
                raise RuntimeError(f"POST /invoices: {response.status_code}: {response.text[:500]}")
            ids[count] = response.json()["id"]
            pdf = await client.get(f"{API}/invoices/{ids[count]}/pdf")
            if pdf.status_code != 200 or not pdf.content.startswith(b"%PDF-"):
                raise RuntimeError(f"GET /invoices/{{id}}/pdf: {pdf.status_code}: {pdf.text[:300]}")
        return ids


def scenario(name: str, url: str, headers: dict[str, str], expect: int = 200) -> Scenario:
    return Scenario(name, "bench.common:HttpDriver", {"url": url, "headers": headers, "expect": expect})


async def etag_of(url: str, headers: dict[str, str]) -> str:
    async with httpx.AsyncClient(timeout=60.0) as client:
        response = await client.get(url, headers=headers)
        response.raise_for_status()
        return response.headers["etag"]


async def measure(args: argparse.Namespace, urls: Any, label: str, env: dict[str, str]) -> dict[str, Result]:
    env = {"DB_POOL_SIZE": str(args.concurrency), "DB_MAX_OVERFLOW": "0", **env}
    async with ApiServer(urls.app, workers=args.workers, env=env) as api:
        login = await register_and_login(api.base_url)
        ids = await make_invoices(api.base_url, login)
        auth = login.auth_header
        results: dict[str, Result] = {}
        with LoadProcess(concurrency=args.concurrency, seconds=args.seconds, warmup=args.warmup) as load:
            for count, invoice_id in ids.items():
                url = f"{api.base_url}{API}/invoices/{invoice_id}"
                results[f"json{count}"] = await load.run(
                    scenario(f"GET /invoices/{{id}} ({count} lines) [{label}]", url, auth)
                )
                results[f"pdf{count}"] = await load.run(
                    scenario(f"GET /invoices/{{id}}/pdf ({count} lines) [{label}]", f"{url}/pdf", auth)
                )
                if label == "cached":
                    etag = await etag_of(f"{url}/pdf", auth)
                    results[f"304_{count}"] = await load.run(
                        scenario(
                            f"GET .../pdf If-None-Match ({count} lines) [{label}]",
                            f"{url}/pdf",
                            auth | {"If-None-Match": etag},
                            expect=304,
                        )
                    )
        return results


def _ms(result: Result) -> str:
    return f"{result.p50_ms:.1f} ms" if not math.isnan(result.p50_ms) else "-"


async def run(args: argparse.Namespace) -> int:
    print(
        f"documents: {args.concurrency} concurrent connections, {args.warmup:g} s warm-up + {args.seconds:g} s per "
        f"scenario, {args.workers} API worker(s), PDF_RENDER_CONCURRENCY={args.render_concurrency}, load from a "
        "separate process",
        flush=True,
    )
    render = {"PDF_RENDER_CONCURRENCY": str(args.render_concurrency)}
    async with bench_database(DATABASE) as urls:
        cold = await measure(args, urls, "cold", render | {"PDF_CACHE_BYTES": "0"})
        cached = await measure(args, urls, "cached", render)
    every = [*cold.values(), *cached.values()]
    print()
    print(format_results(every))
    print()
    print("1. 10-line invoice: PDF ÷ JSON (throughput); target judged on the cold server (every request renders)")
    print("   " + format_ratio("[cold: a render per request]", cold["pdf10"], cold["json10"], "≥ 0.25"))
    print("   " + format_ratio("[cached: rendered once]", cached["pdf10"], cached["json10"], None))
    print("   " + format_ratio("[304: If-None-Match]", cached["304_10"], cached["json10"], None))
    print("2. 200-line invoice: PDF ÷ JSON (throughput), for reference")
    print("   " + format_ratio("[cold]", cold["pdf200"], cold["json200"], None))
    print("   " + format_ratio("[cached]", cached["pdf200"], cached["json200"], None))
    print("3. median latency, cold render: " + ", ".join(f"{n} lines {_ms(cold[f'pdf{n}'])}" for n in (10, 200)))
    return 1 if any(r.errors for r in every) else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.documents", description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=4, help="concurrent clients (JSON and PDF alike)")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per scenario")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds before each scenario")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes for the API")
    parser.add_argument("--render-concurrency", type=int, default=2, help="PDF_RENDER_CONCURRENCY of the API")
    return asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
