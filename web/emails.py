"""Claim emails on the web side: compose and queue, retry, and the JSON resource."""

import logging

from flask import current_app

from models.access import may_see_bcc
from models.communication import Communication, RecipientKind, cancel, retry
from models.company import User
from models.compose import Draft, MailSettings, compose_email
from models.reply_token import reply_address
from models.storage import FileStore
from web.extensions import db

log = logging.getLogger(__name__)


def mail_settings() -> MailSettings:
    config = current_app.config
    return MailSettings(
        secret_key=config["SECRET_KEY"],
        mail_domain=config["MAIL_DOMAIN"],
        max_attachment_bytes=config["MAX_ATTACHMENT_BYTES"],
    )


def file_store() -> FileStore:
    return FileStore(current_app.config["STORAGE_DIR"])


def _enqueue_render(email_id: int) -> None:
    """Enqueue after the commit; if the broker is down, the email is safe in the database and
    the reconciler enqueues it later, so the user is not told it failed (and sends no copy)."""
    from workers.actors import render_email

    try:
        render_email.send(email_id)
    except Exception:
        log.warning("could not enqueue email %s; the reconciler will", email_id, exc_info=True)


def send_claim_email(claim, sender, draft: Draft) -> Communication:
    """Create the email in one transaction, commit, then enqueue it (a worker never sees an
    uncommitted row). Raises ComposeError / PermissionDenied, creating nothing."""
    try:
        email = compose_email(db.session, claim, sender, draft, mail_settings(), file_store())
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    _enqueue_render(email.id)
    return email


def retry_email(email: Communication, operator: str) -> bool:
    """Operator Retry: failed -> queued, then enqueue. False if the email was not failed."""
    if not retry(db.session, email.id, operator):
        db.session.rollback()
        return False
    db.session.commit()
    _enqueue_render(email.id)
    return True


def cancel_email(email: Communication, operator: str) -> bool:
    """Operator Cancel: queued/failed -> cancelled. False if it had moved on."""
    if not cancel(db.session, email.id, operator):
        db.session.rollback()
        return False
    db.session.commit()
    return True


def _time(value) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def email_resource(email: Communication, viewer: User) -> dict:
    """The email as the API shows it to `viewer` (CONTRACT.md's email resource); Bcc
    recipients only to those who may see them."""
    show_bcc = may_see_bcc(viewer, email)
    return {
        "id": email.id,
        "claim_id": email.claim_id,
        "state": email.state,
        "subject": email.subject,
        "private": email.private,
        "message_id": email.message_id,
        # The SHA-256 of the exact bytes as sent (null until the first send attempt).
        "raw_sha256": email.raw_sha256,
        "reply_address": reply_address(email.reply_token, current_app.config["REPLY_DOMAIN"]),
        "sender": {"name": email.sender.name, "email": email.sender.email},
        "message": email.message,
        "attempts": email.attempts,
        "last_error": email.last_error,
        "recipients": [
            {
                "email": r.email,
                "name": r.name,
                "kind": r.kind,
                "status": r.status,
                "detail": r.detail,
            }
            for r in email.recipients
            if r.kind != RecipientKind.BCC or show_bcc
        ],
        "attachments": [
            {"filename": a.filename, "size": a.size, "sha256": a.sha256} for a in email.attachments
        ],
        "events": [
            {"state": e.state, "at": _time(e.at), "actor": e.actor, "note": e.note}
            for e in email.events
        ],
        "replies": [reply_resource(reply) for reply in email.replies],
    }


def reply_resource(reply) -> dict:
    """A reply as the API shows it: the stripped text, the whole text, and what it decided."""
    return {
        "id": reply.id,
        "from": reply.from_address,
        "name": reply.from_name,
        "received_at": _time(reply.received_at),
        "text": reply.text,
        "full_text": reply.full_text,
        "sender_verified": reply.sender_verified,
        "kind": reply.kind,
        "decision": reply.decision,
        "reason": reply.reason,
        "attachments": [
            {"filename": a.filename, "size": a.size, "sha256": a.sha256, "refused": a.refused}
            for a in reply.attachments
        ],
    }
