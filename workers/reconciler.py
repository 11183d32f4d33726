"""The reconciler: re-enqueue emails stuck in queued/rendered/sending and received mail not yet
processed, so losing the broker (Redis flushed or restarted) loses nothing."""

from datetime import timedelta

from sqlalchemy import or_, select

from models.base import utcnow
from models.communication import Communication, EmailState, move
from models.inbound import InboundMessage, InboundStatus, move_inbound
from web.extensions import db

# A send still `sending` after this long has certainly been abandoned: Dramatiq's time limit
# (10 minutes by default) stops an actor well before, and each SMTP step times out sooner.
SENDING_ABANDONED_AFTER = timedelta(minutes=15)


def sweep(
    older_than: timedelta, sending_older_than: timedelta = SENDING_ABANDONED_AFTER
) -> list[int]:
    """Re-enqueue the emails nobody has moved for `older_than`; return their ids.

    An email abandoned while `sending` (its worker died mid-conversation) goes back to
    `rendered` and is sent again to the recipients not yet accepted: at least once, never lost.
    """
    from workers.actors import render_email, send_email

    now = utcnow()
    cutoff, sending_cutoff = now - older_than, now - sending_older_than
    waiting = (
        Communication.state.in_([EmailState.QUEUED, EmailState.RENDERED])
        & (Communication.state_changed_at < cutoff)
        & or_(Communication.retry_at.is_(None), Communication.retry_at < cutoff)
    )
    abandoned = (Communication.state == EmailState.SENDING) & (
        Communication.state_changed_at < sending_cutoff
    )
    rows = db.session.execute(
        select(Communication.id, Communication.state).where(waiting | abandoned)
    ).all()
    reenqueue = []
    for email_id, state in rows:
        if state != EmailState.SENDING or move(
            db.session,
            email_id,
            {EmailState.SENDING},
            EmailState.RENDERED,
            changed_before=sending_cutoff,
            note="sending was abandoned; sending again",
        ):
            reenqueue.append((email_id, state))
    db.session.commit()
    for email_id, state in reenqueue:
        (render_email if state == EmailState.QUEUED else send_email).send(email_id)
    return [email_id for email_id, _ in reenqueue]


MAX_PROCESSING_ATTEMPTS = 3


def sweep_inbound(
    older_than: timedelta, processing_older_than: timedelta = SENDING_ABANDONED_AFTER
) -> list[int]:
    """Re-enqueue received messages stored but not processed for `older_than`, and those whose
    processing was abandoned (its worker died); one abandoned MAX_PROCESSING_ATTEMPTS times
    (it kills or outlasts every worker) is failed for an operator instead."""
    from workers.actors import process_inbound

    now = utcnow()
    abandoned_before = now - processing_older_than
    rows = db.session.execute(
        select(InboundMessage.id, InboundMessage.status, InboundMessage.processing_attempts).where(
            or_(
                (InboundMessage.status == InboundStatus.STORED)
                & (InboundMessage.status_changed_at < now - older_than),
                (InboundMessage.status == InboundStatus.PROCESSING)
                & (InboundMessage.status_changed_at < abandoned_before),
            )
        )
    ).all()
    ids = []
    for inbound_id, status, attempts in rows:
        if status == InboundStatus.STORED:
            ids.append(inbound_id)
        elif attempts >= MAX_PROCESSING_ATTEMPTS:
            move_inbound(
                db.session,
                inbound_id,
                InboundStatus.PROCESSING,
                InboundStatus.FAILED,
                changed_before=abandoned_before,
                error=f"processing never finished in {attempts} attempts (the worker died or "
                "timed out on it); the raw message is kept: Reprocess to try again",
                processed_at=now,
            )
        elif move_inbound(
            db.session,
            inbound_id,
            InboundStatus.PROCESSING,
            InboundStatus.STORED,
            changed_before=abandoned_before,
        ):
            ids.append(inbound_id)
    db.session.commit()
    for inbound_id in ids:
        process_inbound.send(inbound_id)
    return ids
