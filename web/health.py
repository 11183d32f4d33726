"""Health endpoint for load balancers and operators."""

import redis
from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from web.extensions import db

bp = Blueprint("health", __name__)


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


@bp.route("/healthz")
def healthz():
    """200 when the database and the broker both answer, else 503 with what failed."""
    database = _check(lambda: db.session.execute(text("SELECT 1")))
    broker = _check(_ping_broker)
    ok = database == "ok" and broker == "ok"
    return jsonify(ok=ok, database=database, broker=broker), 200 if ok else 503
