"""A run's events as Server-Sent Events, from any worker: the run's event log, tailed.

Each line the process appends (``<type> <json>``) becomes one message, numbered by its line:

    id: 12
    event: progress
    data: {"step": 40, "loss": 1.93, …}

A client that reconnects with ``Last-Event-ID`` (the browser's EventSource does) gets the messages
after it. The stream ends after ``stopped``; while it is open the worker touches the run's
``watched`` file, and when it closes early (the client went away) the run is told to stop: it
stops within a second, and within ``WATCH_STALE`` even if this worker died. When the server
drains, the run is stopped and its last events are sent before the stream ends."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

from app.runtime.shutdown import shutdown
from app.training.runs import Run

TAIL_EVERY = 0.05  # s between looks at the event log
WATCH_EVERY = 0.25  # s between touches of the watched file (the process stops after a second without)
ALIVE_EVERY = 0.5  # s between checks that the process still lives


def message(number: int, line: bytes) -> bytes:
    kind, _, data = line.partition(b" ")
    return b"id: %d\nevent: %s\ndata: %s\n\n" % (number, kind, data)


def failed(number: int, deleted: bool = False) -> bytes:
    """The ``stopped`` event of a run whose process died without writing one: killed because it
    was deleted (a niced process on a busy machine may not stop in the time DELETE gives it), or
    failed."""
    data: dict[str, str | None] = {"reason": "stopped", "message": "The run was deleted."} if deleted else {
        "reason": "failed", "message": "The training process ended without finishing its run."}
    data |= {"step": None, "loss": None, "val_accuracy": None, "confusion": None}
    return message(number, b"stopped " + json.dumps(data).encode())


def delivered(run: Run, after: int) -> bool:
    """Whether the run has stopped and a client that saw message ``after`` has seen them all."""
    try:
        lines = (run.dir / "events.log").read_bytes().splitlines()
    except OSError:
        return False
    return len(lines) <= after and bool(lines) and lines[-1].startswith(b"stopped ")


async def events(run: Run, after: int = 0) -> AsyncIterator[bytes]:
    """The run's messages after number ``after``, until ``stopped``."""
    done, number, buffered, read_to = False, 0, b"", 0
    next_watch = next_alive = 0.0
    stopping = dead = False
    try:
        while True:
            now = time.monotonic()
            if now >= next_watch:
                run.watch()
                next_watch = now + WATCH_EVERY
            if shutdown.draining and not stopping:
                run.command("shutdown")
                stopping = True
            try:
                with open(run.dir / "events.log", "rb") as f:
                    f.seek(read_to)
                    chunk = f.read()
            except FileNotFoundError:
                chunk = b""
            read_to += len(chunk)
            buffered += chunk
            *lines, buffered = buffered.split(b"\n")
            out = []
            for line in lines:
                number += 1
                if number > after and line != b"-":  # "-": an event compacted away (runs.compact)
                    out.append(message(number, line))
                if line.startswith(b"stopped "):
                    run.count_end(json.loads(line[8:]).get("reason", "failed"))
                    done = True
                    break
            if out:
                yield b"".join(out)
            if done:
                return
            if dead:  # gone before the look just taken, which found no stopped event
                deleted = not run.dir.exists()  # DELETE killed it and took its folder
                run.count_end("stopped" if deleted else "failed")
                done = True
                yield failed(number + 1, deleted)
                return
            if now >= next_alive:
                next_alive = now + ALIVE_EVERY
                dead = not run.alive()
                if dead:
                    continue  # one more look at the log: what it wrote before it ended
            await asyncio.sleep(TAIL_EVERY)
    finally:
        if not done:
            run.command("disconnect")
