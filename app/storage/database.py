"""One engine for ``DIGITPAD_DATABASE_URL``, and the migrations that bring its schema up to date.

Every wait on the database is bounded by a timeout (the server passes ``DIGITPAD_DATABASE_TIMEOUT``,
the command-line tools ``BUSY_SECONDS``): connecting, waiting for a pooled connection, a
statement, SQLite's lock. A hung server then costs a storage thread that long at most, never a
request an answer (``app.storage.threads`` puts a deadline on the whole request too).

SQLite (the default, a file under ``data/``) keeps a rollback journal (``journal_mode=TRUNCATE``),
not a write-ahead log: WAL shares its index through a memory-mapped ``-shm`` file, and a fault on
that mapping (the file truncated, made immutable, its disk full) is a SIGBUS that kills the
process, where a fault on a journal is an error the request answers. Memory-mapped reads of the
database are off for the same reason. Every connection waits for the write lock instead of
failing, so concurrent writers, threads or worker processes, lose nothing. Within one process
the writers also take turns on a lock of their own (``writing``): SQLite's busy wait sleeps in
steps of up to 100 ms, so under load a write can wait far longer than the writes ahead of it
take, while queueing on a lock costs only their length. ``postgresql://`` URLs are served by
psycopg 3, whose writers need no such turns."""

from __future__ import annotations

import math
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from app.storage.threads import THREADS  # the server's storage threads each hold one connection at most

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BUSY_SECONDS = 30.0


class StorageError(RuntimeError):
    """The database cannot be used; the message is one line naming the cause."""


def connect(url: str, timeout: float = BUSY_SECONDS) -> Engine:
    """An engine for ``url`` (sqlite:///path or postgresql://…) whose every wait is bounded by
    ``timeout`` seconds; a SQLite file's folder is created."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StorageError(f"DIGITPAD_DATABASE_URL {url!r} is not a database URL") from None
    if parsed.get_backend_name() == "postgresql":
        return _postgresql(parsed, timeout)
    if parsed.get_backend_name() != "sqlite":
        raise StorageError(f"DIGITPAD_DATABASE_URL {url!r}: only sqlite:/// and postgresql:// are supported")
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed, pool_timeout=timeout,
                           connect_args={"timeout": timeout, "check_same_thread": False})
    event.listen(engine, "connect", lambda dbapi_connection, _: _sqlite_pragmas(dbapi_connection, timeout))
    _WRITE_LOCKS[engine] = (threading.Lock(), timeout)
    return engine


def _postgresql(parsed: URL, timeout: float) -> Engine:
    """psycopg 3 (not SQLAlchemy's default psycopg2), with a client-side bound on connecting
    (libpq counts whole seconds, at least 2), a server-side one on statements and lock waits, and
    TCP keepalives and a user timeout so that a connection to a host that is gone fails."""
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    ms = int(timeout * 1000)
    connect_args = {"connect_timeout": max(2, math.ceil(timeout)),
                    "options": f"-c statement_timeout={ms} -c lock_timeout={ms}",
                    "keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 2, "keepalives_count": 3,
                    "tcp_user_timeout": max(ms, 1000)}
    return create_engine(parsed, pool_pre_ping=True, pool_size=THREADS, max_overflow=THREADS,
                         pool_timeout=timeout, connect_args=connect_args)


_WRITE_LOCKS: weakref.WeakKeyDictionary[Engine, tuple[threading.Lock, float]] = weakref.WeakKeyDictionary()


@contextmanager
def writing(engine: Engine) -> Iterator[None]:
    """Hold while writing: this process's SQLite writers take turns (StorageError if the turn does
    not come within the engine's timeout); PostgreSQL's need not."""
    lock, timeout = _WRITE_LOCKS.get(engine, (None, 0.0))
    if lock is None:
        yield
        return
    if not lock.acquire(timeout=timeout):
        raise StorageError(f"the database stayed locked for {timeout:g} s")
    try:
        yield
    finally:
        lock.release()


def _sqlite_pragmas(dbapi_connection: Any, timeout: float) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=TRUNCATE")  # no -shm mapping (see the module's docstring)
    cursor.execute("PRAGMA mmap_size=0")
    cursor.execute("PRAGMA synchronous=FULL")  # a commit is on disk before the 201
    cursor.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
    cursor.close()


def migrate(engine: Engine) -> None:
    """Apply every migration the database has not had yet (an empty database gets them all)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except SQLAlchemyError as e:
        raise StorageError(f"database {engine.url.render_as_string(hide_password=True)}: "
                           f"{one_line(e)}") from None


def one_line(e: SQLAlchemyError) -> str:
    """The driver's own first line of an error (not SQLAlchemy's wrapping of it)."""
    return str(e.orig if hasattr(e, "orig") and e.orig else e).splitlines()[0]


def open_database(url: str, timeout: float = BUSY_SECONDS) -> Engine:
    """Connect and migrate; StorageError with one line if either fails."""
    engine = connect(url, timeout)
    migrate(engine)
    return engine
