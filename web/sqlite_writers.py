"""SQLite's writers, queued: each write transaction waits its turn in one queue per database
file, shared by every thread and process (web, worker, listener), instead of in SQLite's
busy handler.

SQLite has one write lock. A writer that finds it taken sleeps in the busy handler 1, 2, 5,
10, 15, 20, 25, 25, 25, 50, 50, then 100 ms between tries (`sqliteDefaultBusyCallback` in
SQLite's main.c) and cannot know when the lock is free: under load the lock stood idle while
its waiters slept, and reply processing spent four fifths of its time in that wait (`make
bench --profile`). Here a thread waits for its process's turn on a lock that wakes it as
soon as it is released, then for the file's turn on an flock held between processes,
polled every tenth of a millisecond. SQLite's own lock is unchanged and still decides: a writer that
waited longer than the busy timeout goes on unqueued for the rest of its transaction, and
SQLite answers as before.

A transaction takes its turn at its first write statement, where SQLite takes its lock, and
gives it back when no transaction is left open: after its commit or rollback, or after a
statement run outside one. A queue that cannot be used (its lock file cannot be opened)
leaves its writers to SQLite alone, with a warning.
"""

import fcntl
import logging
import os
import re
import sqlite3
import threading
import time

from web.extensions import SQLITE_BUSY_TIMEOUT_MS

log = logging.getLogger(__name__)

# What takes SQLite's write lock, after any leading comments (sqlite3 skips them too, and
# opens a transaction for a write that follows); a read (SELECT, PRAGMA) never waits here.
_WRITE = re.compile(
    r"(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/)*"
    r"(?:INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER|BEGIN\s+(?:IMMEDIATE|EXCLUSIVE))\b",
    re.IGNORECASE | re.DOTALL,
)
# Polled, not blocked on, so that a wait can end at the busy timeout. A writer's turn lasts a
# few milliseconds; at 1 ms the file's lock stood free for half a poll at each hand-over
# between processes (the bench's replies left a quarter of the two cores idle, 113/s); at
# 0.1 ms, 126/s, and 0.03 or 0.3 ms did no better. A wait past 50 ms is behind a long write
# (a migration, an import): it polls every millisecond, as a tenth costs a waiting process
# some 15 % of a core against 3.5 % (measured in review), taken from the writer it waits for.
_POLL_S = 0.0001
_LONG_WAIT_S, _LONG_POLL_S = 0.05, 0.001


def is_write(statement: str) -> bool:
    return _WRITE.match(statement) is not None


class WriterQueue:
    """One database file's queue in this process: a thread lock, then the file's flock."""

    def __init__(self, path: str, timeout_s: float):
        self.timeout_s = timeout_s
        self.local = threading.Lock()
        # Opened in the process that queues (a descriptor inherited across fork is the same
        # open file, and flock would not keep parent and child apart), with the database's
        # own permissions, so every user who may write the database may queue for it.
        mode = os.stat(path).st_mode & 0o666 if os.path.exists(path) else 0o600
        self.fd = os.open(f"{path}.writers", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, mode)
        if os.fstat(self.fd).st_mode & 0o666 != mode:  # the umask took some: as SQLite does
            try:
                os.fchmod(self.fd, mode)
            except PermissionError:  # another user's file: theirs to set
                pass

    def take(self, owner: "QueuedWriterConnection") -> bool:
        """Wait for the turn and hand it to `owner`; False (holding nothing) if the wait
        outlasted the timeout. An exception while waiting (a job's time limit, delivered
        into its thread) gives back whatever was taken."""
        started = time.monotonic()
        deadline = started + self.timeout_s
        taken = False
        try:
            if not self.local.acquire(blocking=False):
                log.debug("waiting for this process's turn to write")
                if not self.local.acquire(timeout=self.timeout_s):
                    return False
            taken = True
            waiting = False
            while True:
                try:
                    fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    owner._turn, taken = self, False  # the owner gives it back from now on
                    return True
                except BlockingIOError:
                    now = time.monotonic()
                    if now >= deadline:
                        taken = False
                        self.local.release()
                        return False
                    if not waiting:
                        waiting = True
                        log.debug("waiting for another process's write to end")
                    time.sleep(_POLL_S if now - started < _LONG_WAIT_S else _LONG_POLL_S)
        except BaseException:
            if taken:
                self.give_back()
            raise

    def give_back(self) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        self.local.release()


_queues: dict[str, WriterQueue] = {}
_queues_lock = threading.Lock()


def _forget_queues_after_fork() -> None:
    """A child starts with queues of its own: the parent's locks and lock-file descriptor
    (whatever state they were in at the fork) are not the child's to use."""
    global _queues_lock
    _queues.clear()
    _queues_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_queues_after_fork)


def queue_for(path: str, timeout_s: float) -> WriterQueue | None:
    """This process's queue for the database at `path`; None if its lock file cannot be
    opened (SQLite's own lock still serialises the writers)."""
    with _queues_lock:
        if path not in _queues:
            try:
                _queues[path] = WriterQueue(path, timeout_s)
            except OSError as exc:
                log.warning("writers to %s are not queued: %s", path, exc)
                return None
        return _queues[path]


def _queued_path(database) -> str | None:
    name = os.fspath(database)
    if not name or name == ":memory:" or name.startswith("file:"):
        return None  # one connection sees an in-memory database; a URI names no plain file
    return os.path.realpath(name)


class QueuedWriterConnection(sqlite3.Connection):
    """A sqlite3 connection whose write transactions take their turn in the file's queue
    (`sqlite3.connect(..., factory=QueuedWriterConnection)`)."""

    busy_timeout_s = SQLITE_BUSY_TIMEOUT_MS / 1000

    def __init__(self, database, *args, **kwargs):
        super().__init__(database, *args, **kwargs)
        self._path = _queued_path(database)
        self._turn: WriterQueue | None = None  # the queue whose turn this connection holds
        self._unqueued = False  # this transaction went on without its turn

    def cursor(self, factory=None):
        return super().cursor(factory or QueuedWriterCursor)

    # sqlite3's own shortcuts run the statement in C, past the cursor's execute: send them
    # through it.
    def execute(self, statement, parameters=()):
        return self.cursor().execute(statement, parameters)

    def executemany(self, statement, rows):
        return self.cursor().executemany(statement, rows)

    def executescript(self, script):
        self.before("BEGIN IMMEDIATE")  # a script may write anything: it takes the turn
        try:
            return super().executescript(script)
        finally:
            self.after()

    def before(self, statement: str) -> None:
        if self._path is None or self._turn is not None or self._unqueued:
            return
        if not is_write(statement):
            return
        # Looked up per transaction, in this process: a connection made before a fork uses
        # the child's queue, not the parent's.
        queue = queue_for(self._path, self.busy_timeout_s)
        if queue is None:
            self._unqueued = True
        elif not queue.take(self):
            self._unqueued = True
            log.warning("waited %.1f s for the write queue; going on", self.busy_timeout_s)

    def after(self) -> None:
        """A statement, commit or rollback ran: the turn goes back once no transaction is
        left open (after a commit that failed, the transaction and its turn remain)."""
        if not self.in_transaction:
            self._end_turn()

    def _end_turn(self) -> None:
        self._unqueued = False
        if (queue := self._turn) is not None:
            self._turn = None
            queue.give_back()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.after()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.after()

    def __exit__(self, *exc):  # `with connection:` commits or rolls back in C
        try:
            return super().__exit__(*exc)
        finally:
            self.after()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._end_turn()


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
