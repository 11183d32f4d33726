"""The faults of the chaos run: a mail server that says 451, refuses for good or hangs up; a
client's mail server that retries what was not acknowledged; and the monkey that kills."""

import os
import random
import re
import signal
import smtplib
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

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
    connections of every process are cut (PostgreSQL)."""

    def __init__(self, site, workers: dict[str, subprocess.Popen], listener, redis, cut_database):
        self.site, self.workers, self.listener = site, workers, listener
        self.redis, self.cut_database = redis, cut_database
        self.figures = Figures()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="chaos-monkey", daemon=True)
        self.restarted = 0

    def start(self, interval: float, redis_at: int, database_at: int) -> None:
        self.interval, self.redis_at, self.database_at = interval, redis_at, database_at
        self.thread.start()

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join()

    def _run(self) -> None:
        tick = 0
        while not self.stopped.wait(self.interval):
            tick += 1
            self._kill_worker(sorted(self.workers)[tick % 2])
            if tick % 2 == 0:
                self._kill_listener()
            if tick == self.redis_at:
                self.redis.stop(signal.SIGKILL)
                self.redis.start()
                self.figures.redis_restarts += 1
            if tick == self.database_at and self.cut_database():
                self.figures.database_cuts += 1

    def _kill_worker(self, name: str) -> None:
        _kill(self.workers[name])
        self.figures.worker_kills += 1
        self.restarted += 1
        self.workers[name] = self.site.procfile_process("worker", f"{name}-{self.restarted}.log")

    def _kill_listener(self) -> None:
        _kill(self.listener[0])
        self.figures.listener_kills += 1
        name = f"inbound-{self.figures.listener_kills}.log"
        self.listener[0] = self.site.procfile_process("inbound", name)


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
