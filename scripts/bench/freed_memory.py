"""Memory handed back after a burst of large images, and what that costs ordinary requests: this
tree beside baseline commits, side by side in one run.

    python -m scripts.bench.freed_memory --baseline 66daaa6

Each tree's server (one worker, its shipped weights) first reads a 6-digit number for 4 s on 2
connections (wrk): its CPU per answer and the page faults per answer, from /proc, twice each;
then it takes 20 worst-case images at once (2880×2880 PNG and WebP) and its resident memory is
printed idle, at its peak and 1 s after the burst."""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import httpx

from scripts.bench.serving import payloads, tree_cpu, unpack
from scripts.harness.load import wrk
from scripts.harness.machine import cpu_name
from scripts.harness.server import ROOT, Served, huge_image, process_memory_mb, serving


async def burst(url: str, bodies: list[dict[str, object]]) -> list[httpx.Response]:
    async with httpx.AsyncClient(timeout=120, limits=httpx.Limits(max_connections=len(bodies) + 8)) as c:
        return list(await asyncio.gather(*(c.post(url, json=b) for b in bodies)))


def faults(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[7])


def reads(label: str, s: Served, body: str, tmp: Path) -> None:
    cpu, minflt = tree_cpu(s.proc.pid), faults(s.proc.pid)
    r = wrk(s.url, body, 4, 2, tmp, "/api/read")
    n = max(r.ok, 1)
    print(f"  {label:12s} 6-digit read: {(tree_cpu(s.proc.pid) - cpu) * 1000 / n:6.2f} ms CPU, "
          f"{(faults(s.proc.pid) - minflt) / n:6.0f} page faults per answer", flush=True)


def images(label: str, s: Served) -> None:
    idle = process_memory_mb(s.proc.pid, "VmRSS")
    asyncio.run(burst(f"{s.url}/api/predict", [{"image": huge_image(fmt="WEBP" if i % 2 else "PNG")}
                                                for i in range(20)]))
    time.sleep(1)
    print(f"  {label:12s} 20 worst-case images at once: RSS idle {idle:.0f} MB, peak "
          f"{process_memory_mb(s.proc.pid, 'VmHWM'):.0f} MB, 1 s after {process_memory_mb(s.proc.pid, 'VmRSS'):.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", nargs="*", default=["66daaa6"], help="commits to compare with")
    args = parser.parse_args()
    print(f"{cpu_name()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
    body = payloads()["read"].body
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        trees = {ref: unpack(ref, Path(tmp) / ref) for ref in args.baseline} | {"this tree": ROOT}
        servers = {label: stack.enter_context(serving(Path(tmp), tree / "weights" / "digitpad.npz", cwd=tree))
                   for label, tree in trees.items()}
        for _ in range(2):
            for label, s in servers.items():
                reads(label, s, body, Path(tmp))
        for label, s in servers.items():
            images(label, s)


if __name__ == "__main__":
    main()
