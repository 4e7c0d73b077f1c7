"""How long ``./run.sh start`` takes on a set-up, unchanged checkout, to the first 200 from
``/readyz``: this tree beside a baseline commit, alternating, in one run.

    python -m scripts.bench.startup                          # baseline aa761bc, 5 starts each
    python -m scripts.bench.startup --baseline HEAD~1 --runs 7
    python -m scripts.bench.startup --serving                # and what serving costs after such a start

Each tree (the baseline unpacked with ``git archive``; this checkout's files, uncommitted changes
included) gets a ``.venv`` set up as ``./run.sh start`` leaves it: the dependencies (those of the
Python running this benchmark, shared through a ``.pth`` file, so nothing is installed or
downloaded), the tree itself installed editable with its ``digitpad-serve`` command, and
run.sh's stamps saying that pip has run. Then ``./run.sh start`` runs in each tree in turn, on a
free port with the default settings (one worker per core), until ``/readyz`` answers 200, and is
stopped with SIGTERM. Printed per tree: the seconds to that first 200 (median, and the range),
the CPU seconds spent by then (the server's processes and what run.sh ran before them), the CPU
of the whole run (start, one request, stop), and whether pip ran. A baseline whose run.sh has no
pip stamp runs pip at every start and is not measured here.

With --serving (needs wrk), a start-up change must not cost the answers: each tree's server (two
workers) then takes 784 pixels at /api/predict under wrk -c16 for 4 s, the trees alternating,
six rounds, every process with the same hash seed; printed per tree: the CPU per answer of its
processes (median, range) and their minor page faults per answer."""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
import tomllib
import urllib.request
import venv
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from scripts.bench.serving import digitpad, payloads, tree_cpu, unpack
from scripts.harness.load import wrk
from scripts.harness.machine import cpu_name
from scripts.harness.ports import free_port
from scripts.harness.server import ROOT, descendants

TICK = os.sysconf("SC_CLK_TCK")


@dataclass
class Tree:
    label: str
    path: Path
    ready_s: list[float] = field(default_factory=list)
    cpu_at_ready: list[float] = field(default_factory=list)
    cpu_run: list[float] = field(default_factory=list)
    pip_ran: bool = False


def copy_checkout(into: Path) -> Path:
    """This checkout's files as they are now (tracked and new, not ignored ones), copied to ``into``."""
    names = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                           capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, names):
        if (ROOT / name).is_file():
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, into / name)
    return into


def set_up(tree: Path) -> None:
    """``tree/.venv`` as ``./run.sh start`` leaves it, without installing anything."""
    env = tree / ".venv"
    venv.create(env, with_pip=False, symlinks=True)
    site = Path(subprocess.run([str(env / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_path("
                                "'purelib'))"], capture_output=True, text=True, check=True).stdout.strip())
    (site / "digitpad-tree.pth").write_text(f"{tree}\n")  # the tree, importable as an editable install makes it
    (site / "shared-packages.pth").write_text(sysconfig.get_path("purelib") + "\n")  # the dependencies
    module, fn = tomllib.loads((tree / "pyproject.toml").read_text())["project"]["scripts"]["digitpad-serve"].split(":")
    script = env / "bin" / "digitpad-serve"
    script.write_text(f"#!{env}/bin/python\nimport sys\nfrom {module} import {fn}\n"  # as pip writes it
                      f"if __name__ == '__main__':\n    sys.exit({fn}())\n")
    script.chmod(0o755)
    stamp = hashlib.sha256(b"".join((tree / f).read_bytes() for f in ("pyproject.toml", "requirements.lock")
                                    if (tree / f).exists())).hexdigest()
    for extra in ("train", "dev"):
        (env / f".installed-{extra}").write_text(stamp + "\n")


def cpu_so_far(pid: int) -> float:
    """CPU seconds of ``pid`` (with the children it has waited for: run.sh's, before it became the
    server) and of its live descendants, from /proc."""
    total = 0.0
    for i, p in enumerate([pid, *descendants(pid)]):
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += sum(int(f) for f in fields[11:15 if i == 0 else 13]) / TICK
    return total


def ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def start_once(tree: Tree, logs: Path) -> None:
    """``./run.sh start`` in ``tree`` until the first 200 from /readyz, then SIGTERM."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGITPAD_") and k not in ("PORT", "HOST")}
    env |= {"DIGITPAD_PORT": str(port), "DIGITPAD_DATABASE_URL": f"sqlite:///{logs}/{tree.label}-{port}.db"}
    log = logs / f"{tree.label}-{port}.log"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    with open(log, "wb") as out:
        proc = subprocess.Popen(["./run.sh", "start"], cwd=tree.path, env=env, stdout=out, stderr=subprocess.STDOUT)
    while not ready(port):
        if proc.poll() is not None or time.monotonic() - start > 60:
            proc.kill()
            raise SystemExit(f"{tree.label}: ./run.sh start did not serve:\n{log.read_text()[-3000:]}")
        time.sleep(0.01)
    tree.ready_s.append(time.monotonic() - start)
    tree.cpu_at_ready.append(cpu_so_far(proc.pid))
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    tree.cpu_run.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    tree.pip_ran |= "installing" in log.read_text()


def faults(pid: int) -> int:
    """Minor page faults of ``pid`` and its live descendants so far."""
    total = 0
    for p in [pid, *descendants(pid)]:
        with contextlib.suppress(OSError):
            total += int(Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()[7])
    return total


def serving_cost(trees: list[Tree], logs: Path, rounds: int = 6) -> None:
    """CPU and minor page faults per answer of each tree's two-worker server, trees alternating
    (in one order, then the other)."""
    body = payloads()["pixels"].body
    # One hash seed for every process: each seed lays out dicts and sets its own way, which costs a
    # server a few percent more or less for its whole life, whichever tree it runs.
    os.environ["PYTHONHASHSEED"] = "0"
    cpu: dict[str, list[float]] = {t.label: [] for t in trees}
    minflt: dict[str, list[float]] = {t.label: [] for t in trees}
    with ExitStack() as stack:
        servers = [(t, stack.enter_context(digitpad(t.path, logs, 2))) for t in trees]
        for i in range(rounds):
            for t, s in servers[::-1] if i % 2 else servers:
                pid = s.proc.pid
                before, faulted = tree_cpu(pid), faults(pid)
                n = max(wrk(s.url, body, 4, 16, logs, "/api/predict").ok, 1)
                cpu[t.label].append((tree_cpu(pid) - before) * 1000 / n)
                minflt[t.label].append((faults(pid) - faulted) / n)
    print("784 pixels → /api/predict, two workers, wrk -c16, 4 s a round: per answer")
    for t in trees:
        c = cpu[t.label]
        print(f"  {t.label:18s} {statistics.median(c):.2f} ms CPU ({min(c):.2f}–{max(c):.2f}), "
              f"{statistics.median(minflt[t.label]):.2f} minor page faults")


def report(base: Tree, ours: Tree) -> None:
    m = statistics.median
    print("./run.sh start on a set-up, unchanged checkout, to the first 200 from /readyz:")
    print(f"  {'tree':18s} {'seconds (median, range)':>23s} {'CPU s then':>10s} {'CPU s run':>9s}   pip ran")
    for t in (base, ours):
        print(f"  {t.label:18s} {m(t.ready_s):7.2f} ({min(t.ready_s):.2f}–{max(t.ready_s):.2f}) "
              f"{m(t.cpu_at_ready):9.2f} {m(t.cpu_run):9.2f}   {'yes' if t.pip_ran else 'no'}")
    print(f"  this tree ÷ baseline: {m(ours.ready_s) / m(base.ready_s):.2f} of the seconds, "
          f"{m(ours.cpu_at_ready) / m(base.cpu_at_ready):.2f} of the CPU by then; "
          f"load average {os.getloadavg()[0]:.2f} at the end", flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--baseline", default="aa761bc", help="the commit to compare with (default: %(default)s)")
    p.add_argument("--runs", type=int, default=5, help="starts per tree, alternating (default: %(default)s)")
    p.add_argument("--serving", action="store_true", help="then CPU per answer of each tree's server (wrk)")
    args = p.parse_args()
    if args.serving and not shutil.which("wrk"):
        raise SystemExit("--serving needs wrk: apt-get install wrk")
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="digitpad-startup-") as tmp:
        base = unpack(args.baseline, Path(tmp) / "baseline")
        if ".installed-" not in (base / "run.sh").read_text():
            raise SystemExit(f"{args.baseline}: its run.sh runs pip at every start (no stamp); not measured here")
        trees = [Tree(args.baseline, base), Tree("this tree", copy_checkout(Path(tmp) / "tree"))]
        for t in trees:
            set_up(t.path)
        logs = Path(tmp) / "logs"
        logs.mkdir()
        print(f"{cpu_name()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; this tree {commit} "
              f"(+ uncommitted changes if any), baseline {args.baseline}; {args.runs} starts each, alternating; "
              f"{sys.executable}", flush=True)
        for _ in range(args.runs):
            for t in trees:
                start_once(t, logs)
        report(*trees)
        if args.serving:
            serving_cost(trees, logs)
            print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
