"""The `claimpost` command line: a Flask CLI group (`db` comes from Flask-Migrate)."""

import json
import mailbox
import signal
import sys
import tempfile
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy import func, select

from models import ApiToken, Company, User
from models.base import is_one_line, utcnow
from models.demo import DEMO_ADMIN_EMAIL, seed_demo
from models.errors import ImportErrorInFile
from models.importing import import_file, is_email_address
from models.storage import FileStore
from web.dev import dev
from web.extensions import db


def _fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


def _user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


@click.command("seed-demo")
@click.option("--json", "as_json", is_flag=True, help="Print the demo's login and ids as JSON.")
@with_appcontext
def seed_demo_command(as_json: bool) -> None:
    """Create the demo company, project, directory, head contract and claims."""
    if _user_by_email(DEMO_ADMIN_EMAIL) is not None:
        _fail(f"the demo already exists (user {DEMO_ADMIN_EMAIL})")
    try:
        result = seed_demo(db.session)
    except ImportErrorInFile as exc:
        db.session.rollback()
        _fail(f"the demo cannot be created: {exc}")
    db.session.commit()
    if as_json:
        click.echo(json.dumps(result))
    else:
        click.echo(f"Demo created. Log in as {result['admin_email']} / {result['admin_password']}")


@click.command("import")
@click.argument("file", type=click.File("rb"))
@with_appcontext
def import_command(file) -> None:
    """Create companies, projects, directories, contracts and claims from FILE.json."""
    try:
        data = json.loads(file.read(), parse_float=Decimal)
    except (ValueError, UnicodeDecodeError) as exc:
        _fail(f"{file.name} is not valid JSON: {exc}")
    try:
        ids = import_file(db.session, data)
    except ImportErrorInFile as exc:
        db.session.rollback()
        _fail(f"{file.name}: {exc} (nothing was imported)")
    db.session.commit()
    click.echo(json.dumps(ids))


@click.command("create-user")
@click.argument("email")
@click.option("--name", required=True)
@click.option("--password", required=True)
@click.option("--admin", is_flag=True, help="Make the user a company admin.")
@click.option(
    "--site-operator",
    is_flag=True,
    help="Let the user triage received mail that no single company can be said to own.",
)
@click.option(
    "--company",
    "company_name",
    help="Company name (default: the only company, or a new one named after the e-mail domain).",
)
@with_appcontext
def create_user(
    email: str, name: str, password: str, admin: bool, site_operator: bool, company_name: str | None
):
    """Create a login account."""
    if not is_email_address(email.strip()):
        _fail(f"{email!r} is not an e-mail address")
    email = email.strip().lower()
    if _user_by_email(email) is not None:
        _fail(f"a user with e-mail {email} already exists")
    if len(password) < 8:
        _fail("the password must be at least 8 characters")
    if not name.strip() or not is_one_line(name):
        _fail("the name must be one line of text")
    company = _company(company_name, email)
    user = User(
        company=company, email=email, name=name, is_admin=admin, is_site_operator=site_operator
    )
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    click.echo(f"Created user {user.email} (id {user.id}) in {company.name}.")


def _company(name: str | None, email: str) -> Company:
    companies = db.session.scalars(select(Company).order_by(Company.id)).all()
    if not companies and not name:
        name = email.partition("@")[2]  # a fresh database: the user's company, by its domain
    if name:
        match = [c for c in companies if c.name == name]
        if match:
            return match[0]
        company = Company(name=name)
        db.session.add(company)
        return company
    if len(companies) == 1:
        return companies[0]
    _fail("there are several companies: pass --company NAME")


@click.command("create-token")
@click.argument("email", required=False)
@click.option(
    "--metrics",
    is_flag=True,
    help="A scrape token for /metrics of every company, with no other rights (no EMAIL).",
)
@with_appcontext
def create_token(email: str | None, metrics: bool) -> None:
    """Print a new API token for the user (stored hashed; shown only now)."""
    if metrics:
        if email:
            _fail("a --metrics token belongs to no user: leave out EMAIL")
        token_row, token = ApiToken.issue_metrics()
        db.session.add(token_row)
        db.session.commit()
        click.echo("Metrics scrape token (reads /metrics of every company, nothing else; keep")
        click.echo("it secret, it is not shown again):")
        click.echo(token)
        return
    if not email:
        _fail("give the user's EMAIL, or --metrics for a scrape token")
    user = _user_by_email(email)
    if user is None:
        _fail(f"no user with e-mail {email}")
    token_row, token = ApiToken.issue(user)
    db.session.add(token_row)
    db.session.commit()
    click.echo(f"API token for {user.email} (keep it secret; it is not shown again):")
    click.echo(token)


@click.command("sweep")
@click.option(
    "--older-than",
    type=int,
    default=None,
    help="Seconds an email must have been untouched (default RECONCILE_AFTER_SECONDS).",
)
@with_appcontext
def sweep_command(older_than: int | None) -> None:
    """One pass of the reconciler: re-enqueue stuck emails and unprocessed received mail."""
    from workers.reconciler import sweep, sweep_inbound

    seconds = current_app.config["RECONCILE_AFTER_SECONDS"] if older_than is None else older_than
    ids = sweep(timedelta(seconds=seconds))
    click.echo(
        f"Re-enqueued {len(ids)} email(s)" + (f": {', '.join(map(str, ids))}" if ids else ".")
    )
    if inbound := sweep_inbound(timedelta(seconds=seconds)):
        click.echo(f"Re-enqueued {len(inbound)} received message(s).")


@click.command("check-storage")
@with_appcontext
def check_storage_command() -> None:
    """Hash every stored file and report those whose SHA-256 does not match their name (exit
    status 1), and partial writes a crash left behind."""
    root = current_app.config["STORAGE_DIR"]
    report = FileStore(root).check()
    for path in report.mismatched:
        click.echo(f"MISMATCH {path}")
    for path in report.partial:
        click.echo(f"PARTIAL {path} (an interrupted write; nothing refers to it)")
    click.echo(
        f"Checked {report.files} file(s) in {root}: "
        + ("each matches its SHA-256." if report.sound else f"{len(report.mismatched)} do not.")
    )
    if not report.sound:
        sys.exit(1)


def _as_of(value: str | None) -> datetime:
    """--as-of: an ISO 8601 time; one without an offset is UTC."""
    if value is None:
        return utcnow()
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        _fail(f"--as-of {value!r} is not an ISO time such as 2026-12-14T09:00:00+11:00")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@click.command("reminders")
@click.option(
    "--as-of",
    "as_of",
    metavar="ISO-DATETIME",
    help="Run the pass as at this time (default now; without an offset, UTC).",
)
@with_appcontext
def reminders_command(as_of: str | None) -> None:
    """One pass of the reminder job: queue the reminders due (by then) and print them."""
    from workers.reminders import run_reminders

    now = _as_of(as_of)
    queued = run_reminders(now)
    click.echo(
        f"Queued {len(queued)} reminder(s) as of {now.isoformat()}" + (":" if queued else ".")
    )
    for made in queued:
        email, claim = made.email, made.email.claim
        to = ", ".join(r.email for r in email.recipients)
        for due in made.reminded:
            days = "on the day" if due.days_before == 0 else f"{due.days_before} before"
            click.echo(
                f"  email {email.id} to {to}: {claim} {due.deadline.kind} due "
                f"{due.deadline.due.isoformat()} ({days})"
            )


@click.command("inbound-smtp")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=2525, show_default=True)
@with_appcontext
def inbound_smtp_command(host: str, port: int) -> None:
    """The inbound SMTP listener for replies; runs until Ctrl-C / SIGTERM."""
    from workers.inbound_smtp import start_inbound_smtp

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    listener = start_inbound_smtp(current_app._get_current_object(), host, port)
    click.echo(f"Inbound SMTP listening on {host}:{port}")
    stop.wait()
    listener.stop()


def _messages_in(source) -> list[bytes]:
    """The raw messages of an .eml file (one) or an mbox file (each), given its bytes."""
    data = source.read()
    if not data.startswith(b"From "):
        return [data]
    with tempfile.NamedTemporaryFile(suffix=".mbox") as tmp:
        tmp.write(data)
        tmp.flush()
        box = mailbox.mbox(tmp.name, create=False)
        return [box.get_bytes(key) for key in box.keys()]


@click.command("ingest")
@click.argument("paths", nargs=-1, required=True, type=click.File("rb"))
@with_appcontext
def ingest_command(paths) -> None:
    """Feed raw messages (.eml files, mbox files, or - for stdin) into the reply pipeline."""
    from workers.inbound_smtp import inbound_size_limit
    from workers.intake import take_in

    limit = inbound_size_limit(current_app.config["MAX_ATTACHMENT_BYTES"])
    new = duplicates = 0
    for source in paths:
        name = getattr(source, "name", "-")
        for raw in _messages_in(source):
            if not raw.strip() or len(raw) > limit:
                click.echo(
                    f"{name}: skipped a message that is empty or over {limit:,} bytes", err=True
                )
                continue
            message, created = take_in(raw, "ingest")
            new, duplicates = new + created, duplicates + (not created)
            click.echo(f"{name}: message {message.id} {'stored' if created else 'already stored'}")
    click.echo(f"{new} new, {duplicates} already stored.")


def init_app(app: Flask) -> None:
    """Register ClaimPost's commands on the app."""
    for command in (
        seed_demo_command,
        import_command,
        create_user,
        create_token,
        dev,
        sweep_command,
        check_storage_command,
        reminders_command,
        inbound_smtp_command,
        ingest_command,
    ):
        app.cli.add_command(command)


def main() -> None:
    """Entry point of the `claimpost` console script."""
    from web import create_app

    FlaskGroup(create_app=create_app, help="ClaimPost: email progress claims, capture replies.")()
