"""Real-browser tests: headless Chromium (Debian's package, driven by Playwright) against
`claimpost dev` started here on free ports with an instance directory of its own."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from bench.harness import descendants
from tests.mail import free_port

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# Debian's Chromium as root, with nothing reaching out to the network (which is closed here).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Whatever the suite runs on, a dev instance runs on its own embedded Redis and SQLite.
NOT_INHERITED = {"REDIS_URL", "DATABASE_URL", "SMTP_URL", "SECRET_KEY", "TEST_DATABASE_URL"}


def chromium_missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} not found (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed"
    return None


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


class DevServer:
    """`claimpost dev` as `make run` starts it, on free ports and a fresh instance directory;
    its output goes to tests/artifacts/NAME-dev.log."""

    def __init__(self, name: str, folder: Path, **environment: str):
        self.instance = folder / "instance"
        self.port, self.inbound_port, self.catcher_port = free_port(), free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
        env.update(CLAIMPOST_INSTANCE=str(self.instance), PUBLIC_URL=self.url, **environment)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.log_path = ARTIFACTS / f"{name}-dev.log"
        self.log = self.log_path.open("wb")
        command = [
            str(Path(sys.executable).parent / "claimpost"),
            "dev",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--inbound-port",
            str(self.inbound_port),
            "--catcher-port",
            str(self.catcher_port),
        ]
        self.process = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.engine = sa.create_engine(f"sqlite:///{self.instance / 'claimpost.db'}")
        self._wait_until_up(uses_catcher="SMTP_URL" not in environment)

    def _wait_until_up(self, uses_catcher: bool, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"claimpost dev exited:\n{self.output()}")
            ports = [self.inbound_port] + ([self.catcher_port] if uses_catcher else [])
            if all(_listening(p) for p in ports) and self._healthy():
                return
            time.sleep(0.2)
        self.stop()
        raise AssertionError(f"claimpost dev did not come up in {timeout} s:\n{self.output()}")

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/healthz", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def output(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")[-5000:]

    @contextmanager
    def session(self):
        """A session on the instance's own database (to look things up, or set up a user)."""
        with Session(self.engine) as session:
            yield session

    @contextmanager
    def worker_paused(self):
        """The dev server's dramatiq processes frozen (SIGSTOP) for the block: what is queued
        meanwhile waits on the broker until they go on (SIGCONT)."""
        workers = [
            pid
            for pid in descendants(self.process.pid)
            if b"dramatiq" in Path(f"/proc/{pid}/cmdline").read_bytes()
        ]
        assert workers, "the dev server runs a dramatiq worker"
        for pid in workers:
            os.kill(pid, signal.SIGSTOP)
        try:
            yield
        finally:
            for pid in workers:
                os.kill(pid, signal.SIGCONT)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # dev stops its children and exits
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.engine.dispose()
        self.log.close()


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium from /usr/bin/chromium (never a browser download)."""
    reason = chromium_missing()
    if reason:
        pytest.skip(f"browser tests skipped: {reason}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def dev(browser, tmp_path_factory, request):
    """`claimpost dev` with its own mail catcher, for the module's tests."""
    server = DevServer(request.module.__name__.rsplit(".", 1)[-1], tmp_path_factory.mktemp("dev"))
    yield server
    server.stop()


class Screens:
    """Numbered full-page screenshots of each step, under tests/artifacts/."""

    def __init__(self, prefix: str):
        self.prefix, self.count = prefix, 0
        for old in ARTIFACTS.glob(f"{prefix}-*.png"):
            old.unlink()

    def __call__(self, page, step: str) -> Path:
        self.count += 1
        path = ARTIFACTS / f"{self.prefix}-{self.count:02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def shot(request):
    return Screens(request.node.name.removeprefix("test_")[:60])


@pytest.fixture
def new_page(browser):
    """A page in a browser context of its own (its own cookies), 1366 pixels wide."""
    contexts = []

    def make():
        context = browser.new_context(viewport={"width": 1366, "height": 900})
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
