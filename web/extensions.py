"""Flask extensions, created unbound and initialised by the app factory."""

import sqlite3
import time

from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import Engine, event
from sqlalchemy.exc import InvalidatePoolError
from sqlalchemy.pool import Pool

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


@event.listens_for(Pool, "checkin")
def _idle_from(dbapi_connection, record) -> None:
    record.info["idle_since"] = time.monotonic()


@event.listens_for(Pool, "checkout")
def _ping_if_idle(dbapi_connection, record, proxy) -> None:
    """SQLAlchemy's pre-ping, for connections idle past IDLE_BEFORE_PING only. Asked at
    every checkout, it was a sixth of the round trips of a reply on PostgreSQL (a message
    checks out a connection for each of its transactions, a moment after the last one).
    A connection that fails the ping is replaced, and the pool's older connections with it,
    as pre-ping does after a server restart; one cut inside the window fails its statement,
    which the worker retries and the web answers with an error, as any lost connection."""
    idle_since = record.info.get("idle_since")
    if idle_since is None or time.monotonic() - idle_since < IDLE_BEFORE_PING:
        return  # a new connection, or one just returned
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SELECT 1")
    except Exception as exc:
        raise InvalidatePoolError(f"connection failed its ping: {exc}") from exc
    finally:
        try:
            cursor.close()
        except Exception:  # the connection is gone; the pool replaces it
            pass
