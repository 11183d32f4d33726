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

from tests.conftest import wait_for
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


def write_in_thread(connection: sqlite3.Connection, who: str):
    """Write and commit a note on a thread of its own; returns the started thread and the
    list its error (if any) lands in."""
    errors: list[Exception] = []

    def write() -> None:
        try:
            connection.execute("INSERT INTO note (who) VALUES (?)", (who,))
            connection.commit()
        except Exception as exc:
            errors.append(exc)

    thread = threading.Thread(target=write)
    thread.start()
    return thread, errors


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
    level = logger.level
    logger.setLevel(logging.DEBUG)  # setLevel, not .level: the logger caches what it emits
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_a_writer_in_another_thread_waits_its_turn(database, waits):
    first, second = connect(database), connect(database)
    first.execute("INSERT INTO note (who) VALUES ('first')")  # holds the write lock
    thread, errors = write_in_thread(second, "second")
    assert waits.started.wait(10), "the second writer never had to wait"
    first.commit()
    thread.join(10)
    assert errors == [] and notes(database) == ["first", "second"]


CHILD = """
import logging, sqlite3, sys
from tests.conftest import wait_for
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


def test_a_with_block_and_a_script_give_the_turn_back(database, waits):
    first = connect(database)
    with first:  # sqlite3 commits at the end of the block, in C
        first.execute("INSERT INTO note (who) VALUES ('with')")
    first.executescript("INSERT INTO note (who) VALUES ('script');")
    second = connect(database)
    second.execute("INSERT INTO note (who) VALUES ('second')")
    second.commit()
    assert not waits.started.is_set() and notes(database) == ["with", "script", "second"]


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


def test_a_write_after_a_comment_takes_its_turn_too(database, waits):
    first, second = connect(database), connect(database)
    first.execute("/* a note */ -- and another\n INSERT INTO note (who) VALUES ('first')")
    done, _ = write_in_thread(second, "second")
    assert waits.started.wait(10), "the second writer never had to wait"
    first.commit()
    done.join(10)
    assert notes(database) == ["first", "second"]


def test_a_transaction_that_went_on_unqueued_does_not_queue_again(database, monkeypatch, caplog):
    """Past the timeout a writer holds SQLite's lock without the turn; were its next write to
    queue behind a writer that took the turn meanwhile (and waits in SQLite for it), that
    writer's busy timeout would run out first: "database is locked"."""
    monkeypatch.setattr(QueuedWriterConnection, "busy_timeout_s", 1.0)
    holder, late, third = connect(database), connect(database), connect(database)
    holder.execute("INSERT INTO note (who) VALUES ('holder')")  # the turn, and SQLite's lock
    late.execute("PRAGMA busy_timeout=5000")
    done = threading.Thread(target=lambda: late.execute("INSERT INTO note (who) VALUES ('late')"))
    done.start()
    wait_for(lambda: "going on" in caplog.text, what="the late writer to go on unqueued")
    holder.commit()  # `late` now writes, holding SQLite's lock without the turn
    done.join(10)
    third.execute("PRAGMA busy_timeout=500")
    # takes the free turn, then waits (500 ms at most) in SQLite for `late`
    writes, errors = write_in_thread(third, "third")
    wait_for(lambda: third._turn is not None, what="the third writer to take the turn")
    late.execute("INSERT INTO note (who) VALUES ('late again')")  # must not wait for `third`
    late.commit()
    writes.join(10)
    assert errors == []
    assert notes(database) == ["holder", "late", "late again", "third"]


class TimeLimitExceeded(BaseException):
    """As Dramatiq's time limit arrives: raised inside the job's thread."""


HOLDER = """
import sqlite3, sys
from tests.conftest import wait_for
from web.sqlite_writers import QueuedWriterConnection
connection = sqlite3.connect(sys.argv[1], factory=QueuedWriterConnection)
connection.execute("INSERT INTO note (who) VALUES ('holder')")
print("holding", connection._turn is not None, flush=True)
sys.stdin.readline()
connection.commit()
"""


def test_a_job_stopped_while_waiting_for_its_turn_leaves_the_queue_free(database, waits):
    import ctypes

    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(database)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    line = holder.stdout.readline().strip()
    assert line == "holding True", line
    stopped = []

    def job() -> None:
        waiting = connect(database)
        try:
            waiting.execute("INSERT INTO note (who) VALUES ('stopped')")
        except TimeLimitExceeded:
            stopped.append(True)
        finally:
            waiting.close()

    thread = threading.Thread(target=job)
    thread.start()
    assert waits.started.wait(10)  # polling for the other process's turn
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread.ident), ctypes.py_object(TimeLimitExceeded)
    )
    thread.join(10)
    holder.communicate("commit\n", timeout=30)
    assert stopped == [True]
    waits.started.clear()
    after = connect(database)
    after.execute("INSERT INTO note (who) VALUES ('after')")  # the turn is free at once
    after.commit()
    assert not waits.started.is_set() and notes(database) == ["holder", "after"]


def test_the_queues_lock_file_has_the_databases_permissions(database):

    database.chmod(0o664)  # a group of users who all write the database
    connect(database).execute("INSERT INTO note (who) VALUES ('x')")
    assert (Path(f"{database}.writers").stat().st_mode & 0o777) == 0o664
