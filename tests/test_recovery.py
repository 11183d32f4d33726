"""Recovery between attempts: what the reconciler re-enqueues and what it leaves alone, a send
abandoned half-way, and an operator's Cancel racing a redelivered send."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from models import Communication, ProgressClaim, User
from models.base import utcnow
from tests.conftest import wait_for
from tests.test_pipeline import draft, reaches, state_of
from web.emails import cancel_email, send_claim_email
from web.extensions import db
from workers.actors import send_email
from workers.reconciler import sweep


@pytest.fixture
def claim(demo) -> ProgressClaim:
    """The demo's claim 3, as in the pipeline tests."""
    return db.session.get(
        ProgressClaim, demo["projects"][0]["head_contracts"][0]["claims"][2]["id"]
    )


@pytest.fixture
def sender(demo) -> User:
    return db.session.scalar(sa.select(User).where(User.email == "priya.pm@harbourside.example"))


def set_state(email_id: int, **values) -> None:
    """Put the email where a dead worker or a lost broker message would have left it."""
    db.session.execute(sa.update(Communication).where(Communication.id == email_id).values(values))
    db.session.commit()


def statuses(email_id: int) -> dict[str, str]:
    db.session.expire_all()
    return {r.email: r.status for r in db.session.get(Communication, email_id).recipients}


def test_a_send_abandoned_after_some_recipients_were_accepted_goes_only_to_the_rest(
    claim, sender, broker, mail_config, smtp_server, request
):
    greylisted = {"quentin@qs.example": 1}

    class Greylist(type(smtp_server.handler)):
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            if greylisted.get(address, 0) > 0:
                greylisted[address] -= 1
                return "451 4.7.1 Greylisted, try again later"
            return await super().handle_RCPT(server, session, envelope, address, rcpt_options)

    smtp_server.handler.__class__ = Greylist
    mail_config.update(SEND_MIN_BACKOFF_MS=600_000, SEND_MAX_BACKOFF_MS=600_000)
    request.getfixturevalue("worker")
    email = send_claim_email(claim, sender, draft(uploads=[]))
    wait_for(lambda: reaches(email.id, "rendered"), what="the first attempt to end in backoff")
    assert statuses(email.id)["quentin@qs.example"] == "pending"
    broker.flush_all()  # the delayed retry is lost with the broker...
    # ...and the retry's worker had died mid-conversation: the email sits in `sending`.
    set_state(email.id, state="sending", retry_at=None)
    assert sweep(timedelta(0), sending_older_than=timedelta(0)) == [email.id]
    wait_for(lambda: reaches(email.id, "sent"), what="the email to be sent to the rest")
    assert [sorted(r.rcpt_tos) for r in smtp_server.received] == [
        ["olivia@owner.example", "priya.pm@harbourside.example"],
        ["quentin@qs.example"],  # not again to those the server had already accepted
    ]
    assert set(statuses(email.id).values()) == {"accepted"}


def test_an_email_waiting_out_its_retry_time_is_left_alone_by_the_reconciler(claim, sender, broker):
    email = send_claim_email(claim, sender, draft(uploads=[]))
    an_hour_ago = utcnow() - timedelta(hours=1)
    set_state(
        email.id,
        state="rendered",
        state_changed_at=an_hour_ago,
        retry_at=utcnow() + timedelta(minutes=10),  # its delayed send is on the broker
    )
    assert sweep(timedelta(minutes=2)) == []
    assert state_of(email.id) == "rendered"
    set_state(email.id, retry_at=an_hour_ago)  # long past its time: that send was lost
    assert sweep(timedelta(minutes=2)) == [email.id]


def test_a_rendered_email_whose_send_was_lost_is_re_enqueued_and_sent_once(
    claim, sender, broker, smtp_server, request
):
    email = send_claim_email(claim, sender, draft(uploads=[]))
    broker.flush_all()
    set_state(email.id, state="rendered", state_changed_at=utcnow() - timedelta(hours=1))
    request.getfixturevalue("worker")
    assert sweep(timedelta(minutes=2)) == [email.id]
    wait_for(lambda: reaches(email.id, "sent"), what="the re-enqueued email to be sent")
    assert len(smtp_server.received) == 1


def test_cancel_during_backoff_then_a_redelivered_send_sends_nothing(
    claim, sender, broker, mail_config, smtp_server
):
    email = send_claim_email(claim, sender, draft(uploads=[]))
    broker.flush_all()
    set_state(email.id, state="rendered", retry_at=utcnow() + timedelta(minutes=5), attempts=1)
    assert cancel_email(db.session.get(Communication, email.id), "ops@harbourside.example")
    send_email.fn(email.id)  # the delayed send comes due, or is redelivered
    assert state_of(email.id) == "cancelled"
    assert smtp_server.received == [] and smtp_server.handler.data_attempts == 0
    db.session.expire_all()
    events = [e.state for e in db.session.get(Communication, email.id).events]
    assert events[-1] == "cancelled" and "sending" not in events
