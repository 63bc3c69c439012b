"""ASGI entry point for uvicorn workers: `python -m app serve` runs them. Started by hand, give
`uvicorn app.asgi:app --no-proxy-headers`: the app trusts forwarded headers only from
FORWARDED_ALLOW_IPS (its own middleware), and uvicorn's default would trust them from 127.0.0.1,
which a local proxy passing a client's X-Forwarded-For on would turn into "loopback" for /metrics."""

import gc

from app.main import create_app

app = create_app()

# What was built at import (routes, models, schemas, the compiled OpenAPI machinery: most of the
# process's objects) lives as long as the process: leave it out of garbage collection. Otherwise a
# full collection walks all of it every so often, stalling whichever requests are in flight for
# tens to hundreds of milliseconds (the p99 of a busy worker).
gc.collect()
gc.freeze()
