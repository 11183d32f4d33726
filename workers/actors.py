"""Dramatiq actors: thin steps that load an email by id, call the domain, and commit.

Import this module only after workers.broker.setup_broker (web.create_app does).
"""

from datetime import timedelta

import dramatiq
from flask import current_app
from sqlalchemy import update
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.expression import ClauseElement

from models.base import commit_keeping_loaded, storable, utcnow
from models.claim import ProgressClaim
from models.communication import (
    UNDELIVERED,
    Communication,
    DeliveryStatus,
    EmailState,
    Recipient,
    move,
)
from models.contract import HeadContract
from models.failures import NO_FAILURE, Failure, FailureKind
from models.inbound import InboundMessage, InboundStatus, claim_inbound
from models.project import Project
from models.reminders import moot
from models.storage import FileStore
from web.extensions import db
from workers import metrics
from workers.broker import current_broker
from workers.delivery import backoff_ms, message_as_sent, message_bytes, send_now
from workers.errors import (
    DeliveryError,
    EmailDoesNotExist,
    TransientDeliveryError,
    is_transient,
    retry_when,
)
from workers.failures import deferred_recipients, delivery_failure, own_failure
from workers.render import render
from workers.replies import mark_replied_if_answered, process
from workers.smtp import Delivery, ServerReply, parse_smtp_url

current_broker()  # fails loudly if this module is imported before the broker is set up


def _contract_graph():
    """What the claim's figures read of its contract: its lines, change orders, and every
    claim of it with their lines (a late claim would otherwise load each earlier one's); and
    the client the PDF is addressed to."""
    contract = joinedload(Communication.claim).joinedload(ProgressClaim.head_contract)
    return (
        contract.joinedload(HeadContract.project).joinedload(Project.company),
        contract.joinedload(HeadContract.client_contact),
        contract.selectinload(HeadContract.lines),
        contract.selectinload(HeadContract.change_orders),
        contract.selectinload(HeadContract.claims).selectinload(ProgressClaim.lines),
    )


# What rendering the snapshot and building the message read, loaded together in a few
# queries rather than one lazy load at a time (a third of the render step in the profile).
EMAIL_GRAPH = (
    *_contract_graph(),
    joinedload(Communication.sender),
    selectinload(Communication.recipients),
    selectinload(Communication.attachments),
)


def _load(email_id: int, graph: tuple = ()) -> Communication:
    email = db.session.get(Communication, email_id, options=graph)
    if email is None:
        raise EmailDoesNotExist(f"email {email_id} does not exist")
    return email


@dramatiq.actor(actor_name="email.render", queue_name="email", retry_when=retry_when)
def render_email(email_id: int) -> None:
    """queued -> rendered -> sending: snapshot the claim's Detail as HTML, text and its PDF,
    and go straight on to the first send attempt (both moves in one commit, no second message
    on the broker). A later attempt is email.send's."""
    email = _load(email_id, EMAIL_GRAPH)
    if email.state != EmailState.QUEUED:
        return
    try:
        # An email retried after failing keeps the snapshot it was first rendered with.
        values = {}
        if not email.snapshot_sha256:
            with metrics.timed("render", email.claim.project.company_id):
                values = render(email, FileStore(current_app.config["STORAGE_DIR"]))
    except Exception as exc:
        db.session.rollback()
        if is_transient(exc):
            raise  # trouble of ours (database, disk): Dramatiq retries with backoff
        # the rendering itself breaks: fail visibly, never loop
        error = f"rendering failed: {type(exc).__name__}: {exc}"
        move(
            db.session,
            email_id,
            {EmailState.QUEUED},
            EmailState.FAILED,
            last_error=error,
            note=error,
            **Failure(FailureKind.INTERNAL).columns(),
        )
        db.session.commit()
        return
    for name, value in values.items():  # the message is built from the new snapshot
        set_committed_value(email, name, value)
    try:
        _attempt(email, rendered=values)
    except dramatiq.Retry as retry:
        # The next attempt is a send of its own; should the broker not take it, the email
        # waits in `rendered` with its retry time for the reconciler.
        send_email.send_with_options(args=(email_id,), delay=retry.delay)


@dramatiq.actor(actor_name="email.send", queue_name="email", retry_when=retry_when)
def send_email(email_id: int) -> None:
    """rendered -> sending -> sent: another attempt after transient trouble (or one the
    reconciler re-enqueued)."""
    email = _load(email_id, EMAIL_GRAPH)
    if email.state != EmailState.RENDERED:
        return  # already being sent, sent, or cancelled: a redelivery is a no-op
    _attempt(email, rendered=None)


def _attempt(email: Communication, rendered: dict | None) -> None:
    """One send attempt, to every recipient the server has not accepted yet; transient
    trouble (for the message or for some recipients) goes back to rendered and retries
    those; anything else fails the email with the error, never loops.

    The first attempt builds the message and stores its bytes before it talks to the server;
    every later attempt sends those same bytes. `rendered` holds the snapshot when the email
    is still queued: it moves to rendered in the same commit as to sending."""
    email_id = email.id
    why = moot(db.session, email)  # a reminder is never sent after an answer
    if why is None and email.cancel_requested_at is not None:
        why = "cancelled as an operator asked during an earlier attempt"  # never retried
    if why is not None:
        move(
            db.session,
            email_id,
            {EmailState.QUEUED, EmailState.RENDERED},
            EmailState.CANCELLED,
            note=why,
        )
        db.session.commit()
        return
    config = current_app.config
    store = FileStore(config["STORAGE_DIR"])
    built, build_error, where = {}, None, ()
    if email.raw_sha256 is None:
        try:  # built and stored before any lock is taken: a commit holds SQLite's one lock
            built = message_as_sent(email, config["REPLY_DOMAIN"], store, config["SECRET_KEY"])
            # Another worker that built it first keeps its bytes: this one then moves nothing.
            where = (Communication.raw_sha256.is_(None),)
        except Exception as exc:  # a fault of ours (a missing file...): fail it, below
            build_error = exc
    if rendered is not None and not move(
        db.session, email_id, {EmailState.QUEUED}, EmailState.RENDERED, **rendered
    ):
        db.session.rollback()
        return
    sending = {"attempts": Communication.attempts + 1, "retry_at": None, **built}
    if not move(
        db.session,
        email_id,
        {EmailState.RENDERED},
        EmailState.SENDING,
        where=(*where, NO_CANCEL_REQUEST),
        **sending,
    ):
        db.session.rollback()
        return  # already being sent, sent, or cancelled: a redelivery is a no-op
    _commit_keeping_loaded(email, written=sending)
    pending = [r for r in email.recipients if r.status in UNDELIVERED]
    try:
        if build_error is not None:
            raise build_error
        with metrics.timed("send", email.claim.project.company_id):
            delivery = send_now(
                email,
                message_bytes(email, config["REPLY_DOMAIN"], store, config["SECRET_KEY"]),
                [r.email for r in pending],
                config["SMTP_URL"],
                config["REPLY_DOMAIN"],
            )
    except TransientDeliveryError as exc:
        _record_replies(pending, exc.replies)
        _after_transient_trouble(email, str(exc), delivery_failure(exc, _server_name()))
        return
    except DeliveryError as exc:  # a 5xx for all: fail visibly, do not loop
        _fail(email, pending, exc, delivery_failure(exc, _server_name()))
        return
    except Exception as exc:  # a fault of ours: fail visibly, do not loop
        _fail(email, pending, exc, own_failure(exc, email, store))
        return
    _record_results(pending, delivery)
    deferred = [r for r in pending if r.status == DeliveryStatus.PENDING]
    if deferred:
        _set_sent_at(email_id)
        still_pending = [r.email for r in deferred]
        _after_transient_trouble(
            email,
            f"will retry {', '.join(still_pending)}",
            deferred_recipients(still_pending, [r.smtp_reply or "" for r in deferred]),
        )
        return
    sent = {"last_error": None, "sent_at": utcnow(), **NO_FAILURE}
    # Most emails have no cancel request: their move is the first statement's.
    if not move(
        db.session,
        email_id,
        {EmailState.SENDING},
        EmailState.SENT,
        where=(NO_CANCEL_REQUEST,),
        **sent,
    ):
        move(
            db.session,
            email_id,
            {EmailState.SENDING},
            EmailState.SENT,
            where=(CANCEL_REQUESTED,),
            note="the mail server took it before the cancel request could stop it",
            **sent,
        )
    db.session.commit()
    mark_replied_if_answered(email_id)  # one came back while it was being sent


def _commit_keeping_loaded(email: Communication, written: dict) -> None:
    """Commit the move to sending without forgetting what was loaded: the email's claim and
    contract, its files and the recipients this attempt sends to cannot have changed
    meanwhile (the move was a compare-and-set: no other attempt is under way; a bounce marks
    only a recipient accepted before, whom this attempt leaves alone), so only the columns
    the move wrote are read again, when next asked, but for those it wrote as plain values
    (the stored message's hash, its headers), which the email takes as written, as it took
    the snapshot. Reloading the whole graph after the commit was a tenth of the worker's
    time; reading back the message's hash, which every send asks for, a query more."""
    commit_keeping_loaded(db.session())
    computed = ["state", "state_changed_at"]
    for name, value in written.items():
        if isinstance(value, ClauseElement):
            computed.append(name)
        else:
            set_committed_value(email, name, value)
    db.session.expire(email, computed)


def _set_sent_at(email_id: int) -> None:
    db.session.execute(
        update(Communication).where(Communication.id == email_id).values(sent_at=utcnow())
    )


def _record_results(pending: list[Recipient], delivery: Delivery) -> None:
    """Accepted (with the server's reply to DATA, its time and queue id), refused for good
    (5xx), or still pending (4xx: tried again later)."""
    for recipient in pending:
        reply = delivery.recipients[recipient.email]
        if reply.accepted:
            recipient.status = DeliveryStatus.ACCEPTED
            recipient.smtp_reply = storable(delivery.data.line)
            recipient.accepted_at = delivery.data.at
            recipient.queue_id = storable(delivery.queue_id) or None
        else:
            recipient.status = (
                DeliveryStatus.PENDING if reply.code < 500 else DeliveryStatus.REJECTED
            )
            recipient.smtp_reply = storable(reply.line)
        recipient.detail = recipient.smtp_reply


def _record_replies(pending: list[Recipient], replies: dict[str, ServerReply]) -> None:
    """What the server said to each recipient of a message it did not take."""
    for recipient in pending:
        if (reply := replies.get(recipient.email)) is not None:
            recipient.smtp_reply = recipient.detail = storable(reply.line)


# An operator's Cancel of an email being sent is a request that wins when the attempt ends
# (models/communication.py cancel); each end of an attempt checks it in its compare-and-set.
CANCEL_REQUESTED = Communication.cancel_requested_at.is_not(None)
NO_CANCEL_REQUEST = Communication.cancel_requested_at.is_(None)


def _ended_as_requested(email: Communication, error: str, failure: Failure) -> bool:
    """The attempt ended without the server taking the email (for some recipients at least)
    and an operator asked to cancel it meanwhile: it is not tried again. One that went out to
    some recipients is sent (to them), never "cancelled" after going out."""
    went_out = any(r.status == DeliveryStatus.ACCEPTED for r in email.recipients)
    if not move(
        db.session,
        email.id,
        {EmailState.SENDING},
        EmailState.SENT if went_out else EmailState.CANCELLED,
        where=(CANCEL_REQUESTED,),
        last_error=error,
        retry_at=None,
        note=f"not tried again, as an operator asked during the attempt: {error}",
        **failure.columns(),
    ):
        return False
    db.session.commit()
    return True


def _server_name() -> str:
    return parse_smtp_url(current_app.config["SMTP_URL"]).host


def _fail(email: Communication, pending: list[Recipient], exc: Exception, failure: Failure) -> None:
    """The email failed for good. A recipient is marked rejected only where their server
    refused them (its 5xx); a fault of ours, or a server never reached, leaves them pending."""
    error = str(exc) if isinstance(exc, DeliveryError) else f"{type(exc).__name__}: {exc}"
    replies = exc.replies if isinstance(exc, DeliveryError) else {}
    for recipient in pending:
        reply = replies.get(recipient.email)
        if reply is not None and 500 <= reply.code < 600:
            recipient.status = DeliveryStatus.REJECTED
    _record_replies(pending, replies)
    if _ended_as_requested(email, error, failure):
        return
    move(
        db.session,
        email.id,
        {EmailState.SENDING},
        EmailState.FAILED,
        last_error=error,
        note=error,
        **failure.columns(),
    )
    db.session.commit()


def _after_transient_trouble(email: Communication, error: str, failure: Failure) -> None:
    if _ended_as_requested(email, error, failure):
        return
    config = current_app.config
    if email.attempts >= config["SEND_MAX_ATTEMPTS"]:
        move(
            db.session,
            email.id,
            {EmailState.SENDING},
            EmailState.FAILED,
            last_error=error,
            note=f"gave up after {email.attempts} attempts: {error}",
            **failure.columns(),
        )
        db.session.commit()
        return
    delay = backoff_ms(email.attempts, config["SEND_MIN_BACKOFF_MS"], config["SEND_MAX_BACKOFF_MS"])
    if not move(
        db.session,
        email.id,
        {EmailState.SENDING},
        EmailState.RENDERED,
        where=(NO_CANCEL_REQUEST,),
        last_error=error,
        retry_at=utcnow() + timedelta(milliseconds=delay),
        note=f"attempt {email.attempts}: {error}; retrying",
        **failure.columns(),
    ):  # a cancel request came in between: it wins
        _ended_as_requested(email, error, failure)
        return
    db.session.commit()
    metrics.count_retry(email.claim.project.company_id)
    raise dramatiq.Retry(f"email {email.id}: {error}", delay=delay)


@dramatiq.actor(actor_name="inbound.process", queue_name="inbound", retry_when=retry_when)
def process_inbound(inbound_id: int) -> None:
    """stored -> processing -> matched / unmatched / auto_reply / bounce. Trouble of ours
    (database, disk) is retried; a message that breaks the processing itself is kept as
    `failed` with the error, for an operator."""
    inbound = claim_inbound(db.session, inbound_id)
    if inbound is None:
        db.session.rollback()
        return  # gone, being processed, or processed: a redelivery is a no-op
    # Kept loaded as claimed, as a read after the commit would find it: while it is
    # `processing`, only the reconciler moves it, once abandoned past the recovery bound.
    commit_keeping_loaded(db.session())
    try:
        # What processing changes is written at the commit, not by an autoflush at its first
        # query: on SQLite the first write takes the one write lock, which parsing, matching
        # and storing attachments would then hold (a fifth of the worker's time, waiting).
        with db.session.no_autoflush:
            to_look_at = process(inbound)
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        if is_transient(exc):
            _set_inbound_status(inbound_id, InboundStatus.STORED, None)
            raise  # Dramatiq retries with backoff; the reconciler covers a lost message
        # the message itself is the trouble: keep it, say why
        _set_inbound_status(inbound_id, InboundStatus.FAILED, f"{type(exc).__name__}: {exc}")
    else:
        if to_look_at is not None:
            mark_replied_if_answered(to_look_at)


def _set_inbound_status(inbound_id: int, status: InboundStatus, error: str | None) -> None:
    inbound = db.session.get(InboundMessage, inbound_id)
    inbound.set_status(status)
    if status == InboundStatus.FAILED:
        inbound.error, inbound.processed_at = storable(error), utcnow()
    db.session.commit()
