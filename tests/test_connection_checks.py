"""A pooled connection is checked before use when it has sat idle, and trusted without a
round trip when it was returned a moment ago (web/extensions.py)."""

import time

import psycopg
import pytest
import sqlalchemy as sa

import web.extensions
from web.extensions import db


@pytest.fixture
def postgresql(ctx):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("a server's connections")
    watcher = sa.create_engine(db.engine.url, poolclass=sa.NullPool)
    yield watcher
    watcher.dispose()


def _pid(connection) -> int:
    return connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()


def _last_statement(watcher, pid: int) -> str:
    with watcher.connect() as conn:
        return conn.execute(
            sa.text("SELECT query FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
        ).scalar()


def _returned(engine) -> int:
    """A connection used and given back to the pool; its server process's id."""
    engine.dispose()
    with engine.connect() as conn:
        pid = _pid(conn)
        conn.exec_driver_sql("SELECT 'ours'")
    return pid


def test_a_connection_cut_while_idle_is_replaced_before_it_is_used(postgresql, monkeypatch):
    monkeypatch.setattr(web.extensions, "IDLE_BEFORE_PING", 0.0)
    cut = _returned(db.engine)
    with postgresql.connect() as conn:
        assert conn.scalar(sa.select(sa.func.pg_terminate_backend(cut)))
    with db.engine.connect() as conn:  # no error: the ping found it dead, the pool replaced it
        assert _pid(conn) != cut


def test_a_connection_idle_past_half_a_second_is_pinged_outside_any_transaction(postgresql):
    pid = _returned(db.engine)
    time.sleep(0.6)  # the idleness itself is what is checked
    raw = db.engine.raw_connection()  # a checkout, with no statement of ours after it
    try:
        assert _last_statement(postgresql, pid) == ";"  # psycopg's ping, after the reset
        assert raw.driver_connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    finally:
        raw.close()
    # What needs a connection outside a transaction still gets one (VACUUM, say).
    time.sleep(0.6)
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE company")


def test_a_connection_returned_a_moment_ago_is_used_without_a_ping(postgresql, monkeypatch):
    monkeypatch.setattr(web.extensions, "IDLE_BEFORE_PING", 60.0)
    pid = _returned(db.engine)
    raw = db.engine.raw_connection()
    try:
        # What the pool said on its return (the reset), not a ping.
        assert _last_statement(postgresql, pid) == "ROLLBACK"
    finally:
        raw.close()


def test_sqlite_connections_are_checked_the_same_way(ctx, monkeypatch):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's trace of one connection")
    db.engine.dispose()
    with db.engine.connect() as conn:
        conn.exec_driver_sql("SELECT 2")
    said: list[str] = []
    for window, pinged in ((60.0, []), (0.0, ["SELECT 1"])):
        monkeypatch.setattr(web.extensions, "IDLE_BEFORE_PING", window)
        said.clear()
        raw = db.engine.raw_connection()
        raw.driver_connection.set_trace_callback(said.append)
        raw.close()  # back to the pool, its trace still on
        raw = db.engine.raw_connection()
        try:
            assert [s for s in said if s.startswith("SELECT")] == pinged
            assert not raw.driver_connection.in_transaction
        finally:
            raw.driver_connection.set_trace_callback(None)
            raw.close()
