"""SQLite's writers, queued: each write transaction waits its turn in one queue per database
file, shared by every thread and process (web, worker, listener), instead of in SQLite's
busy handler.

SQLite has one write lock. A writer that finds it taken sleeps in the busy handler 1, 2, 5,
10, 15, 20, 25, 25, 25, 50, 50, then 100 ms between tries (`sqliteDefaultBusyCallback` in
SQLite's main.c) and cannot know when the lock is free: under load the lock stood idle while
its waiters slept, and reply processing spent four fifths of its time in that wait (`make
bench --profile`). Here a thread waits for its process's turn on a lock that wakes it as
soon as it is released, then for the file's turn on an flock held between processes,
polled every millisecond. SQLite's own lock is unchanged and still decides: a writer that
waited longer than the busy timeout goes on unqueued, and SQLite answers as before.

A transaction takes its turn at its first write statement, where SQLite takes its lock, and
gives it back when it commits or rolls back (or when a statement ran outside one).
"""

import fcntl
import logging
import os
import sqlite3
import threading
import time

from web.extensions import SQLITE_BUSY_TIMEOUT_MS

log = logging.getLogger(__name__)

# What takes SQLite's write lock; a read (SELECT, PRAGMA) never waits here.
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER")
_POLL_S = 0.001


class WriterQueue:
    """One database file's queue in this process: a thread lock, then the file's flock."""

    def __init__(self, path: str, timeout_s: float):
        self.timeout_s = timeout_s
        self.local = threading.Lock()
        # Opened in the process that queues (a descriptor inherited across fork would be the
        # same open file, and flock would not keep parent and child apart).
        self.fd = os.open(f"{path}.writers", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)

    def take(self) -> bool:
        """Wait for the turn; False (holding nothing) if the wait outlasted the timeout."""
        deadline = time.monotonic() + self.timeout_s
        if not self.local.acquire(blocking=False):
            log.debug("waiting for this process's turn to write")
            if not self.local.acquire(timeout=self.timeout_s):
                return False
        waiting = False
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    self.local.release()
                    return False
                if not waiting:
                    waiting = True
                    log.debug("waiting for another process's write to end")
                time.sleep(_POLL_S)

    def give_back(self) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        self.local.release()


_queues: dict[tuple[int, str], WriterQueue] = {}
_queues_lock = threading.Lock()


def queue_for(path: str, timeout_s: float) -> WriterQueue:
    key = (os.getpid(), os.path.realpath(path))
    with _queues_lock:
        if key not in _queues:
            _queues[key] = WriterQueue(key[1], timeout_s)
        return _queues[key]


def _is_file(database) -> bool:
    name = os.fspath(database)
    return bool(name) and name != ":memory:" and not name.startswith("file:")


class QueuedWriterConnection(sqlite3.Connection):
    """A sqlite3 connection whose write transactions take their turn in the file's queue
    (`sqlite3.connect(..., factory=QueuedWriterConnection)`; in-memory databases are not
    queued: only one connection sees each)."""

    busy_timeout_s = SQLITE_BUSY_TIMEOUT_MS / 1000

    def __init__(self, database, *args, **kwargs):
        super().__init__(database, *args, **kwargs)
        queued = _is_file(database)
        self._queue = queue_for(os.fspath(database), self.busy_timeout_s) if queued else None
        self._holding = False

    def cursor(self, factory=None):
        return super().cursor(factory or QueuedWriterCursor)

    # sqlite3's own shortcuts run the statement in C, past the cursor's execute: send them
    # through it.
    def execute(self, statement, parameters=()):
        return self.cursor().execute(statement, parameters)

    def executemany(self, statement, rows):
        return self.cursor().executemany(statement, rows)

    def before(self, statement: str) -> None:
        if self._queue is None or self._holding:
            return
        if statement.lstrip()[:7].upper().startswith(_WRITES):
            self._holding = self._queue.take()
            if not self._holding:
                log.warning("waited %.1f s for the write queue; going on", self.busy_timeout_s)

    def after(self) -> None:
        """A statement ran: give the turn back if no transaction is left open (autocommit)."""
        if self._holding and not self.in_transaction:
            self._give_back()

    def _give_back(self) -> None:
        if self._holding:
            self._holding = False
            self._queue.give_back()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._give_back()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._give_back()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._give_back()


class QueuedWriterCursor(sqlite3.Cursor):
    def execute(self, statement, parameters=()):
        self.connection.before(statement)
        try:
            return super().execute(statement, parameters)
        finally:
            self.connection.after()

    def executemany(self, statement, rows):
        self.connection.before(statement)
        try:
            return super().executemany(statement, rows)
        finally:
            self.connection.after()
