"""Flask extensions, created unbound and initialised by the app factory."""

import sqlite3

from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import Engine, event

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
