"""Bounded HTTP loads on a server this machine runs: wrk when it is installed (``apt-get install
wrk``), else an asyncio client in this process. Each runs for a set number of seconds."""

from __future__ import annotations

import asyncio
import json
import re
import statistics
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx


@dataclass
class Load:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int = 0  # answered in all
    ok: int = 0  # of those, 2xx (counted by wrk's script)
    refused: int = 0  # 503
    other: int = 0  # any other status


STATUSES = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) ok, refused, other = 0, 0, 0 end
function response(status, headers, body)
  if status >= 200 and status < 300 then ok = ok + 1 elseif status == 503 then refused = refused + 1
  else other = other + 1 end
end
function done(summary, latency, requests)
  local o, r, x = 0, 0, 0
  for _, t in ipairs(threads) do o = o + t:get("ok"); r = r + t:get("refused"); x = x + t:get("other") end
  io.write(string.format("statuses: %d %d %d\\n", o, r, x))
end
"""


def wrk(url: str, body: str, seconds: float, connections: int, tmp: Path, path: str = "/api/predict") -> Load:
    script = tmp / "post.lua"
    script.write_text(f'wrk.method = "POST"\nwrk.body = {json.dumps(body)}\n'
                      'wrk.headers["Content-Type"] = "application/json"\n' + STATUSES)
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency", "-s", str(script),
           f"{url}{path}"]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30)
    out = run.stdout
    found = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if found is None:
        raise SystemExit(f"wrk failed: {out}{run.stderr}")
    rps = float(found.group(1))
    lat = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", out, re.M))
    errors = sum(int(n) for n in re.findall(r"(?:Non-2xx or 3xx responses|errors: \w+) (\d+)", out))
    errors += sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    requests = re.search(r"(\d+) requests in", out)
    ok, refused, other = map(int, re.search(r"statuses: (\d+) (\d+) (\d+)", out).groups())  # type: ignore[union-attr]
    return Load(rps, _ms(lat["50"]), _ms(lat["99"]), errors, int(requests.group(1)) if requests else 0,
                ok, refused, other)


def _ms(text: str) -> float:
    value, unit = float(re.match(r"[\d.]+", text).group()), re.sub(r"[\d.]+", "", text)  # type: ignore[union-attr]
    return value * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]


def python_load(url: str, body: str, seconds: float, connections: int, path: str = "/api/predict",
                ok: int = 200) -> Load:
    """A bounded asyncio load: ``connections`` keep-alive clients posting to ``path`` for
    ``seconds``; an answer other than ``ok`` counts as an error."""
    async def run() -> tuple[list[float], int]:
        latencies: list[float] = []
        errors = 0
        end = time.monotonic() + seconds
        async with httpx.AsyncClient(limits=httpx.Limits(max_connections=connections), timeout=10) as c:
            async def client() -> None:
                nonlocal errors
                while time.monotonic() < end:
                    t = time.perf_counter()
                    r = await c.post(f"{url}{path}", content=body,
                                     headers={"Content-Type": "application/json"})
                    latencies.append((time.perf_counter() - t) * 1000)
                    errors += r.status_code != ok
            await asyncio.gather(*(client() for _ in range(connections)))
        return latencies, errors

    t0 = time.monotonic()
    latencies, errors = asyncio.run(run())
    q = statistics.quantiles(latencies, n=100)
    return Load(len(latencies) / (time.monotonic() - t0), q[49], q[98], errors, len(latencies),
                ok=len(latencies) - errors)
