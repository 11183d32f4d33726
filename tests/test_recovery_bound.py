"""An email abandoned in `sending` (its worker SIGKILLed mid-send) is sent again within a bound
derived from Dramatiq's time limit and the SMTP time-out, and RECONCILE_AFTER_SECONDS."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from models import Communication, ProgressClaim, User
from models.communication import EmailEvent, EmailState, move
from tests.conftest import wait_for
from tests.test_inbound import reply_address, reply_to, smtp_send, wait_for_replies
from tests.test_pipeline import draft, reaches
from web.emails import send_claim_email
from web.extensions import db
from workers.middleware import PeriodicSweep
from workers.reconciler import (
    processing_abandoned_after,
    recovery_bound,
    sending_abandoned_after,
    sweep,
)

SETTINGS = {
    "SMTP_URL": "smtp://mail.example:587?starttls=1&timeout=20",
    "WORKER_TIME_LIMIT_SECONDS": 100,
    "RECONCILE_AFTER_SECONDS": 60,
    "SWEEP_INTERVAL_SECONDS": 30,
}


def test_a_send_is_abandoned_after_the_time_limit_and_one_smtp_time_out():
    assert sending_abandoned_after(SETTINGS) == timedelta(seconds=100 + 20)
    assert recovery_bound(SETTINGS) == timedelta(seconds=100 + 20 + 30)
    assert processing_abandoned_after(SETTINGS) == timedelta(seconds=100)


def test_reconcile_after_seconds_governs_when_it_is_longer():
    settings = {**SETTINGS, "RECONCILE_AFTER_SECONDS": 900}
    assert sending_abandoned_after(settings) == timedelta(seconds=900)
    assert recovery_bound(settings) == timedelta(seconds=930)
    assert processing_abandoned_after(settings) == timedelta(seconds=900)


def test_the_defaults_recover_within_five_minutes(app):
    assert recovery_bound(app.config) == timedelta(seconds=180 + 30 + 60)


@pytest.fixture
def claim(demo) -> ProgressClaim:
    claims = demo["projects"][0]["head_contracts"][0]["claims"]
    return db.session.get(ProgressClaim, claims[2]["id"])


@pytest.fixture
def sender(demo) -> User:
    return db.session.scalar(sa.select(User).where(User.email == "priya.pm@harbourside.example"))


def _abandon_while_sending(email_id: int) -> None:
    """What a worker SIGKILLed mid-conversation leaves: the email in `sending`, its attempt
    counted, nothing handed to the server."""
    assert move(
        db.session,
        email_id,
        {EmailState.QUEUED},
        EmailState.SENDING,
        attempts=1,
        note="the worker was killed",
    )
    db.session.commit()


def test_an_email_abandoned_in_sending_is_sent_again_within_a_short_configured_bound(
    app, claim, sender, broker, mail_config, smtp_server, request
):
    mail_config.update(
        SMTP_URL=f"{smtp_server.url}?timeout=1",
        WORKER_TIME_LIMIT_SECONDS=1,
        RECONCILE_AFTER_SECONDS=0.5,
        SWEEP_INTERVAL_SECONDS=0.2,
    )
    email = send_claim_email(claim, sender, draft(uploads=[]))
    broker.flush_all()  # the killed worker had taken the message
    _abandon_while_sending(email.id)
    request.getfixturevalue("worker")
    periodic = PeriodicSweep(app)
    periodic.after_worker_boot(broker, None)
    try:
        bound = recovery_bound(app.config).total_seconds()
        wait_for(lambda: reaches(email.id, "sent"), timeout=bound + 20, what="the email resent")
    finally:
        periodic.before_worker_shutdown(broker, None)
    events = db.session.scalars(
        sa.select(EmailEvent).where(EmailEvent.communication_id == email.id).order_by(EmailEvent.id)
    ).all()
    abandoned = next(e for e in events if e.state == "sending")
    recovered = next(e for e in events if "abandoned" in e.note)
    # Left alone while a live send could still have been talking to the server (1 s + 1 s).
    assert recovered.at - abandoned.at >= timedelta(seconds=2)
    assert [e.state for e in events][-3:] == ["rendered", "sending", "sent"]
    assert len(smtp_server.received) == 1  # killed before the server took it: sent once


def test_the_reconciler_marks_replied_an_email_left_sent_with_a_reply_on_record(
    app, sent, listener, broker
):
    smtp_send(listener, reply_to(sent, "Could you explain item 9?"), reply_address(sent))
    wait_for_replies(sent.id)
    wait_for(lambda: reaches(sent.id, "replied"), what="the reply to mark the email replied")
    # What a worker killed between its commit and its re-check leaves: `sent`, a reply on record.
    db.session.execute(
        sa.update(Communication).where(Communication.id == sent.id).values(state="sent")
    )
    db.session.commit()
    sweep(timedelta(minutes=2))
    assert reaches(sent.id, "replied")
