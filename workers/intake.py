"""Taking mail in: store the raw bytes durably, one row per distinct message, then enqueue.

The three ways in (the SMTP listener, the webhook, `claimpost ingest`) all come through
`take_in`, and acknowledge the sender only after it returns.
"""

import hashlib
import logging
from datetime import datetime, timedelta
from email.parser import BytesParser

from flask import current_app
from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import IntegrityError

from models.base import commit_keeping_loaded, storable, utcnow
from models.inbound import InboundMessage, InboundStatus
from models.project import Contact
from models.storage import FileStore
from web.extensions import db
from workers.mailreader import content_key
from workers.mailreader.headers import READING

log = logging.getLogger(__name__)


def _message_id(raw: bytes) -> str | None:
    try:
        value = BytesParser(policy=READING).parsebytes(raw, headersonly=True)["Message-ID"]
    except Exception:  # a broken header is the processing step's to report, not intake's
        return None
    message_id = str(value or "").strip()[:290]
    return message_id or None


REFUSALS_PER_SENDER = 20
REFUSALS_PER_HOUR = 500


def record_refusal(via: str, envelope_from: str, recipient: str, reason: str) -> None:
    """Keep a trace of mail turned away before it was received (e.g. a reply address a list
    server mangled), for the operators' Inbound view. The same sender and address are
    recorded once a day and a sender at most REFUSALS_PER_SENDER times a day. Senders no
    project directory knows share REFUSALS_PER_HOUR an hour, so a flood of guesses from
    strangers cannot fill the database — and cannot crowd out a known client's refusal."""
    now, sender = utcnow(), storable(envelope_from)[:300]
    attempt = f"{sender}\n{recipient}\n{now.date()}".encode("utf-8", "replace")
    key = f"refused:{hashlib.sha256(attempt).hexdigest()}"
    if db.session.scalar(select(InboundMessage.id).where(InboundMessage.dedupe_key == key)):
        return
    if _too_many_refusals(sender, now):
        log.warning("refused %s for %s (not recorded: too many today)", recipient, sender)
        return
    db.session.add(
        InboundMessage(
            dedupe_key=key,
            raw_sha256=FileStore(current_app.config["STORAGE_DIR"]).put(b""),  # nothing came
            size=0,
            via=via,
            envelope_from=sender,
            envelope_to=storable(recipient),
            from_address=sender,
            status=InboundStatus.REFUSED,
            error=storable(reason),
            processed_at=now,
        )
    )
    try:
        db.session.commit()
    except IntegrityError:  # the same attempt, recorded a moment ago by another connection
        db.session.rollback()


def _too_many_refusals(sender: str, now: datetime) -> bool:
    refused = select(func.count(InboundMessage.id)).where(
        InboundMessage.status == InboundStatus.REFUSED
    )
    today = refused.where(
        InboundMessage.envelope_from == sender,
        InboundMessage.received_at >= now - timedelta(days=1),
    )
    if db.session.scalar(today) >= REFUSALS_PER_SENDER:
        return True
    if _known_sender(sender):
        return False
    strangers_this_hour = refused.where(
        InboundMessage.received_at >= now - timedelta(hours=1),
        ~InboundMessage.envelope_from.in_(select(Contact.email)),
    )
    return db.session.scalar(strangers_this_hour) >= REFUSALS_PER_HOUR


def _known_sender(sender: str) -> bool:
    """Whether some project directory has this address (a client whose mail we expect)."""
    return (
        db.session.scalar(select(Contact.id).where(Contact.email == sender.lower()).limit(1))
        is not None
    )


# Built once, as every message asks it: a statement object keeps its cache key.
_STORED_ID = select(InboundMessage.id).where(InboundMessage.dedupe_key == bindparam("key"))


def take_in(
    raw: bytes, via: str, envelope_from: str = "", envelope_to: list[str] | None = None
) -> tuple[InboundMessage, bool]:
    """Store the message and commit; enqueue its processing if it is new.

    Returns the stored row and whether it was new: the same message delivered twice (same
    Message-ID, or the same bytes when it has none) is stored and processed once.
    """
    key = content_key(raw, _message_id(raw))
    # The id only: the row itself is loaded for the rare duplicate, not for every message.
    existing = db.session.scalar(_STORED_ID, {"key": key})
    if existing is not None:
        return db.session.get(InboundMessage, existing), False
    sha256 = FileStore(current_app.config["STORAGE_DIR"]).put(raw)  # bytes on disk first
    message = InboundMessage(
        dedupe_key=key,
        raw_sha256=sha256,
        size=len(raw),
        via=via,
        envelope_from=storable(envelope_from)[:300],
        envelope_to=storable("\n".join(envelope_to or [])),
    )
    db.session.add(message)
    try:
        # The new row as written: read after a plain commit, it would be loaded again.
        commit_keeping_loaded(db.session())
    except IntegrityError:  # the same message, stored a moment ago by another connection
        db.session.rollback()
        return db.session.scalar(
            select(InboundMessage).where(InboundMessage.dedupe_key == key)
        ), False
    from workers.actors import process_inbound

    try:
        process_inbound.send(message.id)
    except Exception:  # stored is what we promised; the reconciler enqueues it later
        log.warning("could not enqueue inbound %s; the reconciler will", message.id, exc_info=True)
    return message, True
