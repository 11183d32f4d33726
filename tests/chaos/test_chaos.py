"""Chaos: emails through the API and two Procfile workers, replies through the Procfile's
inbound listener, while workers and the listener are SIGKILLed and restarted, Redis is
restarted, the database connections are cut, and the mail server says 451, refuses, or hangs
up. At the end every email is sent (replied) or, refused for good, failed; none is lost or
stuck; a duplicate at the mail server carries the same Message-ID; every reply that got a 250
is stored and processed exactly once, and what got no 250 was sent again by its sender.

`CHAOS_SCALE=full` (make chaos): 1,000 emails and 1,000 replies. Unset: a small run inside
`make test`. On SQLite always, on PostgreSQL when TEST_DATABASE_URL is set."""

import json
import os
import queue
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from tests.chaos.faults import ChaoticMailServer, Monkey, RetryingSender, terminate_backends
from tests.mail import free_port
from tests.test_production import (
    Installation,
    RedisServer,
    database,  # noqa: F401  (the PostgreSQL database fixture, by name below)
    states,
    wait_until,
)

FULL = os.environ.get("CHAOS_SCALE") == "full"
EMAILS = 1000 if FULL else 30
CHAOS_SECONDS = 150 if FULL else 8  # faults go on at least this long
KILL_INTERVAL = 2.0
WORKER_THREADS = 4
SETTINGS = {
    "WORKER_PROCESSES": "1",
    "WORKER_THREADS": str(WORKER_THREADS),
    "SEND_MIN_BACKOFF_MS": "100",
    "SEND_MAX_BACKOFF_MS": "1000",
    "SEND_MAX_ATTEMPTS": "40",  # 12 % of transactions fail and every kill costs an attempt
    "WORKER_TIME_LIMIT_SECONDS": "10",
    "RECONCILE_AFTER_SECONDS": "20" if FULL else "3",
    "SWEEP_INTERVAL_SECONDS": "2" if FULL else "1",
    "REMINDER_INTERVAL_SECONDS": "3600",
    "LOG_FORMAT": "text",
}
SMTP_TIMEOUT = 2
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


@pytest.fixture
def mail_server():
    handler = ChaoticMailServer(seed=26)  # its first 35 answers hold each kind
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    handler.url = f"smtp://127.0.0.1:{port}?timeout={SMTP_TIMEOUT}"
    yield handler
    controller.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'chaos.db'}"
    if not os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("the PostgreSQL run needs TEST_DATABASE_URL")
    url, _ = request.getfixturevalue("database")
    return url


def post_email(site: Installation, number: int, deadline: float) -> dict:
    """POST one email through the API, as a client would: again after a failure."""
    body = json.dumps({"to": ["olivia@owner.example"], "message": f"Chaos email {number}"})
    request = urllib.request.Request(
        f"{site.url}/api/v1/claims/{site.claim_id}/emails",
        data=body.encode(),
        headers={"Authorization": f"Bearer {site.token}", "Content-Type": "application/json"},
        method="POST",
    )
    while True:
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.load(response)
        except (urllib.error.URLError, OSError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)  # a client's pause before trying again


def reply_to(email: dict, number: int) -> tuple[str, bytes]:
    """The client's answer to one email (a question, so that it decides nothing)."""
    message = EmailMessage()
    message_id = f"<chaos-reply-{number}@mail.owner.example>"
    message["From"] = "Olivia Owner <olivia@owner.example>"
    message["To"] = email["reply_address"]
    message["Subject"] = f"Re: {email['subject']}"
    message["Message-ID"] = message_id
    message["In-Reply-To"] = email["message_id"]
    message.set_content(f"Thanks, could you tell us more about item {number}?\n")
    return message_id, message.as_bytes(policy=policy.SMTP)


def settled(engine, replies: int) -> bool:
    """Nothing in flight: every email replied, failed, or sent with no reply on record yet;
    every reply processed."""
    with engine.connect() as connection:
        unfinished = connection.scalar(
            sa.text(
                "SELECT count(*) FROM communication c"
                " WHERE c.state NOT IN ('sent', 'replied', 'failed') OR c.state = 'sent' AND"
                " EXISTS (SELECT 1 FROM reply r WHERE r.communication_id = c.id)"
            )
        )
        received = connection.execute(
            sa.text("SELECT status, count(*) FROM inbound_message WHERE via = 'smtp' GROUP BY 1")
        ).all()
    counts = dict(received)
    return unfinished == 0 and sum(counts.values()) == replies and set(counts) <= {"matched"}


def test_nothing_is_lost_and_nothing_is_sent_twice_under_faults(
    tmp_path, database_url, mail_server, capsys
):
    redis = RedisServer(tmp_path)
    redis.start()
    inbound_port = free_port()
    site = Installation(
        tmp_path,
        database_url,
        redis.url,
        mail_server.url,
        **SETTINGS,
        INBOUND_PORT=str(inbound_port),
    )
    engine = sa.create_engine(database_url, pool_pre_ping=True)
    try:
        figures = run_chaos(site, redis, engine, mail_server, inbound_port)
    finally:
        site.stop_all()
        redis.stop()
        engine.dispose()
    with capsys.disabled():
        print(f"\nchaos ({engine.dialect.name}): " + json.dumps(figures))
    ARTIFACTS.mkdir(exist_ok=True)
    scale = "full" if FULL else "small"
    (ARTIFACTS / f"chaos-{scale}-{engine.dialect.name}.json").write_text(json.dumps(figures))


def run_chaos(site, redis, engine, mail_server, inbound_port) -> dict:
    site.procfile_process("web", "web.log")
    site.wait_for_web()
    monkey = Monkey(site, inbound_port, redis, lambda: terminate_backends(engine))
    try:
        return run_clients_under(monkey, site, engine, mail_server, inbound_port)
    finally:
        monkey.stop()  # before the processes are stopped: it would start them again


def run_clients_under(monkey, site, engine, mail_server, inbound_port) -> dict:
    sender = RetryingSender(inbound_port)
    ticks = int(CHAOS_SECONDS / KILL_INTERVAL)
    deadline = time.monotonic() + CHAOS_SECONDS + 600
    answer: queue.Queue = queue.Queue()
    posted: list[dict] = []

    def post_on_schedule(number: int) -> dict:
        # Spread over the faults rather than all before them: email n goes at n × pace.
        time.sleep(max(0.0, started + number * CHAOS_SECONDS * 0.6 / EMAILS - time.monotonic()))
        return post_email(site, number, deadline)

    def post_all() -> None:
        with ThreadPoolExecutor(max_workers=4) as pool:
            for email in pool.map(post_on_schedule, range(EMAILS)):
                posted.append(email)
                answer.put(email)
        for _ in range(4):
            answer.put(None)

    def answer_all() -> None:
        while (email := answer.get()) is not None:
            message_id, raw = reply_to(email, email["id"])
            sender.deliver(message_id, email["reply_address"], raw, deadline)

    started = time.monotonic()
    monkey.start(KILL_INTERVAL, max_ticks=2 * ticks, redis_at=ticks // 2, database_at=ticks // 3)
    clients = [threading.Thread(target=post_all)] + [
        threading.Thread(target=answer_all) for _ in range(4)
    ]
    for client in clients:
        client.start()
    for client in clients:
        client.join()
    monkey.stopped.wait(max(0.0, CHAOS_SECONDS - (time.monotonic() - started)))
    monkey.stop()
    faults_over = monkey.ended_at
    wait_until(
        lambda: settled(engine, len(posted)),
        timeout=300,
        what=f"every email and reply to settle ({states(engine)})",
    )
    recovered_in = time.monotonic() - faults_over
    return check_outcome(site, engine, mail_server, monkey, sender, posted, recovered_in)


def check_outcome(site, engine, mail_server, monkey, sender, posted, recovered_in) -> dict:
    with engine.connect() as connection:
        emails = dict(
            connection.execute(sa.text("SELECT message_id, state FROM communication")).all()
        )
        replies = connection.execute(
            sa.text(
                "SELECT m.dedupe_key, count(r.id) FROM inbound_message m"
                " LEFT JOIN reply r ON r.inbound_id = m.id WHERE m.via = 'smtp' GROUP BY 1"
            )
        ).all()
    delivered = mail_server.delivered
    # Every message the server took is one of our emails (one Message-ID each, for good).
    assert set(delivered) <= set(emails)
    lost = [mid for mid, state in emails.items() if state != "failed" and mid not in delivered]
    assert lost == [], f"sent but never delivered: {lost}"
    wrongly_failed = [
        mid
        for mid, state in emails.items()
        if state == "failed" and mid not in mail_server.refused_for_good
    ]
    assert wrongly_failed == [], "failed though the server never refused them for good"
    assert len(emails) >= len(posted) == EMAILS
    # Each posted email got a reply: once sent, it is `replied`, however the two raced.
    unanswered = [e["message_id"] for e in posted if emails[e["message_id"]] == "sent"]
    assert unanswered == [], "sent, and a reply is on record, but not marked replied"
    # A duplicate needs a kill (or a cut) between the server's 250 and our commit: at most
    # one per worker thread in flight at each.
    duplicates = sum(count - 1 for count in delivered.values())
    interruptions = monkey.figures.worker_kills + monkey.figures.database_cuts
    assert duplicates <= interruptions * WORKER_THREADS

    # Replies: every one was acknowledged in the end (its sender retried until then), stored
    # once and processed once.
    expected = {f"<chaos-reply-{email['id']}@mail.owner.example>" for email in posted}
    assert sorted(sender.acknowledged) == sorted(expected)
    assert {key for key, _ in replies} == expected  # stored by Message-ID, each once
    assert Counter(count for _, count in replies) == Counter({1: len(expected)})

    logs = "".join(p.read_text(errors="replace") for p in site.folder.glob("worker-*.log"))
    assert "an email abandoned while sending is sent again within" in logs
    assert "storage check:" in logs
    final = Counter(emails.values())
    return {
        "emails": len(emails),
        "states": dict(final),
        "worker_kills": monkey.figures.worker_kills,
        "listener_kills": monkey.figures.listener_kills,
        "redis_restarts": monkey.figures.redis_restarts,
        "database_cuts": monkey.figures.database_cuts,
        "smtp_outcomes": dict(mail_server.outcomes),
        "duplicates": duplicates,
        "lost": len(lost),
        "replies_acknowledged": len(sender.acknowledged),
        "reply_attempts_not_acknowledged": sender.unacknowledged_attempts,
        "replies_stored": len(replies),
        "replies_processed_once": sum(1 for _, count in replies if count == 1),
        "seconds_to_recover": round(recovered_in, 1),
    }
