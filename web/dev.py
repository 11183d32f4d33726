"""`claimpost dev`: the whole system in one process group on embedded defaults."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import click
from flask import Flask, current_app
from flask_migrate import upgrade
from sqlalchemy import select

from models import Company
from models.demo import DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD, seed_demo
from web.config import mail_catcher_url
from web.extensions import db
from workers.mailcatcher import start_mail_catcher
from workers.smtp import parse_smtp_url


def prepare_database(app: Flask) -> bool:
    """Apply migrations; seed the demo when the database is empty. True if it seeded."""
    with app.app_context():
        upgrade()
        if db.session.scalar(select(Company.id).limit(1)) is not None:
            return False
        seed_demo(db.session)
        db.session.commit()
        return True


def start_catcher(mailbox: Path):
    """The built-in mail catcher on MAIL_CATCHER_PORT, for when SMTP_URL is unset."""
    url = mail_catcher_url()
    server = parse_smtp_url(url)
    try:
        catcher = start_mail_catcher(mailbox, server.host, server.port)
    except OSError as exc:
        raise click.ClickException(
            f"cannot start the mail catcher on {server.host}:{server.port} ({exc}); "
            "stop what uses that port, choose another with --catcher-port, or set SMTP_URL"
        ) from exc
    click.echo(f"Mail catcher on {url}: see Operators > Mailbox.")
    return catcher


def child_processes(host: str, port: int, inbound_port: int) -> dict[str, list[str]]:
    """The commands of the processes `dev` supervises (the Procfile's, on local defaults)."""
    bin_dir = os.path.dirname(sys.executable)
    return {
        "inbound": [
            os.path.join(bin_dir, "claimpost"),
            "inbound-smtp",
            "--host",
            host,
            "--port",
            str(inbound_port),
        ],
        "web": [
            os.path.join(bin_dir, "gunicorn"),
            "--bind",
            f"{host}:{port}",
            "--workers",
            "2",
            "web.wsgi:app",  # each request is logged by the app (web/logs.py)
        ],
        "worker": [
            os.path.join(bin_dir, "dramatiq"),
            "--processes",
            "1",
            "--threads",
            "4",
            "workers.worker",
        ],
    }


# A child that dies is started again after a pause that doubles each time it dies quickly
# (a crash loop must not spin), up to a minute; a run of this long resets the pause.
FIRST_PAUSE_SECONDS = 1.0
MAX_PAUSE_SECONDS = 60.0
STEADY_AFTER_SECONDS = 60.0


class Child:
    """One supervised process and when to start it again if it dies."""

    def __init__(self, name: str, command: list[str]):
        self.name, self.command = name, command
        self.process: subprocess.Popen | None = None
        self.started_at = self.restart_at = 0.0
        self.pause = FIRST_PAUSE_SECONDS

    def start(self) -> None:
        self.process = subprocess.Popen(self.command)
        self.started_at = time.monotonic()

    def check(self, now: float) -> None:
        """Start the process again once its pause is over, if it has died."""
        if self.process is None:
            if now >= self.restart_at:
                self.start()
            return
        code = self.process.poll()
        if code is None:
            return
        ran = now - self.started_at
        self.pause = FIRST_PAUSE_SECONDS if ran >= STEADY_AFTER_SECONDS else self.pause
        click.echo(
            f"{self.name} exited with {code}; starting it again in {self.pause:g} s.", err=True
        )
        self.process, self.restart_at = None, now + self.pause
        self.pause = min(self.pause * 2, MAX_PAUSE_SECONDS)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()

    def wait(self) -> None:
        if self.process is None:
            return
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def supervise(commands: dict[str, list[str]], stop: threading.Event | None = None) -> int:
    """Run the commands until SIGINT/SIGTERM (or `stop`), starting again any that dies (one
    dead child must not take the web server and the listener with it); then stop them all."""
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
    children = [Child(name, command) for name, command in commands.items()]
    for child in children:
        child.start()
    while not stop.wait(0.2):
        for child in children:
            child.check(time.monotonic())
    for child in children:
        child.stop()
    for child in children:
        child.wait()
    return 0


@click.command("dev")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@click.option(
    "--inbound-port",
    default=2525,
    show_default=True,
    help="Port of the inbound SMTP listener for replies.",
)
@click.option(
    "--catcher-port",
    default=1025,
    show_default=True,
    envvar="MAIL_CATCHER_PORT",
    help="Port of the built-in mail catcher (used when SMTP_URL is unset).",
)
def dev(host: str, port: int, inbound_port: int, catcher_port: int) -> None:
    """Run web and workers on embedded Redis and SQLite (what `make run` calls)."""
    app = current_app._get_current_object()  # create_app has started the embedded Redis
    os.environ.setdefault("PUBLIC_URL", f"http://{host}:{port}")
    os.environ.setdefault("INBOUND_SMTP_URL", f"smtp://{host}:{inbound_port}")
    app.config["INBOUND_SMTP_URL"] = os.environ["INBOUND_SMTP_URL"]
    catcher = None
    if not os.environ.get("SMTP_URL"):
        # The children (web, worker) read the catcher's address from the same variable.
        os.environ["MAIL_CATCHER_PORT"] = str(catcher_port)
        app.config["SMTP_URL"] = mail_catcher_url()
        catcher = start_catcher(Path(app.config["MAILBOX_DIR"]))
    seeded = prepare_database(app)
    click.echo(f"\nClaimPost is running at http://{host}:{port}/")
    click.echo(
        f"Demo login: {DEMO_ADMIN_EMAIL} / {DEMO_ADMIN_PASSWORD}"
        + (" (demo data just created)" if seeded else "")
    )
    click.echo("Press Ctrl-C to stop.\n")
    code = supervise(child_processes(host, port, inbound_port))
    if catcher is not None:
        catcher.stop()
    sys.exit(code)
