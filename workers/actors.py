"""Dramatiq actors: thin steps that load an email by id, call the domain, and commit.

Import this module only after workers.broker.setup_broker (web.create_app does).
"""

from datetime import timedelta

import dramatiq
from flask import current_app

from models.base import utcnow
from models.communication import Communication, DeliveryStatus, EmailState, move
from models.storage import FileStore
from web.extensions import db
from workers.broker import current_broker
from workers.delivery import backoff_ms, send_now
from workers.errors import EmailDoesNotExist, PermanentDeliveryError, TransientDeliveryError
from workers.render import snapshot

current_broker()  # fails loudly if this module is imported before the broker is set up

# Our own attempt counter in the database decides when sending fails; Dramatiq only carries
# the retries, so its limit is just a backstop against a message looping for ever.
BACKSTOP_RETRIES = 100


def _load(email_id: int) -> Communication:
    email = db.session.get(Communication, email_id)
    if email is None:
        raise EmailDoesNotExist(f"email {email_id} does not exist")
    return email


@dramatiq.actor(actor_name="email.render", queue_name="email", max_retries=BACKSTOP_RETRIES)
def render_email(email_id: int) -> None:
    """queued -> rendered: snapshot the claim's Detail as HTML and text, then queue the send."""
    email = _load(email_id)
    if email.state != EmailState.QUEUED:
        return
    # An email retried after failing keeps the snapshot it was first rendered with.
    values = {} if email.snapshot_sha256 else snapshot(email)
    if not move(db.session, email_id, {EmailState.QUEUED}, EmailState.RENDERED, **values):
        db.session.rollback()
        return
    db.session.commit()
    send_email.send(email_id)


@dramatiq.actor(actor_name="email.send", queue_name="email", max_retries=BACKSTOP_RETRIES)
def send_email(email_id: int) -> None:
    """rendered -> sending -> sent; transient trouble goes back to rendered and retries."""
    email = _load(email_id)
    if not move(db.session, email_id, {EmailState.RENDERED}, EmailState.SENDING,
                attempts=Communication.attempts + 1, retry_at=None):
        db.session.rollback()
        return  # already being sent, sent, or cancelled: a redelivery is a no-op
    db.session.commit()
    db.session.refresh(email)
    config = current_app.config
    try:
        refused, headers = send_now(email, config["SMTP_URL"], config["REPLY_DOMAIN"],
                           FileStore(config["STORAGE_DIR"]))
    except TransientDeliveryError as exc:
        _after_transient_trouble(email, str(exc))
        return
    except PermanentDeliveryError as exc:
        _record_refusals(email, str(exc))
        move(db.session, email_id, {EmailState.SENDING}, EmailState.FAILED, last_error=str(exc),
             note=str(exc))
        db.session.commit()
        return
    for recipient in email.recipients:
        code, text = refused.get(recipient.email, (250, "accepted"))
        recipient.status = DeliveryStatus.ACCEPTED if code < 400 else DeliveryStatus.REJECTED
        recipient.detail = f"{code} {text}"
    move(db.session, email_id, {EmailState.SENDING}, EmailState.SENT,
         sent_at=utcnow(), last_error=None, headers_text=headers)
    db.session.commit()


def _record_refusals(email: Communication, detail: str) -> None:
    for recipient in email.recipients:
        recipient.status = DeliveryStatus.REJECTED
        recipient.detail = detail


def _after_transient_trouble(email: Communication, error: str) -> None:
    config = current_app.config
    if email.attempts >= config["SEND_MAX_ATTEMPTS"]:
        move(db.session, email.id, {EmailState.SENDING}, EmailState.FAILED, last_error=error,
             note=f"gave up after {email.attempts} attempts: {error}")
        db.session.commit()
        return
    delay = backoff_ms(email.attempts, config["SEND_MIN_BACKOFF_MS"],
                       config["SEND_MAX_BACKOFF_MS"])
    move(db.session, email.id, {EmailState.SENDING}, EmailState.RENDERED, last_error=error,
         retry_at=utcnow() + timedelta(milliseconds=delay),
         note=f"attempt {email.attempts}: {error}; retrying")
    db.session.commit()
    raise dramatiq.Retry(f"email {email.id}: {error}", delay=delay)
