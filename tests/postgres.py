"""A throwaway PostgreSQL server for the storage tests: a real one, not a mock.

Debian's ``postgresql`` package (``./run.sh test`` installs it) gives ``initdb`` and ``pg_ctl``
under /usr/lib/postgresql/<version>/bin. PostgreSQL refuses to run as root, so as root the
cluster belongs to the unprivileged ``postgres`` user the package creates. It listens on
127.0.0.1 on a free port, trusts local connections, and is stopped and deleted afterwards."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit


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


def _process_table() -> dict[int, tuple[int, list[str]]]:
    """pid → (parent pid, argv) of every process."""
    table = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().decode(errors="replace").split("\0")
            ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue  # gone already
        table[int(proc.name)] = (ppid, argv)
    return table


def processes(url: str) -> list[int]:
    """The process ids of the cluster serving ``url``: its postmaster (the ``postgres`` process
    started with ``-p <port>``) and every process it started."""
    port = str(urlsplit(url).port)
    table = _process_table()
    main = [pid for pid, (_, argv) in table.items()
            if Path(argv[0]).name == "postgres" and f"-p\0{port}\0" in "\0".join(argv) + "\0"]
    assert len(main) == 1, f"not one postmaster on port {port}: {main}"
    return main + [pid for pid, (ppid, _) in table.items() if ppid == main[0]]
