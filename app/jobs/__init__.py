"""Scheduled and background work on procrastinate (a PostgreSQL-backed queue): `queue.py` holds the
procrastinate App and its connection, `tasks.py` the tasks, `worker.py` runs a worker."""
