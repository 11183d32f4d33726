"""Flask extensions, created unbound and initialised by the app factory."""

import sqlite3
import time

from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import Engine, event
from sqlalchemy.exc import InvalidatePoolError

from models import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()


# How long a SQLite writer waits for the write lock before it gives up ("database is locked").
SQLITE_BUSY_TIMEOUT_MS = 30_000


@event.listens_for(Engine, "connect")
def _configure_sqlite(connection, record) -> None:
    """SQLite for writers in several processes (web, worker, listener) on one file.

    Foreign keys: SQLite ignores them unless asked (PostgreSQL always enforces them). WAL:
    readers no longer wait for a writer nor block one, and a commit writes the log once
    instead of journal and database (https://sqlite.org/wal.html). The busy timeout makes a
    writer queue for the one write lock instead of failing at once. `synchronous` stays FULL,
    SQLite's default: a commit is on disk before we acknowledge anything (NORMAL would be
    faster and could lose the last commits to a power cut: an email we said was queued)."""
    if isinstance(connection, sqlite3.Connection):
        connection.execute("PRAGMA foreign_keys=ON")
        connection.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        try:
            connection.execute("PRAGMA journal_mode=WAL")  # kept in the file once set
        except sqlite3.OperationalError:  # another connection holds it; the next one sets it
            pass


# A pooled connection is asked whether it is alive only when it has sat idle this long
# (seconds). The window is HikariCP's (aliveBypassWindowMs, 500 ms by default).
IDLE_BEFORE_PING = 0.5


def check_idle_connections(engine: Engine) -> None:
    """SQLAlchemy's pre-ping, for connections idle past IDLE_BEFORE_PING only. Asked at
    every checkout, it was a sixth of the round trips of a reply on PostgreSQL (a message
    checks out a connection for each of its transactions, a moment after the last one).
    The ping is the dialect's own (on psycopg, outside any transaction). A connection that
    fails it as a lost connection is replaced, and the pool's older connections with it, as
    pre-ping does after a server restart."""
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def idle_from(dbapi_connection, record) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def ping_if_idle(dbapi_connection, record, proxy) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < IDLE_BEFORE_PING:
            return  # a new connection, or one just returned
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as exc:
            if dialect.is_disconnect(exc, dbapi_connection, None):
                raise InvalidatePoolError(f"connection failed its ping: {exc}") from exc
            raise
