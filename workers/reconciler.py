"""The reconciler: re-enqueue emails stuck in queued/rendered/sending and received mail not yet
processed, so losing the broker (Redis flushed or restarted) loses nothing."""

from collections.abc import Mapping
from datetime import timedelta

from flask import current_app
from sqlalchemy import or_, select

from models.base import utcnow
from models.communication import Communication, EmailState, move
from models.inbound import InboundMessage, InboundStatus, Reply, ReplyKind, move_inbound
from web.extensions import db
from workers.smtp import parse_smtp_url


def sending_abandoned_after(config: Mapping) -> timedelta:
    """How long an email may sit in `sending` before it has certainly been abandoned.

    A live send cannot stay longer than Dramatiq's time limit (WORKER_TIME_LIMIT_SECONDS)
    plus one SMTP time-out: the limit interrupts the actor as soon as its blocking call
    returns, and no call waits on the server longer than the time-out. RECONCILE_AFTER_SECONDS
    governs when it is longer."""
    in_flight = config["WORKER_TIME_LIMIT_SECONDS"] + parse_smtp_url(config["SMTP_URL"]).timeout
    return timedelta(seconds=max(config["RECONCILE_AFTER_SECONDS"], in_flight))


def processing_abandoned_after(config: Mapping) -> timedelta:
    """How long received mail may sit in `processing` before its worker has certainly died."""
    return timedelta(
        seconds=max(config["RECONCILE_AFTER_SECONDS"], config["WORKER_TIME_LIMIT_SECONDS"])
    )


def recovery_bound(config: Mapping) -> timedelta:
    """The longest an email abandoned in `sending` waits: until it counts as abandoned, plus
    one interval of the periodic sweep."""
    return sending_abandoned_after(config) + timedelta(seconds=config["SWEEP_INTERVAL_SECONDS"])


def sweep(older_than: timedelta, sending_older_than: timedelta | None = None) -> list[int]:
    """Re-enqueue the emails nobody has moved for `older_than`; return their ids. Emails
    left `sent` with a reply on record are moved to `replied`.

    An email abandoned while `sending` (its worker died mid-conversation) goes back to
    `rendered` and is sent again to the recipients not yet accepted: at least once, never lost.
    """
    from workers.actors import render_email, send_email

    if sending_older_than is None:
        sending_older_than = sending_abandoned_after(current_app.config)
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
    _settle_replied()
    db.session.commit()
    for email_id, state in reenqueue:
        (render_email if state == EmailState.QUEUED else send_email).send(email_id)
    return [email_id for email_id, _ in reenqueue]


def _settle_replied() -> None:
    """sent -> replied for emails with a reply on record: the send and the reply's processing
    each make this move after their own commit, and a worker killed between the two commits
    leaves it undone."""
    answered = select(Reply.id).where(
        Reply.communication_id == Communication.id, Reply.kind == ReplyKind.REPLY
    )
    query = select(Communication.id).where(Communication.state == EmailState.SENT)
    for email_id in db.session.scalars(query.where(answered.exists())).all():
        move(db.session, email_id, {EmailState.SENT}, EmailState.REPLIED, note="reply on record")


MAX_PROCESSING_ATTEMPTS = 3


def sweep_inbound(
    older_than: timedelta, processing_older_than: timedelta | None = None
) -> list[int]:
    """Re-enqueue received messages stored but not processed for `older_than`, and those whose
    processing was abandoned (its worker died); one abandoned MAX_PROCESSING_ATTEMPTS times
    (it kills or outlasts every worker) is failed for an operator instead."""
    from workers.actors import process_inbound

    if processing_older_than is None:
        processing_older_than = processing_abandoned_after(current_app.config)
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
