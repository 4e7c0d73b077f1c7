"""One engine for ``DIGITPAD_DATABASE_URL``, and the migrations that bring its schema up to date.

SQLite (the default, a file under ``data/``) runs in WAL mode, so readers never wait for the
writer, and every connection waits up to ``BUSY_SECONDS`` for the write lock instead of failing:
concurrent writers, threads or worker processes, lose nothing. Within one process the writers
also take turns on a lock of their own (``writing``): SQLite's busy wait sleeps in steps of up to
100 ms, so under load a write can wait far longer than the writes ahead of it take, while
queueing on a lock costs only their length. ``postgresql://`` URLs are served by psycopg 3, whose
writers need no such turns."""

from __future__ import annotations

import threading
import weakref
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BUSY_SECONDS = 30


class StorageError(RuntimeError):
    """The database cannot be used; the message is one line naming the cause."""


def connect(url: str) -> Engine:
    """An engine for ``url`` (sqlite:///path or postgresql://…); a SQLite file's folder is created."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StorageError(f"DIGITPAD_DATABASE_URL {url!r} is not a database URL") from None
    if parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")  # psycopg 3, not SQLAlchemy's default psycopg2
        return create_engine(parsed, pool_pre_ping=True, pool_size=8, max_overflow=8)
    if parsed.get_backend_name() != "sqlite":
        raise StorageError(f"DIGITPAD_DATABASE_URL {url!r}: only sqlite:/// and postgresql:// are supported")
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed, connect_args={"timeout": BUSY_SECONDS, "check_same_thread": False})
    event.listen(engine, "connect", _sqlite_pragmas)
    _WRITE_LOCKS[engine] = threading.Lock()
    return engine


_WRITE_LOCKS: weakref.WeakKeyDictionary[Engine, threading.Lock] = weakref.WeakKeyDictionary()


def writing(engine: Engine) -> AbstractContextManager[object]:
    """Hold while writing: this process's SQLite writers take turns; PostgreSQL's need not."""
    lock = _WRITE_LOCKS.get(engine)
    return lock if lock is not None else nullcontext()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable at each checkpoint; WAL keeps it consistent
    cursor.execute(f"PRAGMA busy_timeout={BUSY_SECONDS * 1000}")
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
                           f"{str(e.orig if hasattr(e, 'orig') and e.orig else e).splitlines()[0]}") from None


def open_database(url: str) -> Engine:
    """Connect and migrate; StorageError with one line if either fails."""
    engine = connect(url)
    migrate(engine)
    return engine
