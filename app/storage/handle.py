"""The database as the server holds it: the engine, and for a SQLite file, which file it opened.

A SQLite connection goes on writing to the file it opened after that file is deleted or replaced
under it, and what it writes then is gone at the next restart. So before and after every request's
work the path is compared with the file opened (device and inode):

- the file is missing: ``Unavailable`` (503), nothing is written; restore the file, or restart
  the server to start an empty one;
- another file is there (a backup put back, say): it is opened in place of the old one, migrated,
  and the work goes to it;
- the file changed while the work ran: ``Unavailable``, since what was written went to the old one;
- a write-ahead log (``-wal``) lies beside it: ``Unavailable``. SQLite would open it and map its
  ``-shm`` index into memory, where a fault kills the process with SIGBUS (see
  ``app.storage.database``); a restart folds the log into the file and goes on without one.

Any error of the database itself is ``Unavailable`` too, with a line in the log saying what."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from app.storage.database import StorageError, one_line, open_database
from app.storage.threads import Ticket, Unavailable

logger = logging.getLogger("uvicorn.error")
T = TypeVar("T")
Identity = tuple[int, int] | None  # (st_dev, st_ino) of a file, None when there is none
UNREACHABLE = "The corrections database cannot be reached; nothing was saved. Try again in a moment."
MISSING = "The corrections database file is missing; nothing was saved."


def sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def identity(path: Path) -> Identity:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return st.st_dev, st.st_ino


def _size(path: Path) -> int:
    try:
        return os.stat(path).st_size
    except FileNotFoundError:
        return 0


class Database:
    """``write`` and ``read`` run a query function of ``app.storage.feedback`` on a storage thread's
    behalf, against the file now at the path, turning every database failure into ``Unavailable``."""

    def __init__(self, url: str, timeout: float) -> None:
        """Open (and migrate) ``url``; StorageError with one line if that fails."""
        self.url, self.timeout, self.path = url, timeout, sqlite_file(url)
        self._lock = threading.Lock()
        self.engine = open_database(url, timeout)
        self._opened = identity(self.path) if self.path is not None else None

    def write(self, ticket: Ticket, fn: Callable[..., T], *args: Any) -> T:
        """``fn(engine, *args, before_commit=ticket.commit)`` on the file at the path."""
        return self._checked(fn, args, {"before_commit": ticket.commit})

    def read(self, ticket: Ticket, fn: Callable[..., T], *args: Any) -> T:
        """``fn(engine, *args)`` on the file at the path."""
        return self._checked(fn, args, {})

    def _checked(self, fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]) -> T:
        engine, opened = self._current()
        try:
            result = fn(engine, *args, **kwargs)
        except (SQLAlchemyError, StorageError) as e:
            logger.warning("database error: %s", one_line(e) if isinstance(e, SQLAlchemyError) else e)
            raise Unavailable(UNREACHABLE) from None
        if self.path is not None and identity(self.path) != opened:
            logger.error("database file %s was deleted or replaced during a request; its work is lost", self.path)
            raise Unavailable(MISSING if identity(self.path) is None else UNREACHABLE)
        return result

    def _current(self) -> tuple[Engine, Identity]:
        """The engine for the file now at the path, reopened if the file was replaced."""
        if self.path is None:
            return self.engine, None
        with self._lock:
            now = identity(self.path)
            if now is None:
                logger.error("database file %s is missing: restore it, or restart to start an empty one", self.path)
                raise Unavailable(MISSING)
            if now != self._opened:
                self._reopen(now)
            if _size(self.path.with_name(self.path.name + "-wal")):
                logger.error("database file %s has a write-ahead log beside it: restart to fold it in", self.path)
                raise Unavailable(UNREACHABLE)
            return self.engine, self._opened

    def _reopen(self, now: Identity) -> None:
        try:
            engine = open_database(self.url, self.timeout)
        except StorageError as e:
            logger.error("database file %s was replaced and cannot be opened: %s", self.path, e)
            raise Unavailable(UNREACHABLE) from None
        logger.warning("database file %s was replaced: opened the new one", self.path)
        old, self.engine, self._opened = self.engine, engine, now
        old.dispose()

    def dispose(self) -> None:
        self.engine.dispose()
