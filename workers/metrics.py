"""How long rendering and sending take, and how often a send is retried, per company.

Every worker process counts into Redis (the broker's server), so /metrics on any web process
of any machine reads the whole installation's figures. Buckets are stored one count each and
summed into Prometheus's cumulative buckets when read.
"""

import logging
import threading
import time

import dramatiq
import sqlalchemy as sa

from models import Communication, HeadContract, ProgressClaim, Project
from web.extensions import db

log = logging.getLogger(__name__)

PREFIX = "claimpost:metrics"
# Seconds: a render takes milliseconds, a send to a slow server up to its 30 s timeout.
BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
TIMED = {"email.render": "render", "email.send": "send"}
COMPANIES = f"{PREFIX}:companies"


def _bucket(seconds: float) -> str:
    return next((str(b) for b in BUCKETS if seconds <= b), "+Inf")


def record_duration(client, kind: str, company_id: int, seconds: float) -> None:
    """Count one render or send of `seconds` for the company."""
    key = f"{PREFIX}:{kind}_seconds:{company_id}"
    pipe = client.pipeline(transaction=False)
    pipe.sadd(COMPANIES, company_id)
    pipe.hincrby(key, _bucket(seconds), 1)
    pipe.hincrby(key, "count", 1)
    pipe.hincrbyfloat(key, "sum", seconds)
    pipe.execute()


def record_retry(client, company_id: int) -> None:
    """Count one send that met transient trouble and will be tried again."""
    pipe = client.pipeline(transaction=False)
    pipe.sadd(COMPANIES, company_id)
    pipe.incr(f"{PREFIX}:retries:{company_id}")
    pipe.execute()


def read_histogram(client, kind: str, company_id: int) -> tuple[list[tuple[str, int]], int, float]:
    """Cumulative buckets [(le, count)], the count and the sum of one company's durations."""
    raw = {
        k.decode(): v.decode()
        for k, v in client.hgetall(f"{PREFIX}:{kind}_seconds:{company_id}").items()
    }
    buckets, running = [], 0
    for le in [str(b) for b in BUCKETS] + ["+Inf"]:
        running += int(raw.get(le, 0))
        buckets.append((le, running))
    return buckets, int(raw.get("count", 0)), float(raw.get("sum", 0.0))


def read_retries(client, company_id: int) -> int:
    return int(client.get(f"{PREFIX}:retries:{company_id}") or 0)


def company_of_email(email_id: int) -> int | None:
    """The company an email belongs to, on a connection of its own (the actor's session may
    be in any state when its message ends)."""
    query = (
        sa.select(Project.company_id)
        .join(HeadContract, HeadContract.project_id == Project.id)
        .join(ProgressClaim, ProgressClaim.head_contract_id == HeadContract.id)
        .join(Communication, Communication.claim_id == ProgressClaim.id)
        .where(Communication.id == email_id)
    )
    with db.engine.connect() as connection:
        return connection.scalar(query)


class ActorMetrics(dramatiq.Middleware):
    """Times email.render and email.send, and counts the sends that will be retried."""

    def __init__(self):
        self.local = threading.local()

    def before_process_message(self, broker, message):
        if message.actor_name in TIMED:
            self.local.started = time.perf_counter()

    def after_process_message(self, broker, message, *, result=None, exception=None):
        kind = TIMED.get(message.actor_name)
        started = getattr(self.local, "started", None)
        if kind is None or started is None:
            return
        self.local.started = None
        seconds = time.perf_counter() - started
        try:
            company_id = company_of_email(int(message.args[0]))
            if company_id is None:
                return
            record_duration(broker.client, kind, company_id, seconds)
            if kind == "send" and isinstance(exception, dramatiq.Retry):
                record_retry(broker.client, company_id)
        except Exception:  # counting must never fail the message
            log.warning("could not record metrics for %s", message.actor_name, exc_info=True)
