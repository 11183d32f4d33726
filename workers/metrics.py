"""How long rendering and sending take, and how often a send is retried, per company.

Every worker process counts into Redis (the broker's server), so /metrics on any web process
of any machine reads the whole installation's figures. Buckets are stored one count each and
summed into Prometheus's cumulative buckets when read.
"""

import logging
import time
from contextlib import contextmanager

from workers.broker import current_broker

log = logging.getLogger(__name__)

PREFIX = "claimpost:metrics"
# Seconds: a render takes milliseconds, a send to a slow server up to its 30 s timeout.
BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
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


def observe(kind: str, company_id: int, seconds: float) -> None:
    """Count one render or send attempt of `seconds` for the company; never fails the caller."""
    try:
        record_duration(current_broker().client, kind, company_id, seconds)
    except Exception:  # counting must never fail the email
        log.warning("could not record a %s duration", kind, exc_info=True)


def count_retry(company_id: int) -> None:
    """Count one send attempt that met transient trouble and will be tried again."""
    try:
        record_retry(current_broker().client, company_id)
    except Exception:  # counting must never fail the email
        log.warning("could not record a retry", exc_info=True)


@contextmanager
def timed(kind: str, company_id: int):
    """Time the block as one render or send attempt of the company, however it ends."""
    started = time.perf_counter()
    try:
        yield
    finally:
        observe(kind, company_id, time.perf_counter() - started)
