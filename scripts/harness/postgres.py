"""A throwaway PostgreSQL server for the storage tests and benchmarks: a real one, not a mock.

Debian's ``postgresql`` package (``./run.sh test`` installs it) gives ``initdb`` and ``pg_ctl``
under /usr/lib/postgresql/<version>/bin. PostgreSQL refuses to run as root, so as root the
cluster belongs to the unprivileged ``postgres`` user the package creates. It listens on
127.0.0.1 on a free port, trusts local connections, and is stopped and deleted afterwards."""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url


def bin_dir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    assert found, "PostgreSQL is not installed: apt-get install postgresql (./run.sh test does)"
    return Path(found[-1]).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_owner(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@contextmanager
def postgres_server() -> Iterator[str]:
    """Start a cluster in a new folder of /tmp (pytest's own are private to root) and yield its
    URL (database ``postgres``)."""
    pg = bin_dir()
    root = Path(tempfile.mkdtemp(prefix="digitpad-pg-"))
    data, sockets = root / "data", root / "sockets"
    for d in (data, sockets):
        d.mkdir()
    if os.geteuid() == 0:
        for d in (root, data, sockets):
            shutil.chown(d, "postgres")
    subprocess.run(_as_owner([str(pg / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                              "--no-sync", "-E", "UTF8"]), check=True, capture_output=True)
    port = _free_port()
    options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100"
    subprocess.run(_as_owner([str(pg / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"),
                              "-w", "start"]), check=True, capture_output=True)
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(_as_owner([str(pg / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                       capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def cluster_pids(url: str) -> list[int]:
    """The processes of the throwaway cluster serving ``url``: its postmaster (found by port in the
    ``postmaster.pid`` files of /tmp/digitpad-pg-*) and the postmaster's children."""
    port = str(make_url(url).port)
    for pid_file in glob.glob(os.path.join(tempfile.gettempdir(), "digitpad-pg-*", "data", "postmaster.pid")):
        lines = Path(pid_file).read_text().splitlines()
        if len(lines) > 3 and lines[3].strip() == port:
            main = int(lines[0])
            children = Path(f"/proc/{main}/task/{main}/children").read_text().split()
            return [main, *map(int, children)]
    raise LookupError(f"no throwaway cluster listens on port {port}")


@contextmanager
def hung(url: str) -> Iterator[None]:
    """The cluster serving ``url`` stopped (SIGSTOP to every one of its processes), as a database
    that hangs without closing its connections; continued (SIGCONT) after."""
    pids = cluster_pids(url)
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)
