"""CPU work off the event loop (app/core/cpu_work.py): on worker processes by default, or threads;
never more than PDF_RENDER_CONCURRENCY at once; the loop keeps running meanwhile."""

import asyncio
import os
import sys
import time
from pathlib import Path

import pytest

from app.core import cpu_work

POOLS = ["process", "thread"]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=POOLS)
def pooled(request, settings):
    return settings.model_copy(update={"pdf_render_pool": request.param, "pdf_render_concurrency": 2})


async def test_the_process_pool_runs_the_work_in_other_processes(settings):
    process = settings.model_copy(update={"pdf_render_pool": "process"})
    pids = set(await asyncio.gather(*(cpu_work.run(process, os.getpid) for _ in range(4))))
    assert os.getpid() not in pids
    thread = settings.model_copy(update={"pdf_render_pool": "thread"})
    assert await cpu_work.run(thread, os.getpid) == os.getpid()


async def test_never_more_than_the_configured_number_at_once(pooled):
    await cpu_work.run(pooled, time.sleep, 0)  # the pool is up before timing
    started = time.perf_counter()
    await asyncio.gather(*(cpu_work.run(pooled, time.sleep, 0.3) for _ in range(6)))
    # 6 sleeps of 0.3 s, 2 at a time: 3 rounds. More at once would finish sooner.
    assert time.perf_counter() - started >= 0.9


async def test_the_event_loop_keeps_running_while_the_work_runs(pooled):
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.ensure_future(tick())
    await asyncio.gather(*(cpu_work.run(pooled, time.sleep, 0.5) for _ in range(2)))
    ticker.cancel()
    assert ticks >= 10


async def test_arguments_and_results_cross_to_the_worker(pooled):
    assert await cpu_work.run(pooled, divmod, 17, 5) == (3, 2)
    with pytest.raises(ZeroDivisionError):
        await cpu_work.run(pooled, divmod, 1, 0)


ORPHAN_SCRIPT = """
import asyncio, os, sys
from app.core import cpu_work
from app.core.config import Settings

async def main():
    settings = Settings(pdf_render_pool="process", pdf_render_concurrency=1)
    pid = await cpu_work.run(settings, os.getpid)
    with open(sys.argv[1], "w") as out:
        out.write(str(pid))
    await asyncio.sleep(60)

asyncio.run(main())
"""


def alive(pid: int) -> bool:
    """Running (an exited process its new parent has not reaped yet is a zombie: not alive)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


async def test_a_worker_exits_when_its_parent_is_killed(tmp_path):
    pid_file = tmp_path / "worker.pid"
    parent = await asyncio.create_subprocess_exec(
        sys.executable, "-c", ORPHAN_SCRIPT, str(pid_file), stdout=asyncio.subprocess.DEVNULL, cwd=ROOT
    )
    for _ in range(600):  # the worker is spawned and answers its pid: up to 60 s
        if pid_file.exists() and pid_file.read_text():
            break
        await asyncio.sleep(0.1)
    worker = int(pid_file.read_text())
    assert worker != parent.pid and alive(worker)
    parent.kill()  # SIGKILL: no atexit, no shutdown()
    await parent.wait()
    for _ in range(100):  # up to 10 s
        if not alive(worker):
            break
        await asyncio.sleep(0.1)
    still_there = alive(worker)
    if still_there:
        os.kill(worker, 9)
    assert not still_there, "the pool's worker outlived its killed parent"
