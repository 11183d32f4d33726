"""Health endpoint for load balancers and operators: the database, the broker and the mail
server, each reported on its own."""

import smtplib
import threading
import time

import redis
from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from web.extensions import db
from workers.smtp import parse_smtp_url

bp = Blueprint("health", __name__)

# The SMTP check opens a real connection; a load balancer asking every second must not turn
# into a connection a second to the company's mail provider.
SMTP_CHECK_SECONDS = 30
_smtp_checked: dict[str, tuple[float, str]] = {}
_smtp_lock = threading.Lock()


def _check(probe) -> str:
    try:
        probe()
    except Exception as exc:  # any failure means "not healthy"; the reason is reported
        return f"error: {type(exc).__name__}: {exc}"
    return "ok"


def _ping_broker() -> None:
    # A short timeout of its own, closed at once (a hung broker must not hang the check).
    with redis.Redis.from_url(current_app.config["REDIS_URL"], socket_timeout=2) as client:
        client.ping()


def _greet_smtp(url: str) -> None:
    """Connect, say EHLO and NOOP, and leave: the server answers. No login, no mail."""
    server = parse_smtp_url(url)
    connect = smtplib.SMTP_SSL if server.security == "ssl" else smtplib.SMTP
    with connect(server.host, server.port, timeout=3) as client:
        client.ehlo()
        code, _ = client.noop()
        if code != 250:
            raise smtplib.SMTPResponseException(code, "NOOP refused")


def smtp_status(url: str) -> str:
    """The mail server's reachability, checked at most every SMTP_CHECK_SECONDS."""
    with _smtp_lock:
        checked = _smtp_checked.get(url)
        if checked and time.monotonic() - checked[0] < SMTP_CHECK_SECONDS:
            return checked[1]
    status = _check(lambda: _greet_smtp(url))
    with _smtp_lock:
        _smtp_checked[url] = (time.monotonic(), status)
    return status


@bp.route("/healthz")
def healthz():
    """200 when the database and the broker both answer, else 503 with what failed. The mail
    server is reported too, but does not make the web unhealthy: the outbox waits for it."""
    database = _check(lambda: db.session.execute(text("SELECT 1")))
    broker = _check(_ping_broker)
    smtp = smtp_status(current_app.config["SMTP_URL"])
    ok = database == "ok" and broker == "ok"
    return jsonify(ok=ok, database=database, broker=broker, smtp=smtp), 200 if ok else 503
