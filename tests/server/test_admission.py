"""The CPU pool admits a job while it can expect to start within ``max_wait`` (``app.serving.executor``):
many short jobs queue, long ones are refused at once, and a refused job never runs."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from app.serving.executor import CpuPool, Job, Overloaded


def nap(job: Job, i: int, seconds: float = 0.001) -> int:
    time.sleep(seconds)
    return i


def never() -> Callable[[], Awaitable[None]]:
    async def wait() -> None:
        await asyncio.sleep(3600)
    return wait


async def submit(pool: CpuPool, fn: Callable[..., Any], n: int) -> list[Any]:
    """``n`` jobs submitted at once; each outcome (a result or the exception)."""
    return list(await asyncio.gather(*(pool.run(never(), fn, i) for i in range(n)), return_exceptions=True))


def test_jobs_are_admitted_while_their_wait_is_short() -> None:
    started: list[int] = []
    release = threading.Event()

    def slow(job: Job, i: int) -> int:
        started.append(i)
        release.wait(10)
        return i

    async def run() -> list[Any]:
        pool = CpuPool(1, 100, max_wait=0.25)
        pool.mean = 0.1  # as measured: a job takes 0.1 s
        tasks = [asyncio.ensure_future(pool.run(never(), slow, i)) for i in range(10)]
        await asyncio.sleep(0.05)
        refused = [t for t in tasks if t.done()]  # answered at once, before anything finished
        release.set()
        outcomes = list(await asyncio.gather(*tasks, return_exceptions=True))
        pool.shutdown()
        assert all(isinstance(t.exception(), Overloaded) for t in refused)
        return outcomes

    outcomes = asyncio.run(run())
    # One runs; a job with k ahead waits k × 0.1 s on one thread: two more fit within 0.25 s.
    assert outcomes[:3] == [0, 1, 2]
    assert all(isinstance(o, Overloaded) for o in outcomes[3:])
    assert sorted(started) == [0, 1, 2]  # the refused never ran


def test_many_short_jobs_all_queue() -> None:
    async def run() -> list[Any]:
        pool = CpuPool(1, 500, max_wait=0.25)
        await pool.run(never(), nap, 0)  # the pool learns what a job takes
        outcomes = await submit(pool, nap, 200)
        pool.shutdown()
        return outcomes

    assert asyncio.run(run()) == list(range(200))  # 200 × 1 ms ahead at most: within the wait


def test_the_queue_length_still_caps_what_waits() -> None:
    async def run() -> list[Any]:
        pool = CpuPool(1, 4, max_wait=600)
        outcomes = await submit(pool, lambda job, i: nap(job, i, 0.01), 10)
        pool.shutdown()
        return outcomes

    outcomes = asyncio.run(run())
    assert outcomes[:5] == [0, 1, 2, 3, 4]
    assert all(isinstance(o, Overloaded) for o in outcomes[5:])


def burn(job: Job, seconds: float) -> None:
    """Work (CPU time) for ``seconds``."""
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


@pytest.mark.parametrize("took", [0.001, 0.02])
def test_the_pool_learns_what_jobs_cost(took: float) -> None:
    async def run() -> float:
        pool = CpuPool(2, 10)
        for _ in range(30):
            await pool.run(never(), burn, took)
        await pool.run(never(), nap, 0, 0.2)  # a job that waits costs next to nothing
        pool.shutdown()
        return pool.mean

    mean = asyncio.run(run())
    assert 0.9 * took <= mean < 1.5 * took + 0.002


def test_a_failed_jobs_memory_goes_with_its_error() -> None:
    """What a failed job's frames held is freed once its error is handled, without waiting for
    the garbage collector (the error's traceback must not sit in a cycle with the pool's futures)."""
    import gc
    import weakref

    class Big:
        pass

    kept: list[weakref.ref[Big]] = []

    def fails(job: Job) -> None:
        big = Big()  # a local of the job's frame, as a decoded image would be
        kept.append(weakref.ref(big))
        raise ValueError("too complex")

    async def run() -> None:
        pool = CpuPool(1, 10)
        with pytest.raises(ValueError):
            await pool.run(never(), fails)
        await asyncio.sleep(0)
        pool.shutdown()

    gc.disable()
    try:
        asyncio.run(run())
        assert kept[0]() is None
    finally:
        gc.enable()
