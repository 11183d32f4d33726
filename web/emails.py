"""Claim emails on the web side: compose and queue, retry, and the JSON resource."""

import logging
from datetime import UTC

from flask import current_app
from sqlalchemy.orm.attributes import set_committed_value

from models.access import hide_bcc, may_see_bcc
from models.base import commit_keeping_loaded
from models.claim import ClaimStatus, move_claim_status
from models.communication import CancelOutcome, Communication, RecipientKind, cancel, retry
from models.company import User
from models.compose import Draft, MailSettings, compose_email
from models.errors import ClaimRuleError
from models.reply_token import reply_address
from models.service import as_utc
from models.storage import FileStore
from web.email_words import event_note, failure_detail, failure_words
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


def send_claim_email(
    claim, sender, draft: Draft, idempotency_key: str | None = None
) -> Communication:
    """Create the email in one transaction, commit, then enqueue it (a worker never sees an
    uncommitted row). Emailing a draft claim submits it: it moves to Under Review in the same
    transaction. Raises ComposeError / PermissionDenied / ClaimRuleError, creating nothing;
    IntegrityError when the sender's `idempotency_key` named an email meanwhile."""
    try:
        email = compose_email(db.session, claim, sender, draft, mail_settings(), file_store())
        email.idempotency_key = idempotency_key
        if claim.status == ClaimStatus.DRAFT:
            try:
                move_claim_status(
                    db.session,
                    claim,
                    ClaimStatus.UNDER_REVIEW,
                    seen=ClaimStatus.DRAFT,
                    actor=sender.name,
                    note="submitted by emailing it to the client",
                )
            except ClaimRuleError:
                # Another email of this draft submitted it at the same moment (two sends at
                # once): it has left draft, as this send would have made it; send this one too.
                if claim.status == ClaimStatus.DRAFT:  # re-read from the database
                    raise
        # The caller answers with the email as created: the rows it wrote stay loaded (nobody
        # else has touched them yet) and a new email has no replies to look up. The claim is
        # read again when next asked: its status and events may have moved with the send.
        commit_keeping_loaded(db.session())
        set_committed_value(email, "replies", [])
        db.session.expire(claim)
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


def cancel_email(email: Communication, operator: str) -> CancelOutcome | None:
    """Operator Cancel: queued/rendered/failed -> cancelled, or a cancel request on one being
    sent (models/communication.py cancel). None if it had moved on."""
    outcome = cancel(db.session, email.id, operator)
    if outcome is None:
        db.session.rollback()
        return None
    db.session.commit()
    return outcome


def _amount(value) -> str | None:
    return None if value is None else f"{value:.2f}"


def utc_time(value) -> str | None:
    """A stored time as the API writes times: ISO 8601 in UTC, "2026-12-01T03:04:05Z"."""
    if value is None:
        return None
    return as_utc(value).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def email_resource(email: Communication, viewer: User) -> dict:
    """The email as the API shows it to `viewer` (CONTRACT.md's email resource); Bcc
    recipients only to those who may see them."""
    show_bcc = may_see_bcc(viewer, email)

    def shown(text: str | None) -> str | None:
        return hide_bcc(viewer, email, text)

    return {
        "id": email.id,
        "claim_id": email.claim_id,
        "kind": email.kind,
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
        # The last failure in words; its technical detail only for those who operate it.
        "last_error": failure_words(email, viewer) or None,
        "last_error_kind": email.failure_kind,
        "last_error_detail": failure_detail(email, viewer),
        "cancel_requested_at": utc_time(email.cancel_requested_at),
        "recipients": [
            {
                "email": r.email,
                "name": r.name,
                "kind": r.kind,
                "status": r.status,  # what their server said (pending: nothing yet)
                "detail": shown(r.detail),
            }
            for r in email.recipients
            if r.kind != RecipientKind.BCC or show_bcc
        ],
        "attachments": [
            {"filename": a.filename, "size": a.size, "sha256": a.sha256, "generated": a.generated}
            for a in email.attachments
        ],
        "events": [
            {
                "state": e.state,
                "at": utc_time(e.at),
                "actor": e.actor,
                "note": event_note(e, email, viewer),
            }
            for e in email.events
        ],
        "replies": [reply_resource(reply, shown) for reply in email.replies],
    }


def reply_resource(reply, shown) -> dict:
    """A reply as the API shows it: the stripped text, the whole text, and what it decided
    (`shown` hides Bcc addresses from a viewer who may not see them)."""
    return {
        "id": reply.id,
        "via": reply.via,
        "from": reply.from_address,
        "name": reply.from_name,
        "received_at": utc_time(reply.received_at),
        "dated_at": utc_time(reply.dated_at),
        "text": shown(reply.text),
        "full_text": shown(reply.full_text),
        "forwarded": shown(reply.forwarded),
        "sender_verified": reply.sender_verified,
        "sender_authenticated": reply.sender_authenticated,
        "kind": reply.kind,
        "read_as": reply.read_as,
        "decision": reply.decision,
        "undecided_reason": reply.undecided_reason,
        "reason": shown(reply.reason),
        "scheduled_amount": _amount(reply.scheduled_amount),
        "lines": [
            {
                "item": x.item,
                "claimed": _amount(x.claimed),
                "scheduled": _amount(x.scheduled),
                "reason": x.reason,
            }
            for x in reply.lines
        ],
        "attachments": [
            {"filename": a.filename, "size": a.size, "sha256": a.sha256, "refused": a.refused}
            for a in reply.attachments
        ],
    }
