"""Processing a received message: match it to our email, classify it, and record the reply,
the bounce or the client's decision. Never answers anything (no mail loops)."""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import policy
from email.parser import BytesParser

from flask import current_app
from sqlalchemy import bindparam, literal, select, union_all

from models.approvers import NOT_AUTHENTICATED, standing
from models.base import utcnow
from models.claim import ProgressClaim
from models.claim_decision import record_decision
from models.client_link import signing_keys
from models.communication import Communication, DeliveryStatus, EmailState, Recipient, move
from models.contract import HeadContract
from models.decision import Decision, read_decision
from models.inbound import (
    InboundMessage,
    InboundStatus,
    MatchMethod,
    Reply,
    ReplyAttachment,
    ReplyKind,
    move_inbound,
)
from models.project import Contact
from models.reply_token import is_signed_reply_token
from models.storage import FileStore
from web.extensions import db
from workers.authresults import sender_authenticated
from workers.mailreader import ParsedMail, parse_mail
from workers.raw_mail import read_raw

# Messages an operator may send through processing again: no reply was made of them.
REPROCESSABLE = (InboundStatus.UNMATCHED, InboundStatus.FAILED)

# claims+TOKEN@, claims.TOKEN@ or claims-TOKEN@ (some list servers rewrite the "+").
TOKEN_ADDRESS = re.compile(r"^claims[+.\-]([0-9a-z]{33})@(.+)$", re.IGNORECASE)


@dataclass(frozen=True)
class Match:
    communication: Communication
    method: MatchMethod


def token_of(address: str, reply_domain: str, keys: Sequence[str]) -> str | None:
    """The signed reply token in one of our reply addresses, or None (forged, altered,
    truncated, or signed with a key no longer listed)."""
    found = TOKEN_ADDRESS.match(address.strip().strip("<>"))
    if not found or found.group(2).lower() != reply_domain.lower():
        return None
    token = found.group(1).lower()
    return token if is_signed_reply_token(token, keys) else None


# The statements of every reply, built once: one built at each call is built and keyed again
# by SQLAlchemy each time, where a statement object keeps its cache key between executions.
_EMAIL_BY_TOKEN = select(Communication).where(Communication.reply_token == bindparam("token"))
_EMAIL_BY_MESSAGE_ID = select(Communication).where(
    Communication.message_id == bindparam("message_id")
)


def _by_token(addresses: list[str]) -> Communication | None:
    config = current_app.config
    for address in addresses:
        if token := token_of(address, config["REPLY_DOMAIN"], signing_keys(config)):
            email = db.session.scalar(_EMAIL_BY_TOKEN, {"token": token})
            if email is not None:
                return email
    return None


def _by_message_ids(ids: list[str]) -> Communication | None:
    for message_id in ids:
        email = db.session.scalar(_EMAIL_BY_MESSAGE_ID, {"message_id": message_id})
        if email is not None:
            return email
    return None


def find_email(inbound: InboundMessage, parsed: ParsedMail) -> Match | None:
    """Token in the envelope, then in To/Cc/Delivered-To/X-Original-To, then In-Reply-To,
    then References."""
    attempts = [
        (MatchMethod.TOKEN_ENVELOPE, lambda: _by_token(inbound.envelope_to.split())),
        (MatchMethod.TOKEN_HEADER, lambda: _by_token(parsed.recipient_addresses)),
        (MatchMethod.IN_REPLY_TO, lambda: _by_message_ids(parsed.in_reply_to)),
        (MatchMethod.REFERENCES, lambda: _by_message_ids(parsed.references)),
    ]
    for method, attempt in attempts:
        if (email := attempt()) is not None:
            return Match(email, method)
    return None


# Everyone whose word counts on an email: its recipients, then its project's directory.
_PEOPLE = union_all(
    select(Recipient.email, Recipient.name, literal(0).label("rank")).where(
        Recipient.communication_id == bindparam("email_id")
    ),
    select(Contact.email, Contact.name, literal(1).label("rank"))
    .join(HeadContract, HeadContract.project_id == Contact.project_id)
    .join(ProgressClaim, ProgressClaim.head_contract_id == HeadContract.id)
    .where(ProgressClaim.id == bindparam("claim_id")),
).order_by("rank")


def known_people(email: Communication) -> dict[str, str]:
    """Address -> name of everyone whose word counts on `email`: its recipients, then the
    project directory (a recipient's name wins). One query, not four lazy loads."""
    rows = db.session.execute(_PEOPLE, {"email_id": email.id, "claim_id": email.claim_id}).all()
    people: dict[str, str] = {}
    for address, name, _ in rows:
        people.setdefault(address, name)
    return people


def _sender(people: dict[str, str], address: str | None) -> str | None:
    """The known name of the sender, "" for a known address without one; None: not known.
    The client's word counts only from a recipient of the email or a directory member."""
    return people.get(address.lower()) if address else None


def _from_us(parsed: ParsedMail) -> bool:
    return bool(
        parsed.from_address
        and token_of(
            parsed.from_address,
            current_app.config["REPLY_DOMAIN"],
            signing_keys(current_app.config),
        )
    )


def _store_attachments(reply: Reply, parsed: ParsedMail) -> None:
    store = FileStore(current_app.config["STORAGE_DIR"])
    budget = current_app.config["MAX_ATTACHMENT_BYTES"]
    for attachment in parsed.attachments:
        size = len(attachment.content)
        refused = size > budget
        budget -= 0 if refused else size
        reply.attachments.append(
            ReplyAttachment(
                filename=attachment.filename[:200] or "attachment",
                content_type=attachment.content_type[:200],
                size=size,
                refused=refused,
                sha256=None if refused else store.put(attachment.content),
            )
        )


def _mark_bounced(email: Communication, parsed: ParsedMail) -> None:
    """A failed recipient is bounced; a delayed one is only noted (its server keeps trying)."""
    for report in parsed.bounces:
        for recipient in email.recipients:
            if recipient.email == report.recipient:
                detail = f"{report.status} {report.diagnostic}".strip()
                if report.action == "failed":
                    recipient.status, recipient.detail = DeliveryStatus.BOUNCED, detail
                else:
                    recipient.detail = f"{report.action}: {detail}"[:1000]


def _kind(parsed: ParsedMail) -> ReplyKind:
    if parsed.kind == "bounce":
        return ReplyKind.BOUNCE
    if parsed.kind == "auto_reply" or _from_us(parsed):
        return ReplyKind.AUTO_REPLY
    return ReplyKind.REPLY


def process(inbound: InboundMessage) -> int | None:
    """Turn a stored message into a reply on its email (or leave it unmatched for triage).
    Returns the email to look at again after the commit, as `attach` does."""
    raw = read_raw(inbound)
    parsed = parse_mail(raw)
    inbound.subject = parsed.subject[:1000]
    inbound.from_address = (parsed.from_address or "")[:300]
    inbound.error = "; ".join(parsed.problems) or None
    match = find_email(inbound, parsed)
    if match is None:
        inbound.set_status(InboundStatus.UNMATCHED)
        inbound.processed_at = utcnow()
        return None
    return attach(inbound, raw, parsed, match)


def reopen(inbound: InboundMessage, operator: str) -> bool:
    """An operator sends an unmatched or failed message back to `stored`, to be processed
    again; False, changing nothing, if it has moved on meanwhile (matched by a concurrent
    reprocess or assignment)."""
    if not any(
        move_inbound(db.session, inbound.id, s, InboundStatus.STORED, processing_attempts=0)
        for s in REPROCESSABLE
    ):
        return False
    inbound.operator_note = f"reprocessed by {operator} at {utcnow():%Y-%m-%d %H:%M} UTC"
    return True


def assign(inbound: InboundMessage, email: Communication, operator: str) -> bool:
    """An operator makes an unmatched message a reply to `email`, once; False, changing
    nothing, if it is no longer unmatched (another operator or a reprocess got there first).
    After committing, the caller asks `mark_replied_if_answered` (see `attach`)."""
    if not move_inbound(db.session, inbound.id, InboundStatus.UNMATCHED, InboundStatus.PROCESSING):
        return False
    raw = read_raw(inbound)
    attach(inbound, raw, parse_mail(raw), Match(email, MatchMethod.OPERATOR))
    inbound.operator_note = f"assigned to email #{email.id} by {operator}"
    return True


def mark_replied_if_answered(email_id: int) -> None:
    """sent -> replied when a person's reply is on record, committed. The send, the reply's
    processing and an operator's assignment ask this after their own commit, so whichever
    commits last sees the other's work: a reply recorded while the email was still `sending`
    no longer leaves it `sent`."""
    answered = select(Reply.id).where(
        Reply.communication_id == email_id, Reply.kind == ReplyKind.REPLY
    )
    if db.session.scalar(answered.limit(1)) is not None and move(
        db.session, email_id, {EmailState.SENT}, EmailState.REPLIED, note="reply on record"
    ):
        db.session.commit()
    else:
        db.session.rollback()


# A sender's Date outside these bounds is not shown as a date (it cannot be one).
_EARLIEST_DATE = datetime(1990, 1, 1, tzinfo=UTC)
_LATEST_AHEAD = timedelta(days=2)


def dated(parsed: ParsedMail, received_at: datetime) -> datetime | None:
    """The sender's Date header, kept only when it could be a real date for this message."""
    sent = parsed.sent_at
    if sent is None or sent < _EARLIEST_DATE or sent > _as_utc(received_at) + _LATEST_AHEAD:
        return None
    return sent


def _as_utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)  # SQLite drops the zone


def authenticated(raw: bytes, parsed: ParsedMail) -> bool | None:
    """What the trusted receiving server said of the From domain; None without the setting."""
    authserv_id = current_app.config.get("TRUSTED_AUTHSERV_ID")
    if not authserv_id:
        return None
    headers = BytesParser(policy=policy.compat32).parsebytes(raw, headersonly=True)
    values = [str(v) for v in headers.get_all("Authentication-Results", [])]
    return sender_authenticated(values, parsed.from_address or "", authserv_id)


def _weigh(
    email: Communication, reading: Decision | None, address: str | None, auth: bool | None
) -> tuple[str | None, str]:
    """(the decision that counts, or None; why a reading does not count, or "")."""
    if reading is None:
        return None, ""
    who = standing(db.session, email, address)
    if not who.decides:
        return None, who.why_not
    if auth is False:
        return None, NOT_AUTHENTICATED
    return reading.outcome, ""


def attach(inbound: InboundMessage, raw: bytes, parsed: ParsedMail, match: Match) -> int | None:
    """Record the message as a reply to the matched email, with what follows from it.

    Returns the email's id when it may yet have to be marked replied after the commit: it
    was not `sent` yet (still `sending`, say: the send's commit may not see this reply), so
    whoever commits last must look again. None when it is `replied` (already, or now)."""
    email, kind = match.communication, _kind(parsed)
    known_as = _sender(known_people(email), parsed.from_address)
    verified = kind == ReplyKind.REPLY and not parsed.from_doubts and known_as is not None
    # Only the sender's own lines: not a quote they answered between, not what they forwarded.
    reading = read_decision(parsed.own_text) if verified else None
    auth = authenticated(raw, parsed) if verified else None
    decision, undecided = _weigh(email, reading, parsed.from_address, auth)
    reply = Reply(
        inbound=inbound,
        communication=email,
        from_address=(parsed.from_address or "")[:254],
        # The name we know for a known sender, not the one they typed: the decision banner
        # says who approved, and "Olivia Owner (Director)" <quentin@...> must not pass for her.
        from_name=(known_as or parsed.from_name)[:200],
        # Our clock: written answers start and stop statutory clocks; the sender's Date is
        # only what they claim.
        received_at=inbound.received_at,
        dated_at=dated(parsed, inbound.received_at),
        kind=kind,
        text=parsed.text,
        full_text=parsed.full_text,
        forwarded=parsed.forwarded,
        sender_verified=verified,
        sender_authenticated=auth,
        read_as=reading.outcome if reading else None,
        decision=decision,
        undecided_reason=undecided,
        reason=reading.reason if reading else "",
    )
    db.session.add(reply)
    _store_attachments(reply, parsed)
    if kind == ReplyKind.BOUNCE:
        _mark_bounced(email, parsed)
    replied = email.state == EmailState.REPLIED or (
        kind == ReplyKind.REPLY
        and move(
            db.session,
            email.id,
            {EmailState.SENT},
            EmailState.REPLIED,
            note=f"reply from {reply.from_address}",
        )
    )
    if decision is not None:
        db.session.flush()
        record_decision(db.session, reply)
    inbound.communication = email
    inbound.match_method = match.method
    inbound.set_status(
        {
            ReplyKind.REPLY: InboundStatus.MATCHED,
            ReplyKind.AUTO_REPLY: InboundStatus.AUTO_REPLY,
            ReplyKind.BOUNCE: InboundStatus.BOUNCE,
        }[kind]
    )
    inbound.processed_at = utcnow()
    return None if replied else email.id
