"""CPU-bound work (rendering a PDF) off the event loop, bounded.

`run(settings, function, *args)` runs a module-level function with picklable arguments:
- at most PDF_RENDER_CONCURRENCY calls at once per process (an asyncio.Semaphore per event loop;
  the others wait their turn while the loop keeps serving requests);
- on a pool of that many worker processes (PDF_RENDER_POOL=process, the default: reportlab is pure
  Python, so on threads every render holds the GIL against the event loop and against the other
  renders; processes use the other cores), or on threads (PDF_RENDER_POOL=thread: no child processes,
  for constrained hosts).
The processes are spawned (not forked: the parent runs threads and an event loop), on first use, and
each imports what it runs once; `shutdown()` stops them (the API's lifespan and the worker call it).
A worker whose parent dies without shutting it down (SIGKILL, an OOM kill) notices within a second
and exits: an orphan would otherwise wait on its queue forever.
"""

import asyncio
import atexit
import functools
import multiprocessing
import os
import threading
import time
import weakref
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

from app.core.config import Settings

T = TypeVar("T")

_slots: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore]" = weakref.WeakKeyDictionary()
_pools: dict[int, ProcessPoolExecutor] = {}


def _slot(size: int) -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    slot = _slots.get(loop)
    if slot is None:
        slot = _slots[loop] = asyncio.Semaphore(size)
    return slot


def _exit_with_parent(parent: int) -> None:
    """In a worker: exit as soon as the process that started it is gone."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


PARENT_CHECK_SECONDS = 1.0


def _pool(size: int) -> ProcessPoolExecutor:
    if size not in _pools:
        _pools[size] = ProcessPoolExecutor(
            max_workers=size,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_exit_with_parent,
            initargs=(os.getpid(),),
        )
    return _pools[size]


async def run(settings: Settings, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`function(*args, **kwargs)` on a worker process (or thread), at most PDF_RENDER_CONCURRENCY at once."""
    size = settings.pdf_render_concurrency
    async with _slot(size):
        if settings.pdf_render_pool == "thread":
            return await asyncio.to_thread(function, *args, **kwargs)
        call = functools.partial(function, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(_pool(size), call)


def shutdown() -> None:
    """Stop the worker processes (started again on the next use)."""
    while _pools:
        _, pool = _pools.popitem()
        pool.shutdown(wait=True, cancel_futures=True)


atexit.register(shutdown)
