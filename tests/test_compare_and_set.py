"""The compare-and-set helpers every transition goes through: `move` (emails), `move_inbound`
and `claim_inbound` (received mail) and `move_claim_status` (claims). Each moves only from the
expected state, says whether it did, and loses to a concurrent session that moved first."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from models import ClaimStatus, Communication, EmailEvent, InboundMessage, ProgressClaim, User
from models.base import utcnow
from models.claim import ClaimEvent, move_claim_status
from models.communication import EmailState, move
from models.compose import Draft
from models.errors import ClaimRuleError
from models.inbound import InboundStatus, claim_inbound, move_inbound
from tests.test_scale import recorded
from web.emails import send_claim_email
from web.extensions import db


@pytest.fixture
def claim(demo) -> ProgressClaim:
    return db.session.get(
        ProgressClaim, demo["projects"][0]["head_contracts"][0]["claims"][2]["id"]
    )


@pytest.fixture
def email(claim, broker) -> Communication:
    """A queued email (no worker runs: nothing else moves it)."""
    sender = db.session.scalar(sa.select(User).where(User.email == "priya.pm@harbourside.example"))
    return send_claim_email(claim, sender, Draft(to=["olivia@owner.example"]))


def events_of(email_id: int) -> list[tuple[str, str, str]]:
    query = sa.select(EmailEvent).where(EmailEvent.communication_id == email_id)
    return [(e.state, e.actor, e.note) for e in db.session.scalars(query.order_by(EmailEvent.id))]


def stored_state(email_id: int) -> str:
    db.session.expire_all()
    return db.session.get(Communication, email_id).state


def test_move_from_an_expected_state_sets_the_values_and_records_the_event(email):
    queued, failed = {EmailState.QUEUED}, EmailState.FAILED
    moved = move(db.session, email.id, queued, failed, actor="ops", note="why", last_error="why")
    db.session.commit()
    assert moved and stored_state(email.id) == "failed"
    assert db.session.get(Communication, email.id).last_error == "why"
    assert events_of(email.id)[-1] == ("failed", "ops", "why")


def test_move_from_another_state_changes_nothing_and_records_nothing(email):
    before = events_of(email.id)
    assert not move(db.session, email.id, {EmailState.SENT}, EmailState.REPLIED)
    assert not move(db.session, email.id + 1000, {EmailState.QUEUED}, EmailState.FAILED)
    db.session.commit()
    assert stored_state(email.id) == "queued" and events_of(email.id) == before


def test_move_with_changed_before_and_where_moves_only_when_those_hold(email):
    an_hour_ago = utcnow() - timedelta(hours=1)
    queued = {EmailState.QUEUED}
    assert not move(db.session, email.id, queued, EmailState.FAILED, changed_before=an_hour_ago)
    where = (Communication.raw_sha256.is_not(None),)  # not built yet: the condition fails
    assert not move(db.session, email.id, queued, EmailState.FAILED, where=where)
    assert move(db.session, email.id, queued, EmailState.FAILED, changed_before=utcnow())
    db.session.commit()
    assert stored_state(email.id) == "failed"


def test_of_two_sessions_that_both_saw_it_queued_only_the_first_moves_it(app, email):
    with Session(db.engine) as other:
        assert other.get(Communication, email.id).state == "queued"  # both have read it
        assert move(db.session, email.id, {EmailState.QUEUED}, EmailState.CANCELLED)
        db.session.commit()
        assert not move(other, email.id, {EmailState.QUEUED}, EmailState.RENDERED)
        other.commit()
    assert stored_state(email.id) == "cancelled"
    assert [state for state, _, _ in events_of(email.id)] == ["queued", "cancelled"]


@pytest.fixture
def received(ctx) -> InboundMessage:
    message = InboundMessage(
        dedupe_key="<cas@owner.example>", raw_sha256="0" * 64, size=0, via="ingest"
    )
    db.session.add(message)
    db.session.commit()
    return message


def stored_status(message_id: int) -> str:
    db.session.expire_all()
    return db.session.get(InboundMessage, message_id).status


def test_move_inbound_moves_once_from_the_expected_status(received):
    stored, processing = InboundStatus.STORED, InboundStatus.PROCESSING
    assert move_inbound(db.session, received.id, stored, processing, processing_attempts=1)
    assert not move_inbound(db.session, received.id, stored, processing)  # a second worker
    db.session.commit()
    assert stored_status(received.id) == "processing"
    assert db.session.get(InboundMessage, received.id).processing_attempts == 1


def test_claim_inbound_claims_once_and_hands_back_the_message_as_claimed(received):
    """A worker's claim is one statement, which returns the message as it now is: the
    worker processes that, without reading it again (one query fewer per reply)."""
    received_id = received.id
    db.session.expunge_all()  # nothing of it loaded, as in a worker's fresh session
    with recorded() as statements:
        claimed = claim_inbound(db.session, received_id)
        assert (claimed.id, claimed.status, claimed.processing_attempts) == (
            received_id,
            "processing",
            1,
        )
        assert (claimed.dedupe_key, claimed.via) == ("<cas@owner.example>", "ingest")
    assert len(statements) == 1
    assert claim_inbound(db.session, received_id) is None  # a second worker, or a redelivery
    db.session.commit()
    assert stored_status(received_id) == "processing"
    assert db.session.get(InboundMessage, received_id).processing_attempts == 1


def test_claim_inbound_hands_back_the_claimed_values_over_a_copy_already_loaded(received):
    """The session had read the message as stored (as intake leaves it, in tests and the
    CLI): the claim still hands back what it wrote, not the copy it had."""
    before = received.status_changed_at
    assert received.status == "stored"
    claimed = claim_inbound(db.session, received.id)
    assert claimed is received
    assert (claimed.status, claimed.processing_attempts) == ("processing", 1)
    assert claimed.status_changed_at >= before


def test_move_inbound_with_changed_before_leaves_a_fresh_one_alone(received):
    stored, failed = InboundStatus.STORED, InboundStatus.FAILED
    an_hour_ago = utcnow() - timedelta(hours=1)
    assert not move_inbound(db.session, received.id, stored, failed, changed_before=an_hour_ago)
    assert move_inbound(db.session, received.id, stored, failed, changed_before=utcnow())
    db.session.commit()
    assert stored_status(received.id) == "failed"


def test_move_claim_status_loses_to_a_change_made_meanwhile(claim):
    with Session(db.engine) as other:
        theirs = other.get(ProgressClaim, claim.id)
        assert theirs.status == "draft"
        move_claim_status(db.session, claim, ClaimStatus.UNDER_REVIEW, actor="pm")
        db.session.commit()
        with pytest.raises(ClaimRuleError, match="changed status meanwhile"):
            move_claim_status(other, theirs, ClaimStatus.UNDER_REVIEW)
    with pytest.raises(ClaimRuleError, match="changed status meanwhile"):
        move_claim_status(db.session, claim, ClaimStatus.APPROVED, seen="draft")  # stale page
    db.session.expire_all()
    assert db.session.get(ProgressClaim, claim.id).status == "under_review"
    query = sa.select(ClaimEvent.status).where(ClaimEvent.claim_id == claim.id)
    assert db.session.scalars(query).all() == ["under_review"]
