"""ASGI entry point for uvicorn workers: `uvicorn app.asgi:app`."""

import gc

from app.main import create_app

app = create_app()

# What was built at import (routes, models, schemas, the compiled OpenAPI machinery: most of the
# process's objects) lives as long as the process: leave it out of garbage collection. Otherwise a
# full collection walks all of it every so often, stalling whichever requests are in flight for
# tens to hundreds of milliseconds (the p99 of a busy worker).
gc.collect()
gc.freeze()
