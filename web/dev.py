"""`claimpost dev`: the whole system in one process group on embedded defaults."""

import os
import signal
import subprocess
import sys
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


def supervise(commands: dict[str, list[str]]) -> int:
    """Run the commands until one exits or we get SIGINT/SIGTERM; then stop them all."""
    stopping = False

    def stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    children = {name: subprocess.Popen(cmd) for name, cmd in commands.items()}
    exit_code = 0
    while not stopping:
        for name, child in children.items():
            if child.poll() is not None:
                click.echo(f"{name} exited with {child.returncode}; stopping.", err=True)
                exit_code, stopping = child.returncode or 1, True
        time.sleep(0.2)
    for child in children.values():
        if child.poll() is None:
            child.terminate()
    for child in children.values():
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
    return exit_code


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
