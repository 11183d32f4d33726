"""The faults of the chaos run: a mail server that says 451, refuses for good or hangs up; a
client's mail server that retries what was not acknowledged; and the monkey that kills."""

import os
import random
import re
import signal
import smtplib
import socket
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa


def message_id_of(raw: bytes) -> str:
    found = re.search(rb"^Message-ID:\s*(<[^>\r\n]+>)", raw, re.I | re.M)
    return found.group(1).decode() if found else "(none)"


class ChaoticMailServer:
    """An aiosmtpd handler: of the transactions that reach the end of DATA, 2 % lose their
    connection before any reply, 10 % get 451, 1 % a permanent 554, the rest 250. Only a 250
    delivers; each is counted by the Message-ID it carried."""

    DROP, TRY_LATER, REFUSE = 0.02, 0.12, 0.13

    def __init__(self, seed: int):
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.delivered: Counter[str] = Counter()
        self.refused_for_good: set[str] = set()
        self.outcomes: Counter[str] = Counter()

    async def handle_DATA(self, server, session, envelope):
        message_id = message_id_of(envelope.original_content or envelope.content)
        with self.lock:
            roll = self.random.random()
            if roll < self.DROP:
                self.outcomes["dropped"] += 1
                server.transport.abort()  # the client never learns what became of it
                return "421 4.4.2 Connection dropped"
            if roll < self.TRY_LATER:
                self.outcomes["451"] += 1
                return "451 4.3.0 Try again later"
            if roll < self.REFUSE:
                self.outcomes["554"] += 1
                self.refused_for_good.add(message_id)
                return "554 5.7.1 Refused for good"
            self.outcomes["250"] += 1
            self.delivered[message_id] += 1
            return "250 2.0.0 queued"


@dataclass
class RetryingSender:
    """The client's mail server: sends each reply until it gets a 250, retrying (as an MTA
    does) whatever was not acknowledged: refused connections, hang-ups, 4xx."""

    port: int
    acknowledged: list[str] = field(default_factory=list)
    unacknowledged_attempts: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def deliver(self, message_id: str, rcpt: str, raw: bytes, deadline: float) -> None:
        while time.monotonic() < deadline:
            try:
                with smtplib.SMTP("127.0.0.1", self.port, timeout=10) as client:
                    client.sendmail("olivia@owner.example", [rcpt], raw)
            except (OSError, smtplib.SMTPException):
                with self.lock:
                    self.unacknowledged_attempts += 1
                time.sleep(0.2)  # an MTA's retry interval, shortened
                continue
            with self.lock:
                self.acknowledged.append(message_id)
            return
        raise AssertionError(f"{message_id} never got a 250")


@dataclass
class Figures:
    worker_kills: int = 0
    listener_kills: int = 0
    redis_restarts: int = 0
    database_cuts: int = 0


class Monkey:
    """Every `interval` seconds SIGKILLs a worker (the two in turn) and starts it again; every
    second time the inbound listener too; once, Redis is restarted; once, the database
    connections of every process are cut (PostgreSQL). A process is killed only once it has
    come up (a loaded machine can take longer than the interval to start one), so that the
    run makes progress; it stops by itself after `max_ticks`."""

    def __init__(self, site, listener_port: int, redis, cut_database):
        self.site, self.listener_port = site, listener_port
        self.redis, self.cut_database = redis, cut_database
        self.figures = Figures()
        self.started = 0
        self.workers = {name: self._start_worker() for name in ("wa", "wb")}
        self.listener = site.procfile_process("inbound", "inbound-0.log")
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="chaos-monkey", daemon=True)

    def start(self, interval: float, max_ticks: int, redis_at: int, database_at: int) -> None:
        self.interval, self.max_ticks = interval, max_ticks
        self.redis_at, self.database_at = redis_at, database_at
        self.thread.start()

    def stop(self) -> None:
        self.stopped.set()
        if self.thread.is_alive():
            self.thread.join()

    def _run(self) -> None:
        try:
            self._make_trouble()
        finally:
            self.ended_at = time.monotonic()

    def _make_trouble(self) -> None:
        for tick in range(1, self.max_ticks + 1):
            if self.stopped.wait(self.interval):
                return
            self._kill_a_worker(tick)
            if tick % 2 == 0 and _accepts(self.listener_port):
                _kill(self.listener)
                self.figures.listener_kills += 1
                log_name = f"inbound-{self.figures.listener_kills}.log"
                self.listener = self.site.procfile_process("inbound", log_name)
            if tick == self.redis_at:
                self.redis.stop(signal.SIGKILL)
                self.redis.start()
                self.figures.redis_restarts += 1
            if tick == self.database_at and self.cut_database():
                self.figures.database_cuts += 1

    def _start_worker(self) -> tuple[subprocess.Popen, Path]:
        self.started += 1
        log = self.site.folder / f"worker-{self.started}.log"
        return self.site.procfile_process("worker", log.name), log

    def _kill_a_worker(self, tick: int) -> None:
        names = sorted(self.workers)
        for name in (names[tick % 2], names[(tick + 1) % 2]):  # this one's turn, else the other
            process, log = self.workers[name]
            if _booted(log):
                _kill(process)
                self.figures.worker_kills += 1
                self.workers[name] = self._start_worker()
                return


def _booted(log: Path) -> bool:
    """Whether a dramatiq worker has started (its own log line once its processes are up)."""
    return log.exists() and b"Worker process is ready for action." in log.read_bytes()


def _accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def _kill(process: subprocess.Popen) -> None:
    """SIGKILL the process and everything it started: no chance to finish anything."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def terminate_backends(engine: sa.Engine) -> bool:
    """Cut every other connection to the database (PostgreSQL's pg_terminate_backend), as a
    failover or a network cut would; False on SQLite, which has no connection to cut."""
    if engine.dialect.name != "postgresql":
        return False
    with engine.connect() as connection:
        connection.execute(
            sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    return True
