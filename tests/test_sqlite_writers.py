"""SQLite's write queue (web/sqlite_writers.py): writers in several threads and processes take
turns instead of meeting SQLite's busy handler. Each connection here sets SQLite's busy
timeout to 0, so a writer that reached the write lock while another held it would fail at
once with "database is locked": only the queue can make it wait its turn."""

import logging
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from web.sqlite_writers import QueuedWriterConnection

ROOT = Path(__file__).resolve().parent.parent


def connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, factory=QueuedWriterConnection, check_same_thread=False)
    connection.execute("PRAGMA busy_timeout=0")
    return connection


@pytest.fixture
def database(tmp_path) -> Path:
    path = tmp_path / "claims.db"
    with sqlite3.connect(path) as setup:
        setup.execute("PRAGMA journal_mode=WAL")
        setup.execute("CREATE TABLE note (id INTEGER PRIMARY KEY, who TEXT)")
    return path


def notes(path: Path) -> list[str]:
    with sqlite3.connect(path) as reader:
        return [who for (who,) in reader.execute("SELECT who FROM note ORDER BY id")]


class Waits(logging.Handler):
    """Signals when a writer starts waiting for its turn."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.started = threading.Event()

    def emit(self, record):
        if "waiting" in record.getMessage():
            self.started.set()


@pytest.fixture
def waits():
    handler, logger = Waits(), logging.getLogger("web.sqlite_writers")
    level, logger.level = logger.level, logging.DEBUG
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_a_writer_in_another_thread_waits_its_turn(database, waits):
    first, second = connect(database), connect(database)
    first.execute("INSERT INTO note (who) VALUES ('first')")  # holds the write lock
    errors: list[Exception] = []

    def write_second() -> None:
        try:
            second.execute("INSERT INTO note (who) VALUES ('second')")
            second.commit()
        except Exception as exc:
            errors.append(exc)

    thread = threading.Thread(target=write_second)
    thread.start()
    assert waits.started.wait(10), "the second writer never had to wait"
    first.commit()
    thread.join(10)
    assert errors == [] and notes(database) == ["first", "second"]


CHILD = """
import logging, sqlite3, sys
from web.sqlite_writers import QueuedWriterConnection
logging.basicConfig(stream=sys.stdout, level=logging.DEBUG, format="%(message)s")
connection = sqlite3.connect(sys.argv[1], factory=QueuedWriterConnection)
connection.execute("PRAGMA busy_timeout=0")
print("ready", flush=True)
connection.execute("INSERT INTO note (who) VALUES ('child')")
connection.commit()
print("written", flush=True)
"""


def test_a_writer_in_another_process_waits_its_turn(database):
    parent = connect(database)
    parent.execute("INSERT INTO note (who) VALUES ('parent')")
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(database)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines = []
    for line in child.stdout:  # until the child says it waits (or fails, or ends)
        lines.append(line.strip())
        if "waiting" in line or "Error" in line:
            break
    parent.commit()
    rest, _ = child.communicate(timeout=30)
    lines += rest.split()
    assert any("waiting for another process" in line for line in lines), lines
    assert child.returncode == 0 and lines[-1] == "written", lines
    assert notes(database) == ["parent", "child"]


def test_a_statement_outside_a_transaction_gives_the_turn_back(database, waits):
    autocommit = connect(database)
    autocommit.isolation_level = None  # each statement its own transaction
    autocommit.execute("INSERT INTO note (who) VALUES ('autocommit')")
    other = connect(database)
    other.execute("INSERT INTO note (who) VALUES ('other')")
    other.commit()
    assert not waits.started.is_set()
    assert notes(database) == ["autocommit", "other"]


def test_a_rolled_back_or_failed_write_gives_the_turn_back(database, waits):
    first = connect(database)
    first.execute("INSERT INTO note (who) VALUES ('undone')")
    first.rollback()
    with pytest.raises(sqlite3.IntegrityError):
        first.execute("INSERT INTO note (id, who) VALUES (1, 'a'), (1, 'b')")
    first.rollback()
    second = connect(database)
    second.execute("INSERT INTO note (who) VALUES ('second')")
    second.commit()
    assert not waits.started.is_set() and notes(database) == ["second"]


def test_past_the_timeout_sqlite_decides_as_before(database, monkeypatch, caplog):
    monkeypatch.setattr(QueuedWriterConnection, "busy_timeout_s", 0.2)
    holder = connect(database)
    holder.execute("INSERT INTO note (who) VALUES ('holder')")
    late = connect(database)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        late.execute("INSERT INTO note (who) VALUES ('late')")
    assert "waited 0.2 s for the write queue; going on" in caplog.text
    holder.commit()
    late.rollback()
    late.execute("INSERT INTO note (who) VALUES ('late')")  # its turn is free again
    late.commit()
    assert notes(database) == ["holder", "late"]


def test_reads_never_wait(database, waits):
    writer, reader = connect(database), connect(database)
    writer.execute("INSERT INTO note (who) VALUES ('pending')")
    assert reader.execute("SELECT count(*) FROM note").fetchone() == (0,)
    assert not waits.started.is_set()
    writer.commit()
